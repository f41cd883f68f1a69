/* unit_json.h — what unit tests share about JSON: a document from the
 * test's literal text, failing the test (with the parser's reason) on a
 * typo rather than crashing on NULL later. Include after <cmocka.h>. */
#ifndef BOSUN_UNIT_JSON_H
#define BOSUN_UNIT_JSON_H

#include <jansson.h>

static inline json_t *unit_parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return j;
}

#endif
