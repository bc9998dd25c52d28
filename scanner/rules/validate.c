/* validate.c - entropy, the placeholder filter and the registry of named
 * offline validators: token checksums (GitHub, npm), structural checks
 * (JWT, AWS key ids, base64) and private key bodies. No network, ever. */
#include "validate.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Decodes base64 (standard alphabet) while skipping whitespace and the
 * escaped line breaks "\n" / "\r" of keys embedded in JSON or code strings.
 * Stops at '=' or at the first foreign character. Decodes at most cap bytes
 * into out and returns how many it wrote. */
static size_t b64_prefix(const char *s, size_t n, unsigned char *out,
                         size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n && o < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        else if (c == '\\' && i + 1 < n &&
                 (s[i + 1] == 'n' || s[i + 1] == 'r')) {
            i++;
            continue;
        } else
            break;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o;
}

/* A private key body is recognised by what it decodes to: a DER SEQUENCE
 * (PKCS#1, SEC1, PKCS#8, DSA), the openssh-key-v1 magic, an OpenPGP secret
 * key packet, or a PuTTY private blob (a length-prefixed mpint/string). A
 * body that decodes to something else is still reported (it may be a real
 * key mangled in transit), just not marked validated. */
static stw_validity validate_private_key(const char *s, size_t n)
{
    unsigned char d[16];
    size_t k = b64_prefix(s, n, d, sizeof(d));
    if (k < 4)
        return STW_VALID_UNKNOWN;
    if (d[0] == 0x30 && (d[1] == 0x81 || d[1] == 0x82 || d[1] < 0x80))
        return STW_VALID_YES;
    if (k >= 15 && memcmp(d, "openssh-key-v1", 15) == 0)
        return STW_VALID_YES;
    /* OpenPGP packet header: bit 7 set; tag 5 = secret key, new or old
     * format. */
    if ((d[0] & 0xC0) == 0xC0 && (d[0] & 0x3F) == 5)
        return STW_VALID_YES;
    if ((d[0] & 0xC0) == 0x80 && ((d[0] >> 2) & 0x0F) == 5)
        return STW_VALID_YES;
    if (d[0] == 0 && d[1] == 0 && d[2] < 0x10)
        return STW_VALID_YES; /* PuTTY: big-endian length of first field */
    return STW_VALID_UNKNOWN;
}

/* ---- token checksums ---------------------------------------------------- */

static uint32_t crc32_bytes(const char *s, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= (unsigned char)s[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

/* GitHub's classic tokens (ghp_ gho_ ghu_ ghs_ ghr_) and npm's npm_ tokens
 * end in 30 random base62 characters followed by the CRC32 of those 30,
 * written as 6 base62 digits (0-9A-Za-z, most significant first). A real
 * token always carries a correct one, so a wrong checksum means the string
 * is not a token (a hand-typed example, a truncated copy): drop it. */
static stw_validity crc62_suffix(const char *s, size_t n)
{
    static const char b62[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const char *u = memchr(s, '_', n);
    if (!u)
        return STW_VALID_NO;
    const char *body = u + 1;
    size_t bn = n - (size_t)(body - s);
    if (bn != 36)
        return STW_VALID_NO;
    uint32_t crc = crc32_bytes(body, 30);
    char want[6];
    for (int i = 5; i >= 0; i--) {
        want[i] = b62[crc % 62];
        crc /= 62;
    }
    return memcmp(want, body + 30, 6) == 0 ? STW_VALID_YES : STW_VALID_NO;
}

/* ---- structural checks -------------------------------------------------- */

static int b64_value(unsigned char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* Strict decode of standard or URL-safe base64 (padding optional, no
 * whitespace). Returns false on a foreign character, bad padding or a
 * length that no encoder produces; *outn bytes written (capped at cap). */
static bool b64_decode(const char *s, size_t n, bool url, unsigned char *out,
                       size_t cap, size_t *outn)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return false;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)s[i], url);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < cap)
                out[o] = (unsigned char)(acc >> bits);
            o++;
        }
    }
    *outn = o < cap ? o : cap;
    return true;
}

/* Bound on the JWT header and base64 payloads examined: headers are tens
 * of bytes; a longer one is judged on its first JWT_HEADER_MAX bytes. */
#define JWT_HEADER_MAX 2048

/* A JWT is header.payload[.signature] in base64url; the header must decode
 * to a JSON object naming its "alg". Parsed fully -> validated; a header
 * that starts like JSON and names "alg" but does not parse (a mangled
 * copy) -> unknown; anything else is not a JWT. */
static stw_validity validate_jwt(const char *s, size_t n)
{
    const char *dot = memchr(s, '.', n);
    if (!dot)
        return STW_VALID_NO;
    size_t hn = (size_t)(dot - s);
    unsigned char hdr[JWT_HEADER_MAX];
    size_t k;
    if (hn > (JWT_HEADER_MAX / 3) * 4)
        hn = (JWT_HEADER_MAX / 3) * 4;
    if (!b64_decode(s, hn, true, hdr, sizeof(hdr), &k) &&
        !b64_decode(s, hn, false, hdr, sizeof(hdr), &k))
        return STW_VALID_NO;
    if (k < 8 || hdr[0] != '{')
        return STW_VALID_NO;
    bool names_alg = false;
    for (size_t i = 0; i + 5 <= k && !names_alg; i++)
        names_alg = memcmp(hdr + i, "\"alg\"", 5) == 0;
    if (!names_alg)
        return STW_VALID_NO;
    json_error_t je;
    json_t *j = json_loadb((const char *)hdr, k, JSON_DISABLE_EOF_CHECK, &je);
    stw_validity v = STW_VALID_UNKNOWN;
    if (j && json_is_object(j) && json_is_string(json_object_get(j, "alg")))
        v = STW_VALID_YES;
    json_decref(j);
    return v;
}

/* A JWT that was base64-encoded once more ("ZXlK..." = "eyJ..."), as
 * Kubernetes secrets and config stores hold them. The inner text must be
 * segments of base64url JSON: a header naming "alg" -> validated; another
 * JSON object header (JWS/JWE/JWK variants) -> unknown; else not a token. */
static stw_validity validate_b64_jwt(const char *s, size_t n)
{
    unsigned char d[JWT_HEADER_MAX * 2];
    size_t k;
    size_t lim = n > (sizeof(d) / 3) * 4 ? (sizeof(d) / 3) * 4 : n;
    lim -= lim % 4;
    if (!b64_decode(s, lim, false, d, sizeof(d), &k) &&
        !b64_decode(s, lim, true, d, sizeof(d), &k))
        return STW_VALID_NO;
    if (k < 8 || memcmp(d, "eyJ", 3) != 0)
        return STW_VALID_NO;
    stw_validity v = validate_jwt((const char *)d, k);
    if (v != STW_VALID_NO)
        return v;
    const unsigned char *dot = memchr(d, '.', k);
    unsigned char hdr[JWT_HEADER_MAX];
    size_t hk;
    size_t hn = dot ? (size_t)(dot - d) : k;
    hn -= hn % 4 == 1 ? 1 : 0;
    if (b64_decode((const char *)d, hn, true, hdr, sizeof(hdr), &hk) &&
        hk >= 2 && hdr[0] == '{' && hdr[1] == '"')
        return STW_VALID_UNKNOWN;
    return STW_VALID_NO;
}

/* AWS access key ids: a documented 4-letter prefix (AKIA long-term, ASIA
 * STS temporary, ABIA, ACCA, A3T...) and 16 characters of base32 (A-Z,
 * 2-7): the id encodes the account in that alphabet, so 0 1 8 9 never
 * occur. */
static stw_validity validate_aws_key_id(const char *s, size_t n)
{
    if (n != 20)
        return STW_VALID_NO;
    static const char *const prefixes[] = {"AKIA", "ASIA", "ABIA", "ACCA",
                                           "AGPA", "AIDA", "AROA", "AIPA",
                                           "ANPA", "ANVA", "APKA"};
    bool ok = false;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        ok |= memcmp(s, prefixes[i], 4) == 0;
    if (!ok && !(memcmp(s, "A3T", 3) == 0 && ((s[3] >= 'A' && s[3] <= 'Z') ||
                                              (s[3] >= '0' && s[3] <= '9'))))
        return STW_VALID_NO;
    for (size_t i = 4; i < 20; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')))
            return STW_VALID_NO;
    }
    return STW_VALID_YES;
}

/* The secret must be well-formed base64 (standard or URL-safe). */
static stw_validity validate_base64(const char *s, size_t n)
{
    unsigned char d[64];
    size_t k;
    if (n < 4)
        return STW_VALID_NO;
    if (b64_decode(s, n, false, d, sizeof(d), &k) ||
        b64_decode(s, n, true, d, sizeof(d), &k))
        return STW_VALID_YES;
    return STW_VALID_NO;
}

/* HTTP Basic credentials: base64 of "user:password" (RFC 7617), so the
 * bytes decode to printable text holding a colon ("Basic parsing" in a
 * changelog decodes to neither). */
static stw_validity validate_basic_credentials(const char *s, size_t n)
{
    unsigned char d[192];
    size_t k;
    if (n < 4 || !b64_decode(s, n, false, d, sizeof(d), &k) || k < 3)
        return STW_VALID_NO;
    bool colon = false;
    for (size_t i = 0; i < k; i++) {
        if (d[i] < 0x20 || d[i] == 0x7f)
            return STW_VALID_NO;
        colon |= d[i] == ':';
    }
    return colon ? STW_VALID_UNKNOWN : STW_VALID_NO;
}

/* checksum: a NO from the validator proves the string is no token of the
 * issuer's (see stw_validator_is_checksum). */
static const struct {
    const char *name;
    stw_validator_fn fn;
    bool checksum;
} validators[] = {
    {"none", NULL, false},
    {"private-key", validate_private_key, false},
    {"github-checksum", crc62_suffix, true},
    {"npm-checksum", crc62_suffix, true},
    {"jwt", validate_jwt, false},
    {"base64-jwt", validate_b64_jwt, false},
    {"aws-key-id", validate_aws_key_id, false},
    {"base64", validate_base64, false},
    {"basic-credentials", validate_basic_credentials, false},
};

bool stw_validator_lookup(const char *name, stw_validator_fn *fn)
{
    *fn = NULL;
    if (!name)
        return true;
    for (size_t i = 0; i < sizeof(validators) / sizeof(validators[0]); i++) {
        if (strcmp(name, validators[i].name) == 0) {
            *fn = validators[i].fn;
            return true;
        }
    }
    return false;
}

bool stw_validator_is_checksum(const char *name)
{
    for (size_t i = 0; name && i < sizeof(validators) / sizeof(validators[0]);
         i++) {
        if (strcmp(name, validators[i].name) == 0)
            return validators[i].checksum;
    }
    return false;
}

double stw_entropy(const char *s, size_t n)
{
    if (n == 0)
        return 0.0;
    size_t count[256] = {0};
    for (size_t i = 0; i < n; i++)
        count[(unsigned char)s[i]]++;
    double h = 0.0;
    for (int c = 0; c < 256; c++) {
        if (count[c]) {
            double p = (double)count[c] / (double)n;
            h -= p * log2(p);
        }
    }
    return h;
}

/* Case-insensitive substring search over a length-bounded haystack. */
static bool contains_ci(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        if (strncasecmp(s + i, needle, k) == 0)
            return true;
    }
    return false;
}

static bool is_sep(unsigned char c)
{
    return c == '-' || c == '_' || c == '.' || c == ':' || c == ' ' ||
           c == '/' || c == '+' || c == '=' || c == '"' || c == '\'' ||
           c == '`' || c == '\\';
}

/* Successor in a "typed along the keyboard row" sense: 0-9 then a-z (or
 * A-Z), wrapping 9->0 and z->a so "1234567890" and "890123" count. */
static bool next_in_run(unsigned char a, unsigned char b, int dir)
{
    if (dir < 0) {
        unsigned char t = a;
        a = b;
        b = t;
    }
    if (b == a + 1 && ((a >= '0' && a < '9') || (a >= 'a' && a < 'z') ||
                       (a >= 'A' && a < 'Z')))
        return true;
    return (a == '9' && (b == '0' || b == 'a' || b == 'A')) ||
           (a == 'z' && b == 'a') || (a == 'Z' && b == 'A');
}

/* Longest ascending or descending run ("1234567890", "abcdef",
 * "9876543210") in the value, separators removed. A value that is mostly
 * one run (>= 60 %, at least 6 characters) was typed, not generated. */
static bool is_sequential(const unsigned char *v, size_t k)
{
    if (k < 6)
        return false;
    size_t best = 1;
    for (int dir = 1; dir >= -1; dir -= 2) {
        size_t run = 1;
        for (size_t i = 1; i < k; i++) {
            run = next_in_run(v[i - 1], v[i], dir) ? run + 1 : 1;
            if (run > best)
                best = run;
        }
    }
    return best >= 6 && best * 10 >= k * 6;
}

/* The value repeats a unit of at most 8 characters at least 3 times
 * ("123123123", "abab-abab-abab"), which no generated secret does. */
static bool is_periodic(const unsigned char *v, size_t k)
{
    for (size_t p = 1; p <= 8 && p * 3 <= k; p++) {
        size_t i = p;
        while (i < k && v[i] == v[i - p])
            i++;
        if (i == k)
            return true;
    }
    return false;
}

/* Words that say "no value here". A value built only from them, digits and
 * separators ("test", "my-secret-token", "dummy_password_123",
 * "fake-api-key") is a placeholder; one real syllable ("TestSourcePassword")
 * and it is not, so a random token that happens to contain "test" stays. */
static const char *const filler_words[] = {
    "placeholder", "password", "changeme", "example", "passwd",  "secret",
    "sample",      "string",   "change",   "insert",  "enter",   "dummy",
    "token",       "value",    "xxxxx",    "apikey",  "testing", "test",
    "fake",        "mock",     "demo",     "here",    "your",    "none",
    "null",        "todo",     "some",     "key",     "api",     "foo",
    "bar",         "baz",      "qux",      "xxx",     "abc",     "my",
    "me",          "the",      "pass",     "pwd",     "nil",     "tbd",
    "username",    "user",     "name",     "login",   "xx",      "x",
    "secure",      "new",
};

static bool only_filler(const unsigned char *v, size_t k)
{
    size_t i = 0;
    bool word = false;
    while (i < k) {
        unsigned char c = v[i];
        if (c >= '0' && c <= '9') {
            i++;
            continue;
        }
        size_t w = 0;
        for (; w < sizeof(filler_words) / sizeof(filler_words[0]); w++) {
            size_t len = strlen(filler_words[w]);
            if (len <= k - i &&
                strncasecmp((const char *)v + i, filler_words[w], len) == 0)
                break;
        }
        if (w == sizeof(filler_words) / sizeof(filler_words[0]))
            return false;
        i += strlen(filler_words[w]);
        word = true;
    }
    return word;
}

/* Bound on the characters the shape checks copy: values longer than this
 * are judged on the needles alone (keys and long tokens). */
#define PLACEHOLDER_SHAPE_MAX 256

bool stw_is_placeholder(const char *s, size_t n)
{
    if (n == 0)
        return true;
    size_t same = 1;
    for (size_t i = 1; i < n && s[i] == s[0]; i++)
        same++;
    if (same == n)
        return true;
    /* Needles are long enough that random base64 of a real key contains
     * one with negligible probability (about 1e-6 per 40-character token
     * for "xxxx", far less for the rest). */
    static const char *const needles[] = {
        "xxxx",      "****",       "example",   "changeme", "change_me",
        "change-me", "${",         "{{",        "<your",    "your_",
        "your-",     "yourtoken",  "yourkey",   "yourapi",  "placeholder",
        "redacted",  "replace_me", "replaceme", "_here",    "-here",
        "insert_",   "insert-",    "$(",        "#####",    "....",
        "put_your",  "anonymous@",
    };
    for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
        if (contains_ci(s, n, needles[i]))
            return true;
    }
    /* Documentation elides a value it shows in part: "eyJ2IjoiMSIs...". */
    if (n > 3 && memcmp(s + n - 3, "...", 3) == 0)
        return true;
    /* Whole-value templates: <token>, %VAR%, $VAR, [PASSWORD]. */
    unsigned char a = (unsigned char)s[0], z = (unsigned char)s[n - 1];
    if ((a == '<' && z == '>') || (a == '%' && z == '%' && n > 2) ||
        (a == '@' && z == '@' && n > 2) || (a == '[' && z == ']'))
        return true;
    if (a == '$' && n > 1) {
        size_t i = 1;
        while (i < n &&
               (s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') ||
                (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            i++;
        if (i == n)
            return true;
    }
    if (n > PLACEHOLDER_SHAPE_MAX)
        return false;
    unsigned char v[PLACEHOLDER_SHAPE_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_sep((unsigned char)s[i]))
            v[k++] = (unsigned char)s[i];
    }
    if (k == 0)
        return true;
    bool all_same = true;
    for (size_t i = 1; i < k && all_same; i++)
        all_same = v[i] == v[0];
    return all_same || is_sequential(v, k) || is_periodic(v, k) ||
           only_filler(v, k);
}

/* ---- test-fixture context ---------------------------------------------- */

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

/* Whether [w, w + k) reads like a syllable: two or more letters, a vowel
 * among them ("for", "Source"; not "Kq", "x"). */
static bool wordlike(const char *w, size_t k)
{
    if (k < 2)
        return false;
    for (size_t i = 0; i < k; i++) {
        if (strchr("aeiouyAEIOUY", w[i]))
            return true;
    }
    return false;
}

static bool fixture_word(const char *w, size_t k)
{
    static const char *const words[] = {
        "fake",     "fakes", "dummy",   "example", "examples",
        "test",     "tests", "testing", "sample",  "samples",
        "changeme", "mock",  "mocked",  "stub",    "fixture",
        "fixtures", "bogus", "demo",    "sandbox", "placeholder",
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i]) == k && strncasecmp(w, words[i], k) == 0)
            return true;
    }
    return false;
}

bool stw_is_fixture_value(const char *s, size_t n)
{
    size_t letters = 0, others = 0, i = 0;
    bool fixture = false;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alpha(c)) {
            others += !is_sep(c);
            i++;
            continue;
        }
        /* One letter run up to a separator, a digit or a camelCase hump
         * (a lower-case letter followed by an upper-case one). */
        size_t j = i + 1;
        while (j < n && is_alpha((unsigned char)s[j]) &&
               !(is_upper((unsigned char)s[j]) &&
                 !is_upper((unsigned char)s[j - 1])))
            j++;
        if (!wordlike(s + i, j - i))
            return false;
        fixture |= fixture_word(s + i, j - i);
        letters += j - i;
        i = j;
    }
    return fixture && letters * 10 >= (letters + others) * 6;
}

bool stw_is_fixture_path(const char *path)
{
    static const char *const dirs[] = {
        "test",         "tests",     "testdata", "test-data",
        "test_data",    "fixtures",  "fixture",  "__tests__",
        "__fixtures__", "__mocks__", "examples", "example",
    };
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, '/');
        if (!e)
            break; /* the file name itself is not a directory */
        size_t k = (size_t)(e - p);
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
            if (strlen(dirs[i]) == k && strncasecmp(p, dirs[i], k) == 0)
                return true;
        }
        p = e + 1;
    }
    return false;
}

bool stw_is_doc_tree(const char *path)
{
    static const char *const trees[] = {"usr/share/doc/", "usr/share/man/",
                                        "usr/share/info/",
                                        "usr/share/gtk-doc/"};
    for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
        if (strncmp(path, trees[i], strlen(trees[i])) == 0)
            return true;
    }
    return false;
}

bool stw_is_doc_file(const char *path)
{
    static const char *const exts[] = {".md", ".markdown", ".rst", ".adoc",
                                       ".asciidoc"};
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t k = strlen(exts[i]);
        if (n > k && strcasecmp(name + n - k, exts[i]) == 0)
            return true;
    }
    return false;
}

static const char doc_note[] =
    "documentation: the file is documentation (an example there is no "
    "deployed secret)";

const char *stw_tree_note(const char *path)
{
    if (stw_is_fixture_path(path))
        return "test fixture: the path is in a test or examples directory";
    return stw_is_doc_tree(path) ? doc_note : NULL;
}

const char *stw_file_note(const char *path)
{
    return stw_is_doc_file(path) ? doc_note : NULL;
}

/* ---- a value that spells its own name ---------------------------------- */

/* The letters and digits of [s, s + n), lower-cased, into out (at most
 * cap); false when there are more. */
static bool fold_name(const char *s, size_t n, char *out, size_t cap,
                      size_t *len)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            continue;
        if (k == cap)
            return false;
        out[k++] = (char)c;
    }
    *len = k;
    return true;
}

bool stw_is_name_echo(const char *key, size_t kn, const char *val, size_t vn)
{
    char v[128], a[128];
    size_t vl, al;
    if (!fold_name(val, vn, v, sizeof(v), &vl) || vl < 4)
        return false;
    /* The whole key, then its last member ("exports.X_AUTH" -> "X_AUTH"). */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (!memchr(key, '.', kn))
                break;
            const char *last = key + kn;
            while (last > key && last[-1] != '.')
                last--;
            kn = (size_t)(key + kn - last);
            key = last;
        }
        /* The name itself, or the name and a short tail (finish_pass :=
         * finish_pass1): never with a short name, nor a long tail, which
         * may be a token its issuer prefixes with its own name
         * ("term-token-gPFEGk7CF4wS901w"). */
        if (fold_name(key, kn, a, sizeof(a), &al) &&
            ((al == vl && memcmp(a, v, vl) == 0) ||
             (al >= 6 && al < vl && vl - al <= 6 && memcmp(a, v, al) == 0)))
            return true;
    }
    return false;
}
