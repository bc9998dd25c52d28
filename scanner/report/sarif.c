/* sarif.c - the SARIF 2.1.0 log (report.h, stw_report_sarif) as GitHub
 * code scanning reads it: one run, rules described in tool.driver.rules
 * with a security-severity GitHub ranks alerts by, paths inside the image
 * as URIs relative to a declared IMAGEROOT base. */
#include "report_internal.h"

#include "common.h"
#include "rules.h"

#include <stdlib.h>
#include <string.h>

#define SARIF_SCHEMA                                                           \
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"      \
    "sarif-schema-2.1.0.json"
#define SARIF_ROOT "IMAGEROOT"
/* "<config>" is not a URI; config findings point here instead. */
#define SARIF_CONFIG_URI "image-config"
#define SARIF_FP_KEY     "stowaway/v1"

/* What a finding of each kind is, for a rule's fullDescription. */
static const char *kind_what(stw_kind k)
{
    switch (k) {
    case STW_KIND_SECRET:
        return "A token, password or API key stored in a file of the image.";
    case STW_KIND_PRIVATE_KEY:
        return "A private key stored in a file of the image.";
    case STW_KIND_CREDENTIAL_FILE:
        return "A file that by its name and place usually holds credentials.";
    case STW_KIND_ARTIFACT:
        return "Build or source-control debris that should not ship, such as "
               ".git/ or .env, often from COPY . .";
    case STW_KIND_SETUID:
        return "An executable with the setuid bit: it runs with its owner's "
               "privileges, usually root's.";
    case STW_KIND_SETGID:
        return "An executable with the setgid bit: it runs with its group's "
               "privileges.";
    case STW_KIND_WORLD_WRITABLE:
        return "A file or directory that any user in the container can "
               "modify.";
    case STW_KIND_CONFIG:
        return "A secret in the image config (Env or a history line), which "
               "docker inspect shows to anyone who pulls the image.";
    default:
        return "A finding in a container image.";
    }
}

/* CWE GitHub shows next to the alert, in its tag convention. */
static const char *kind_cwe(stw_kind k)
{
    switch (k) {
    case STW_KIND_ARTIFACT:
        return "external/cwe/cwe-538";
    case STW_KIND_SETUID:
    case STW_KIND_SETGID:
        return "external/cwe/cwe-250";
    case STW_KIND_WORLD_WRITABLE:
        return "external/cwe/cwe-732";
    default:
        return "external/cwe/cwe-798";
    }
}

/* GitHub maps security-severity to its levels: >= 9.0 critical, >= 7.0
 * high, >= 4.0 medium, else low. */
static const char *sarif_security_severity(stw_severity s)
{
    switch (s) {
    case STW_SEV_CRITICAL:
        return "9.5";
    case STW_SEV_HIGH:
        return "8.0";
    case STW_SEV_MEDIUM:
        return "5.5";
    case STW_SEV_LOW:
        return "3.0";
    default:
        return "1.0";
    }
}

static const char *sarif_level(stw_severity s)
{
    if (s >= STW_SEV_HIGH)
        return "error";
    return s == STW_SEV_MEDIUM ? "warning" : "note";
}

/* One rule of the run: its id, what the rule set says about it, and the
 * most severe of its findings, which its default level reports. */
typedef struct sarif_rule {
    const char *id;
    const stw_rule_info *info; /* NULL when the rule set lacks it */
    stw_kind kind;             /* of the rule, else its first finding */
    stw_severity severity;
} sarif_rule;

static int cmp_rule_id(const void *pa, const void *pb)
{
    return strcmp(((const sarif_rule *)pa)->id, ((const sarif_rule *)pb)->id);
}

/* {"text": s}, the SARIF message and multiformatMessageString shape. */
static json_t *sarif_text(const char *s, int *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = 0;
        return NULL;
    }
    stw_json_put(o, "text", stw_json_str(s), ok);
    return o;
}

/* "rsa-private-key" -> "RsaPrivateKey": SARIF wants a name that reads as
 * an identifier. Malloc'd. */
static char *rule_name(const char *id)
{
    char *s = stw_malloc(strlen(id) + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    int up = 1;
    for (const char *p = id; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9'))) {
            up = 1;
            continue;
        }
        s[o++] = (char)(up && c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        up = 0;
    }
    s[o] = 0;
    return s;
}

static json_t *sarif_rule_json(const sarif_rule *ru, int *ok)
{
    json_t *o = json_object(), *props = json_object(), *tags = json_array();
    char *name = rule_name(ru->id);
    if (!o || !props || !tags || !name) {
        json_decref(o);
        json_decref(props);
        json_decref(tags);
        free(name);
        *ok = 0;
        return NULL;
    }
    const char *title = stw_rule_title(ru->info, ru->id);
    const char *remedy = stw_rule_remedy(ru->info, ru->id, ru->kind);
    const char *category = ru->info && ru->info->category && *ru->info->category
                               ? ru->info->category
                               : stw_kind_str(ru->kind);
    const char *what = kind_what(ru->kind);
    const char *tail = " stowaway reports it against the layer that added "
                       "it; a file a later layer deleted or replaced is still "
                       "in the image for anyone who pulls it.";
    size_t n = strlen(title) + strlen(what) + strlen(tail) + 4;
    char *full = stw_malloc(n);
    if (full)
        snprintf(full, n, "%s. %s%s", title, what, tail);
    else
        *ok = 0;

    stw_json_put(o, "id", stw_json_str(ru->id), ok);
    stw_json_put(o, "name", stw_json_str(*name ? name : ru->id), ok);
    stw_json_put(o, "shortDescription", sarif_text(title, ok), ok);
    stw_json_put(o, "fullDescription", sarif_text(full, ok), ok);
    json_t *conf = json_object();
    if (conf)
        stw_json_put(conf, "level", json_string(sarif_level(ru->severity)), ok);
    stw_json_put(o, "defaultConfiguration", conf, ok);
    stw_json_put(o, "help", sarif_text(remedy, ok), ok);
    /* "security" is the tag that makes GitHub read security-severity. */
    stw_json_push(tags, json_string("security"), ok);
    stw_json_push(tags, json_string(stw_kind_str(ru->kind)), ok);
    if (strcmp(category, stw_kind_str(ru->kind)) != 0 &&
        strcmp(category, "security") != 0)
        stw_json_push(tags, stw_json_str(category), ok);
    stw_json_push(tags, json_string(kind_cwe(ru->kind)), ok);
    stw_json_put(props, "security-severity",
                 json_string(sarif_security_severity(ru->severity)), ok);
    stw_json_put(props, "tags", tags, ok);
    stw_json_put(props, "kind", json_string(stw_kind_str(ru->kind)), ok);
    stw_json_put(props, "category", stw_json_str(category), ok);
    stw_json_put(props, "severity", json_string(stw_severity_str(ru->severity)),
                 ok);
    stw_json_put(o, "properties", props, ok);
    free(name);
    free(full);
    return o;
}

/* Percent-encodes a path from the image as a relative URI reference:
 * only unreserved characters, '/' and '!' stay, so spaces, '%', '#', '?',
 * ':' and bytes that are not UTF-8 cannot change what the URI means. '!'
 * (a sub-delimiter, legal in a path) stays so that a member of an archive
 * reads as the same "app.jar!/x.properties" chain as in every report.
 * Malloc'd; NULL when out of memory. */
static char *uri_encode(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    if (n == 0)
        return stw_strdup(".");
    char *s = stw_malloc(3 * n + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~' || c == '/' || c == '!') {
            s[o++] = (char)c;
        } else {
            s[o++] = '%';
            s[o++] = hex[c >> 4];
            s[o++] = hex[c & 15];
        }
    }
    s[o] = 0;
    return s;
}

/* A layer's history line as reports show it (stw_created_by_shown()), as
 * a string of at most max code points (an ellipsis, one of them, marks a
 * cut), valid UTF-8; null when unknown. */
static json_t *created_by_json(const char *s, size_t max)
{
    s = stw_created_by_shown(s);
    if (!*s)
        return json_null();
    size_t len;
    char *buf = stw_utf8_fix(s, strlen(s), &len);
    if (!buf)
        return NULL;
    json_t *v;
    if (max == 0 || buf[stw_utf8_at(buf, max)] == 0) {
        v = json_stringn(buf, len);
    } else {
        /* max - 1 code points and the ellipsis; stw_utf8_at() stops on a code
         * point boundary. */
        size_t at = stw_utf8_at(buf, max - 1);
        char *cut = stw_malloc(at + sizeof(STW_ELLIPSIS));
        v = NULL;
        if (cut) {
            memcpy(cut, buf, at);
            memcpy(cut + at, STW_ELLIPSIS, sizeof(STW_ELLIPSIS));
            v = json_string(cut);
            free(cut);
        }
    }
    free(buf);
    return v;
}

/* "<title>: <path> in layer 1 of app:1.2; deleted in layer 2 but
 * recoverable". Never the secret: the excerpt stays in properties. */
static char *sarif_message(const stw_rfinding *f, const char *title,
                           const char *ref)
{
    char where[64], hidden[96];
    if (f->layer >= 0)
        snprintf(where, sizeof(where), " in layer %d", f->layer);
    else
        where[0] = 0;
    hidden[0] = 0;
    if (!f->visible && f->removed_in_layer >= 0)
        snprintf(hidden, sizeof(hidden),
                 "; deleted in layer %d but recoverable", f->removed_in_layer);
    else if (!f->visible)
        snprintf(hidden, sizeof(hidden), "; deleted but recoverable");
    const char *path = f->layer < 0 ? "image config" : f->path ? f->path : "";
    char gw[STW_GIT_WHERE_MAX];
    const char *detail = f->layer < 0 && f->detail && *f->detail ? f->detail
                         : *stw_git_where(f, gw, sizeof(gw))     ? gw
                                                                 : NULL;
    int n = snprintf(NULL, 0, "%s: %s%s%s%s%s of %s%s", title, path,
                     detail ? " (" : "", detail ? detail : "",
                     detail ? ")" : "", where, ref, hidden);
    char *s = stw_malloc((size_t)n + 1);
    if (s)
        snprintf(s, (size_t)n + 1, "%s: %s%s%s%s%s of %s%s", title, path,
                 detail ? " (" : "", detail ? detail : "", detail ? ")" : "",
                 where, ref, hidden);
    return s;
}

static json_t *sarif_location(const stw_rfinding *f, int *ok)
{
    json_t *loc = json_object(), *phys = json_object(), *art = json_object();
    if (!loc || !phys || !art) {
        json_decref(loc);
        json_decref(phys);
        json_decref(art);
        *ok = 0;
        return NULL;
    }
    if (f->layer < 0) {
        stw_json_put(art, "uri", json_string(SARIF_CONFIG_URI), ok);
    } else {
        char *uri = uri_encode(f->path ? f->path : "");
        stw_json_put(art, "uri", uri ? json_string(uri) : NULL, ok);
        stw_json_put(art, "uriBaseId", json_string(SARIF_ROOT), ok);
        free(uri);
    }
    stw_json_put(phys, "artifactLocation", art, ok);
    /* A line inside an Env value is no place in "image-config". */
    if (f->line > 0 && f->layer >= 0) {
        json_t *region = json_object();
        if (region)
            stw_json_put(region, "startLine", json_integer((json_int_t)f->line),
                         ok);
        stw_json_put(phys, "region", region, ok);
    }
    stw_json_put(loc, "physicalLocation", phys, ok);
    return loc;
}

static json_t *sarif_result(const stw_results *r, const stw_rfinding *f,
                            const sarif_rule *ru, size_t rule_index, int *ok)
{
    json_t *o = json_object(), *fp = json_object(), *props = json_object(),
           *locs = json_array();
    if (!o || !fp || !props || !locs) {
        json_decref(o);
        json_decref(fp);
        json_decref(props);
        json_decref(locs);
        *ok = 0;
        return NULL;
    }
    const stw_rimage *im = f->image < r->n_images ? &r->images[f->image] : NULL;
    const stw_rlayer *l = im && f->layer >= 0 && (size_t)f->layer < im->n_layers
                              ? &im->layers[f->layer]
                              : NULL;
    char *msg = sarif_message(f, stw_rule_title(ru->info, ru->id),
                              im && im->ref ? im->ref : "the image");
    stw_json_put(o, "ruleId", stw_json_str(f->rule), ok);
    stw_json_put(o, "ruleIndex", json_integer((json_int_t)rule_index), ok);
    stw_json_put(o, "level", json_string(sarif_level(f->severity)), ok);
    stw_json_put(o, "message", msg ? sarif_text(msg, ok) : NULL, ok);
    free(msg);
    stw_json_push(locs, sarif_location(f, ok), ok);
    stw_json_put(o, "locations", locs, ok);
    stw_json_put(fp, SARIF_FP_KEY, stw_json_str(f->fingerprint), ok);
    stw_json_put(o, "partialFingerprints", fp, ok);

    stw_json_put(props, "image", stw_json_str(im ? im->ref : NULL), ok);
    stw_json_put(props, "image_index", json_integer((json_int_t)f->image), ok);
    stw_json_put(props, "layer", stw_json_int_or_null(f->layer >= 0, f->layer),
                 ok);
    stw_json_put(props, "layer_digest", stw_json_str(f->layer_digest), ok);
    stw_json_put(
        props, "created_by",
        l ? created_by_json(l->created_by, STW_REPORT_SARIF_CREATED_BY_MAX)
          : json_null(),
        ok);
    stw_json_put(props, "path", stw_json_str(f->path), ok);
    stw_json_put(props, "in_image_config", json_boolean(f->layer < 0), ok);
    stw_json_put(props, "visible", json_boolean(f->visible), ok);
    stw_json_put(props, "removed_in_layer",
                 stw_json_int_or_null(!f->visible && f->removed_in_layer >= 0,
                                      f->removed_in_layer),
                 ok);
    stw_json_put(props, "kind", json_string(stw_kind_str(f->kind)), ok);
    stw_json_put(props, "severity", json_string(stw_severity_str(f->severity)),
                 ok);
    stw_json_put(props, "offset",
                 stw_json_int_or_null(f->offset >= 0, f->offset), ok);
    stw_json_put_mode(props, f, ok);
    stw_json_put(props, "excerpt", stw_json_str_or_null(f->excerpt), ok);
    stw_json_put(props, "validated", json_boolean(f->validated), ok);
    stw_json_put(props, "detail", stw_json_str_or_null(f->detail), ok);
    stw_json_put_git(props, f, ok);
    stw_json_put(o, "properties", props, ok);
    return o;
}

/* Marks in keep[] which findings fit in one run: all of them when they fit,
 * else the most severe, in report order within the cut-off severity.
 * Returns how many are kept. */
static size_t sarif_select(const stw_results *r, unsigned char *keep)
{
    size_t n = r->n_findings, max = STW_REPORT_SARIF_MAX_RESULTS;
    if (n <= max) {
        memset(keep, 1, n);
        return n;
    }
    size_t by_sev[STW_SEV_COUNT_] = {0};
    for (size_t i = 0; i < n; i++)
        by_sev[(unsigned)r->findings[i].severity % STW_SEV_COUNT_]++;
    /* Whole severities from the top while they fit; then part of one. */
    size_t left = max;
    size_t room[STW_SEV_COUNT_] = {0};
    for (int s = STW_SEV_COUNT_ - 1; s >= 0; s--) {
        room[s] = by_sev[s] < left ? by_sev[s] : left;
        left -= room[s];
    }
    for (size_t i = 0; i < n; i++) {
        unsigned s = (unsigned)r->findings[i].severity % STW_SEV_COUNT_;
        keep[i] = room[s] > 0;
        room[s] -= keep[i];
    }
    return max;
}

/* Distinct rules of the kept findings, sorted by id. *out malloc'd. */
static int sarif_collect_rules(const stw_results *r, const stw_rules *rules,
                               const unsigned char *keep, sarif_rule **out,
                               size_t *n_out)
{
    size_t n = 0;
    sarif_rule *v =
        stw_malloc((r->n_findings ? r->n_findings : 1) * sizeof(*v));
    if (!v)
        return 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        if (!keep[i])
            continue;
        const stw_rfinding *f = &r->findings[i];
        v[n++] = (sarif_rule){.id = f->rule ? f->rule : "",
                              .kind = f->kind,
                              .severity = f->severity};
    }
    stw_sort(v, n, sizeof(*v), cmp_rule_id);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && strcmp(v[k - 1].id, v[i].id) == 0) {
            if (v[i].severity > v[k - 1].severity)
                v[k - 1].severity = v[i].severity;
            continue;
        }
        v[k++] = v[i];
    }
    for (size_t i = 0; i < k; i++) {
        v[i].info = rules ? stw_rules_find(rules, v[i].id) : NULL;
        /* The rule's own kind: a secret rule matching in the config is
         * still a secret rule. */
        if (v[i].info)
            v[i].kind = v[i].info->kind;
    }
    *out = v;
    *n_out = k;
    return 1;
}

static json_t *sarif_notification(const char *level, const char *text,
                                  const char *target, int *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = 0;
        return NULL;
    }
    stw_json_put(o, "level", json_string(level), ok);
    stw_json_put(o, "message", sarif_text(text, ok), ok);
    if (target) {
        json_t *props = json_object();
        if (props)
            stw_json_put(props, "target", stw_json_str(target), ok);
        stw_json_put(o, "properties", props, ok);
    }
    return o;
}

/* The run's invocation: failed targets, and findings left out. */
static json_t *sarif_invocation(const stw_results *r, size_t omitted, int *ok)
{
    json_t *inv = json_object(), *notes = json_array();
    if (!inv || !notes) {
        json_decref(inv);
        json_decref(notes);
        *ok = 0;
        return NULL;
    }
    stw_json_put(inv, "executionSuccessful", json_boolean(r->n_errors == 0),
                 ok);
    for (size_t i = 0; i < r->n_errors; i++) {
        const char *t = r->errors[i].target ? r->errors[i].target : "";
        char *text = stw_rerror_text(&r->errors[i]);
        if (!text) {
            *ok = 0;
            break;
        }
        stw_json_push(notes, sarif_notification("error", text, t, ok), ok);
        free(text);
    }
    if (omitted) {
        char text[200];
        snprintf(text, sizeof(text),
                 "%zu of %zu findings left out: a run holds at most %d "
                 "results; the most severe were kept (see --format json)",
                 omitted, r->n_findings, STW_REPORT_SARIF_MAX_RESULTS);
        stw_json_push(notes, sarif_notification("warning", text, NULL, ok), ok);
    }
    stw_json_put(inv, "toolExecutionNotifications", notes, ok);
    return inv;
}

static json_t *sarif_images(const stw_results *r, int *ok)
{
    json_t *a = json_array();
    if (!a) {
        *ok = 0;
        return NULL;
    }
    for (size_t i = 0; i < r->n_images; i++) {
        const stw_rimage *im = &r->images[i];
        json_t *o = json_object();
        if (!o) {
            *ok = 0;
            break;
        }
        stw_json_put_image_ids(o, im, ok);
        stw_json_put(o, "layers", json_integer((json_int_t)im->n_layers), ok);
        stw_json_push(a, o, ok);
    }
    return a;
}

static json_t *sarif_log(const stw_results *r, const stw_rules *rules, int *ok)
{
    unsigned char *keep = stw_malloc(r->n_findings ? r->n_findings : 1);
    if (!keep) {
        *ok = 0;
        return NULL;
    }
    size_t kept = sarif_select(r, keep);
    sarif_rule *ru = NULL;
    size_t n_rules = 0;
    if (!sarif_collect_rules(r, rules, keep, &ru, &n_rules)) {
        free(keep);
        *ok = 0;
        return NULL;
    }

    json_t *root = json_object(), *runs = json_array(), *run = json_object(),
           *tool = json_object(), *driver = json_object(),
           *jrules = json_array(), *dprops = json_object(),
           *bases = json_object(), *results = json_array(),
           *invs = json_array(), *rprops = json_object();
    if (!root || !runs || !run || !tool || !driver || !jrules || !dprops ||
        !bases || !results || !invs || !rprops) {
        json_t *all[] = {root,   runs,  run,     tool, driver, jrules,
                         dprops, bases, results, invs, rprops};
        for (size_t i = 0; i < STW_ARRAY_LEN(all); i++)
            json_decref(all[i]);
        free(keep);
        free(ru);
        *ok = 0;
        return NULL;
    }
    stw_json_put(root, "$schema", json_string(SARIF_SCHEMA), ok);
    stw_json_put(root, "version", json_string("2.1.0"), ok);

    stw_json_put(driver, "name", json_string("stowaway"), ok);
    stw_json_put(driver, "version", json_string(STW_VERSION), ok);
    stw_json_put(driver, "semanticVersion", json_string(STW_VERSION), ok);
    for (size_t i = 0; i < n_rules; i++)
        stw_json_push(jrules, sarif_rule_json(&ru[i], ok), ok);
    stw_json_put(driver, "rules", jrules, ok);
    stw_json_put(dprops, "rules_version",
                 stw_json_str_or_null(r->rules_version), ok);
    stw_json_put(driver, "properties", dprops, ok);
    stw_json_put(tool, "driver", driver, ok);
    stw_json_put(run, "tool", tool, ok);

    stw_json_push(invs, sarif_invocation(r, r->n_findings - kept, ok), ok);
    stw_json_put(run, "invocations", invs, ok);

    json_t *root_loc = json_object();
    if (root_loc)
        stw_json_put(
            root_loc, "description",
            sarif_text("The root of the scanned image's filesystem. Each "
                       "result's properties name the image and the layer "
                       "that holds the file.",
                       ok),
            ok);
    stw_json_put(bases, SARIF_ROOT, root_loc, ok);
    stw_json_put(run, "originalUriBaseIds", bases, ok);

    for (size_t i = 0; i < r->n_findings && *ok; i++) {
        if (!keep[i])
            continue;
        const stw_rfinding *f = &r->findings[i];
        sarif_rule key = {.id = f->rule ? f->rule : ""};
        const sarif_rule *hit =
            bsearch(&key, ru, n_rules, sizeof(*ru), cmp_rule_id);
        if (!hit) { /* cannot happen: every kept rule was collected */
            *ok = 0;
            break;
        }
        stw_json_push(results, sarif_result(r, f, hit, (size_t)(hit - ru), ok),
                      ok);
    }
    stw_json_put(run, "results", results, ok);
    stw_json_put(rprops, "images", sarif_images(r, ok), ok);
    stw_json_put(rprops, "findings_total",
                 json_integer((json_int_t)r->n_findings), ok);
    stw_json_put(rprops, "findings_omitted",
                 json_integer((json_int_t)(r->n_findings - kept)), ok);
    stw_json_put(run, "properties", rprops, ok);
    stw_json_push(runs, run, ok);
    stw_json_put(root, "runs", runs, ok);
    free(keep);
    free(ru);
    return root;
}

stw_status stw_report_sarif(const stw_results *r, const stw_rules *rules,
                            FILE *out, stw_error *err)
{
    int ok = 1;
    json_t *root = sarif_log(r, rules, &ok);
    if (!ok) {
        json_decref(root);
        return stw_fail(err, STW_ERR_NOMEM,
                        "building SARIF report: out of memory");
    }
    return stw_json_write(root, out, "SARIF", err);
}
