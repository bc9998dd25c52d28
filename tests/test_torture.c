/* test_torture.c - allocation torture: fifteen scenarios through the real
 * code (every image format, a layer's git history, a registry's index and
 * manifest documents, rules, suppressions, the database, a batch continued
 * after a kill and reports), each replayed with the Nth library allocation
 * failing (alloc_test.h) for N = 1, 2, ... until a run makes fewer than N
 * allocations. Every run must end in STW_ERR_NOMEM with a message, or in
 * success with exactly what an untouched run gives; a database must hold
 * no image but whole ones; a history's temporary copy must be gone; ASan
 * and LeakSanitizer watch for crashes and leaks. Both failure modes run:
 * from N on (cleanup paths) and N alone (recovery paths).
 *
 * N is dense up to TORTURE_DENSE (every image scenario, whole), then
 * steps by about 1/TORTURE_STRIDE of itself (the built-in rules, some
 * 6800 allocations); the database and batch scenarios, whose runs wait
 * for fsyncs, go sparse after 64 allocations, in steps of N/8;
 * STW_TORTURE_FULL=1 in the environment tries every N. A failing case is
 * replayed alone with STW_TORTURE_ONLY=<scenario>, STW_TORTURE_N=<n> and
 * STW_TORTURE_MODE=from|only. */
#include "alloc_test.h"
#include "sha256.h"
#include "image.h"
#include "limits.h"
#include "results.h"
#include "stowaway/stowaway.h"
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define DEMO           STW_SRCDIR "/fixtures/demo/demo.docker.tar"
#define TORTURE_DENSE  400
#define TORTURE_STRIDE 48

/* ---- fixtures, built once from the committed demo image ---------------- */

typedef struct member {
    char *name, *data;
    size_t len;
} member;

typedef struct fixtures {
    char *dir;
    char *docker_tar, *oci_dir, *oci_archive, *gz_layer, *zst_layer;
    char *git_layer, *git_tmp;
    char *rules_yaml, *ignore, *baseline;
    char *demo;
    size_t demo_len;
    member m[32];
    int n_m;
    /* in-memory registry documents: name -> bytes */
    member docs[16];
    int n_docs;
} fixtures;

static fixtures fx;
static stw_rules *builtin;

static const member *demo_member(const char *suffix)
{
    size_t sl = strlen(suffix);
    for (int i = 0; i < fx.n_m; i++) {
        size_t nl = strlen(fx.m[i].name);
        if (nl >= sl && !strcmp(fx.m[i].name + nl - sl, suffix))
            return &fx.m[i];
    }
    ck_abort_msg("demo has no %s", suffix);
    return NULL;
}

static void read_demo(void)
{
    fx.demo = tu_read_file(DEMO, &fx.demo_len);
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    ck_assert_int_eq(archive_read_open_memory(a, fx.demo, fx.demo_len),
                     ARCHIVE_OK);
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        member *m = &fx.m[fx.n_m++];
        m->name = strdup(archive_entry_pathname(e));
        m->len = (size_t)archive_entry_size(e);
        m->data = malloc(m->len + 1);
        ck_assert_int_eq(archive_read_data(a, m->data, m->len),
                         (la_ssize_t)m->len);
        m->data[m->len] = 0;
    }
    archive_read_free(a);
}

/* The file at path inside the tar m, malloc'd into out. */
static void tar_file(const member *m, const char *path, member *out)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    ck_assert_int_eq(archive_read_open_memory(a, m->data, m->len), ARCHIVE_OK);
    struct archive_entry *e;
    out->data = NULL;
    while (!out->data && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (strcmp(archive_entry_pathname(e), path))
            continue;
        out->len = (size_t)archive_entry_size(e);
        out->data = malloc(out->len + 1);
        ck_assert_int_eq(archive_read_data(a, out->data, out->len),
                         (la_ssize_t)out->len);
    }
    archive_read_free(a);
    ck_assert_msg(out->data != NULL, "demo layer has no %s", path);
    out->name = strdup(path);
}

static char *gzip(const char *in, size_t n, size_t *len)
{
    z_stream z = {0};
    ck_assert_int_eq(
        deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, n) + 64;
    char *out = malloc(cap);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *len = z.total_out;
    deflateEnd(&z);
    return out;
}

static char *zstd(const char *in, size_t n, size_t *len)
{
    size_t cap = ZSTD_compressBound(n);
    char *out = malloc(cap);
    *len = ZSTD_compress(out, cap, in, n, 3);
    ck_assert(!ZSTD_isError(*len));
    return out;
}

/* Writes data under dir/blobs/sha256/ and returns its digest (static
 * storage, one slot per call, 16 calls at most). */
static const char *put_blob(const char *dir, const char *data, size_t n)
{
    static char dg[16][STW_DIGEST_STR];
    static int next;
    char *d = dg[next++ % 16];
    ck_assert_int_eq(stw_sha256_digest(data, n, d, NULL), STW_OK);
    char rel[128];
    snprintf(rel, sizeof(rel), "blobs/sha256/%s", d + 7);
    char *p = tu_path(dir, rel);
    tu_write_file(p, data, n);
    free(p);
    return d;
}

static char *print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *print(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

#define MT "application/vnd.oci.image."

/* An OCI layout of the demo image with its three layers stored plain, as
 * gzip and as zstd, and an oci-archive tar of the same files. */
static void make_oci(void)
{
    fx.oci_dir = tu_path(fx.dir, "demo.oci");
    char *sub[] = {"", "/blobs", "/blobs/sha256"};
    for (int i = 0; i < 3; i++) {
        char *p = print("%s%s", fx.oci_dir, sub[i]);
        ck_assert_int_eq(mkdir(p, 0755), 0);
        free(p);
    }
    const char *lt[3] = {"a2c4d8d7c889031790fc87333dcc1735a651520995076cc4d9b"
                         "50b2ce4d9cf27/layer.tar",
                         "f250165c0a057365a857aa5e124328144d1c149c9d5494b104b"
                         "86236e9243087/layer.tar",
                         "a4b1710c51219d6e4c704734ad7131336ceafb850f9f39327e9"
                         "0bd0fbb43f1ea/layer.tar"};
    char ld[3][STW_DIGEST_STR];
    size_t lsz[3];
    for (int i = 0; i < 3; i++) {
        const member *m = demo_member(lt[i]);
        size_t n = m->len;
        char *b = i == 0   ? memcpy(malloc(n), m->data, n)
                  : i == 1 ? gzip(m->data, m->len, &n)
                           : zstd(m->data, m->len, &n);
        snprintf(ld[i], sizeof(ld[i]), "%s", put_blob(fx.oci_dir, b, n));
        lsz[i] = n;
        free(b);
    }
    /* The demo's config with a key in a history entry, which reports show
     * redacted (issue 15's first defect was in that redaction). */
    const member *dcfg = demo_member("f45034e35e2130a8cd19c6e2915c6cb2e976fdf9"
                                     "011d12a85bb235db2ae25dad.json");
    const char *rm = "RUN rm /app/id_rsa";
    char *at = strstr(dcfg->data, rm);
    ck_assert_ptr_nonnull(at);
    char *cfgtext =
        print("%.*s%s && echo AWS_ACCESS_KEY_ID=AKIAJB4ROR7HTTSADB5E"
              " >>/etc/environment%s",
              (int)(at - dcfg->data), dcfg->data, rm, at + strlen(rm));
    const member cfgm = {"config", cfgtext, strlen(cfgtext)}, *cfg = &cfgm;
    char cd[STW_DIGEST_STR];
    snprintf(cd, sizeof(cd), "%s", put_blob(fx.oci_dir, cfg->data, cfg->len));
    char *man = print(
        "{\"schemaVersion\":2,\"mediaType\":\"" MT "manifest.v1+json\","
        "\"config\":{\"mediaType\":\"" MT "config.v1+json\",\"digest\":\"%s\","
        "\"size\":%zu},\"layers\":["
        "{\"mediaType\":\"" MT "layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu},"
        "{\"mediaType\":\"" MT "layer.v1.tar+gzip\",\"digest\":\"%s\","
        "\"size\":%zu},{\"mediaType\":\"" MT "layer.v1.tar+zstd\","
        "\"digest\":\"%s\",\"size\":%zu}]}",
        cd, cfg->len, ld[0], lsz[0], ld[1], lsz[1], ld[2], lsz[2]);
    char md[STW_DIGEST_STR];
    snprintf(md, sizeof(md), "%s", put_blob(fx.oci_dir, man, strlen(man)));
    char *idx = print(
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT
        "manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
        "\"annotations\":{\"org.opencontainers.image.ref.name\":\"2\"}}]}",
        md, strlen(man));
    tu_file files[8];
    size_t nf = 0;
    files[nf++] =
        (tu_file){"oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30};
    files[nf++] = (tu_file){"index.json", idx, strlen(idx)};
    char *p = tu_path(fx.oci_dir, "oci-layout");
    tu_write_file(p, files[0].data, files[0].len);
    free(p);
    p = tu_path(fx.oci_dir, "index.json");
    tu_write_file(p, idx, strlen(idx));
    free(p);
    /* The archive: the same files, blobs read back from the directory. */
    char *blobs[5], rel[5][128];
    const char *dgs[5] = {ld[0], ld[1], ld[2], cd, md};
    for (int i = 0; i < 5; i++) {
        snprintf(rel[i], sizeof(rel[i]), "blobs/sha256/%s", dgs[i] + 7);
        char *bp = tu_path(fx.oci_dir, rel[i]);
        files[nf].data = blobs[i] = tu_read_file(bp, &files[nf].len);
        files[nf].name = rel[i];
        nf++;
        free(bp);
    }
    size_t n;
    char *tar = tu_archive("tar", files, nf, &n);
    fx.oci_archive = tu_path(fx.dir, "demo.oci.tar");
    tu_write_file(fx.oci_archive, tar, n);
    free(tar);
    for (int i = 0; i < 5; i++)
        free(blobs[i]);
    free(man);
    free(idx);
    free(cfgtext);
}

/* A layer with the demo's .env and key, a gzip'd tar holding the .env
 * again (files inside files), the same with the .env appended after its
 * gzip stream (a note and a finding at the file's own path) and a file
 * that starts like gzip but is none (a note), and an entry named after a
 * member of the bundle, stored alone as .tar.gz and as .tar.zst. */
static void make_layers(void)
{
    const member *l2 = demo_member("f250165c0a057365a857aa5e124328144d1c149c9d5"
                                   "494b104b86236e9243087/layer.tar");
    member envm, keym;
    tar_file(l2, "app/.env", &envm);
    tar_file(l2, "app/id_rsa", &keym);
    const member *env = &envm, *key = &keym;
    tu_file inner[] = {{"conf/.env", env->data, env->len}};
    size_t in, gn;
    char *itar = tu_archive("tar", inner, 1, &in);
    char *igz = gzip(itar, in, &gn);
    size_t tn = gn + env->len;
    char *tail = malloc(tn);
    memcpy(tail, igz, gn);
    memcpy(tail + gn, env->data, env->len);
    static const char notgz[] = "\x1f\x8b\x08\0\0\0\0\0\0\x03no deflate";
    tu_file outer[] = {{"app/.env", env->data, env->len},
                       {"app/id_rsa", key->data, key->len},
                       {"app/bundle.tar.gz", igz, gn},
                       {"app/tail.tar.gz", tail, tn},
                       {"app/not.gz", notgz, sizeof(notgz) - 1},
                       /* a name holding "!/": a holder of the bundle's
                        * path, recorded as such (layer.c) */
                       {"app/bundle.tar.gz!/conf/x.env", env->data, env->len}};
    size_t on, cn;
    char *otar = tu_archive("tar", outer, 6, &on);
    char *c = gzip(otar, on, &cn);
    fx.gz_layer = tu_path(fx.dir, "layer.tar.gz");
    tu_write_file(fx.gz_layer, c, cn);
    free(c);
    c = zstd(otar, on, &cn);
    fx.zst_layer = tu_path(fx.dir, "layer.tar.zst");
    tu_write_file(fx.zst_layer, c, cn);
    free(c);
    free(otar);
    free(tail);
    free(igz);
    free(itar);
    free(envm.name);
    free(envm.data);
    free(keym.name);
    free(keym.data);
}

/* A registry's documents: a multi-platform index whose arm64 entry is a
 * nested index, manifests and configs with history, served from memory. */
static void put_doc(const char *name, char *data)
{
    fx.docs[fx.n_docs++] = (member){strdup(name), data, strlen(data)};
}

static const char *put_doc_blob(char *data)
{
    static char dg[16][STW_DIGEST_STR];
    char *d = dg[fx.n_docs % 16];
    ck_assert_int_eq(stw_sha256_digest(data, strlen(data), d, NULL), STW_OK);
    char name[128];
    snprintf(name, sizeof(name), "blobs/sha256/%s", d + 7);
    put_doc(name, data);
    return d;
}

#define D1                                                                     \
    "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2                                                                     \
    "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const char *doc_image(const char *arch)
{
    const char *cd = put_doc_blob(print(
        "{\"os\":\"linux\",\"architecture\":\"%s\",\"config\":{\"Env\":[\"A=b"
        "\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]},"
        "\"history\":[{\"created_by\":\"ADD rootfs\"},{\"created_by\":\"ENV "
        "X=1\",\"empty_layer\":true},{\"created_by\":\"COPY . /app\"}]}",
        arch, D1, D2));
    return put_doc_blob(print(
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT
        "config.v1+json\",\"digest\":\"%s\",\"size\":1},\"layers\":[{"
        "\"mediaType\":\"" MT "layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":"
        "10},{\"mediaType\":\"" MT "layer.v1.tar+zstd\",\"digest\":\"%s\","
        "\"size\":20}]}",
        cd, D1, D2));
}

static void make_docs(void)
{
    char amd[STW_DIGEST_STR], arm[STW_DIGEST_STR];
    snprintf(amd, sizeof(amd), "%s", doc_image("amd64"));
    snprintf(arm, sizeof(arm), "%s", doc_image("arm64"));
    const char *nested = put_doc_blob(print(
        "{\"schemaVersion\":2,\"mediaType\":\"" MT "index.v1+json\","
        "\"manifests\":[{\"mediaType\":\"" MT "manifest.v1+json\",\"digest\":"
        "\"%s\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":"
        "\"arm64\",\"variant\":\"v8\"}}]}",
        arm));
    put_doc("index.json",
            print("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT
                  "manifest.v1+json\",\"digest\":\"%s\",\"size\":1,"
                  "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"},"
                  "\"annotations\":{\"org.opencontainers.image.ref.name\":"
                  "\"app:1\"}},{\"mediaType\":\"" MT "index.v1+json\","
                  "\"digest\":\"%s\",\"size\":1}]}",
                  amd, nested));
}

static stw_status doc_fetch(void *ctx, const char *name, const char **data,
                            size_t *len, stw_error *err)
{
    (void)ctx;
    for (int i = 0; i < fx.n_docs; i++)
        if (!strcmp(fx.docs[i].name, name)) {
            *data = fx.docs[i].data;
            *len = fx.docs[i].len;
            return STW_OK;
        }
    err->status = STW_ERR_NOT_FOUND;
    snprintf(err->msg, sizeof(err->msg), "%s: not found", name);
    return STW_ERR_NOT_FOUND;
}

/* GitHub-token-shaped values with a valid checksum (bench/mint.py ghp
 * git-<name>, as test_gitrepo's): rule github-pat reports them; they open
 * nothing. */
#define TOK_GIT_OLD  "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"
#define TOK_GIT_HEAD "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"

/* Runs a shell command in dir with a fixed identity and no user config
 * (git and tar, as test_gitrepo does). */
static void sh(const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sh(const char *dir, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char body[2048];
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    char *cmd =
        print("cd '%s' && export HOME='%s' GIT_CONFIG_NOSYSTEM=1 "
              "GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@example.invalid "
              "GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@example.invalid "
              "&& (%s) >/dev/null 2>&1",
              dir, fx.dir, body);
    ck_assert_msg(system(cmd) == 0, "failed: %s", body);
    free(cmd);
}

/* A commit of everything in the work tree at a given second, so "oldest"
 * is not left to the clock. */
static void commit_at(const char *dir, int t, const char *msg)
{
    sh(dir,
       "git add -A && GIT_AUTHOR_DATE='@%d +0000' "
       "GIT_COMMITTER_DATE='@%d +0000' git commit -q -m '%s'",
       1600000000 + t, 1600000000 + t, msg);
}

/* A layer holding srv/app with its .git: a token committed, packed by gc,
 * then deleted (history only), and a second one still at HEAD (loose
 * objects, and in the work tree); a .git file that points elsewhere and
 * an entry with a path too long to name, each a note. */
static void make_git_layer(void)
{
    char *src = tu_path(fx.dir, "gitsrc");
    char *app = tu_path(src, "srv/app");
    ck_assert_int_eq(mkdir(src, 0755), 0);
    sh(src, "mkdir -p srv/app && cd srv/app && git init -q -b main . && "
            "git config gc.auto 0");
    sh(app, "echo 'token = " TOK_GIT_OLD "' >config.env && echo app >README");
    commit_at(app, 0, "start");
    sh(app, "git gc -q && git rm -q config.env && "
            "echo 'token = " TOK_GIT_HEAD "' >settings");
    commit_at(app, 100, "move the token");
    /* A worktree's "gitdir:" pointer: a note while the layer is read. */
    sh(src, "mkdir srv/wt && echo 'gitdir: /elsewhere' >srv/wt/.git");
    fx.git_layer = tu_path(fx.dir, "git.layer.tar");
    sh(src, "tar -cf '%s' srv", fx.git_layer);
    /* And an entry whose path is too long to be named: another note. */
    char *name = malloc(STW_MAX_ENTRY_PATH + 16);
    memset(name, 'a', STW_MAX_ENTRY_PATH + 15);
    memcpy(name, "srv/", 4);
    name[STW_MAX_ENTRY_PATH + 15] = 0;
    tu_file lf = {name, "x", 1};
    size_t ln;
    char *lt = tu_archive("tar", &lf, 1, &ln);
    char *long_tar = tu_path(fx.dir, "long.tar");
    tu_write_file(long_tar, lt, ln);
    sh(fx.dir, "tar -Af '%s' '%s' && rm '%s'", fx.git_layer, long_tar,
       long_tar);
    free(long_tar);
    free(lt);
    free(name);
    sh(fx.dir, "rm -rf gitsrc");
    free(app);
    free(src);
    fx.git_tmp = tu_path(fx.dir, "gittmp");
    ck_assert_int_eq(mkdir(fx.git_tmp, 0700), 0);
}

static void write_text(char **path, const char *name, const char *text)
{
    *path = tu_path(fx.dir, name);
    tu_write_file(*path, text, strlen(text));
}

static void make_fixtures(void)
{
    fx.dir = tu_mkdtemp("torture");
    read_demo();
    fx.docker_tar = strdup(DEMO);
    make_oci();
    make_layers();
    make_docs();
    make_git_layer();
    write_text(&fx.rules_yaml, "rules.yaml",
               "version: 1\n"
               "allow-rules:\n"
               "  - id: top-allow\n    description: everywhere\n"
               "    regex: 'dtok_f{16}'\n"
               "known-test-keys:\n"
               "  - sha256: 0123456789abcdef0123456789abcdef0123456789abcdef"
               "0123456789abcdef\n    source: a test\n    reason: a test\n"
               "rules:\n"
               "  - id: demo-token\n    title: Demo token\n"
               "    category: demo\n    severity: high\n"
               "    keywords: ['dtok_']\n"
               "    regex: '(?<secret>dtok_[0-9a-f]{16})'\n"
               "    secret-group-name: secret\n    entropy: 2.0\n"
               "    allow-rules:\n"
               "      - id: zeros\n        description: a placeholder\n"
               "        regex: '^dtok_0{16}$'\n"
               "    remediation: 'Rotate it.'\n"
               "    examples:\n"
               "      tp:\n        - 'key = dtok_3f9a0c1b2d4e5f67'\n"
               "      fp:\n        - 'key = dtok_0000000000000000'\n"
               "  - id: demo-file\n    title: Demo credential file\n"
               "    kind: credential-file\n    severity: medium\n"
               "    path: '(^|/)demo\\.cred$'\n");
    write_text(&fx.ignore, "ignore",
               "# accepted\nrule=setuid-file reason=the base image's su\n"
               "fingerprint=0123456789abcdef0123456789abcdef image=x/*\n"
               "path=\"app/old/\" expires=2001-01-01 reason=expired\n");
}

/* ---- the harness -------------------------------------------------------- */

/* One scenario: setup and check run unarmed, body under the hook. */
typedef struct scenario {
    const char *name;
    void (*setup)(void **ctx);
    stw_status (*body)(void *ctx, stw_error *err);
    /* Called after every run with its status (OK or NOMEM) and whether an
     * allocation was failed: checks what the run left behind. */
    void (*check)(void *ctx, stw_status st, bool touched);
    void (*teardown)(void *ctx);
    /* Every N up to dense, then steps of N/stride (0: the defaults): the
     * database scenario's runs wait for fsyncs. */
    unsigned long dense, stride;
} scenario;

typedef struct tally {
    unsigned long k, runs;
} tally;

static unsigned long next_n(const scenario *s, unsigned long n)
{
    static int full = -1;
    if (full < 0)
        full = getenv("STW_TORTURE_FULL") != NULL;
    unsigned long dense = s->dense ? s->dense : TORTURE_DENSE;
    unsigned long stride = s->stride ? s->stride : TORTURE_STRIDE;
    if (full || n < dense || n < stride)
        return n + 1;
    return n + n / stride;
}

static const char *mode_name(stw_alloc_fail_mode m)
{
    return m == STW_ALLOC_FAIL_FROM ? "from" : "only";
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) +
           (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Seconds spent under the hook, per scenario: the rest is set-up and
 * checking. */
static double t_body;

static bool run_once(const scenario *s, unsigned long n,
                     stw_alloc_fail_mode mode, unsigned long *calls)
{
    void *ctx = NULL;
    if (s->setup)
        s->setup(&ctx);
    stw_error err = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    stw_alloc_fail_arm(n, mode);
    stw_status st = s->body(ctx, &err);
    unsigned long failed = stw_alloc_fail_disarm(calls);
    t_body += seconds_since(&t0);
    if (failed == 0)
        ck_assert_msg(st == STW_OK, "%s untouched: %s (%s)", s->name,
                      stw_status_str(st), err.msg);
    else
        ck_assert_msg(st == STW_OK || st == STW_ERR_NOMEM,
                      "%s, allocation %lu failing (%s): %s, not out of "
                      "memory: %s",
                      s->name, n, mode_name(mode), stw_status_str(st), err.msg);
    if (st != STW_OK)
        ck_assert_msg(err.status == st && err.msg[0],
                      "%s, allocation %lu failing (%s): %s but the error says "
                      "%s, '%s'",
                      s->name, n, mode_name(mode), stw_status_str(st),
                      stw_status_str(err.status), err.msg);
    if (s->check)
        s->check(ctx, st, failed > 0);
    if (s->teardown)
        s->teardown(ctx);
    return failed > 0;
}

static int cur_n;
static stw_alloc_fail_mode cur_mode;

static void torture(const scenario *s)
{
    const char *only = getenv("STW_TORTURE_ONLY");
    if (only && strcmp(only, s->name))
        return;
    const char *one = getenv("STW_TORTURE_N");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    t_body = 0;
    unsigned long calls = 0;
    run_once(s, 0, STW_ALLOC_FAIL_FROM, &calls); /* a reference, untouched */
    tally t[2] = {{0}};
    const char *mode = getenv("STW_TORTURE_MODE");
    for (int m = 0; m < 2; m++) {
        cur_mode = m ? STW_ALLOC_FAIL_ONLY : STW_ALLOC_FAIL_FROM;
        if (mode && strcmp(mode, mode_name(cur_mode)))
            continue;
        unsigned long n = one ? strtoul(one, NULL, 10) : 1;
        for (;; n = next_n(s, n)) {
            cur_n = (int)n;
            unsigned long c;
            t[m].runs++;
            if (!run_once(s, n, cur_mode, &c) || one) {
                t[m].k = c;
                break;
            }
        }
    }
    printf("torture %-14s k=%-6lu runs from=%lu only=%lu  %.1f s (%.1f s "
           "under the hook)\n",
           s->name, t[0].k, t[0].runs, t[1].runs, seconds_since(&t0), t_body);
    fflush(stdout);
}

/* ---- what results look like, to compare a run with the reference ------ */

/* One line per image with its layers and findings: what a reader of the
 * database sees of it. malloc'd. */
static char *image_sig(const stw_results *r, size_t im)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const stw_result_image *i = stw_results_image(r, im);
    fprintf(f, "%s|%s|%s|%s|", stw_result_image_ref(i),
            stw_result_image_manifest_digest(i),
            stw_result_image_config_digest(i), stw_result_image_platform(i));
    for (size_t l = 0; l < stw_result_image_layer_count(i); l++) {
        const stw_result_layer *y = stw_result_image_layer(i, l);
        fprintf(f, "[%s %s %s %s %lld]", stw_result_layer_digest(y),
                stw_result_layer_diff_id(y), stw_result_layer_media_type(y),
                stw_result_layer_created_by(y),
                (long long)stw_result_layer_size(y));
    }
    for (size_t k = 0; k < stw_results_finding_count(r); k++) {
        const stw_result_finding *x = stw_results_finding(r, k);
        if (stw_result_finding_image(x) != im)
            continue;
        fprintf(f, "{%d %s %s %lld %d %s %s}", stw_result_finding_layer(x),
                stw_result_finding_path(x), stw_result_finding_rule(x),
                (long long)stw_result_finding_offset(x),
                stw_result_finding_visible(x),
                stw_result_finding_fingerprint(x),
                stw_result_finding_excerpt(x));
        if (x->git_source != STW_GIT_NONE) /* where in a history it is */
            fprintf(f, "{git %d %s %s %d %d}", (int)x->git_source,
                    x->git_commit, x->git_path, x->git_reachable,
                    x->git_in_worktree);
    }
    fclose(f);
    return buf;
}

/* Everything: images, findings and errors. malloc'd. */
static char *results_sig(const stw_results *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    for (size_t i = 0; i < stw_results_image_count(r); i++) {
        char *s = image_sig(r, i);
        fprintf(f, "%s\n", s);
        free(s);
    }
    for (size_t i = 0; i < stw_results_error_count(r); i++) {
        const stw_result_error *e = stw_results_error(r, i);
        fprintf(f, "error %s: %s\n", stw_result_error_target(e),
                stw_result_error_message(e));
    }
    fclose(f);
    return buf;
}

/* ---- scanning scenarios ------------------------------------------------- */

typedef struct scan_ctx {
    const char *target; /* a path, or NULL for the demo as a stream */
    stw_store *store;
    stw_scan_options *opt;
    int64_t id;
    size_t at; /* stream position */
} scan_ctx;

static char *scan_ref[8]; /* the untouched run's results, per scenario */
static int scan_slot;

static void scan_setup(void **out, const char *target)
{
    scan_ctx *c = calloc(1, sizeof(*c));
    stw_error err = {0};
    c->target = target;
    ck_assert_int_eq(stw_store_open(NULL, &c->store, &err), STW_OK);
    ck_assert_int_eq(stw_scan_options_create(&c->opt, &err), STW_OK);
    stw_scan_options_set_jobs(c->opt, 1); /* the Nth call the same each run */
    ck_assert_int_eq(stw_store_begin_scan(c->store, "t",
                                          stw_rules_version(builtin), "t",
                                          &c->id, &err),
                     STW_OK);
    *out = c;
}

static stw_status mem_read(void *ctx, const void **buf, size_t *len,
                           stw_error *err)
{
    (void)err;
    scan_ctx *c = ctx;
    size_t k = fx.demo_len - c->at < 3000 ? fx.demo_len - c->at : 3000;
    *buf = fx.demo + c->at;
    *len = k;
    c->at += k;
    return STW_OK;
}

static stw_status scan_body(void *ctx, stw_error *err)
{
    scan_ctx *c = ctx;
    if (!c->target)
        return stw_scan_read(builtin, c->store, c->id, "upload", mem_read, c,
                             c->opt, err);
    return stw_scan_target(builtin, c->store, c->id, c->target, c->opt, err);
}

/* Whatever a run stored: on success exactly the reference; after a failure
 * only whole images, each as the reference has it. */
/* What a run left in a store, r, against *ref (the untouched run's, which
 * the first call sets): on success exactly the reference; after a failure
 * only whole images, each as the reference has it. Results run longer than
 * check's messages: both sides go to stderr. */
static void compare_stored(const stw_results *r, stw_status st, bool touched,
                           char **ref, const char *name)
{
    char *sig = results_sig(r);
    if (!*ref) {
        ck_assert(!touched && st == STW_OK);
        *ref = sig;
        return;
    }
    if (st == STW_OK && strcmp(sig, *ref)) {
        fprintf(stderr, "succeeded with:\n%s\nexpected:\n%s\n", sig, *ref);
        ck_abort_msg("%s: allocation %d failing (%s) succeeded with results "
                     "that differ (above)",
                     name, cur_n, mode_name(cur_mode));
    }
    for (size_t i = 0; i < stw_results_image_count(r); i++) {
        char *is = image_sig(r, i);
        if (!strstr(*ref, is)) {
            fprintf(stderr, "stored:\n%s\nexpected one of:\n%s\n", is, *ref);
            ck_abort_msg("%s: allocation %d failing (%s) stored a partial "
                         "image (above)",
                         name, cur_n, mode_name(cur_mode));
        }
        free(is);
    }
    free(sig);
}

static void check_stored(stw_store *store, int64_t id, stw_status st,
                         bool touched, char **ref, const char *name)
{
    stw_error err = {0};
    stw_results *r;
    ck_assert_int_eq(stw_store_end_scan(store, id, &err), STW_OK);
    ck_assert_msg(stw_store_load_scan(store, id, &r, &err) == STW_OK, "%s",
                  err.msg);
    compare_stored(r, st, touched, ref, name);
    stw_results_destroy(r);
}

static void scan_check(void *ctx, stw_status st, bool touched)
{
    scan_ctx *c = ctx;
    check_stored(c->store, c->id, st, touched, &scan_ref[scan_slot],
                 c->target ? c->target : "stream");
}

static void scan_teardown(void *ctx)
{
    scan_ctx *c = ctx;
    stw_scan_options_destroy(c->opt);
    stw_store_close(c->store);
    free(c);
}

/* expect: a piece of the untouched run's results that shows the scenario
 * reaches what it is there for. */
#define SCAN_SCENARIO(fn, slot, label, path, expect)                           \
    static void fn##_setup(void **out)                                         \
    {                                                                          \
        scan_setup(out, path);                                                 \
    }                                                                          \
    START_TEST(fn)                                                             \
    {                                                                          \
        scan_slot = slot;                                                      \
        scenario s = {label, fn##_setup, scan_body, scan_check,                \
                      scan_teardown};                                          \
        torture(&s);                                                           \
        ck_assert_msg(!scan_ref[slot] || strstr(scan_ref[slot], expect),       \
                      "%s: no %s in\n%s", label, expect, scan_ref[slot]);      \
    }                                                                          \
    END_TEST

#define REDACTED "echo AWS_ACCESS_KEY_ID=AKIA…(20 chars)"
SCAN_SCENARIO(test_torture_docker_archive, 0, "docker-archive", fx.docker_tar,
              "usr/bin/su setuid-file")
SCAN_SCENARIO(test_torture_oci_layout, 1, "oci-layout", fx.oci_dir, REDACTED)
SCAN_SCENARIO(test_torture_oci_archive, 2, "oci-archive", fx.oci_archive,
              REDACTED)
SCAN_SCENARIO(test_torture_gzip_layer, 3, "gzip-layer", fx.gz_layer,
              "app/bundle.tar.gz!/conf/.env")
SCAN_SCENARIO(test_torture_zstd_layer, 4, "zstd-layer", fx.zst_layer,
              "app/tail.tar.gz: ")
SCAN_SCENARIO(test_torture_stream, 5, "stream", NULL, "<config> github-pat")

/* A layer with a repository's history: the private copy of the .git
 * (under TMPDIR) must be gone after every run, whatever failed. */
static void git_check(void *ctx, stw_status st, bool touched)
{
    scan_check(ctx, st, touched);
    DIR *d = opendir(fx.git_tmp);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        ck_assert_msg(!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."),
                      "git-history: allocation %d failing (%s) left %s in "
                      "TMPDIR",
                      cur_n, mode_name(cur_mode), e->d_name);
    closedir(d);
}

static void git_setup(void **out)
{
    scan_setup(out, fx.git_layer);
}

START_TEST(test_torture_git_history)
{
    scan_slot = 6;
    char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", fx.git_tmp, 1);
    scenario s = {"git-history", git_setup, scan_body, git_check,
                  scan_teardown};
    torture(&s);
    if (old)
        setenv("TMPDIR", old, 1);
    else
        unsetenv("TMPDIR");
    free(old);
    /* The token deleted at HEAD, found in the packed first commit, and
     * the note about the pointer. */
    ck_assert_msg(
        !scan_ref[6] || (strstr(scan_ref[6], "srv/app/.git github-pat") &&
                         strstr(scan_ref[6], "config.env 1 0}") &&
                         strstr(scan_ref[6], "srv/wt/.git: a file") &&
                         strstr(scan_ref[6], "bytes was skipped (longer than")),
        "git-history: no history finding or note in\n%s", scan_ref[6]);
}
END_TEST

/* ---- a registry's documents --------------------------------------------- */

static char *docs_ref[2];

static char *list_sig(const stw_image_list *l)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    for (size_t i = 0; i < l->n; i++) {
        const stw_image_desc *d = &l->v[i];
        fprintf(f, "%s %s %s %s %zu\n", d->ref, d->manifest_digest,
                d->config_digest, d->platform ? d->platform : "-",
                d->config_len);
        for (size_t k = 0; k < d->n_layers; k++) {
            const stw_layer_desc *y = &d->layers[k];
            fprintf(f, "  %s %s %s %s %lld %s\n", y->name,
                    y->digest ? y->digest : "-", y->diff_id ? y->diff_id : "-",
                    y->media_type ? y->media_type : "-", (long long)y->size,
                    y->created_by ? y->created_by : "-");
        }
    }
    fclose(f);
    return buf;
}

typedef struct docs_ctx {
    const char *platform;
    int slot;
    stw_image_list list;
} docs_ctx;

static stw_status docs_body(void *ctx, stw_error *err)
{
    docs_ctx *c = ctx;
    stw_image_source src = {doc_fetch, NULL, "registry.example/app",
                            c->platform};
    return stw_image_from_oci(&src, &c->list, err);
}

static void docs_check(void *ctx, stw_status st, bool touched)
{
    docs_ctx *c = ctx;
    char *sig = list_sig(&c->list);
    if (!docs_ref[c->slot]) {
        ck_assert(!touched && st == STW_OK);
        docs_ref[c->slot] = sig;
    } else {
        if (st == STW_OK)
            ck_assert_msg(!strcmp(sig, docs_ref[c->slot]),
                          "registry documents: allocation %d failing (%s) "
                          "succeeded with:\n%s\nexpected:\n%s",
                          cur_n, mode_name(cur_mode), sig, docs_ref[c->slot]);
        free(sig);
    }
    stw_image_list_clear(&c->list);
    free(c);
}

static void docs_all_setup(void **out)
{
    docs_ctx *c = calloc(1, sizeof(*c));
    *out = c;
}

static void docs_arm_setup(void **out)
{
    docs_ctx *c = calloc(1, sizeof(*c));
    c->platform = "linux/arm64";
    c->slot = 1;
    *out = c;
}

START_TEST(test_torture_registry_documents)
{
    scenario all = {"registry-docs", docs_all_setup, docs_body, docs_check,
                    NULL};
    torture(&all);
    scenario arm = {"registry-arm64", docs_arm_setup, docs_body, docs_check,
                    NULL};
    torture(&arm);
}
END_TEST

/* ---- rules --------------------------------------------------------------- */

typedef struct rules_ctx {
    bool with_builtin;
    stw_rules *rules;
} rules_ctx;

static size_t rules_ref[2];

static stw_status rules_body(void *ctx, stw_error *err)
{
    rules_ctx *c = ctx;
    stw_rules_options *o;
    stw_status st = stw_rules_options_create(&o, err);
    if (st != STW_OK)
        return st;
    stw_rules_options_set_builtin(o, c->with_builtin);
    if ((st = stw_rules_options_add_file(o, fx.rules_yaml, err)) == STW_OK &&
        c->with_builtin)
        st = stw_rules_options_disable(o, "rsa-private-key", err);
    if (st == STW_OK)
        st = stw_rules_create(o, &c->rules, err);
    stw_rules_options_destroy(o);
    return st;
}

static void rules_check(void *ctx, stw_status st, bool touched)
{
    rules_ctx *c = ctx;
    size_t *ref = &rules_ref[c->with_builtin];
    if (st == STW_OK) {
        size_t n = stw_rules_count(c->rules);
        ck_assert_msg(!touched || n == *ref,
                      "rules: allocation %d failing (%s) gave %zu rules, not "
                      "%zu",
                      cur_n, mode_name(cur_mode), n, *ref);
        *ref = n;
        ck_assert_ptr_nonnull(stw_rules_version(c->rules));
    }
    stw_rules_destroy(c->rules);
    free(c);
}

static void rules_file_setup(void **out)
{
    *out = calloc(1, sizeof(rules_ctx));
}

static void rules_builtin_setup(void **out)
{
    rules_ctx *c = calloc(1, sizeof(*c));
    c->with_builtin = true;
    *out = c;
}

START_TEST(test_torture_rules_file)
{
    scenario s = {"rules-file", rules_file_setup, rules_body, rules_check,
                  NULL};
    torture(&s);
}
END_TEST

START_TEST(test_torture_rules_builtin)
{
    scenario s = {"rules-builtin", rules_builtin_setup, rules_body, rules_check,
                  NULL};
    torture(&s);
}
END_TEST

/* ---- suppressions, reports and the database ----------------------------- */

/* The demo scanned once, untouched; loaded again for each run that
 * changes what it loads. */
static stw_store *demo_store;
static int64_t demo_id;

static stw_results *demo_results(void)
{
    stw_error err = {0};
    stw_results *r;
    ck_assert_int_eq(stw_store_load_scan(demo_store, demo_id, &r, &err),
                     STW_OK);
    return r;
}

typedef struct supp_ctx {
    stw_results *r;
    size_t kept, warnings;
} supp_ctx;

static size_t supp_ref[2] = {(size_t)-1, (size_t)-1};

static void supp_setup(void **out)
{
    supp_ctx *c = calloc(1, sizeof(*c));
    c->r = demo_results();
    *out = c;
}

static stw_status supp_body(void *ctx, stw_error *err)
{
    supp_ctx *c = ctx;
    stw_suppress *s;
    stw_status st = stw_suppress_create(&s, err);
    if (st != STW_OK)
        return st;
    if ((st = stw_suppress_load_ignore(s, fx.ignore, "2026-01-01", err)) ==
            STW_OK &&
        (st = stw_suppress_load_baseline(s, fx.baseline, err)) == STW_OK &&
        (st = stw_suppress_add_layer(s, D1, err)) == STW_OK) {
        stw_results_suppress(c->r, s, NULL, NULL, NULL);
        c->kept = stw_results_finding_count(c->r);
        c->warnings = stw_suppress_warning_count(s);
    }
    stw_suppress_destroy(s);
    return st;
}

static void supp_check(void *ctx, stw_status st, bool touched)
{
    supp_ctx *c = ctx;
    if (st == STW_OK && supp_ref[0] == (size_t)-1) {
        ck_assert(!touched);
        supp_ref[0] = c->kept;
        supp_ref[1] = c->warnings;
    } else if (st == STW_OK) {
        ck_assert_msg(c->kept == supp_ref[0] && c->warnings == supp_ref[1],
                      "suppressions: allocation %d failing (%s) kept %zu "
                      "findings and %zu warnings, not %zu and %zu",
                      cur_n, mode_name(cur_mode), c->kept, c->warnings,
                      supp_ref[0], supp_ref[1]);
    }
    stw_results_destroy(c->r);
    free(c);
}

START_TEST(test_torture_suppressions)
{
    /* The baseline: the single layer's findings, which the demo has too
     * in another layer, so they match by rule, path and secret hash. */
    stw_store *s;
    stw_error err = {0};
    int64_t id;
    stw_results *r;
    ck_assert_int_eq(stw_store_open(NULL, &s, &err), STW_OK);
    ck_assert_int_eq(stw_store_begin_scan(s, "t", stw_rules_version(builtin),
                                          "t", &id, &err),
                     STW_OK);
    ck_assert_int_eq(stw_scan_target(builtin, s, id, fx.gz_layer, NULL, &err),
                     STW_OK);
    ck_assert_int_eq(stw_store_load_scan(s, id, &r, &err), STW_OK);
    fx.baseline = tu_path(fx.dir, "baseline.json");
    FILE *f = fopen(fx.baseline, "w");
    ck_assert_int_eq(stw_suppress_write_baseline(r, f, &err), STW_OK);
    fclose(f);
    stw_results_destroy(r);
    stw_store_close(s);
    scenario sc = {"suppressions", supp_setup, supp_body, supp_check, NULL};
    torture(&sc);
    /* What the scenario proves only if it suppresses something and keeps
     * something: the su by rule, .env and the key by baseline. */
    if (supp_ref[0] != (size_t)-1) {
        ck_assert_uint_eq(supp_ref[0], 1);
        ck_assert_uint_eq(supp_ref[1], 1);
    }
}
END_TEST

/* Every report format of the demo's results, with the rules' texts, and a
 * baseline; on success the same bytes as untouched. */
typedef struct report_ctx {
    char *buf;
    size_t len;
    FILE *out;
} report_ctx;

static stw_results *report_results;
static char *report_ref;

static void report_setup(void **out)
{
    report_ctx *c = calloc(1, sizeof(*c));
    c->out = open_memstream(&c->buf, &c->len);
    *out = c;
}

static stw_status report_body(void *ctx, stw_error *err)
{
    report_ctx *c = ctx;
    stw_report_options *o;
    stw_status st = stw_report_options_create(&o, err);
    if (st != STW_OK)
        return st;
    stw_report_options_set_rules(o, builtin);
    stw_report_options_set_remediation(o, true);
    for (int f = STW_REPORT_TABLE; f <= STW_REPORT_HTML && st == STW_OK; f++)
        st = stw_report_render(report_results, (stw_report_format)f, o, c->out,
                               err);
    if (st == STW_OK)
        st = stw_suppress_write_baseline(report_results, c->out, err);
    stw_report_options_destroy(o);
    return st;
}

static void report_check(void *ctx, stw_status st, bool touched)
{
    report_ctx *c = ctx;
    fclose(c->out);
    if (!report_ref) {
        ck_assert(!touched && st == STW_OK);
        report_ref = c->buf;
    } else {
        if (st == STW_OK)
            ck_assert_msg(!strcmp(c->buf, report_ref),
                          "reports: allocation %d failing (%s) rendered "
                          "other bytes",
                          cur_n, mode_name(cur_mode));
        free(c->buf);
    }
    free(c);
}

START_TEST(test_torture_reports)
{
    report_results = demo_results();
    scenario s = {"reports", report_setup, report_body, report_check, NULL};
    torture(&s);
    stw_results_destroy(report_results);
}
END_TEST

/* The whole of a CLI scan on a database file: open (create, migrate),
 * scan, end, read back, close, all under the hook; then, untouched, the
 * file must open and hold only whole images. */
typedef struct db_ctx {
    char *path;
} db_ctx;

static char *db_ref;
static int db_runs;

static void db_setup(void **out)
{
    db_ctx *c = calloc(1, sizeof(*c));
    char name[64];
    snprintf(name, sizeof(name), "db%d.sqlite", db_runs++);
    c->path = tu_path(fx.dir, name);
    *out = c;
}

static stw_status db_body(void *ctx, stw_error *err)
{
    db_ctx *c = ctx;
    stw_store *s;
    int64_t id;
    stw_results *r = NULL;
    stw_status st = stw_store_open(c->path, &s, err);
    if (st != STW_OK)
        return st;
    st =
        stw_store_begin_scan(s, "t", stw_rules_version(builtin), "t", &id, err);
    if (st == STW_OK) {
        stw_scan_options *o;
        if ((st = stw_scan_options_create(&o, err)) == STW_OK) {
            stw_scan_options_set_jobs(o, 1);
            st = stw_scan_target(builtin, s, id, fx.oci_archive, o, err);
            stw_scan_options_destroy(o);
        }
        stw_error e2 = {0};
        stw_status st2 = stw_store_end_scan(s, id, &e2);
        if (st == STW_OK && st2 != STW_OK) {
            st = st2;
            *err = e2;
        }
    }
    if (st == STW_OK)
        st = stw_store_load_scan(s, id, &r, err);
    stw_results_destroy(r);
    stw_store_close(s);
    return st;
}

static void db_check(void *ctx, stw_status st, bool touched)
{
    db_ctx *c = ctx;
    stw_store *s;
    stw_error err = {0};
    FILE *probe = fopen(c->path, "r");
    if (probe) {
        fclose(probe);
        ck_assert_msg(stw_store_open(c->path, &s, &err) == STW_OK,
                      "database: allocation %d failing (%s) left a file that "
                      "does not open: %s",
                      cur_n, mode_name(cur_mode), err.msg);
        stw_results *r;
        ck_assert_int_eq(stw_store_load_latest(s, NULL, &r, &err), STW_OK);
        compare_stored(r, st, touched, &db_ref, "database");
        stw_results_destroy(r);
        stw_store_close(s);
    } else {
        ck_assert(st != STW_OK);
    }
    remove(c->path);
    free(c->path);
    free(c);
}

START_TEST(test_torture_database)
{
    scenario s = {"database", db_setup, db_body, db_check, NULL, 64, 8};
    torture(&s);
}
END_TEST

/* A batch: the CLI's `batch registry` loop over two targets that share a
 * layer (the demo as a docker archive, and as an OCI layout whose first
 * layer is the same plain tar), into one database file. The run starts
 * from a database a killed run left: the scan begun with the batch's args
 * never ended and holds the docker archive's image already. Under the
 * hook: open, find the unfinished scan, skip what it recorded, scan the
 * OCI layout (its first layer reused from the store, not read), read back,
 * end, close; then the file must hold only whole images, and on success
 * exactly the untouched run's. */
#define BATCH_ARGS "batch registry demo --db torture.sqlite"

typedef struct batch_ctx {
    char *path;
    size_t scanned, skipped; /* targets */
} batch_ctx;

static char *batch_start;  /* the database the killed run left */
static int64_t batch_scan; /* its unfinished scan */
static char *batch_ref;
static int batch_runs;
static struct {
    const char *path;
    char *ref; /* the image's ref as the store keeps it */
} batch_targets[2];

static void batch_setup(void **out)
{
    batch_ctx *c = calloc(1, sizeof(*c));
    char name[64];
    snprintf(name, sizeof(name), "batch%d.sqlite", batch_runs++);
    c->path = tu_path(fx.dir, name);
    size_t n;
    char *db = tu_read_file(batch_start, &n);
    tu_write_file(c->path, db, n);
    free(db);
    *out = c;
}

static stw_status batch_body(void *ctx, stw_error *err)
{
    batch_ctx *c = ctx;
    stw_store *s;
    int64_t id;
    bool resumed = false;
    stw_results *r = NULL;
    stw_status st = stw_store_open(c->path, &s, err);
    if (st != STW_OK)
        return st;
    st = stw_store_find_unfinished_scan(s, BATCH_ARGS, &id, &resumed, err);
    if (st == STW_OK && !resumed)
        st = stw_store_begin_scan(s, "t", stw_rules_version(builtin),
                                  BATCH_ARGS, &id, err);
    stw_scan_options *o = NULL;
    if (st == STW_OK && (st = stw_scan_options_create(&o, err)) == STW_OK)
        stw_scan_options_set_jobs(o, 1);
    for (size_t i = 0; st == STW_OK && i < 2; i++) {
        bool has;
        st = stw_store_scan_has_ref(s, id, batch_targets[i].ref, &has, err);
        if (st == STW_OK && has)
            c->skipped++;
        else if (st == STW_OK) {
            c->scanned++;
            st = stw_scan_target(builtin, s, id, batch_targets[i].path, o, err);
        }
    }
    stw_scan_options_destroy(o);
    if (st == STW_OK && (st = stw_store_load_scan(s, id, &r, err)) == STW_OK)
        st = stw_store_end_scan(s, id, err);
    stw_results_destroy(r);
    stw_store_close(s);
    return st;
}

static void batch_check(void *ctx, stw_status st, bool touched)
{
    batch_ctx *c = ctx;
    stw_store *s;
    stw_error err = {0};
    ck_assert_msg(stw_store_open(c->path, &s, &err) == STW_OK,
                  "batch: allocation %d failing (%s) left a file that does "
                  "not open: %s",
                  cur_n, mode_name(cur_mode), err.msg);
    stw_results *r;
    ck_assert_int_eq(stw_store_load_scan(s, batch_scan, &r, &err), STW_OK);
    if (!batch_ref) {
        /* The batch continued the killed run and reused the shared layer. */
        ck_assert_uint_eq(c->skipped, 1);
        ck_assert_uint_eq(c->scanned, 1);
        ck_assert_uint_eq(stw_results_image_count(r), 2);
        size_t reused = 0;
        for (size_t i = 0; i < 2; i++) {
            const stw_result_image *im = stw_results_image(r, i);
            for (size_t l = 0; l < stw_result_image_layer_count(im); l++)
                reused +=
                    stw_result_layer_cached(stw_result_image_layer(im, l));
        }
        /* The shared layer is one of the scan's 5 and read once. */
        ck_assert_uint_eq(reused, 1);
        ck_assert_uint_eq(stw_results_layers_scanned(r), 5);
    }
    compare_stored(r, st, touched, &batch_ref, "batch");
    stw_results_destroy(r);
    stw_store_close(s);
    remove(c->path);
    free(c->path);
    free(c);
}

/* The database of a batch killed after its first target, and the refs the
 * store gives the targets' images (each scanned alone, untouched). */
static void batch_fixture(void)
{
    batch_targets[0].path = fx.docker_tar;
    batch_targets[1].path = fx.oci_dir;
    for (int i = 0; i < 2; i++) {
        stw_store *s;
        stw_error err = {0};
        int64_t id;
        stw_results *r;
        ck_assert_int_eq(stw_store_open(NULL, &s, &err), STW_OK);
        ck_assert_int_eq(stw_store_begin_scan(s, "t",
                                              stw_rules_version(builtin), "t",
                                              &id, &err),
                         STW_OK);
        ck_assert_int_eq(
            stw_scan_target(builtin, s, id, batch_targets[i].path, NULL, &err),
            STW_OK);
        ck_assert_int_eq(stw_store_load_scan(s, id, &r, &err), STW_OK);
        ck_assert_uint_eq(stw_results_image_count(r), 1);
        batch_targets[i].ref =
            strdup(stw_result_image_ref(stw_results_image(r, 0)));
        stw_results_destroy(r);
        stw_store_close(s);
    }
    batch_start = tu_path(fx.dir, "batch-killed.sqlite");
    stw_store *s;
    stw_error err = {0};
    ck_assert_int_eq(stw_store_open(batch_start, &s, &err), STW_OK);
    ck_assert_int_eq(stw_store_begin_scan(s, "t", stw_rules_version(builtin),
                                          BATCH_ARGS, &batch_scan, &err),
                     STW_OK);
    ck_assert_int_eq(stw_scan_target(builtin, s, batch_scan,
                                     batch_targets[0].path, NULL, &err),
                     STW_OK);
    stw_store_close(s);
    /* Closed, the database is the one file each run copies. */
    char *wal = print("%s-wal", batch_start);
    ck_assert_int_ne(access(wal, F_OK), 0);
    free(wal);
}

START_TEST(test_torture_batch)
{
    batch_fixture();
    scenario s = {"batch", batch_setup, batch_body, batch_check, NULL, 64, 8};
    torture(&s);
    for (int i = 0; i < 2; i++)
        free(batch_targets[i].ref);
}
END_TEST

static void setup_all(void)
{
    make_fixtures();
    stw_error err = {0};
    ck_assert_msg(stw_rules_create(NULL, &builtin, &err) == STW_OK, "%s",
                  err.msg);
    ck_assert_int_eq(stw_store_open(NULL, &demo_store, &err), STW_OK);
    ck_assert_int_eq(stw_store_begin_scan(demo_store, "t",
                                          stw_rules_version(builtin), "t",
                                          &demo_id, &err),
                     STW_OK);
    ck_assert_int_eq(stw_scan_target(builtin, demo_store, demo_id,
                                     fx.docker_tar, NULL, &err),
                     STW_OK);
}

int main(void)
{
    Suite *s = suite_create("torture");
    TCase *tc = tcase_create("torture");
    tcase_set_timeout(tc, 0);
    tcase_add_unchecked_fixture(tc, setup_all, NULL);
    tcase_add_test(tc, test_torture_docker_archive);
    tcase_add_test(tc, test_torture_oci_layout);
    tcase_add_test(tc, test_torture_oci_archive);
    tcase_add_test(tc, test_torture_gzip_layer);
    tcase_add_test(tc, test_torture_zstd_layer);
    tcase_add_test(tc, test_torture_stream);
    tcase_add_test(tc, test_torture_git_history);
    tcase_add_test(tc, test_torture_registry_documents);
    tcase_add_test(tc, test_torture_rules_file);
    tcase_add_test(tc, test_torture_rules_builtin);
    tcase_add_test(tc, test_torture_suppressions);
    tcase_add_test(tc, test_torture_reports);
    tcase_add_test(tc, test_torture_database);
    tcase_add_test(tc, test_torture_batch);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
