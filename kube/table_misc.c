/* table_misc.c — the Table rows of the kinds of the smaller API groups.
 *
 * autoscaling's HorizontalPodAutoscaler (reference, targets as
 * formatHPAMetrics prints them, min and max pods, replicas),
 * coordination.k8s.io's Lease, discovery.k8s.io's EndpointSlice,
 * scheduling.k8s.io's PriorityClass, storage.k8s.io's StorageClass (the
 * default class's name marked "(default)") and policy's
 * PodDisruptionBudget, as printers.go prints them.
 *
 * How it works: one tbl_<kind>_cells per kind, called through table.c's
 * table of kinds, each appending one cell per column of its kind. */
#include <stdio.h>
#include <string.h>

#include "kube/table_internal.h"

/* ---- autoscaling ---- */

/* One metric of formatHPAMetrics: "current/target", with the resource name
 * for Resource metrics and "(avg)" for average values of Object and
 * External ones. */
static void hpa_metric(struct ubuf *b, json_t *spec, json_t *status)
{
    static const struct {
        const char *type, *field;
        bool named, avg_suffix;
    } kinds[] = {
        {"External", "external", false, true},
        {"Pods", "pods", false, false},
        {"Object", "object", false, true},
        {"Resource", "resource", true, false},
        {"ContainerResource", "containerResource", true, false},
    };
    const char *type = tbl_str(spec, "type");
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k].type, type) != 0)
        k++;
    if (k == sizeof kinds / sizeof kinds[0]) {
        ubuf_appendf(b, "<unknown type>");
        return;
    }
    json_t *src = tbl_at(spec, kinds[k].field), *target = tbl_at(src, "target");
    json_t *cur = tbl_at(tbl_at(status, kinds[k].field), "current");
    bool have_status = tbl_has(status, kinds[k].field);
    char current[128] = "<unknown>", want[128];
    if (kinds[k].named)
        ubuf_appendf(b, "%s: ", tbl_str(src, "name"));
    bool avg = tbl_has(target, "averageValue") || !strcmp(type, "Pods");
    if (avg) {
        if (have_status && (tbl_has(cur, "averageValue") || !kinds[k].avg_suffix))
            tbl_quantity(current, sizeof current, tbl_at(cur, "averageValue"));
        tbl_quantity(want, sizeof want, tbl_at(target, "averageValue"));
        ubuf_appendf(b, "%s/%s%s", current, want, kinds[k].avg_suffix ? " (avg)" : "");
    } else if (kinds[k].named) {
        if (have_status && tbl_has(cur, "averageUtilization"))
            snprintf(current, sizeof current, "%lld%%",
                     (long long)tbl_int(cur, "averageUtilization", 0));
        if (tbl_has(target, "averageUtilization"))
            snprintf(want, sizeof want, "%lld%%",
                     (long long)tbl_int(target, "averageUtilization", 0));
        else
            snprintf(want, sizeof want, "<auto>");
        ubuf_appendf(b, "%s/%s", current, want);
    } else {
        if (have_status)
            tbl_quantity(current, sizeof current, tbl_at(cur, "value"));
        tbl_quantity(want, sizeof want, tbl_at(target, "value"));
        ubuf_appendf(b, "%s/%s", current, want);
    }
}

/* formatHPAMetrics: the first two metrics, then "+ N more..." */
static void cell_hpa_targets(struct tbl_row *r)
{
    json_t *specs = tbl_at(r->obj, "spec.metrics");
    json_t *statuses = tbl_at(r->obj, "status.currentMetrics");
    size_t n = json_is_array(specs) ? json_array_size(specs) : 0;
    if (n == 0) {
        tbl_cell_str(r, "<none>");
        return;
    }
    struct ubuf b = {0};
    for (size_t i = 0; i < n && i < 2; i++) {
        tbl_sep(&b, ", ");
        hpa_metric(&b, json_array_get(specs, i), json_array_get(statuses, i));
    }
    if (n > 2)
        ubuf_appendf(&b, " + %zu more...", n - 2);
    tbl_cell_buf(r, &b, "");
}

void tbl_hpa_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_fmt(r, "%s/%s", tbl_str(r->obj, "spec.scaleTargetRef.kind"),
                 tbl_str(r->obj, "spec.scaleTargetRef.name"));
    cell_hpa_targets(r);
    tbl_cell_fmt(r, "%lld", (long long)tbl_int(r->obj, "spec.minReplicas", 1));
    tbl_cell_int(r, tbl_int(r->obj, "spec.maxReplicas", 0));
    tbl_cell_int(r, tbl_int(r->obj, "status.currentReplicas", 0));
    tbl_cell_age(r);
}

/* ---- coordination, discovery, scheduling, policy ---- */

void tbl_lease_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_str(r, tbl_str(r->obj, "spec.holderIdentity"));
    tbl_cell_age(r);
}

void tbl_endpointslice_cells(struct tbl_row *r)
{
    json_t *v;
    size_t i, j;
    tbl_cell_name(r);
    tbl_cell_str(r, tbl_str(r->obj, "addressType"));
    struct tbl_list ports = {.max = 3};
    json_array_foreach(tbl_at(r->obj, "ports"), i, v) {
        if (tbl_has(v, "port"))
            tbl_list_add(&ports, "%lld", (long long)tbl_int(v, "port", 0));
        else if (tbl_has(v, "name"))
            tbl_list_add(&ports, "%s", tbl_str(v, "name"));
        else
            tbl_list_add(&ports, "*");
    }
    tbl_cell_list(r, &ports, "<unset>");
    struct tbl_list addrs = {.max = 3};
    json_array_foreach(tbl_at(r->obj, "endpoints"), i, v) {
        json_t *a;
        json_array_foreach(tbl_at(v, "addresses"), j, a) {
            tbl_list_add(&addrs, "%s", json_is_string(a) ? json_string_value(a) : "");
        }
    }
    tbl_cell_list(r, &addrs, "<unset>");
    tbl_cell_age(r);
}

void tbl_priorityclass_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_int(r, tbl_int(r->obj, "value", 0));
    tbl_cell_bool(r, tbl_true(r->obj, "globalDefault"));
    tbl_cell_age(r);
    tbl_cell_str(r, tbl_str_or(r->obj, "preemptionPolicy", "PreemptLowerPriority"));
}

/* printStorageClass */
void tbl_storageclass_cells(struct tbl_row *r)
{
    json_t *ann = tbl_at(r->obj, "metadata.annotations");
    /* Annotation keys hold dots: looked up directly, not as tbl paths. */
    const char *keys[] = {"storageclass.kubernetes.io/is-default-class",
                          "storageclass.beta.kubernetes.io/is-default-class"};
    bool is_default = false;
    for (size_t i = 0; i < 2; i++)
        is_default |= json_is_string(json_object_get(ann, keys[i])) &&
                      strcmp(json_string_value(json_object_get(ann, keys[i])), "true") == 0;
    tbl_cell_fmt(r, "%s%s", tbl_str(r->obj, "metadata.name"), is_default ? " (default)" : "");
    tbl_cell_str(r, tbl_str(r->obj, "provisioner"));
    tbl_cell_str(r, tbl_str_or(r->obj, "reclaimPolicy", "Delete"));
    tbl_cell_str(r, tbl_str_or(r->obj, "volumeBindingMode", "Immediate"));
    tbl_cell_str(r, tbl_true(r->obj, "allowVolumeExpansion") ? "true" : "false");
    tbl_cell_age(r);
}

static void cell_int_or_string(struct tbl_row *r, const char *path)
{
    char buf[64];
    json_t *v = tbl_at(r->obj, path);
    if (!v)
        snprintf(buf, sizeof buf, "N/A");
    else
        tbl_int_or_string(buf, sizeof buf, v);
    tbl_cell_str(r, buf);
}

void tbl_pdb_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    cell_int_or_string(r, "spec.minAvailable");
    cell_int_or_string(r, "spec.maxUnavailable");
    tbl_cell_int(r, tbl_int(r->obj, "status.disruptionsAllowed", 0));
    tbl_cell_age(r);
}
