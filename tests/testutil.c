/* testutil.c - helpers shared by the Check unit tests. */
#include "testutil.h"

#include "matcher.h"
#include "rules.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tu_mkdtemp(const char *tag)
{
    const char *base = getenv("STW_TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755);
    size_t n = strlen(base) + strlen(tag) + 32;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s.XXXXXX", base, tag);
    ck_assert_msg(mkdtemp(p) != NULL, "mkdtemp %s: %s", p, strerror(errno));
    return p;
}

void tu_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

char *tu_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            ck_assert_ptr_nonnull(buf);
        }
    }
    fclose(f);
    buf[len] = 0;
    if (n)
        *n = len;
    return buf;
}

char *tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void *tu_archive(const char *format, const tu_file *f, size_t n, size_t *len)
{
    size_t cap = 1024 * 1024;
    for (size_t i = 0; i < n; i++)
        cap += f[i].len * 2 + 1024;
    void *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    struct archive *a = archive_write_new();
    if (!strncmp(format, "zip", 3)) {
        archive_write_set_format_zip(a);
        if (!strcmp(format, "zip-stored"))
            archive_write_set_format_option(a, "zip", "compression", "store");
    } else if (!strcmp(format, "ar")) {
        archive_write_set_format_ar_svr4(a);
    } else if (!strcmp(format, "cpio")) {
        archive_write_set_format_cpio_newc(a);
    } else if (!strcmp(format, "7z")) {
        archive_write_set_format_7zip(a);
    } else {
        archive_write_set_format_pax_restricted(a);
        if (!strcmp(format, "tar.gz"))
            archive_write_add_filter_gzip(a);
        if (!strcmp(format, "tar.zst"))
            archive_write_add_filter_zstd(a);
        if (!strcmp(format, "tar.xz"))
            archive_write_add_filter_xz(a);
    }
    archive_write_set_bytes_in_last_block(a, 1);
    ck_assert_int_eq(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, f[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)f[i].len);
        ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_data(a, f[i].data, f[i].len),
                         (la_ssize_t)f[i].len);
        archive_entry_free(e);
    }
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return buf;
}

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

stw_rules *tu_rules;

void tu_rules_setup(void)
{
    stw_error err = {0};
    ck_assert_msg(stw_rules_create(NULL, &tu_rules, &err) == STW_OK, "%s",
                  err.msg);
}

void tu_rules_teardown(void)
{
    stw_rules_destroy(tu_rules);
    tu_rules = NULL;
}

void tu_builtin_matcher(stw_rules **rules, stw_matcher **m)
{
    stw_error err = {0};
    ck_assert_msg(stw_rules_create(NULL, rules, &err) == STW_OK, "%s", err.msg);
    ck_assert_msg(stw_matcher_create(*rules, m, &err) == STW_OK, "%s", err.msg);
}

const char *tu_rule_example(const stw_rules *rules, const char *id)
{
    for (size_t i = 0; i < stw_rules_count(rules); i++) {
        stw_rule_info info;
        ck_assert_int_eq(stw_rules_info(rules, i, &info), STW_OK);
        if (strcmp(info.id, id) == 0) {
            const char *text, *path;
            ck_assert_int_eq(stw_rules_example(rules, i, 1, 0, &text, &path),
                             STW_OK);
            return text;
        }
    }
    ck_abort_msg("no rule %s", id);
    return NULL;
}

stw_status tu_mem_read(void *ctx, const void **buf, size_t *len, stw_error *err)
{
    (void)err;
    tu_mem *m = ctx;
    *buf = m->p;
    *len = m->done ? 0 : m->len;
    m->done = true;
    return STW_OK;
}
