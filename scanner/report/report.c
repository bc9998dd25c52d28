/* report.c - the report stage's entry (report.h): format names, the one
 * call that renders results in a chosen format, the counts --fail-on gates
 * on, and the check every renderer ends with. The formats themselves are
 * table.c, json.c, sarif.c and html.c; what they share is text.c. */
#include "report_internal.h"

#include "common.h"

#include <errno.h>
#include <string.h>

stw_status stw_report_format_parse(const char *s, stw_report_format *out)
{
    if (s && strcmp(s, "table") == 0)
        *out = STW_REPORT_TABLE;
    else if (s && strcmp(s, "json") == 0)
        *out = STW_REPORT_JSON;
    else if (s && strcmp(s, "sarif") == 0)
        *out = STW_REPORT_SARIF;
    else if (s && strcmp(s, "html") == 0)
        *out = STW_REPORT_HTML;
    else
        return STW_ERR_USAGE;
    return STW_OK;
}

stw_status stw_report_write(const stw_results *r, stw_report_format format,
                            const stw_table_options *opt, FILE *out,
                            stw_error *err)
{
    const stw_rules *rules = opt ? opt->rules : NULL;
    switch (format) {
    case STW_REPORT_JSON:
        return stw_report_json(r, out, err);
    case STW_REPORT_SARIF:
        return stw_report_sarif(r, rules, out, err);
    case STW_REPORT_HTML:
        return stw_report_html(r, rules, out, err);
    default:
        return stw_report_table_ex(r, opt, out, err);
    }
}

size_t stw_report_count_at_least(const stw_results *r, stw_severity min)
{
    return stw_report_count_gating(r, min, true);
}

size_t stw_report_count_gating(const stw_results *r, stw_severity min,
                               bool include_hidden)
{
    size_t n = 0;
    for (size_t i = 0; r && i < r->n_findings; i++)
        n += r->findings[i].severity >= min &&
             (include_hidden || r->findings[i].visible);
    return n;
}

stw_status stw_report_finish(FILE *out, stw_error *err)
{
    if (fflush(out) != 0 || ferror(out)) {
        char buf[128];
        return stw_fail(err, STW_ERR_IO, "writing report: %s",
                        stw_strerror(errno, buf, sizeof(buf)));
    }
    return STW_OK;
}
