/* test_kube_patch.c — unit tests for kube/patch.c: JSON merge patch (RFC
 * 7386), JSON patch (RFC 6902) and strategic merge patch.
 *
 * Every case is data: a document, a patch, and the expected result or
 * "error: <text the error must contain>". JSON is written with ' for " to
 * keep it readable. Each run also checks that the engine left its inputs
 * alone. The strategic cases use small hand-made schemas (a Deployment and
 * PodSpec with the real patch strategies, and the MergeItem type of
 * k8s.io/apimachinery's strategicpatch tests), so they do not depend on the
 * generated schema. The last table is the strategicpatch package's own test
 * data (patch_test.go, v0.32): for each case, original + two-way patch gives
 * modified, and current + three-way patch gives result, in the same order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kube/kube.h"

/* One case: want is the expected document, or "error: " and a piece of the
 * expected error. */
struct pcase {
    const char *name, *doc, *patch, *want;
};

enum engine { ENG_MERGE, ENG_JSON, ENG_SMP };

/* Parses JSON written with ' for ". */
static json_t *jparse(const char *text)
{
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t jerr;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &jerr);
    if (!v)
        print_error("bad test JSON %s: %s\n", text, jerr.text);
    free(s);
    assert_non_null(v);
    return v;
}

static json_t *apply(enum engine eng, const struct kube_type *t, json_t *doc, json_t *patch,
                     char *err, size_t errlen)
{
    switch (eng) {
    case ENG_MERGE: return kube_patch_merge(doc, patch, err, errlen);
    case ENG_JSON: return kube_patch_json(doc, patch, err, errlen);
    default: return kube_patch_strategic(t, doc, patch, err, errlen);
    }
}

/* Runs one case; returns whether it passed, printing why not. */
static bool run_case(enum engine eng, const struct kube_type *t, const struct pcase *c)
{
    json_t *doc = jparse(c->doc), *patch = jparse(c->patch);
    json_t *doc0 = json_deep_copy(doc), *patch0 = json_deep_copy(patch);
    char err[1024] = "";
    json_t *got = apply(eng, t, doc, patch, err, sizeof err);
    bool ok = true;
    char *gs = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!json_equal(doc, doc0) || !json_equal(patch, patch0)) {
        print_error("%s: the engine changed its input\n", c->name);
        ok = false;
    }
    if (strncmp(c->want, "error: ", 7) == 0) {
        if (got || !strstr(err, c->want + 7)) {
            print_error("%s:\n  want %s\n  got  %s\n", c->name, c->want, got ? gs : err);
            ok = false;
        }
    } else {
        json_t *want = jparse(c->want);
        if (!got || !json_equal(got, want) || err[0]) {
            print_error("%s:\n  doc   %s\n  patch %s\n  want  %s\n  got   %s\n", c->name, c->doc,
                        c->patch, c->want, got ? gs : err);
            ok = false;
        }
        json_decref(want);
    }
    free(gs);
    json_decref(got);
    json_decref(doc);
    json_decref(patch);
    json_decref(doc0);
    json_decref(patch0);
    return ok;
}

static void run_table(enum engine eng, const struct kube_type *t, const struct pcase *cases,
                      size_t n)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !run_case(eng, t, &cases[i]);
    if (failed)
        print_error("%zu of %zu cases failed\n", failed, n);
    assert_int_equal(failed, 0);
}

#define RUN(eng, t, cases) run_table(eng, t, cases, sizeof cases / sizeof cases[0])

/* ==== JSON merge patch ==== */

/* RFC 7386 appendix A, in order. Kubernetes refuses a patch that is null or
 * a scalar ("Invalid JSON Patch", evanphx/json-patch's MergePatch) where the
 * RFC would return it; those two rows say so. */
static const struct pcase merge_rfc7386[] = {
    {"A.1 replace a member", "{'a':'b'}", "{'a':'c'}", "{'a':'c'}"},
    {"A.2 add a member", "{'a':'b'}", "{'b':'c'}", "{'a':'b','b':'c'}"},
    {"A.3 null deletes", "{'a':'b'}", "{'a':null}", "{}"},
    {"A.4 null deletes one", "{'a':'b','b':'c'}", "{'a':null}", "{'b':'c'}"},
    {"A.5 a string replaces an array", "{'a':['b']}", "{'a':'c'}", "{'a':'c'}"},
    {"A.6 an array replaces a string", "{'a':'c'}", "{'a':['b']}", "{'a':['b']}"},
    {"A.7 objects merge", "{'a':{'b':'c'}}", "{'a':{'b':'d','c':null}}", "{'a':{'b':'d'}}"},
    {"A.8 arrays replace", "{'a':[{'b':'c'}]}", "{'a':[1]}", "{'a':[1]}"},
    {"A.9 an array patch replaces an array", "['a','b']", "['c','d']", "['c','d']"},
    {"A.10 an array patch replaces an object", "{'a':'b'}", "['c']", "['c']"},
    {"A.11 null patch (Kubernetes: invalid)", "{'a':'foo'}", "null", "error: Invalid JSON Patch"},
    {"A.12 string patch (Kubernetes: invalid)", "{'a':'foo'}", "'bar'",
     "error: Invalid JSON Patch"},
    {"A.13 nulls in the document stay", "{'e':null}", "{'a':1}", "{'e':null,'a':1}"},
    {"A.14 an object patch replaces an array", "[1,2]", "{'a':'b','c':null}", "{'a':'b'}"},
    {"A.15 nulls vanish from new objects", "{}", "{'a':{'bb':{'ccc':null}}}", "{'a':{'bb':{}}}"},
};

static const struct pcase merge_more[] = {
    {"empty patch changes nothing", "{'a':{'b':[1]}}", "{}", "{'a':{'b':[1]}}"},
    {"number patch is invalid", "{}", "5", "error: Invalid JSON Patch"},
    {"boolean patch is invalid", "{}", "true", "error: Invalid JSON Patch"},
    {"arrays are taken as they are, nulls and all", "{}", "{'a':[null,{'b':null}]}",
     "{'a':[null,{'b':null}]}"},
    {"labels: add one, drop one",
     "{'metadata':{'name':'x','labels':{'app':'web','tier':'fe'}}}",
     "{'metadata':{'labels':{'tier':null,'env':'prod'}}}",
     "{'metadata':{'name':'x','labels':{'app':'web','env':'prod'}}}"},
    {"a list of containers is replaced whole",
     "{'spec':{'containers':[{'name':'a','image':'1'},{'name':'b'}]}}",
     "{'spec':{'containers':[{'name':'a','image':'2'}]}}",
     "{'spec':{'containers':[{'name':'a','image':'2'}]}}"},
    {"deep merge three levels", "{'a':{'b':{'c':1,'d':2},'e':3}}", "{'a':{'b':{'c':null,'f':4}}}",
     "{'a':{'b':{'d':2,'f':4},'e':3}}"},
    {"an object replaces a scalar member", "{'a':1}", "{'a':{'b':1,'c':null}}", "{'a':{'b':1}}"},
    {"deleting what is not there is fine", "{'a':1}", "{'b':null}", "{'a':1}"},
    {"a null document counts as absent", "null", "{'a':1}", "{'a':1}"},
    {"a scalar document is replaced by an object", "'x'", "{'a':1}", "{'a':1}"},
    {"keys with odd characters", "{'a/b':1,'~':2}", "{'a/b':null,'~':3,'':4}", "{'~':3,'':4}"},
};

static void test_merge_rfc7386(void **state)
{
    (void)state;
    RUN(ENG_MERGE, NULL, merge_rfc7386);
}

static void test_merge_more(void **state)
{
    (void)state;
    RUN(ENG_MERGE, NULL, merge_more);
}

/* A C NULL patch or document, and a small error buffer, are handled. */
static void test_merge_edges(void **state)
{
    (void)state;
    char err[16];
    assert_null(kube_patch_merge(NULL, NULL, err, sizeof err));
    assert_true(strlen(err) > 0 && strlen(err) < sizeof err);
    json_t *patch = jparse("{'a':{'b':null,'c':1}}");
    json_t *out = kube_patch_merge(NULL, patch, NULL, 0);
    json_t *want = jparse("{'a':{'c':1}}");
    assert_true(json_equal(out, want));
    /* the result shares nothing with the patch */
    json_object_set_new(json_object_get(out, "a"), "c", json_integer(2));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(patch, "a"), "c")), 1);
    json_decref(out);
    json_decref(want);
    json_decref(patch);
}

/* ==== JSON patch ==== */

/* RFC 6902 appendix A (A.13, duplicate members, is a JSON parsing matter). */
static const struct pcase json_rfc6902[] = {
    {"A.1 add an object member", "{'foo':'bar'}", "[{'op':'add','path':'/baz','value':'qux'}]",
     "{'baz':'qux','foo':'bar'}"},
    {"A.2 add an array element", "{'foo':['bar','baz']}",
     "[{'op':'add','path':'/foo/1','value':'qux'}]", "{'foo':['bar','qux','baz']}"},
    {"A.3 remove an object member", "{'baz':'qux','foo':'bar'}", "[{'op':'remove','path':'/baz'}]",
     "{'foo':'bar'}"},
    {"A.4 remove an array element", "{'foo':['bar','qux','baz']}",
     "[{'op':'remove','path':'/foo/1'}]", "{'foo':['bar','baz']}"},
    {"A.5 replace a value", "{'baz':'qux','foo':'bar'}",
     "[{'op':'replace','path':'/baz','value':'boo'}]", "{'baz':'boo','foo':'bar'}"},
    {"A.6 move a value", "{'foo':{'bar':'baz','waldo':'fred'},'qux':{'corge':'grault'}}",
     "[{'op':'move','from':'/foo/waldo','path':'/qux/thud'}]",
     "{'foo':{'bar':'baz'},'qux':{'corge':'grault','thud':'fred'}}"},
    {"A.7 move an array element", "{'foo':['all','grass','cows','eat']}",
     "[{'op':'move','from':'/foo/1','path':'/foo/3'}]", "{'foo':['all','cows','eat','grass']}"},
    {"A.8 test a value: success", "{'baz':'qux','foo':['a',2,'c']}",
     "[{'op':'test','path':'/baz','value':'qux'},{'op':'test','path':'/foo/1','value':2}]",
     "{'baz':'qux','foo':['a',2,'c']}"},
    {"A.9 test a value: error", "{'baz':'qux'}", "[{'op':'test','path':'/baz','value':'bar'}]",
     "error: testing value /baz failed"},
    {"A.10 add a nested member object", "{'foo':'bar'}",
     "[{'op':'add','path':'/child','value':{'grandchild':{}}}]",
     "{'foo':'bar','child':{'grandchild':{}}}"},
    {"A.11 ignore unrecognized elements", "{'foo':'bar'}",
     "[{'op':'add','path':'/baz','value':'qux','xyz':123}]", "{'foo':'bar','baz':'qux'}"},
    {"A.12 add to a nonexistent target", "{'foo':'bar'}",
     "[{'op':'add','path':'/baz/bat','value':'qux'}]",
     "error: add operation does not apply: doc is missing path: \"/baz/bat\""},
    {"A.14 ~ escape ordering", "{'/':9,'~1':10}", "[{'op':'test','path':'/~01','value':10}]",
     "{'/':9,'~1':10}"},
    {"A.15 comparing strings and numbers", "{'/':9,'~1':10}",
     "[{'op':'test','path':'/~01','value':'10'}]", "error: testing value /~01 failed"},
    {"A.16 add an array value", "{'foo':['bar']}",
     "[{'op':'add','path':'/foo/-','value':['abc','def']}]", "{'foo':['bar',['abc','def']]}"},
};

static const struct pcase json_more[] = {
    /* what kubectl and controllers send */
    {"scale", "{'spec':{'replicas':1}}", "[{'op':'replace','path':'/spec/replicas','value':3}]",
     "{'spec':{'replicas':3}}"},
    {"add a label", "{'metadata':{'labels':{}}}",
     "[{'op':'add','path':'/metadata/labels/app','value':'web'}]",
     "{'metadata':{'labels':{'app':'web'}}}"},
    {"drop the first finalizer", "{'metadata':{'finalizers':['a','b']}}",
     "[{'op':'test','path':'/metadata/finalizers/0','value':'a'},"
     "{'op':'remove','path':'/metadata/finalizers/0'}]",
     "{'metadata':{'finalizers':['b']}}"},
    {"annotation key with a slash", "{'metadata':{'annotations':{}}}",
     "[{'op':'add','path':'/metadata/annotations/example.com~1owner','value':'me'}]",
     "{'metadata':{'annotations':{'example.com/owner':'me'}}}"},
    {"~0 is a tilde", "{}", "[{'op':'add','path':'/a~0b','value':1}]", "{'a~b':1}"},
    {"'/' names the empty key", "{}", "[{'op':'add','path':'/','value':1}]", "{'':1}"},
    {"operations apply in order", "{}",
     "[{'op':'add','path':'/a','value':[]},{'op':'add','path':'/a/-','value':1},"
     "{'op':'add','path':'/a/0','value':0},{'op':'copy','from':'/a','path':'/b'},"
     "{'op':'remove','path':'/a/1'},{'op':'move','from':'/b','path':'/a/-'}]",
     "{'a':[0,[0,1]]}"},
    {"through an array", "{'a':[{'b':1}]}", "[{'op':'replace','path':'/a/0/b','value':2}]",
     "{'a':[{'b':2}]}"},
    {"a root array", "[1,2]", "[{'op':'add','path':'/-','value':3}]", "[1,2,3]"},
    {"replace an array element", "{'a':[1,2]}", "[{'op':'replace','path':'/a/0','value':9}]",
     "{'a':[9,2]}"},
    /* array indexes (RFC 6901 section 4) */
    {"add at index == length appends", "{'a':[1]}", "[{'op':'add','path':'/a/1','value':2}]",
     "{'a':[1,2]}"},
    {"add past the end", "{'a':[1]}", "[{'op':'add','path':'/a/2','value':2}]",
     "error: error in add for path: '/a/2': Unable to access invalid index: 2"},
    {"a leading zero is not an index", "{'a':[1,2]}", "[{'op':'add','path':'/a/01','value':0}]",
     "error: value was not a proper array index: '01'"},
    {"a negative index is not an index", "{'a':[1,2]}", "[{'op':'remove','path':'/a/-1'}]",
     "error: error in remove for path: '/a/-1'"},
    {"replace at index == length", "{'a':[1]}", "[{'op':'replace','path':'/a/1','value':2}]",
     "error: replace operation does not apply: doc is missing key: /a/1"},
    {"remove '-'", "{'a':[1]}", "[{'op':'remove','path':'/a/-'}]",
     "error: Unable to access invalid index: -"},
    {"a huge index", "{'a':[1]}", "[{'op':'add','path':'/a/99999999999999999999','value':2}]",
     "error: value was not a proper array index"},
    {"a word is not an index", "{'a':[1]}", "[{'op':'add','path':'/a/x','value':2}]",
     "error: value was not a proper array index: 'x'"},
    /* the errors Kubernetes gives (evanphx/json-patch wording) */
    {"add under a missing parent", "{'spec':{}}",
     "[{'op':'add','path':'/spec/foo/bar','value':1}]",
     "error: add operation does not apply: doc is missing path: \"/spec/foo/bar\""},
    {"add under a scalar", "{'spec':1}", "[{'op':'add','path':'/spec/foo','value':1}]",
     "error: add operation does not apply: doc is missing path: \"/spec/foo\""},
    {"remove a missing key", "{'spec':{}}", "[{'op':'remove','path':'/spec/foo'}]",
     "error: error in remove for path: '/spec/foo': Unable to remove nonexistent key: foo"},
    {"remove under a missing parent", "{}", "[{'op':'remove','path':'/spec/foo'}]",
     "error: remove operation does not apply: doc is missing path: \"/spec/foo\""},
    {"remove the root", "{}", "[{'op':'remove','path':''}]",
     "error: remove operation does not apply: doc is missing path: \"\""},
    {"replace a missing key", "{'spec':{}}", "[{'op':'replace','path':'/spec/foo','value':1}]",
     "error: replace operation does not apply: doc is missing key: /spec/foo"},
    {"replace under a missing parent", "{}", "[{'op':'replace','path':'/spec/foo','value':1}]",
     "error: replace operation does not apply: doc is missing path: \"/spec/foo\""},
    {"test fails", "{'x':1}", "[{'op':'test','path':'/x','value':2}]",
     "error: testing value /x failed"},
    {"test a missing key", "{'x':1}", "[{'op':'test','path':'/y','value':1}]",
     "error: testing value /y failed"},
    {"test under a missing parent", "{}", "[{'op':'test','path':'/a/b','value':1}]",
     "error: test operation does not apply: is missing path: \"/a/b\""},
    {"test 1 against 1.0 fails, as in Kubernetes", "{'x':1}", "[{'op':'test','path':'/x',"
     "'value':1.0}]",
     "error: testing value /x failed"},
    {"test deep equality, key order aside", "{'x':{'a':[1,{'b':null}],'c':'d'}}",
     "[{'op':'test','path':'/x','value':{'c':'d','a':[1,{'b':null}]}}]",
     "{'x':{'a':[1,{'b':null}],'c':'d'}}"},
    {"move from a missing key", "{}", "[{'op':'move','from':'/a','path':'/b'}]",
     "error: error in move for path: '/a': Unable to remove nonexistent key: a"},
    {"move from under a missing parent", "{}", "[{'op':'move','from':'/a/b','path':'/b'}]",
     "error: move operation does not apply: doc is missing from path: \"/a/b\""},
    {"move into its own child", "{'a':{'b':1}}", "[{'op':'move','from':'/a','path':'/a/c'}]",
     "error: move operation does not apply: doc is missing destination path: \"/a/c\""},
    {"move the root into itself", "{'a':1}", "[{'op':'move','from':'','path':'/b'}]",
     "error: move operation does not apply: cannot move the document into itself"},
    {"move onto itself changes nothing", "{'a':[1,2]}", "[{'op':'move','from':'/a','path':'/a'}]",
     "{'a':[1,2]}"},
    {"copy from a missing path", "{}", "[{'op':'copy','from':'/a','path':'/b'}]",
     "error: copy operation does not apply: doc is missing from path: \"/a\""},
    {"copy to a missing parent", "{'a':1}", "[{'op':'copy','from':'/a','path':'/x/y'}]",
     "error: copy operation does not apply: doc is missing destination path: \"/x/y\""},
    {"a copy is a copy", "{'a':{'x':1}}",
     "[{'op':'copy','from':'/a','path':'/b'},{'op':'replace','path':'/b/x','value':2}]",
     "{'a':{'x':1},'b':{'x':2}}"},
    {"the whole document is '': replace", "{'a':1}", "[{'op':'replace','path':'','value':{'b':2}}]",
     "{'b':2}"},
    {"the whole document is '': add", "{'a':1}", "[{'op':'add','path':'','value':[1]}]", "[1]"},
    {"the whole document is '': test", "{'a':1}", "[{'op':'test','path':'','value':{'a':1}}]",
     "{'a':1}"},
    {"a failure keeps nothing of the earlier operations", "{'a':1}",
     "[{'op':'add','path':'/b','value':2},{'op':'remove','path':'/zz'}]",
     "error: Unable to remove nonexistent key: zz"},
    /* malformed patches */
    {"not an array", "{}", "{'op':'add','path':'/a','value':1}",
     "error: json patch: the patch must be an array of operations, not a object"},
    {"an operation that is not an object", "{}", "[1]",
     "error: json patch: operation 0 is not an object"},
    {"no op", "{}", "[{'path':'/a','value':1}]", "error: Unexpected kind: unknown"},
    {"an op that is not a string", "{}", "[{'op':1,'path':'/a'}]",
     "error: Unexpected kind: unknown"},
    {"an unknown op", "{}", "[{'op':'frob','path':'/a'}]", "error: Unexpected kind: frob"},
    {"no path", "{}", "[{'op':'add','value':1}]",
     "error: add operation failed to decode path: missing value"},
    {"a path that is not a string", "{}", "[{'op':'remove','path':1}]",
     "error: remove operation failed to decode path"},
    {"a path without a leading slash", "{'a':1}", "[{'op':'remove','path':'a'}]",
     "error: remove operation does not apply: path is not a JSON pointer: \"a\""},
    {"a bad ~ escape", "{'a':1}", "[{'op':'remove','path':'/a~2'}]",
     "error: path is not a JSON pointer: \"/a~2\""},
    {"a ~ at the end", "{'a':1}", "[{'op':'remove','path':'/a~'}]",
     "error: path is not a JSON pointer"},
    {"add without a value", "{}", "[{'op':'add','path':'/a'}]",
     "error: add operation does not apply: missing value field for path: \"/a\""},
    {"replace without a value", "{'a':1}", "[{'op':'replace','path':'/a'}]",
     "error: replace operation does not apply: missing value field"},
    {"test without a value", "{'a':1}", "[{'op':'test','path':'/a'}]",
     "error: test operation does not apply: missing value field"},
    {"add with a null value adds null", "{}", "[{'op':'add','path':'/a','value':null}]",
     "{'a':null}"},
    {"move without from", "{'a':1}", "[{'op':'move','path':'/b'}]",
     "error: move operation failed to decode from: missing value"},
    {"copy with a bad from", "{'a':1}", "[{'op':'copy','from':'a','path':'/b'}]",
     "error: copy operation does not apply: from is not a JSON pointer: \"a\""},
    {"an empty patch changes nothing", "{'a':1}", "[]", "{'a':1}"},
};

static void test_json_rfc6902(void **state)
{
    (void)state;
    RUN(ENG_JSON, NULL, json_rfc6902);
}

static void test_json_more(void **state)
{
    (void)state;
    RUN(ENG_JSON, NULL, json_more);
}

/* Copies may not grow the document past the apiserver's 3 MiB; a document
 * doubling itself is stopped. */
static void test_json_copy_limit(void **state)
{
    (void)state;
    enum { BIG = 1000 * 1000 };
    char *big = malloc(BIG + 1);
    memset(big, 'x', BIG);
    big[BIG] = '\0';
    json_t *doc = json_pack("{s:s}", "a", big);
    json_t *ops = json_array();
    for (int i = 0; i < 4; i++) {
        char path[16];
        snprintf(path, sizeof path, "/c%d", i);
        json_array_append_new(ops,
                              json_pack("{s:s,s:s,s:s}", "op", "copy", "from", "/a", "path", path));
    }
    char err[256];
    assert_null(kube_patch_json(doc, ops, err, sizeof err));
    assert_non_null(strstr(err, "Unable to complete the copy, the accumulated size increase"));
    json_array_remove(ops, 3);
    json_t *out = kube_patch_json(doc, ops, err, sizeof err);
    assert_non_null(out);
    assert_int_equal(json_object_size(out), 4);
    json_decref(out);
    json_decref(ops);
    json_t *doubling = json_array();
    json_t *small = jparse("{'x':'0123456789'}");
    for (int i = 0; i < 40; i++) {
        char path[16];
        snprintf(path, sizeof path, "/d%d", i);
        json_array_append_new(doubling,
                              json_pack("{s:s,s:s,s:s}", "op", "copy", "from", "", "path", path));
    }
    assert_null(kube_patch_json(small, doubling, err, sizeof err));
    assert_non_null(strstr(err, "exceeding the limit"));
    json_decref(small);
    json_decref(doubling);
    json_decref(doc);
    free(big);
}

/* NULL inputs and a NUL inside a pointer. */
static void test_json_edges(void **state)
{
    (void)state;
    char err[128];
    json_t *ops = jparse("[]");
    assert_null(kube_patch_json(NULL, ops, err, sizeof err));
    assert_non_null(strstr(err, "no document"));
    json_t *doc = jparse("{}");
    assert_null(kube_patch_json(doc, NULL, err, sizeof err));
    json_decref(ops);
    ops = json_pack("[{s:s,s:s#,s:i}]", "op", "add", "path", "/a\0b", (int)4, "value", 1);
    json_t *out = kube_patch_json(doc, ops, err, sizeof err);
    assert_non_null(out);
    assert_non_null(json_object_getn(out, "a\0b", 3));
    assert_null(json_object_get(out, "a"));
    json_decref(out);
    json_decref(ops);
    json_decref(doc);
}

/* ==== strategic merge patch ==== */

/* A Deployment as k8s.io/api declares it, cut down to the fields with patch
 * strategies worth testing (and one made-up map of objects, "overrides"). */
static const struct kube_type t_deployment, t_meta, t_owner, t_dspec, t_strategy, t_template,
    t_pod, t_container, t_port, t_env, t_mount, t_volume, t_toleration, t_secretref, t_alias;

#define FIELDS(t) .fields = t##_fields, .n_fields = sizeof t##_fields / sizeof t##_fields[0]
#define STR(n) {.name = n, .vtype = KUBE_V_STRING}
#define RAW(n) {.name = n, .vtype = KUBE_V_RAW}
#define OBJ(n, t) {.name = n, .vtype = KUBE_V_OBJECT, .type = &t}
#define MERGE_LIST(n, t, key)                                                                      \
    {.name = n, .vtype = KUBE_V_OBJECT, .type = &t, .repeated = true, .patch_strategy = "merge", \
     .patch_merge_key = key}

static const struct kube_field t_owner_fields[] = {STR("uid"), STR("name"), STR("kind")};
static const struct kube_field t_meta_fields[] = {
    STR("name"),
    {.name = "labels", .vtype = KUBE_V_STRING, .map = true},
    {.name = "annotations", .vtype = KUBE_V_STRING, .map = true},
    {.name = "finalizers", .vtype = KUBE_V_STRING, .repeated = true, .patch_strategy = "merge"},
    MERGE_LIST("ownerReferences", t_owner, "uid"),
};
static const struct kube_field t_strategy_fields[] = {STR("type"), RAW("rollingUpdate")};
static const struct kube_field t_port_fields[] = {
    {.name = "containerPort", .vtype = KUBE_V_INT32}, STR("protocol"), STR("name")};
static const struct kube_field t_env_fields[] = {STR("name"), STR("value"), RAW("valueFrom")};
static const struct kube_field t_mount_fields[] = {STR("name"), STR("mountPath")};
static const struct kube_field t_container_fields[] = {
    STR("name"),
    STR("image"),
    {.name = "args", .vtype = KUBE_V_STRING, .repeated = true},
    MERGE_LIST("ports", t_port, "containerPort"),
    MERGE_LIST("env", t_env, "name"),
    MERGE_LIST("volumeMounts", t_mount, "mountPath"),
    RAW("resources"),
};
static const struct kube_field t_volume_fields[] = {STR("name"), RAW("emptyDir"), RAW("configMap"),
                                                    RAW("secret")};
static const struct kube_field t_toleration_fields[] = {STR("key"), STR("operator"), STR("effect")};
static const struct kube_field t_secretref_fields[] = {STR("name")};
static const struct kube_field t_alias_fields[] = {
    STR("ip"), {.name = "hostnames", .vtype = KUBE_V_STRING, .repeated = true}};
static const struct kube_field t_pod_fields[] = {
    MERGE_LIST("containers", t_container, "name"),
    MERGE_LIST("initContainers", t_container, "name"),
    {.name = "volumes", .vtype = KUBE_V_OBJECT, .type = &t_volume, .repeated = true,
     .patch_strategy = "merge,retainKeys", .patch_merge_key = "name"},
    {.name = "tolerations", .vtype = KUBE_V_OBJECT, .type = &t_toleration, .repeated = true},
    MERGE_LIST("imagePullSecrets", t_secretref, "name"),
    /* a merge list whose schema forgot its key */
    {.name = "hostAliases", .vtype = KUBE_V_OBJECT, .type = &t_alias, .repeated = true,
     .patch_strategy = "merge"},
    {.name = "nodeSelector", .vtype = KUBE_V_STRING, .map = true},
    {.name = "overrides", .vtype = KUBE_V_OBJECT, .type = &t_container, .map = true},
};
static const struct kube_field t_template_fields[] = {OBJ("metadata", t_meta), OBJ("spec", t_pod)};
static const struct kube_field t_dspec_fields[] = {
    {.name = "replicas", .vtype = KUBE_V_INT32},
    {.name = "paused", .vtype = KUBE_V_BOOL},
    {.name = "strategy", .vtype = KUBE_V_OBJECT, .type = &t_strategy,
     .patch_strategy = "retainKeys"},
    OBJ("template", t_template),
};
static const struct kube_field t_deployment_fields[] = {
    STR("apiVersion"), STR("kind"), OBJ("metadata", t_meta), OBJ("spec", t_dspec)};

static const struct kube_type t_owner = {.name = "OwnerReference", FIELDS(t_owner)};
static const struct kube_type t_meta = {.name = "ObjectMeta", FIELDS(t_meta)};
static const struct kube_type t_strategy = {.name = "DeploymentStrategy", FIELDS(t_strategy)};
static const struct kube_type t_port = {.name = "ContainerPort", FIELDS(t_port)};
static const struct kube_type t_env = {.name = "EnvVar", FIELDS(t_env)};
static const struct kube_type t_mount = {.name = "VolumeMount", FIELDS(t_mount)};
static const struct kube_type t_container = {.name = "Container", FIELDS(t_container)};
static const struct kube_type t_volume = {.name = "Volume", FIELDS(t_volume)};
static const struct kube_type t_toleration = {.name = "Toleration", FIELDS(t_toleration)};
static const struct kube_type t_secretref = {.name = "LocalObjectReference", FIELDS(t_secretref)};
static const struct kube_type t_alias = {.name = "HostAlias", FIELDS(t_alias)};
static const struct kube_type t_pod = {.name = "PodSpec", FIELDS(t_pod)};
static const struct kube_type t_template = {.name = "PodTemplateSpec", FIELDS(t_template)};
static const struct kube_type t_dspec = {.name = "DeploymentSpec", FIELDS(t_dspec)};
static const struct kube_type t_deployment = {
    .name = "Deployment", .group = "apps", .version = "v1", .kind = "Deployment",
    FIELDS(t_deployment)};

/* What kubectl apply and kubectl patch send to a Deployment. */
static const struct pcase smp_deployment[] = {
    {"kubectl apply: a new image, ordered by $setElementOrder",
     "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d','annotations':{'a':'1'}},"
     "'spec':{'replicas':1,'template':{'spec':{'containers':[{'name':'c','image':'nginx:1',"
     "'ports':[{'containerPort':80}]},{'name':'sidecar','image':'busybox'}]}}}}",
     "{'metadata':{'annotations':{'kubectl.kubernetes.io/last-applied-configuration':'{}'}},"
     "'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'c'}],"
     "'containers':[{'image':'nginx:2','name':'c'}]}}}}",
     "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d','annotations':{'a':'1',"
     "'kubectl.kubernetes.io/last-applied-configuration':'{}'}},'spec':{'replicas':1,'template':"
     "{'spec':{'containers':[{'name':'c','image':'nginx:2','ports':[{'containerPort':80}]},"
     "{'name':'sidecar','image':'busybox'}]}}}}"},
    {"kubectl apply: a container dropped from the configuration",
     "{'spec':{'template':{'spec':{'containers':[{'name':'c','image':'a'},{'name':'old',"
     "'image':'b'}]}}}}",
     "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'c'}],"
     "'containers':[{'$patch':'delete','name':'old'}]}}}}",
     "{'spec':{'template':{'spec':{'containers':[{'name':'c','image':'a'}]}}}}"},
    {"kubectl apply: switch the strategy to Recreate ($retainKeys)",
     "{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1}}}}",
     "{'spec':{'strategy':{'$retainKeys':['type'],'type':'Recreate'}}}",
     "{'spec':{'strategy':{'type':'Recreate'}}}"},
    {"$retainKeys keeps what it lists",
     "{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1}}}}",
     "{'spec':{'strategy':{'$retainKeys':['type','rollingUpdate'],"
     "'rollingUpdate':{'maxSurge':2}}}}",
     "{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':2}}}}"},
    {"$retainKeys in a value the document lacks leaves no trace", "{'spec':{}}",
     "{'spec':{'strategy':{'$retainKeys':['type'],'type':'Recreate'}}}",
     "{'spec':{'strategy':{'type':'Recreate'}}}"},
    {"scale", "{'spec':{'replicas':1,'paused':true}}", "{'spec':{'replicas':3}}",
     "{'spec':{'replicas':3,'paused':true}}"},
    {"null deletes a field; null for an absent field is nothing",
     "{'spec':{'replicas':1,'paused':true}}", "{'spec':{'paused':null,'minReadySeconds':null}}",
     "{'spec':{'replicas':1}}"},
    {"labels: a map merges", "{'metadata':{'labels':{'a':'1','b':'2'}}}",
     "{'metadata':{'labels':{'b':null,'c':'3'}}}", "{'metadata':{'labels':{'a':'1','c':'3'}}}"},
    {"labels: $patch replace replaces the map", "{'metadata':{'labels':{'a':'1','b':'2'}}}",
     "{'metadata':{'labels':{'$patch':'replace','c':'3'}}}", "{'metadata':{'labels':{'c':'3'}}}"},
    {"labels: $patch merge is the default", "{'metadata':{'labels':{'a':'1'}}}",
     "{'metadata':{'labels':{'$patch':'merge','c':'3'}}}",
     "{'metadata':{'labels':{'a':'1','c':'3'}}}"},
    {"$patch delete empties a map", "{'spec':{'strategy':{'type':'Recreate'},'replicas':2}}",
     "{'spec':{'strategy':{'$patch':'delete'}}}", "{'spec':{'strategy':{},'replicas':2}}"},
    {"$patch delete of a map the document lacks adds nothing", "{'spec':{}}",
     "{'spec':{'strategy':{'$patch':'delete'}}}", "{'spec':{}}"},
    {"nulls vanish from a new map", "{'metadata':{}}", "{'metadata':{'labels':{'a':'1','b':null}}}",
     "{'metadata':{'labels':{'a':'1'}}}"},
    {"finalizers: a primitive merge list is a union", "{'metadata':{'finalizers':['a','b']}}",
     "{'metadata':{'finalizers':['b','c']}}", "{'metadata':{'finalizers':['a','b','c']}}"},
    {"finalizers: duplicates go", "{'metadata':{'finalizers':['a','a','b']}}",
     "{'metadata':{'finalizers':['b','b']}}", "{'metadata':{'finalizers':['a','b']}}"},
    {"finalizers: $deleteFromPrimitiveList", "{'metadata':{'finalizers':['a','b','c','b']}}",
     "{'metadata':{'$deleteFromPrimitiveList/finalizers':['b','zz']}}",
     "{'metadata':{'finalizers':['a','c']}}"},
    {"finalizers: add one and delete another", "{'metadata':{'finalizers':['a','b','c']}}",
     "{'metadata':{'finalizers':['d'],'$deleteFromPrimitiveList/finalizers':['a']}}",
     "{'metadata':{'finalizers':['d','b','c']}}"},
    {"finalizers: $deleteFromPrimitiveList of a list the document lacks", "{'metadata':{}}",
     "{'metadata':{'$deleteFromPrimitiveList/finalizers':['a']}}", "{'metadata':{}}"},
    {"finalizers: $setElementOrder reorders", "{'metadata':{'finalizers':['a','b','c']}}",
     "{'metadata':{'$setElementOrder/finalizers':['c','a','b']}}",
     "{'metadata':{'finalizers':['c','a','b']}}"},
    {"finalizers: a $patch replace element replaces the list",
     "{'metadata':{'finalizers':['a','b']}}", "{'metadata':{'finalizers':[{'$patch':'replace'},"
     "'x']}}",
     "{'metadata':{'finalizers':['x']}}"},
    {"a primitive merge list of booleans", "{'metadata':{'finalizers':[true]}}",
     "{'metadata':{'finalizers':[false,true]}}", "{'metadata':{'finalizers':[false,true]}}"},
    {"$setElementOrder of a list neither side has", "{'metadata':{}}",
     "{'metadata':{'$setElementOrder/finalizers':['a']}}", "{'metadata':{}}"},
    {"ownerReferences merge by uid",
     "{'metadata':{'ownerReferences':[{'uid':'1','name':'a'},{'uid':'3','name':'z'}]}}",
     "{'metadata':{'ownerReferences':[{'uid':'1','name':'b'},{'uid':'2','name':'c'}]}}",
     "{'metadata':{'ownerReferences':[{'uid':'1','name':'b'},{'uid':'2','name':'c'},"
     "{'uid':'3','name':'z'}]}}"},
    {"$patch delete at the top gives {}", "{'metadata':{'name':'x'}}", "{'$patch':'delete'}", "{}"},
    {"$patch replace at the top", "{'metadata':{'name':'x'},'spec':{}}",
     "{'$patch':'replace','kind':'Deployment'}", "{'kind':'Deployment'}"},
    {"a null patch changes nothing", "{'spec':{'replicas':1}}", "null", "{'spec':{'replicas':1}}"},
    {"a null document counts as {}", "null", "{'spec':{'replicas':1}}", "{'spec':{'replicas':1}}"},
    {"a patch that is not an object", "{}", "[1]", "error: the patch is a array, not an object"},
    {"a document that is not an object", "[]", "{}",
     "error: the document is a array, not an object"},
};

/* The pod spec's lists, each with its own merge key. */
static const struct pcase smp_pod[] = {
    {"delete a container by merge key",
     "{'containers':[{'name':'a'},{'name':'b','image':'x'},{'name':'c'}]}",
     "{'containers':[{'name':'b','$patch':'delete'}]}",
     "{'containers':[{'name':'a'},{'name':'c'}]}"},
    {"delete every element with that key",
     "{'containers':[{'name':'a'},{'name':'b'},{'name':'a','image':'dup'}]}",
     "{'containers':[{'name':'a','$patch':'delete'}]}", "{'containers':[{'name':'b'}]}"},
    {"null deletes an env entry's field; $patch delete an entry",
     "{'containers':[{'name':'c','env':[{'name':'A','value':'1'},{'name':'B','value':'2'},"
     "{'name':'C','value':'3'}]}]}",
     "{'containers':[{'name':'c','env':[{'name':'A','value':null},{'name':'C','$patch':"
     "'delete'}]}]}",
     "{'containers':[{'name':'c','env':[{'name':'A'},{'name':'B','value':'2'}]}]}"},
    {"null deletes a container's env", "{'containers':[{'name':'c','image':'i','env':[{'name':"
     "'A'}]}]}",
     "{'containers':[{'name':'c','env':null}]}", "{'containers':[{'name':'c','image':'i'}]}"},
    {"a new container comes first, as Kubernetes puts it",
     "{'containers':[{'name':'a'},{'name':'b'}]}", "{'containers':[{'name':'n','image':'x'}]}",
     "{'containers':[{'name':'n','image':'x'},{'name':'a'},{'name':'b'}]}"},
    {"a new container goes where $setElementOrder puts it",
     "{'containers':[{'name':'a'},{'name':'b'}]}",
     "{'$setElementOrder/containers':[{'name':'a'},{'name':'b'},{'name':'n'}],"
     "'containers':[{'name':'n','image':'x'}]}",
     "{'containers':[{'name':'a'},{'name':'b'},{'name':'n','image':'x'}]}"},
    {"the patch's order wins, the server's elements stay near their neighbours",
     "{'containers':[{'name':'a'},{'name':'b'},{'name':'c'}]}",
     "{'containers':[{'name':'c','image':'1'},{'name':'a','image':'2'}]}",
     "{'containers':[{'name':'b'},{'name':'c','image':'1'},{'name':'a','image':'2'}]}"},
    {"$setElementOrder with an element only the server has (Go's placement)",
     "{'containers':[{'name':'a'},{'name':'b'},{'name':'c'}]}",
     "{'$setElementOrder/containers':[{'name':'c'},{'name':'a'}],'containers':[{'name':'a',"
     "'image':'new'}]}",
     "{'containers':[{'name':'b'},{'name':'c'},{'name':'a','image':'new'}]}"},
    {"ports merge by an integer key",
     "{'containers':[{'name':'c','ports':[{'containerPort':80,'name':'http'}]}]}",
     "{'containers':[{'name':'c','ports':[{'containerPort':80,'protocol':'TCP'},{"
     "'containerPort':443}]}]}",
     "{'containers':[{'name':'c','ports':[{'containerPort':80,'name':'http','protocol':'TCP'},"
     "{'containerPort':443}]}]}"},
    {"volumeMounts merge by mountPath",
     "{'containers':[{'name':'c','volumeMounts':[{'name':'v','mountPath':'/a'}]}]}",
     "{'containers':[{'name':'c','volumeMounts':[{'name':'w','mountPath':'/a'}]}]}",
     "{'containers':[{'name':'c','volumeMounts':[{'name':'w','mountPath':'/a'}]}]}"},
    {"a $patch replace element replaces the list",
     "{'containers':[{'name':'a'},{'name':'b'}]}",
     "{'containers':[{'$patch':'replace'},{'name':'x','image':'i'}]}",
     "{'containers':[{'name':'x','image':'i'}]}"},
    {"$patch replace alone empties the list", "{'containers':[{'name':'a'}]}",
     "{'containers':[{'$patch':'replace'}]}", "{'containers':[]}"},
    {"a volume switches source with $retainKeys (merge,retainKeys)",
     "{'volumes':[{'name':'v','emptyDir':{}},{'name':'w','secret':{'secretName':'s'}}]}",
     "{'volumes':[{'name':'v','$retainKeys':['configMap','name'],'configMap':{'name':'cm'}}]}",
     "{'volumes':[{'name':'v','configMap':{'name':'cm'}},"
     "{'name':'w','secret':{'secretName':'s'}}]}"},
    {"tolerations have no strategy: replaced",
     "{'tolerations':[{'key':'a'},{'key':'b'}]}", "{'tolerations':[{'key':'c','effect':null}]}",
     "{'tolerations':[{'key':'c'}]}"},
    {"args are atomic: replaced", "{'containers':[{'name':'c','args':['a','b']}]}",
     "{'containers':[{'name':'c','args':['x']}]}", "{'containers':[{'name':'c','args':['x']}]}"},
    {"$deleteFromPrimitiveList works on atomic lists too",
     "{'containers':[{'name':'c','args':['a','b','a']}]}",
     "{'containers':[{'name':'c','$deleteFromPrimitiveList/args':['a']}]}",
     "{'containers':[{'name':'c','args':['b']}]}"},
    {"imagePullSecrets merge by name", "{'imagePullSecrets':[{'name':'a'}]}",
     "{'imagePullSecrets':[{'name':'a'},{'name':'b'}]}",
     "{'imagePullSecrets':[{'name':'a'},{'name':'b'}]}"},
    {"containers and initContainers are separate lists",
     "{'containers':[{'name':'a'}],'initContainers':[{'name':'a','image':'i'}]}",
     "{'initContainers':[{'name':'a','image':'j'}]}",
     "{'containers':[{'name':'a'}],'initContainers':[{'name':'a','image':'j'}]}"},
    {"a new container: nulls go, directives apply and vanish", "{}",
     "{'containers':[{'name':'c','env':[{'name':'X','$patch':'delete'},{'name':'A','value':'1',"
     "'valueFrom':null}],'$setElementOrder/env':[{'name':'A'}],'image':null}]}",
     "{'containers':[{'name':'c','env':[{'name':'A','value':'1'}]}]}"},
    {"a map of objects merges its values with their type",
     "{'overrides':{'x':{'name':'x','ports':[{'containerPort':80,'name':'a'}]},'y':{'name':'y'}}}",
     "{'overrides':{'x':{'ports':[{'containerPort':80,'protocol':'UDP'}]},'y':null}}",
     "{'overrides':{'x':{'name':'x','ports':[{'containerPort':80,'name':'a','protocol':'UDP'}]}}}"},
    {"a list replaces a value of another type", "{'containers':'oops'}",
     "{'containers':[{'name':'a'}]}", "{'containers':[{'name':'a'}]}"},
    {"a scalar replaces a list", "{'containers':[{'name':'a'}]}", "{'containers':3}",
     "{'containers':3}"},
    {"nodeSelector is a map of strings", "{'nodeSelector':{'a':'1'}}",
     "{'nodeSelector':{'b':'2'}}", "{'nodeSelector':{'a':'1','b':'2'}}"},
    {"merging empty lists", "{'containers':[]}", "{'containers':[]}", "{'containers':[]}"},
    {"fields the schema does not know merge without strategy",
     "{'x':{'a':[1,2],'b':1}}", "{'x':{'a':[3],'c':2}}", "{'x':{'a':[3],'b':1,'c':2}}"},
};

/* Malformed patches: wrong-shaped directives and lists Go will not merge. */
static const struct pcase smp_errors[] = {
    {"$retainKeys that is not a list", "{'strategy':{}}",
     "{'$retainKeys':'type','type':'Recreate'}", "error: invalid patch format of retainKeys"},
    {"$retainKeys with a number", "{}", "{'$retainKeys':[1]}",
     "error: invalid patch format of retainKeys"},
    {"$retainKeys without a key the patch sets", "{}",
     "{'$retainKeys':['type'],'rollingUpdate':{}}",
     "error: invalid patch format of retainKeys: rollingUpdate is not in the $retainKeys list"},
    {"$deleteFromPrimitiveList that is not a list", "{'metadata':{'finalizers':['a']}}",
     "{'metadata':{'$deleteFromPrimitiveList/finalizers':'a'}}",
     "error: invalid patch format of primitive list"},
    {"$deleteFromPrimitiveList that is null", "{'metadata':{'finalizers':['a']}}",
     "{'metadata':{'$deleteFromPrimitiveList/finalizers':null}}",
     "error: invalid patch format of primitive list"},
    {"$deleteFromPrimitiveList without a slash", "{}", "{'$deleteFromPrimitiveListX':[1]}",
     "error: invalid patch format of primitive list"},
    {"$deleteFromPrimitiveList of objects",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'$deleteFromPrimitiveList/containers':[{'name':'a'}]}}}}",
     "error: invalid patch format of primitive list: containers holds objects"},
    {"$setElementOrder that is not a list", "{'metadata':{}}",
     "{'metadata':{'$setElementOrder/finalizers':'a'}}",
     "error: invalid patch format of setElementOrder list"},
    {"$setElementOrder without a slash", "{}", "{'$setElementOrder':[]}",
     "error: invalid patch format of setElementOrder list"},
    {"$setElementOrder of something that is not a list", "{'metadata':{'finalizers':'a'}}",
     "{'metadata':{'$setElementOrder/finalizers':['a']}}",
     "error: invalid patch format of setElementOrder list: finalizers is a string, not a list"},
    {"$setElementOrder against the patch list's order", "{'metadata':{'finalizers':['a','b']}}",
     "{'metadata':{'$setElementOrder/finalizers':['a','b'],'finalizers':['b','a']}}",
     "error: The order in patch list:\n[\"b\",\"a\"]\n doesn't match $setElementOrder list:\n"},
    {"$setElementOrder naming elements without the merge key",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'image':'x'}],"
     "'containers':[{'name':'a'}]}}}}",
     "error: map: {\"image\":\"x\"} does not contain declared merge key: name"},
    {"$setElementOrder with a patch element that is not an object",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'a'}],'containers':["
     "'a']}}}}",
     "error: map: \"a\" does not contain declared merge key: name"},
    {"$setElementOrder with a patch element without the merge key",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'a'}],"
     "'containers':[{'image':'x'}]}}}}",
     "error: map: {\"image\":\"x\"} does not contain declared merge key: name"},
    {"$setElementOrder over a list of two kinds", "{'metadata':{'finalizers':['a',1]}}",
     "{'metadata':{'$setElementOrder/finalizers':['a']}}",
     "error: list element types are not identical"},
    {"$setElementOrder over a list that will not merge", "{'metadata':{'finalizers':['a']}}",
     "{'metadata':{'$setElementOrder/finalizers':[['b']],'finalizers':[['b']]}}",
     "error: lists of lists are not supported"},
    {"$deleteFromPrimitiveList of another kind", "{'metadata':{'finalizers':['a']}}",
     "{'metadata':{'$deleteFromPrimitiveList/finalizers':[1]}}",
     "error: list element types are not identical"},
    {"an error deep inside a merged element",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a','env':[{'name':'A'}]}]}}}}",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a','env':[{'value':'x'}]}]}}}}",
     "error: map: {\"value\":\"x\"} does not contain declared merge key: name"},
    {"an error inside a new element",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'containers':[{'name':'n','$retainKeys':'x'}]}}}}",
     "error: invalid patch format of retainKeys"},
    {"an error inside a replacing list",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'containers':[{'$patch':'replace'},{'name':'n',"
     "'$retainKeys':1}]}}}}",
     "error: invalid patch format of retainKeys"},
    {"an error inside a replaced atomic list", "{}",
     "{'spec':{'template':{'spec':{'tolerations':[{'key':'a','$patch':'frob'}]}}}}",
     "error: unknown patch type: \"frob\""},
    {"a long value in an error is cut",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'containers':[{'image':'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'}]}}}}",
     "error: xxxxxxx... does not contain declared merge key: name"},
    {"an element without its merge key",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'containers':[{'image':'x'}]}}}}",
     "error: map: {\"image\":\"x\"} does not contain declared merge key: name"},
    {"a delete element without its merge key",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'containers':[{'$patch':'delete'}]}}}}",
     "error: does not contain declared merge key: name"},
    {"the document's element without its merge key (as in Go)",
     "{'spec':{'template':{'spec':{'containers':[{'image':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'containers':[{'name':'b'}]}}}}",
     "error: map: {\"image\":\"a\"} does not contain declared merge key: name"},
    {"a delete element in a list without merge key", "{'metadata':{'finalizers':['a']}}",
     "{'metadata':{'finalizers':[{'$patch':'delete','x':'a'}]}}",
     "error: a \"$patch: delete\" element needs a list with a merge key"},
    {"an unknown $patch in a map", "{'metadata':{}}", "{'metadata':{'$patch':'frob'}}",
     "error: unknown patch type: \"frob\" in map: {\"$patch\":\"frob\"}"},
    {"a $patch that is not a string", "{}", "{'$patch':1}", "error: unknown patch type: 1 in map"},
    {"an unknown $patch in a list",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a','$patch':'frob'}]}}}}",
     "error: unknown patch type: \"frob\""},
    {"an unknown $patch in a new value", "{}",
     "{'spec':{'template':{'$patch':'Delete'}}}", "error: unknown patch type: \"Delete\""},
    {"$patch merge in a list", "{'spec':{'template':{'spec':{'containers':[{'name':'a'}]}}}}",
     "{'spec':{'template':{'spec':{'containers':[{'name':'a','$patch':'merge'}]}}}}",
     "error: merging lists cannot yet be specified in the patch"},
    {"lists of lists", "{'metadata':{'finalizers':[['a']]}}", "{'metadata':{'finalizers':[['b']]}}",
     "error: lists of lists are not supported"},
    {"elements of two kinds", "{'metadata':{'finalizers':['a']}}",
     "{'metadata':{'finalizers':[1]}}",
     "error: list element types are not identical"},
    {"a null element", "{'metadata':{'finalizers':['a']}}", "{'metadata':{'finalizers':[null]}}",
     "error: list element types are not identical: a list holds a null"},
    {"objects in a merge list without a merge key",
     "{'spec':{'template':{'spec':{'hostAliases':[{'ip':'1'}]}}}}",
     "{'spec':{'template':{'spec':{'hostAliases':[{'ip':'2'}]}}}}",
     "error: cannot merge lists without merge key for hostAliases"},
};

/* With no schema (custom resources, RawExtension): lists are replaced, maps
 * merge, the directives that need no merge key still work. */
static const struct pcase smp_no_schema[] = {
    {"lists are replaced, maps merge", "{'a':{'list':[1,2],'m':{'x':1}},'keep':true}",
     "{'a':{'list':[3],'m':{'y':2}}}", "{'a':{'list':[3],'m':{'x':1,'y':2}},'keep':true}"},
    {"lists of objects are replaced too",
     "{'containers':[{'name':'a','image':'1'},{'name':'b'}]}",
     "{'containers':[{'name':'a','image':'2'}]}", "{'containers':[{'name':'a','image':'2'}]}"},
    {"$patch replace", "{'a':{'x':1},'keep':true}", "{'a':{'$patch':'replace','z':1}}",
     "{'a':{'z':1},'keep':true}"},
    {"$patch delete", "{'a':{'x':1}}", "{'a':{'$patch':'delete'}}", "{'a':{}}"},
    {"$deleteFromPrimitiveList", "{'list':[1,2,1,3]}", "{'$deleteFromPrimitiveList/list':[1]}",
     "{'list':[2,3]}"},
    {"$retainKeys", "{'a':1,'b':2,'c':3}", "{'$retainKeys':['a','c'],'c':4}", "{'a':1,'c':4}"},
    {"$setElementOrder of a primitive list", "{'list':['a','b','c']}",
     "{'$setElementOrder/list':['c','b','a']}", "{'list':['c','b','a']}"},
    {"directive elements drop out of a replaced list", "{'items':[{'name':'x'}]}",
     "{'items':[{'name':'x','$patch':'delete'},{'name':'y'},{'$patch':'replace'}]}",
     "{'items':[{'name':'y'}]}"},
    {"nulls inside objects in a list go, nulls in the list stay", "{}",
     "{'items':[{'a':null,'b':1},null]}", "{'items':[{'b':1},null]}"},
    {"null deletes", "{'a':1,'b':2}", "{'a':null}", "{'b':2}"},
};

static void test_smp_deployment(void **state)
{
    (void)state;
    RUN(ENG_SMP, &t_deployment, smp_deployment);
}

static void test_smp_pod(void **state)
{
    (void)state;
    RUN(ENG_SMP, &t_pod, smp_pod);
}

static void test_smp_errors(void **state)
{
    (void)state;
    /* the same malformed patches, one level down, through the Deployment */
    RUN(ENG_SMP, &t_deployment, smp_errors);
}

static void test_smp_no_schema(void **state)
{
    (void)state;
    RUN(ENG_SMP, NULL, smp_no_schema);
}

/* NULL patch, small error buffers, and results that share nothing. */
static void test_smp_edges(void **state)
{
    (void)state;
    char err[8];
    json_t *doc = jparse("{'containers':[{'name':'a','env':[{'name':'x'}]}]}");
    assert_null(kube_patch_strategic(&t_pod, doc, NULL, err, sizeof err));
    assert_true(strlen(err) == sizeof err - 1);
    json_t *patch = jparse("{'containers':[{'name':'b','env':[{'name':'y'}]}]}");
    json_t *out = kube_patch_strategic(&t_pod, doc, patch, NULL, 0);
    assert_non_null(out);
    json_t *b = json_array_get(json_object_get(out, "containers"), 0);
    json_t *a = json_array_get(json_object_get(out, "containers"), 1);
    json_object_set_new(b, "image", json_string("changed"));
    json_object_set_new(a, "image", json_string("changed"));
    json_t *doc0 = jparse("{'containers':[{'name':'a','env':[{'name':'x'}]}]}");
    json_t *patch0 = jparse("{'containers':[{'name':'b','env':[{'name':'y'}]}]}");
    assert_true(json_equal(doc, doc0));
    assert_true(json_equal(patch, patch0));
    json_decref(out);
    json_decref(doc);
    json_decref(patch);
    json_decref(doc0);
    json_decref(patch0);
}

/* The MergeItem type of strategicpatch's tests (patch_test.go). */
static const struct kube_type t_mi, t_rk;
#define MI_LIST(n, s, key)                                                                         \
    {.name = n, .vtype = KUBE_V_OBJECT, .type = &t_mi, .repeated = true, .patch_strategy = s,    \
     .patch_merge_key = key}
static const struct kube_field t_mi_fields[] = {
    STR("name"),
    STR("value"),
    STR("other"),
    MI_LIST("mergingList", "merge", "name"),
    MI_LIST("nonMergingList", NULL, NULL),
    {.name = "mergingIntList", .vtype = KUBE_V_INT64, .repeated = true, .patch_strategy = "merge"},
    {.name = "nonMergingIntList", .vtype = KUBE_V_INT64, .repeated = true},
    MI_LIST("mergeItemPtr", "merge", "name"),
    {.name = "simpleMap", .vtype = KUBE_V_STRING, .map = true},
    {.name = "replacingItem", .vtype = KUBE_V_RAW, .patch_strategy = "replace"},
    RAW("jsonItem"),
    {.name = "retainKeysMap", .vtype = KUBE_V_OBJECT, .type = &t_rk,
     .patch_strategy = "retainKeys"},
    MI_LIST("retainKeysMergingList", "merge,retainKeys", "name"),
};
static const struct kube_field t_rk_fields[] = {
    STR("name"),
    STR("value"),
    STR("other"),
    {.name = "simpleMap", .vtype = KUBE_V_STRING, .map = true},
    {.name = "mergingIntList", .vtype = KUBE_V_INT64, .repeated = true, .patch_strategy = "merge"},
    MI_LIST("mergingList", "merge", "name"),
    MI_LIST("nonMergingList", NULL, NULL),
};
static const struct kube_type t_mi = {.name = "mergeItem", FIELDS(t_mi)};
static const struct kube_type t_rk = {.name = "retainKeysMergeItem", FIELDS(t_rk)};

/* k8s.io/apimachinery/pkg/util/strategicpatch/patch_test.go, v0.32, as data:
 * customStrategicMergePatchTestCaseData and createStrategicMergePatchTestCaseData
 * (whose lists Go sorts by merge key first, so they are sorted here too),
 * then customStrategicMergePatchRawTestCases, strategicMergePatchRawTestCases
 * and replaceRawExtensionPatchTestCases. */
static const struct pcase smp_go[] = {
    {"unique scalars when merging lists (two-way)",
     "{'mergingIntList':[1,2]}",
     "{'mergingIntList':[2,3]}",
     "{'mergingIntList':[1,2,3]}"},
    {"delete map from nested map (two-way)",
     "{'simpleMap':{'key1':1,'key2':1}}",
     "{'simpleMap':{'$patch':'delete'}}",
     "{'simpleMap':{}}"},
    {"delete all items from merging list (two-way)",
     "{'mergingList':[{'name':1},{'name':2}]}",
     "{'mergingList':[{'$patch':'replace'}]}",
     "{'mergingList':[]}"},
    {"merge empty merging lists (two-way)",
     "{'mergingList':[]}",
     "{'mergingList':[]}",
     "{'mergingList':[]}"},
    {"delete all keys from map (two-way)",
     "{'name':1,'value':1}",
     "{'$patch':'replace'}",
     "{}"},
    {"add key and delete all keys from map (two-way)",
     "{'name':1,'value':1}",
     "{'other':'a','$patch':'replace'}",
     "{'other':'a'}"},
    {"delete all duplicate entries in a merging list (two-way)",
     "{'mergingList':[{'name':1},{'name':1},{'name':2,'value':'a'},{'name':3},{'name':3}]}",
     "{'mergingList':[{'name':1,'$patch':'delete'},{'name':3,'$patch':'delete'}]}",
     "{'mergingList':[{'name':2,'value':'a'}]}"},
    {"retainKeys map can add a field when no retainKeys directive present (two-way)",
     "{'retainKeysMap':{'name':'foo'}}",
     "{'retainKeysMap':{'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map can change a field when no retainKeys directive present (two-way)",
     "{'retainKeysMap':{'name':'foo','value':'a'}}",
     "{'retainKeysMap':{'value':'b'}}",
     "{'retainKeysMap':{'name':'foo','value':'b'}}"},
    {"retainKeys map can delete a field when no retainKeys directive present (two-way)",
     "{'retainKeysMap':{'name':'foo','value':'a'}}",
     "{'retainKeysMap':{'value':null}}",
     "{'retainKeysMap':{'name':'foo'}}"},
    {"retainKeys map merge an empty map (two-way)",
     "{'retainKeysMap':{'name':'foo','value':'a'}}",
     "{'retainKeysMap':{}}",
     "{'retainKeysMap':{'name':'foo','value':'a'}}"},
    {"retainKeys list can add a field when no retainKeys directive present (two-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo'}]}",
     "{'retainKeysMergingList':[{'name':'foo','value':'a'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}"},
    {"retainKeys list can change a field when no retainKeys directive present (two-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}",
     "{'retainKeysMergingList':[{'name':'foo','value':'b'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'b'}]}"},
    {"retainKeys list can delete a field when no retainKeys directive present (two-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}",
     "{'retainKeysMergingList':[{'name':'foo','value':null}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo'}]}"},
    {"preserve the order from the patch in a merging list (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':'b'},{'name':3}]}",
     "{'mergingList':[{'name':1,'value':'a'},{'name':2,'other':'x'},{'name':3,'value':'c'}"
     "]}",
     "{'mergingList':[{'name':1,'value':'a'},{'name':2,'value':'b','other':'x'},{'name':3,"
     "'value':'c'}]}"},
    {"preserve the order from the patch in a merging list 2 (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':'b'},{'name':3}]}",
     "{'mergingList':[{'name':1,'value':'a'},{'name':3,'value':'c'}]}",
     "{'mergingList':[{'name':1,'value':'a'},{'name':2,'value':'b'},{'name':3,'value':'c'}"
     "]}"},
    {"preserve the order from the patch in a merging int list (two-way)",
     "{'mergingIntList':[1,2,3]}",
     "{'mergingIntList':[1,2,3]}",
     "{'mergingIntList':[1,2,3]}"},
    {"preserve the order from the patch in a merging int list (two-way)",
     "{'mergingIntList':[1,2,3]}",
     "{'mergingIntList':[1,3]}",
     "{'mergingIntList':[1,2,3]}"},
    {"nil original (two-way)",
     "null",
     "{'name':1,'value':1}",
     "{'name':1,'value':1}"},
    {"nil original (three-way)",
     "{'name':1,'other':'a'}",
     "{'value':1}",
     "{'name':1,'value':1,'other':'a'}"},
    {"nil patch (two-way)",
     "{'name':1}",
     "{}",
     "{'name':1}"},
    {"nil patch (three-way)",
     "{'name':1}",
     "{}",
     "{'name':1}"},
    {"add field to map (two-way)",
     "{'name':1}",
     "{'value':1}",
     "{'name':1,'value':1}"},
    {"add field to map (three-way)",
     "{'name':1,'other':'a'}",
     "{'value':1}",
     "{'name':1,'value':1,'other':'a'}"},
    {"add field to map with conflict (two-way)",
     "{'name':1}",
     "{'value':1}",
     "{'name':1,'value':1}"},
    {"add field to map with conflict (three-way)",
     "{'name':'a','other':'a'}",
     "{'name':1,'value':1}",
     "{'name':1,'value':1,'other':'a'}"},
    {"add field and delete field from map (two-way)",
     "{'name':1}",
     "{'name':null,'value':1}",
     "{'value':1}"},
    {"add field and delete field from map (three-way)",
     "{'name':1,'other':'a'}",
     "{'name':null,'value':1}",
     "{'value':1,'other':'a'}"},
    {"add field and delete field from map with conflict (two-way)",
     "{'name':1}",
     "{'name':null,'value':1}",
     "{'value':1}"},
    {"add field and delete field from map with conflict (three-way)",
     "{'name':'a','other':'a'}",
     "{'name':null,'value':1}",
     "{'value':1,'other':'a'}"},
    {"delete field from nested map (two-way)",
     "{'simpleMap':{'key1':1,'key2':1}}",
     "{'simpleMap':{'key2':null}}",
     "{'simpleMap':{'key1':1}}"},
    {"delete field from nested map (three-way)",
     "{'simpleMap':{'key1':1,'key2':1,'other':'a'}}",
     "{'simpleMap':{'key2':null}}",
     "{'simpleMap':{'key1':1,'other':'a'}}"},
    {"delete field from nested map with conflict (two-way)",
     "{'simpleMap':{'key1':1,'key2':1}}",
     "{'simpleMap':{'key2':null}}",
     "{'simpleMap':{'key1':1}}"},
    {"delete field from nested map with conflict (three-way)",
     "{'simpleMap':{'key1':'a','key2':1,'other':'a'}}",
     "{'simpleMap':{'key1':1,'key2':null}}",
     "{'simpleMap':{'key1':1,'other':'a'}}"},
    {"delete all fields from map (two-way)",
     "{'name':1,'value':1}",
     "{'name':null,'value':null}",
     "{}"},
    {"delete all fields from map (three-way)",
     "{'name':1,'value':1,'other':'a'}",
     "{'name':null,'value':null}",
     "{'other':'a'}"},
    {"delete all fields from map with conflict (two-way)",
     "{'name':1,'value':1}",
     "{'name':null,'value':null}",
     "{}"},
    {"delete all fields from map with conflict (three-way)",
     "{'name':1,'value':'a','other':'a'}",
     "{'name':null,'value':null}",
     "{'other':'a'}"},
    {"add field and delete all fields from map (two-way)",
     "{'name':1,'value':1}",
     "{'name':null,'value':null,'other':'a'}",
     "{'other':'a'}"},
    {"add field and delete all fields from map (three-way)",
     "{'name':1,'value':1,'other':'a'}",
     "{'name':null,'value':null}",
     "{'other':'a'}"},
    {"add field and delete all fields from map with conflict (two-way)",
     "{'name':1,'value':1}",
     "{'name':null,'value':null,'other':'a'}",
     "{'other':'a'}"},
    {"add field and delete all fields from map with conflict (three-way)",
     "{'name':1,'value':1,'other':'b'}",
     "{'name':null,'value':null,'other':'a'}",
     "{'other':'a'}"},
    {"replace list of scalars (two-way)",
     "{'nonMergingIntList':[1,2]}",
     "{'nonMergingIntList':[2,3]}",
     "{'nonMergingIntList':[2,3]}"},
    {"replace list of scalars (three-way)",
     "{'nonMergingIntList':[1,2]}",
     "{'nonMergingIntList':[2,3]}",
     "{'nonMergingIntList':[2,3]}"},
    {"replace list of scalars with conflict (two-way)",
     "{'nonMergingIntList':[1,2]}",
     "{'nonMergingIntList':[2,3]}",
     "{'nonMergingIntList':[2,3]}"},
    {"replace list of scalars with conflict (three-way)",
     "{'nonMergingIntList':[1,4]}",
     "{'nonMergingIntList':[2,3]}",
     "{'nonMergingIntList':[2,3]}"},
    {"delete all maps from merging list (two-way)",
     "{'mergingList':[{'name':1},{'name':2}]}",
     "{'mergingList':[{'name':1,'$patch':'delete'},{'name':2,'$patch':'delete'}]}",
     "{'mergingList':[]}"},
    {"delete all maps from merging list (three-way)",
     "{'mergingList':[{'name':1},{'name':2}]}",
     "{'mergingList':[{'name':1,'$patch':'delete'},{'name':2,'$patch':'delete'}]}",
     "{'mergingList':[]}"},
    {"delete all maps from merging list with conflict (two-way)",
     "{'mergingList':[{'name':1},{'name':2}]}",
     "{'mergingList':[{'name':1,'$patch':'delete'},{'name':2,'$patch':'delete'}]}",
     "{'mergingList':[]}"},
    {"delete all maps from merging list with conflict (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'other':'b'}]}",
     "{'mergingList':[{'name':1,'$patch':'delete'},{'name':2,'$patch':'delete'}]}",
     "{'mergingList':[]}"},
    {"delete all maps from empty merging list (two-way)",
     "{'mergingList':[{'name':1},{'name':2}]}",
     "{'mergingList':[{'name':1,'$patch':'delete'},{'name':2,'$patch':'delete'}]}",
     "{'mergingList':[]}"},
    {"delete all maps from empty merging list (three-way)",
     "{'mergingList':[]}",
     "{'mergingList':[{'name':1,'$patch':'delete'},{'name':2,'$patch':'delete'}]}",
     "{'mergingList':[]}"},
    {"merge empty merging lists (two-way)",
     "{'mergingList':[]}",
     "{}",
     "{'mergingList':[]}"},
    {"merge empty merging lists (three-way)",
     "{'mergingList':[]}",
     "{}",
     "{'mergingList':[]}"},
    {"defined null values should propagate overwrite current fields (with conflict) (two-w"
     "ay)",
     "{'name':2}",
     "{'name':1,'value':1,'other':null}",
     "{'name':1,'value':1}"},
    {"defined null values should propagate overwrite current fields (with conflict) (three"
     "-way)",
     "{'name':'a','other':'a'}",
     "{'name':1,'value':1,'other':null}",
     "{'name':1,'value':1}"},
    {"defined null values should propagate removing original fields (two-way)",
     "{'name':'original-name','value':'original-value'}",
     "{'name':'modified-name','value':null}",
     "{'name':'modified-name'}"},
    {"defined null values should propagate removing original fields (three-way)",
     "{'name':'original-name','value':'original-value','other':'current-other'}",
     "{'name':'modified-name','value':null}",
     "{'name':'modified-name','other':'current-other'}"},
    {"nil patch with retainKeys map (two-way)",
     "{'name':'a','retainKeysMap':{'name':'foo'}}",
     "{}",
     "{'name':'a','retainKeysMap':{'name':'foo'}}"},
    {"nil patch with retainKeys map (three-way)",
     "{'name':'a','value':'b','retainKeysMap':{'name':'foo'}}",
     "{}",
     "{'name':'a','value':'b','retainKeysMap':{'name':'foo'}}"},
    {"retainKeys map with no change should not be present (two-way)",
     "{'name':'a','retainKeysMap':{'name':'foo'}}",
     "{'value':'b'}",
     "{'name':'a','value':'b','retainKeysMap':{'name':'foo'}}"},
    {"retainKeys map with no change should not be present (three-way)",
     "{'name':'a','other':'c','retainKeysMap':{'name':'foo'}}",
     "{'value':'b'}",
     "{'name':'a','value':'b','other':'c','retainKeysMap':{'name':'foo'}}"},
    {"$setElementOrder contains item that is not present in the list to be merged (two-way"
     ")",
     "{'mergingList':[{'name':1},{'name':3}]}",
     "{'$setElementOrder/mergingList':[{'name':3},{'name':2},{'name':1}],'mergingList':[{'"
     "name':3,'value':3},{'name':1,'value':1}]}",
     "{'mergingList':[{'name':3,'value':3},{'name':1,'value':1}]}"},
    {"$setElementOrder contains item that is not present in the int list to be merged (two"
     "-way)",
     "{'mergingIntList':[1,3]}",
     "{'$setElementOrder/mergingIntList':[3,2,1]}",
     "{'mergingIntList':[3,1]}"},
    {"should check if order in $setElementOrder and patch list match (two-way)",
     "{'mergingList':[{'name':1},{'name':3},{'name':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2},{'name':3}],'mergingList':[{'"
     "name':3,'value':3},{'name':1,'value':1}]}",
     "error: doesn't match"},
    {"$setElementOrder contains item that is not present in the int list to be merged (two"
     "-way)",
     "{'mergingIntList':[1,3,2]}",
     "{'$setElementOrder/mergingIntList':[1,2,3],'mergingIntList':[3,1]}",
     "error: doesn't match"},
    {"missing merge key should error out (two-way)",
     "{'mergingList':[{'name':1,'value':'a'}]}",
     "{'mergingList':[{'value':'b'}]}",
     "error: does not contain declared merge key"},
    {"$deleteFromPrimitiveList of nonexistent item in primitive list should not add the it"
     "em to the list (two-way)",
     "{'mergingIntList':[1,2]}",
     "{'$deleteFromPrimitiveList/mergingIntList':[3]}",
     "{'mergingIntList':[1,2]}"},
    {"$deleteFromPrimitiveList on empty primitive list should not add the item to the list"
     " (two-way)",
     "{'mergingIntList':null}",
     "{'$deleteFromPrimitiveList/mergingIntList':[3]}",
     "{'mergingIntList':null}"},
    {"$deleteFromPrimitiveList on nonexistent primitive list should not add the primitive "
     "list (two-way)",
     "{'foo':['bar']}",
     "{'$deleteFromPrimitiveList/mergingIntList':[3]}",
     "{'foo':['bar']}"},
    {"$deleteFromPrimitiveList should delete item from a list with merge patch strategy (t"
     "wo-way)",
     "{'mergingIntList':[1,2,3]}",
     "{'$deleteFromPrimitiveList/mergingIntList':[2]}",
     "{'mergingIntList':[1,3]}"},
    {"$deleteFromPrimitiveList should delete item from a list without merge patch strategy"
     " (two-way)",
     "{'nonMergingIntList':[1,2,3]}",
     "{'$deleteFromPrimitiveList/nonMergingIntList':[2]}",
     "{'nonMergingIntList':[1,3]}"},
    {"nested patch merge with empty list (two-way)",
     "{'name':'hi'}",
     "{'mergingList':[{'name':'hello'},{'$patch':'delete','name':'doesntexist'}]}",
     "{'name':'hi','mergingList':[{'name':'hello'}]}"},
    {"nested patch merge with empty list (three-way)",
     "{'name':'hi','mergingList':[{'name':'hello2'}]}",
     "{'$setElementOrder/mergingList':[{'name':'hello'},{'name':'doesntexist'}],'mergingLi"
     "st':[{'name':'hello'}]}",
     "{'name':'hi','mergingList':[{'name':'hello'},{'name':'hello2'}]}"},
    {"delete items in lists of scalars (two-way)",
     "{'mergingIntList':[1,2,3]}",
     "{'$setElementOrder/mergingIntList':[1,2],'$deleteFromPrimitiveList/mergingIntList':["
     "3]}",
     "{'mergingIntList':[1,2]}"},
    {"delete items in lists of scalars (three-way)",
     "{'mergingIntList':[1,2,3,4]}",
     "{'$setElementOrder/mergingIntList':[1,2],'$deleteFromPrimitiveList/mergingIntList':["
     "3]}",
     "{'mergingIntList':[1,2,4]}"},
    {"delete all duplicate items in lists of scalars (two-way)",
     "{'mergingIntList':[1,2,3,3]}",
     "{'$setElementOrder/mergingIntList':[1,2],'$deleteFromPrimitiveList/mergingIntList':["
     "3]}",
     "{'mergingIntList':[1,2]}"},
    {"delete all duplicate items in lists of scalars (three-way)",
     "{'mergingIntList':[1,2,3,3,4]}",
     "{'$setElementOrder/mergingIntList':[1,2],'$deleteFromPrimitiveList/mergingIntList':["
     "3]}",
     "{'mergingIntList':[1,2,4]}"},
    {"add and delete items in lists of scalars (two-way)",
     "{'mergingIntList':[1,2,3]}",
     "{'$setElementOrder/mergingIntList':[1,2,4],'$deleteFromPrimitiveList/mergingIntList'"
     ":[3],'mergingIntList':[4]}",
     "{'mergingIntList':[1,2,4]}"},
    {"add and delete items in lists of scalars (three-way)",
     "{'mergingIntList':[1,2,3,4]}",
     "{'$setElementOrder/mergingIntList':[1,2,4],'$deleteFromPrimitiveList/mergingIntList'"
     ":[3]}",
     "{'mergingIntList':[1,2,4]}"},
    {"merge lists of maps (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':4},{'name':1},{'name':2},{'name':3}],'mergi"
     "ngList':[{'name':4,'value':4},{'name':3,'value':3}]}",
     "{'mergingList':[{'name':4,'value':4},{'name':1},{'name':2,'value':2},{'name':3,'valu"
     "e':3}]}"},
    {"merge lists of maps (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':4},{'name':1},{'name':2},{'name':3}],'mergi"
     "ngList':[{'name':4,'value':4},{'name':3,'value':3}]}",
     "{'mergingList':[{'name':4,'value':4},{'name':1,'other':'a'},{'name':2,'value':2,'oth"
     "er':'b'},{'name':3,'value':3}]}"},
    {"merge lists of maps with conflict (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2},{'name':3}],'mergingList':[{'"
     "name':3,'value':3}]}",
     "{'mergingList':[{'name':1},{'name':2,'value':2},{'name':3,'value':3}]}"},
    {"merge lists of maps with conflict (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':3,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2},{'name':3}],'mergingList':[{'"
     "name':2,'value':2},{'name':3,'value':3}]}",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'},{'name':3,'v"
     "alue':3}]}"},
    {"add field to map in merging list (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':1}]}",
     "{'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}"},
    {"add field to map in merging list (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':1}]}",
     "{'mergingList':[{'name':1,'value':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}"},
    {"add field to map in merging list (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':1}]}",
     "{'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}"},
    {"add field to map in merging list (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':1}]}",
     "{'mergingList':[{'name':1,'value':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}"},
    {"add field to map in merging list with conflict (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':1}]}",
     "{'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}"},
    {"add field to map in merging list with conflict (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':3,'value':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':1},{'name':2,'value':2}]}",
     "{'mergingList':[{'name':1,'value':1,'other':'a'},{'name':2,'value':2},{'name':3,'val"
     "ue':2,'other':'b'}]}"},
    {"add duplicate field to map in merging list (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':1}]}",
     "{'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}"},
    {"add duplicate field to map in merging list (three-way)",
     "{'mergingList':[{'name':1,'value':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
     "{}",
     "{'mergingList':[{'name':1,'value':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}"},
    {"add an item that already exists in current object in merging list (two-way)",
     "{'mergingList':[{'name':1,'value':'a'},{'name':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2},{'name':3}],'mergingList':[{'"
     "name':3}]}",
     "{'mergingList':[{'name':1,'value':'a'},{'name':2},{'name':3}]}"},
    {"add an item that already exists in current object in merging list (three-way)",
     "{'mergingList':[{'name':1,'value':'a','other':'x'},{'name':2},{'name':3}]}",
     "{}",
     "{'mergingList':[{'name':1,'value':'a','other':'x'},{'name':2},{'name':3}]}"},
    {"add duplicate field to map in merging list with conflict (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':1}]}",
     "{'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}"},
    {"add duplicate field to map in merging list with conflict (three-way)",
     "{'mergingList':[{'name':1,'value':1,'other':'a'},{'name':2,'value':3,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':2,'va"
     "lue':2}]}",
     "{'mergingList':[{'name':1,'value':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}"},
    {"replace map field value in merging list (two-way)",
     "{'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':'a'}]}",
     "{'mergingList':[{'name':1,'value':'a'},{'name':2,'value':2}]}"},
    {"replace map field value in merging list (three-way)",
     "{'mergingList':[{'name':1,'value':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':'a'}]}",
     "{'mergingList':[{'name':1,'value':'a','other':'a'},{'name':2,'value':2,'other':'b'}]"
     "}"},
    {"replace map field value in merging list with conflict (two-way)",
     "{'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':'a'}]}",
     "{'mergingList':[{'name':1,'value':'a'},{'name':2,'value':2}]}"},
    {"replace map field value in merging list with conflict (three-way)",
     "{'mergingList':[{'name':1,'value':3,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':'a'}]}",
     "{'mergingList':[{'name':1,'value':'a','other':'a'},{'name':2,'value':2,'other':'b'}]"
     "}"},
    {"delete map from merging list (two-way)",
     "{'mergingList':[{'name':1},{'name':2}]}",
     "{'$setElementOrder/mergingList':[{'name':2}],'mergingList':[{'name':1,'$patch':'dele"
     "te'}]}",
     "{'mergingList':[{'name':2}]}"},
    {"delete map from merging list (three-way)",
     "{'mergingList':[{'name':1},{'name':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':2}],'mergingList':[{'name':1,'$patch':'dele"
     "te'}]}",
     "{'mergingList':[{'name':2,'other':'b'}]}"},
    {"delete map from merging list with conflict (two-way)",
     "{'mergingList':[{'name':1},{'name':2}]}",
     "{'$setElementOrder/mergingList':[{'name':2}],'mergingList':[{'name':1,'$patch':'dele"
     "te'}]}",
     "{'mergingList':[{'name':2}]}"},
    {"delete map from merging list with conflict (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':2}],'mergingList':[{'name':1,'$patch':'dele"
     "te'}]}",
     "{'mergingList':[{'name':2,'other':'b'}]}"},
    {"delete missing map from merging list (two-way)",
     "{'mergingList':[{'name':1},{'name':2}]}",
     "{'$setElementOrder/mergingList':[{'name':2}],'mergingList':[{'name':1,'$patch':'dele"
     "te'}]}",
     "{'mergingList':[{'name':2}]}"},
    {"delete missing map from merging list (three-way)",
     "{'mergingList':[{'name':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':2}],'mergingList':[{'name':1,'$patch':'dele"
     "te'}]}",
     "{'mergingList':[{'name':2,'other':'b'}]}"},
    {"delete missing map from merging list with conflict (two-way)",
     "{'mergingList':[{'name':1},{'name':2}]}",
     "{'$setElementOrder/mergingList':[{'name':2}],'mergingList':[{'name':1,'$patch':'dele"
     "te'}]}",
     "{'mergingList':[{'name':2}]}"},
    {"delete missing map from merging list with conflict (three-way)",
     "{'mergingList':[{'name':3,'other':'a'}]}",
     "{'$setElementOrder/mergingList':[{'name':2}],'mergingList':[{'name':2},{'name':1,'$p"
     "atch':'delete'}]}",
     "{'mergingList':[{'name':2},{'name':3,'other':'a'}]}"},
    {"add map and delete map from merging list (two-way)",
     "{'mergingList':[{'name':1},{'name':2}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':3}],'mergingList':[{'name':3},{'"
     "name':1,'$patch':'delete'}]}",
     "{'mergingList':[{'name':2},{'name':3}]}"},
    {"add map and delete map from merging list (three-way)",
     "{'mergingList':[{'name':1},{'name':2,'other':'b'},{'name':4,'other':'c'}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':3}],'mergingList':[{'name':3},{'"
     "name':1,'$patch':'delete'}]}",
     "{'mergingList':[{'name':2,'other':'b'},{'name':4,'other':'c'},{'name':3}]}"},
    {"add map and delete map from merging list with conflict (two-way)",
     "{'mergingList':[{'name':1},{'name':2}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':3}],'mergingList':[{'name':3},{'"
     "name':1,'$patch':'delete'}]}",
     "{'mergingList':[{'name':2},{'name':3}]}"},
    {"add map and delete map from merging list with conflict (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':4,'other':'c'}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':3}],'mergingList':[{'name':2},{'"
     "name':3},{'name':1,'$patch':'delete'}]}",
     "{'mergingList':[{'name':4,'other':'c'},{'name':2},{'name':3}]}"},
    {"delete field from map in merging list (two-way)",
     "{'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':null}]}",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}"},
    {"delete field from map in merging list (three-way)",
     "{'mergingList':[{'name':1,'value':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':null}]}",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}"},
    {"delete field from map in merging list with conflict (two-way)",
     "{'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':null}]}",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}"},
    {"delete field from map in merging list with conflict (three-way)",
     "{'mergingList':[{'name':1,'value':'a','other':'a'},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':null}]}",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2}]}"},
    {"delete missing field from map in merging list (two-way)",
     "{'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':null}]}",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}"},
    {"delete missing field from map in merging list (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':null}]}",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}"},
    {"delete missing field from map in merging list with conflict (two-way)",
     "{'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':null}]}",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}"},
    {"delete missing field from map in merging list with conflict (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'va"
     "lue':null},{'name':2,'value':2}]}",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}"},
    {"replace non merging list nested in merging list (two-way)",
     "{'mergingList':[{'name':1,'nonMergingList':[{'name':1},{'name':2,'value':2}]},{'name"
     "':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'no"
     "nMergingList':[{'name':1,'value':1}]}]}",
     "{'mergingList':[{'name':1,'nonMergingList':[{'name':1,'value':1}]},{'name':2}]}"},
    {"replace non merging list nested in merging list (three-way)",
     "{'mergingList':[{'name':1,'other':'a','nonMergingList':[{'name':1},{'name':2,'value'"
     ":2}]},{'name':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'no"
     "nMergingList':[{'name':1,'value':1}]}]}",
     "{'mergingList':[{'name':1,'other':'a','nonMergingList':[{'name':1,'value':1}]},{'nam"
     "e':2,'other':'b'}]}"},
    {"replace non merging list nested in merging list with value conflict (two-way)",
     "{'mergingList':[{'name':1,'nonMergingList':[{'name':1},{'name':2,'value':2}]},{'name"
     "':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'no"
     "nMergingList':[{'name':1,'value':1}]}]}",
     "{'mergingList':[{'name':1,'nonMergingList':[{'name':1,'value':1}]},{'name':2}]}"},
    {"replace non merging list nested in merging list with value conflict (three-way)",
     "{'mergingList':[{'name':1,'other':'a','nonMergingList':[{'name':1,'value':'c'}]},{'n"
     "ame':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'no"
     "nMergingList':[{'name':1,'value':1}]}]}",
     "{'mergingList':[{'name':1,'other':'a','nonMergingList':[{'name':1,'value':1}]},{'nam"
     "e':2,'other':'b'}]}"},
    {"replace non merging list nested in merging list with deletion conflict (two-way)",
     "{'mergingList':[{'name':1,'nonMergingList':[{'name':1},{'name':2,'value':2}]},{'name"
     "':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'no"
     "nMergingList':[{'name':1,'value':1}]}]}",
     "{'mergingList':[{'name':1,'nonMergingList':[{'name':1,'value':1}]},{'name':2}]}"},
    {"replace non merging list nested in merging list with deletion conflict (three-way)",
     "{'mergingList':[{'name':1,'other':'a','nonMergingList':[{'name':2,'value':2}]},{'nam"
     "e':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':1,'no"
     "nMergingList':[{'name':1,'value':1}]}]}",
     "{'mergingList':[{'name':1,'other':'a','nonMergingList':[{'name':1,'value':1}]},{'nam"
     "e':2,'other':'b'}]}"},
    {"add field to map in merging list nested in merging list (two-way)",
     "{'mergingList':[{'name':1,'mergingList':[{'name':1},{'name':2,'value':2}]},{'name':2"
     "}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'$setElement"
     "Order/mergingList':[{'name':1},{'name':2}],'name':1,'mergingList':[{'name':1,'value'"
     ":1}]}]}",
     "{'mergingList':[{'name':1,'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}"
     ",{'name':2}]}"},
    {"add field to map in merging list nested in merging list (three-way)",
     "{'mergingList':[{'name':1,'other':'a','mergingList':[{'name':1},{'name':2,'value':2}"
     "]},{'name':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'$setElement"
     "Order/mergingList':[{'name':1},{'name':2}],'name':1,'mergingList':[{'name':1,'value'"
     ":1}]}]}",
     "{'mergingList':[{'name':1,'other':'a','mergingList':[{'name':1,'value':1},{'name':2,"
     "'value':2}]},{'name':2,'other':'b'}]}"},
    {"add field to map in merging list nested in merging list with value conflict (two-way"
     ")",
     "{'mergingList':[{'name':1,'mergingList':[{'name':1},{'name':2,'value':2}]},{'name':2"
     "}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'$setElement"
     "Order/mergingList':[{'name':1},{'name':2}],'name':1,'mergingList':[{'name':1,'value'"
     ":1}]}]}",
     "{'mergingList':[{'name':1,'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}"
     ",{'name':2}]}"},
    {"add field to map in merging list nested in merging list with value conflict (three-w"
     "ay)",
     "{'mergingList':[{'name':1,'other':'a','mergingList':[{'name':1,'value':'a','other':'"
     "c'},{'name':2,'value':'b','other':'d'}]},{'name':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'$setElement"
     "Order/mergingList':[{'name':1},{'name':2}],'name':1,'mergingList':[{'name':1,'value'"
     ":1},{'name':2,'value':2}]}]}",
     "{'mergingList':[{'name':1,'other':'a','mergingList':[{'name':1,'value':1,'other':'c'"
     "},{'name':2,'value':2,'other':'d'}]},{'name':2,'other':'b'}]}"},
    {"add field to map in merging list nested in merging list with deletion conflict (two-"
     "way)",
     "{'mergingList':[{'name':1,'mergingList':[{'name':1},{'name':2,'value':2}]},{'name':2"
     "}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'$setElement"
     "Order/mergingList':[{'name':1},{'name':2}],'name':1,'mergingList':[{'name':1,'value'"
     ":1}]}]}",
     "{'mergingList':[{'name':1,'mergingList':[{'name':1,'value':1},{'name':2,'value':2}]}"
     ",{'name':2}]}"},
    {"add field to map in merging list nested in merging list with deletion conflict (thre"
     "e-way)",
     "{'mergingList':[{'name':1,'other':'a','mergingList':[{'name':2,'value':2,'other':'d'"
     "}]},{'name':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'$setElement"
     "Order/mergingList':[{'name':1},{'name':2}],'name':1,'mergingList':[{'name':1,'value'"
     ":1}]}]}",
     "{'mergingList':[{'name':1,'other':'a','mergingList':[{'name':1,'value':1},{'name':2,"
     "'value':2,'other':'d'}]},{'name':2,'other':'b'}]}"},
    {"add field to map in merging list nested in merging list with deletion conflict (two-"
     "way)",
     "{'mergingList':[{'name':1,'mergingList':[{'name':1},{'name':2,'value':2}]},{'name':2"
     "}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'$setElement"
     "Order/mergingList':[{'name':2},{'name':1}],'name':1,'mergingList':[{'name':1,'value'"
     ":1}]}]}",
     "{'mergingList':[{'name':1,'mergingList':[{'name':2,'value':2},{'name':1,'value':1}]}"
     ",{'name':2}]}"},
    {"add field to map in merging list nested in merging list with deletion conflict (thre"
     "e-way)",
     "{'mergingList':[{'name':1,'other':'a','mergingList':[{'name':2,'value':2,'other':'d'"
     "}]},{'name':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'$setElement"
     "Order/mergingList':[{'name':2},{'name':1}],'name':1,'mergingList':[{'name':1,'value'"
     ":1}]}]}",
     "{'mergingList':[{'name':1,'other':'a','mergingList':[{'name':2,'value':2,'other':'d'"
     "},{'name':1,'value':1}]},{'name':2,'other':'b'}]}"},
    {"add map to merging list by pointer (two-way)",
     "{'mergeItemPtr':[{'name':1}]}",
     "{'$setElementOrder/mergeItemPtr':[{'name':1},{'name':2}],'mergeItemPtr':[{'name':2}]"
     "}",
     "{'mergeItemPtr':[{'name':1},{'name':2}]}"},
    {"add map to merging list by pointer (three-way)",
     "{'mergeItemPtr':[{'name':1,'other':'a'},{'name':3}]}",
     "{'$setElementOrder/mergeItemPtr':[{'name':1},{'name':2}],'mergeItemPtr':[{'name':2}]"
     "}",
     "{'mergeItemPtr':[{'name':1,'other':'a'},{'name':2},{'name':3}]}"},
    {"add map to merging list by pointer with conflict (two-way)",
     "{'mergeItemPtr':[{'name':1}]}",
     "{'$setElementOrder/mergeItemPtr':[{'name':1},{'name':2}],'mergeItemPtr':[{'name':2}]"
     "}",
     "{'mergeItemPtr':[{'name':1},{'name':2}]}"},
    {"add map to merging list by pointer with conflict (three-way)",
     "{'mergeItemPtr':[{'name':3}]}",
     "{'$setElementOrder/mergeItemPtr':[{'name':1},{'name':2}],'mergeItemPtr':[{'name':1},"
     "{'name':2}]}",
     "{'mergeItemPtr':[{'name':1},{'name':2},{'name':3}]}"},
    {"add field to map in merging list by pointer (two-way)",
     "{'mergeItemPtr':[{'name':1,'mergeItemPtr':[{'name':1},{'name':2,'value':2}]},{'name'"
     ":2}]}",
     "{'$setElementOrder/mergeItemPtr':[{'name':1},{'name':2}],'mergeItemPtr':[{'$setEleme"
     "ntOrder/mergeItemPtr':[{'name':1},{'name':2}],'name':1,'mergeItemPtr':[{'name':1,'va"
     "lue':1}]}]}",
     "{'mergeItemPtr':[{'name':1,'mergeItemPtr':[{'name':1,'value':1},{'name':2,'value':2}"
     "]},{'name':2}]}"},
    {"add field to map in merging list by pointer (three-way)",
     "{'mergeItemPtr':[{'name':1,'other':'a','mergeItemPtr':[{'name':1,'other':'a'},{'name"
     "':2,'value':2,'other':'b'}]},{'name':2,'other':'b'}]}",
     "{'$setElementOrder/mergeItemPtr':[{'name':1},{'name':2}],'mergeItemPtr':[{'$setEleme"
     "ntOrder/mergeItemPtr':[{'name':1},{'name':2}],'name':1,'mergeItemPtr':[{'name':1,'va"
     "lue':1}]}]}",
     "{'mergeItemPtr':[{'name':1,'other':'a','mergeItemPtr':[{'name':1,'value':1,'other':'"
     "a'},{'name':2,'value':2,'other':'b'}]},{'name':2,'other':'b'}]}"},
    {"add field to map in merging list by pointer with conflict (two-way)",
     "{'mergeItemPtr':[{'name':1,'mergeItemPtr':[{'name':1},{'name':2,'value':2}]},{'name'"
     ":2}]}",
     "{'$setElementOrder/mergeItemPtr':[{'name':1},{'name':2}],'mergeItemPtr':[{'$setEleme"
     "ntOrder/mergeItemPtr':[{'name':1},{'name':2}],'name':1,'mergeItemPtr':[{'name':1,'va"
     "lue':1}]}]}",
     "{'mergeItemPtr':[{'name':1,'mergeItemPtr':[{'name':1,'value':1},{'name':2,'value':2}"
     "]},{'name':2}]}"},
    {"add field to map in merging list by pointer with conflict (three-way)",
     "{'mergeItemPtr':[{'name':1,'other':'a','mergeItemPtr':[{'name':1,'value':'a'},{'name"
     "':2,'value':2,'other':'b'}]},{'name':2,'other':'b'}]}",
     "{'$setElementOrder/mergeItemPtr':[{'name':1},{'name':2}],'mergeItemPtr':[{'$setEleme"
     "ntOrder/mergeItemPtr':[{'name':1},{'name':2}],'name':1,'mergeItemPtr':[{'name':1,'va"
     "lue':1}]}]}",
     "{'mergeItemPtr':[{'name':1,'other':'a','mergeItemPtr':[{'name':1,'value':1},{'name':"
     "2,'value':2,'other':'b'}]},{'name':2,'other':'b'}]}"},
    {"merge lists of scalars (two-way)",
     "{'mergingIntList':[1,2]}",
     "{'$setElementOrder/mergingIntList':[1,2,3],'mergingIntList':[3]}",
     "{'mergingIntList':[1,2,3]}"},
    {"merge lists of scalars (three-way)",
     "{'mergingIntList':[1,2,4]}",
     "{'$setElementOrder/mergingIntList':[1,2,3],'mergingIntList':[3]}",
     "{'mergingIntList':[1,2,3,4]}"},
    {"add duplicate field to map in merging int list (two-way)",
     "{'mergingIntList':[1,2]}",
     "{'$setElementOrder/mergingIntList':[1,2,3],'mergingIntList':[3]}",
     "{'mergingIntList':[1,2,3]}"},
    {"add duplicate field to map in merging int list (three-way)",
     "{'mergingIntList':[1,2,3]}",
     "{}",
     "{'mergingIntList':[1,2,3]}"},
    {"add an item in a list of primitives and preserve order (two-way)",
     "{'mergingIntList':[1,2]}",
     "{'$setElementOrder/mergingIntList':[3,1,2],'mergingIntList':[3]}",
     "{'mergingIntList':[3,1,2]}"},
    {"add an item in a list of primitives and preserve order (three-way)",
     "{'mergingIntList':[1,4,2]}",
     "{'$setElementOrder/mergingIntList':[3,1,2],'mergingIntList':[3]}",
     "{'mergingIntList':[3,1,4,2]}"},
    {"delete an item in a list of primitives and preserve order (two-way)",
     "{'mergingIntList':[1,2,3]}",
     "{'$setElementOrder/mergingIntList':[2,1],'$deleteFromPrimitiveList/mergingIntList':["
     "3]}",
     "{'mergingIntList':[2,1]}"},
    {"delete an item in a list of primitives and preserve order (three-way)",
     "{'mergingIntList':[1,2,3]}",
     "{'$setElementOrder/mergingIntList':[2,1],'$deleteFromPrimitiveList/mergingIntList':["
     "3]}",
     "{'mergingIntList':[2,1]}"},
    {"add an item in a list and preserve order (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':3},{'name':1},{'name':2}],'mergingList':[{'"
     "name':3,'value':3}]}",
     "{'mergingList':[{'name':3,'value':3},{'name':1},{'name':2,'value':2}]}"},
    {"add an item in a list and preserve order (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':3},{'name':1},{'name':2}],'mergingList':[{'"
     "name':3,'value':3}]}",
     "{'mergingList':[{'name':3,'value':3},{'name':1,'other':'a'},{'name':2,'value':2,'oth"
     "er':'b'}]}"},
    {"add multiple items in a list and preserve order (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':4},{'name':2},{'name':3}],'mergi"
     "ngList':[{'name':4,'value':4},{'name':3,'value':3}]}",
     "{'mergingList':[{'name':1},{'name':4,'value':4},{'name':2,'value':2},{'name':3,'valu"
     "e':3}]}"},
    {"add multiple items in a list and preserve order (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'}]}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':4},{'name':2},{'name':3}],'mergi"
     "ngList':[{'name':4,'value':4},{'name':3,'value':3}]}",
     "{'mergingList':[{'name':1,'other':'a'},{'name':4,'value':4},{'name':2,'value':2,'oth"
     "er':'b'},{'name':3,'value':3}]}"},
    {"delete an item in a list and preserve order (two-way)",
     "{'mergingList':[{'name':1},{'name':3,'value':3},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':1}],'mergingList':[{'name':3,'$p"
     "atch':'delete'}]}",
     "{'mergingList':[{'name':2,'value':2},{'name':1}]}"},
    {"delete an item in a list and preserve order (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'},{'name':3,'v"
     "alue':3}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':1}],'mergingList':[{'name':3,'$p"
     "atch':'delete'}]}",
     "{'mergingList':[{'name':2,'value':2,'other':'b'},{'name':1,'other':'a'}]}"},
    {"change an item in a list and preserve order (two-way)",
     "{'mergingList':[{'name':1},{'name':3,'value':3},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':3},{'name':1}],'mergingList':[{'"
     "name':3,'value':'x'}]}",
     "{'mergingList':[{'name':2,'value':2},{'name':3,'value':'x'},{'name':1}]}"},
    {"change an item in a list and preserve order (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'},{'name':3,'v"
     "alue':3}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':3},{'name':1}],'mergingList':[{'"
     "name':3,'value':'x'}]}",
     "{'mergingList':[{'name':2,'value':2,'other':'b'},{'name':3,'value':'x'},{'name':1,'o"
     "ther':'a'}]}"},
    {"add and delete an item in a list and preserve order (two-way)",
     "{'mergingList':[{'name':1},{'name':3,'value':3},{'name':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':4},{'name':2},{'name':1}],'mergingList':[{'"
     "name':4,'value':4},{'name':3,'$patch':'delete'}]}",
     "{'mergingList':[{'name':4,'value':4},{'name':2,'value':2},{'name':1}]}"},
    {"add and delete an item in a list and preserve order (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2,'other':'b'},{'name':3,'v"
     "alue':3}]}",
     "{'$setElementOrder/mergingList':[{'name':4},{'name':2},{'name':1}],'mergingList':[{'"
     "name':4,'value':4},{'name':3,'$patch':'delete'}]}",
     "{'mergingList':[{'name':4,'value':4},{'name':2,'value':2,'other':'b'},{'name':1,'oth"
     "er':'a'}]}"},
    {"set elements order in a list (two-way)",
     "{'mergingList':[{'name':1},{'name':3,'value':3},{'name':4,'value':4},{'name':2,'valu"
     "e':2}]}",
     "{'$setElementOrder/mergingList':[{'name':4},{'name':2},{'name':3},{'name':1}]}",
     "{'mergingList':[{'name':4,'value':4},{'name':2,'value':2},{'name':3,'value':3},{'nam"
     "e':1}]}"},
    {"set elements order in a list (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':3,'value':3},{'name':4,'value':4},{'n"
     "ame':2,'value':2}]}",
     "{'$setElementOrder/mergingList':[{'name':4},{'name':2},{'name':3},{'name':1}]}",
     "{'mergingList':[{'name':4,'value':4},{'name':2,'value':2},{'name':3,'value':3},{'nam"
     "e':1,'other':'a'}]}"},
    {"set elements order in a list with server-only items (two-way)",
     "{'mergingList':[{'name':1},{'name':3,'value':3},{'name':4,'value':4},{'name':2,'valu"
     "e':2}]}",
     "{'$setElementOrder/mergingList':[{'name':4},{'name':2},{'name':3},{'name':1}]}",
     "{'mergingList':[{'name':4,'value':4},{'name':2,'value':2},{'name':3,'value':3},{'nam"
     "e':1}]}"},
    {"set elements order in a list with server-only items (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':3,'value':3},{'name':4,'value':4},{'n"
     "ame':2,'value':2},{'name':9}]}",
     "{'$setElementOrder/mergingList':[{'name':4},{'name':2},{'name':3},{'name':1}]}",
     "{'mergingList':[{'name':4,'value':4},{'name':2,'value':2},{'name':3,'value':3},{'nam"
     "e':1,'other':'a'},{'name':9}]}"},
    {"set elements order in a list with server-only items 2 (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':2},{'name':3,'value':3},{'name':4,'valu"
     "e':4}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':1},{'name':4},{'name':3}]}",
     "{'mergingList':[{'name':2,'value':2},{'name':1},{'name':4,'value':4},{'name':3,'valu"
     "e':3}]}"},
    {"set elements order in a list with server-only items 2 (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2},{'name':9},{'name':3,'va"
     "lue':3},{'name':4,'value':4}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':1},{'name':4},{'name':3}]}",
     "{'mergingList':[{'name':2,'value':2},{'name':1,'other':'a'},{'name':9},{'name':4,'va"
     "lue':4},{'name':3,'value':3}]}"},
    {"set elements order in a list with server-only items 3 (two-way)",
     "{'mergingList':[{'name':1},{'name':2,'value':2},{'name':3,'value':3},{'name':4,'valu"
     "e':4}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':1},{'name':4},{'name':3}]}",
     "{'mergingList':[{'name':2,'value':2},{'name':1},{'name':4,'value':4},{'name':3,'valu"
     "e':3}]}"},
    {"set elements order in a list with server-only items 3 (three-way)",
     "{'mergingList':[{'name':1,'other':'a'},{'name':2,'value':2},{'name':7},{'name':9},{'"
     "name':8},{'name':3,'value':3},{'name':4,'value':4}]}",
     "{'$setElementOrder/mergingList':[{'name':2},{'name':1},{'name':4},{'name':3}]}",
     "{'mergingList':[{'name':2,'value':2},{'name':1,'other':'a'},{'name':7},{'name':9},{'"
     "name':8},{'name':4,'value':4},{'name':3,'value':3}]}"},
    {"add an item in a int list and preserve order (two-way)",
     "{'mergingIntList':[1,2]}",
     "{'$setElementOrder/mergingIntList':[3,1,2],'mergingIntList':[3]}",
     "{'mergingIntList':[3,1,2]}"},
    {"add an item in a int list and preserve order (three-way)",
     "{'mergingIntList':[1,2]}",
     "{'$setElementOrder/mergingIntList':[3,1,2],'mergingIntList':[3]}",
     "{'mergingIntList':[3,1,2]}"},
    {"add multiple items in a int list and preserve order (two-way)",
     "{'mergingIntList':[1,2]}",
     "{'$setElementOrder/mergingIntList':[1,4,2,3],'mergingIntList':[4,3]}",
     "{'mergingIntList':[1,4,2,3]}"},
    {"add multiple items in a int list and preserve order (three-way)",
     "{'mergingIntList':[1,2]}",
     "{'$setElementOrder/mergingIntList':[1,4,2,3],'mergingIntList':[4,3]}",
     "{'mergingIntList':[1,4,2,3]}"},
    {"delete an item in a int list and preserve order (two-way)",
     "{'mergingIntList':[1,3,2]}",
     "{'$setElementOrder/mergingIntList':[2,1],'$deleteFromPrimitiveList/mergingIntList':["
     "3]}",
     "{'mergingIntList':[2,1]}"},
    {"delete an item in a int list and preserve order (three-way)",
     "{'mergingIntList':[1,2,3]}",
     "{'$setElementOrder/mergingIntList':[2,1],'$deleteFromPrimitiveList/mergingIntList':["
     "3]}",
     "{'mergingIntList':[2,1]}"},
    {"add and delete an item in a int list and preserve order (two-way)",
     "{'mergingIntList':[1,3,2]}",
     "{'$setElementOrder/mergingIntList':[4,2,1],'mergingIntList':[4],'$deleteFromPrimitiv"
     "eList/mergingIntList':[3]}",
     "{'mergingIntList':[4,2,1]}"},
    {"add and delete an item in a int list and preserve order (three-way)",
     "{'mergingIntList':[1,2,3]}",
     "{'$setElementOrder/mergingIntList':[4,2,1],'mergingIntList':[4],'$deleteFromPrimitiv"
     "eList/mergingIntList':[3]}",
     "{'mergingIntList':[4,2,1]}"},
    {"set elements order in a int list (two-way)",
     "{'mergingIntList':[1,3,4,2]}",
     "{'$setElementOrder/mergingIntList':[4,2,3,1]}",
     "{'mergingIntList':[4,2,3,1]}"},
    {"set elements order in a int list (three-way)",
     "{'mergingIntList':[1,3,4,2]}",
     "{'$setElementOrder/mergingIntList':[4,2,3,1]}",
     "{'mergingIntList':[4,2,3,1]}"},
    {"set elements order in a int list with server-only items (two-way)",
     "{'mergingIntList':[1,3,4,2]}",
     "{'$setElementOrder/mergingIntList':[4,2,3,1]}",
     "{'mergingIntList':[4,2,3,1]}"},
    {"set elements order in a int list with server-only items (three-way)",
     "{'mergingIntList':[1,3,4,2,9]}",
     "{'$setElementOrder/mergingIntList':[4,2,3,1]}",
     "{'mergingIntList':[4,2,3,1,9]}"},
    {"set elements order in a int list with server-only items 2 (two-way)",
     "{'mergingIntList':[1,2,3,4]}",
     "{'$setElementOrder/mergingIntList':[2,1,4,3]}",
     "{'mergingIntList':[2,1,4,3]}"},
    {"set elements order in a int list with server-only items 2 (three-way)",
     "{'mergingIntList':[1,2,9,3,4]}",
     "{'$setElementOrder/mergingIntList':[2,1,4,3]}",
     "{'mergingIntList':[2,1,9,4,3]}"},
    {"set elements order in a int list with server-only items 3 (two-way)",
     "{'mergingIntList':[1,2,3,2,4]}",
     "{'$setElementOrder/mergingIntList':[2,1,4,3,2]}",
     "{'mergingIntList':[2,2,1,4,3]}"},
    {"set elements order in a int list with server-only items 3 (three-way)",
     "{'mergingIntList':[1,2,3,2,4]}",
     "{'$setElementOrder/mergingIntList':[2,1,4,3,2]}",
     "{'mergingIntList':[2,2,1,4,3]}"},
    {"retainKeys map should clear defaulted field (two-way)",
     "{}",
     "{'retainKeysMap':{'other':'bar'}}",
     "{'retainKeysMap':{'other':'bar'}}"},
    {"retainKeys map should clear defaulted field (three-way)",
     "{'retainKeysMap':{'value':'foo'}}",
     "{'retainKeysMap':{'$retainKeys':['other'],'other':'bar'}}",
     "{'retainKeysMap':{'other':'bar'}}"},
    {"retainKeys map should clear defaulted field with conflict (discriminated union) (two"
     "-way)",
     "{}",
     "{'retainKeysMap':{'name':'type2','other':'bar'}}",
     "{'retainKeysMap':{'name':'type2','other':'bar'}}"},
    {"retainKeys map should clear defaulted field with conflict (discriminated union) (thr"
     "ee-way)",
     "{'retainKeysMap':{'name':'type1','value':'foo'}}",
     "{'retainKeysMap':{'$retainKeys':['name','other'],'name':'type2','other':'bar'}}",
     "{'retainKeysMap':{'name':'type2','other':'bar'}}"},
    {"retainKeys map adds a field (two-way)",
     "{'retainKeysMap':{'name':'foo'}}",
     "{'retainKeysMap':{'$retainKeys':['name','value'],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map adds a field (three-way)",
     "{'retainKeysMap':{'name':'foo'}}",
     "{'retainKeysMap':{'$retainKeys':['name','value'],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map adds a field and clear a field (two-way)",
     "{'retainKeysMap':{'name':'foo'}}",
     "{'retainKeysMap':{'$retainKeys':['name','value'],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map adds a field and clear a field (three-way)",
     "{'retainKeysMap':{'name':'foo','other':'a'}}",
     "{'retainKeysMap':{'$retainKeys':['name','value'],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map deletes a field (two-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}",
     "{'retainKeysMap':{'$retainKeys':['name'],'value':null}}",
     "{'retainKeysMap':{'name':'foo'}}"},
    {"retainKeys map deletes a field (three-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}",
     "{'retainKeysMap':{'$retainKeys':['name'],'value':null}}",
     "{'retainKeysMap':{'name':'foo'}}"},
    {"retainKeys map deletes a field and clears a field (two-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}",
     "{'retainKeysMap':{'$retainKeys':['name'],'value':null}}",
     "{'retainKeysMap':{'name':'foo'}}"},
    {"retainKeys map deletes a field and clears a field (three-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','other':'a'}}",
     "{'retainKeysMap':{'$retainKeys':['name'],'value':null}}",
     "{'retainKeysMap':{'name':'foo'}}"},
    {"retainKeys map clears a field (two-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}",
     "{}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map clears a field (three-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','other':'a'}}",
     "{'retainKeysMap':{'$retainKeys':['name','value']}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map nested map with no change (two-way)",
     "{'retainKeysMap':{'name':'foo','simpleMap':{'key1':'a'}}}",
     "{'retainKeysMap':{'$retainKeys':['name','simpleMap','value'],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a'}}}"},
    {"retainKeys map nested map with no change (three-way)",
     "{'retainKeysMap':{'name':'foo','simpleMap':{'key1':'a'}}}",
     "{'retainKeysMap':{'$retainKeys':['name','simpleMap','value'],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a'}}}"},
    {"retainKeys map adds a field in a nested map (two-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a'}}}",
     "{'retainKeysMap':{'$retainKeys':['name','simpleMap','value'],'simpleMap':{'key2':'b'"
     "}}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a','key2':'b'}}}"},
    {"retainKeys map adds a field in a nested map (three-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a','key3':'c'}}}",
     "{'retainKeysMap':{'$retainKeys':['name','simpleMap','value'],'simpleMap':{'key2':'b'"
     "}}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a','key2':'b','key"
     "3':'c'}}}"},
    {"retainKeys map deletes a field in a nested map (two-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a','key2':'b'}}}",
     "{'retainKeysMap':{'$retainKeys':['name','simpleMap','value'],'simpleMap':{'key2':nul"
     "l}}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a'}}}"},
    {"retainKeys map deletes a field in a nested map (three-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a','key2':'b','key"
     "3':'c'}}}",
     "{'retainKeysMap':{'$retainKeys':['name','simpleMap','value'],'simpleMap':{'key2':nul"
     "l}}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a','key3':'c'}}}"},
    {"retainKeys map changes a field in a nested map (two-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a','key2':'b'}}}",
     "{'retainKeysMap':{'$retainKeys':['name','simpleMap','value'],'simpleMap':{'key1':'x'"
     "}}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'x','key2':'b'}}}"},
    {"retainKeys map changes a field in a nested map (three-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'a','key2':'b','key"
     "3':'c'}}}",
     "{'retainKeysMap':{'$retainKeys':['name','simpleMap','value'],'simpleMap':{'key1':'x'"
     "}}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'x','key2':'b','key"
     "3':'c'}}}"},
    {"retainKeys map changes a field in a nested map with conflict (two-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'old','key2':'b'}}}",
     "{'retainKeysMap':{'$retainKeys':['name','simpleMap','value'],'simpleMap':{'key1':'mo"
     "dified'}}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'modified','key2':'"
     "b'}}}"},
    {"retainKeys map changes a field in a nested map with conflict (three-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'new','key2':'b','k"
     "ey3':'c'}}}",
     "{'retainKeysMap':{'$retainKeys':['name','simpleMap','value'],'simpleMap':{'key1':'mo"
     "dified'}}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','simpleMap':{'key1':'modified','key2':'"
     "b','key3':'c'}}}"},
    {"retainKeys map replaces non-merging list (two-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','nonMergingList':[{'name':'a'},{'name':"
     "'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','nonMergingList','value'],'nonMergingList':["
     "{'name':'a'},{'name':'c'},{'name':'b'}]}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','nonMergingList':[{'name':'a'},{'name':"
     "'c'},{'name':'b'}]}}"},
    {"retainKeys map replaces non-merging list (three-way)",
     "{'retainKeysMap':{'name':'foo','value':'bar','nonMergingList':[{'name':'a'},{'name':"
     "'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','nonMergingList','value'],'nonMergingList':["
     "{'name':'a'},{'name':'c'},{'name':'b'}]}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','nonMergingList':[{'name':'a'},{'name':"
     "'c'},{'name':'b'}]}}"},
    {"retainKeys map nested non-merging list with no change (two-way)",
     "{'retainKeysMap':{'name':'foo','nonMergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','nonMergingList','value'],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','nonMergingList':[{'name':'a'},{'name':"
     "'b'}]}}"},
    {"retainKeys map nested non-merging list with no change (three-way)",
     "{'retainKeysMap':{'name':'foo','nonMergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','nonMergingList','value'],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','nonMergingList':[{'name':'a'},{'name':"
     "'b'}]}}"},
    {"retainKeys map nested non-merging list with no change with conflict (two-way)",
     "{'retainKeysMap':{'name':'foo','nonMergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','nonMergingList','value'],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','nonMergingList':[{'name':'a'},{'name':"
     "'b'}]}}"},
    {"retainKeys map nested non-merging list with no change with conflict (three-way)",
     "{'retainKeysMap':{'name':'foo','nonMergingList':[{'name':'a'},{'name':'b'},{'name':'"
     "c'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','nonMergingList','value'],'value':'bar','non"
     "MergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','nonMergingList':[{'name':'a'},{'name':"
     "'b'}]}}"},
    {"retainKeys map deletes nested non-merging list (two-way)",
     "{'retainKeysMap':{'name':'foo','nonMergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','value'],'value':'bar','nonMergingList':null"
     "}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map deletes nested non-merging list (three-way)",
     "{'retainKeysMap':{'name':'foo','nonMergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','value'],'value':'bar','nonMergingList':null"
     "}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map delete nested non-merging list with conflict (two-way)",
     "{'retainKeysMap':{'name':'foo','nonMergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','value'],'value':'bar','nonMergingList':null"
     "}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map delete nested non-merging list with conflict (three-way)",
     "{'retainKeysMap':{'name':'foo','nonMergingList':[{'name':'a'},{'name':'b'},{'name':'"
     "c'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','value'],'value':'bar','nonMergingList':null"
     "}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map nested merging int list with no change (two-way)",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingIntList','name','value'],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','mergingIntList':[1,2]}}"},
    {"retainKeys map nested merging int list with no change (three-way)",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2,3]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingIntList','name','value'],'$setElementOrder/"
     "mergingIntList':[1,2],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','mergingIntList':[1,2,3]}}"},
    {"retainKeys map adds an item in nested merging int list (two-way)",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2]}}",
     "{'retainKeysMap':{'$setElementOrder/mergingIntList':[1,2,4],'$retainKeys':['mergingI"
     "ntList','name'],'mergingIntList':[4]}}",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2,4]}}"},
    {"retainKeys map adds an item in nested merging int list (three-way)",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2,3]}}",
     "{'retainKeysMap':{'$setElementOrder/mergingIntList':[1,2,4],'$retainKeys':['mergingI"
     "ntList','name'],'mergingIntList':[4]}}",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2,4,3]}}"},
    {"retainKeys map deletes an item in nested merging int list (two-way)",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2,3]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingIntList','name'],'$deleteFromPrimitiveList/"
     "mergingIntList':[2],'$setElementOrder/mergingIntList':[1,3]}}",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,3]}}"},
    {"retainKeys map deletes an item in nested merging int list (three-way)",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2,3,4]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingIntList','name'],'$deleteFromPrimitiveList/"
     "mergingIntList':[2],'$setElementOrder/mergingIntList':[1,3]}}",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,3,4]}}"},
    {"retainKeys map adds an item and deletes an item in nested merging int list (two-way)",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2,3]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingIntList','name'],'mergingIntList':[5],'$del"
     "eteFromPrimitiveList/mergingIntList':[2],'$setElementOrder/mergingIntList':[1,3,5]}}",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,3,5]}}"},
    {"retainKeys map adds an item and deletes an item in nested merging int list (three-wa"
     "y)",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2,3,4]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingIntList','name'],'mergingIntList':[5],'$del"
     "eteFromPrimitiveList/mergingIntList':[2],'$setElementOrder/mergingIntList':[1,3,5]}}",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,3,5,4]}}"},
    {"retainKeys map deletes nested merging int list (two-way)",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2,3]}}",
     "{'retainKeysMap':{'$retainKeys':['name'],'mergingIntList':null}}",
     "{'retainKeysMap':{'name':'foo'}}"},
    {"retainKeys map deletes nested merging int list (three-way)",
     "{'retainKeysMap':{'name':'foo','mergingIntList':[1,2,3]}}",
     "{'retainKeysMap':{'$retainKeys':['name'],'mergingIntList':null}}",
     "{'retainKeysMap':{'name':'foo'}}"},
    {"retainKeys map nested merging list with no change (two-way)",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingList','name','value'],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','mergingList':[{'name':'a'},{'name':'b'"
     "}]}}"},
    {"retainKeys map nested merging list with no change (three-way)",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b'},{'name':'c'}"
     "]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingList','name','value'],'$setElementOrder/mer"
     "gingList':[{'name':'a'},{'name':'b'}],'value':'bar'}}",
     "{'retainKeysMap':{'name':'foo','value':'bar','mergingList':[{'name':'a'},{'name':'b'"
     "},{'name':'c'}]}}"},
    {"retainKeys map adds an item in nested merging list (two-way)",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingList','name'],'$setElementOrder/mergingList"
     "':[{'name':'a'},{'name':'b'},{'name':'c'}],'mergingList':[{'name':'c'}]}}",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b'},{'name':'c'}"
     "]}}"},
    {"retainKeys map adds an item in nested merging list (three-way)",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b'},{'name':'x'}"
     "]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingList','name'],'$setElementOrder/mergingList"
     "':[{'name':'a'},{'name':'b'},{'name':'c'}],'mergingList':[{'name':'c'}]}}",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b'},{'name':'c'}"
     ",{'name':'x'}]}}"},
    {"retainKeys map changes an item in nested merging list (two-way)",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b','value':'foo'"
     "}]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingList','name'],'$setElementOrder/mergingList"
     "':[{'name':'a'},{'name':'b'}],'mergingList':[{'name':'b','value':'bar'}]}}",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b','value':'bar'"
     "}]}}"},
    {"retainKeys map changes an item in nested merging list (three-way)",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b','value':'foo'"
     "},{'name':'x'}]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingList','name'],'$setElementOrder/mergingList"
     "':[{'name':'a'},{'name':'b'}],'mergingList':[{'name':'b','value':'bar'}]}}",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b','value':'bar'"
     "},{'name':'x'}]}}"},
    {"retainKeys map deletes nested merging list (two-way)",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','value'],'value':'bar','mergingList':null}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map deletes nested merging list (three-way)",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['name','value'],'value':'bar','mergingList':null}}",
     "{'retainKeysMap':{'name':'foo','value':'bar'}}"},
    {"retainKeys map deletes an item in nested merging list (two-way)",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b'}]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingList','name'],'$setElementOrder/mergingList"
     "':[{'name':'a'}],'mergingList':[{'name':'b','$patch':'delete'}]}}",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'}]}}"},
    {"retainKeys map deletes an item in nested merging list (three-way)",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'b'},{'name':'x'}"
     "]}}",
     "{'retainKeysMap':{'$retainKeys':['mergingList','name'],'$setElementOrder/mergingList"
     "':[{'name':'a'}],'mergingList':[{'name':'b','$patch':'delete'}]}}",
     "{'retainKeysMap':{'name':'foo','mergingList':[{'name':'a'},{'name':'x'}]}}"},
    {"retainKeys list of maps clears a field (two-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}",
     "{}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}"},
    {"retainKeys list of maps clears a field (three-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a','other':'x'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name','value'],'name':'foo'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}"},
    {"retainKeys list of maps clears a field with conflict (two-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'old'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name','value'],'name':'foo','value':'modified'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'modified'}]}"},
    {"retainKeys list of maps clears a field with conflict (three-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'new','other':'x'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name','value'],'name':'foo','value':'modified'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'modified'}]}"},
    {"retainKeys list of maps changes a field and clear a field (two-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'old'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name','value'],'name':'foo','value':'new'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'new'}]}"},
    {"retainKeys list of maps changes a field and clear a field (three-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'old','other':'x'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name','value'],'name':'foo','value':'new'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'new'}]}"},
    {"retainKeys list of maps changes a field and clear a field with conflict (two-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'old'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name','value'],'name':'foo','value':'new'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'new'}]}"},
    {"retainKeys list of maps changes a field and clear a field with conflict (three-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'modified','other':'x"
     "'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name','value'],'name':'foo','value':'new'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'new'}]}"},
    {"retainKeys list of maps adds a field (two-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name','value'],'name':'foo','value':'a'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}"},
    {"retainKeys list of maps adds a field (three-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name','value'],'name':'foo','value':'a'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}"},
    {"retainKeys list of maps adds a field and clear a field (two-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name','value'],'name':'foo','value':'a'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}"},
    {"retainKeys list of maps adds a field and clear a field (three-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','other':'x'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name','value'],'name':'foo','value':'a'}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}"},
    {"retainKeys list of maps deletes a field (two-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name'],'name':'foo','value':null}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo'}]}"},
    {"retainKeys list of maps deletes a field (three-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name'],'name':'foo','value':null}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo'}]}"},
    {"retainKeys list of maps deletes a field and clear a field (two-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name'],'name':'foo','value':null}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo'}]}"},
    {"retainKeys list of maps deletes a field and clear a field (three-way)",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo','value':'a','other':'x'}]}",
     "{'$setElementOrder/retainKeysMergingList':[{'name':'bar'},{'name':'foo'}],'retainKey"
     "sMergingList':[{'$retainKeys':['name'],'name':'foo','value':null}]}",
     "{'retainKeysMergingList':[{'name':'bar'},{'name':'foo'}]}"},
    {"delete and reorder in one list, reorder in another (two-way)",
     "{'mergingList':[{'name':'a','value':'a'},{'name':'b','value':'b'}],'mergeItemPtr':[{"
     "'name':'c','value':'c'},{'name':'d','value':'d'}]}",
     "{'$setElementOrder/mergingList':[{'name':'b'}],'$setElementOrder/mergeItemPtr':[{'na"
     "me':'d'},{'name':'c'}],'mergingList':[{'$patch':'delete','name':'a'}]}",
     "{'mergingList':[{'name':'b','value':'b'}],'mergeItemPtr':[{'name':'d','value':'d'},{"
     "'name':'c','value':'c'}]}"},
    {"delete and reorder in one list, reorder in another (three-way)",
     "{'mergingList':[{'name':'a','value':'a'},{'name':'b','value':'b'}],'mergeItemPtr':[{"
     "'name':'c','value':'c'},{'name':'d','value':'d'}]}",
     "{'$setElementOrder/mergingList':[{'name':'b'}],'$setElementOrder/mergeItemPtr':[{'na"
     "me':'d'},{'name':'c'}],'mergingList':[{'$patch':'delete','name':'a'}]}",
     "{'mergingList':[{'name':'b','value':'b'}],'mergeItemPtr':[{'name':'d','value':'d'},{"
     "'name':'c','value':'c'}]}"},
    {"replace RawExtension field, rest unchanched (two-way)",
     "{'name':'my-object','value':'some-value','other':'current-other','replacingItem':{'S"
     "ome':'Generic','Yaml':'Inside','The':'RawExtension','Field':'Period'}}",
     "{'mergingList':[{'name':1},{'name':2},{'name':3}],'replacingItem':{'Newly':'Modified"
     "','Yaml':'Inside','The':'RawExtension'}}",
     "{'name':'my-object','value':'some-value','other':'current-other','mergingList':[{'na"
     "me':1},{'name':2},{'name':3}],'replacingItem':{'Newly':'Modified','Yaml':'Inside','T"
     "he':'RawExtension'}}"},
    {"replace RawExtension field, rest unchanched (three-way)",
     "{'name':'my-object','value':'some-value','other':'current-other','mergingList':[{'na"
     "me':1},{'name':2},{'name':3}],'replacingItem':{'Some':'Generic','Yaml':'Inside','The"
     "':'RawExtension','Field':'Period'}}",
     "{'replacingItem':{'Newly':'Modified','Yaml':'Inside','The':'RawExtension'}}",
     "{'name':'my-object','value':'some-value','other':'current-other','mergingList':[{'na"
     "me':1},{'name':2},{'name':3}],'replacingItem':{'Newly':'Modified','Yaml':'Inside','T"
     "he':'RawExtension'}}"},
    {"replace RawExtension field and merge list (two-way)",
     "{'name':'my-object','value':'some-value','other':'current-other','mergingList':[{'na"
     "me':1}],'replacingItem':{'Some':'Generic','Yaml':'Inside','The':'RawExtension','Fiel"
     "d':'Period'}}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':2}],'"
     "replacingItem':{'Newly':'Modified','Yaml':'Inside','The':'RawExtension'}}",
     "{'name':'my-object','value':'some-value','other':'current-other','mergingList':[{'na"
     "me':1},{'name':2}],'replacingItem':{'Newly':'Modified','Yaml':'Inside','The':'RawExt"
     "ension'}}"},
    {"replace RawExtension field and merge list (three-way)",
     "{'name':'my-object','value':'some-value','other':'current-other','mergingList':[{'na"
     "me':1},{'name':3}],'replacingItem':{'Some':'Generic','Yaml':'Inside','The':'RawExten"
     "sion','Field':'Period'}}",
     "{'$setElementOrder/mergingList':[{'name':1},{'name':2}],'mergingList':[{'name':2}],'"
     "replacingItem':{'Newly':'Modified','Yaml':'Inside','The':'RawExtension'}}",
     "{'name':'my-object','value':'some-value','other':'current-other','mergingList':[{'na"
     "me':1},{'name':2},{'name':3}],'replacingItem':{'Newly':'Modified','Yaml':'Inside','T"
     "he':'RawExtension'}}"},
};

static void test_smp_go_cases(void **state)
{
    (void)state;
    RUN(ENG_SMP, &t_mi, smp_go);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_rfc7386),
        cmocka_unit_test(test_merge_more),
        cmocka_unit_test(test_merge_edges),
        cmocka_unit_test(test_json_rfc6902),
        cmocka_unit_test(test_json_more),
        cmocka_unit_test(test_json_copy_limit),
        cmocka_unit_test(test_json_edges),
        cmocka_unit_test(test_smp_deployment),
        cmocka_unit_test(test_smp_pod),
        cmocka_unit_test(test_smp_errors),
        cmocka_unit_test(test_smp_no_schema),
        cmocka_unit_test(test_smp_edges),
        cmocka_unit_test(test_smp_go_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
