/* test_util_jscan.c — unit tests for scanning JSON text (util/jscan.c) and
 * the agent's partial decode of a watched pod built on it (agent_pod_view).
 *
 * The scanner must find each member's value by its extent through strings
 * with escaped quotes, nested objects and arrays, scalars and whitespace;
 * fail on a key that holds an escape and on cut-short text, never reading
 * past the end; and every value it finds must decode (jansson) to what a
 * full decode has under that key. The pod view must equal the full pod
 * restricted to the parts the agent reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_internal.h"
#include "util/util.h"

static const char *const doc =
    "{ \"a\" : \"x\\\"}y\", \"b\":{\"c\":[1,{\"d\":\"]\"}],\"e\":null},\"f\":-1.5e3,\n"
    "  \"g\":[],\"h\":{},\"i\":true,\"j\":\"\\\\\",\"k\":\"\\u00e9\"}";

/* Every member found decodes to what the full decode holds. */
static void test_members_match_decode(void **state)
{
    (void)state;
    static const char *const keys[] = {"a", "b", "f", "g", "h", "i", "j", "k", "missing"};
    const char *vals[9], *end = doc + strlen(doc);
    json_t *full = json_loads(doc, 0, NULL);
    assert_non_null(full);
    assert_true(util_json_members(doc, end, keys, 9, vals));
    for (int k = 0; k < 8; k++) {
        assert_non_null(vals[k]);
        const char *e = util_json_skip(vals[k], end);
        assert_non_null(e);
        json_t *v = json_loadb(vals[k], (size_t)(e - vals[k]), JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        assert_true(json_equal(v, json_object_get(full, keys[k])));
        json_decref(v);
    }
    assert_null(vals[8]);
    const char *s;
    size_t n;
    assert_non_null(util_json_string(vals[0], end, &s, &n));
    assert_int_equal(n, 5); /* x\"}y, raw */
    json_decref(full);
}

static void test_member_nested(void **state)
{
    (void)state;
    const char *end = doc + strlen(doc);
    const char *b = util_json_member(doc, end, "b");
    assert_non_null(b);
    const char *e = util_json_member(b, end, "e");
    assert_non_null(e);
    assert_int_equal(strncmp(e, "null", 4), 0);
    assert_null(util_json_member(b, end, "d")); /* d is deeper, not b's */
    assert_true(util_json_members("{}", "{}" + 2, (const char *const[]){"a"}, 1, &e));
    assert_null(e);
}

static void test_refusals(void **state)
{
    (void)state;
    const char *v;
    const char *esc = "{\"a\\u0062\":1}";
    assert_false(util_json_members(esc, esc + strlen(esc), (const char *const[]){"ab"}, 1, &v));
    const char *notobj = "[1,2]";
    assert_false(util_json_members(notobj, notobj + 5, (const char *const[]){"a"}, 1, &v));
    /* Every cut of doc: no over-read (sanitizers), no value past the cut. */
    size_t len = strlen(doc);
    for (size_t cut = 0; cut < len; cut++) {
        char *p = malloc(cut ? cut : 1);
        memcpy(p, doc, cut);
        const char *e = util_json_skip(p, p + cut);
        assert_true(e == NULL || (e > p && e <= p + cut));
        const char *vals[2];
        util_json_members(p, p + cut, (const char *const[]){"k", "b"}, 2, vals);
        for (int k = 0; k < 2; k++)
            assert_true(vals[k] == NULL || (vals[k] >= p && vals[k] < p + cut));
        free(p);
    }
    assert_null(util_json_skip("\"open", "\"open" + 5));
    assert_null(util_json_skip("{\"a\":[1,2}", "{\"a\":[1,2}" + 10));
}

static const char *const pod =
    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns\","
    "\"uid\":\"u-1\",\"resourceVersion\":\"42\",\"annotations\":{\"bosun.dev/hollow-run-seconds\":"
    "\"3\"},\"managedFields\":[{\"manager\":\"m\",\"fieldsV1\":{\"f:spec\":{\".\":{}}}}]},"
    "\"spec\":{\"nodeName\":\"n-7\",\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
    "\"image\":\"busybox\",\"resources\":{}}],\"tolerations\":[{\"key\":\"k\"}]},"
    "\"status\":{\"phase\":\"Running\",\"startTime\":\"2026-01-02T03:04:05Z\",\"conditions\":"
    "[{\"type\":\"PodScheduled\",\"status\":\"True\"}],\"containerStatuses\":[]}}";

/* The full pod with only the members the view keeps. */
static json_t *projection(json_t *full)
{
    static const char *const keep[3][6] = {
        {"namespace", "name", "uid", "resourceVersion", "deletionTimestamp", "annotations"},
        {"nodeName", "restartPolicy", "containers", "initContainers", NULL, NULL},
        {"phase", "startTime", "conditions", NULL, NULL, NULL}};
    static const char *const parts[] = {"metadata", "spec", "status"};
    json_t *out = json_object();
    for (int i = 0; i < 3; i++) {
        json_t *src = json_object_get(full, parts[i]);
        if (!src)
            continue;
        json_t *dst = json_object();
        for (int k = 0; k < 6 && keep[i][k]; k++)
            if (json_object_get(src, keep[i][k]))
                json_object_set(dst, keep[i][k], json_object_get(src, keep[i][k]));
        json_object_set_new(out, parts[i], dst);
    }
    return out;
}

static void test_pod_view(void **state)
{
    (void)state;
    json_t *full = json_loads(pod, 0, NULL), *want = projection(full);
    json_t *view = agent_pod_view(pod, pod + strlen(pod));
    assert_non_null(view);
    assert_true(json_equal(view, want));
    assert_null(json_object_get(json_object_get(view, "metadata"), "managedFields"));
    json_decref(view);
    json_decref(want);
    json_decref(full);
    /* A bookmark: metadata only. */
    const char *bm = "{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"9\"}}";
    view = agent_pod_view(bm, bm + strlen(bm));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(view, "metadata"), "resourceVersion")),
        "9");
    json_decref(view);
    /* Not a pod as expected: NULL, so the caller decodes the event whole. */
    const char *bad = "{\"metadata\":{\"name\":tru}}";
    assert_null(agent_pod_view(bad, bad + strlen(bad)));
    const char *esc = "{\"metadata\":{\"n\\u0061me\":\"x\"}}";
    assert_null(agent_pod_view(esc, esc + strlen(esc)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_match_decode),
        cmocka_unit_test(test_member_nested),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_pod_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
