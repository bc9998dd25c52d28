/* artifact.c - COPY-artifacts by name: repository and editor directories,
 * CI and build files, key stores. Directories are collected per layer and
 * reported once each at the end; repository configs are read to show the
 * remote (credentials redacted) and to raise a leaked credential to high. */
#include "artifact.h"

#include "common.h"
#include "limits.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- what counts as an artifact -------------------------------------- */

typedef enum dir_type {
    DIR_GIT,
    DIR_SVN,
    DIR_HG,
    DIR_IDEA,
    DIR_VSCODE,
    DIR_GITHUB,
} dir_type;

/* A repository (.git/.svn/.hg) carries the project's history, sometimes
 * deleted secrets and a remote; editor and CI metadata only betray the
 * layout, hence low. */
static const struct {
    const char *name;
    const char *rule;
    stw_severity severity;
    const char *fix;
} dir_kinds[] = {
    [DIR_GIT] = {".git", "git-directory", STW_SEV_MEDIUM,
                 "add .git to .dockerignore"},
    [DIR_SVN] = {".svn", "svn-directory", STW_SEV_MEDIUM,
                 "Subversion working copy; add .svn to .dockerignore"},
    [DIR_HG] = {".hg", "hg-directory", STW_SEV_MEDIUM,
                "add .hg to .dockerignore"},
    [DIR_IDEA] = {".idea", "idea-directory", STW_SEV_LOW,
                  "IDE project settings; add .idea to .dockerignore"},
    [DIR_VSCODE] = {".vscode", "vscode-directory", STW_SEV_LOW,
                    "editor settings; add .vscode to .dockerignore"},
    [DIR_GITHUB] = {".github", "github-directory", STW_SEV_LOW,
                    "CI workflows; add .github to .dockerignore"},
};

/* Directory components under which packages, not the image author, put
 * files: their .github/ and test key stores are the package's business. */
static const char *const third_party_dirs[] = {
    "node_modules",  "bower_components",
    "jspm_packages", "site-packages",
    "dist-packages", "vendor",
    ".cargo",        "gems",
    ".npm",          ".yarn",
    ".pnpm-store",   ".m2",
    ".gradle",
};

/* Distribution-owned trees (packages, docs, the Go module cache). */
static const char *const third_party_prefixes[] = {
    "usr/share/",       "usr/lib/",         "usr/lib64/", "usr/libexec/",
    "usr/local/lib/",   "usr/local/share/", "lib/",       "lib64/",
    "root/go/pkg/mod/", "go/pkg/mod/",
};

/* Trust stores hold public CA certificates, whatever their extension. */
static const char *const trust_store_prefixes[] = {
    "etc/ssl/certs/",
    "usr/share/ca-certificates/",
    "usr/local/share/ca-certificates/",
    "etc/ca-certificates/",
    "etc/pki/",
};

typedef enum file_type {
    FILE_NONE,
    FILE_GIT_CONFIG, /* <repo>/.git/config */
    FILE_HGRC,       /* <repo>/.hg/hgrc */
    FILE_PKCS12,     /* .p12 .pfx */
    FILE_JAVA_STORE, /* .jks .keystore */
    FILE_KEEPASS,    /* .kdbx */
    FILE_DER_KEY,    /* .key */
} file_type;

/* ---- state ----------------------------------------------------------- */

/* One artifact directory of the layer. Secrets are never kept: only their
 * hash and redacted excerpt. */
typedef struct rec {
    char *dir;
    char *detail; /* NULL until a repository config was read */
    dir_type type;
    bool third_party;
    bool credential;
    char secret_sha256[STW_SHA256_HEX];
    char excerpt[STW_EXCERPT_MAX];
} rec;

struct stw_artifact {
    stw_finding_fn fn;
    void *ctx;
    rec *recs;
    size_t n_recs, cap_recs;
    uint32_t *slots; /* open addressing over recs: index + 1, 0 = empty */
    size_t n_slots;  /* power of two, at most half full */

    file_type cur;      /* the entry whose content is being read */
    size_t cur_rec;     /* its record (repository configs) */
    bool cur_third;     /* it is under a third-party tree */
    bool cur_fed;       /* content arrived */
    char *cur_path;     /* STW_MAX_PATH + 1 bytes */
    unsigned char *buf; /* STW_MAX_ARTIFACT_READ bytes */
    size_t len;
    char *overflow_last; /* last directory reported past the cap */
    uint64_t looked;     /* stw_artifact_looked */
};

void stw_artifact_destroy(stw_artifact *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_recs; i++) {
        free(a->recs[i].dir);
        free(a->recs[i].detail);
    }
    free(a->recs);
    free(a->slots);
    free(a->cur_path);
    free(a->buf);
    free(a->overflow_last);
    free(a);
}

stw_status stw_artifact_create(stw_finding_fn fn, void *ctx, stw_artifact **out)
{
    *out = NULL;
    stw_artifact *a = stw_calloc(1, sizeof(*a));
    if (!a)
        return STW_ERR_NOMEM;
    a->fn = fn;
    a->ctx = ctx;
    a->cur_path = stw_malloc(STW_MAX_PATH + 1);
    a->buf = stw_malloc(STW_MAX_ARTIFACT_READ);
    if (!a->cur_path || !a->buf) {
        stw_artifact_destroy(a);
        return STW_ERR_NOMEM;
    }
    *out = a;
    return STW_OK;
}

/* ---- the directory set ----------------------------------------------- */

static uint64_t hash_n(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Slot of dir (n bytes) in the table: its record's, or the empty one
 * where it would go. */
static size_t find_slot(const stw_artifact *a, const char *dir, size_t n)
{
    size_t mask = a->n_slots - 1;
    size_t i = (size_t)hash_n(dir, n) & mask;
    while (a->slots[i]) {
        const char *d = a->recs[a->slots[i] - 1].dir;
        if (strncmp(d, dir, n) == 0 && d[n] == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static bool grow_slots(stw_artifact *a)
{
    size_t n = a->n_slots ? a->n_slots * 2 : 64;
    uint32_t *s = stw_calloc(n, sizeof(*s));
    if (!s)
        return false;
    free(a->slots);
    a->slots = s;
    a->n_slots = n;
    for (size_t r = 0; r < a->n_recs; r++) {
        const char *d = a->recs[r].dir;
        a->slots[find_slot(a, d, strlen(d))] = (uint32_t)(r + 1);
    }
    return true;
}

static stw_status emit_rec(stw_artifact *a, const rec *r)
{
    stw_severity sev = dir_kinds[r->type].severity;
    if (r->third_party)
        sev = STW_SEV_INFO;
    if (r->credential)
        sev = STW_SEV_HIGH;
    stw_finding f = {.path = r->dir,
                     .is_dir = true,
                     .kind = STW_KIND_ARTIFACT,
                     .rule = dir_kinds[r->type].rule,
                     .severity = sev,
                     .line = 0,
                     .offset = -1,
                     .detail = r->detail        ? r->detail
                               : r->third_party ? "shipped inside a package "
                                                  "(third-party); prune it "
                                                  "from the install"
                                                : dir_kinds[r->type].fix};
    memcpy(f.secret_sha256, r->secret_sha256, sizeof(f.secret_sha256));
    memcpy(f.excerpt, r->excerpt, sizeof(f.excerpt));
    return a->fn(a->ctx, &f);
}

/* Records directory dir (n bytes) once; *idx gets its record, or SIZE_MAX
 * when the table is full and the directory was reported on sight. */
static stw_status note_dir(stw_artifact *a, const char *dir, size_t n,
                           dir_type type, bool third, size_t *idx)
{
    *idx = SIZE_MAX;
    if (a->n_slots) {
        size_t s = find_slot(a, dir, n);
        if (a->slots[s]) {
            *idx = a->slots[s] - 1;
            return STW_OK;
        }
    }
    if (a->n_recs >= STW_MAX_ARTIFACT_DIRS) {
        /* Entries of one directory come together in real tars, so the
         * last one reported is enough to avoid a finding per file. */
        if (a->overflow_last && strncmp(a->overflow_last, dir, n) == 0 &&
            a->overflow_last[n] == 0)
            return STW_OK;
        rec r = {
            .dir = stw_strndup(dir, n), .type = type, .third_party = third};
        if (!r.dir)
            return STW_ERR_NOMEM;
        free(a->overflow_last);
        a->overflow_last = r.dir;
        return emit_rec(a, &r);
    }
    if ((a->n_recs + 1) * 2 > a->n_slots && !grow_slots(a))
        return STW_ERR_NOMEM;
    if (a->n_recs == a->cap_recs) {
        size_t cap = a->cap_recs ? a->cap_recs * 2 : 16;
        rec *v = stw_realloc(a->recs, cap * sizeof(*v));
        if (!v)
            return STW_ERR_NOMEM;
        a->recs = v;
        a->cap_recs = cap;
    }
    rec *r = &a->recs[a->n_recs];
    memset(r, 0, sizeof(*r));
    r->dir = stw_strndup(dir, n);
    if (!r->dir)
        return STW_ERR_NOMEM;
    r->type = type;
    r->third_party = third;
    a->slots[find_slot(a, dir, n)] = (uint32_t)(a->n_recs + 1);
    *idx = a->n_recs++;
    return STW_OK;
}

/* ---- classification -------------------------------------------------- */

static bool has_prefix(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(s, list[i], strlen(list[i])) == 0)
            return true;
    return false;
}

/* Is any directory component of path[0, n) a third-party tree? */
static bool third_party(const char *path, size_t n)
{
    if (has_prefix(path, third_party_prefixes,
                   STW_ARRAY_LEN(third_party_prefixes)))
        return true;
    const char *c = path, *end = path + n;
    while (c < end) {
        const char *slash = memchr(c, '/', (size_t)(end - c));
        size_t k = (size_t)((slash ? slash : end) - c);
        for (size_t i = 0; i < STW_ARRAY_LEN(third_party_dirs); i++) {
            if (strlen(third_party_dirs[i]) == k &&
                memcmp(c, third_party_dirs[i], k) == 0)
                return true;
        }
        if (!slash)
            break;
        c = slash + 1;
    }
    return false;
}

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Dockerfile, Dockerfile.prod, api.Dockerfile, Containerfile. */
static bool is_dockerfile(const char *base)
{
    return strcasecmp(base, "Dockerfile") == 0 ||
           strcasecmp(base, "Containerfile") == 0 ||
           strncasecmp(base, "Dockerfile.", 11) == 0 ||
           (ends_with_ci(base, ".Dockerfile") && strlen(base) > 11);
}

static file_type key_store_type(const char *base)
{
    if (ends_with_ci(base, ".p12") || ends_with_ci(base, ".pfx"))
        return FILE_PKCS12;
    if (ends_with_ci(base, ".jks") || ends_with_ci(base, ".keystore"))
        return FILE_JAVA_STORE;
    if (ends_with_ci(base, ".kdbx"))
        return FILE_KEEPASS;
    if (ends_with_ci(base, ".key"))
        return FILE_DER_KEY;
    return FILE_NONE;
}

static stw_status emit_file(stw_artifact *a, const char *path, const char *rule,
                            stw_severity sev, const char *detail)
{
    stw_finding f = {.path = path,
                     .kind = STW_KIND_ARTIFACT,
                     .rule = rule,
                     .severity = sev,
                     .line = 0,
                     .offset = -1,
                     .detail = detail};
    return a->fn(a->ctx, &f);
}

/* Resolves a file whose content was asked for but never came (a hard link,
 * or a reader that skipped it): key stores are then judged by name. */
static stw_status flush_pending(stw_artifact *a)
{
    if (a->cur == FILE_NONE)
        return STW_OK;
    if (!a->cur_fed)
        return stw_artifact_end_file(a);
    a->cur = FILE_NONE;
    return STW_OK;
}

stw_status stw_artifact_entry(stw_artifact *a, const char *path, bool is_dir,
                              bool is_reg, uint64_t size, bool *want_content)
{
    *want_content = false;
    stw_status st = flush_pending(a);
    if (st != STW_OK)
        return st;
    size_t plen = strlen(path);
    if (plen > STW_MAX_PATH) {
        a->looked++; /* not looked at here, but at a shorter path */
        return STW_OK;
    }
    /* The outermost artifact directory wins: app/.git/modules/x/.git is
     * part of app/.git. A component only counts as a directory when
     * something lies below it or the entry itself is a directory (a
     * submodule's ".git" file is a pointer, not a repository). */
    const char *c = path;
    for (;;) {
        const char *slash = strchr(c, '/');
        if (!slash && !is_dir)
            break;
        size_t k = slash ? (size_t)(slash - c) : strlen(c);
        for (size_t t = 0; t < STW_ARRAY_LEN(dir_kinds); t++) {
            if (strlen(dir_kinds[t].name) != k ||
                memcmp(c, dir_kinds[t].name, k) != 0)
                continue;
            size_t dlen = (size_t)(c - path) + k;
            a->looked++;
            bool third = third_party(path, (size_t)(c - path));
            if (third && t != DIR_GIT && t != DIR_SVN && t != DIR_HG)
                return STW_OK; /* packages' CI/editor metadata: noise */
            size_t idx;
            st = note_dir(a, path, dlen, (dir_type)t, third, &idx);
            if (st != STW_OK || idx == SIZE_MAX || !is_reg || size == 0)
                return st;
            const char *rest = path + dlen;
            if ((t == DIR_GIT && strcmp(rest, "/config") == 0) ||
                (t == DIR_HG && strcmp(rest, "/hgrc") == 0)) {
                a->cur = t == DIR_GIT ? FILE_GIT_CONFIG : FILE_HGRC;
                a->cur_rec = idx;
                a->cur_fed = false;
                a->len = 0;
                *want_content = true;
            }
            return STW_OK;
        }
        if (!slash)
            break;
        c = slash + 1;
    }
    if (!is_reg)
        return STW_OK;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dirlen = (size_t)(base - path);
    file_type ft = key_store_type(base);
    if (ft != FILE_NONE || strcmp(base, ".gitlab-ci.yml") == 0 ||
        strcmp(base, ".dockerignore") == 0 || is_dockerfile(base))
        a->looked++;
    bool third = third_party(path, dirlen);
    if (!third) {
        if (strcmp(base, ".gitlab-ci.yml") == 0)
            return emit_file(a, path, "gitlab-ci-file", STW_SEV_LOW,
                             "CI pipeline definition; add .gitlab-ci.yml to "
                             ".dockerignore");
        if (strcmp(base, ".dockerignore") == 0)
            return emit_file(a, path, "dockerignore-file", STW_SEV_LOW,
                             "build context file; the COPY that brought it "
                             "copied the whole context");
        if (is_dockerfile(base))
            return emit_file(a, path, "dockerfile", STW_SEV_LOW,
                             "build recipe copied into the image; add it to "
                             ".dockerignore");
    }
    if (ft == FILE_NONE || size == 0 ||
        has_prefix(path, trust_store_prefixes,
                   STW_ARRAY_LEN(trust_store_prefixes)))
        return STW_OK;
    /* Judged on the first bytes: a text file called x.key, a public
     * certificate or an empty placeholder is not a key store. */
    a->cur = ft;
    a->cur_third = third;
    a->cur_fed = false;
    a->len = 0;
    memcpy(a->cur_path, path, plen + 1);
    *want_content = true;
    return STW_OK;
}

void stw_artifact_feed(stw_artifact *a, const void *data, size_t len)
{
    if (a->cur == FILE_NONE)
        return;
    a->cur_fed = true;
    size_t room = STW_MAX_ARTIFACT_READ - a->len;
    if (len > room)
        len = room;
    memcpy(a->buf + a->len, data, len);
    a->len += len;
}

/* ---- repository configs ---------------------------------------------- */

static bool looks_like_token(const char *s, size_t n)
{
    static const char *const prefixes[] = {
        "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-"};
    for (size_t i = 0; i < STW_ARRAY_LEN(prefixes); i++) {
        size_t k = strlen(prefixes[i]);
        if (n > k && strncmp(s, prefixes[i], k) == 0)
            return true;
    }
    bool alpha = false, digit = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digit = true;
        else if ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')
            alpha = true;
    }
    return n >= 20 && alpha && digit;
}

/* Appends s[0, n) to out at *o, printable bytes only, bounded by cap. */
static void put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *o + 1 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[(*o)++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out[*o] = 0;
}

void stw_artifact_redact_url(const char *url, size_t len, char *out, size_t cap,
                             const char **secret, size_t *secret_len)
{
    *secret = NULL;
    *secret_len = 0;
    size_t o = 0;
    if (cap == 0)
        return;
    out[0] = 0;
    const char *end = url + len;
    const char *sep = NULL;
    for (const char *p = url; p + 2 < end && p - url < 32; p++) {
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            sep = p + 3;
            break;
        }
    }
    const char *at = NULL;
    for (const char *p = sep;
         p && p < end && *p != '/' && *p != '?' && *p != '#'; p++)
        if (*p == '@')
            at = p; /* the last one: passwords may hold a raw '@' */
    if (!at) {
        put(out, cap, &o, url, len);
        return;
    }
    const char *colon = memchr(sep, ':', (size_t)(at - sep));
    const char *s = colon ? colon + 1 : sep;
    size_t n = (size_t)(at - s);
    bool cred =
        n > 0 && !stw_is_placeholder(s, n) && (colon || looks_like_token(s, n));
    if (!cred) {
        put(out, cap, &o, url, len);
        return;
    }
    *secret = s;
    *secret_len = n;
    put(out, cap, &o, url, (size_t)(s - url));
    put(out, cap, &o, "****", 4);
    put(out, cap, &o, at, (size_t)(end - at));
}

/* What reading one repository config found. */
typedef struct repo_cfg {
    char remote[512];      /* redacted URL of the remote shown */
    char remote_name[64];  /* its name ("origin", "default") */
    bool remote_preferred; /* it is origin/default: keep it */
    bool remote_cred;      /* it embeds the credential */
    const char *cred;      /* first credential, borrowed from the buffer */
    size_t cred_len;
    char cred_where[64]; /* "remote origin", "http.extraheader", ... */
} repo_cfg;

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

static void set_where(repo_cfg *c, const char *what, const char *name, size_t n)
{
    size_t o = 0;
    c->cred_where[0] = 0;
    put(c->cred_where, sizeof(c->cred_where), &o, what, strlen(what));
    if (n) {
        put(c->cred_where, sizeof(c->cred_where), &o, " ", 1);
        put(c->cred_where, sizeof(c->cred_where), &o, name, n);
    }
}

/* A URL value. A remote is shown if it is the first one or the preferred
 * one (origin/default); a credential in the shown remote is the one
 * reported, else the first found anywhere. */
static void take_url(repo_cfg *c, const char *v, size_t vn, const char *what,
                     const char *name, size_t nn, bool remote, bool preferred)
{
    char red[512];
    const char *sec;
    size_t slen;
    stw_artifact_redact_url(v, vn, red, sizeof(red), &sec, &slen);
    bool show = remote && !c->remote_preferred && (!c->remote[0] || preferred);
    if (show) {
        snprintf(c->remote, sizeof(c->remote), "%s", red);
        size_t o = 0;
        put(c->remote_name, sizeof(c->remote_name), &o, name, nn);
        c->remote_preferred = preferred;
        c->remote_cred = sec != NULL;
    }
    if (sec && (show || !c->cred)) {
        c->cred = sec;
        c->cred_len = slen;
        set_where(c, what, name, nn);
    }
}

/* Reads git's config (or Mercurial's hgrc): INI sections, "key = value".
 * Remote URLs live in [remote "x"] url/pushurl (git) or [paths] (hg);
 * credentials also hide in [url "https://tok@host/"] and in
 * http.extraheader (actions/checkout's "AUTHORIZATION: basic ..."). */
static void parse_repo_config(const char *buf, size_t len, bool hg, repo_cfg *c)
{
    memset(c, 0, sizeof(*c));
    char sect[32] = "";
    const char *sub = NULL;
    size_t sub_n = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        trim(&s, &e);
        if (s == e || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            const char *close = memchr(s, ']', (size_t)(e - s));
            if (!close)
                continue;
            const char *q = s + 1;
            size_t k = 0;
            while (q < close && *q != ' ' && *q != '"' && *q != '.' &&
                   k + 1 < sizeof(sect))
                sect[k++] = *q++;
            sect[k] = 0;
            while (q < close && (*q == ' ' || *q == '"' || *q == '.'))
                q++;
            sub = q;
            sub_n = (size_t)(close - q);
            if (sub_n && sub[sub_n - 1] == '"')
                sub_n--;
            if (!hg && strcasecmp(sect, "url") == 0)
                take_url(c, sub, sub_n, "a [url] section", "", 0, false, false);
            continue;
        }
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (!eq)
            continue;
        const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
        trim(&ks, &ke);
        trim(&vs, &ve);
        if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
            vs++;
            ve--;
        }
        size_t kn = (size_t)(ke - ks), vn = (size_t)(ve - vs);
        if (hg) {
            if (strcmp(sect, "paths") == 0)
                take_url(c, vs, vn, "path", ks, kn, true,
                         kn == 7 && memcmp(ks, "default", 7) == 0);
            continue;
        }
        bool is_url = (kn == 3 && strncasecmp(ks, "url", 3) == 0) ||
                      (kn == 7 && strncasecmp(ks, "pushurl", 7) == 0);
        if (is_url && strcasecmp(sect, "remote") == 0)
            take_url(c, vs, vn, "remote", sub, sub_n, true,
                     sub_n == 6 && memcmp(sub, "origin", 6) == 0);
        else if (is_url)
            take_url(c, vs, vn, "the url of", sect, strlen(sect), false, false);
        else if (kn == 11 && strncasecmp(ks, "extraheader", 11) == 0 &&
                 !c->cred) {
            /* "AUTHORIZATION: basic <base64>": the credential is the last
             * word. */
            const char *w = ve;
            while (w > vs && w[-1] != ' ' && w[-1] != '\t')
                w--;
            static const char auth[] = "authorization";
            bool has_auth = false;
            for (const char *q = vs; q + sizeof(auth) - 1 <= ve; q++)
                if (strncasecmp(q, auth, sizeof(auth) - 1) == 0)
                    has_auth = true;
            if (has_auth && ve - w >= 8 &&
                !stw_is_placeholder(w, (size_t)(ve - w))) {
                c->cred = w;
                c->cred_len = (size_t)(ve - w);
                set_where(c, "http.extraheader", "", 0);
            }
        }
    }
}

static void read_repo_config(stw_artifact *a, rec *r, bool hg)
{
    repo_cfg c;
    parse_repo_config((const char *)a->buf, a->len, hg, &c);
    const char *what = dir_kinds[r->type].name;
    char d[800];
    int n;
    if (c.remote[0])
        n = snprintf(d, sizeof(d), "remote %s %s", c.remote_name, c.remote);
    else
        n = snprintf(d, sizeof(d), "no remote");
    if (n < 0)
        return;
    size_t o = (size_t)n < sizeof(d) ? (size_t)n : sizeof(d) - 1;
    if (c.cred) {
        stw_finding f = {0};
        stw_finding_set_secret(&f, c.cred, c.cred_len);
        memcpy(r->secret_sha256, f.secret_sha256, sizeof(r->secret_sha256));
        memcpy(r->excerpt, f.excerpt, sizeof(r->excerpt));
        r->credential = true;
        if (c.remote_cred)
            snprintf(d + o, sizeof(d) - o,
                     " embeds a credential; revoke it and add %s to "
                     ".dockerignore",
                     what);
        else
            snprintf(d + o, sizeof(d) - o,
                     "; %s holds a credential; revoke it and add %s to "
                     ".dockerignore",
                     c.cred_where, what);
    } else {
        snprintf(d + o, sizeof(d) - o, "; add %s to .dockerignore", what);
    }
    char *copy = stw_strdup(d);
    if (copy) { /* without memory the finding keeps its generic detail */
        free(r->detail);
        r->detail = copy;
    }
}

/* ---- key stores ------------------------------------------------------ */

/* Length of a DER SEQUENCE header at b (0 if b is not one). */
static size_t der_seq_header(const unsigned char *b, size_t n)
{
    if (n < 2 || b[0] != 0x30)
        return 0;
    if (b[1] < 0x80)
        return 2;
    size_t k = b[1] & 0x7f;
    return k >= 1 && k <= 4 && n >= 2 + k ? 2 + k : 0;
}

/* PKCS#12: SEQUENCE { INTEGER 3, ... }. */
static bool is_pkcs12(const unsigned char *b, size_t n)
{
    size_t h = der_seq_header(b, n);
    return h && n >= h + 3 && b[h] == 0x02 && b[h + 1] == 0x01 &&
           b[h + 2] == 0x03;
}

static stw_status judge_key_store(stw_artifact *a)
{
    const unsigned char *b = a->buf;
    size_t n = a->len;
    const char *rule = NULL, *detail = NULL;
    bool known = a->cur_fed;
    switch (a->cur) {
    case FILE_PKCS12:
        if (!known || is_pkcs12(b, n)) {
            rule = "keystore-file";
            detail = "PKCS#12 key store; remove it and mount it at run time";
        }
        break;
    case FILE_JAVA_STORE:
        if (!known || is_pkcs12(b, n) ||
            (n >= 4 &&
             ((b[0] == 0xfe && b[1] == 0xed && b[2] == 0xfe && b[3] == 0xed) ||
              (b[0] == 0xce && b[1] == 0xce && b[2] == 0xce &&
               b[3] == 0xce)))) {
            rule = "keystore-file";
            detail = "Java key store; remove it and mount it at run time";
        }
        break;
    case FILE_KEEPASS:
        if (!known || (n >= 4 && b[0] == 0x03 && b[1] == 0xd9 && b[2] == 0xa2 &&
                       b[3] == 0x9a)) {
            rule = "keepass-database";
            detail = "KeePass password database; remove it from the image";
        }
        break;
    case FILE_DER_KEY: {
        /* PEM keys are the private-key rules' job (they validate the
         * body); by name only a binary DER private key is left, which
         * starts with its version INTEGER. Certificates and public keys
         * start with a nested SEQUENCE instead. */
        size_t h = der_seq_header(b, n);
        if (known && h && n > h && b[h] == 0x02) {
            rule = "der-private-key-file";
            detail = "DER private key; remove it and mount it at run time";
        }
        break;
    }
    default:
        break;
    }
    if (!rule)
        return STW_OK;
    return emit_file(a, a->cur_path, rule,
                     a->cur_third ? STW_SEV_INFO : STW_SEV_HIGH, detail);
}

stw_status stw_artifact_end_file(stw_artifact *a)
{
    file_type t = a->cur;
    a->cur = FILE_NONE;
    if (t == FILE_GIT_CONFIG || t == FILE_HGRC) {
        if (a->cur_fed && a->cur_rec < a->n_recs)
            read_repo_config(a, &a->recs[a->cur_rec], t == FILE_HGRC);
        return STW_OK;
    }
    if (t == FILE_NONE)
        return STW_OK;
    a->cur = t;
    stw_status st = judge_key_store(a);
    a->cur = FILE_NONE;
    return st;
}

stw_status stw_artifact_finish(stw_artifact *a)
{
    stw_status st = flush_pending(a);
    for (size_t i = 0; st == STW_OK && i < a->n_recs; i++)
        st = emit_rec(a, &a->recs[i]);
    return st;
}

uint64_t stw_artifact_looked(const stw_artifact *a)
{
    return a->looked;
}
