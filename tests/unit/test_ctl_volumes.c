/* test_ctl_volumes.c — unit tests for the PersistentVolume binder's
 * decisions (controllers/volumes.c): which volume a claim gets (smallest
 * fit, fewest access modes first, class, access modes, volume mode,
 * selector, pre-bound volumes, unavailable and claimed volumes, delayed
 * binding), whether a named volume satisfies a claim, the class of an
 * object (the beta annotation first), and the volume the hostPath
 * provisioner makes; and the protection controllers' (protection.c):
 * when a claim is in use by a pod and a volume by its claim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controllers/ctl_internal.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return j;
}

/* An Available volume: name, size, modes as a JSON array text, class. */
static json_t *pv(const char *name, const char *size, const char *modes, const char *cls)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"tier\":\"%s\"}},"
             "\"spec\":{\"capacity\":{\"storage\":\"%s\"},\"accessModes\":%s,"
             "\"storageClassName\":\"%s\"},\"status\":{\"phase\":\"Available\"}}",
             name, strcmp(size, "5Gi") == 0 ? "fast" : "slow", size, modes, cls);
    return parse(buf);
}

static json_t *pvc(const char *size, const char *modes, const char *cls_json)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"data\",\"namespace\":\"ns\",\"uid\":\"u-1\"},"
             "\"spec\":{\"accessModes\":%s,\"resources\":{\"requests\":{\"storage\":\"%s\"}}"
             "%s%s}}",
             modes, size, cls_json ? ",\"storageClassName\":" : "", cls_json ? cls_json : "");
    return parse(buf);
}

static const char *name_of(json_t *o)
{
    return o ? json_string_value(json_object_get(json_object_get(o, "metadata"), "name")) : "";
}

#define RWO "[\"ReadWriteOnce\"]"

static json_t *three_volumes(void)
{
    json_t *a = json_array();
    json_array_append_new(a, pv("ten", "10Gi", RWO, ""));
    json_array_append_new(a, pv("one", "1Gi", RWO, ""));
    json_array_append_new(a, pv("five", "5Gi", RWO, ""));
    return a;
}

static void test_smallest_fit(void **state)
{
    (void)state;
    json_t *pvs = three_volumes();
    json_t *c3 = pvc("3Gi", RWO, "\"\""), *c1 = pvc("1Gi", RWO, "\"\"");
    json_t *c5 = pvc("5Gi", RWO, "\"\""), *c20 = pvc("20Gi", RWO, "\"\"");
    json_t *c1k = pvc("1024Mi", RWO, "\"\"");
    assert_string_equal(name_of(ctl_volume_find_match(pvs, c3, false)), "five");
    assert_string_equal(name_of(ctl_volume_find_match(pvs, c1, false)), "one");
    assert_string_equal(name_of(ctl_volume_find_match(pvs, c1k, false)), "one");
    assert_string_equal(name_of(ctl_volume_find_match(pvs, c5, false)), "five"); /* equal fits */
    assert_null(ctl_volume_find_match(pvs, c20, false));
    assert_null(ctl_volume_find_match(pvs, c3, true)); /* delayed binding, no node yet */
    json_t *all[] = {pvs, c3, c1, c5, c20, c1k};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        json_decref(all[i]);
}

static void test_access_modes(void **state)
{
    (void)state;
    json_t *pvs = json_array();
    json_array_append_new(pvs, pv("both-small", "2Gi", "[\"ReadWriteOnce\",\"ReadOnlyMany\"]", ""));
    json_array_append_new(pvs, pv("rwo-big", "8Gi", RWO, ""));
    json_array_append_new(pvs, pv("rox", "1Gi", "[\"ReadOnlyMany\"]", ""));
    json_t *rwo = pvc("1Gi", RWO, "\"\""), *rox = pvc("1Gi", "[\"ReadOnlyMany\"]", "\"\"");
    json_t *both = pvc("1Gi", "[\"ReadOnlyMany\",\"ReadWriteOnce\"]", "\"\"");
    json_t *rwx = pvc("1Gi", "[\"ReadWriteMany\"]", "\"\"");
    /* index.go: the volumes with the fewest modes covering the claim's come
     * first, even if larger. */
    assert_string_equal(name_of(ctl_volume_find_match(pvs, rwo, false)), "rwo-big");
    assert_string_equal(name_of(ctl_volume_find_match(pvs, rox, false)), "rox");
    assert_string_equal(name_of(ctl_volume_find_match(pvs, both, false)), "both-small");
    assert_null(ctl_volume_find_match(pvs, rwx, false));
    json_t *all[] = {pvs, rwo, rox, both, rwx};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        json_decref(all[i]);
}

static void test_classes(void **state)
{
    (void)state;
    json_t *pvs = json_array();
    json_array_append_new(pvs, pv("plain", "1Gi", RWO, ""));
    json_array_append_new(pvs, pv("gold", "2Gi", RWO, "gold"));
    json_t *none = pvc("1Gi", RWO, "\"\""), *gold = pvc("1Gi", RWO, "\"gold\"");
    json_t *silver = pvc("1Gi", RWO, "\"silver\""), *unset = pvc("1Gi", RWO, NULL);
    assert_string_equal(name_of(ctl_volume_find_match(pvs, none, false)), "plain");
    assert_string_equal(name_of(ctl_volume_find_match(pvs, gold, false)), "gold");
    assert_null(ctl_volume_find_match(pvs, silver, false));
    /* no class field at all is "" too (admission would have set a default) */
    assert_string_equal(name_of(ctl_volume_find_match(pvs, unset, false)), "plain");
    /* the beta annotation wins over the field */
    json_object_set_new(json_object_get(none, "metadata"), "annotations",
                        json_pack("{s:s}", "volume.beta.kubernetes.io/storage-class", "gold"));
    assert_string_equal(ctl_volume_class(none), "gold");
    assert_string_equal(name_of(ctl_volume_find_match(pvs, none, false)), "gold");
    assert_string_equal(ctl_volume_class(gold), "gold");
    assert_string_equal(ctl_volume_class(unset), "");
    json_t *all[] = {pvs, none, gold, silver, unset};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        json_decref(all[i]);
}

static void test_unavailable_claimed_selector_mode(void **state)
{
    (void)state;
    json_t *pvs = three_volumes();
    json_t *c = pvc("1Gi", RWO, "\"\"");
    /* "one" is Released, "five" claimed by another: "ten" is left */
    json_object_set_new(json_object_get(json_array_get(pvs, 1), "status"), "phase",
                        json_string("Released"));
    json_object_set_new(json_object_get(json_array_get(pvs, 2), "spec"), "claimRef",
                        json_pack("{s:s, s:s, s:s}", "namespace", "ns", "name", "other", "uid",
                                  "u-2"));
    assert_string_equal(name_of(ctl_volume_find_match(pvs, c, false)), "ten");
    /* a selector on labels: only tier=fast ("five", claimed) → none */
    json_object_set_new(json_object_get(c, "spec"), "selector",
                        json_pack("{s:{s:s}}", "matchLabels", "tier", "fast"));
    assert_null(ctl_volume_find_match(pvs, c, false));
    json_object_del(json_object_get(c, "spec"), "selector");
    /* a Block claim matches no Filesystem volume */
    json_object_set_new(json_object_get(c, "spec"), "volumeMode", json_string("Block"));
    assert_null(ctl_volume_find_match(pvs, c, false));
    json_decref(pvs);
    json_decref(c);
}

static void test_prebound(void **state)
{
    (void)state;
    json_t *pvs = three_volumes();
    json_t *c = pvc("1Gi", RWO, "\"\"");
    /* "ten" pre-bound to the claim by name (no uid): it wins over "one",
     * whatever its class and phase */
    json_t *ten = json_array_get(pvs, 0);
    json_object_set_new(json_object_get(ten, "spec"), "claimRef",
                        json_pack("{s:s, s:s}", "namespace", "ns", "name", "data"));
    json_object_set_new(json_object_get(ten, "spec"), "storageClassName", json_string("x"));
    assert_true(ctl_volume_bound_to(ten, c));
    assert_string_equal(name_of(ctl_volume_find_match(pvs, c, false)), "ten");
    assert_string_equal(name_of(ctl_volume_find_match(pvs, c, true)), "ten");
    /* bound to an earlier claim of the same name: not ours */
    json_object_set_new(json_object_get(json_object_get(ten, "spec"), "claimRef"), "uid",
                        json_string("u-old"));
    assert_false(ctl_volume_bound_to(ten, c));
    assert_string_equal(name_of(ctl_volume_find_match(pvs, c, false)), "one");
    json_decref(pvs);
    json_decref(c);
}

static void test_satisfies(void **state)
{
    (void)state;
    char why[128];
    json_t *v = pv("v", "5Gi", "[\"ReadWriteOnce\",\"ReadWriteMany\"]", "gold");
    json_t *ok = pvc("5Gi", "[\"ReadWriteMany\"]", "\"gold\"");
    json_t *big = pvc("6Gi", RWO, "\"gold\""), *cls = pvc("1Gi", RWO, "\"\"");
    json_t *modes = pvc("1Gi", "[\"ReadOnlyMany\"]", "\"gold\"");
    assert_true(ctl_volume_satisfies(v, ok, why, sizeof why));
    assert_false(ctl_volume_satisfies(v, big, why, sizeof why));
    assert_string_equal(why, "requested PV is too small");
    assert_false(ctl_volume_satisfies(v, cls, why, sizeof why));
    assert_string_equal(why, "storageClassName does not match");
    assert_false(ctl_volume_satisfies(v, modes, why, sizeof why));
    assert_string_equal(why, "incompatible accessMode");
    assert_int_equal(ctl_volume_capacity(v), 5LL << 30);
    assert_int_equal(ctl_claim_request(big), 6LL << 30);
    json_t *all[] = {v, ok, big, cls, modes};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        json_decref(all[i]);
}

static void test_provision(void **state)
{
    (void)state;
    json_t *c = pvc("2Gi", "[\"ReadWriteOnce\"]", "\"hp\"");
    json_t *sc = parse("{\"metadata\":{\"name\":\"hp\"},\"provisioner\":\"bosun.dev/hostpath\","
                       "\"reclaimPolicy\":\"Retain\",\"parameters\":{\"path\":\"/srv/v\"},"
                       "\"mountOptions\":[\"ro\"]}");
    json_t *v = ctl_volume_provision(c, sc, "node-3");
    json_t *spec = json_object_get(v, "spec");
    assert_string_equal(name_of(v), "pvc-u-1");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(v, "metadata"), "annotations"),
                            "pv.kubernetes.io/provisioned-by")),
                        CTL_PROVISIONER_HOSTPATH);
    assert_string_equal(json_string_value(json_object_get(json_object_get(spec, "hostPath"), "path")),
                        "/srv/v/pvc-u-1");
    assert_string_equal(json_string_value(json_object_get(spec, "persistentVolumeReclaimPolicy")),
                        "Retain");
    assert_string_equal(json_string_value(json_object_get(spec, "storageClassName")), "hp");
    assert_int_equal(ctl_volume_capacity(v), 2LL << 30);
    assert_true(ctl_volume_bound_to(v, c));
    char why[128];
    assert_true(ctl_volume_satisfies(v, c, why, sizeof why));
    json_t *terms = json_object_get(json_object_get(json_object_get(spec, "nodeAffinity"),
                                                    "required"),
                                    "nodeSelectorTerms");
    json_t *expr = json_array_get(json_object_get(json_array_get(terms, 0), "matchExpressions"), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(expr, "values"), 0)),
                        "node-3");
    assert_non_null(json_object_get(spec, "mountOptions"));
    json_decref(v);
    /* no parameters, no policy, no node: the defaults */
    json_t *plain = parse("{\"provisioner\":\"bosun.dev/hostpath\"}");
    v = ctl_volume_provision(c, plain, NULL);
    spec = json_object_get(v, "spec");
    assert_string_equal(json_string_value(json_object_get(json_object_get(spec, "hostPath"), "path")),
                        "/var/lib/bosun/volumes/pvc-u-1");
    assert_string_equal(json_string_value(json_object_get(spec, "persistentVolumeReclaimPolicy")),
                        "Delete");
    assert_null(json_object_get(spec, "nodeAffinity"));
    json_decref(v);
    json_decref(plain);
    json_decref(sc);
    json_decref(c);
}

/* A pod of namespace ns in phase, with volumes (a JSON array text). */
static json_t *pod_with(const char *name, const char *ns, const char *phase,
                        const char *volumes)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
             "\"spec\":{\"volumes\":%s},\"status\":{\"phase\":\"%s\"}}",
             name, ns, volumes, phase);
    return parse(buf);
}

#define CLAIM_VOL(c) "[{\"name\":\"v\",\"persistentVolumeClaim\":{\"claimName\":\"" c "\"}}]"

static void test_pvc_protection(void **state)
{
    (void)state;
    json_t *claim = pvc("1Gi", RWO, NULL); /* ns/data */
    json_t *pods = json_array();
    assert_false(ctl_pvc_in_use(claim, pods));
    /* Another claim, another namespace, a terminated pod: not in use. */
    json_array_append_new(pods, pod_with("a", "ns", "Running", CLAIM_VOL("other")));
    json_array_append_new(pods, pod_with("b", "elsewhere", "Running", CLAIM_VOL("data")));
    json_array_append_new(pods, pod_with("c", "ns", "Succeeded", CLAIM_VOL("data")));
    json_array_append_new(pods, pod_with("d", "ns", "Failed", CLAIM_VOL("data")));
    assert_false(ctl_pvc_in_use(claim, pods));
    /* A pending pod (even unscheduled) uses it. */
    json_t *pending = pod_with("e", "ns", "Pending", CLAIM_VOL("data"));
    json_array_append(pods, pending);
    assert_true(ctl_pvc_in_use(claim, pods));
    json_array_remove(pods, json_array_size(pods) - 1);
    /* A generic ephemeral volume's claim is POD-VOLUME. */
    json_t *eph = pod_with("da", "ns", "Running", "[{\"name\":\"ta\",\"ephemeral\":{}}]");
    json_array_append(pods, eph);
    assert_false(ctl_pvc_in_use(claim, pods));
    json_object_set_new(json_object_get(claim, "metadata"), "name", json_string("da-ta"));
    assert_true(ctl_pvc_in_use(claim, pods));
    json_decref(eph);
    json_decref(pending);
    json_decref(pods);
    json_decref(claim);
}

static void test_pv_protection(void **state)
{
    (void)state;
    json_t *claim = pvc("1Gi", RWO, NULL); /* ns/data, uid u-1 */
    json_t *vol = pv("one", "1Gi", RWO, "");
    json_t *ref = parse("{\"namespace\":\"ns\",\"name\":\"data\",\"uid\":\"u-1\"}");
    json_object_set(json_object_get(vol, "spec"), "claimRef", ref);
    /* Available (not Bound): free whatever its claimRef says. */
    assert_false(ctl_pv_in_use(vol, claim));
    json_object_set_new(json_object_get(vol, "status"), "phase", json_string("Bound"));
    assert_true(ctl_pv_in_use(vol, claim));
    /* Bound, but the claim is gone or is another one of the same name. */
    assert_false(ctl_pv_in_use(vol, NULL));
    json_object_set_new(json_object_get(claim, "metadata"), "uid", json_string("u-2"));
    assert_false(ctl_pv_in_use(vol, claim));
    /* Released: free. */
    json_object_set_new(json_object_get(claim, "metadata"), "uid", json_string("u-1"));
    json_object_set_new(json_object_get(vol, "status"), "phase", json_string("Released"));
    assert_false(ctl_pv_in_use(vol, claim));
    json_decref(ref);
    json_decref(vol);
    json_decref(claim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smallest_fit),
        cmocka_unit_test(test_access_modes),
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_unavailable_claimed_selector_mode),
        cmocka_unit_test(test_prebound),
        cmocka_unit_test(test_satisfies),
        cmocka_unit_test(test_provision),
        cmocka_unit_test(test_pvc_protection),
        cmocka_unit_test(test_pv_protection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
