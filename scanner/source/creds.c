/* creds.c - registry credentials: a docker config.json ("auths",
 * credHelpers, credsStore) and docker-credential-NAME helpers run with
 * posix_spawn, resolved once per connection on the first 401. */
#include "registry_internal.h"

#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The key Docker Hub's credentials are stored under, and the server name a
 * credential helper is asked for. */
#define DOCKER_HUB_AUTH_KEY "https://index.docker.io/v1/"

void stw_reg_wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void stw_registry_cred_clear(stw_registry_cred *c)
{
    if (!c)
        return;
    free(c->username);
    stw_reg_wipe_free(c->password);
    free(c->helper);
    memset(c, 0, sizeof(*c));
}

/* Decodes standard base64 (padding optional) into a NUL-terminated,
 * malloc'd buffer. NULL if malformed or out of memory. */
static char *b64_decode(const char *in, size_t *outlen)
{
    size_t n = strlen(in);
    size_t padded = (n + 3) / 4 * 4;
    char *tmp = stw_malloc(padded + 1);
    unsigned char *out = stw_malloc(padded / 4 * 3 + 1);
    if (!tmp || !out || n % 4 == 1) {
        free(tmp);
        free(out);
        return NULL;
    }
    memcpy(tmp, in, n);
    memset(tmp + n, '=', padded - n);
    tmp[padded] = 0;
    int r =
        padded ? EVP_DecodeBlock(out, (unsigned char *)tmp, (int)padded) : 0;
    size_t pads = 0;
    while (pads < 2 && pads < padded && tmp[padded - 1 - pads] == '=')
        pads++;
    explicit_bzero(tmp, padded);
    free(tmp);
    if (r < 0 || (size_t)r < pads) {
        free(out);
        return NULL;
    }
    *outlen = (size_t)r - pads;
    out[*outlen] = 0;
    return (char *)out;
}

/* True if a config.json key ("https://host/v1/", "host:port") names
 * registry. */
static bool key_matches(const char *key, const char *registry)
{
    const char *k = key;
    if (strncasecmp(k, "https://", 8) == 0)
        k += 8;
    else if (strncasecmp(k, "http://", 7) == 0)
        k += 7;
    size_t kl = strcspn(k, "/");
    if (strcmp(registry, STW_REG_DOCKER_HUB) == 0) {
        static const char *const hub[] = {"docker.io", "index.docker.io",
                                          STW_REG_DOCKER_HUB_HOST};
        for (size_t i = 0; i < STW_ARRAY_LEN(hub); i++)
            if (kl == strlen(hub[i]) && strncasecmp(k, hub[i], kl) == 0)
                return true;
        return false;
    }
    return kl == strlen(registry) && strncasecmp(k, registry, kl) == 0;
}

static stw_status set_pair(stw_registry_cred *out, const char *u, size_t ul,
                           const char *pw)
{
    free(out->username);
    stw_reg_wipe_free(out->password);
    out->username = stw_malloc(ul + 1);
    out->password = stw_strdup(pw);
    if (!out->username || !out->password)
        return STW_ERR_NOMEM;
    memcpy(out->username, u, ul);
    out->username[ul] = 0;
    return STW_OK;
}

stw_status stw_registry_config_auth(const char *json, size_t len,
                                    const char *registry,
                                    stw_registry_cred *out, stw_error *err)
{
    memset(out, 0, sizeof(*out));
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return stw_fail(err, STW_ERR_JSON,
                        "docker config: malformed JSON: %s (line %d)",
                        root ? "not an object" : je.text, je.line);
    }
    stw_status st = STW_OK;
    const char *k, *helper = NULL;
    json_t *v;
    json_object_foreach(json_object_get(root, "credHelpers"), k, v)
    {
        const char *h = json_string_value(v);
        if (key_matches(k, registry) && h && *h) {
            helper = h;
            break;
        }
    }
    const char *store = json_string_value(json_object_get(root, "credsStore"));
    if (!helper && store && *store)
        helper = store;
    if (helper && !(out->helper = stw_strdup(helper)))
        st = STW_ERR_NOMEM;
    json_object_foreach(json_object_get(root, "auths"), k, v)
    {
        if (st != STW_OK || !key_matches(k, registry) || !json_is_object(v))
            continue;
        const char *a = json_string_value(json_object_get(v, "auth"));
        const char *u = json_string_value(json_object_get(v, "username"));
        const char *pw = json_string_value(json_object_get(v, "password"));
        if (a && *a) {
            size_t dl = 0;
            char *d = b64_decode(a, &dl);
            char *c = d ? memchr(d, ':', dl) : NULL;
            if (!c || strlen(d) != dl) {
                stw_reg_wipe_free(d);
                char kc[128];
                stw_reg_clean_copy(kc, sizeof(kc), k, strlen(k));
                st = stw_fail(err, STW_ERR_FORMAT,
                              "docker config: auths[\"%s\"]: \"auth\" is "
                              "not base64 of user:password",
                              kc);
                break;
            }
            st = set_pair(out, d, (size_t)(c - d), c + 1);
            stw_reg_wipe_free(d);
        } else if (u && pw) {
            st = set_pair(out, u, strlen(u), pw);
        } else {
            continue;
        }
        break;
    }
    json_decref(root);
    if (st == STW_ERR_NOMEM)
        stw_fail(err, st, "out of memory");
    if (st != STW_OK)
        stw_registry_cred_clear(out);
    return st;
}

stw_status stw_registry_parse_helper_output(const char *json, size_t len,
                                            stw_registry_cred *out,
                                            stw_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    const char *u = json_string_value(json_object_get(root, "Username"));
    const char *s = json_string_value(json_object_get(root, "Secret"));
    stw_status st = STW_OK;
    if (!u || !s)
        st = stw_fail(err, STW_ERR_JSON,
                      "credential helper: answer without Username and "
                      "Secret");
    else if (set_pair(out, u, strlen(u), s) != STW_OK)
        st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
    json_decref(root);
    return st;
}

/* pipe() with both ends close-on-exec, so concurrent spawns elsewhere in
 * the process do not inherit them (pipe2 is not POSIX 2008). */
static int pipe_cloexec(int fd[2])
{
    if (pipe(fd) != 0)
        return -1;
    if (fcntl(fd[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(fd[1], F_SETFD, FD_CLOEXEC) != 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    return 0;
}

/* Runs `docker-credential-NAME get` with the server URL on standard input.
 * *ran is false when no such program is on PATH; a helper that exits
 * non-zero (it knows no credentials for the server) leaves out empty. */
static stw_status run_helper(const stw_registry *r, const char *name,
                             stw_registry_cred *out, bool *ran, stw_error *err)
{
    *ran = false;
    for (const char *p = name; *p; p++)
        if (!stw_reg_alnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return stw_fail(err, STW_ERR_FORMAT,
                            "docker config: bad credential helper name");
    char prog[160];
    snprintf(prog, sizeof(prog), "docker-credential-%s", name);
    const char *server = strcmp(r->ref.registry, STW_REG_DOCKER_HUB) == 0
                             ? DOCKER_HUB_AUTH_KEY
                             : r->ref.registry;
    int in[2], outp[2];
    if (pipe_cloexec(in) != 0)
        return stw_fail(err, STW_ERR_IO, "%s: pipe failed", prog);
    if (pipe_cloexec(outp) != 0) {
        close(in[0]);
        close(in[1]);
        return stw_fail(err, STW_ERR_IO, "%s: pipe failed", prog);
    }
    /* The input fits the pipe buffer: writing it before the child exists
     * means no SIGPIPE whatever the helper does. */
    ssize_t w = write(in[1], server, strlen(server));
    close(in[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {prog, (char *)"get", NULL};
    pid_t pid;
    int rc = w == (ssize_t)strlen(server)
                 ? posix_spawnp(&pid, prog, &fa, NULL, argv, environ)
                 : EIO;
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(outp[1]);
    if (rc != 0) {
        close(outp[0]);
        if (rc == ENOENT)
            return STW_OK;
        char eb[128];
        return stw_fail(err, STW_ERR_IO, "%s: %s", prog,
                        stw_strerror(rc, eb, sizeof(eb)));
    }
    *ran = true;
    char *buf = stw_malloc(STW_REGISTRY_MAX_HELPER_BYTES + 1);
    size_t len = 0;
    bool timed_out = false, too_big = false;
    time_t deadline = time(NULL) + r->timeout_s;
    while (buf) {
        struct pollfd pf = {outp[0], POLLIN, 0};
        int pr = poll(&pf, 1, 1000);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            if (time(NULL) >= deadline) {
                timed_out = true;
                break;
            }
            continue;
        }
        if (len == STW_REGISTRY_MAX_HELPER_BYTES) {
            too_big = true;
            break;
        }
        ssize_t n =
            read(outp[0], buf + len, STW_REGISTRY_MAX_HELPER_BYTES - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(outp[0]);
    if (timed_out || too_big || !buf)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    stw_status st = STW_OK;
    if (!buf)
        st = stw_fail(err, STW_ERR_NOMEM, "out of memory");
    else if (timed_out || too_big)
        st = stw_fail(err, STW_ERR_IO, "%s: %s", prog,
                      timed_out ? "timed out" : "answer too large");
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        st = stw_registry_parse_helper_output(buf, len, out, err);
    if (buf) {
        explicit_bzero(buf, len);
        free(buf);
    }
    if (st != STW_OK)
        stw_error_prefix(err, r->name);
    return st;
}

stw_status stw_reg_resolve_creds(stw_registry *r, stw_error *err)
{
    if (r->creds_resolved)
        return STW_OK;
    r->creds_resolved = true;
    if (r->user)
        return STW_OK;
    char path[4096];
    const char *dc = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
    if (r->docker_config)
        snprintf(path, sizeof(path), "%s", r->docker_config);
    else if (dc && *dc)
        snprintf(path, sizeof(path), "%s/config.json", dc);
    else if (home && *home)
        snprintf(path, sizeof(path), "%s/.docker/config.json", home);
    else
        return STW_OK;
    if (!path[0])
        return STW_OK;
    char *json = NULL;
    size_t len = 0;
    stw_status st =
        stw_read_small_file(path, NULL, STW_MAX_JSON_BYTES, &json, &len, err);
    if (st == STW_ERR_NOT_FOUND)
        return STW_OK;
    if (st != STW_OK)
        return st;
    stw_registry_cred c;
    st = stw_registry_config_auth(json, len, r->ref.registry, &c, err);
    explicit_bzero(json, len);
    free(json);
    if (st != STW_OK) {
        stw_error_prefix(err, path);
        stw_error_prefix(err, r->name);
        return st;
    }
    if (c.helper) {
        stw_registry_cred hc = {0};
        bool ran;
        st = run_helper(r, c.helper, &hc, &ran, err);
        if (st == STW_OK && hc.username) {
            stw_registry_cred_clear(&c);
            c = hc;
        } else {
            stw_registry_cred_clear(&hc);
        }
    }
    if (st == STW_OK && c.username) {
        r->user = c.username;
        r->pass = c.password;
        c.username = c.password = NULL;
    }
    stw_registry_cred_clear(&c);
    return st;
}
