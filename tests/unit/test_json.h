/* test_json.h — the unit tests' JSON literal helper: J("{'a':1}") parses
 * JSON written with single quotes (turned into double quotes first), so
 * objects read naturally inside C strings; a bad literal fails the test.
 * Include after <cmocka.h> and <jansson.h>. */
#ifndef BOSUN_TEST_JSON_H
#define BOSUN_TEST_JSON_H

#include <stdlib.h>
#include <string.h>

static inline json_t *J(const char *text)
{
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s: %s", e.text, s);
    free(s);
    return j;
}

#endif
