/* test_artifact.c - the COPY-artifact detector, alone and inside the real
 * layer walker: one finding per artifact directory, remote URLs with their
 * credentials redacted, third-party trees kept quiet, key stores told from
 * look-alikes by their first bytes; and the credential-file rules that a
 * stock image must not trip (/etc/shadow, .env.example). */
#include "artifact.h"
#include "common.h"
#include "layer.h"
#include "limits.h"
#include "matcher.h"
#include "rules.h"
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- a sink that keeps copies --------------------------------------- */

typedef struct hit {
    char path[256];
    char rule[64];
    char detail[512];
    char excerpt[STW_EXCERPT_MAX];
    char sha[STW_SHA256_HEX];
    stw_kind kind;
    stw_severity severity;
    bool is_dir;
} hit;

typedef struct sink {
    hit *v;
    size_t n, cap;
} sink;

static stw_status collect(void *ctx, const stw_finding *f)
{
    sink *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        ck_assert_ptr_nonnull(s->v);
    }
    hit *h = &s->v[s->n++];
    memset(h, 0, sizeof(*h));
    snprintf(h->path, sizeof(h->path), "%s", f->path);
    snprintf(h->rule, sizeof(h->rule), "%s", f->rule);
    snprintf(h->detail, sizeof(h->detail), "%s", f->detail ? f->detail : "");
    snprintf(h->excerpt, sizeof(h->excerpt), "%s", f->excerpt);
    snprintf(h->sha, sizeof(h->sha), "%s", f->secret_sha256);
    h->kind = f->kind;
    h->severity = f->severity;
    h->is_dir = f->is_dir;
    return STW_OK;
}

static const hit *find(const sink *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].path, path) == 0)
            return &s->v[i];
    return NULL;
}

/* ---- driving the detector directly ---------------------------------- */

typedef struct entry {
    const char *path;
    char type; /* 'd' directory, 'f' regular file, 'l' symlink */
    const void *data;
    size_t len;
} entry;

/* Feeds entries like the walker does; content goes in pieces of `piece`
 * bytes (0 = whole), so the config reader is tested across splits. */
static void drive(const entry *e, size_t n, size_t piece, sink *s)
{
    stw_artifact *a;
    ck_assert_int_eq(stw_artifact_create(collect, s, &a), STW_OK);
    for (size_t i = 0; i < n; i++) {
        bool want = false;
        ck_assert_int_eq(stw_artifact_entry(a, e[i].path, e[i].type == 'd',
                                            e[i].type == 'f', e[i].len, &want),
                         STW_OK);
        if (!want)
            continue;
        ck_assert(e[i].data != NULL);
        const char *p = e[i].data;
        size_t left = e[i].len;
        while (left) {
            size_t k = piece && piece < left ? piece : left;
            stw_artifact_feed(a, p, k);
            p += k;
            left -= k;
        }
        ck_assert_int_eq(stw_artifact_end_file(a), STW_OK);
    }
    ck_assert_int_eq(stw_artifact_finish(a), STW_OK);
    stw_artifact_destroy(a);
}

static const char git_config_cred[] =
    "[core]\n"
    "\trepositoryformatversion = 0\n"
    "\tbare = false\n"
    "[remote \"origin\"]\n"
    "\turl = https://deploy:ghp_Zq4T9wLm2Xc7Vb1Nh8Kd3Rf6Gp0Sj5Ya2Eu7"
    "@git.example.com/acme/app.git\n"
    "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
    "[branch \"main\"]\n"
    "\tremote = origin\n";
static const char token[] = "ghp_Zq4T9wLm2Xc7Vb1Nh8Kd3Rf6Gp0Sj5Ya2Eu7";

START_TEST(test_artifact_git_dir_with_100_files_is_one_finding)
{
    enum { N = 100 };
    entry e[N + 3];
    char names[N][64];
    e[0] = (entry){"app", 'd', NULL, 0};
    e[1] = (entry){"app/.git", 'd', NULL, 0};
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "app/.git/objects/%02x/%038d", i,
                 i);
        e[i + 2] = (entry){names[i], 'f', "x", 1};
    }
    e[N + 2] = (entry){"app/main.c", 'f', "int main;", 9};
    sink s = {0};
    drive(e, N + 3, 0, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.v[0].path, "app/.git");
    ck_assert(s.v[0].is_dir);
    ck_assert_int_eq(s.v[0].kind, STW_KIND_ARTIFACT);
    ck_assert_str_eq(s.v[0].rule, "git-directory");
    ck_assert_int_eq(s.v[0].severity, STW_SEV_MEDIUM);
    ck_assert_ptr_nonnull(strstr(s.v[0].detail, ".dockerignore"));
    ck_assert_str_eq(s.v[0].sha, "");
    free(s.v);
}
END_TEST

/* Without a directory entry (tars made from file lists) the files alone
 * name the directory, still once. */
START_TEST(test_artifact_dir_named_by_files_alone)
{
    entry e[] = {
        {"srv/.svn/wc.db", 'f', "SQLite", 6},
        {"srv/.svn/entries", 'f', "12", 2},
        {"srv/.hg/store/data/a.i", 'f', "x", 1},
        {"srv/.idea/workspace.xml", 'f', "<x/>", 4},
        {"srv/.idea/misc.xml", 'f', "<x/>", 4},
    };
    sink s = {0};
    drive(e, STW_ARRAY_LEN(e), 0, &s);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_str_eq(s.v[0].rule, "svn-directory");
    ck_assert_int_eq(s.v[0].severity, STW_SEV_MEDIUM);
    ck_assert_str_eq(s.v[1].path, "srv/.hg");
    ck_assert_str_eq(s.v[2].path, "srv/.idea");
    ck_assert_int_eq(s.v[2].severity, STW_SEV_LOW);
    free(s.v);
}
END_TEST

START_TEST(test_artifact_git_remote_credential_redacted_and_high)
{
    static const size_t pieces[] = {0, 1, 7, 64};
    for (size_t k = 0; k < STW_ARRAY_LEN(pieces); k++) {
        entry e[] = {
            {"app/.git/HEAD", 'f', "ref: refs/heads/main\n", 21},
            {"app/.git/config", 'f', git_config_cred,
             sizeof(git_config_cred) - 1},
            {"app/.git/refs/heads/main", 'f', "0123\n", 5},
        };
        sink s = {0};
        drive(e, STW_ARRAY_LEN(e), pieces[k], &s);
        ck_assert_uint_eq(s.n, 1);
        const hit *h = &s.v[0];
        ck_assert_str_eq(h->path, "app/.git");
        ck_assert_int_eq(h->severity, STW_SEV_HIGH);
        ck_assert_msg(strstr(h->detail, "remote origin https://deploy:****@"
                                        "git.example.com/acme/app.git") != NULL,
                      "detail: %s", h->detail);
        ck_assert_ptr_null(strstr(h->detail, "Zq4T"));
        /* The credential is hashed and shown as its first four chars. */
        stw_finding want = {0};
        stw_finding_set_secret(&want, token, strlen(token));
        ck_assert_str_eq(h->sha, want.secret_sha256);
        ck_assert_str_eq(h->excerpt, want.excerpt);
        free(s.v);
    }
}
END_TEST

START_TEST(test_artifact_git_remote_without_credential_is_medium)
{
    static const char cfg[] =
        "[remote \"upstream\"]\n\turl = git@github.com:acme/app.git\n"
        "[remote \"origin\"]\n\turl = https://github.com/acme/app.git\n";
    entry e[] = {{"app/.git/config", 'f', cfg, sizeof(cfg) - 1}};
    sink s = {0};
    drive(e, 1, 0, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_int_eq(s.v[0].severity, STW_SEV_MEDIUM);
    ck_assert_msg(strstr(s.v[0].detail,
                         "remote origin https://github.com/acme/app.git") !=
                      NULL,
                  "detail: %s", s.v[0].detail);
    free(s.v);
}
END_TEST

/* actions/checkout persists its token as an http extraheader. */
START_TEST(test_artifact_git_extraheader_is_a_credential)
{
    static const char cfg[] =
        "[remote \"origin\"]\n\turl = https://github.com/acme/app\n"
        "[http \"https://github.com/\"]\n"
        "\textraheader = AUTHORIZATION: basic "
        "eC1hY2Nlc3MtdG9rZW46Z2hzX1pxNFQ5d0xtMlhjN1ZiMU5oOEtkM1Jm\n";
    entry e[] = {{"src/.git/config", 'f', cfg, sizeof(cfg) - 1}};
    sink s = {0};
    drive(e, 1, 3, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_int_eq(s.v[0].severity, STW_SEV_HIGH);
    ck_assert_ptr_nonnull(strstr(s.v[0].detail, "http.extraheader"));
    ck_assert_ptr_null(strstr(s.v[0].detail, "eC1h"));
    ck_assert_str_eq(s.v[0].excerpt, "eC1h\u2026(56 chars)");
    free(s.v);
}
END_TEST

START_TEST(test_artifact_hgrc_default_path_credential)
{
    static const char rc[] =
        "[paths]\ndefault = https://ci:Hg7kQ2mZ9v@hg.example.com/repo\n";
    entry e[] = {{"code/.hg/hgrc", 'f', rc, sizeof(rc) - 1}};
    sink s = {0};
    drive(e, 1, 0, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.v[0].rule, "hg-directory");
    ck_assert_int_eq(s.v[0].severity, STW_SEV_HIGH);
    ck_assert_ptr_nonnull(
        strstr(s.v[0].detail, "https://ci:****@hg.example.com/repo"));
    free(s.v);
}
END_TEST

START_TEST(test_artifact_redact_url_forms)
{
    static const struct {
        const char *url, *want, *secret;
    } cases[] = {
        {"https://deploy:s3cr3tPass@git.example.com/a.git",
         "https://deploy:****@git.example.com/a.git", "s3cr3tPass"},
        {"https://ghp_Zq4T9wLm2Xc7Vb1Nh8Kd3Rf6Gp0Sj5Ya2Eu7@github.com/a",
         "https://****@github.com/a",
         "ghp_Zq4T9wLm2Xc7Vb1Nh8Kd3Rf6Gp0Sj5Ya2Eu7"},
        /* a raw '@' in the password: the last '@' ends the userinfo */
        {"https://u:p@ss@h.example.com/x", "https://u:****@h.example.com/x",
         "p@ss"},
        {"https://github.com/acme/app.git", "https://github.com/acme/app.git",
         NULL},
        {"ssh://git@github.com/acme/app.git",
         "ssh://git@github.com/acme/app.git", NULL},
        {"git@github.com:acme/app.git", "git@github.com:acme/app.git", NULL},
        {"https://ci:${GIT_TOKEN}@git.example.com/a",
         "https://ci:${GIT_TOKEN}@git.example.com/a", NULL},
        {"https://user:@h/x", "https://user:@h/x", NULL},
        /* an '@' in the path is not userinfo */
        {"https://h.example.com/a@b", "https://h.example.com/a@b", NULL},
    };
    for (size_t i = 0; i < STW_ARRAY_LEN(cases); i++) {
        char out[256];
        const char *sec;
        size_t n;
        stw_artifact_redact_url(cases[i].url, strlen(cases[i].url), out,
                                sizeof(out), &sec, &n);
        ck_assert_str_eq(out, cases[i].want);
        if (cases[i].secret) {
            ck_assert_ptr_nonnull(sec);
            ck_assert_uint_eq(n, strlen(cases[i].secret));
            ck_assert(memcmp(sec, cases[i].secret, n) == 0);
        } else {
            ck_assert_ptr_null(sec);
            ck_assert_uint_eq(n, 0);
        }
    }
    /* A tiny buffer truncates but stays terminated and never leaks. */
    char small[12];
    const char *sec;
    size_t n;
    stw_artifact_redact_url(cases[0].url, strlen(cases[0].url), small,
                            sizeof(small), &sec, &n);
    ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
    ck_assert_ptr_null(strstr(small, "s3cr"));
}
END_TEST

/* Packages ship their own repositories and CI metadata: a .git/ there is
 * info, .github/ is not reported, unless a remote leaks a credential. A
 * submodule inside the app's .git/ belongs to that one finding. */
START_TEST(test_artifact_nested_git_in_node_modules)
{
    entry e[] = {
        {"app/.git/HEAD", 'f', "ref", 3},
        {"app/.git/modules/lib/.git/HEAD", 'f', "ref", 3},
        {"app/.git/modules/lib/config", 'f', "[core]\n", 7},
        {"app/node_modules/left-pad/.git", 'd', NULL, 0},
        {"app/node_modules/left-pad/.git/HEAD", 'f', "ref", 3},
        {"app/node_modules/left-pad/.github/workflows/ci.yml", 'f', "on:", 3},
        {"app/node_modules/left-pad/.vscode/settings.json", 'f', "{}", 2},
        {"app/node_modules/left-pad/Dockerfile", 'f', "FROM x", 6},
        {"app/node_modules/private/.git/config", 'f', git_config_cred,
         sizeof(git_config_cred) - 1},
        {"usr/lib/python3/dist-packages/x/.github/FUNDING.yml", 'f', "x", 1},
        {"app/.github/workflows/ci.yml", 'f', "on:", 3},
    };
    sink s = {0};
    drive(e, STW_ARRAY_LEN(e), 0, &s);
    ck_assert_uint_eq(s.n, 4);
    const hit *h = find(&s, "app/.git");
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(h->severity, STW_SEV_MEDIUM);
    h = find(&s, "app/node_modules/left-pad/.git");
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(h->severity, STW_SEV_INFO);
    h = find(&s, "app/node_modules/private/.git");
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(h->severity, STW_SEV_HIGH);
    h = find(&s, "app/.github");
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(h->severity, STW_SEV_LOW);
    free(s.v);
}
END_TEST

/* A submodule checkout has a ".git" *file* pointing into the parent's
 * .git/modules; it is not a repository copy. Symlinks are not either. */
START_TEST(test_artifact_git_file_and_symlink_ignored)
{
    entry e[] = {
        {"app/lib/.git", 'f', "gitdir: ../.git/modules/lib\n", 28},
        {"app/.github", 'l', NULL, 0},
        {"app/.gitignore", 'f', "node_modules\n", 13},
        {"app/.github-notes.md", 'f', "x", 1},
    };
    sink s = {0};
    drive(e, STW_ARRAY_LEN(e), 0, &s);
    ck_assert_uint_eq(s.n, 0);
    free(s.v);
}
END_TEST

START_TEST(test_artifact_build_files)
{
    entry e[] = {
        {"app/Dockerfile", 'f', "FROM x", 6},
        {"app/Dockerfile.prod", 'f', "FROM x", 6},
        {"app/api.Dockerfile", 'f', "FROM x", 6},
        {"app/Containerfile", 'f', "FROM x", 6},
        {"app/.dockerignore", 'f', ".git", 4},
        {"app/.gitlab-ci.yml", 'f', "x", 1},
        {"app/Dockerfiles/readme", 'f', "x", 1},
        {"app/docs/dockerfile-guide.md", 'f', "x", 1},
        {"app/node_modules/x/.gitlab-ci.yml", 'f', "x", 1},
    };
    sink s = {0};
    drive(e, STW_ARRAY_LEN(e), 0, &s);
    ck_assert_uint_eq(s.n, 6);
    ck_assert_str_eq(s.v[0].rule, "dockerfile");
    ck_assert_str_eq(s.v[3].rule, "dockerfile");
    ck_assert_str_eq(s.v[4].rule, "dockerignore-file");
    ck_assert_str_eq(s.v[5].rule, "gitlab-ci-file");
    for (size_t i = 0; i < s.n; i++) {
        ck_assert_int_eq(s.v[i].severity, STW_SEV_LOW);
        ck_assert(!s.v[i].is_dir);
    }
    free(s.v);
}
END_TEST

START_TEST(test_artifact_key_stores_by_name_and_magic)
{
    static const unsigned char p12[] = {0x30, 0x82, 0x0a, 0x5a, 0x02,
                                        0x01, 0x03, 0x30, 0x82};
    static const unsigned char jks[] = {0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2};
    static const unsigned char kdbx[] = {0x03, 0xd9, 0xa2, 0x9a, 0x67, 0xfb};
    static const unsigned char der_key[] = {0x30, 0x82, 0x04, 0xa4, 0x02,
                                            0x01, 0x00, 0x02, 0x82};
    static const unsigned char der_cert[] = {0x30, 0x82, 0x03, 0x1f, 0x30,
                                             0x82, 0x02, 0x07, 0xa0};
    static const char pem_key[] = "-----BEGIN PRIVATE KEY-----\nMIIE\n";
    entry e[] = {
        {"app/certs/client.p12", 'f', p12, sizeof(p12)},
        {"app/certs/server.PFX", 'f', "not really", 10},
        {"app/keystore.jks", 'f', jks, sizeof(jks)},
        {"app/secrets.kdbx", 'f', kdbx, sizeof(kdbx)},
        {"app/tls/server.key", 'f', der_key, sizeof(der_key)},
        {"app/tls/ca.key", 'f', der_cert, sizeof(der_cert)},
        {"app/tls/pem.key", 'f', pem_key, sizeof(pem_key) - 1},
        {"app/empty.p12", 'f', "", 0},
        {"etc/ssl/certs/java/store.jks", 'f', jks, sizeof(jks)},
        {"app/node_modules/x/test/fixture.p12", 'f', p12, sizeof(p12)},
        {"app/monkey.key.txt", 'f', "x", 1},
    };
    sink s = {0};
    drive(e, STW_ARRAY_LEN(e), 2, &s);
    ck_assert_uint_eq(s.n, 5);
    ck_assert_str_eq(s.v[0].path, "app/certs/client.p12");
    ck_assert_str_eq(s.v[0].rule, "keystore-file");
    ck_assert_str_eq(s.v[1].path, "app/keystore.jks");
    ck_assert_str_eq(s.v[2].rule, "keepass-database");
    ck_assert_str_eq(s.v[3].path, "app/tls/server.key");
    ck_assert_str_eq(s.v[3].rule, "der-private-key-file");
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(s.v[i].severity, STW_SEV_HIGH);
        ck_assert_int_eq(s.v[i].kind, STW_KIND_ARTIFACT);
    }
    ck_assert_str_eq(s.v[4].path, "app/node_modules/x/test/fixture.p12");
    ck_assert_int_eq(s.v[4].severity, STW_SEV_INFO);
    free(s.v);
}
END_TEST

/* A reader that cannot give the content (a hard link) leaves the judgement
 * to the name: the next entry settles it. */
START_TEST(test_artifact_key_store_without_content_judged_by_name)
{
    sink s = {0};
    stw_artifact *a;
    bool want = false;
    ck_assert_int_eq(stw_artifact_create(collect, &s, &a), STW_OK);
    ck_assert_int_eq(
        stw_artifact_entry(a, "app/store.p12", false, true, 100, &want),
        STW_OK);
    ck_assert(want);
    ck_assert_int_eq(stw_artifact_entry(a, "app/x", false, true, 1, &want),
                     STW_OK);
    ck_assert(!want);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.v[0].path, "app/store.p12");
    ck_assert_int_eq(stw_artifact_finish(a), STW_OK);
    ck_assert_uint_eq(s.n, 1);
    stw_artifact_destroy(a);
    stw_artifact_destroy(NULL);
    free(s.v);
}
END_TEST

/* Past STW_MAX_ARTIFACT_DIRS directories the detector stops remembering
 * but still reports every directory once when its entries come together. */
static stw_status count_only(void *ctx, const stw_finding *f)
{
    ck_assert(f->is_dir);
    (*(size_t *)ctx)++;
    return STW_OK;
}

START_TEST(test_artifact_dir_cap_still_reports_each_once)
{
    size_t found = 0;
    stw_artifact *a;
    ck_assert_int_eq(stw_artifact_create(count_only, &found, &a), STW_OK);
    size_t n = STW_MAX_ARTIFACT_DIRS + 10;
    char p[64];
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < 2; j++) {
            bool want;
            snprintf(p, sizeof(p), "w/%zu/.vscode/f%d", i, j);
            ck_assert_int_eq(stw_artifact_entry(a, p, false, true, 1, &want),
                             STW_OK);
        }
    }
    ck_assert_uint_eq(found, 10); /* the overflow, on sight */
    ck_assert_int_eq(stw_artifact_finish(a), STW_OK);
    ck_assert_uint_eq(found, n);
    stw_artifact_destroy(a);
}
END_TEST

/* ---- through the real layer walker and the built-in rules ---------- */

typedef struct tar_file {
    const char *path;
    const char *data; /* NULL: a directory */
} tar_file;

static unsigned char *make_tar(const tar_file *f, size_t n, size_t *len)
{
    size_t cap = 1 << 20;
    unsigned char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    struct archive *w = archive_write_new();
    archive_write_set_format_pax_restricted(w);
    ck_assert_int_eq(archive_write_open_memory(w, buf, cap, len), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, f[i].path);
        archive_entry_set_filetype(e, f[i].data ? AE_IFREG : AE_IFDIR);
        archive_entry_set_perm(e, f[i].data ? 0644 : 0755);
        size_t sz = f[i].data ? strlen(f[i].data) : 0;
        archive_entry_set_size(e, (la_int64_t)sz);
        ck_assert_int_eq(archive_write_header(w, e), ARCHIVE_OK);
        if (sz)
            ck_assert_int_eq(archive_write_data(w, f[i].data, sz),
                             (la_ssize_t)sz);
        archive_entry_free(e);
    }
    ck_assert_int_eq(archive_write_close(w), ARCHIVE_OK);
    archive_write_free(w);
    return buf;
}

/* Scans the files as one layer with the built-in rules into s. */
static void scan_layer(const tar_file *f, size_t n, sink *s)
{
    size_t len = 0;
    unsigned char *tar = make_tar(f, n, &len);
    stw_rules *r;
    stw_matcher *m;
    stw_error err = {0};
    ck_assert_msg(stw_rules_create(NULL, &r, &err) == STW_OK, "%s", err.msg);
    ck_assert_int_eq(stw_matcher_create(r, &m, &err), STW_OK);
    tu_mem src = {tar, len, false};
    stw_blob_options bo = {.name = "layer.tar"};
    stw_layer_result res;
    ck_assert_msg(stw_layer_scan(m, tu_mem_read, &src, &bo, 0, &res, &err) ==
                      STW_OK,
                  "%s", err.msg);
    for (size_t i = 0; i < stw_finding_list_count(res.findings); i++)
        collect(s, stw_finding_list_get(res.findings, i));
    stw_layer_result_clear(&res);
    stw_matcher_destroy(m);
    stw_rules_destroy(r);
    free(tar);
}

static size_t count_rule(const sink *s, const char *rule)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        k += strcmp(s->v[i].rule, rule) == 0;
    return k;
}

START_TEST(test_layer_git_dir_one_finding_with_redacted_remote)
{
    enum { N = 100 };
    tar_file f[N + 4];
    char names[N][64];
    f[0] = (tar_file){"app/.git/", NULL};
    f[1] = (tar_file){"app/.git/HEAD", "ref: refs/heads/main\n"};
    f[2] = (tar_file){"app/.git/config", git_config_cred};
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "./app/.git/objects/%02d/obj%d",
                 i % 7, i);
        f[i + 3] = (tar_file){names[i], "blob"};
    }
    f[N + 3] = (tar_file){"app/.wh.x", ""};
    sink s = {0};
    scan_layer(f, N + 4, &s);
    ck_assert_uint_eq(count_rule(&s, "git-directory"), 1);
    const hit *h = find(&s, "app/.git");
    ck_assert_ptr_nonnull(h);
    ck_assert(h->is_dir);
    ck_assert_int_eq(h->severity, STW_SEV_HIGH);
    ck_assert_ptr_nonnull(strstr(h->detail, "https://deploy:****@"));
    for (size_t i = 0; i < s.n; i++)
        ck_assert_ptr_null(strstr(s.v[i].detail, "Zq4T9wLm"));
    free(s.v);
}
END_TEST

/* A stock Debian shadow (every password field *, !, !* or empty) is quiet;
 * one entry with a yescrypt hash fires once. */
START_TEST(test_layer_shadow_with_and_without_hashes)
{
    static const char stock[] = "root:*:19745:0:99999:7:::\n"
                                "daemon:*:19745:0:99999:7:::\n"
                                "bin:*:19745:0:99999:7:::\n"
                                "_apt:*:19745:0:99999:7:::\n"
                                "nobody:*:19745:0:99999:7:::\n"
                                "app:!:19745:0:99999:7:::\n"
                                "svc:!*:19745::::::\n"
                                "guest::19745:0:99999:7:::\n";
    static const char gstock[] = "root:*::\nshadow:*::\nusers:*::\n";
    tar_file quiet[] = {
        {"etc/shadow", stock}, {"etc/shadow-", stock}, {"etc/gshadow", gstock}};
    sink s = {0};
    scan_layer(quiet, STW_ARRAY_LEN(quiet), &s);
    ck_assert_uint_eq(s.n, 0);
    static const char hashed[] =
        "root:*:19745:0:99999:7:::\n"
        "app:$6$rT5mK2vQ$Xb9nL4wZ7pC2yH6dF0gJ2sA8eU4oI7mX3zR5vB9nQ1cKx7m"
        "Lq2Pz.:19745:0:99999:7:::\n";
    tar_file loud[] = {{"etc/shadow", hashed},
                       {"app/etc/shadow", hashed}}; /* not the image's */
    scan_layer(loud, STW_ARRAY_LEN(loud), &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.v[0].rule, "shadow-password-hash");
    ck_assert_str_eq(s.v[0].path, "etc/shadow");
    ck_assert_int_eq(s.v[0].kind, STW_KIND_CREDENTIAL_FILE);
    ck_assert_str_eq(s.v[0].excerpt, "$6$r\u2026(65 chars)");
    free(s.v);
}
END_TEST

START_TEST(test_layer_env_example_quiet_env_fires)
{
    static const char example[] =
        "APP_NAME=shop\n"
        "APP_KEY=\n"
        "DB_PASSWORD=secret\n"
        "REDIS_PASSWORD=null\n"
        "JWT_SECRET=your_jwt_secret_here\n"
        "STRIPE_SECRET_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx\n"
        "API_TOKEN=<your-api-token>\n"
        "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}\n"
        "SESSION_SECRET=changeme\n"
        "ADMIN_PASSWORD=password123\n"
        "TLS_KEY_FILE=/run/secrets/tls.key\n"
        "MAIL_PASSWORD=\"\"\n";
    static const char real[] = "APP_NAME=shop\n"
                               "DB_PASSWORD=Vq8zM3kX7pLw2\n";
    tar_file f[] = {{"app/.env.example", example},
                    {"app/.env.sample", example},
                    {"app/.env", real}};
    sink s = {0};
    scan_layer(f, STW_ARRAY_LEN(f), &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.v[0].path, "app/.env");
    ck_assert_str_eq(s.v[0].rule, "env-file-secret");
    free(s.v);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("artifact");
    TCase *tc = tcase_create("artifact");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_artifact_git_dir_with_100_files_is_one_finding);
    tcase_add_test(tc, test_artifact_dir_named_by_files_alone);
    tcase_add_test(tc, test_artifact_git_remote_credential_redacted_and_high);
    tcase_add_test(tc, test_artifact_git_remote_without_credential_is_medium);
    tcase_add_test(tc, test_artifact_git_extraheader_is_a_credential);
    tcase_add_test(tc, test_artifact_hgrc_default_path_credential);
    tcase_add_test(tc, test_artifact_redact_url_forms);
    tcase_add_test(tc, test_artifact_nested_git_in_node_modules);
    tcase_add_test(tc, test_artifact_git_file_and_symlink_ignored);
    tcase_add_test(tc, test_artifact_build_files);
    tcase_add_test(tc, test_artifact_key_stores_by_name_and_magic);
    tcase_add_test(tc, test_artifact_key_store_without_content_judged_by_name);
    tcase_add_test(tc, test_artifact_dir_cap_still_reports_each_once);
    tcase_add_test(tc, test_layer_git_dir_one_finding_with_redacted_remote);
    tcase_add_test(tc, test_layer_shadow_with_and_without_hashes);
    tcase_add_test(tc, test_layer_env_example_quiet_env_fires);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
