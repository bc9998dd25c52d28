/* ref.c - image references ("[REGISTRY/]REPO[:TAG][@DIGEST]") and the
 * grammar of repository, tag and host names, with the bounded string copies
 * the registry files share. Pure: no network, no filesystem. */
#include "registry_internal.h"

#include "common.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void stw_reg_clean_copy(char *dst, size_t n, const char *src, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[o] = 0;
}

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool stw_reg_alnum(char c)
{
    return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

bool stw_reg_valid_repo(const char *s)
{
    const char *p = s;
    for (;;) {
        if (!lower_alnum(*p))
            return false;
        while (*p && *p != '/') {
            if (!lower_alnum(*p) && *p != '.' && *p != '_' && *p != '-')
                return false;
            p++;
        }
        if (!lower_alnum(p[-1]))
            return false;
        if (!*p)
            return true;
        p++;
    }
}

bool stw_reg_valid_tag(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!stw_reg_alnum(s[i]) && s[i] != '_' &&
            (i == 0 || (s[i] != '.' && s[i] != '-')))
            return false;
    return true;
}

bool stw_reg_valid_host(const char *s)
{
    const char *p = s;
    if (*p == '[') {
        for (p++; *p && *p != ']'; p++)
            if (!stw_reg_alnum(*p) && *p != ':' && *p != '.')
                return false;
        if (*p++ != ']')
            return false;
    } else {
        for (; *p && *p != ':'; p++)
            if (!stw_reg_alnum(*p) && *p != '.' && *p != '-')
                return false;
        if (p == s)
            return false;
    }
    if (*p == ':') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
        if (digits == 0 || digits > 5)
            return false;
    }
    return *p == 0;
}

bool stw_reg_copy_field(char *dst, size_t n, const char *src)
{
    size_t l = strlen(src);
    if (l >= n)
        return false;
    memcpy(dst, src, l + 1);
    return true;
}

stw_status stw_registry_parse_ref(const char *s, stw_registry_ref *out,
                                  stw_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!s || !*s)
        return stw_fail(err, STW_ERR_USAGE, "empty image reference");
    if (strlen(s) >= STW_REGISTRY_REF_MAX)
        return stw_fail(err, STW_ERR_USAGE,
                        "image reference longer than %d bytes",
                        STW_REGISTRY_REF_MAX - 1);
    const char *p = s;
    bool prefixed = false;
    if (strncmp(p, "docker://", 9) == 0) {
        p += 9;
        prefixed = true;
    } else if (strncmp(p, "oci://", 6) == 0) {
        p += 6;
        prefixed = true;
    }
    char buf[STW_REGISTRY_REF_MAX];
    memcpy(buf, p, strlen(p) + 1);
    char *at = strchr(buf, '@');
    if (at) {
        *at = 0;
        if (strncmp(at + 1, "sha256:", 7) != 0)
            return stw_fail(err, STW_ERR_USAGE,
                            "%s: only sha256 digests are supported", s);
        if (!stw_sha256_digest_valid(at + 1))
            return stw_fail(err, STW_ERR_USAGE, "%s: malformed digest", s);
        snprintf(out->digest, sizeof(out->digest), "%s", at + 1);
    }
    char *slash = strrchr(buf, '/');
    char *colon = strrchr(buf, ':');
    if (colon && (!slash || colon > slash)) {
        *colon = 0;
        if (!stw_reg_valid_tag(colon + 1))
            return stw_fail(err, STW_ERR_USAGE, "%s: malformed tag", s);
        snprintf(out->tag, sizeof(out->tag), "%s", colon + 1);
    }
    const char *repo = buf;
    const char *host = STW_REG_DOCKER_HUB;
    char *first = strchr(buf, '/');
    if (first) {
        *first = 0;
        if (strchr(buf, '.') || strchr(buf, ':') || buf[0] == '[' ||
            strcmp(buf, "localhost") == 0) {
            if (!stw_reg_valid_host(buf))
                return stw_fail(err, STW_ERR_USAGE,
                                "%s: malformed registry host", s);
            host = buf;
            repo = first + 1;
            out->explicit_registry = true;
        } else {
            *first = '/';
        }
    }
    if (strcasecmp(host, "index.docker.io") == 0 ||
        strcasecmp(host, STW_REG_DOCKER_HUB_HOST) == 0)
        host = STW_REG_DOCKER_HUB;
    if (!stw_reg_copy_field(out->registry, sizeof(out->registry), host))
        return stw_fail(err, STW_ERR_USAGE, "%s: registry host too long", s);
    bool hub = strcmp(out->registry, STW_REG_DOCKER_HUB) == 0;
    int n = snprintf(out->repository, sizeof(out->repository), "%s%s",
                     hub && !strchr(repo, '/') ? "library/" : "", repo);
    if (n < 0 || (size_t)n >= sizeof(out->repository) ||
        !stw_reg_valid_repo(repo))
        return stw_fail(err, STW_ERR_USAGE, "%s: malformed repository name", s);
    if (!out->tag[0] && !out->digest[0])
        snprintf(out->tag, sizeof(out->tag), "latest");
    out->explicit_registry |= prefixed;
    return STW_OK;
}

char *stw_registry_ref_format(const stw_registry_ref *ref, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s%s%s%s%s", ref->registry, ref->repository,
             ref->tag[0] ? ":" : "", ref->tag, ref->digest[0] ? "@" : "",
             ref->digest);
    return buf;
}
