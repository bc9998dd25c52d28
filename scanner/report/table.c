/* table.c - the human-readable table (report.h, stw_report_table): per
 * image its layers with findings, 80 columns, safe for a terminal whatever
 * the image's file names hold. */
#include "report_internal.h"

#include "common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define COLS STW_REPORT_COLUMNS
/* "    critical  ": where a finding's kind/rule column starts. */
#define FINDING_INDENT 14
#define SHORT_DIGEST   19 /* "sha256:" and 12 hex digits */

/* Text made safe for a terminal, with its width in columns (one per code
 * point: wide CJK glyphs may overrun by a column or two, accepted). */
typedef struct cell {
    char *s;
    size_t w;
} cell;

/* Sanitises s into c (malloc'd). squash turns runs of whitespace, newlines
 * included, into one space (history lines are multi-line shell). Returns
 * non-zero on success. */
static int cell_make(cell *c, const char *s, int squash)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    c->s = stw_malloc(n + 1);
    c->w = 0;
    if (!c->s)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    int space = 1; /* drops leading whitespace when squashing */
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t len = stw_utf8_decode(p + i, n - i, &cp);
        if (squash &&
            (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) {
            if (!space)
                c->s[o++] = ' ', c->w++;
            space = 1;
            i++;
            continue;
        }
        space = 0;
        if (!len || stw_cp_unsafe(cp)) {
            c->s[o++] = '?';
            i += len ? len : 1;
        } else {
            memcpy(c->s + o, p + i, len);
            o += len, i += len;
        }
        c->w++;
    }
    while (squash && o > 0 && c->s[o - 1] == ' ')
        o--, c->w--;
    c->s[o] = 0;
    return 1;
}

static void cell_free(cell *c)
{
    free(c->s);
    c->s = NULL;
}

/* Writes c within w columns: whole if it fits, else cut with an ellipsis -
 * at the end, or in the middle (keeping the file name) when middle is set.
 * Returns the columns written. */
static size_t put_cell(FILE *out, const cell *c, size_t w, int middle)
{
    if (c->w <= w) {
        fputs(c->s, out);
        return c->w;
    }
    if (w == 0)
        return 0;
    if (!middle) {
        fprintf(out, "%.*s" STW_ELLIPSIS, (int)stw_utf8_at(c->s, w - 1), c->s);
        return w;
    }
    size_t head = (w - 1) / 4, tail = w - 1 - head;
    size_t tail_at = stw_utf8_at(c->s, c->w - tail);
    fprintf(out, "%.*s" STW_ELLIPSIS "%s", (int)stw_utf8_at(c->s, head), c->s,
            c->s + tail_at);
    return w;
}

/* ANSI colours, used only when the caller asks. */
typedef struct style {
    int on;
} style;

static void sgr(FILE *out, const style *st, const char *code)
{
    if (st->on)
        fprintf(out, "\033[%sm", code);
}

static const char *severity_sgr(stw_severity s)
{
    switch (s) {
    case STW_SEV_CRITICAL:
        return "1;31";
    case STW_SEV_HIGH:
        return "31";
    case STW_SEV_MEDIUM:
        return "33";
    case STW_SEV_LOW:
        return "36";
    default:
        return "2";
    }
}

/* Writes text word-wrapped to COLS, continuation lines indented by indent
 * columns; words longer than a line are cut hard. */
static void put_wrapped(FILE *out, const cell *c, size_t first_indent,
                        size_t indent)
{
    const char *s = c->s;
    size_t col = first_indent;
    fprintf(out, "%*s", (int)first_indent, "");
    while (*s) {
        size_t room = COLS > col ? COLS - col : 1;
        size_t rest = stw_utf8_at(s, room);
        if (!s[rest]) {
            fputs(s, out);
            break;
        }
        /* Break at the last space that fits, if there is one. */
        size_t cut = rest;
        while (cut > 0 && s[cut] != ' ')
            cut--;
        if (cut == 0)
            cut = rest;
        fprintf(out, "%.*s\n%*s", (int)cut, s, (int)indent, "");
        s += cut;
        while (*s == ' ')
            s++;
        col = indent;
    }
    fputc('\n', out);
}

static void short_digest(const char *d, char out[SHORT_DIGEST + 1])
{
    snprintf(out, SHORT_DIGEST + 1, "%s", d ? d : "");
}

static int is_metadata_kind(stw_kind k)
{
    return k == STW_KIND_SETUID || k == STW_KIND_SETGID ||
           k == STW_KIND_WORLD_WRITABLE;
}

/* "ref  platform  config sha256:0123456789ab  N layers" - on one line when
 * it fits, else the ref alone (a long registry path is worth reading whole)
 * and the rest indented below it. */
static int put_image_header(FILE *out, const style *st, const stw_rimage *im)
{
    char sd[SHORT_DIGEST + 1];
    short_digest(im->config_digest, sd);
    cell ref = {0}, plat = {0}, tail = {0};
    int ok = cell_make(&ref, im->ref, 0) && cell_make(&plat, im->platform, 0);
    if (ok) {
        char buf[128];
        snprintf(buf, sizeof(buf), "%.40s%sconfig %s  %zu layer%s", plat.s,
                 plat.w ? "  " : "", sd, im->n_layers,
                 im->n_layers == 1 ? "" : "s");
        ok = cell_make(&tail, buf, 0);
    }
    if (ok) {
        sgr(out, st, "1");
        put_cell(out, &ref, COLS, 1);
        sgr(out, st, "0");
        if (ref.w + 2 + tail.w <= COLS)
            fprintf(out, "  %s\n", tail.s);
        else
            fprintf(out, "\n  %s\n", tail.s);
    }
    cell_free(&ref);
    cell_free(&plat);
    cell_free(&tail);
    return ok;
}

static int put_layer_header(FILE *out, const stw_rimage *im, int layer,
                            const char *digest)
{
    if (layer < 0) {
        fputs("  image config\n", out);
        return 1;
    }
    char sd[SHORT_DIGEST + 1], head[64];
    short_digest(digest, sd);
    int w = snprintf(head, sizeof(head), "  layer %d  %s", layer, sd);
    fputs(head, out);
    const char *cb =
        (size_t)layer < im->n_layers ? im->layers[layer].created_by : NULL;
    cell c = {0};
    if (!cell_make(&c, stw_created_by_shown(cb), 1))
        return 0;
    if (c.w > 0 && w + 2 + 4 <= COLS) {
        fputs("  ", out);
        put_cell(out, &c, (size_t)(COLS - w - 2), 0);
    }
    fputc('\n', out);
    cell_free(&c);
    return 1;
}

/* One finding: "    severity  kind/rule  path[:line]  excerpt-or-mode"
 * within COLS, or the path on a line of its own when that does not fit;
 * then the recoverable-deletion marker and the detail on lines of their
 * own. */
static int put_finding(FILE *out, const style *st, const stw_rfinding *f)
{
    char kr[256], extra[128], pathbuf[32];
    const char *kind = stw_kind_str(f->kind);
    if (f->rule && *f->rule && strcmp(f->rule, kind) != 0)
        snprintf(kr, sizeof(kr), "%s/%s", kind, f->rule);
    else
        snprintf(kr, sizeof(kr), "%s", kind);
    if (is_metadata_kind(f->kind) && f->has_mode)
        snprintf(extra, sizeof(extra), "mode %04o uid %lld gid %lld",
                 (unsigned)(f->mode & 07777), (long long)f->uid,
                 (long long)f->gid);
    else
        snprintf(extra, sizeof(extra), "%s", f->excerpt ? f->excerpt : "");
    pathbuf[0] = 0;
    if (f->line > 0)
        snprintf(pathbuf, sizeof(pathbuf), ":%lld", (long long)f->line);

    cell a = {0}, b = {0}, c = {0};
    /* A history finding: "srv/app/.git  history 3f2a9c1: config/x.env:2" */
    char gw[STW_GIT_WHERE_MAX];
    stw_git_where(f, gw, sizeof(gw));
    size_t plen = strlen(f->path ? f->path : ""), glen = strlen(gw);
    char *path = stw_malloc(plen + 2 + glen + sizeof(pathbuf));
    int ok = path != NULL;
    if (ok)
        snprintf(path, plen + 2 + glen + sizeof(pathbuf), "%s%s%s%s",
                 f->path ? f->path : "", glen ? "  " : "", gw, pathbuf);
    ok = ok && cell_make(&a, kr, 0) && cell_make(&b, path, 0) &&
         cell_make(&c, extra, 0);
    free(path);
    if (!ok) {
        cell_free(&a);
        cell_free(&b);
        cell_free(&c);
        return 0;
    }

    size_t avail = COLS - FINDING_INDENT - 2 - (c.w ? 2 : 0);
    /* One line when it fits. Otherwise the path and the rule id - what a
     * reader greps for and acts on - are never cut: the path goes whole on
     * a line of its own (longer than the terminal if it must be: a cut
     * chain "app.jar!/…!/x" would be useless), and only the excerpt, a
     * redacted hint, is shortened. */
    bool one_line = a.w + b.w + c.w <= avail;
    size_t wc = c.w;
    if (!one_line) {
        size_t room = COLS - FINDING_INDENT - 2 - a.w;
        wc = c.w <= room ? c.w : room > 12 ? room : 12;
    }
    fputs("    ", out);
    sgr(out, st, severity_sgr(f->severity));
    fprintf(out, "%-8s", stw_severity_str(f->severity));
    sgr(out, st, "0");
    fputs("  ", out);
    put_cell(out, &a, a.w, 0);
    if (one_line) {
        fputs("  ", out);
        put_cell(out, &b, b.w, 0);
    }
    if (c.w) {
        fputs("  ", out);
        put_cell(out, &c, wc, 0);
    }
    fputc('\n', out);
    if (!one_line) {
        fprintf(out, "%*s", FINDING_INDENT, "");
        put_cell(out, &b, b.w, 0);
        fputc('\n', out);
    }
    cell_free(&a);
    cell_free(&b);
    cell_free(&c);

    if (f->git_source != STW_GIT_NONE || f->in_history) {
        fprintf(out, "%*s", FINDING_INDENT, "");
        sgr(out, st, "1;35");
        fputs(f->in_history        ? "[also in git history]"
              : f->git_in_worktree ? "[in git history and the work tree]"
                                   : "[only in git history]",
              out);
        sgr(out, st, "0");
        fputc('\n', out);
    }
    if (!f->visible) {
        char mark[96];
        int n = snprintf(mark, sizeof(mark), "[deleted");
        if (f->removed_in_layer >= 0)
            n += snprintf(mark + n, sizeof(mark) - (size_t)n, " in layer %d",
                          f->removed_in_layer);
        if (f->layer >= 0)
            snprintf(mark + n, sizeof(mark) - (size_t)n,
                     " but recoverable from layer %d]", f->layer);
        else
            snprintf(mark + n, sizeof(mark) - (size_t)n, " but recoverable]");
        fprintf(out, "%*s", FINDING_INDENT, "");
        sgr(out, st, "1;35");
        fputs(mark, out);
        sgr(out, st, "0");
        fputc('\n', out);
    }
    if (f->detail && *f->detail) {
        cell d = {0};
        if (!cell_make(&d, f->detail, 1))
            return 0;
        fprintf(out, "%*s", FINDING_INDENT, "");
        put_cell(out, &d, COLS - FINDING_INDENT, 0);
        fputc('\n', out);
        cell_free(&d);
    }
    return 1;
}

/* --show-secrets: the plaintext on a line of its own, whole (the user asked
 * for it), with control and non-ASCII bytes shown as '?' so an image cannot
 * drive the terminal. */
static void put_secret(FILE *out, const style *st, const stw_table_options *o,
                       const stw_rfinding *f)
{
    if (!f->fingerprint || !f->secret_sha256 || !*f->secret_sha256)
        return;
    const char *sec = o->secret_of(o->secret_ctx, f->fingerprint);
    fprintf(out, "%*s", FINDING_INDENT, "");
    sgr(out, st, "1;31");
    fputs("secret: ", out);
    if (!sec) {
        fputs("(not shown: layer reused from the database; rescan with "
              "--no-db)",
              out);
    } else {
        for (const unsigned char *p = (const unsigned char *)sec; *p; p++)
            fputc(*p >= 0x20 && *p < 0x7f ? *p : '?', out);
    }
    sgr(out, st, "0");
    fputc('\n', out);
}

static int cmp_layer_digest(const void *pa, const void *pb)
{
    const char *a = (*(const stw_rlayer *const *)pa)->digest;
    const char *b = (*(const stw_rlayer *const *)pb)->digest;
    return strcmp(a ? a : "", b ? b : "");
}

/* Distinct layer digests over all images, and how many of those this scan
 * reused from the store: images sharing a base layer count it once. */
static int count_layers(const stw_results *r, size_t *layers, size_t *cached)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_images; i++)
        n += r->images[i].n_layers;
    *layers = *cached = 0;
    if (n == 0)
        return 1;
    const stw_rlayer **v = stw_malloc(n * sizeof(*v));
    if (!v)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < r->n_images; i++)
        for (size_t j = 0; j < r->images[i].n_layers; j++)
            v[k++] = &r->images[i].layers[j];
    stw_sort(v, n, sizeof(*v), cmp_layer_digest);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int any_cached = 0;
        for (; j < n && cmp_layer_digest(&v[i], &v[j]) == 0; j++)
            any_cached |= v[j]->cached;
        (*layers)++;
        *cached += (size_t)any_cached;
        i = j;
    }
    free(v);
    return 1;
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static void put_summary(FILE *out, const stw_results *r, size_t layers,
                        size_t cached)
{
    size_t by_sev[STW_SEV_COUNT_] = {0}, hidden = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        if ((unsigned)r->findings[i].severity < STW_SEV_COUNT_)
            by_sev[r->findings[i].severity]++;
        hidden += !r->findings[i].visible;
    }
    char line[512];
    int n = snprintf(line, sizeof(line),
                     "%zu image%s, %zu layer%s (%zu cached), %zu finding%s",
                     r->n_images, plural(r->n_images), layers, plural(layers),
                     cached, r->n_findings, plural(r->n_findings));
    const char *sep = ": ";
    for (int s = STW_SEV_COUNT_ - 1; s >= 0; s--) {
        if (!by_sev[s])
            continue;
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%zu %s", sep,
                      by_sev[s], stw_severity_str((stw_severity)s));
        sep = ", ";
    }
    cell c = {.s = line, .w = strlen(line)}; /* ASCII only */
    put_wrapped(out, &c, 0, 2);
    if (hidden)
        fprintf(out, "%zu of them deleted in a later layer but recoverable\n",
                hidden);
}

static int put_errors(FILE *out, const style *st, const stw_results *r)
{
    if (r->n_errors == 0)
        return 1;
    sgr(out, st, "1;31");
    fputs("errors:", out);
    sgr(out, st, "0");
    fputc('\n', out);
    for (size_t i = 0; i < r->n_errors; i++) {
        char *text = stw_rerror_text(&r->errors[i]);
        if (!text)
            return 0;
        cell c = {0};
        int ok = cell_make(&c, text, 1);
        free(text);
        if (!ok)
            return 0;
        put_wrapped(out, &c, 2, 4);
        cell_free(&c);
    }
    return 1;
}

/* Under a finding: "fix: ..." cut to the line. 0 when out of memory. */
static int put_fix(FILE *out, const style *st, const stw_table_options *o,
                   const stw_rfinding *f)
{
    char buf[256];
    size_t room = COLS - FINDING_INDENT - 5;
    stw_report_remediation_line(o->rules, f, room, buf, sizeof(buf));
    cell c = {0};
    if (!cell_make(&c, buf, 1))
        return 0;
    fprintf(out, "%*s", FINDING_INDENT, "");
    sgr(out, st, "32");
    fputs("fix: ", out);
    sgr(out, st, "0");
    put_cell(out, &c, room, 0);
    fputc('\n', out);
    cell_free(&c);
    return 1;
}

/* A finding at its place in the printed order, for marking fix lines. */
typedef struct placed {
    const stw_rfinding *f;
    size_t pos;
} placed;

static int cmp_layer_rule_pos(const void *pa, const void *pb)
{
    const placed *a = pa, *b = pb;
    if (a->f->layer != b->f->layer)
        return a->f->layer < b->f->layer ? -1 : 1;
    int c = strcmp(a->f->rule ? a->f->rule : "", b->f->rule ? b->f->rule : "");
    if (c)
        return c;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

/* Marks in first[] the first printed finding of each rule within each
 * layer of f[0..n): where the table puts that rule's fix line, so a rule
 * found fifty times in a layer says how to fix it once. */
static int mark_first_of_rule(const stw_rfinding **f, size_t n,
                              unsigned char *first)
{
    placed *v = stw_malloc((n ? n : 1) * sizeof(*v));
    if (!v)
        return 0;
    for (size_t i = 0; i < n; i++)
        v[i] = (placed){f[i], i};
    stw_sort(v, n, sizeof(*v), cmp_layer_rule_pos);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || cmp_layer_rule_pos(&(placed){v[i].f, 0},
                                         &(placed){v[i - 1].f, 0}) != 0)
            first[v[i].pos] = 1;
    free(v);
    return 1;
}

static int cmp_layer_then_ptr(const void *pa, const void *pb)
{
    const stw_rfinding *a = *(const stw_rfinding *const *)pa;
    const stw_rfinding *b = *(const stw_rfinding *const *)pb;
    unsigned la = a->layer < 0 ? UINT32_MAX : (unsigned)a->layer;
    unsigned lb = b->layer < 0 ? UINT32_MAX : (unsigned)b->layer;
    if (la != lb)
        return la < lb ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* One line per layer and class for the folded findings fold[0..n) of one
 * image: "  layer 0: 10 setuid/setgid binaries (su, passwd, …) - -v lists
 * them". Reorders fold. */
static int put_folded(FILE *out, const style *st, const stw_rfinding **fold,
                      size_t n)
{
    stw_sort(fold, n, sizeof(*fold), cmp_layer_then_ptr);
    static const char more[] = " - -v lists them";
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && fold[b]->layer == fold[a]->layer)
            b++;
        char where[32];
        if (fold[a]->layer < 0)
            snprintf(where, sizeof(where), "  image config: ");
        else
            snprintf(where, sizeof(where), "  layer %d: ", fold[a]->layer);
        for (int cls = 1; cls < STW_FOLD_COUNT_; cls++) {
            /* The layer's findings of this class, moved to its front. */
            size_t k = a;
            for (size_t i = a; i < b; i++)
                if (stw_fold_of(fold[i]) == (stw_fold)cls) {
                    const stw_rfinding *t = fold[k];
                    fold[k++] = fold[i];
                    fold[i] = t;
                }
            if (k == a)
                continue;
            char line[COLS * 4 + 1];
            size_t room = COLS - strlen(where) - (sizeof(more) - 1);
            if (!stw_fold_line((stw_fold)cls, fold + a, k - a, room, line,
                               sizeof(line)))
                return 0;
            cell c = {0};
            if (!cell_make(&c, line, 1))
                return 0;
            fputs(where, out);
            sgr(out, st, "2");
            put_cell(out, &c, room, 0);
            fputs(more, out);
            sgr(out, st, "0");
            fputc('\n', out);
            cell_free(&c);
            /* The rest of the layer keeps its order for the next class. */
            stw_sort(fold + k, b - k, sizeof(*fold), cmp_layer_then_ptr);
            a = k;
        }
        a = b;
    }
    return 1;
}

/* Findings f[0..n) of one image in reading order. Unless o->verbose, the
 * folded ones are moved behind the others, each part keeping its order,
 * and *n_shown says how many come before them. Returns 0 when out of
 * memory. */
static int split_folded(const stw_table_options *o, const stw_rfinding **f,
                        size_t n, size_t *n_shown)
{
    *n_shown = n;
    if (o->verbose || n == 0)
        return 1;
    const stw_rfinding **folded = stw_malloc(n * sizeof(*folded));
    if (!folded)
        return 0;
    size_t k = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        if (stw_fold_of(f[i]) == STW_FOLD_NONE)
            f[k++] = f[i];
        else
            folded[m++] = f[i];
    }
    memcpy(f + k, folded, m * sizeof(*f));
    free(folded);
    *n_shown = k;
    return 1;
}

static int put_image(FILE *out, const style *st, const stw_table_options *o,
                     const stw_results *r, size_t img, const stw_rfinding **f,
                     size_t n)
{
    size_t shown;
    if (!split_folded(o, f, n, &shown))
        return 0;
    unsigned char *first = NULL;
    if (o->remediation && shown) {
        first = stw_calloc(shown, 1);
        if (!first || !mark_first_of_rule(f, shown, first)) {
            free(first);
            return 0;
        }
    }
    int ok = 1;
    if (img < r->n_images) {
        if (!put_image_header(out, st, &r->images[img])) {
            free(first);
            return 0;
        }
    } else {
        fprintf(out, "image #%zu (missing from the results)\n", img);
    }
    static const stw_rimage none = {0};
    const stw_rimage *im = img < r->n_images ? &r->images[img] : &none;
    if (n == 0)
        fputs("  no findings\n", out);
    for (size_t i = 0; i < shown && ok; i++) {
        if ((i == 0 || f[i]->layer != f[i - 1]->layer) &&
            !put_layer_header(out, im, f[i]->layer, f[i]->layer_digest))
            ok = 0;
        else if (!put_finding(out, st, f[i]))
            ok = 0;
        else if (o->secret_of)
            put_secret(out, st, o, f[i]);
        else if (first && first[i] && !put_fix(out, st, o, f[i]))
            ok = 0;
    }
    if (ok && shown < n)
        ok = put_folded(out, st, f + shown, n - shown);
    free(first);
    return ok;
}

stw_status stw_report_table(const stw_results *r, bool color, FILE *out,
                            stw_error *err)
{
    stw_table_options o = {.color = color};
    return stw_report_table_ex(r, &o, out, err);
}

stw_status stw_report_table_ex(const stw_results *r,
                               const stw_table_options *opt, FILE *out,
                               stw_error *err)
{
    static const stw_table_options defaults = {0};
    const stw_table_options *o = opt ? opt : &defaults;
    const style st = {o->color};
    size_t layers, cached;
    const stw_rfinding **f = NULL;
    if (!count_layers(r, &layers, &cached))
        goto nomem;
    if (r->n_findings == 0) {
        if (!put_errors(out, &st, r))
            goto nomem;
        fprintf(out, "no findings in %zu image%s (%zu layer%s)\n", r->n_images,
                plural(r->n_images), layers, plural(layers));
        return stw_report_finish(out, err);
    }

    f = stw_malloc(r->n_findings * sizeof(*f));
    if (!f)
        goto nomem;
    for (size_t i = 0; i < r->n_findings; i++)
        f[i] = &r->findings[i];
    stw_sort(f, r->n_findings, sizeof(*f), stw_cmp_reading_order);

    size_t at = 0;
    for (size_t img = 0; img < r->n_images || at < r->n_findings;) {
        if (img >= r->n_images)
            img = f[at]->image; /* findings naming no listed image */
        size_t end = at;
        while (end < r->n_findings && f[end]->image == img)
            end++;
        if (img > 0 || at > 0)
            fputc('\n', out);
        if (!put_image(out, &st, o, r, img, f + at, end - at))
            goto nomem;
        at = end;
        img++;
    }
    fputc('\n', out);
    if (!put_errors(out, &st, r))
        goto nomem;
    put_summary(out, r, layers, cached);
    free(f);
    return stw_report_finish(out, err);
nomem:
    free(f);
    return stw_fail(err, STW_ERR_NOMEM, "rendering report: out of memory");
}
