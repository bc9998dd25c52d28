/* text.c - the text every renderer shares (report_internal.h): UTF-8
 * handling of untrusted strings, the history line as shown, error lines,
 * and what each rule is called and how to fix it (report.h,
 * stw_report_remediation and the table's one-line form). */
#include "report_internal.h"

#include "common.h"
#include "rules.h"

#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ----------------------------------------------------------------
 */

/* The sequence at s by its shape alone: the length its lead byte announces
 * when all its continuation bytes follow, with the unchecked value in *cp;
 * 0 for a byte that starts no sequence or one cut short. */
static size_t utf8_shape(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t c;
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, c = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, c = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, c = s[0] & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    *cp = c;
    return len;
}

size_t stw_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    uint32_t c = 0;
    size_t len = utf8_shape(s, n, &c);
    if (!len || c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

size_t stw_utf8_skip(const unsigned char *s, size_t n)
{
    uint32_t c;
    size_t len = utf8_shape(s, n, &c);
    return len ? len : 1;
}

bool stw_cp_unsafe(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c < 0xa0) ||
           (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

char *stw_utf8_fix(const char *s, size_t n, size_t *len)
{
    /* Each invalid byte grows to at most 3 bytes. */
    char *buf = stw_malloc(3 * n + 1);
    if (!buf)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = stw_utf8_decode(p + i, n - i, &cp);
        if (l) {
            memcpy(buf + o, p + i, l);
            o += l, i += l;
        } else {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3, i++;
        }
    }
    buf[o] = 0;
    *len = o;
    return buf;
}

size_t stw_utf8_at(const char *s, size_t col)
{
    size_t i = 0;
    for (; s[i] && col > 0; col--) {
        i++;
        while ((s[i] & 0xc0) == 0x80)
            i++;
    }
    return i;
}

/* Columns of a UTF-8 string (one per code point). */
static size_t utf8_width(const char *s, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++)
        w += ((unsigned char)s[i] & 0xc0) != 0x80;
    return w;
}

/* ---- shared text ----------------------------------------------------------
 */

const char *stw_created_by_shown(const char *s)
{
    static const char nop[] = "/bin/sh -c #(nop) ";
    if (!s)
        return "";
    if (strncmp(s, nop, sizeof(nop) - 1) == 0)
        return s + sizeof(nop) - 1;
    return s;
}

char *stw_rerror_text(const stw_rerror *e)
{
    const char *t = e->target ? e->target : "";
    const char *m = e->message ? e->message : "";
    size_t tl = strlen(t);
    bool named = tl == 0 || strncmp(m, t, tl) == 0;
    size_t n = tl + strlen(m) + 3;
    char *text = stw_malloc(n);
    if (text)
        snprintf(text, n, "%s%s%s", named ? "" : t, named ? "" : ": ", m);
    return text;
}

/* ---- rule texts ----------------------------------------------------------
 * The metadata detector has its rules in code, not in signatures/, so the
 * rule set cannot describe them: their text is here. */

typedef struct builtin_rule {
    const char *id, *title, *remediation;
} builtin_rule;

static const builtin_rule builtin_rules[] = {
    {"setuid-file", "Setuid executable",
     "Drop the setuid bit in the final stage (RUN chmod a-s FILE) unless the "
     "program must run as its owner; prefer capabilities or a non-root "
     "user."},
    {"setgid-file", "Setgid executable",
     "Drop the setgid bit in the final stage (RUN chmod a-s FILE) unless the "
     "program must run with its group."},
    {"world-writable-file", "World-writable file",
     "Remove write permission for others in the final stage (RUN chmod o-w "
     "FILE, or COPY --chmod) so no process in the container can alter it."},
    {"world-writable-dir", "World-writable directory without the sticky bit",
     "Remove write permission for others (RUN chmod o-w DIR) or set the "
     "sticky bit as /tmp has (RUN chmod +t DIR)."},
};

static const builtin_rule *builtin_find(const char *id)
{
    for (size_t i = 0; id && i < STW_ARRAY_LEN(builtin_rules); i++)
        if (strcmp(builtin_rules[i].id, id) == 0)
            return &builtin_rules[i];
    return NULL;
}

/* Remediation for a rule that has none of its own. */
static const char *kind_remedy(stw_kind k)
{
    switch (k) {
    case STW_KIND_PRIVATE_KEY:
        return "Remove the key from the image (mount it at run time) and "
               "rotate it.";
    case STW_KIND_CREDENTIAL_FILE:
        return "Remove the file from the image (add it to .dockerignore) and "
               "rotate the credentials it holds.";
    case STW_KIND_ARTIFACT:
        return "Keep it out of the image: list it in .dockerignore or copy "
               "only what the image needs.";
    case STW_KIND_SETUID:
    case STW_KIND_SETGID:
        return "Drop the bit in the final stage (RUN chmod a-s FILE).";
    case STW_KIND_WORLD_WRITABLE:
        return "Remove write permission for others (RUN chmod o-w PATH).";
    case STW_KIND_CONFIG:
        return "Do not pass secrets through ENV or ARG: use a build secret "
               "(RUN --mount=type=secret) or run-time configuration, and "
               "rotate the secret.";
    default:
        return "Remove the secret from the image (pass it at run time or as a "
               "build secret) and revoke it.";
    }
}

const char *stw_rule_title(const stw_rule_info *info, const char *id)
{
    if (info && info->title && *info->title)
        return info->title;
    const builtin_rule *b = builtin_find(id);
    return b ? b->title : id;
}

/* The remediation the rule itself carries, NULL when it has none. */
static const char *own_remedy(const stw_rule_info *info, const char *id)
{
    if (info && info->remediation && *info->remediation)
        return info->remediation;
    const builtin_rule *b = builtin_find(id);
    return b ? b->remediation : NULL;
}

const char *stw_rule_remedy(const stw_rule_info *info, const char *id,
                            stw_kind kind)
{
    const char *text = own_remedy(info, id);
    return text ? text : kind_remedy(kind);
}

const char *stw_report_remediation(const stw_rules *rules, const char *rule,
                                   stw_kind kind)
{
    const stw_rule_info *info =
        rules && rule ? stw_rules_find(rules, rule) : NULL;
    return stw_rule_remedy(info, rule, kind);
}

/* The last component of a path, for "add NAME to .dockerignore". */
static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

/* Short enough for the table's fix line (61 columns): what to do first. */
static void short_remedy(const stw_rfinding *f, char *buf, size_t n)
{
    const char *name = base_name(f->path ? f->path : "");
    bool named = *name && strlen(name) <= 24 && strcmp(name, "<config>") != 0;
    switch (f->kind) {
    case STW_KIND_ARTIFACT:
        if (named) {
            snprintf(buf, n, "add %s to .dockerignore", name);
            return;
        }
        snprintf(buf, n, "add it to .dockerignore; COPY only what you need");
        return;
    case STW_KIND_CREDENTIAL_FILE:
        if (named) {
            snprintf(buf, n, "add %s to .dockerignore, rotate what it holds",
                     name);
            return;
        }
        snprintf(buf, n, "keep it out of the image; rotate what it holds");
        return;
    case STW_KIND_PRIVATE_KEY:
        snprintf(buf, n, "remove the key, mount it at run time, rotate it");
        return;
    case STW_KIND_SETUID:
    case STW_KIND_SETGID:
        snprintf(buf, n, "chmod a-s in the final stage");
        return;
    case STW_KIND_WORLD_WRITABLE:
        snprintf(buf, n, "chmod o-w in the final stage (or COPY --chmod)");
        return;
    case STW_KIND_CONFIG:
        snprintf(buf, n, "use a BuildKit secret mount instead of ARG/ENV");
        return;
    default:
        snprintf(buf, n, "revoke it; pass it at run time or as a build secret");
        return;
    }
}

void stw_report_remediation_line(const stw_rules *rules, const stw_rfinding *f,
                                 size_t max, char *buf, size_t n)
{
    if (!n)
        return;
    if (stw_fold_of(f) == STW_FOLD_TEST_KEY) {
        snprintf(buf, n, "%s", STW_TEST_KEY_FIX);
        return;
    }
    const stw_rule_info *info =
        rules && f->rule ? stw_rules_find(rules, f->rule) : NULL;
    const char *text = own_remedy(info, f->rule);
    if (text) {
        size_t len = strlen(text);
        /* Whole, else its first sentence ("...key. Then..."). */
        const char *dot = strstr(text, ". ");
        if (utf8_width(text, len) > max && dot)
            len = (size_t)(dot - text) + 1;
        if (utf8_width(text, len) <= max && len < n) {
            snprintf(buf, n, "%.*s", (int)len, text);
            return;
        }
    }
    short_remedy(f, buf, n);
}

const char *stw_git_where(const stw_rfinding *f, char *buf, size_t n)
{
    buf[0] = 0;
    if (f->git_source == STW_GIT_NONE)
        return buf;
    const char *commit = f->git_commit ? f->git_commit : "";
    const char *what = f->git_source == STW_GIT_COMMIT_MESSAGE
                           ? "commit message"
                       : f->git_source == STW_GIT_TAG_MESSAGE ? "tag message"
                       : f->git_path && *f->git_path          ? f->git_path
                                                     : "a blob no tree names";
    snprintf(buf, n, "history%s%.7s: %s%s", *commit ? " " : "", commit, what,
             f->git_reachable ? "" : " (unreachable)");
    return buf;
}

/* ---- what a reader need not act on ---------------------------------------
 */

stw_fold stw_fold_of(const stw_rfinding *f)
{
    if ((f->kind == STW_KIND_SETUID || f->kind == STW_KIND_SETGID) &&
        f->severity == STW_SEV_LOW)
        return STW_FOLD_STOCK_PRIVILEGED;
    if (f->severity == STW_SEV_INFO && f->detail &&
        strncmp(f->detail, STW_TEST_KEY_DETAIL, strlen(STW_TEST_KEY_DETAIL)) ==
            0)
        return STW_FOLD_TEST_KEY;
    return STW_FOLD_NONE;
}

int stw_cmp_reading_order(const void *pa, const void *pb)
{
    const stw_rfinding *a = *(const stw_rfinding *const *)pa;
    const stw_rfinding *b = *(const stw_rfinding *const *)pb;
    if (a->image != b->image)
        return a->image < b->image ? -1 : 1;
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    unsigned la = a->layer < 0 ? UINT32_MAX : (unsigned)a->layer;
    unsigned lb = b->layer < 0 ? UINT32_MAX : (unsigned)b->layer;
    if (la != lb)
        return la < lb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int cmp_path_ptr(const void *pa, const void *pb)
{
    const stw_rfinding *a = *(const stw_rfinding *const *)pa;
    const stw_rfinding *b = *(const stw_rfinding *const *)pb;
    int c = strcmp(a->path ? a->path : "", b->path ? b->path : "");
    return c ? c : (a < b ? -1 : a > b);
}

static bool same_path(const stw_rfinding *a, const stw_rfinding *b)
{
    return strcmp(a->path ? a->path : "", b->path ? b->path : "") == 0;
}

/* Whether name is one of the ", "-separated names of list. */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strstr(p, ", ");
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == n && memcmp(p, name, n) == 0)
            return true;
        p += k + (e ? 2 : 0);
    }
    return false;
}

/* Whether f[i + 1..n) names a file other than those in list and b. */
static bool more_names(const stw_rfinding **f, size_t n, size_t i,
                       const char *list, const char *b)
{
    for (size_t j = i + 1; j < n; j++) {
        const char *o = base_name(f[j]->path ? f[j]->path : "");
        if (strcmp(o, b) != 0 && !listed(list, o))
            return true;
    }
    return false;
}

bool stw_fold_line(stw_fold cls, const stw_rfinding **f, size_t n, size_t max,
                   char *buf, size_t cap)
{
    if (!cap)
        return true;
    stw_sort(f, n, sizeof(*f), cmp_path_ptr);
    size_t files = 0;
    for (size_t i = 0; i < n; i++)
        files += i == 0 || !same_path(f[i], f[i - 1]);
    bool setuid = false, setgid = false;
    for (size_t i = 0; i < n; i++) {
        setuid |= f[i]->kind == STW_KIND_SETUID;
        setgid |= f[i]->kind == STW_KIND_SETGID;
    }
    const char *what = setuid && setgid ? "setuid/setgid"
                       : setgid         ? "setgid"
                                        : "setuid";
    char head[96];
    if (cls == STW_FOLD_TEST_KEY)
        snprintf(head, sizeof(head), "%zu published test key%s", n,
                 n == 1 ? "" : "s");
    else
        snprintf(head, sizeof(head), "%zu %s binar%s", files, what,
                 files == 1 ? "y" : "ies");
    /* Names of the files, by their last component, while they fit:
     * "su, passwd, mount" says what kind of files these are at a glance. */
    char *names = stw_malloc(cap);
    if (!names)
        return false;
    size_t len = 0, w = utf8_width(head, strlen(head)) + 2; /* " (" */
    const size_t tail = 4; /* ", …)"; ")" alone after the last name */
    names[0] = 0;
    bool cut = false;
    for (size_t i = 0; i < n && !cut; i++) {
        if (i > 0 && same_path(f[i], f[i - 1]))
            continue;
        const char *b = base_name(f[i]->path ? f[i]->path : "");
        /* The same name in two directories (bin/su, usr/bin/su) once. */
        if (listed(names, b))
            continue;
        size_t bl = strlen(b), bw = utf8_width(b, bl) + (len ? 2 : 0);
        if (len + bl + 3 >= cap ||
            w + bw + (more_names(f, n, i, names, b) ? tail : 1) > max) {
            cut = true;
            break;
        }
        len += (size_t)snprintf(names + len, cap - len, "%s%s", len ? ", " : "",
                                b);
        w += bw;
    }
    if (len)
        snprintf(buf, cap, "%s (%s%s)", head, names,
                 cut ? ", " STW_ELLIPSIS : "");
    else
        snprintf(buf, cap, "%s", head);
    free(names);
    return true;
}
