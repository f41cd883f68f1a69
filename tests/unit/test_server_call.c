/* test_server_call.c — unit tests of in-process requests (server_embed +
 * server_call, server/http.c), which the deterministic simulation serves its
 * controllers through.
 *
 * A store in a fresh directory under /tmp gets two ConfigMaps applied as
 * Raft entries, as the proposer encodes them; an embedded server over it
 * (no cluster: only reads that need no read index, resourceVersion=0) must
 * then answer like the HTTP API: the object, a 404 Status naming what is
 * missing, a list filtered by a percent-encoded label selector (the query
 * decoded as libmicrohttpd decodes it), a Table when the Accept header asks
 * for one, and 405 for a watch, which it does not serve. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/codec.h"
#include "server/server.h"
#include "store/store.h"
#include "util/util.h"

struct fix {
    char dir[64];
    struct store *st;
    struct server *srv;
};

static void put_configmap(struct store *st, uint64_t index, const char *name, const char *app)
{
    json_t *cm = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1",
                           "kind", "ConfigMap", "metadata", "name", name, "namespace", "default",
                           "uid", name, "labels", "app", app, "data", "k", "v");
    struct ubuf obj = {0}, entry = {0};
    codec_json_to_msgpack(cm, &obj);
    json_decref(cm);
    struct store_cmd cmd = {.op = STORE_OP_CREATE, .resource = "configmaps", .ns = "default",
                            .name = name, .uid = name, .obj = obj.data, .obj_len = obj.len};
    store_entry_encode_header(1, 0, &entry);
    store_cmd_encode(&cmd, &entry);
    struct store_batch_result *br = NULL;
    assert_int_equal(store_apply(st, index, entry.data, entry.len, &br), 0);
    assert_int_equal(br->r[0].code, STORE_OK);
    free(br);
    ubuf_free(&obj);
    ubuf_free(&entry);
}

static int setup(void **state)
{
    struct fix *f = xcalloc(1, sizeof *f);
    char err[256];
    snprintf(f->dir, sizeof f->dir, "/tmp/bosun-test-call-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(&f->st, f->dir, 64u << 20, NULL, err, sizeof err), 0);
    put_configmap(f->st, 1, "a", "web");
    put_configmap(f->st, 2, "b", "db");
    f->srv = server_embed(1, f->st, NULL);
    *state = f;
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fix *f = *state;
    server_embed_free(f->srv);
    store_close(f->st);
    nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* GET url; the status, and the reply decoded into *out. */
static int get(struct fix *f, const char *url, const char *const *headers, json_t **out)
{
    char *reply = NULL;
    size_t len = 0;
    int st = server_call(f->srv, "GET", url, headers, NULL, 0, &reply, &len);
    assert_non_null(reply);
    assert_int_equal(strlen(reply), len);
    *out = json_loadb(reply, len, 0, NULL);
    free(reply);
    return st;
}

static void test_get_object(void **state)
{
    json_t *o;
    assert_int_equal(get(*state, "/api/v1/namespaces/default/configmaps/a?resourceVersion=0",
                         NULL, &o),
                     200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "data"), "k")), "v");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"),
                                                          "resourceVersion")),
                        "1");
    json_decref(o);
}

static void test_missing_is_a_404_status(void **state)
{
    json_t *o;
    assert_int_equal(get(*state, "/api/v1/namespaces/default/configmaps/zz?resourceVersion=0",
                         NULL, &o),
                     404);
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "Status");
    assert_string_equal(json_string_value(json_object_get(o, "reason")), "NotFound");
    assert_non_null(strstr(json_string_value(json_object_get(o, "message")), "\"zz\""));
    json_decref(o);
}

/* "app in (web,x)" with "+" and "%20" for spaces and "%2C" for the comma;
 * "app=db" with "%3D"; an empty parameter and one without a value. */
static void test_query_is_decoded(void **state)
{
    const char *urls[] = {
        "/api/v1/namespaces/default/configmaps?resourceVersion=0"
        "&labelSelector=app+in%20(web%2Cx)",
        "/api/v1/namespaces/default/configmaps?labelSelector=app%3Ddb&resourceVersion=0&&x",
    };
    const char *want[] = {"a", "b"};
    for (size_t i = 0; i < 2; i++) {
        json_t *o;
        assert_int_equal(get(*state, urls[i], NULL, &o), 200);
        json_t *items = json_object_get(o, "items");
        assert_int_equal(json_array_size(items), 1);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(json_array_get(items, 0), "metadata"), "name")),
                            want[i]);
        json_decref(o);
    }
}

static void test_headers_are_read(void **state)
{
    const char *headers[] = {"User-Agent: test",
                             "accept:   application/json;as=Table;v=v1;g=meta.k8s.io", NULL};
    json_t *o;
    assert_int_equal(get(*state, "/api/v1/namespaces/default/configmaps?resourceVersion=0",
                         headers, &o),
                     200);
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "Table");
    assert_int_equal(json_array_size(json_object_get(o, "rows")), 2);
    json_decref(o);
}

static void test_watch_is_refused(void **state)
{
    json_t *o;
    assert_int_equal(get(*state, "/api/v1/namespaces/default/configmaps?watch=1", NULL, &o), 405);
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "Status");
    json_decref(o);
}

int main(void)
{
    util_log_set_level(UTIL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_is_a_404_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_is_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headers_are_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
