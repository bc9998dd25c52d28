/* batch.c - the public API of stowaway/batch.h over the batch module of
 * scanner/source/: a scan's options stand in for the registry connection
 * settings, so an embedder configures registry access once. */
#include "api_internal.h"
#include "batch.h"
#include "common.h"
#include "scan_options.h"
#include "shard.h"

_Static_assert(STW_MAX_SHARDS == 65536u,
               "batch.h documents the most shards as 65536");

/* The registry settings of opt (may be NULL: the defaults); strings stay
 * borrowed from opt. */
static stw_registry_options registry_options(const stw_scan_options *opt)
{
    stw_registry_options ro = {0};
    if (opt) {
        ro.ca_cert = opt->ca_cert;
        ro.insecure = opt->insecure_registries;
        ro.n_insecure = opt->n_insecure_registries;
        ro.timeout_s = opt->registry_timeout_s;
        ro.page_size = stw_api_scan_page_size(opt);
    }
    return ro;
}

stw_status stw_registry_list(const char *registry, const stw_scan_options *opt,
                             char ***refs, size_t *n, stw_error *err)
{
    if (!registry || !refs || !n)
        return stw_fail(err, STW_ERR_USAGE, "stw_registry_list: NULL");
    stw_registry_options ro = registry_options(opt);
    return stw_batch_list_registry(registry, &ro, opt ? opt->repo_glob : NULL,
                                   opt ? opt->tag_glob : NULL, refs, n, err);
}

void stw_registry_refs_free(char **refs, size_t n)
{
    stw_batch_refs_free(refs, n);
}

stw_status stw_registry_image_created(const char *ref,
                                      const stw_scan_options *opt,
                                      int64_t *created, bool *found,
                                      stw_error *err)
{
    if (!ref || !created || !found)
        return stw_fail(err, STW_ERR_USAGE, "stw_registry_image_created: NULL");
    stw_registry_options ro = registry_options(opt);
    return stw_batch_image_created(ref, &ro, opt ? opt->platform : NULL,
                                   created, found, err);
}
