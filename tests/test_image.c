/* test_image.c - manifests, indexes and configs to images: platforms,
 * nested indexes, attestations, history mapping and every way the documents
 * can lie. Documents are served from memory by a real fetch callback. */
#include "image.h"
#include "sha256.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[128];
    char *data;
} mdoc;

typedef struct {
    mdoc d[32];
    int n;
} store;

static stw_status fetch(void *ctx, const char *name, const char **data,
                        size_t *len, stw_error *err)
{
    store *s = ctx;
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->d[i].name, name)) {
            *data = s->d[i].data;
            *len = strlen(s->d[i].data);
            return STW_OK;
        }
    snprintf(err->msg, sizeof(err->msg), "missing %s", name);
    err->status = STW_ERR_NOT_FOUND;
    return STW_ERR_NOT_FOUND;
}

static void put(store *s, const char *name, const char *data)
{
    snprintf(s->d[s->n].name, sizeof(s->d[s->n].name), "%s", name);
    s->d[s->n].data = strdup(data);
    s->n++;
}

/* Adds a blob under its own digest; returns the digest (static per slot). */
static const char *put_blob(store *s, const char *data)
{
    static char digests[32][72];
    char *dg = digests[s->n];
    ck_assert_int_eq(stw_sha256_digest(data, strlen(data), dg, NULL), STW_OK);
    char name[128];
    snprintf(name, sizeof(name), "blobs/sha256/%s", dg + 7);
    put(s, name, data);
    return dg;
}

static void store_free(store *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->d[i].data);
}

#define L1                                                                     \
    "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define L2                                                                     \
    "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const char *put_image(store *s, const char *arch, const char *extra)
{
    char cfg[1024], man[1024];
    snprintf(cfg, sizeof(cfg),
             "{\"os\":\"linux\",\"architecture\":\"%s\",\"config\":{\"Env\":"
             "[\"A=b\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\""
             ",\"%s\"]},\"history\":[{\"created_by\":\"ADD rootfs\"},{"
             "\"created_by\":\"ENV X=1\",\"empty_layer\":true},{\"created_"
             "by\":\"COPY . /app\"}]%s}",
             arch, L1, L2, extra);
    const char *cd = put_blob(s, cfg);
    snprintf(man, sizeof(man),
             "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
             "vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":1},"
             "\"layers\":[{\"mediaType\":\"application/"
             "vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":"
             "10},{\"mediaType\":\"application/"
             "vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"%s\",\"size\":"
             "20}]}",
             cd, L1, L2);
    return put_blob(s, man);
}

static stw_image_source src_of(store *s, const char *platform)
{
    stw_image_source src = {fetch, s, "dir/img.oci", platform};
    return src;
}

START_TEST(test_image_oci_history_maps_to_layers)
{
    store s = {0};
    char idx[512];
    const char *m = put_image(&s, "amd64", "");
    snprintf(
        idx, sizeof(idx),
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
        "vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":1,"
        "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}}]}",
        m);
    put(&s, "index.json", idx);
    stw_image_list l = {0};
    stw_error err = {0};
    stw_image_source src = src_of(&s, NULL);
    ck_assert_int_eq(stw_image_from_oci(&src, &l, &err), STW_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.v[0].ref, "img.oci:v1");
    ck_assert_str_eq(l.v[0].platform, "linux/amd64");
    ck_assert_str_eq(l.v[0].manifest_digest, m);
    ck_assert_uint_eq(l.v[0].n_layers, 2);
    ck_assert_str_eq(l.v[0].layers[0].created_by, "ADD rootfs");
    /* The empty_layer entry made no layer. */
    ck_assert_str_eq(l.v[0].layers[1].created_by, "COPY . /app");
    ck_assert_str_eq(l.v[0].layers[1].diff_id, L2);
    ck_assert_str_eq(l.v[0].layers[1].digest, L2);
    ck_assert_str_eq(l.v[0].layers[1].name, "blobs/sha256/"
                                            "22222222222222222222222222222222"
                                            "22222222222222222222222222222222");
    ck_assert_int_eq(l.v[0].layers[1].size, 20);
    stw_image_list_clear(&l);
    store_free(&s);
}
END_TEST

START_TEST(test_image_multi_platform_index_and_filter)
{
    store s = {0};
    const char *a = put_image(&s, "amd64", "");
    const char *b = put_image(&s, "arm64", "");
    char child[1024], idx[512];
    snprintf(
        child, sizeof(child),
        "{\"schemaVersion\":2,\"mediaType\":\"application/"
        "vnd.oci.image.index.v1+json\",\"manifests\":["
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"digest\":\"%s\",\"platform\":{\"os\":\"linux\","
        "\"architecture\":\"amd64\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"digest\":\"%s\",\"platform\":{\"os\":\"linux\","
        "\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"digest\":\"sha256:"
        "0000000000000000000000000000000000000000000000000000000000000000"
        "\",\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}"
        "]}",
        a, b);
    const char *c = put_blob(&s, child);
    snprintf(idx, sizeof(idx),
             "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
             "vnd.oci.image.index.v1+json\",\"digest\":\"%s\"}]}",
             c);
    put(&s, "index.json", idx);
    stw_image_list l = {0};
    stw_error err = {0};
    stw_image_source src = src_of(&s, NULL);
    /* Both platforms; the attestation (unknown/unknown) is skipped even
     * though its blob does not exist. */
    ck_assert_int_eq(stw_image_from_oci(&src, &l, &err), STW_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.v[1].platform, "linux/arm64/v8");
    stw_image_list_clear(&l);
    src = src_of(&s, "linux/arm64");
    ck_assert_int_eq(stw_image_from_oci(&src, &l, &err), STW_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.v[0].platform, "linux/arm64/v8");
    stw_image_list_clear(&l);
    src = src_of(&s, "linux/s390x");
    ck_assert_int_eq(stw_image_from_oci(&src, &l, &err), STW_OK);
    ck_assert_uint_eq(l.n, 0);
    store_free(&s);
}
END_TEST

START_TEST(test_image_manifest_digest_mismatch_is_an_error)
{
    store s = {0};
    const char *m = put_image(&s, "amd64", "");
    /* Tamper with the manifest after its digest was taken. */
    for (int i = 0; i < s.n; i++)
        if (strstr(s.d[i].name, m + 7))
            s.d[i].data[strlen(s.d[i].data) - 2] = ' ';
    char idx[512];
    snprintf(idx, sizeof(idx), "{\"manifests\":[{\"digest\":\"%s\"}]}", m);
    put(&s, "index.json", idx);
    stw_image_list l = {0};
    stw_error err = {0};
    stw_image_source src = src_of(&s, NULL);
    ck_assert_int_eq(stw_image_from_oci(&src, &l, &err), STW_ERR_DIGEST);
    ck_assert_ptr_nonnull(strstr(err.msg, "dir/img.oci"));
    ck_assert_ptr_nonnull(strstr(err.msg, "digest mismatch"));
    stw_image_list_clear(&l);
    store_free(&s);
}
END_TEST

START_TEST(test_image_malformed_and_missing_documents)
{
    store s = {0};
    put(&s, "index.json", "{\"manifests\": [");
    stw_image_list l = {0};
    stw_error err = {0};
    stw_image_source src = src_of(&s, NULL);
    ck_assert_int_eq(stw_image_from_oci(&src, &l, &err), STW_ERR_JSON);
    ck_assert_ptr_nonnull(strstr(err.msg, "index.json"));
    store_free(&s);

    store t = {0};
    put(&t, "index.json",
        "{\"manifests\":[{\"digest\":\"sha256:"
        "abababababababababababababababababababababababababababababababab\"}]"
        "}");
    src = src_of(&t, NULL);
    ck_assert_int_eq(stw_image_from_oci(&src, &l, &err), STW_ERR_NOT_FOUND);
    store_free(&t);

    store u = {0};
    put(&u, "index.json", "{\"manifests\":[{\"digest\":\"md5:abc\"}]}");
    src = src_of(&u, NULL);
    ck_assert_int_eq(stw_image_from_oci(&src, &l, &err), STW_ERR_FORMAT);
    ck_assert_uint_eq(l.n, 0);
    store_free(&u);
}
END_TEST

START_TEST(test_image_docker_legacy_manifest)
{
    store s = {0};
    char cfg[512];
    snprintf(cfg, sizeof(cfg),
             "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{"
             "\"diff_ids\":[\"%s\"]},\"history\":[{\"created_by\":\"RUN x\"}]}",
             L1);
    put(&s, "abc.json", cfg);
    put(&s, "manifest.json",
        "[{\"Config\":\"abc.json\",\"RepoTags\":[\"app:1.2\"],\"Layers\":["
        "\"deadbeef/layer.tar\"]}]");
    stw_image_list l = {0};
    stw_error err = {0};
    stw_image_source src = src_of(&s, NULL);
    ck_assert_int_eq(stw_image_from_docker(&src, &l, &err), STW_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.v[0].ref, "app:1.2");
    ck_assert_ptr_null(l.v[0].manifest_digest);
    ck_assert_ptr_nonnull(l.v[0].config_digest);
    ck_assert_str_eq(l.v[0].layers[0].name, "deadbeef/layer.tar");
    ck_assert_ptr_null(l.v[0].layers[0].digest);
    ck_assert_str_eq(l.v[0].layers[0].diff_id, L1);
    ck_assert_str_eq(l.v[0].layers[0].created_by, "RUN x");
    stw_image_list_clear(&l);
    store_free(&s);
}
END_TEST

START_TEST(test_image_docker_diff_id_count_mismatch)
{
    store s = {0};
    char cfg[512];
    snprintf(cfg, sizeof(cfg), "{\"rootfs\":{\"diff_ids\":[\"%s\",\"%s\"]}}",
             L1, L2);
    put(&s, "abc.json", cfg);
    put(&s, "manifest.json",
        "[{\"Config\":\"abc.json\",\"Layers\":[\"a/layer.tar\"]}]");
    stw_image_list l = {0};
    stw_error err = {0};
    stw_image_source src = src_of(&s, NULL);
    ck_assert_int_eq(stw_image_from_docker(&src, &l, &err), STW_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "diff_ids"));
    ck_assert_uint_eq(l.n, 0);
    store_free(&s);
}
END_TEST

START_TEST(test_image_digest_from_member_name)
{
    char out[72];
    ck_assert(stw_image_digest_from_name(
        "blobs/sha256/"
        "c019a31a9c06d8569b348d5f54f65ced4edcfdf84f9d80753925833de4e0b725",
        out));
    ck_assert_str_eq(
        out,
        "sha256:"
        "c019a31a9c06d8569b348d5f54f65ced4edcfdf84f9d80753925833de4e0b725");
    ck_assert(stw_image_digest_from_name(
        "c019a31a9c06d8569b348d5f54f65ced4edcfdf84f9d80753925833de4e0b725.tar",
        out));
    /* A bare 64-hex name is a legacy layer id, not a digest. */
    ck_assert(!stw_image_digest_from_name(
        "c019a31a9c06d8569b348d5f54f65ced4edcfdf84f9d80753925833de4e0b725",
        out));
    ck_assert(!stw_image_digest_from_name("x/layer.tar", out));
    ck_assert(!stw_image_digest_from_name("blobs/sha256/short", out));
}
END_TEST

int main(void)
{
    Suite *su = suite_create("image");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_image_oci_history_maps_to_layers);
    tcase_add_test(tc, test_image_multi_platform_index_and_filter);
    tcase_add_test(tc, test_image_manifest_digest_mismatch_is_an_error);
    tcase_add_test(tc, test_image_malformed_and_missing_documents);
    tcase_add_test(tc, test_image_docker_legacy_manifest);
    tcase_add_test(tc, test_image_docker_diff_id_count_mismatch);
    tcase_add_test(tc, test_image_digest_from_member_name);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
