/* access.c - read-only views for embedders (stowaway.h): the version, the
 * rules of a set, and the results of a scan walked through accessors, so
 * no struct layout is part of the ABI. Every getter tolerates an index out
 * of range (NULL or a neutral value) and never allocates. */
#include "report.h"
#include "results.h"
#include "rules.h"
#include "suppress.h"

unsigned stw_version_number(void)
{
    return STW_VERSION_NUMBER;
}

const char *stw_version_string(void)
{
    return STW_VERSION;
}

/* ---- rules -------------------------------------------------------------- */

/* Rule i's view, or NULL past the end. */
static const stw_rule_info *rule_at(const stw_rules *r, size_t i,
                                    stw_rule_info *buf)
{
    return r && stw_rules_info(r, i, buf) == STW_OK ? buf : NULL;
}

const char *stw_rules_rule_id(const stw_rules *r, size_t i)
{
    stw_rule_info b;
    const stw_rule_info *ri = rule_at(r, i, &b);
    return ri ? ri->id : NULL;
}

const char *stw_rules_rule_title(const stw_rules *r, size_t i)
{
    stw_rule_info b;
    const stw_rule_info *ri = rule_at(r, i, &b);
    return ri ? ri->title : NULL;
}

const char *stw_rules_rule_remediation(const stw_rules *r, size_t i)
{
    stw_rule_info b;
    const stw_rule_info *ri = rule_at(r, i, &b);
    return ri ? ri->remediation : NULL;
}

stw_kind stw_rules_rule_kind(const stw_rules *r, size_t i)
{
    stw_rule_info b;
    const stw_rule_info *ri = rule_at(r, i, &b);
    return ri ? ri->kind : STW_KIND_SECRET;
}

stw_severity stw_rules_rule_severity(const stw_rules *r, size_t i)
{
    stw_rule_info b;
    const stw_rule_info *ri = rule_at(r, i, &b);
    return ri ? ri->severity : STW_SEV_INFO;
}

/* ---- results ------------------------------------------------------------ */

/* The stored strings are NULL in places ("none"); the API promises "". */
static const char *str(const char *s)
{
    return s ? s : "";
}

const char *stw_results_rules_version(const stw_results *r)
{
    return str(r->rules_version);
}

uint64_t stw_results_layers_scanned(const stw_results *r)
{
    return r->layers_scanned;
}

uint64_t stw_results_layers_cached(const stw_results *r)
{
    return r->layers_cached;
}

size_t stw_results_image_count(const stw_results *r)
{
    return r ? r->n_images : 0;
}

const stw_result_image *stw_results_image(const stw_results *r, size_t i)
{
    return r && i < r->n_images ? &r->images[i] : NULL;
}

const char *stw_result_image_ref(const stw_result_image *im)
{
    return str(im->ref);
}

const char *stw_result_image_manifest_digest(const stw_result_image *im)
{
    return str(im->manifest_digest);
}

const char *stw_result_image_config_digest(const stw_result_image *im)
{
    return str(im->config_digest);
}

const char *stw_result_image_platform(const stw_result_image *im)
{
    return str(im->platform);
}

size_t stw_result_image_layer_count(const stw_result_image *im)
{
    return im ? im->n_layers : 0;
}

const stw_result_layer *stw_result_image_layer(const stw_result_image *im,
                                               size_t i)
{
    return im && i < im->n_layers ? &im->layers[i] : NULL;
}

const char *stw_result_layer_digest(const stw_result_layer *l)
{
    return str(l->digest);
}

const char *stw_result_layer_diff_id(const stw_result_layer *l)
{
    return str(l->diff_id);
}

const char *stw_result_layer_media_type(const stw_result_layer *l)
{
    return str(l->media_type);
}

const char *stw_result_layer_created_by(const stw_result_layer *l)
{
    return str(l->created_by);
}

int64_t stw_result_layer_size(const stw_result_layer *l)
{
    return l->size;
}

bool stw_result_layer_cached(const stw_result_layer *l)
{
    return l->cached;
}

bool stw_result_layer_diff_id_verified(const stw_result_layer *l)
{
    return l->diff_id_verified;
}

size_t stw_results_finding_count(const stw_results *r)
{
    return r ? r->n_findings : 0;
}

const stw_result_finding *stw_results_finding(const stw_results *r, size_t i)
{
    return r && i < r->n_findings ? &r->findings[i] : NULL;
}

size_t stw_result_finding_image(const stw_result_finding *f)
{
    return f->image;
}

int stw_result_finding_layer(const stw_result_finding *f)
{
    return f->layer;
}

const char *stw_result_finding_layer_digest(const stw_result_finding *f)
{
    return str(f->layer_digest);
}

const char *stw_result_finding_path(const stw_result_finding *f)
{
    return str(f->path);
}

const char *stw_result_finding_rule(const stw_result_finding *f)
{
    return str(f->rule);
}

stw_kind stw_result_finding_kind(const stw_result_finding *f)
{
    return f->kind;
}

stw_severity stw_result_finding_severity(const stw_result_finding *f)
{
    return f->severity;
}

int64_t stw_result_finding_line(const stw_result_finding *f)
{
    return f->line;
}

int64_t stw_result_finding_offset(const stw_result_finding *f)
{
    return f->offset;
}

bool stw_result_finding_visible(const stw_result_finding *f)
{
    return f->visible;
}

int stw_result_finding_removed_in_layer(const stw_result_finding *f)
{
    return f->visible ? -1 : f->removed_in_layer;
}

bool stw_result_finding_mode(const stw_result_finding *f, uint32_t *mode,
                             int64_t *uid, int64_t *gid)
{
    if (!f->has_mode)
        return false;
    if (mode)
        *mode = f->mode;
    if (uid)
        *uid = f->uid;
    if (gid)
        *gid = f->gid;
    return true;
}

bool stw_result_finding_validated(const stw_result_finding *f)
{
    return f->validated;
}

const char *stw_result_finding_fingerprint(const stw_result_finding *f)
{
    return str(f->fingerprint);
}

const char *stw_result_finding_secret_sha256(const stw_result_finding *f)
{
    return str(f->secret_sha256);
}

const char *stw_result_finding_excerpt(const stw_result_finding *f)
{
    return str(f->excerpt);
}

const char *stw_result_finding_detail(const stw_result_finding *f)
{
    return str(f->detail);
}

size_t stw_results_error_count(const stw_results *r)
{
    return r ? r->n_errors : 0;
}

const stw_result_error *stw_results_error(const stw_results *r, size_t i)
{
    return r && i < r->n_errors ? &r->errors[i] : NULL;
}

const char *stw_result_error_target(const stw_result_error *e)
{
    return str(e->target);
}

const char *stw_result_error_message(const stw_result_error *e)
{
    return str(e->message);
}

size_t stw_results_count_at_least(const stw_results *r, stw_severity min,
                                  bool include_hidden)
{
    return stw_report_count_gating(r, min, include_hidden);
}

void stw_results_suppress(stw_results *r, const stw_suppress *s,
                          size_t *ignored, size_t *baselined, size_t *layers)
{
    stw_suppress_counts c = {0};
    stw_suppress_apply(s, r, &c);
    if (ignored)
        *ignored += c.ignored;
    if (baselined)
        *baselined += c.baselined;
    if (layers)
        *layers += c.layers;
}
