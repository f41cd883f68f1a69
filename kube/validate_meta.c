/* validate_meta.c — ObjectMeta and label selectors, as every kind has them.
 *
 * apimachinery's ValidateObjectMeta and ValidateObjectMetaUpdate (name or
 * generateName by the kind's name rule, namespace scope, labels,
 * annotations and their total size, owner references, finalizers, and the
 * identity fields an update may not change), and meta/v1's label selector
 * validation with the LabelSelectorAsSelector questions workloads ask:
 * whether a selector is empty, parses, and selects its pod template.
 *
 * How it works: kube_validate calls kv_check_object_meta (and, on update,
 * kv_check_object_meta_update) before the kind's own rules; the selector
 * functions are called by the workload and Service checks at their own
 * paths, and hand the matching to kube_selector. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "kube/validate_internal.h"

/* ==== ObjectMeta (apimachinery/pkg/api/validation/objectmeta.go) ==== */

/* Pushes child when set; the mark pops either way. */
static size_t vp_enter(struct vctx *c, const char *child)
{
    return child ? kv_path_child(c, child) : c->len;
}

/* ValidateLabels: key and value errors both at the map's path. */
void kv_check_labels(struct vctx *c, const char *child, json_t *labels)
{
    if (!json_is_object(labels))
        return;
    size_t mark = vp_enter(c, child);
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v) {
        struct msgs km = {0}, vm = {0};
        kv_is_qualified_name(k, &km);
        kv_invalid_each(c, NULL, k, &km);
        const char *val = json_is_string(v) ? json_string_value(v) : "";
        kv_is_label_value(val, &vm);
        kv_invalid_each(c, NULL, val, &vm);
    }
    kv_path_pop(c, mark);
}

#define ANNOTATIONS_MAX_BYTES (256 * 1024)

void kv_check_annotations(struct vctx *c, const char *child, json_t *ann)
{
    if (!json_is_object(ann))
        return;
    size_t mark = vp_enter(c, child), total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(ann, k, v) {
        /* A qualified name, except that case does not matter. */
        char *lower = xstrdup(k);
        for (char *p = lower; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        struct msgs ms = {0};
        kv_is_qualified_name(lower, &ms);
        kv_invalid_each(c, NULL, k, &ms);
        free(lower);
        total += strlen(k) + (json_is_string(v) ? json_string_length(v) : 0);
    }
    if (total > ANNOTATIONS_MAX_BYTES)
        kv_too_long(c, NULL, ANNOTATIONS_MAX_BYTES);
    kv_path_pop(c, mark);
}

/* Events may not own anything: the garbage collector would chase them. */
static bool banned_owner(const char *api_version, const char *kind)
{
    return strcmp(kind, "Event") == 0 &&
           (strcmp(api_version, "v1") == 0 || strcmp(api_version, "events.k8s.io/v1") == 0);
}

static void check_owner_reference(struct vctx *c, json_t *ref)
{
    const char *api_version = jstr0(ref, "apiVersion"), *slash = strchr(api_version, '/');
    const char *version = slash ? slash + 1 : api_version;
    if (!*version || strchr(version, '/'))
        kv_invalid(c, "apiVersion", api_version, "version must not be empty");
    if (!*jstr0(ref, "kind"))
        kv_invalid(c, "kind", "", "kind must not be empty");
    if (!*jstr0(ref, "name"))
        kv_invalid(c, "name", "", "name must not be empty");
    if (!*jstr0(ref, "uid"))
        kv_invalid(c, "uid", "", "uid must not be empty");
    if (banned_owner(api_version, jstr0(ref, "kind"))) {
        char detail[128];
        snprintf(detail, sizeof detail, "%s, Kind=Event is disallowed from being an owner",
                 strcmp(api_version, "v1") == 0 ? "/v1" : "events.k8s.io/v1");
        kv_invalid_go(c, NULL, kv_go_json, ref, detail);
    }
}

static void check_owner_references(struct vctx *c, json_t *refs)
{
    if (!refs)
        return;
    size_t mark = kv_path_child(c, "ownerReferences");
    char first[300] = "";
    size_t i;
    json_t *ref;
    json_array_foreach(refs, i, ref) {
        check_owner_reference(c, ref);
        if (!jtrue(ref, "controller"))
            continue;
        char cur[300];
        snprintf(cur, sizeof cur, "%.140s/%.140s", jstr0(ref, "kind"), jstr0(ref, "name"));
        if (!first[0]) {
            snprintf(first, sizeof first, "%s", cur);
            continue;
        }
        char detail[700];
        snprintf(detail, sizeof detail,
                 "Only one reference can have Controller set to true. Found \"true\" in "
                 "references for %s and %s",
                 first, cur);
        kv_invalid_go(c, NULL, kv_go_json, refs, detail);
    }
    kv_path_pop(c, mark);
}

static void check_finalizers(struct vctx *c, json_t *finalizers)
{
    static const char *const standard[] = {"kubernetes", "orphan", "foregroundDeletion", NULL};
    if (!finalizers)
        return;
    size_t mark = kv_path_child(c, "finalizers");
    bool orphan = false, foreground = false;
    size_t i;
    json_t *f;
    json_array_foreach(finalizers, i, f) {
        const char *name = json_is_string(f) ? json_string_value(f) : "";
        kv_check_qualified_name(c, NULL, name);
        orphan |= strcmp(name, "orphan") == 0;
        foreground |= strcmp(name, "foregroundDeletion") == 0;
        if (!strchr(name, '/') && !str_in(name, standard)) {
            size_t m = kv_path_index(c, i);
            kv_invalid(c, NULL, name,
                       "name is neither a standard finalizer name nor is it fully qualified");
            kv_path_pop(c, m);
        }
    }
    if (orphan && foreground)
        kv_invalid_go(c, NULL, kv_go_strings, finalizers,
                      "finalizer orphan and foregroundDeletion cannot be both set");
    kv_path_pop(c, mark);
}

/* ValidateObjectMeta: name (or generateName), namespace scope, labels,
 * annotations, owner references, finalizers. */
void kv_check_object_meta(struct vctx *c, json_t *md, bool namespaced, name_fn name_rule)
{
    size_t mark = kv_path_child(c, "metadata");
    struct msgs ms = {0};
    const char *generate = jstr0(md, "generateName"), *name = jstr0(md, "name");
    if (*generate) {
        name_rule(generate, true, &ms);
        kv_invalid_each(c, "generateName", generate, &ms);
    }
    if (!*name) {
        kv_required(c, "name", "name or generateName is required");
    } else {
        memset(&ms, 0, sizeof ms);
        name_rule(name, false, &ms);
        kv_invalid_each(c, "name", name, &ms);
    }
    const char *ns = jstr0(md, "namespace");
    if (namespaced && !*ns) {
        kv_required(c, "namespace", "");
    } else if (namespaced) {
        memset(&ms, 0, sizeof ms);
        kv_name_label(ns, false, &ms);
        kv_invalid_each(c, "namespace", ns, &ms);
    } else if (*ns) {
        kv_forbidden(c, "namespace", "not allowed on this type");
    }
    kv_check_nonnegative(c, md, "generation");
    kv_check_labels(c, "labels", jget(md, "labels"));
    kv_check_annotations(c, "annotations", jget(md, "annotations"));
    check_owner_references(c, jarr(md, "ownerReferences"));
    check_finalizers(c, jarr(md, "finalizers"));
    kv_path_pop(c, mark);
}

/* ValidateImmutableField for a string member. */
void kv_check_immutable_str(struct vctx *c, const char *child, json_t *cur, json_t *old)
{
    const char *now = jstr0(cur, child), *was = jstr0(old, child);
    if (strcmp(now, was) != 0)
        kv_invalid(c, child, now, kv_immutable_msg);
}

/* ValidateObjectMetaUpdate: identity and creation are immutable; a
 * deleted object takes no new finalizers. */
void kv_check_object_meta_update(struct vctx *c, json_t *md, json_t *old_md)
{
    size_t mark = kv_path_child(c, "metadata");
    static const char *const immutable[] = {"name", "namespace", "uid", "creationTimestamp"};
    for (size_t i = 0; i < sizeof immutable / sizeof immutable[0]; i++)
        kv_check_immutable_str(c, immutable[i], md, old_md);
    json_t *added = json_array();
    json_t *now = jarr(md, "finalizers"), *was = jarr(old_md, "finalizers");
    size_t i, j;
    json_t *f, *g;
    json_array_foreach(now, i, f) {
        bool found = false;
        json_array_foreach(was, j, g)
            found |= json_equal(f, g);
        if (!found && json_is_string(f))
            json_array_append(added, f);
    }
    if (jstr(old_md, "deletionTimestamp") && json_array_size(added)) {
        struct ubuf d = {0};
        ubuf_appendf(&d, "no new finalizers can be added if the object is being deleted, found "
                         "new finalizers ");
        kv_go_strings(&d, added);
        kv_forbidden(c, "finalizers", d.data);
        ubuf_free(&d);
    }
    json_decref(added);
    kv_path_pop(c, mark);
}

/* ==== label selectors (meta/v1 validation and LabelSelectorAsSelector) ==== */

static const char *const selector_ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};

static void check_selector_requirement(struct vctx *c, json_t *req)
{
    const char *op = jstr0(req, "operator");
    size_t nvalues = jsize(req, "values");
    if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) {
        if (nvalues == 0)
            kv_required(c, "values", "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0) {
        if (nvalues > 0)
            kv_forbidden(c, "values",
                         "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else {
        kv_invalid(c, "operator", op, "not a valid selector operator");
    }
    kv_check_qualified_name(c, "key", jstr0(req, "key"));
    json_t *values = jarr(req, "values");
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        struct msgs ms = {0};
        kv_is_label_value(s, &ms);
        size_t mark = kv_path_child(c, "values"), m2 = kv_path_index(c, i);
        kv_invalid_each(c, NULL, s, &ms);
        kv_path_pop(c, m2);
        kv_path_pop(c, mark);
    }
}

/* ValidateLabelSelector at child (nothing when the selector is unset). */
void kv_check_label_selector(struct vctx *c, const char *child, json_t *sel)
{
    if (!sel)
        return;
    size_t mark = vp_enter(c, child);
    kv_check_labels(c, "matchLabels", jget(sel, "matchLabels"));
    json_t *exprs = jarr(sel, "matchExpressions");
    size_t i;
    json_t *req;
    json_array_foreach(exprs, i, req) {
        size_t m1 = kv_path_child(c, "matchExpressions"), m2 = kv_path_index(c, i);
        check_selector_requirement(c, req);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
    kv_path_pop(c, mark);
}

bool kv_selector_is_empty(json_t *sel)
{
    return sel && jsize(sel, "matchLabels") == 0 && jsize(sel, "matchExpressions") == 0;
}

/* Whether LabelSelectorAsSelector accepts sel (every requirement valid). */
bool kv_selector_parses(json_t *sel)
{
    struct msgs ms = {0};
    const char *k;
    json_t *v;
    json_object_foreach(jobj(sel, "matchLabels"), k, v) {
        kv_is_qualified_name(k, &ms);
        kv_is_label_value(json_is_string(v) ? json_string_value(v) : "", &ms);
    }
    size_t i, j;
    json_t *req, *val;
    json_array_foreach(jarr(sel, "matchExpressions"), i, req) {
        const char *op = jstr0(req, "operator");
        size_t n = jsize(req, "values");
        if (!str_in(op, selector_ops))
            return false;
        if ((n == 0) != (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0))
            return false;
        kv_is_qualified_name(jstr0(req, "key"), &ms);
        json_array_foreach(jarr(req, "values"), j, val)
            kv_is_label_value(json_is_string(val) ? json_string_value(val) : "", &ms);
    }
    return ms.n == 0;
}

/* Whether sel selects labels; an unset selector selects nothing
 * (kube/selector.c, as LabelSelectorAsSelector). */
bool kv_selector_matches(json_t *sel, json_t *labels)
{
    char err[256];
    struct kube_selector *ks = kube_selector_from_json(sel, err, sizeof err);
    bool m = ks && kube_selector_match(ks, labels);
    kube_selector_free(ks);
    return m;
}

/* A workload's selector against its template, at "template.metadata.labels"
 * under the current path: an empty selector selects everything, an unset
 * one nothing (LabelSelectorAsSelector's Everything and Nothing). */
void kv_check_selector_selects_template(struct vctx *c, json_t *sel, json_t *template)
{
    if (kv_selector_is_empty(sel))
        return;
    json_t *labels = jobj(jobj(template, "metadata"), "labels");
    if (kv_selector_matches(sel, labels))
        return;
    size_t m1 = kv_path_child(c, "template"), m2 = kv_path_child(c, "metadata");
    kv_invalid_go(c, "labels", kv_go_map, labels, "`selector` does not match template `labels`");
    kv_path_pop(c, m2);
    kv_path_pop(c, m1);
}
