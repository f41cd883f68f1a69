/* test_kube_selector.c — unit tests for kube/selector.c: the string form of
 * label selectors (every operator, whitespace, keywords as keys and values,
 * the error messages of apimachinery's labels.Parse), LabelSelector objects
 * (matchLabels, matchExpressions, nil against empty), and matching.
 *
 * Most cases go through two helpers: matches(selector, labels-as-JSON) and
 * parse_error(selector) -> the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kube/kube.h"

/* Parses sel (which must parse) and matches it against labels, a JSON text
 * or NULL for an object with no labels. */
static bool matches(const char *sel, const char *labels)
{
    char err[512];
    struct kube_selector *s = kube_selector_parse(sel, err, sizeof err);
    if (!s)
        fail_msg("selector \"%s\" did not parse: %s", sel, err);
    json_t *l = labels ? json_loads(labels, JSON_DECODE_ANY, NULL) : NULL;
    if (labels && !l)
        fail_msg("bad test labels %s", labels);
    bool m = kube_selector_match(s, l);
    json_decref(l);
    kube_selector_free(s);
    return m;
}

/* The message for a selector that must not parse; a static buffer. */
static const char *parse_error(const char *sel)
{
    static char err[1024];
    struct kube_selector *s = kube_selector_parse(sel, err, sizeof err);
    if (s) {
        kube_selector_free(s);
        fail_msg("selector \"%s\" parsed but should not", sel);
    }
    assert_true(err[0] != '\0');
    return err;
}

static struct kube_selector *from_json(const char *text, char *err, size_t errlen)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    if (!j)
        fail_msg("bad test JSON %s", text);
    struct kube_selector *s = kube_selector_from_json(j, err, errlen);
    json_decref(j);
    return s;
}

static bool json_matches(const char *sel, const char *labels)
{
    char err[512];
    struct kube_selector *s = from_json(sel, err, sizeof err);
    if (!s)
        fail_msg("selector %s was refused: %s", sel, err);
    json_t *l = labels ? json_loads(labels, JSON_DECODE_ANY, NULL) : NULL;
    bool m = kube_selector_match(s, l);
    json_decref(l);
    kube_selector_free(s);
    return m;
}

static const char *json_error(const char *sel)
{
    static char err[1024];
    struct kube_selector *s = from_json(sel, err, sizeof err);
    if (s) {
        kube_selector_free(s);
        fail_msg("selector %s was accepted but should not be", sel);
    }
    return err;
}

/* ---- the string form: operators ---- */

static void test_empty_matches_everything(void **state)
{
    char err[64];
    struct kube_selector *s = kube_selector_parse("", err, sizeof err);
    assert_non_null(s);
    assert_true(kube_selector_empty(s));
    assert_true(kube_selector_match(s, NULL));
    kube_selector_free(s);
    s = kube_selector_parse(NULL, err, sizeof err);
    assert_non_null(s);
    assert_true(kube_selector_empty(s));
    kube_selector_free(s);
    s = kube_selector_parse("  \t \n ", err, sizeof err);
    assert_non_null(s);
    assert_true(kube_selector_empty(s));
    kube_selector_free(s);
    assert_true(matches("", "{\"a\":\"b\"}"));
    s = kube_selector_parse("a", err, sizeof err);
    assert_false(kube_selector_empty(s));
    kube_selector_free(s);
}

static void test_equals(void **state)
{
    assert_true(matches("app=web", "{\"app\":\"web\"}"));
    assert_true(matches("app==web", "{\"app\":\"web\",\"x\":\"y\"}"));
    assert_false(matches("app=web", "{\"app\":\"db\"}"));
    assert_false(matches("app=web", "{}"));
    assert_false(matches("app=web", NULL));
    assert_false(matches("app=web", "{\"app\":\"webx\"}"));
    assert_false(matches("app=web", "{\"app\":\"we\"}"));
    /* an empty value: the label must exist and be empty */
    assert_true(matches("app=", "{\"app\":\"\"}"));
    assert_false(matches("app=", "{}"));
    assert_true(matches("app==,b=c", "{\"app\":\"\",\"b\":\"c\"}"));
}

static void test_not_equals(void **state)
{
    assert_true(matches("app!=web", "{\"app\":\"db\"}"));
    assert_false(matches("app!=web", "{\"app\":\"web\"}"));
    /* as Kubernetes: objects without the label match */
    assert_true(matches("app!=web", "{}"));
    assert_true(matches("app!=web", NULL));
    assert_true(matches("app!=", "{\"app\":\"x\"}"));
    assert_false(matches("app!=", "{\"app\":\"\"}"));
}

static void test_in_notin(void **state)
{
    assert_true(matches("env in (prod,dev)", "{\"env\":\"dev\"}"));
    assert_true(matches("env in (prod,dev)", "{\"env\":\"prod\"}"));
    assert_false(matches("env in (prod,dev)", "{\"env\":\"qa\"}"));
    assert_false(matches("env in (prod,dev)", "{}"));
    assert_true(matches("env notin (prod,dev)", "{\"env\":\"qa\"}"));
    assert_false(matches("env notin (prod,dev)", "{\"env\":\"prod\"}"));
    assert_true(matches("env notin (prod,dev)", "{}")); /* absent matches notin */
    assert_true(matches("env in (prod)", "{\"env\":\"prod\"}"));
    /* repeats do not matter */
    assert_true(matches("env in (a,a,b)", "{\"env\":\"b\"}"));
}

static void test_empty_values_in_sets(void **state)
{
    /* "()" is the set {""} */
    assert_true(matches("env in ()", "{\"env\":\"\"}"));
    assert_false(matches("env in ()", "{\"env\":\"x\"}"));
    assert_true(matches("env notin ()", "{\"env\":\"x\"}"));
    assert_true(matches("env in (,a)", "{\"env\":\"\"}"));
    assert_true(matches("env in (,a)", "{\"env\":\"a\"}"));
    assert_true(matches("env in (a,)", "{\"env\":\"\"}"));
    assert_true(matches("env in (a,,b)", "{\"env\":\"\"}"));
    assert_true(matches("env in (a,,b)", "{\"env\":\"b\"}"));
    assert_true(matches("x in (foo,,baz),y,z notin ()", "{\"x\":\"baz\",\"y\":\"1\"}"));
}

static void test_exists(void **state)
{
    assert_true(matches("app", "{\"app\":\"\"}"));
    assert_true(matches("app", "{\"app\":\"x\"}"));
    assert_false(matches("app", "{\"other\":\"x\"}"));
    assert_false(matches("app", NULL));
    assert_true(matches("!app", "{\"other\":\"x\"}"));
    assert_true(matches("!app", NULL));
    assert_false(matches("!app", "{\"app\":\"\"}"));
    assert_true(matches("! app", "{}")); /* space after ! is allowed */
}

static void test_numeric(void **state)
{
    /* labels.Parse has > and <, comparing base-10 integers */
    assert_true(matches("replicas>3", "{\"replicas\":\"4\"}"));
    assert_false(matches("replicas>3", "{\"replicas\":\"3\"}"));
    assert_false(matches("replicas>3", "{\"replicas\":\"abc\"}"));
    assert_false(matches("replicas>3", "{}"));
    assert_true(matches("replicas<3", "{\"replicas\":\"-7\"}"));
    assert_true(matches("replicas<10", "{\"replicas\":\"09\"}"));
    assert_false(matches("replicas<3", "{\"replicas\":\"99999999999999999999\"}"));
    assert_true(matches("replicas > 3", "{\"replicas\":\"100\"}"));
    /* the words gt and lt are not operators */
    assert_string_equal(parse_error("replicas gt 3"),
                        "unable to parse requirement: found 'gt', expected: in, notin, =, ==, "
                        "!=, gt, lt");
    assert_string_equal(parse_error("replicas lt 3"),
                        "unable to parse requirement: found 'lt', expected: in, notin, =, ==, "
                        "!=, gt, lt");
    assert_string_equal(parse_error("x>abc"),
                        "unable to parse requirement: values[0]: Invalid value: \"abc\": for "
                        "'Gt', 'Lt' operators, the value must be an integer");
    assert_string_equal(parse_error("x>"),
                        "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', "
                        "'Lt' operators, the value must be an integer");
    assert_string_equal(parse_error("x>99999999999999999999"),
                        "unable to parse requirement: values[0]: Invalid value: "
                        "\"99999999999999999999\": for 'Gt', 'Lt' operators, the value must be "
                        "an integer");
}

static void test_several_requirements(void **state)
{
    const char *sel = "a=b,c!=d,e in (f,g),h notin (i),j,!k";
    assert_true(matches(sel, "{\"a\":\"b\",\"e\":\"g\",\"j\":\"1\"}"));
    assert_false(matches(sel, "{\"a\":\"b\",\"e\":\"g\",\"j\":\"1\",\"k\":\"\"}"));
    assert_false(matches(sel, "{\"a\":\"b\",\"c\":\"d\",\"e\":\"g\",\"j\":\"1\"}"));
    assert_false(matches(sel, "{\"a\":\"b\",\"e\":\"g\",\"h\":\"i\",\"j\":\"1\"}"));
    assert_false(matches(sel, "{\"a\":\"b\",\"e\":\"g\"}"));
    /* the same key twice: both must hold */
    assert_false(matches("a=b,a=c", "{\"a\":\"b\"}"));
    assert_true(matches("a,a!=c", "{\"a\":\"b\"}"));
}

static void test_whitespace(void **state)
{
    const char *labels = "{\"a\":\"b\",\"e\":\"f\",\"j\":\"1\"}";
    assert_true(matches("  a = b , e in ( f , g ) , j , ! k  ", labels));
    assert_true(matches("a=b,\te\tin\t(f),\nj", labels));
    assert_true(matches("a == b", labels));
    assert_true(matches("a\r\n!=\r\nc", labels));
    assert_true(matches("e in(f)", labels));
    assert_true(matches("e notin(x)", labels));
}

static void test_keywords_as_identifiers(void **state)
{
    /* in and notin are keywords only where an operator may stand */
    assert_true(matches("in in (in)", "{\"in\":\"in\"}"));
    assert_true(matches("notin notin (notin)", "{\"notin\":\"x\"}"));
    assert_true(matches("a=in", "{\"a\":\"in\"}"));
    assert_true(matches("a=notin", "{\"a\":\"notin\"}"));
    assert_true(matches("in", "{\"in\":\"\"}"));
    assert_true(matches("!notin", "{}"));
    assert_true(matches("gt=lt", "{\"gt\":\"lt\"}"));
}

static void test_prefixed_keys(void **state)
{
    assert_true(matches("app.kubernetes.io/name=web", "{\"app.kubernetes.io/name\":\"web\"}"));
    assert_true(matches("!node-role.kubernetes.io/control-plane", "{}"));
    assert_true(matches("example.com/My_Name.x-y=Va_l.u-e", "{\"example.com/My_Name.x-y\":"
                                                              "\"Va_l.u-e\"}"));
    char key[64 + 1];
    memset(key, 'a', 63);
    key[63] = '\0';
    char sel[128];
    snprintf(sel, sizeof sel, "%s", key);
    assert_true(matches(sel, "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":"
                             "\"\"}"));
}

static void test_non_string_label_values(void **state)
{
    /* a label whose JSON value is not a string exists but equals nothing */
    assert_true(matches("a", "{\"a\":1}"));
    assert_false(matches("a=1", "{\"a\":1}"));
    assert_true(matches("a!=1", "{\"a\":1}"));
    assert_false(matches("a>0", "{\"a\":1}"));
    /* labels that are not an object: no labels */
    assert_true(matches("!a", "[1,2]"));
    assert_false(matches("a", "\"a\""));
}

/* ---- the string form: syntax errors ---- */

static void test_errors_structure(void **state)
{
    assert_string_equal(parse_error(","),
                        "found ',', expected: !, identifier, or 'end of string'");
    assert_string_equal(parse_error("=a"),
                        "found '=', expected: !, identifier, or 'end of string'");
    assert_string_equal(parse_error("(a)"),
                        "found '(', expected: !, identifier, or 'end of string'");
    assert_string_equal(parse_error("a,"), "found '', expected: identifier after ','");
    assert_string_equal(parse_error("a,,b"), "found ',', expected: identifier after ','");
    assert_string_equal(parse_error("a=b c"), "found 'c', expected: ',' or 'end of string'");
    assert_string_equal(parse_error("a=b)"), "found ')', expected: ',' or 'end of string'");
    assert_string_equal(parse_error("!a=b"), "found '=', expected: ',' or 'end of string'");
    assert_string_equal(parse_error("!a b"), "found 'b', expected: ',' or 'end of string'");
}

static void test_errors_requirement(void **state)
{
    assert_string_equal(parse_error("!"),
                        "unable to parse requirement: found '', expected: identifier");
    assert_string_equal(parse_error("!!a"),
                        "unable to parse requirement: found '!', expected: identifier");
    assert_string_equal(parse_error("a b"), "unable to parse requirement: found 'b', expected: "
                                            "in, notin, =, ==, !=, gt, lt");
    assert_string_equal(parse_error("a ("), "unable to parse requirement: found '(', expected: "
                                            "in, notin, =, ==, !=, gt, lt");
    assert_string_equal(parse_error("a=("),
                        "unable to parse requirement: found '(', expected: identifier");
    /* "a=" ends at the comma: a is "" and b exists */
    assert_true(matches("a=,b", "{\"a\":\"\",\"b\":\"x\"}"));
    assert_string_equal(parse_error("a=b=c"), "found '=', expected: ',' or 'end of string'");
    assert_string_equal(parse_error("a!==b"),
                        "unable to parse requirement: found '=', expected: identifier");
}

static void test_errors_sets(void **state)
{
    assert_string_equal(parse_error("a in"),
                        "unable to parse requirement: found '' expected: '('");
    assert_string_equal(parse_error("a in b"),
                        "unable to parse requirement: found 'b' expected: '('");
    assert_string_equal(parse_error("a in (b"),
                        "unable to parse requirement: found '', expected: ',' or ')'");
    assert_string_equal(parse_error("a in (b c)"),
                        "unable to parse requirement: found 'c', expected: ',' or ')'");
    assert_string_equal(parse_error("a in (("),
                        "unable to parse requirement: found '(', expected: ',', ')' or "
                        "identifier");
    assert_string_equal(parse_error("a in (b,="),
                        "unable to parse requirement: found '=', expected: ',', or identifier");
    assert_string_equal(parse_error("a in (b,"),
                        "unable to parse requirement: found '', expected: ',', or identifier");
    /* 0.32's quirk: a trailing empty item after an empty one is refused */
    assert_string_equal(parse_error("a in (,,)"),
                        "unable to parse requirement: found ')', expected: ',', or identifier");
    assert_string_equal(parse_error("a notin (x,,)"),
                        "unable to parse requirement: found ')', expected: ',', or identifier");
}

static void test_errors_keys(void **state)
{
    assert_string_equal(
        parse_error("a_=b"),
        "unable to parse requirement: <nil>: Invalid value: \"a_\": name part must consist of "
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
    assert_string_equal(
        parse_error("/a"),
        "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be "
        "non-empty");
    assert_string_equal(
        parse_error("Example.com/a"),
        "unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a "
        "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
        "regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    assert_string_equal(
        parse_error("a/"),
        "unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be "
        "non-empty; name part must consist of alphanumeric characters, '-', '_' or '.', and "
        "must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
    assert_string_equal(
        parse_error("a/b/c"),
        "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must "
        "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
        "subdomain prefix and '/' (e.g. 'example.com/MyName')");
    char sel[128];
    memset(sel, 'k', 64);
    strcpy(sel + 64, "=v");
    assert_non_null(strstr(parse_error(sel), "name part must be no more than 63 characters"));
    /* a prefix of more than 253 characters */
    char big[300];
    memset(big, 'a', 254);
    strcpy(big + 254, "/b");
    assert_non_null(strstr(parse_error(big), "prefix part must be no more than 253 characters"));
    assert_non_null(strstr(parse_error("a..b/c"), "prefix part a lowercase RFC 1123"));
    assert_non_null(strstr(parse_error("-a/c"), "prefix part a lowercase RFC 1123"));
    /* bytes that are not printable are quoted as Go quotes them */
    assert_string_equal(parse_error("a\x01"),
                        "unable to parse requirement: <nil>: Invalid value: \"a\\x01\": name "
                        "part must consist of alphanumeric characters, '-', '_' or '.', and "
                        "must start and end with an alphanumeric character (e.g. 'MyName',  or "
                        "'my.name',  or '123-abc', regex used for validation is "
                        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
}

static void test_errors_values(void **state)
{
    assert_string_equal(
        parse_error("a=-b"),
        "unable to parse requirement: values[0][a]: Invalid value: \"-b\": a valid label must "
        "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
        "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
    char sel[128] = "a=";
    memset(sel + 2, 'v', 64);
    sel[66] = '\0';
    assert_non_null(strstr(parse_error(sel), "values[0][a]: Invalid value: \"vvvv"));
    assert_non_null(strstr(parse_error(sel), "must be no more than 63 characters"));
    /* values are a sorted set, so errors name them in sorted order; several
     * problems come as a list */
    const char *e = parse_error("a in (z_, b_)");
    assert_true(strncmp(e, "unable to parse requirement: [values[0][a]: Invalid value: \"b_\"",
                        strlen("unable to parse requirement: [values[0][a]: Invalid value: "
                               "\"b_\"")) == 0);
    assert_non_null(strstr(e, ", values[1][a]: Invalid value: \"z_\""));
    assert_int_equal(e[strlen(e) - 1], ']');
    assert_non_null(strstr(parse_error("a=x/y"), "Invalid value: \"x/y\""));
    assert_non_null(strstr(parse_error("a=\"q\""), "Invalid value: \"\\\"q\\\"\""));
}

static void test_error_buffer_edges(void **state)
{
    /* no buffer, or a tiny one, is fine */
    assert_null(kube_selector_parse("a b", NULL, 0));
    char small[8];
    assert_null(kube_selector_parse("a b", small, sizeof small));
    assert_int_equal(strlen(small), 7);
    char err[64] = "stale";
    struct kube_selector *s = kube_selector_parse("a", err, sizeof err);
    assert_non_null(s);
    assert_string_equal(err, ""); /* cleared on success */
    kube_selector_free(s);
    kube_selector_free(NULL);
}

/* ---- LabelSelector objects ---- */

static void test_json_nil_vs_empty(void **state)
{
    char err[256];
    /* LabelSelectorAsSelector(nil) is labels.Nothing() */
    struct kube_selector *s = kube_selector_from_json(NULL, err, sizeof err);
    assert_non_null(s);
    assert_false(kube_selector_empty(s));
    assert_false(kube_selector_match(s, NULL));
    json_t *l = json_pack("{s:s}", "a", "b");
    assert_false(kube_selector_match(s, l));
    kube_selector_free(s);
    json_t *null = json_null();
    s = kube_selector_from_json(null, err, sizeof err);
    assert_non_null(s);
    assert_false(kube_selector_match(s, l));
    kube_selector_free(s);
    /* {} and empty lists match everything */
    assert_true(json_matches("{}", NULL));
    assert_true(json_matches("{}", "{\"a\":\"b\"}"));
    assert_true(json_matches("{\"matchLabels\":{},\"matchExpressions\":[]}", "{\"a\":\"b\"}"));
    assert_true(json_matches("{\"matchLabels\":null,\"matchExpressions\":null}", NULL));
    s = from_json("{}", err, sizeof err);
    assert_true(kube_selector_empty(s));
    kube_selector_free(s);
    json_decref(l);
}

static void test_json_match_labels(void **state)
{
    const char *sel = "{\"matchLabels\":{\"app\":\"web\",\"tier\":\"front\"}}";
    assert_true(json_matches(sel, "{\"app\":\"web\",\"tier\":\"front\",\"x\":\"y\"}"));
    assert_false(json_matches(sel, "{\"app\":\"web\"}"));
    assert_false(json_matches(sel, "{\"app\":\"web\",\"tier\":\"back\"}"));
    assert_false(json_matches(sel, NULL));
    assert_true(json_matches("{\"matchLabels\":{\"a\":\"\"}}", "{\"a\":\"\"}"));
}

static void test_json_match_expressions(void **state)
{
    const char *sel =
        "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
        "{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\",\"qa\"]},"
        "{\"key\":\"canary\",\"operator\":\"NotIn\",\"values\":[\"true\"]},"
        "{\"key\":\"team\",\"operator\":\"Exists\"},"
        "{\"key\":\"legacy\",\"operator\":\"DoesNotExist\",\"values\":[]}]}";
    assert_true(json_matches(sel, "{\"app\":\"web\",\"env\":\"qa\",\"team\":\"a\"}"));
    assert_true(json_matches(sel, "{\"app\":\"web\",\"env\":\"qa\",\"team\":\"a\","
                                  "\"canary\":\"false\"}"));
    assert_false(json_matches(sel, "{\"app\":\"web\",\"env\":\"qa\",\"team\":\"a\","
                                   "\"canary\":\"true\"}"));
    assert_false(json_matches(sel, "{\"app\":\"web\",\"env\":\"dev\",\"team\":\"a\"}"));
    assert_false(json_matches(sel, "{\"app\":\"web\",\"env\":\"qa\"}"));
    assert_false(json_matches(sel, "{\"app\":\"web\",\"env\":\"qa\",\"team\":\"a\","
                                   "\"legacy\":\"\"}"));
    assert_false(json_matches(sel, "{\"env\":\"qa\",\"team\":\"a\"}"));
}

static void test_json_errors(void **state)
{
    assert_string_equal(json_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}"),
                        "values: Invalid value: []string(nil): for 'in', 'notin' operators, "
                        "values set can't be empty");
    assert_string_equal(
        json_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"NotIn\",\"values\":[]}]}"),
        "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't "
        "be empty");
    assert_string_equal(json_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
                                   "\"Exists\",\"values\":[\"x\",\"y\"]}]}"),
                        "values: Invalid value: []string{\"x\", \"y\"}: values set must be "
                        "empty for exists and does not exist");
    assert_string_equal(json_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
                                   "\"DoesNotExist\",\"values\":[\"x\"]}]}"),
                        "values: Invalid value: []string{\"x\"}: values set must be empty for "
                        "exists and does not exist");
    assert_string_equal(json_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\","
                                   "\"values\":[\"1\"]}]}"),
                        "\"Gt\" is not a valid label selector operator");
    assert_string_equal(json_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"in\","
                                   "\"values\":[\"1\"]}]}"),
                        "\"in\" is not a valid label selector operator");
    assert_string_equal(json_error("{\"matchExpressions\":[{\"key\":\"a\"}]}"),
                        "\"\" is not a valid label selector operator");
    assert_string_equal(json_error("{\"matchLabels\":{\"a_\":\"b\"}}"),
                        "key: Invalid value: \"a_\": name part must consist of alphanumeric "
                        "characters, '-', '_' or '.', and must start and end with an "
                        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
                        "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
    /* key and value both wrong: both reported, as an aggregate */
    const char *e = json_error("{\"matchLabels\":{\"a_\":\"b_\"}}");
    assert_true(strncmp(e, "[key: Invalid value: \"a_\"", 25) == 0);
    assert_non_null(strstr(e, ", values[0][a_]: Invalid value: \"b_\": a valid label must be"));
    e = json_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\","
                   "\"values\":[\"ok\",\"no way\"]}]}");
    assert_string_equal(e, "values[1][a]: Invalid value: \"no way\": a valid label must be an "
                           "empty string or consist of alphanumeric characters, '-', '_' or '.', "
                           "and must start and end with an alphanumeric character (e.g. "
                           "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                           "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
    assert_non_null(strstr(json_error("{\"matchExpressions\":[{\"operator\":\"Exists\"}]}"),
                           "key: Invalid value: \"\": name part must be non-empty"));
}

static void test_json_shape_errors(void **state)
{
    assert_non_null(strstr(json_error("[]"), "must be an object"));
    assert_non_null(strstr(json_error("\"app=web\""), "must be an object"));
    assert_non_null(strstr(json_error("{\"matchLabels\":[]}"), "matchLabels"));
    assert_non_null(strstr(json_error("{\"matchLabels\":{\"a\":1}}"), "matchLabels"));
    assert_non_null(strstr(json_error("{\"matchExpressions\":{}}"), "matchExpressions"));
    assert_non_null(strstr(json_error("{\"matchExpressions\":[1]}"), "matchExpressions[0]"));
    assert_non_null(strstr(json_error("{\"matchExpressions\":[{\"key\":1,\"operator\":"
                                      "\"Exists\"}]}"),
                           "matchExpressions[0]"));
    assert_non_null(strstr(json_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
                                      "\"In\",\"values\":\"x\"}]}"),
                           "values"));
    assert_non_null(strstr(json_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
                                      "\"In\",\"values\":[1]}]}"),
                           "values[0]"));
}

/* ---- speed: one parse, many matches ---- */

static void test_many_matches(void **state)
{
    char err[128];
    struct kube_selector *s = kube_selector_parse("app=web,env in (prod,qa),!legacy,tier",
                                                  err, sizeof err);
    assert_non_null(s);
    json_t *yes = json_pack("{s:s,s:s,s:s}", "app", "web", "env", "qa", "tier", "1");
    json_t *no = json_pack("{s:s,s:s}", "app", "web", "env", "dev");
    int hits = 0;
    for (int i = 0; i < 20000; i++)
        hits += kube_selector_match(s, i % 2 ? yes : no);
    assert_int_equal(hits, 10000);
    json_decref(yes);
    json_decref(no);
    kube_selector_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_matches_everything),
        cmocka_unit_test(test_equals),
        cmocka_unit_test(test_not_equals),
        cmocka_unit_test(test_in_notin),
        cmocka_unit_test(test_empty_values_in_sets),
        cmocka_unit_test(test_exists),
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_several_requirements),
        cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_keywords_as_identifiers),
        cmocka_unit_test(test_prefixed_keys),
        cmocka_unit_test(test_non_string_label_values),
        cmocka_unit_test(test_errors_structure),
        cmocka_unit_test(test_errors_requirement),
        cmocka_unit_test(test_errors_sets),
        cmocka_unit_test(test_errors_keys),
        cmocka_unit_test(test_errors_values),
        cmocka_unit_test(test_error_buffer_edges),
        cmocka_unit_test(test_json_nil_vs_empty),
        cmocka_unit_test(test_json_match_labels),
        cmocka_unit_test(test_json_match_expressions),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_shape_errors),
        cmocka_unit_test(test_many_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
