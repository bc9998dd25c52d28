/* common.c - error reporting and small string helpers shared by modules. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <unistd.h>

stw_status stw_fail(stw_error *err, stw_status st, const char *fmt, ...)
{
    if (!err)
        return st;
    err->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return st;
}

void stw_error_prefix(stw_error *err, const char *prefix)
{
    if (!err || !prefix || !*prefix)
        return;
    size_t pl = strlen(prefix);
    if (strncmp(err->msg, prefix, pl) == 0)
        return;
    /* Built by hand: the message is cut to fit, which snprintf warns of. */
    char tmp[STW_ERROR_MAX];
    size_t ml = strlen(err->msg);
    size_t n = 0;
    for (size_t i = 0; i < pl && n + 1 < sizeof(tmp); i++)
        tmp[n++] = prefix[i];
    for (const char *sep = ": "; *sep && n + 1 < sizeof(tmp); sep++)
        tmp[n++] = *sep;
    for (size_t i = 0; i < ml && n + 1 < sizeof(tmp); i++)
        tmp[n++] = err->msg[i];
    tmp[n] = 0;
    memcpy(err->msg, tmp, n + 1);
}

void stw_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

const char *stw_strerror(int errnum, char *buf, size_t len)
{
    /* The XSI strerror_r (we build with _POSIX_C_SOURCE) returns an int. */
    if (strerror_r(errnum, buf, len) != 0)
        snprintf(buf, len, "error %d", errnum);
    return buf;
}

const char *stw_status_str(stw_status st)
{
    switch (st) {
    case STW_OK:
        return "ok";
    case STW_ERR_NOMEM:
        return "out of memory";
    case STW_ERR_IO:
        return "I/O error";
    case STW_ERR_FORMAT:
        return "bad format";
    case STW_ERR_TRUNCATED:
        return "truncated input";
    case STW_ERR_DIGEST:
        return "digest mismatch";
    case STW_ERR_LIMIT:
        return "limit exceeded";
    case STW_ERR_JSON:
        return "malformed JSON";
    case STW_ERR_DB:
        return "database error";
    case STW_ERR_USAGE:
        return "usage error";
    case STW_ERR_RULES:
        return "rules error";
    case STW_ERR_NOT_FOUND:
        return "not found";
    case STW_ERR_CANCELLED:
        return "cancelled";
    }
    return "unknown error";
}

static const char *const kind_names[STW_KIND_COUNT_] = {
    [STW_KIND_SECRET] = "secret",
    [STW_KIND_PRIVATE_KEY] = "private-key",
    [STW_KIND_CREDENTIAL_FILE] = "credential-file",
    [STW_KIND_ARTIFACT] = "artifact",
    [STW_KIND_SETUID] = "setuid",
    [STW_KIND_SETGID] = "setgid",
    [STW_KIND_WORLD_WRITABLE] = "world-writable",
    [STW_KIND_CONFIG] = "config",
};

static const char *const severity_names[STW_SEV_COUNT_] = {
    [STW_SEV_INFO] = "info",         [STW_SEV_LOW] = "low",
    [STW_SEV_MEDIUM] = "medium",     [STW_SEV_HIGH] = "high",
    [STW_SEV_CRITICAL] = "critical",
};

const char *stw_kind_str(stw_kind k)
{
    return (unsigned)k < STW_KIND_COUNT_ ? kind_names[k] : "unknown";
}

const char *stw_severity_str(stw_severity s)
{
    return (unsigned)s < STW_SEV_COUNT_ ? severity_names[s] : "unknown";
}

stw_status stw_severity_parse(const char *s, stw_severity *out)
{
    for (int i = 0; s && i < STW_SEV_COUNT_; i++) {
        if (strcasecmp(s, severity_names[i]) == 0) {
            *out = (stw_severity)i;
            return STW_OK;
        }
    }
    return STW_ERR_USAGE;
}

stw_status stw_kind_parse(const char *s, stw_kind *out)
{
    for (int i = 0; s && i < STW_KIND_COUNT_; i++) {
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (stw_kind)i;
            return STW_OK;
        }
    }
    return STW_ERR_USAGE;
}

stw_status stw_read_small_file(const char *path, const char *label, size_t max,
                               char **out, size_t *len, stw_error *err)
{
    char eb[128];
    if (!label)
        label = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return stw_fail(err, errno == ENOENT ? STW_ERR_NOT_FOUND : STW_ERR_IO,
                        "%s: %s", label, stw_strerror(errno, eb, sizeof(eb)));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return stw_fail(err, STW_ERR_FORMAT, "%s: not a regular file", label);
    }
    if ((uint64_t)sb.st_size > max) {
        close(fd);
        return stw_fail(err, STW_ERR_LIMIT, "%s: %lld bytes, more than %zu",
                        label, (long long)sb.st_size, max);
    }
    size_t size = (size_t)sb.st_size, got = 0;
    char *buf = stw_malloc(size + 1);
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* shrank while we read, or failed: short read below */
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != size) {
        free(buf);
        return buf ? stw_fail(err, STW_ERR_IO, "%s: short read", label)
                   : stw_fail(err, STW_ERR_NOMEM, "out of memory");
    }
    buf[got] = 0;
    *out = buf;
    *len = got;
    return STW_OK;
}

void stw_sort(void *base, size_t n, size_t size,
              int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

bool stw_is_hex64(const char *p)
{
    for (int i = 0; i < 64; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

void stw_thread_name(const char *name)
{
#ifdef __linux__
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
#else
    (void)name;
#endif
}
