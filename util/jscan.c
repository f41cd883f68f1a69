/* jscan.c — finding values in JSON text without decoding it.
 *
 * Readers that need a few fields of large, trusted JSON documents (watch
 * events: the agent's, `bosun bench schedule`'s) walk an object's members
 * and skip the values they do not want by their quotes and brackets, then
 * decode only what they want. Skipping is not validating: a value is found
 * by its extent, and whoever decodes it (jansson) checks it. The rules:
 *   - a string runs from its quote to the next quote not escaped by a
 *     backslash (the character after a backslash is skipped);
 *   - an object or array runs to its matching bracket, counting brackets
 *     outside strings;
 *   - anything else (number, true, false, null) runs to the next ',', '}',
 *     ']' or whitespace.
 * A member whose key holds a backslash makes util_json_members fail: the
 * key's text would need decoding to be compared, and the caller falls back
 * to a full decode. Every function is bounded by `end` and never reads
 * past it. */
#include <string.h>

#include "util/util.h"

static const char *jscan_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

const char *util_json_string(const char *p, const char *end, const char **s, size_t *len)
{
    p = jscan_ws(p, end);
    if (p >= end || *p != '"')
        return NULL;
    /* memchr to each quote, then whether it is escaped: an odd run of
     * backslashes before it. Same rule as a byte-by-byte walk that skips
     * the character after a backslash, several times faster on the long
     * strings of watch events (3% of all CPU in `bench schedule`). */
    const char *q = p + 1;
    for (;;) {
        q = memchr(q, '"', (size_t)(end - q));
        if (!q)
            return NULL;
        const char *b = q;
        while (b > p + 1 && b[-1] == '\\')
            b--;
        if ((q - b) % 2 == 0)
            break;
        q++;
    }
    *s = p + 1;
    *len = (size_t)(q - p - 1);
    return q + 1;
}

const char *util_json_skip(const char *p, const char *end)
{
    p = jscan_ws(p, end);
    if (p >= end)
        return NULL;
    const char *s;
    size_t n;
    if (*p == '"')
        return util_json_string(p, end, &s, &n);
    if (*p != '{' && *p != '[') {
        const char *q = p;
        while (q < end && *q != ',' && *q != '}' && *q != ']' && *q != ' ' && *q != '\n' &&
               *q != '\r' && *q != '\t')
            q++;
        return q > p ? q : NULL;
    }
    int depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            if (!(p = util_json_string(p, end, &s, &n)))
                return NULL;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth == 0)
            return p + 1;
        p++;
    }
    return NULL;
}

bool util_json_members(const char *p, const char *end, const char *const *keys, int n,
                       const char **vals)
{
    int left = n;
    for (int k = 0; k < n; k++)
        vals[k] = NULL;
    p = jscan_ws(p, end);
    if (p >= end || *p != '{')
        return false;
    p = jscan_ws(p + 1, end);
    if (p < end && *p == '}')
        return true; /* {} */
    while (left > 0) {
        const char *key;
        size_t klen;
        if (!(p = util_json_string(p, end, &key, &klen)) || memchr(key, '\\', klen))
            return false;
        p = jscan_ws(p, end);
        if (p >= end || *p != ':')
            return false;
        p = jscan_ws(p + 1, end);
        if (p >= end)
            return false;
        for (int k = 0; k < n; k++)
            if (!vals[k] && strlen(keys[k]) == klen && memcmp(keys[k], key, klen) == 0) {
                vals[k] = p;
                left--;
            }
        if (!(p = util_json_skip(p, end)))
            return false;
        p = jscan_ws(p, end);
        if (p < end && *p == '}')
            return true;
        if (p >= end || *p != ',')
            return false;
        p++;
    }
    return true;
}

const char *util_json_member(const char *p, const char *end, const char *key)
{
    const char *v;
    return util_json_members(p, end, &key, 1, &v) ? v : NULL;
}
