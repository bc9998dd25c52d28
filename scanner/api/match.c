/* match.c - the public view of the matcher (stowaway.h, "matching a
 * buffer"): a buffer scanned as a file, and the findings it reports read
 * through accessors. The matcher itself is scanner/rules/'s. */
#include "common.h"
#include "matcher.h"
#include "rules.h"

const char *stw_rules_rule_example(const stw_rules *r, size_t i, bool match,
                                   size_t j, const char **path)
{
    const char *text = NULL, *p = NULL;
    if (!r || stw_rules_example(r, i, match, j, &text, &p) != STW_OK)
        return NULL;
    if (path)
        *path = p;
    return text;
}

stw_status stw_matcher_scan(stw_matcher *m, const char *path, const void *data,
                            size_t len, stw_match_fn fn, void *ctx,
                            stw_error *err)
{
    if (!m || !path || (!data && len) || !fn)
        return stw_fail(err, STW_ERR_USAGE, "stw_matcher_scan: NULL");
    return stw_matcher_scan_buffer(m, path, data, len, fn, ctx, err);
}

const char *stw_match_rule(const stw_match *m)
{
    return m->rule ? m->rule : "";
}

stw_kind stw_match_kind(const stw_match *m)
{
    return m->kind;
}

stw_severity stw_match_severity(const stw_match *m)
{
    return m->severity;
}

int64_t stw_match_line(const stw_match *m)
{
    return m->line;
}

int64_t stw_match_offset(const stw_match *m)
{
    return m->offset;
}

const char *stw_match_excerpt(const stw_match *m)
{
    return m->excerpt;
}
