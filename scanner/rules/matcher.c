/* matcher.c - per-thread content and path matching against a shared
 * stw_rules.
 *
 * A file streams through one window buffer of STW_SCAN_CHUNK +
 * STW_SCAN_OVERLAP bytes. Each time it fills, it is scanned and its last
 * STW_SCAN_OVERLAP bytes are carried to the front; the rest of the file is
 * scanned once at end (most files never fill the buffer). Each scan owns a
 * half-open range of match *start* offsets [accept_lo, accept_hi): a
 * non-final scan only reports matches starting before the carried tail
 * (plus STW_SCAN_CONTEXT, which the next scan keeps as look-behind), and
 * the next scan starts reporting exactly there. So every match start
 * belongs to one scan, each match up to STW_SCAN_OVERLAP - STW_SCAN_CONTEXT
 * bytes long is seen whole, and the result does not depend on how the
 * content was split into feeds.
 *
 * Within a scan: vectorscan reports keyword (or prefilter) hits; each hit
 * becomes a window [hit - STW_SCAN_HIT_BEFORE, hit + STW_SCAN_HIT_AFTER]
 * for its rule (a start_at_hit rule's match must also start in
 * [hit - before, hit]: a PCRE2 offset limit); a rule's windows are merged
 * and its PCRE2 program runs over them, left to right, never re-reading
 * what a match consumed. Path regexes are prefiltered by one vectorscan
 * scan of the path. Matches are
 * then sorted by offset, filtered (placeholder, entropy, allow rules,
 * validator) and emitted with lines counted lazily up to each match. */
#include "matcher.h"

#include "common.h"
#include "decode.h"
#include "limits.h"
#include "ruleload.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

/* A confirmation window of one rule, buffer-relative: a match starts in
 * [lo, smax] and ends by hi. smax = hi unless the rule is start_at_hit. */
typedef struct interval {
    size_t lo, smax, hi;
} interval;

typedef struct rule_hits {
    interval *v;
    size_t n, cap;
    bool unsorted; /* a window was added left of the last one */
} rule_hits;

/* A confirmed match, buffer-relative; the secret is [sec_lo, sec_hi). */
typedef struct match {
    uint32_t rule;
    size_t start, end, sec_lo, sec_hi;
    size_t body_lo, body_hi; /* placeholder/entropy span; = secret if none */
    stw_validity validity;
    bool keep; /* passed every filter */
} match;

/* Windows kept per rule before they are sorted and merged: merged windows
 * are disjoint and mostly STW_SCAN_HIT_BEFORE + STW_SCAN_HIT_AFTER wide, so
 * after a merge far fewer than this remain. */
#define HITS_COMPACT 1024

struct stw_matcher {
    const stw_rules *rules;
    hs_scratch_t *scratch;   /* for every database of rules */
    const stw_prefilter *pf; /* the set whose scan is running */
    bool path_set_on;        /* a rule of rules->content_path is on */
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_match_context *mctx_lim; /* mctx plus an offset limit: matches
                                      of start_at_hit rules only */
    pcre2_jit_stack *jit;

    unsigned char *buf; /* STW_SCAN_CHUNK + STW_SCAN_OVERLAP bytes */
    /* What a scan reads: buf, or a caller's whole file scanned in place
     * (stw_matcher_scan_buffer), never written through. */
    const unsigned char *text;
    size_t len;         /* bytes of text */
    uint64_t base;      /* file offset of buf[0] */
    uint64_t accept_lo; /* matches starting before this were handled */
    uint64_t nl_pos;    /* newlines before this file offset ... */
    uint64_t nl_count;  /* ... number this many */

    const char *path;
    /* What path rules see: the path inside the innermost archive for a
     * member of one ("app.jar!/BOOT-INF/x.properties" -> the part after the
     * last "!/"), so application.properties or .npmrc rules match a member
     * as they match a layer file. Points into path. */
    const char *rpath;
    /* "/" + rpath: Trivy writes image paths with a leading slash, so a
     * path regex is tried on both forms ("^/var/log/" and "^var/log/" both
     * name var/log/x). */
    char *spath;
    size_t spath_cap;
    stw_finding_fn fn;
    void *ctx;
    bool active;
    /* Why generic findings of this file are info by its path (a test or
     * examples tree, a documentation file), or NULL. */
    const char *path_note;
    stw_status failed; /* sticky: a failed file accepts no more feeds */

    unsigned char *rule_on;  /* per rule: applies to the current path */
    unsigned char *path_hit; /* per path slot: PCRE2 must decide it */
    rule_hits *hits;         /* per rule */
    uint32_t *touched;       /* rules with hits in the current scan */
    size_t n_touched;
    match *found;
    size_t n_found, cap_found;
    char *norm; /* normalised secret scratch */
    size_t norm_cap;
    bool scan_failed; /* set by the callback on allocation failure */
    bool global_off;  /* an allow rule turned every rule off for the path */

    /* Decode and rescan (decode.h): the encoded values of the current file,
     * found when its last scan sees it whole; each is scanned as text of
     * its own (sub), and claimed[i] says whether value i spoke for itself
     * - a finding, or a placeholder - so the file's own match on its
     * encoded form is dropped; an unclaimed one is reported as the
     * decoded credential. */
    stw_decoded_set dec;
    bool dec_on; /* dec holds the current file's values */
    unsigned char *claimed;
    size_t claimed_cap;
    const stw_decoded *sub; /* the value being scanned, NULL for the file */
    /* The content scan of a file seen whole also asks decode.h's gate
     * (gate_on); gate_hit says it passed. */
    bool gate_on, gate_hit;
    bool sub_emitted;
    char detail[512]; /* a value's detail and a test-fixture note */

    /* Regex match limit (confirm()): per rule, the regex compiled again
     * with PCRE2_USE_OFFSET_LIMIT, on first need, to find where a window
     * that hit the limit turns hostile; NULL until then. */
    pcre2_code **retry_re;
    pcre2_match_context *mctx_probe; /* mctx plus a moving offset limit */
    size_t probes_left;              /* per file: STW_REGEX_RETRY_PROBES */
    size_t lim_starts;               /* per file: start offsets not decided */
    uint32_t lim_rule;               /* the first rule that hit the limit */
    char **notes;                    /* one per file that hit it */
    size_t n_notes;
};

#define WINDOW_CAP ((size_t)STW_SCAN_CHUNK + STW_SCAN_OVERLAP)

void stw_matcher_destroy(stw_matcher *m)
{
    if (!m)
        return;
    hs_free_scratch(m->scratch);
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mctx);
    pcre2_match_context_free(m->mctx_lim);
    pcre2_jit_stack_free(m->jit);
    free(m->buf);
    free(m->rule_on);
    free(m->path_hit);
    if (m->hits) {
        for (size_t i = 0; i < m->rules->n_rules; i++)
            free(m->hits[i].v);
    }
    free(m->hits);
    free(m->touched);
    free(m->found);
    free(m->norm);
    free(m->spath);
    stw_decoded_set_free(&m->dec);
    free(m->claimed);
    if (m->retry_re) {
        for (size_t i = 0; i < m->rules->n_rules; i++)
            pcre2_code_free(m->retry_re[i]);
    }
    free(m->retry_re);
    pcre2_match_context_free(m->mctx_probe);
    stw_matcher_clear_notes(m);
    free(m);
}

void stw_matcher_clear_notes(stw_matcher *m)
{
    for (size_t i = 0; i < m->n_notes; i++)
        free(m->notes[i]);
    free(m->notes);
    m->notes = NULL;
    m->n_notes = 0;
}

size_t stw_matcher_notes(const stw_matcher *m, const char *const **notes)
{
    *notes = (const char *const *)m->notes;
    return m->n_notes;
}

/* Turns the current file's undecided start offsets into its note. Past
 * STW_MAX_NOTES_PER_LAYER the note is not kept: the layer caps its notes
 * at the same count and its last line says more were dropped. A note
 * that cannot be allocated fails the file, so the report never looks
 * complete when it is not. */
static stw_status note_file(stw_matcher *m, stw_error *err)
{
    if (m->lim_starts == 0)
        return STW_OK;
    const stw_rule *r = &m->rules->rules[m->lim_rule];
    size_t n = m->lim_starts;
    m->lim_starts = 0;
    if (m->n_notes >= STW_MAX_NOTES_PER_LAYER)
        return STW_OK;
    char msg[512];
    snprintf(msg, sizeof(msg),
             "%.300s: rule '%.64s': the regex hit its match limit; matches "
             "starting at %zu offset(s) were not checked",
             m->path, r->id, n);
    char **v = stw_realloc(m->notes, (m->n_notes + 1) * sizeof(*v));
    char *c = v ? stw_strdup(msg) : NULL;
    if (v)
        m->notes = v;
    if (!c)
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", m->path);
    m->notes[m->n_notes++] = c;
    return STW_OK;
}

stw_status stw_matcher_create(const stw_rules *rules, stw_matcher **out,
                              stw_error *err)
{
    *out = NULL;
    stw_matcher *m = stw_calloc(1, sizeof(*m));
    if (!m)
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    m->rules = rules;
    size_t n = rules->n_rules ? rules->n_rules : 1;
    m->buf = stw_malloc(WINDOW_CAP);
    m->text = m->buf;
    m->rule_on = stw_calloc(n, 1);
    m->path_hit = stw_calloc(rules->n_path_slots ? rules->n_path_slots : 1, 1);
    m->hits = stw_calloc(n, sizeof(*m->hits));
    m->touched = stw_calloc(n, sizeof(*m->touched));
    m->md = pcre2_match_data_create(rules->max_captures + 1, NULL);
    m->mctx = pcre2_match_context_create(NULL);
    m->mctx_lim = pcre2_match_context_create(NULL);
    m->mctx_probe = pcre2_match_context_create(NULL);
    m->retry_re = stw_calloc(n, sizeof(*m->retry_re));
    m->jit = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    if (!m->buf || !m->rule_on || !m->path_hit || !m->hits || !m->touched ||
        !m->md || !m->mctx || !m->mctx_lim || !m->mctx_probe || !m->retry_re ||
        !m->jit) {
        stw_matcher_destroy(m);
        return stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    pcre2_jit_stack_assign(m->mctx, NULL, m->jit);
    pcre2_set_match_limit(m->mctx, STW_REGEX_MATCH_LIMIT);
    pcre2_jit_stack_assign(m->mctx_lim, NULL, m->jit);
    pcre2_set_match_limit(m->mctx_lim, STW_REGEX_MATCH_LIMIT);
    pcre2_jit_stack_assign(m->mctx_probe, NULL, m->jit);
    pcre2_set_match_limit(m->mctx_probe, STW_REGEX_MATCH_LIMIT);
    if ((rules->content.db &&
         hs_alloc_scratch(rules->content.db, &m->scratch) != HS_SUCCESS) ||
        (rules->content_path.db &&
         hs_alloc_scratch(rules->content_path.db, &m->scratch) != HS_SUCCESS) ||
        (rules->path_db &&
         hs_alloc_scratch(rules->path_db, &m->scratch) != HS_SUCCESS)) {
        stw_matcher_destroy(m);
        return stw_fail(err, STW_ERR_NOMEM,
                        "cannot allocate vectorscan scratch");
    }
    *out = m;
    return STW_OK;
}

static bool re_matches(stw_matcher *m, const pcre2_code *re, const char *s,
                       size_t n)
{
    return pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, m->md, m->mctx) >= 0;
}

/* A path regex matches the path as written here or with a leading "/". */
static bool path_re_matches(stw_matcher *m, const pcre2_code *re, size_t plen)
{
    return re_matches(m, re, m->rpath, plen) ||
           re_matches(m, re, m->spath, plen + 1);
}

/* A path regex with a prefilter slot that neither form of the path
 * reported cannot match: PCRE2 is skipped. */
static bool path_matches(stw_matcher *m, const pcre2_code *re, uint32_t slot,
                         size_t plen)
{
    if (slot && !m->path_hit[slot])
        return false;
    return path_re_matches(m, re, plen);
}

/* An allow rule that has only a path suppresses its rule for the file. */
static bool path_allowed(stw_matcher *m, const stw_allow *a, size_t n,
                         size_t plen)
{
    for (size_t i = 0; i < n; i++) {
        if (!a[i].re && a[i].path_re &&
            path_matches(m, a[i].path_re, a[i].path_slot, plen))
            return true;
    }
    return false;
}

static int on_path_hit(unsigned int id, unsigned long long from,
                       unsigned long long to, unsigned int flags, void *ctx)
{
    (void)from;
    (void)to;
    (void)flags;
    ((stw_matcher *)ctx)->path_hit[id] = 1;
    return 0;
}

/* Fills path_hit for the current path: the slots vectorscan reports plus
 * those it cannot decide. */
static void prefilter_path(stw_matcher *m, size_t plen)
{
    const stw_rules *rs = m->rules;
    if (!rs->n_path_slots)
        return;
    if (!rs->path_db || plen == 0 || plen >= UINT32_MAX ||
        hs_scan(rs->path_db, m->rpath, (unsigned)plen, 0, m->scratch,
                on_path_hit, m) != HS_SUCCESS ||
        hs_scan(rs->path_db, m->spath, (unsigned)plen + 1, 0, m->scratch,
                on_path_hit, m) != HS_SUCCESS) {
        memset(m->path_hit, 1, rs->n_path_slots); /* PCRE2 decides all */
    }
}

static stw_status emit(stw_matcher *m, stw_finding *f, stw_error *err)
{
    m->sub_emitted |= m->sub != NULL;
    stw_status st = m->fn(m->ctx, f);
    if (st != STW_OK) {
        m->failed = st;
        stw_fail(err, st, "%s: finding sink failed: %s", m->path,
                 stw_status_str(st));
    }
    return st;
}

stw_status stw_matcher_begin(stw_matcher *m, const char *path, uint64_t size,
                             stw_finding_fn fn, void *ctx, stw_error *err)
{
    (void)size; /* the window is fixed; size is only a hint */
    m->path = path ? path : "";
    m->rpath = m->path;
    for (const char *b = strstr(m->path, "!/"); b; b = strstr(b + 2, "!/"))
        m->rpath = b + 2;
    m->fn = fn;
    m->ctx = ctx;
    m->len = 0;
    m->base = 0;
    m->accept_lo = 0;
    m->nl_pos = 0;
    m->nl_count = 0;
    m->failed = STW_OK;
    m->active = true;
    m->probes_left = STW_REGEX_RETRY_PROBES;
    m->lim_starts = 0;
    m->path_note = stw_tree_note(m->path);
    if (!m->path_note)
        m->path_note = stw_file_note(m->path);
    const stw_rules *rs = m->rules;
    size_t plen = strlen(m->rpath);
    if (plen + 2 > m->spath_cap) {
        char *p = stw_realloc(m->spath, plen + 2);
        if (!p) {
            m->active = false;
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        }
        m->spath = p;
        m->spath_cap = plen + 2;
    }
    m->spath[0] = '/';
    memcpy(m->spath + 1, m->rpath, plen + 1);
    if (rs->n_path_slots)
        memcpy(m->path_hit, rs->path_always, rs->n_path_slots);
    prefilter_path(m, plen);
    bool global_off = path_allowed(m, rs->allows, rs->n_allows, plen);
    m->global_off = global_off;
    m->dec_on = false;
    m->path_set_on = false;
    memset(m->rule_on, !global_off, rs->n_rules);
    if (global_off)
        return STW_OK;
    for (size_t k = 0; k < rs->n_path_rules; k++) {
        const stw_rule *r = &rs->rules[rs->path_rules[k]];
        bool on =
            (!r->path_re || path_matches(m, r->path_re, r->path_slot, plen)) &&
            !path_allowed(m, r->allows, r->n_allows, plen);
        m->rule_on[rs->path_rules[k]] = on;
        m->path_set_on |=
            on && r->path_re &&
            (r->mode == STW_MODE_KEYWORD || r->mode == STW_MODE_PREFILTER);
        if (on && r->mode == STW_MODE_PATH_ONLY) {
            stw_finding f = {.path = m->path,
                             .kind = r->info.kind,
                             .rule = r->id,
                             .severity = r->info.severity,
                             .line = 0,
                             .offset = -1,
                             .secret_offset = -1};
            stw_status st = emit(m, &f, err);
            if (st != STW_OK)
                return st;
        }
    }
    return STW_OK;
}

static int cmp_interval(const void *a, const void *b)
{
    const interval *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Whether window b (b.lo >= a.lo) joins window a: their start ranges
 * overlap or touch. For a window without a start limit (smax = hi) that is
 * the plain overlap of the two. */
static bool joins(const interval *a, const interval *b)
{
    return b->lo <= a->smax;
}

static void join(interval *a, const interval *b)
{
    if (b->smax > a->smax)
        a->smax = b->smax;
    if (b->hi > a->hi)
        a->hi = b->hi;
}

/* Sorts a rule's windows and merges joining ones. Windows arrive in order
 * of hit end, so they are out of order only across keywords of different
 * lengths: the sort is needed rarely, and then nearly sorted already. */
static void merge_windows(rule_hits *h)
{
    /* In order, each window was already tried against the one before it
     * (add_window), which never changes again: nothing left to join. */
    if (h->n < 2 || !h->unsorted)
        return;
    stw_sort(h->v, h->n, sizeof(*h->v), cmp_interval);
    h->unsorted = false;
    size_t k = 0;
    for (size_t i = 1; i < h->n; i++) {
        if (joins(&h->v[k], &h->v[i]))
            join(&h->v[k], &h->v[i]);
        else
            h->v[++k] = h->v[i];
    }
    h->n = k + 1;
}

/* Records a confirmation window for rule r. */
static int add_window(stw_matcher *m, uint32_t r, size_t lo, size_t smax,
                      size_t hi)
{
    rule_hits *h = &m->hits[r];
    interval w = {lo, smax, hi};
    if (h->n == 0)
        m->touched[m->n_touched++] = r;
    else {
        interval *last = &h->v[h->n - 1];
        if (lo >= last->lo && joins(last, &w)) {
            join(last, &w);
            return 0;
        }
        if (lo < last->lo)
            h->unsorted = true;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        interval *v = stw_realloc(h->v, cap * sizeof(*v));
        if (!v) {
            m->scan_failed = true;
            return 1; /* stops the vectorscan scan */
        }
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = w;
    if (h->n >= HITS_COMPACT) {
        /* Out-of-order hits (several keywords) defeat the merge with the
         * last window; sort and merge so memory stays bounded. */
        merge_windows(h);
    }
    return 0;
}

/* Opens a window for one target of a hit ending at `to`. */
static int open_window(stw_matcher *m, const stw_pattern *p, size_t end)
{
    const stw_rule *r = &m->rules->rules[p->rule];
    size_t lo, hi, smax;
    if (p->is_regex) {
        /* A prefilter report is a possible match end. */
        lo = end > r->hit_after ? end - r->hit_after : 0;
        hi = end + r->hit_before;
        smax = hi;
    } else {
        end -= p->tail; /* the keyword ends before its keyword-next byte */
        size_t start = end >= p->kwlen ? end - p->kwlen : 0;
        lo = start > r->hit_before ? start - r->hit_before : 0;
        hi = end + r->hit_after;
        smax = r->start_at_hit ? start : hi;
    }
    if (hi > m->len)
        hi = m->len;
    if (smax > hi)
        smax = hi;
    return add_window(m, p->rule, lo, smax, hi);
}

static int on_hit(unsigned int id, unsigned long long from,
                  unsigned long long to, unsigned int flags, void *ctx)
{
    (void)from; /* no start-of-match tracking: it costs speed */
    (void)flags;
    stw_matcher *m = ctx;
    const stw_prefilter *pf = m->pf;
    if (id >= pf->n_ids) {
        m->gate_hit |=
            m->gate_on &&
            stw_decode_gate_hit(id - (unsigned)pf->n_ids, (const char *)m->text,
                                m->len, (size_t)to);
        return 0;
    }
    for (uint32_t k = pf->first[id]; k < pf->first[id + 1]; k++) {
        const stw_pattern *p = &pf->targets[k];
        if (m->rule_on[p->rule] && open_window(m, p, (size_t)to) != 0)
            return 1;
    }
    return 0;
}

/* Runs one prefilter set over the window buffer. */
static stw_status prefilter(stw_matcher *m, const stw_prefilter *pf,
                            stw_error *err)
{
    if (!pf->db)
        return STW_OK;
    m->pf = pf;
    hs_error_t e = hs_scan(pf->db, (const char *)m->text, (unsigned)m->len, 0,
                           m->scratch, on_hit, m);
    if (m->scan_failed)
        return stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", m->path);
    if (e != HS_SUCCESS)
        return stw_fail(err, STW_ERR_RULES, "%s: vectorscan error %d", m->path,
                        (int)e);
    return STW_OK;
}

static stw_status push_match(stw_matcher *m, const match *x, stw_error *err)
{
    if (m->n_found == m->cap_found) {
        size_t cap = m->cap_found ? m->cap_found * 2 : 16;
        match *v = stw_realloc(m->found, cap * sizeof(*v));
        if (!v)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        m->found = v;
        m->cap_found = cap;
    }
    m->found[m->n_found++] = *x;
    return STW_OK;
}

/* Whether pcre2_match gave up rather than answered. */
static bool limit_hit(int rc)
{
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
           rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
}

/* Rule ri's regex able to take an offset limit: its own for a start_at_hit
 * rule, else compiled again by this matcher on first need (the shared rule
 * set stays as it is, and rules that never hit the limit never pay for
 * the option). NULL if that compile fails (memory). */
static const pcre2_code *probe_re(stw_matcher *m, uint32_t ri)
{
    const stw_rule *r = &m->rules->rules[ri];
    if (r->start_at_hit)
        return r->re;
    if (!m->retry_re[ri]) {
        int code;
        PCRE2_SIZE off;
        pcre2_code *re =
            pcre2_compile((PCRE2_SPTR)r->regex_src, PCRE2_ZERO_TERMINATED,
                          PCRE2_USE_OFFSET_LIMIT, &code, &off, NULL);
        if (re)
            pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        m->retry_re[ri] = re;
    }
    return m->retry_re[ri];
}

#define GAVE_UP SIZE_MAX

/* Rule ri's regex hit the match limit on text[0, hi) trying the start
 * offsets start..last. pcre2_match tries them in order, so the offsets
 * before the first hostile one p hold no match: p is found by bisection
 * over an offset limit, probing `start` itself first (a hostile run is met
 * one offset after the other). Returns a match's rc (md filled) if a probe
 * finds one, else a negative rc with *p the hostile offset, or GAVE_UP
 * when the file's probes are spent or the probing regex is missing. */
static int locate(stw_matcher *m, uint32_t ri, size_t hi, size_t start,
                  size_t last, uint32_t opts, size_t *p)
{
    const pcre2_code *re = probe_re(m, ri);
    *p = GAVE_UP;
    if (!re)
        return PCRE2_ERROR_MATCHLIMIT;
    size_t ok = start, bad = last; /* starts < ok are clean; bad is not */
    size_t mid = start;
    while (ok < bad) {
        if (m->probes_left == 0)
            return PCRE2_ERROR_MATCHLIMIT;
        m->probes_left--;
        pcre2_set_offset_limit(m->mctx_probe, mid);
        int rc =
            pcre2_match(re, m->text, hi, start, opts, m->md, m->mctx_probe);
        if (rc >= 0)
            return rc;
        if (limit_hit(rc))
            bad = mid;
        else
            ok = mid + 1;
        mid = ok + (bad - ok) / 2;
    }
    *p = bad;
    return PCRE2_ERROR_MATCHLIMIT;
}

/* Counts the start offsets [lo, hi] this scan owns among those a limit
 * left undecided: the file's note says how many. */
static void undecided(stw_matcher *m, uint32_t ri, size_t lo, size_t hi,
                      bool final, uint64_t accept_hi)
{
    uint64_t a = m->base + lo, b = m->base + hi + 1;
    if (a < m->accept_lo)
        a = m->accept_lo;
    if (!final && b > accept_hi)
        b = accept_hi;
    if (a >= b)
        return;
    if (m->lim_starts == 0)
        m->lim_rule = ri;
    m->lim_starts += (size_t)(b - a);
}

/* Runs rule r's regex over its merged windows. A window whose regex hits
 * the match limit is narrowed, not dropped: the offset where it turns
 * hostile is found and skipped, and the rest of the window tried again.
 * What stays undecided (that offset; the whole rest once the file's
 * STW_REGEX_RETRY_PROBES are spent) is counted for the file's note. */
static stw_status confirm(stw_matcher *m, uint32_t ri, bool final,
                          uint64_t accept_hi, stw_error *err)
{
    const stw_rule *r = &m->rules->rules[ri];
    rule_hits *h = &m->hits[ri];
    merge_windows(h);
    size_t next = 0;
    for (size_t w = 0; w < h->n; w++) {
        size_t hi = h->v[w].hi, smax = h->v[w].smax;
        size_t start = h->v[w].lo > next ? h->v[w].lo : next;
        uint32_t opts = hi < m->len ? PCRE2_NOTEOL : 0;
        /* Without a start limit the last start tried is hi - 1 (an empty
         * match reports nothing). */
        size_t last = r->start_at_hit ? smax : hi - 1;
        pcre2_match_context *mc = m->mctx;
        if (r->start_at_hit) {
            mc = m->mctx_lim;
            pcre2_set_offset_limit(mc, smax);
        }
        while (start <= last && start < hi) {
            int rc = pcre2_match(r->re, m->text, hi, start, opts, m->md, mc);
            if (limit_hit(rc)) {
                size_t lim = last < hi ? last : hi - 1, p;
                rc = locate(m, ri, hi, start, lim, opts, &p);
                if (rc < 0 && p == GAVE_UP) {
                    undecided(m, ri, start, lim, final, accept_hi);
                    break;
                }
                if (rc < 0) {
                    undecided(m, ri, p, p, final, accept_hi);
                    start = p + 1;
                    continue;
                }
            }
            if (rc < 0)
                break; /* no match in the window */
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
            size_t s = ov[0], e = ov[1];
            if (e <= s) {
                start = s + 1; /* empty matches report nothing */
                continue;
            }
            if (!final && m->base + s >= accept_hi)
                return STW_OK; /* the next scan owns it, and all after */
            if (m->base + s >= m->accept_lo) {
                match x = {
                    .rule = ri, .start = s, .end = e, .sec_lo = s, .sec_hi = e};
                if (r->secret_group && (uint32_t)rc > r->secret_group &&
                    ov[2 * r->secret_group] != PCRE2_UNSET) {
                    x.sec_lo = ov[2 * r->secret_group];
                    x.sec_hi = ov[2 * r->secret_group + 1];
                }
                x.body_lo = x.sec_lo;
                x.body_hi = x.sec_hi;
                if (r->body_group && (uint32_t)rc > r->body_group &&
                    ov[2 * r->body_group] != PCRE2_UNSET) {
                    x.body_lo = ov[2 * r->body_group];
                    x.body_hi = ov[2 * r->body_group + 1];
                }
                stw_status st = push_match(m, &x, err);
                if (st != STW_OK)
                    return st;
            }
            start = next = e;
        }
    }
    return STW_OK;
}

static int cmp_match(const void *a, const void *b)
{
    const match *x = a, *y = b;
    if (x->start != y->start)
        return (x->start > y->start) - (x->start < y->start);
    return (x->rule > y->rule) - (x->rule < y->rule);
}

/* Newlines in p[0, n). Text has one every few dozen bytes, so a memchr()
 * per line costs a call each; a plain counting loop is vectorised with a
 * 64-bit counter per lane, a quarter or less of a vector's bytes. Byte
 * counters, emptied before they can wrap, keep all of them. */
static uint64_t count_newlines(const unsigned char *p, size_t n)
{
    enum { LANES = 32, ROUNDS = 255 };
    uint64_t c = 0;
    while (n >= LANES) {
        size_t k = n / LANES < ROUNDS ? n / LANES : ROUNDS;
        unsigned char acc[LANES] = {0};
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < LANES; j++)
                acc[j] += p[i * LANES + j] == '\n';
        for (size_t j = 0; j < LANES; j++)
            c += acc[j];
        p += k * LANES;
        n -= k * LANES;
    }
    for (size_t i = 0; i < n; i++)
        c += p[i] == '\n';
    return c;
}

/* Counts newlines up to buffer position pos (>= nl_pos - base). */
static void advance_lines(stw_matcher *m, size_t pos)
{
    const unsigned char *p = m->text + (m->nl_pos - m->base);
    m->nl_count += count_newlines(p, (size_t)(m->text + pos - p));
    m->nl_pos = m->base + pos;
}

/* Private keys: the same key pasted as PEM, as a JSON string with "\n"
 * escapes or as an indented YAML block must hash the same, so line breaks
 * and their escapes are removed before hashing. Returns the secret to use. */
static const char *normalise(stw_matcher *m, const char *s, size_t *n)
{
    if (*n > m->norm_cap) {
        char *p = stw_realloc(m->norm, *n);
        if (!p)
            return s; /* hash the raw form rather than fail the file */
        m->norm = p;
        m->norm_cap = *n;
    }
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '\\' && i + 1 < *n && (s[i + 1] == 'n' || s[i + 1] == 'r')) {
            i++;
            continue;
        }
        m->norm[k++] = c;
    }
    *n = k;
    return m->norm;
}

/* The line around buffer position pos, bounded to 1 KiB either side. */
static void line_around(const stw_matcher *m, size_t pos, size_t *lo,
                        size_t *hi)
{
    size_t a = pos, b = pos;
    while (a > 0 && pos - a < 1024 && m->text[a - 1] != '\n')
        a--;
    while (b < m->len && b - pos < 1024 && m->text[b] != '\n')
        b++;
    *lo = a;
    *hi = b;
}

/* An allow rule with a regex suppresses a match when the regex matches the
 * secret, the whole match or its line (and, if it also has a path, the
 * path matches too). */
static bool match_allowed(stw_matcher *m, const stw_allow *a, size_t n,
                          const match *x)
{
    for (size_t i = 0; i < n; i++) {
        if (!a[i].re)
            continue;
        if (a[i].path_re && !path_re_matches(m, a[i].path_re, strlen(m->rpath)))
            continue;
        size_t llo, lhi;
        line_around(m, x->start, &llo, &lhi);
        const char *b = (const char *)m->text;
        if (re_matches(m, a[i].re, b + x->sec_lo, x->sec_hi - x->sec_lo) ||
            re_matches(m, a[i].re, b + x->start, x->end - x->start) ||
            re_matches(m, a[i].re, b + llo, lhi - llo))
            return true;
    }
    return false;
}

/* Trivy's exclude-block: a secret inside a match of one of the regexes
 * (a "--- ignore start --- ... --- ignore stop ---" block) is dropped.
 * Blocks are searched in the scan window, so one that does not fit in
 * STW_SCAN_OVERLAP bytes around the secret may not be seen whole. */
static bool excluded(stw_matcher *m, pcre2_code *const *re, size_t n,
                     const match *x)
{
    for (size_t i = 0; i < n; i++) {
        size_t start = 0;
        while (start <= x->sec_lo) {
            if (pcre2_match(re[i], m->text, m->len, start, 0, m->md, m->mctx) <
                0)
                break;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
            if (ov[0] > x->sec_lo)
                break;
            if (ov[1] >= x->sec_hi)
                return true;
            start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
        }
    }
    return false;
}

/* The secret as hashed: private keys normalised (see normalise()). */
static const char *secret_of(stw_matcher *m, const match *x, size_t *n)
{
    const stw_rule *r = &m->rules->rules[x->rule];
    const char *sec = (const char *)m->text + x->sec_lo;
    *n = x->sec_hi - x->sec_lo;
    if (r->info.kind == STW_KIND_PRIVATE_KEY)
        sec = normalise(m, sec, n);
    return sec;
}

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '$' ||
           c == '-';
}

/* Whether generic match x assigns a name its own spelling: the key is the
 * run of name characters the match starts with (a generic rule's match
 * starts at its key). */
static bool echoes_key(const stw_matcher *m, const match *x)
{
    const char *t = (const char *)m->text;
    size_t e = x->start;
    while (e < x->sec_lo && name_char((unsigned char)t[e]))
        e++;
    return stw_is_name_echo(t + x->start, e - x->start, t + x->sec_lo,
                            x->sec_hi - x->sec_lo);
}

/* Runs the filters on one match, in the order signatures/README.md gives:
 * placeholder, name echo (generic rules), entropy, allow rules, validator.
 * Sets x->keep. */
static void judge(stw_matcher *m, match *x)
{
    const stw_rule *r = &m->rules->rules[x->rule];
    x->keep = false;
    size_t n;
    const char *sec = secret_of(m, x, &n);
    const char *body = sec;
    size_t bn = n;
    if (r->body_group) {
        body = (const char *)m->text + x->body_lo;
        bn = x->body_hi - x->body_lo;
    }
    if (stw_is_placeholder(sec, n) ||
        (body != sec && stw_is_placeholder(body, bn)))
        return;
    if (r->generic && echoes_key(m, x))
        return;
    if (r->entropy > 0 && stw_entropy(body, bn) < r->entropy)
        return;
    if (match_allowed(m, r->allows, r->n_allows, x) ||
        match_allowed(m, m->rules->allows, m->rules->n_allows, x))
        return;
    if (excluded(m, r->exclude_re, r->exclude_src.n, x) ||
        excluded(m, m->rules->excludes, m->rules->n_excludes, x))
        return;
    /* The validator sees the secret again: normalise() shares one buffer. */
    sec = secret_of(m, x, &n);
    x->validity = r->validate ? r->validate(sec, n) : STW_VALID_UNKNOWN;
    x->keep = x->validity != STW_VALID_NO;
}

/* Whether match o speaks for its secret over a generic rule: it passed
 * every filter, or an issuer's checksum rejected it (a ghp_ string with a
 * wrong CRC is no token, and a generic rule must not report it instead). */
static bool claims_secret(const stw_matcher *m, const match *o)
{
    const stw_rule *r = &m->rules->rules[o->rule];
    if (r->generic)
        return false;
    return o->keep || (r->checksum && o->validity == STW_VALID_NO);
}

/* A generic rule (password = "...") yields to a specific one that reports
 * an overlapping secret: one finding per secret, under its precise name.
 * found[] is sorted by match start and a generic match starts at its key
 * name, before the value, so the scan looks both ways a bounded distance. */
static void drop_generic_overlaps(stw_matcher *m)
{
    const size_t reach = 64; /* neighbours examined each way */
    for (size_t i = 0; i < m->n_found; i++) {
        match *g = &m->found[i];
        if (!g->keep || !m->rules->rules[g->rule].generic)
            continue;
        size_t lo = i > reach ? i - reach : 0;
        size_t hi = i + reach < m->n_found ? i + reach : m->n_found;
        for (size_t j = lo; j < hi; j++) {
            const match *o = &m->found[j];
            if (j == i || !claims_secret(m, o))
                continue;
            if (o->sec_lo < g->sec_hi && g->sec_lo < o->sec_hi) {
                g->keep = false;
                break;
            }
        }
    }
}

static int cmp_known_hash(const void *key, const void *elem)
{
    return strcmp(key, ((const stw_known_key *)elem)->sha256);
}

/* The rule of a Kubernetes Secret's data, which the decoder's reading of
 * the manifest overrides (report()). */
#define SECRET_DATA_RULE "kubernetes-secret-data"

/* Where a finding is and what it holds, before the rule set's judgement
 * of its severity. */
typedef struct spot {
    const char *sec;
    size_t n;
    int64_t line, offset, sec_offset, sec_len;
    bool validated;
    const stw_decoded *v; /* the decoded value it was found in, or NULL */
} spot;

static stw_status report_spot(stw_matcher *m, const stw_rule *r, const spot *p,
                              stw_error *err)
{
    stw_finding f = {.path = m->path,
                     .kind = r->info.kind,
                     .rule = r->id,
                     .severity = r->info.severity,
                     .line = p->line,
                     .offset = p->offset,
                     .validated = p->validated,
                     .generic = r->generic,
                     .secret = p->sec,
                     .secret_n = p->n,
                     .secret_offset = p->sec_offset,
                     .secret_len = p->sec_len};
    stw_finding_set_secret(&f, p->sec, p->n);
    const char *where = p->v ? p->v->detail : NULL;
    f.detail = where;
    const stw_known_key *k = NULL;
    if (m->rules->n_known) {
        k = bsearch(f.secret_sha256, m->rules->known, m->rules->n_known,
                    sizeof(*m->rules->known), cmp_known_hash);
        if (k) {
            f.severity = STW_SEV_INFO;
            f.detail = k->detail;
        }
    }
    /* A generic rule cannot tell a test's credential from a real one by
     * its format, so a test tree or a value of test words makes it info
     * (still listed). A validated match, and every rule that knows its
     * format, keep their severity in a test tree too. */
    if (r->generic && !f.validated && !k) {
        const char *note = NULL;
        if (m->path_note)
            note = m->path_note;
        else if (stw_is_fixture_value(p->sec, p->n))
            note = "test fixture: the value is made of test words";
        if (note) {
            f.severity = STW_SEV_INFO;
            f.detail = note;
            if (where) {
                snprintf(m->detail, sizeof(m->detail), "%s; %s", where, note);
                f.detail = m->detail;
            }
        }
    }
    return emit(m, &f, err);
}

/* The decoded value of the current file whose encoded form holds x's
 * secret, or NULL. */
static const stw_decoded *value_holding(const stw_matcher *m, const match *x,
                                        size_t *idx)
{
    if (!m->dec_on || m->sub)
        return NULL;
    for (size_t i = 0; i < m->dec.n; i++) {
        const stw_decoded *v = &m->dec.v[i];
        if (v->lo <= x->sec_lo && x->sec_hi <= v->hi) {
            *idx = i;
            return v;
        }
    }
    return NULL;
}

static stw_status report(stw_matcher *m, const match *x, stw_error *err)
{
    const stw_rule *r = &m->rules->rules[x->rule];
    size_t n;
    const char *sec = secret_of(m, x, &n);
    size_t vi = 0;
    const stw_decoded *v = value_holding(m, x, &vi);
    if (v && m->claimed[vi])
        return STW_OK; /* its decoded form spoke for it */
    /* The rule that stands for a Secret's data approximates the manifest
     * with a regex (a ConfigMap's data next to a Secret in a List fools
     * it); where the decoder read the manifest, only its values count. */
    if (!v && m->dec_on && !m->sub && strcmp(r->id, SECRET_DATA_RULE) == 0)
        return STW_OK;
    spot p = {.sec = sec,
              .n = n,
              .offset = (int64_t)(m->base + x->start),
              .validated = x->validity == STW_VALID_YES,
              .sec_offset = (int64_t)(m->base + x->sec_lo),
              .sec_len = (int64_t)(x->sec_hi - x->sec_lo),
              .v = m->sub};
    if (m->sub) {
        /* Found in a decoded value: at the value's line in the file. */
        p.line = m->sub->line;
        p.offset = p.sec_offset = (int64_t)m->sub->lo;
        p.sec_len = (int64_t)(m->sub->hi - m->sub->lo);
    } else if (v) {
        /* The encoded form of a value that holds nothing the rules know:
         * still reported, as the credential it decodes to. */
        p.sec = v->text + v->cred_lo;
        p.n = v->cred_hi - v->cred_lo;
        p.line = v->line;
        p.v = v;
    } else {
        advance_lines(m, x->start);
        p.line = (int64_t)m->nl_count + 1;
    }
    return report_spot(m, r, &p, err);
}

static stw_status scan_window(stw_matcher *m, bool final, stw_error *err);

/* The rule a Docker config's decoded auth is reported under when no rule
 * finds anything in it (a password has no format): that of config.json,
 * or of a legacy .dockercfg. -1 when the rule set has none. */
static int auth_rule(const stw_matcher *m, bool legacy)
{
    const char *id = legacy ? "dockercfg-auth" : "docker-config-auth";
    for (size_t i = 0; i < m->rules->n_rules; i++)
        if (strcmp(m->rules->rules[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* Whether a decoded value holds no credential: a placeholder, test words
 * ("changeme", "example-password"), or what is public by design - the
 * certificate next to a kubernetes.io/tls key, a CA bundle. */
static bool stand_in(const stw_decoded *v)
{
    static const char *const public_pem[] = {"-----BEGIN CERTIFICATE-----",
                                             "-----BEGIN PUBLIC KEY-----"};
    const char *c = v->text + v->cred_lo;
    size_t n = v->cred_hi - v->cred_lo;
    for (size_t i = 0; i < STW_ARRAY_LEN(public_pem); i++) {
        size_t k = strlen(public_pem[i]);
        if (n >= k && memcmp(c, public_pem[i], k) == 0)
            return true;
    }
    /* A whole file (a .dockercfg, a .env) is judged by what the rules find
     * in it: "example" in a URL there says nothing of its secrets. */
    if (memchr(c, '\n', n))
        return false;
    return n == 0 || stw_is_placeholder(c, n) || stw_is_fixture_value(c, n);
}

/* Decode and rescan: the current file is whole in text (its last scan);
 * the encoded values it holds (decode.h) are each scanned as text of
 * their own, their findings placed at the value's line. Fills claimed[]
 * for report(). */
static stw_status scan_decoded(stw_matcher *m, stw_error *err)
{
    stw_decoded_set_clear(&m->dec);
    stw_status st =
        stw_decode_manifests((const char *)m->text, m->len, &m->dec, err);
    if (st != STW_OK || m->dec.n == 0)
        return st;
    if (m->dec.n > m->claimed_cap) {
        unsigned char *c = stw_realloc(m->claimed, m->dec.n);
        if (!c)
            return stw_fail(err, STW_ERR_NOMEM, "out of memory");
        m->claimed = c;
        m->claimed_cap = m->dec.n;
    }
    memset(m->claimed, 0, m->dec.n);
    const unsigned char *text = m->text;
    size_t len = m->len;
    uint64_t base = m->base, accept_lo = m->accept_lo;
    uint64_t nl_pos = m->nl_pos, nl_count = m->nl_count;
    for (size_t i = 0; st == STW_OK && i < m->dec.n; i++) {
        const stw_decoded *v = &m->dec.v[i];
        m->sub = v;
        m->sub_emitted = false;
        m->text = (const unsigned char *)v->text;
        m->len = v->len;
        m->base = m->accept_lo = m->nl_pos = m->nl_count = 0;
        st = scan_window(m, true, err);
        int r = v->docker_auth ? auth_rule(m, v->legacy) : -1;
        if (st == STW_OK && !m->sub_emitted && r >= 0 && !m->global_off &&
            !stand_in(v)) {
            /* user:password: the password is the credential. */
            spot p = {.sec = v->text + v->cred_lo,
                      .n = v->cred_hi - v->cred_lo,
                      .line = v->line,
                      .offset = (int64_t)v->lo,
                      .sec_offset = (int64_t)v->lo,
                      .sec_len = (int64_t)(v->hi - v->lo),
                      .v = v};
            st = report_spot(m, &m->rules->rules[r], &p, err);
        }
        m->claimed[i] = m->sub_emitted || stand_in(v);
    }
    m->sub = NULL;
    m->text = text;
    m->len = len;
    m->base = base;
    m->accept_lo = accept_lo;
    m->nl_pos = nl_pos;
    m->nl_count = nl_count;
    m->dec_on = st == STW_OK;
    return st;
}

/* Scans buf[0, len). A non-final scan reports matches starting before
 * accept_hi only. */
static stw_status scan_window(stw_matcher *m, bool final, stw_error *err)
{
    const stw_rules *rs = m->rules;
    uint64_t accept_hi =
        final ? UINT64_MAX
              : m->base + m->len - STW_SCAN_OVERLAP + STW_SCAN_CONTEXT;
    if (m->len == 0)
        return STW_OK;
    const stw_prefilter *pf = &rs->content;
    /* A file seen whole may hold encoded values. Its content scan tells
     * (the gate); without a content database a pass of its own does. */
    bool whole = final && m->base == 0 && !m->sub && !m->global_off;
    m->gate_on = whole && pf->n_gates > 0;
    m->gate_hit = whole && !m->gate_on &&
                  stw_decode_worth_trying((const char *)m->text, m->len);
    m->n_touched = 0;
    m->n_found = 0;
    m->scan_failed = false;
    stw_status st = prefilter(m, pf, err);
    m->gate_on = false;
    if (st == STW_OK && m->gate_hit) {
        /* The encoded values go first, so that the file's own matches on
         * their encoded form know what they held; their scans reuse the
         * window lists, so the file's are collected again after. Rare:
         * only Secrets and Docker configs pass the gate. */
        for (size_t i = 0; i < m->n_touched; i++) {
            m->hits[m->touched[i]].n = 0;
            m->hits[m->touched[i]].unsorted = false;
        }
        m->n_touched = 0;
        st = scan_decoded(m, err);
        if (st != STW_OK)
            return st;
        m->n_touched = 0;
        m->n_found = 0;
        m->scan_failed = false;
        st = prefilter(m, pf, err);
    }
    if (st == STW_OK && m->path_set_on)
        st = prefilter(m, &rs->content_path, err);
    for (size_t i = 0; st == STW_OK && i < rs->n_full_rules; i++) {
        uint32_t r = rs->full_rules[i];
        if (m->rule_on[r] && add_window(m, r, 0, m->len, m->len) != 0)
            st = stw_fail(err, STW_ERR_NOMEM, "%s: out of memory", m->path);
    }
    for (size_t i = 0; st == STW_OK && i < m->n_touched; i++)
        st = confirm(m, m->touched[i], final, accept_hi, err);
    for (size_t i = 0; i < m->n_touched; i++)
        m->hits[m->touched[i]].n = 0;
    m->n_touched = 0;
    if (st != STW_OK)
        return st;
    if (m->n_found > 1)
        stw_sort(m->found, m->n_found, sizeof(*m->found), cmp_match);
    for (size_t i = 0; i < m->n_found; i++) {
        if (i > 0 && m->found[i].start == m->found[i - 1].start &&
            m->found[i].rule == m->found[i - 1].rule)
            m->found[i].keep = false;
        else
            judge(m, &m->found[i]);
    }
    drop_generic_overlaps(m);
    for (size_t i = 0; st == STW_OK && i < m->n_found; i++) {
        if (m->found[i].keep)
            st = report(m, &m->found[i], err);
    }
    m->n_found = 0;
    m->accept_lo = accept_hi;
    if (final && !m->sub) {
        m->dec_on = false;
        if (st == STW_OK)
            st = note_file(m, err);
    }
    return st;
}

/* Keeps the last STW_SCAN_OVERLAP bytes as the start of the next window,
 * counting the newlines of what is dropped first. */
static void carry(stw_matcher *m)
{
    size_t drop = m->len - STW_SCAN_OVERLAP;
    if (m->nl_pos < m->base + drop)
        advance_lines(m, drop);
    memmove(m->buf, m->buf + drop, STW_SCAN_OVERLAP);
    m->base += drop;
    m->len = STW_SCAN_OVERLAP;
}

stw_status stw_matcher_feed(stw_matcher *m, const void *data, size_t len,
                            stw_error *err)
{
    if (!m->active)
        return stw_fail(err, STW_ERR_USAGE, "matcher: feed without begin");
    if (m->failed != STW_OK)
        return m->failed;
    const unsigned char *p = data;
    while (len > 0) {
        size_t room = WINDOW_CAP - m->len;
        size_t k = len < room ? len : room;
        memcpy(m->buf + m->len, p, k);
        m->len += k;
        p += k;
        len -= k;
        if (m->len == WINDOW_CAP) {
            stw_status st = scan_window(m, false, err);
            if (st != STW_OK) {
                m->failed = st;
                return st;
            }
            carry(m);
        }
    }
    return STW_OK;
}

stw_status stw_matcher_end(stw_matcher *m, stw_error *err)
{
    if (!m->active)
        return stw_fail(err, STW_ERR_USAGE, "matcher: end without begin");
    m->active = false;
    if (m->failed != STW_OK)
        return m->failed;
    stw_status st = scan_window(m, true, err);
    m->len = 0;
    return st;
}

stw_status stw_matcher_scan_buffer(stw_matcher *m, const char *path,
                                   const void *data, size_t len,
                                   stw_finding_fn fn, void *ctx, stw_error *err)
{
    stw_status st = stw_matcher_begin(m, path, len, fn, ctx, err);
    if (st == STW_OK && len <= WINDOW_CAP) {
        /* One final scan sees it all: no need to copy it into buf. */
        m->active = false;
        m->text = data;
        m->len = len;
        st = scan_window(m, true, err);
        m->text = m->buf;
        m->len = 0;
        return st;
    }
    if (st == STW_OK)
        st = stw_matcher_feed(m, data, len, err);
    if (st == STW_OK)
        return stw_matcher_end(m, err);
    m->active = false;
    return st;
}
