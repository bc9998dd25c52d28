/* json.c - the JSON report (report.h, stw_report_json; its shape is in
 * docs/json-report.md) and the jansson builders the SARIF report shares
 * with it (report_internal.h). */
#include "report_internal.h"

#include "common.h"

#include <stdlib.h>
#include <string.h>

json_t *stw_json_str(const char *s)
{
    if (!s)
        return json_null();
    size_t n = strlen(s);
    json_t *v = json_stringn(s, n);
    if (v)
        return v;
    size_t len;
    char *buf = stw_utf8_fix(s, n, &len);
    if (!buf)
        return NULL;
    v = json_stringn(buf, len);
    free(buf);
    return v;
}

json_t *stw_json_str_or_null(const char *s)
{
    return (s && *s) ? stw_json_str(s) : json_null();
}

json_t *stw_json_int_or_null(bool present, int64_t v)
{
    return present ? json_integer((json_int_t)v) : json_null();
}

void stw_json_put(json_t *obj, const char *key, json_t *v, int *ok)
{
    if (json_object_set_new(obj, key, v) != 0)
        *ok = 0;
}

void stw_json_push(json_t *arr, json_t *v, int *ok)
{
    if (json_array_append_new(arr, v) != 0)
        *ok = 0;
}

void stw_json_put_image_ids(json_t *o, const stw_rimage *im, int *ok)
{
    stw_json_put(o, "ref", stw_json_str(im->ref), ok);
    stw_json_put(o, "manifest_digest",
                 stw_json_str_or_null(im->manifest_digest), ok);
    stw_json_put(o, "config_digest", stw_json_str(im->config_digest), ok);
    stw_json_put(o, "platform", stw_json_str_or_null(im->platform), ok);
}

void stw_json_put_mode(json_t *o, const stw_rfinding *f, int *ok)
{
    /* Permission bits only (file type dropped), as a plain number: 04755
     * is 2541. docs/json-report.md says so. */
    stw_json_put(o, "mode", stw_json_int_or_null(f->has_mode, f->mode & 07777),
                 ok);
    stw_json_put(o, "uid", stw_json_int_or_null(f->has_mode, f->uid), ok);
    stw_json_put(o, "gid", stw_json_int_or_null(f->has_mode, f->gid), ok);
}

void stw_json_put_git(json_t *o, const stw_rfinding *f, int *ok)
{
    json_t *g = json_null();
    if (f->git_source != STW_GIT_NONE) {
        g = json_object();
        if (g) {
            stw_json_put(g, "source",
                         json_string(stw_git_source_str(f->git_source)), ok);
            stw_json_put(g, "commit", stw_json_str_or_null(f->git_commit), ok);
            stw_json_put(g, "path", stw_json_str_or_null(f->git_path), ok);
            stw_json_put(g, "in_worktree", json_boolean(f->git_in_worktree),
                         ok);
            stw_json_put(g, "reachable", json_boolean(f->git_reachable), ok);
        }
    }
    stw_json_put(o, "git", g, ok);
    stw_json_put(o, "in_history", json_boolean(f->in_history), ok);
}

stw_status stw_json_write(json_t *root, FILE *out, const char *what,
                          stw_error *err)
{
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    /* json_dumpf fails on a write error (ferror says so) or on memory. */
    if (rc != 0 && !ferror(out))
        return stw_fail(err, STW_ERR_NOMEM, "writing %s report: out of memory",
                        what);
    if (rc == 0)
        fputc('\n', out);
    return stw_report_finish(out, err);
}

/* ---- the report ------------------------------------------------------------
 */

static json_t *json_layer(const stw_rlayer *l, size_t index, int *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = 0;
        return NULL;
    }
    stw_json_put(o, "index", json_integer((json_int_t)index), ok);
    stw_json_put(o, "digest", stw_json_str(l->digest), ok);
    stw_json_put(o, "diff_id", stw_json_str_or_null(l->diff_id), ok);
    stw_json_put(o, "diff_id_verified", json_boolean(l->diff_id_verified), ok);
    stw_json_put(o, "media_type", stw_json_str_or_null(l->media_type), ok);
    stw_json_put(o, "size", stw_json_int_or_null(l->size >= 0, l->size), ok);
    stw_json_put(o, "created_by", stw_json_str_or_null(l->created_by), ok);
    stw_json_put(o, "cached", json_boolean(l->cached), ok);
    return o;
}

static json_t *json_image(const stw_rimage *im, int *ok)
{
    json_t *o = json_object();
    json_t *layers = json_array();
    if (!o || !layers) {
        json_decref(o);
        json_decref(layers);
        *ok = 0;
        return NULL;
    }
    stw_json_put_image_ids(o, im, ok);
    for (size_t i = 0; i < im->n_layers; i++)
        stw_json_push(layers, json_layer(&im->layers[i], i, ok), ok);
    stw_json_put(o, "layers", layers, ok);
    return o;
}

static json_t *json_finding(const stw_rfinding *f, int *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = 0;
        return NULL;
    }
    stw_json_put(o, "image", json_integer((json_int_t)f->image), ok);
    stw_json_put(o, "layer", stw_json_int_or_null(f->layer >= 0, f->layer), ok);
    stw_json_put(o, "layer_digest", stw_json_str(f->layer_digest), ok);
    stw_json_put(o, "path", stw_json_str(f->path), ok);
    stw_json_put(o, "kind", json_string(stw_kind_str(f->kind)), ok);
    stw_json_put(o, "rule", stw_json_str(f->rule), ok);
    stw_json_put(o, "severity", json_string(stw_severity_str(f->severity)), ok);
    stw_json_put(o, "line", stw_json_int_or_null(f->line > 0, f->line), ok);
    stw_json_put(o, "offset", stw_json_int_or_null(f->offset >= 0, f->offset),
                 ok);
    stw_json_put(o, "visible", json_boolean(f->visible), ok);
    stw_json_put(o, "removed_in_layer",
                 stw_json_int_or_null(!f->visible && f->removed_in_layer >= 0,
                                      f->removed_in_layer),
                 ok);
    stw_json_put_mode(o, f, ok);
    stw_json_put(o, "fingerprint", stw_json_str(f->fingerprint), ok);
    stw_json_put(o, "secret_sha256", stw_json_str_or_null(f->secret_sha256),
                 ok);
    stw_json_put(o, "excerpt", stw_json_str_or_null(f->excerpt), ok);
    stw_json_put(o, "validated", json_boolean(f->validated), ok);
    stw_json_put(o, "detail", stw_json_str_or_null(f->detail), ok);
    stw_json_put_git(o, f, ok);
    return o;
}

static json_t *json_report(const stw_results *r, int *ok)
{
    json_t *root = json_object();
    json_t *tool = json_object();
    json_t *images = json_array();
    json_t *findings = json_array();
    json_t *errors = json_array();
    if (!root || !tool || !images || !findings || !errors) {
        json_decref(root);
        json_decref(tool);
        json_decref(images);
        json_decref(findings);
        json_decref(errors);
        *ok = 0;
        return NULL;
    }
    stw_json_put(root, "schema", json_integer(STW_REPORT_JSON_SCHEMA), ok);
    stw_json_put(tool, "name", json_string("stowaway"), ok);
    stw_json_put(tool, "version", json_string(STW_VERSION), ok);
    stw_json_put(tool, "rules_version", stw_json_str_or_null(r->rules_version),
                 ok);
    stw_json_put(root, "tool", tool, ok);
    for (size_t i = 0; i < r->n_images; i++)
        stw_json_push(images, json_image(&r->images[i], ok), ok);
    stw_json_put(root, "images", images, ok);
    for (size_t i = 0; i < r->n_findings; i++)
        stw_json_push(findings, json_finding(&r->findings[i], ok), ok);
    stw_json_put(root, "findings", findings, ok);
    for (size_t i = 0; i < r->n_errors; i++) {
        json_t *e = json_object();
        if (!e) {
            *ok = 0;
            break;
        }
        stw_json_put(e, "target", stw_json_str(r->errors[i].target), ok);
        stw_json_put(e, "message", stw_json_str(r->errors[i].message), ok);
        stw_json_push(errors, e, ok);
    }
    stw_json_put(root, "errors", errors, ok);
    return root;
}

stw_status stw_report_json(const stw_results *r, FILE *out, stw_error *err)
{
    int ok = 1;
    json_t *root = json_report(r, &ok);
    if (!ok) {
        json_decref(root);
        return stw_fail(err, STW_ERR_NOMEM,
                        "building JSON report: out of memory");
    }
    return stw_json_write(root, out, "JSON", err);
}
