/* html.c - the HTML report (report.h, stw_report_html): one
 * self-contained page a security team can open from a CI artefact, with no
 * network access. Everything that came from an image is escaped here, in
 * one function, html_text(); the page's script only reads data-* attributes
 * that hold names from fixed lists (severities, kinds). */
#include "report_internal.h"

#include "common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Writes s as HTML text or attribute content: markup characters become
 * entities, invalid UTF-8 and control characters (other than newline and
 * tab) become U+FFFD, and bidi overrides are dropped to U+FFFD too so a file
 * name cannot reorder what the reader sees. */
static void html_text(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    const unsigned char *end = p + strlen((const char *)p);
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            switch (c) {
            case '&':
                fputs("&amp;", out);
                break;
            case '<':
                fputs("&lt;", out);
                break;
            case '>':
                fputs("&gt;", out);
                break;
            case '"':
                fputs("&quot;", out);
                break;
            case '\'':
                fputs("&#39;", out);
                break;
            case '\n':
            case '\t':
                fputc(c, out);
                break;
            default:
                if (c < 0x20 || c == 0x7f)
                    fputs("\xef\xbf\xbd", out);
                else
                    fputc(c, out);
            }
            p++;
            continue;
        }
        uint32_t cp = 0;
        size_t len = stw_utf8_decode(p, (size_t)(end - p), &cp);
        if (len && !stw_cp_unsafe(cp)) {
            fwrite(p, 1, len, out);
            p += len;
        } else {
            /* One replacement for a sequence that is well formed but
             * invalid (overlong, surrogate) or unsafe (C1, bidi). */
            fputs("\xef\xbf\xbd", out);
            p += stw_utf8_skip(p, (size_t)(end - p));
        }
    }
}

/* "1.2 MB" style sizes. */
static void put_size(FILE *out, int64_t n)
{
    if (n < 0)
        fputs("size unknown", out);
    else if (n < 1000)
        fprintf(out, "%lld B", (long long)n);
    else if (n < 1000000)
        fprintf(out, "%.1f kB", (double)n / 1e3);
    else if (n < 1000000000)
        fprintf(out, "%.1f MB", (double)n / 1e6);
    else
        fprintf(out, "%.2f GB", (double)n / 1e9);
}

static const char css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;"
    "background:#f5f6f8}"
    "header{background:#1d2330;color:#fff;padding:12px 24px}"
    "header h1{margin:0;font-size:20px}"
    "header .meta{opacity:.8;margin:2px 0 0}"
    "#filters{padding:10px 24px;background:#fff;border-bottom:1px solid "
    "#dde;position:sticky;top:0;z-index:1}"
    "#filters fieldset{display:inline-block;border:0;margin:0 16px 0 0;"
    "padding:0}"
    "#filters legend{font-weight:600;float:left;margin-right:6px}"
    "#filters label{margin-right:8px;white-space:nowrap}"
    "main{padding:8px 24px 24px}"
    ".image{background:#fff;border:1px solid #dde;border-radius:6px;"
    "margin:14px 0;padding:10px 16px}"
    ".image h2{margin:4px 0;font-size:17px;word-break:break-all}"
    ".image .ids{color:#667;font-size:12px;word-break:break-all}"
    "ol.layers{list-style:none;padding:0;margin:8px 0}"
    ".layer{border-left:4px solid #cfd3dc;margin:6px 0;padding:4px 10px}"
    ".layer.has-findings{border-left-color:#c0392b}"
    ".lhead{display:flex;gap:12px;align-items:baseline;flex-wrap:wrap}"
    ".lhead .idx{font-weight:700;color:#667}"
    ".lhead code{white-space:pre-wrap;word-break:break-all;flex:1 1 300px;"
    "background:#f0f1f4;padding:1px 4px;border-radius:3px}"
    ".lhead .size,.lhead .digest{color:#667;font-size:12px}"
    "table.findings{border-collapse:collapse;width:100%;margin:4px 0}"
    "table.findings td{padding:3px 6px;border-top:1px solid #eef;"
    "vertical-align:top;word-break:break-all}"
    "td.sev{font-weight:700;white-space:nowrap;word-break:normal}"
    ".sev-critical td.sev{color:#fff;background:#8e1b10}"
    ".sev-high td.sev{color:#c0392b}.sev-medium td.sev{color:#b9770e}"
    ".sev-low td.sev{color:#1f78b4}.sev-info td.sev{color:#667}"
    "td.path{font-family:ui-monospace,monospace}"
    ".deleted{display:inline-block;background:#6c3483;color:#fff;"
    "border-radius:3px;padding:0 5px;font-size:12px;margin-left:4px}"
    ".fix{color:#1e8449;font-size:13px}"
    ".detail{color:#667;font-size:12px}"
    ".none{color:#667}"
    "details.fold{margin:4px 0;color:#667}"
    "details.fold summary{cursor:pointer}"
    "tr.finding[hidden],tr.fixrow[hidden]{display:none}"
    "#errors{background:#fdecea;border:1px solid #e6b0aa;border-radius:6px;"
    "padding:8px 16px;margin:14px 0}"
    "footer{padding:0 24px 24px;color:#667}";

/* The filters: checkboxes by severity and kind, and "deleted only". The
 * state can also come from the URL fragment (#severity=high,critical&
 * kind=secret&deleted=1), so a link can share a filtered view. */
static const char script[] =
    "(function(){\n"
    "var q=function(s){return Array.prototype.slice.call("
    "document.querySelectorAll(s));};\n"
    "function fromHash(){var h=location.hash.replace(/^#/,'');"
    "if(!h)return;h.split('&').forEach(function(kv){var p=kv.split('=');"
    "var k=decodeURIComponent(p[0]),v=decodeURIComponent(p[1]||'');"
    "if(k==='severity'||k==='kind'){var want=v.split(',');"
    "q('input[data-filter='+k+']').forEach(function(c){"
    "c.checked=want.indexOf(c.value)>=0;});}"
    "if(k==='deleted'){document.getElementById('f-deleted').checked="
    "v==='1';}});}\n"
    "function apply(){var on={severity:{},kind:{}};"
    "q('input[data-filter]').forEach(function(c){"
    "on[c.getAttribute('data-filter')][c.value]=c.checked;});"
    "var del=document.getElementById('f-deleted').checked;var shown=0;"
    "q('tr.finding').forEach(function(tr){var ok=on.severity["
    "tr.getAttribute('data-severity')]&&on.kind[tr.getAttribute("
    "'data-kind')]&&(!del||tr.getAttribute('data-visible')==='false');"
    "tr.hidden=!ok;var fx=document.getElementById('fix-'+tr.id);"
    "if(fx)fx.hidden=!ok;if(ok)shown++;});"
    "q('li.layer').forEach(function(li){var n=li.querySelectorAll("
    "'tr.finding:not([hidden])').length;var c=li.querySelector('.count');"
    "if(c)c.textContent=n+' shown';});"
    "document.getElementById('shown').textContent=shown;"
    "document.body.setAttribute('data-shown',shown);}\n"
    "fromHash();q('#filters input').forEach(function(c){"
    "c.addEventListener('change',apply);});apply();\n"
    "})();\n";

/* The kind the page files a finding under: what it is, except that
 * everything found in the image config is "config", so that filter shows
 * exactly the config section and its count is what the section lists. */
static stw_kind page_kind(const stw_rfinding *f)
{
    return f->layer < 0 ? STW_KIND_CONFIG : f->kind;
}

static void put_finding_row(FILE *out, const stw_rules *rules,
                            const stw_rfinding *f, size_t id)
{
    const char *sev = stw_severity_str(f->severity);
    const char *kind = stw_kind_str(f->kind);
    const char *pkind = stw_kind_str(page_kind(f));
    fprintf(out,
            "<tr class=\"finding sev-%s kind-%s\" id=\"f%zu\" "
            "data-severity=\"%s\" data-kind=\"%s\" data-visible=\"%s\">"
            "<td class=\"sev\">%s</td><td class=\"path\">",
            sev, pkind, id, sev, pkind, f->visible ? "true" : "false", sev);
    html_text(out, f->path);
    char gw[STW_GIT_WHERE_MAX];
    if (*stw_git_where(f, gw, sizeof(gw))) {
        fputs(" <span class=\"git\">", out);
        html_text(out, gw);
        fputs("</span>", out);
    }
    if (f->line > 0)
        fprintf(out, ":%lld", (long long)f->line);
    if (f->git_source != STW_GIT_NONE || f->in_history)
        fprintf(out, " <span class=\"deleted\">%s</span>",
                f->in_history        ? "also in git history"
                : f->git_in_worktree ? "in git history and the work tree"
                                     : "only in git history");
    if (!f->visible) {
        fputs("<span class=\"deleted\" title=\"Removed from the final "
              "filesystem, but anyone who pulls the image can extract it "
              "from the layer that added it\">deleted",
              out);
        if (f->removed_in_layer >= 0)
            fprintf(out, " in layer %d", f->removed_in_layer);
        fputs(" &mdash; recoverable</span>", out);
    }
    fputs("</td><td class=\"rule\">", out);
    html_text(out, kind);
    if (f->rule && *f->rule && strcmp(f->rule, kind) != 0) {
        fputc('/', out);
        html_text(out, f->rule);
    }
    fputs("</td><td class=\"what\">", out);
    if (f->has_mode)
        fprintf(out, "mode %04o uid %lld gid %lld", (unsigned)(f->mode & 07777),
                (long long)f->uid, (long long)f->gid);
    else
        html_text(out, f->excerpt);
    if (f->detail && *f->detail) {
        fputs("<div class=\"detail\">", out);
        html_text(out, f->detail);
        fputs("</div>", out);
    }
    fputs("</td></tr>\n", out);
    fprintf(out,
            "<tr class=\"fixrow\" id=\"fix-f%zu\"><td></td><td colspan=\"3\" "
            "class=\"fix\">Fix: ",
            id);
    if (stw_fold_of(f) == STW_FOLD_TEST_KEY)
        fputs("Published test key, nothing to rotate.", out);
    else
        html_text(out, stw_report_remediation(rules, f->rule, f->kind));
    fputs("</td></tr>\n", out);
}

/* What a folded group is, after its count and names. */
static const char *fold_note(stw_fold cls)
{
    return cls == STW_FOLD_TEST_KEY ? "published on purpose, nothing to rotate"
                                    : "installed so by the distribution";
}

/* The findings f[0..n) of one layer (or the config), most severe first:
 * those to act on as a table, then stock setuid/setgid binaries and
 * published test keys each folded under one line that opens to list
 * them. Reorders f. Returns false when out of memory. */
static bool put_findings(FILE *out, const stw_rules *rules,
                         const stw_results *r, const stw_rfinding **f, size_t n)
{
    if (n == 0)
        return true;
    stw_sort(f, n, sizeof(*f), stw_cmp_reading_order);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (stw_fold_of(f[i]) != STW_FOLD_NONE)
            continue;
        if (!any)
            fputs("<table class=\"findings\">\n", out);
        any = true;
        put_finding_row(out, rules, f[i], (size_t)(f[i] - r->findings));
    }
    if (any)
        fputs("</table>\n", out);
    for (int cls = 1; cls < STW_FOLD_COUNT_; cls++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (stw_fold_of(f[i]) == (stw_fold)cls) {
                const stw_rfinding *t = f[k];
                f[k++] = f[i];
                f[i] = t;
            }
        if (k == 0)
            continue;
        /* A page has room for more names than a terminal line. */
        char line[1024];
        if (!stw_fold_line((stw_fold)cls, f, k, 160, line, sizeof(line)))
            return false;
        fputs("<details class=\"fold\"><summary>", out);
        html_text(out, line);
        fprintf(out, " &mdash; %s</summary>\n<table class=\"findings\">\n",
                fold_note((stw_fold)cls));
        stw_sort(f, k, sizeof(*f), stw_cmp_reading_order);
        for (size_t i = 0; i < k; i++)
            put_finding_row(out, rules, f[i], (size_t)(f[i] - r->findings));
        fputs("</table></details>\n", out);
        /* Those left keep reading order for the next class. */
        f += k;
        n -= k;
        stw_sort(f, n, sizeof(*f), stw_cmp_reading_order);
    }
    return true;
}

static bool put_image(FILE *out, const stw_rules *rules, const stw_results *r,
                      size_t img, const stw_rfinding **buf)
{
    const stw_rimage *im = &r->images[img];
    fprintf(out, "<section class=\"image\" id=\"image-%zu\">\n<h2>", img);
    html_text(out, im->ref);
    fputs("</h2>\n<div class=\"ids\">", out);
    if (im->platform && *im->platform) {
        html_text(out, im->platform);
        fputs(" &middot; ", out);
    }
    fputs("config ", out);
    html_text(out, im->config_digest);
    if (im->manifest_digest && *im->manifest_digest) {
        fputs(" &middot; manifest ", out);
        html_text(out, im->manifest_digest);
    }
    fprintf(out, " &middot; %zu layer%s</div>\n<ol class=\"layers\">\n",
            im->n_layers, im->n_layers == 1 ? "" : "s");
    /* The store orders findings by image, then layer, config last; count
     * on it but do not trust it: each layer scans for its own. */
    for (size_t l = 0; l <= im->n_layers; l++) {
        bool config = l == im->n_layers;
        size_t n = 0;
        for (size_t i = 0; i < r->n_findings; i++)
            n += r->findings[i].image == img &&
                 (config ? r->findings[i].layer < 0
                         : r->findings[i].layer == (int)l);
        if (config && n == 0)
            break;
        fprintf(out, "<li class=\"layer%s%s\" data-layer=\"%s%zu\">",
                n ? " has-findings" : "", config ? " config" : "",
                config ? "config-" : "", config ? img : l);
        fputs("<div class=\"lhead\">", out);
        if (config) {
            fputs("<span class=\"idx\">config</span><code>image config (Env, "
                  "history)</code>",
                  out);
        } else {
            const stw_rlayer *ly = &im->layers[l];
            fprintf(out, "<span class=\"idx\">%zu</span><code>", l);
            html_text(out, stw_created_by_shown(ly->created_by));
            fputs("</code><span class=\"size\">", out);
            put_size(out, ly->size);
            if (ly->cached)
                fputs(", cached", out);
            fputs("</span><span class=\"digest\">", out);
            html_text(out, ly->digest);
            fputs("</span>", out);
        }
        fprintf(out, "<span class=\"total\">%zu finding%s</span>", n,
                n == 1 ? "" : "s");
        if (n)
            fputs("<span class=\"count\"></span>", out);
        fputs("</div>\n", out);
        size_t k = 0;
        for (size_t i = 0; i < r->n_findings; i++) {
            const stw_rfinding *f = &r->findings[i];
            if (f->image == img && (config ? f->layer < 0 : f->layer == (int)l))
                buf[k++] = f;
        }
        if (!put_findings(out, rules, r, buf, k))
            return false;
        fputs("</li>\n", out);
    }
    fputs("</ol>\n</section>\n", out);
    return true;
}

stw_status stw_report_html(const stw_results *r, const stw_rules *rules,
                           FILE *out, stw_error *err)
{
    size_t by_sev[STW_SEV_COUNT_] = {0}, by_kind[STW_KIND_COUNT_] = {0};
    size_t hidden = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        by_sev[(unsigned)r->findings[i].severity % STW_SEV_COUNT_]++;
        by_kind[(unsigned)page_kind(&r->findings[i]) % STW_KIND_COUNT_]++;
        hidden += !r->findings[i].visible;
    }
    /* No network: the policy forbids every fetch, inline code only. */
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
          "charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" "
          "content=\"default-src 'none'; style-src 'unsafe-inline'; "
          "script-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width\">\n"
          "<title>stowaway report</title>\n<style>",
          out);
    fputs(css, out);
    fputs("</style>\n</head>\n<body>\n<header><h1>stowaway report</h1>"
          "<p class=\"meta\">",
          out);
    fprintf(out, "stowaway %s, rules ", STW_VERSION);
    html_text(out, r->rules_version);
    fprintf(out,
            " &middot; %zu image%s &middot; <span id=\"total\">%zu</span> "
            "finding%s (<span id=\"shown\">%zu</span> shown), %zu deleted "
            "but recoverable</p></header>\n",
            r->n_images, r->n_images == 1 ? "" : "s", r->n_findings,
            r->n_findings == 1 ? "" : "s", r->n_findings, hidden);

    fputs("<div id=\"filters\"><fieldset><legend>Severity</legend>", out);
    for (int s = STW_SEV_COUNT_ - 1; s >= 0; s--) {
        const char *n = stw_severity_str((stw_severity)s);
        fprintf(out,
                "<label><input type=\"checkbox\" data-filter=\"severity\" "
                "value=\"%s\" checked> %s (%zu)</label>",
                n, n, by_sev[s]);
    }
    fputs("</fieldset><fieldset><legend>Kind</legend>", out);
    for (int k = 0; k < STW_KIND_COUNT_; k++) {
        const char *n = stw_kind_str((stw_kind)k);
        fprintf(out,
                "<label><input type=\"checkbox\" data-filter=\"kind\" "
                "value=\"%s\" checked> %s (%zu)</label>",
                n, n, by_kind[k]);
    }
    fputs("</fieldset><fieldset><label><input type=\"checkbox\" "
          "id=\"f-deleted\"> deleted but recoverable only</label>"
          "</fieldset></div>\n<main>\n",
          out);

    if (r->n_errors) {
        fputs("<section id=\"errors\"><h2>Errors</h2><ul>\n", out);
        for (size_t i = 0; i < r->n_errors; i++) {
            fputs("<li>", out);
            html_text(out, r->errors[i].target);
            fputs(": ", out);
            html_text(out, r->errors[i].message);
            fputs("</li>\n", out);
        }
        fputs("</ul></section>\n", out);
    }
    if (r->n_images == 0)
        fputs("<p class=\"none\">No image was scanned.</p>\n", out);
    /* One layer's findings at a time, in the order the page lists them. */
    const stw_rfinding **buf =
        stw_malloc((r->n_findings ? r->n_findings : 1) * sizeof(*buf));
    if (!buf)
        return stw_fail(err, STW_ERR_NOMEM, "rendering report: out of memory");
    for (size_t i = 0; i < r->n_images; i++)
        if (!put_image(out, rules, r, i, buf)) {
            free(buf);
            return stw_fail(err, STW_ERR_NOMEM,
                            "rendering report: out of memory");
        }
    free(buf);
    fputs("</main>\n<footer>Every layer of an image can be extracted by "
          "anyone who pulls it: a file deleted in a later layer is still "
          "there.</footer>\n<script>",
          out);
    fputs(script, out);
    fputs("</script>\n</body>\n</html>\n", out);
    return stw_report_finish(out, err);
}
