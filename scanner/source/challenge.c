/* challenge.c - parsers of the two HTTP header values the registry client
 * acts on: WWW-Authenticate (RFC 7235) and Link (RFC 8288). Pure functions
 * of a string, so each can be fuzzed alone. */
#include "registry_internal.h"

#include "common.h"

#include <string.h>
#include <strings.h>

static bool tchar(char c)
{
    return stw_reg_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

bool stw_reg_challenge_ours(const char *value)
{
    return !strncasecmp(value, "bearer", 6) || !strncasecmp(value, "basic", 5);
}

stw_status stw_registry_parse_challenge(const char *value,
                                        stw_registry_challenge *out,
                                        stw_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *p = value ? value : "";
    for (;;) {
        p = skip_ws(p);
        while (*p == ',')
            p = skip_ws(p + 1);
        if (!*p)
            break;
        const char *s0 = p;
        while (tchar(*p))
            p++;
        size_t sl = (size_t)(p - s0);
        if (sl == 0)
            return stw_fail(err, STW_ERR_FORMAT,
                            "malformed WWW-Authenticate header");
        stw_registry_challenge c = {0};
        bool usable = (sl == 6 && strncasecmp(s0, "bearer", 6) == 0) ||
                      (sl == 5 && strncasecmp(s0, "basic", 5) == 0);
        for (size_t i = 0; usable && i < sl; i++)
            c.scheme[i] = (char)(s0[i] | 0x20);
        for (;;) {
            p = skip_ws(p);
            const char *k0 = p;
            while (tchar(*p))
                p++;
            size_t kl = (size_t)(p - k0);
            const char *q = skip_ws(p);
            if (kl == 0 || *q != '=') {
                p = k0; /* the next challenge's scheme, or the end */
                break;
            }
            p = skip_ws(q + 1);
            char val[1024];
            size_t vl = 0;
            bool over = false;
            if (*p == '"') {
                for (p++; *p && *p != '"'; p++) {
                    if (*p == '\\' && p[1])
                        p++;
                    if (vl + 1 < sizeof(val))
                        val[vl++] = *p;
                    else
                        over = true;
                }
                if (*p != '"')
                    return stw_fail(err, STW_ERR_FORMAT,
                                    "WWW-Authenticate: unterminated quoted "
                                    "string");
                p++;
            } else {
                for (; *p && *p != ',' && *p != ' ' && *p != '\t'; p++) {
                    if (vl + 1 < sizeof(val))
                        val[vl++] = *p;
                    else
                        over = true;
                }
            }
            val[vl] = 0;
            if (usable) {
                char *dst = NULL;
                size_t dn = 0;
                if (kl == 5 && strncasecmp(k0, "realm", 5) == 0)
                    dst = c.realm, dn = sizeof(c.realm);
                else if (kl == 7 && strncasecmp(k0, "service", 7) == 0)
                    dst = c.service, dn = sizeof(c.service);
                else if (kl == 5 && strncasecmp(k0, "scope", 5) == 0)
                    dst = c.scope, dn = sizeof(c.scope);
                else if (kl == 5 && strncasecmp(k0, "error", 5) == 0)
                    dst = c.error, dn = sizeof(c.error);
                if (dst && (over || !stw_reg_copy_field(dst, dn, val)))
                    return stw_fail(err, STW_ERR_FORMAT,
                                    "WWW-Authenticate: %.*s is too long",
                                    (int)kl, k0);
            }
            p = skip_ws(p);
            if (*p != ',')
                break;
            p++;
        }
        if (usable) {
            if (c.scheme[1] == 'e' && !c.realm[0])
                return stw_fail(err, STW_ERR_FORMAT,
                                "WWW-Authenticate: Bearer challenge without "
                                "realm");
            *out = c;
            return STW_OK;
        }
        if (*p && *p != ',' && !tchar(*p))
            break;
    }
    return stw_fail(err, STW_ERR_FORMAT,
                    "WWW-Authenticate: no Bearer or Basic challenge");
}

bool stw_registry_next_link(const char *value, char *out, size_t n)
{
    const char *p = value ? value : "";
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p != '<')
            return false;
        const char *u = ++p, *gt = strchr(p, '>');
        if (!gt)
            return false;
        size_t ul = (size_t)(gt - u);
        p = gt + 1;
        bool next = false;
        /* Parameters up to the next link: ;name=value or ;name="value". */
        while (*p && *p != ',') {
            while (*p == ' ' || *p == '\t' || *p == ';')
                p++;
            const char *name = p;
            while (*p && *p != '=' && *p != ';' && *p != ',')
                p++;
            size_t nl = (size_t)(p - name);
            while (nl && (name[nl - 1] == ' ' || name[nl - 1] == '\t'))
                nl--;
            char val[256];
            size_t vl = 0;
            if (*p == '=') {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                bool quoted = *p == '"';
                p += quoted;
                while (*p && (quoted ? *p != '"' : (*p != ';' && *p != ','))) {
                    if (quoted && *p == '\\' && p[1])
                        p++;
                    if (vl + 1 < sizeof(val))
                        val[vl++] = *p;
                    p++;
                }
                p += quoted && *p == '"';
            }
            val[vl] = 0;
            if (nl == 3 && strncasecmp(name, "rel", 3) == 0) {
                /* rel may list several relation types. */
                for (char *save = NULL, *t = strtok_r(val, " \t", &save); t;
                     t = strtok_r(NULL, " \t", &save))
                    next |= strcasecmp(t, "next") == 0;
            }
            while (*p == ' ' || *p == '\t')
                p++;
        }
        if (next) {
            if (ul == 0 || ul >= n)
                return false;
            memcpy(out, u, ul);
            out[ul] = 0;
            return true;
        }
    }
    return false;
}
