/* test_meta.c - setuid/setgid/world-writable from header bits alone. */
#include "meta.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    int n;
    stw_finding last[4];
} sink;

static stw_status collect(void *ctx, const stw_finding *f)
{
    sink *s = ctx;
    if (s->n < 4)
        s->last[s->n] = *f;
    s->n++;
    return STW_OK;
}

START_TEST(test_meta_unknown_setuid_root_is_high)
{
    sink s = {0};
    stw_meta_check("app/bin/suid-helper", S_IFREG, S_IFREG | 04755, 0, 0,
                   collect, &s);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.last[0].kind, STW_KIND_SETUID);
    ck_assert_str_eq(s.last[0].rule, "setuid-file");
    ck_assert_int_eq(s.last[0].severity, STW_SEV_HIGH);
    ck_assert(s.last[0].has_mode);
    ck_assert_uint_eq(s.last[0].mode & 07777, 04755);
}
END_TEST

START_TEST(test_meta_distro_setuid_is_low)
{
    sink s = {0};
    stw_meta_check("usr/bin/passwd", S_IFREG, S_IFREG | 04755, 0, 0, collect,
                   &s);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.last[0].severity, STW_SEV_LOW);
    /* The same program elsewhere is not the distribution's. */
    s.n = 0;
    stw_meta_check("app/passwd", S_IFREG, S_IFREG | 04755, 0, 0, collect, &s);
    ck_assert_int_eq(s.last[0].severity, STW_SEV_HIGH);
}
END_TEST

START_TEST(test_meta_setgid_needs_group_exec)
{
    sink s = {0};
    stw_meta_check("usr/bin/x", S_IFREG, S_IFREG | 02755, 0, 42, collect, &s);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.last[0].kind, STW_KIND_SETGID);
    ck_assert_int_eq(s.last[0].gid, 42);
    s.n = 0; /* setgid without g+x is mandatory locking */
    stw_meta_check("usr/bin/x", S_IFREG, S_IFREG | 02644, 0, 42, collect, &s);
    ck_assert_int_eq(s.n, 0);
}
END_TEST

START_TEST(test_meta_world_writable)
{
    sink s = {0};
    stw_meta_check("tmp", S_IFDIR, S_IFDIR | 01777, 0, 0, collect, &s);
    ck_assert_int_eq(s.n, 0);
    stw_meta_check("var/bad", S_IFDIR, S_IFDIR | 0777, 0, 0, collect, &s);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.last[0].rule, "world-writable-dir");
    ck_assert_int_eq(s.last[0].severity, STW_SEV_INFO);
    ck_assert(s.last[0].is_dir);
    stw_meta_check("opt/ww.txt", S_IFREG, S_IFREG | 0666, 0, 0, collect, &s);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.last[1].rule, "world-writable-file");
    /* Symlinks are 0777 by nature. */
    stw_meta_check("bin/sh", S_IFLNK, S_IFLNK | 0777, 0, 0, collect, &s);
    ck_assert_int_eq(s.n, 2);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("meta");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_meta_unknown_setuid_root_is_high);
    tcase_add_test(tc, test_meta_distro_setuid_is_low);
    tcase_add_test(tc, test_meta_setgid_needs_group_exec);
    tcase_add_test(tc, test_meta_world_writable);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
