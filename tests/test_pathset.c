/* test_pathset.c - overlay semantics: what a later layer hides below it. */
#include "pathset.h"

#include <check.h>
#include <stdlib.h>

typedef struct {
    stw_pathset *ps;
    const void *blob;
    size_t len;
} layer;

static layer make(const char *const *paths, const bool *dirs, size_t n)
{
    layer l = {0};
    ck_assert_int_eq(stw_pathset_create(&l.ps), STW_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(stw_pathset_add_entry(l.ps, paths[i], dirs[i]),
                         STW_OK);
    stw_pathset_finish(l.ps, &l.blob, &l.len);
    return l;
}

START_TEST(test_pathset_whiteout_hides_file)
{
    const char *p[] = {"app", "app/.wh.id_rsa"};
    bool d[] = {true, false};
    layer l = make(p, d, 2);
    ck_assert(stw_pathset_hides(l.blob, l.len, "app/id_rsa", false));
    ck_assert(!stw_pathset_hides(l.blob, l.len, "app/id_rsa.pub", false));
    ck_assert(!stw_pathset_hides(l.blob, l.len, "app", true));
    stw_pathset_destroy(l.ps);
}
END_TEST

START_TEST(test_pathset_whiteout_of_dir_hides_everything_below)
{
    const char *p[] = {".wh.app"};
    bool d[] = {false};
    layer l = make(p, d, 1);
    ck_assert(stw_pathset_hides(l.blob, l.len, "app/deep/er/key.pem", false));
    ck_assert(stw_pathset_hides(l.blob, l.len, "app", true));
    ck_assert(!stw_pathset_hides(l.blob, l.len, "application/x", false));
    stw_pathset_destroy(l.ps);
}
END_TEST

START_TEST(test_pathset_archive_member_dies_with_its_archive)
{
    const char *p[] = {"opt/.wh.backup.tar.gz", "app/app.jar"};
    bool d[] = {false, false};
    layer l = make(p, d, 2);
    /* deleted by a whiteout, replaced by a new file: members go too */
    ck_assert(stw_pathset_hides(l.blob, l.len, "opt/backup.tar.gz!/etc/shadow",
                                false));
    ck_assert(stw_pathset_hides(l.blob, l.len,
                                "app/app.jar!/BOOT-INF/lib/a.jar!/x", false));
    /* a sibling archive is untouched */
    ck_assert(!stw_pathset_hides(l.blob, l.len,
                                 "opt/backup2.tar.gz!/etc/shadow", false));
    stw_pathset_destroy(l.ps);
}
END_TEST

START_TEST(test_pathset_opaque_dir_hides_lower_contents)
{
    const char *p[] = {"app/data", "app/data/.wh..wh..opq", "app/data/new"};
    bool d[] = {true, false, false};
    layer l = make(p, d, 3);
    ck_assert(stw_pathset_hides(l.blob, l.len, "app/data/old", false));
    ck_assert(stw_pathset_hides(l.blob, l.len, "app/data/sub/old", false));
    ck_assert(stw_pathset_hides(l.blob, l.len, "app/data", true));
    ck_assert(!stw_pathset_hides(l.blob, l.len, "app/other", false));
    ck_assert(!stw_pathset_hides(l.blob, l.len, "app", true));
    stw_pathset_destroy(l.ps);
}
END_TEST

START_TEST(test_pathset_overwrite_replaces_file_but_dirs_merge)
{
    const char *p[] = {"app/keep/key.pem", "app/.git", "etc"};
    bool d[] = {false, true, false};
    layer l = make(p, d, 3);
    ck_assert(stw_pathset_hides(l.blob, l.len, "app/keep/key.pem", false));
    /* A directory over a directory merges: the lower .git stays. */
    ck_assert(!stw_pathset_hides(l.blob, l.len, "app/.git", true));
    /* A directory over a file replaces the file. */
    ck_assert(stw_pathset_hides(l.blob, l.len, "app/.git", false));
    /* A file where a directory was hides all below it. */
    ck_assert(stw_pathset_hides(l.blob, l.len, "etc/shadow", false));
    stw_pathset_destroy(l.ps);
}
END_TEST

START_TEST(test_pathset_empty_hides_nothing)
{
    layer l = make(NULL, NULL, 0);
    ck_assert(!stw_pathset_hides(l.blob, l.len, "a", false));
    ck_assert(!stw_pathset_hides(NULL, 0, "a", false));
    stw_pathset_destroy(l.ps);
}
END_TEST

START_TEST(test_pathset_classify_names)
{
    char buf[64];
    ck_assert_int_eq(stw_pathset_classify("a/.wh.b", buf, sizeof(buf)),
                     STW_PT_WHITEOUT);
    ck_assert_str_eq(buf, "a/b");
    ck_assert_int_eq(stw_pathset_classify(".wh.b", buf, sizeof(buf)),
                     STW_PT_WHITEOUT);
    ck_assert_str_eq(buf, "b");
    ck_assert_int_eq(stw_pathset_classify("a/c/.wh..wh..opq", buf, sizeof(buf)),
                     STW_PT_OPAQUE);
    ck_assert_str_eq(buf, "a/c");
    ck_assert_int_eq(stw_pathset_classify("a/b.wh.c", buf, sizeof(buf)),
                     STW_PT_FILE);
    ck_assert_int_eq(stw_pathset_classify("a/.wh.", buf, sizeof(buf)),
                     STW_PT_FILE);
}
END_TEST

START_TEST(test_pathset_many_entries_sorted_lookup)
{
    stw_pathset *ps;
    ck_assert_int_eq(stw_pathset_create(&ps), STW_OK);
    char p[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(p, sizeof(p), "usr/lib/f%05d", i);
        ck_assert_int_eq(stw_pathset_add_entry(ps, p, false), STW_OK);
    }
    const void *blob;
    size_t len;
    stw_pathset_finish(ps, &blob, &len);
    ck_assert_uint_eq(len, 20000 * 8);
    for (int i = 0; i < 20000; i += 997) {
        snprintf(p, sizeof(p), "usr/lib/f%05d", i);
        ck_assert(stw_pathset_hides(blob, len, p, false));
        snprintf(p, sizeof(p), "usr/lib/g%05d", i);
        ck_assert(!stw_pathset_hides(blob, len, p, false));
    }
    stw_pathset_destroy(ps);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pathset");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_pathset_whiteout_hides_file);
    tcase_add_test(tc, test_pathset_archive_member_dies_with_its_archive);
    tcase_add_test(tc, test_pathset_whiteout_of_dir_hides_everything_below);
    tcase_add_test(tc, test_pathset_opaque_dir_hides_lower_contents);
    tcase_add_test(tc, test_pathset_overwrite_replaces_file_but_dirs_merge);
    tcase_add_test(tc, test_pathset_empty_hides_nothing);
    tcase_add_test(tc, test_pathset_classify_names);
    tcase_add_test(tc, test_pathset_many_entries_sorted_lookup);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
