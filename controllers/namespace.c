/* namespace.c — the namespace controller: a deleted namespace empties and
 * then goes, as in Kubernetes.
 *
 * DELETE of a namespace only marks it (deletionTimestamp, status.phase
 * Terminating; write.c), and the API refuses new objects in it from then
 * on. This controller then deletes every object of every namespaced
 * resource in it (propagationPolicy Background), and once nothing is left
 * it clears spec.finalizers ("kubernetes") and deletes the namespace again,
 * which now removes it. A namespace whose content is still going is looked
 * at again after a backoff and whenever something in it changes. */
#include <stdio.h>
#include <string.h>

#include "controllers/controllers.h"
#include "util/util.h"

#define NSC "namespace"

static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    bool is_ns = e->o.resource_len == 10 && memcmp(e->o.resource, "namespaces", 10) == 0;
    char name[256];
    if (is_ns && e->type != STORE_DELETED &&
        json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp")) {
        snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
        ctl_enqueue(c, NSC, "namespaces", "", name);
    } else if (!is_ns && e->type == STORE_DELETED && e->o.ns_len) {
        /* The last object of a terminating namespace may just have gone. */
        snprintf(name, sizeof name, "%.*s", (int)e->o.ns_len, e->o.ns);
        struct store_read r;
        struct store_obj o;
        if (store_read_begin(ctl_store(c), &r) != 0)
            return;
        bool marked = false;
        if (store_get(&r, "namespaces", "", name, &o) == 0) {
            /* A terminating namespace has "deletionTimestamp" in its body. */
            marked = memmem(o.obj, o.obj_len, "deletionTimestamp", 17) != NULL;
        }
        store_read_end(&r);
        if (marked)
            ctl_enqueue(c, NSC, "namespaces", "", name);
    }
}

struct content {
    size_t left;
    size_t failed;
    char first_failure[512];
};

static void delete_one(struct ctl *c, void *arg, const char *resource, const struct store_obj *o,
                       json_t *obj)
{
    struct content *ct = arg;
    ct->left++;
    if (json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp"))
        return; /* already going */
    char path[1024], ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)o->ns_len, o->ns);
    snprintf(name, sizeof name, "%.*s", (int)o->name_len, o->name);
    if (!ctl_object_path(resource, ns, name, path, sizeof path))
        return;
    json_t *opts = json_pack("{s:s}", "propagationPolicy", "Background");
    int st = ctl_api(c, "DELETE", path, NULL, opts, NULL);
    json_decref(opts);
    if (st != 200 && st != 202 && st != 404 && !ct->failed++)
        snprintf(ct->first_failure, sizeof ct->first_failure, "%s %s/%s: HTTP %d", resource, ns,
                 name, st);
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s", name);
    json_t *obj = NULL;
    int st = ctl_api(c, "GET", path, NULL, NULL, &obj);
    if (st == 404) {
        json_decref(obj);
        return true;
    }
    json_t *md = json_object_get(obj, "metadata");
    if (st != 200 || !json_object_get(md, "deletionTimestamp")) {
        json_decref(obj);
        return st == 200;
    }
    struct content ct = {0};
    ctl_each_object(c, name, NULL, delete_one, &ct);
    if (ct.failed)
        ctl_event(c, "namespaces", obj, "Warning", "NamespaceDeletionContentFailure",
                  "failed to delete %zu object(s) of the namespace, first %s", ct.failed,
                  ct.first_failure);
    if (ct.left) {
        json_decref(obj);
        return false; /* again after a backoff, or when something in it goes */
    }
    /* Empty: clear the namespace's own finalizer, then delete it for good. */
    json_t *spec = json_object_get(obj, "spec");
    if (json_array_size(json_object_get(spec, "finalizers"))) {
        json_object_set_new(spec, "finalizers", json_array());
        st = ctl_api(c, "PUT", path, NULL, obj, NULL);
        if (st != 200) {
            json_decref(obj);
            return st == 404;
        }
    }
    json_decref(obj);
    st = ctl_api(c, "DELETE", path, NULL, NULL, NULL);
    LOG_INFO("namespace controller: namespace %s emptied and deleted (%d)", name, st);
    return st == 200 || st == 202 || st == 404;
}

static int find_marked(void *arg, const struct store_obj *o)
{
    /* A terminating namespace has "deletionTimestamp" in its body. */
    if (ctl_obj_has(o, "deletionTimestamp")) {
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)o->name_len, o->name);
        ctl_enqueue(arg, NSC, "namespaces", "", name);
    }
    return 0;
}

static void resync(struct ctl *c)
{
    struct store_read r;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return;
    store_list(&r, "namespaces", NULL, find_marked, c);
    store_read_end(&r);
}

/* Namespaces marked for deletion; deletions inside namespaces. */
static bool wants(const struct store_event *e)
{
    if (e->o.resource_len == 10 && memcmp(e->o.resource, "namespaces", 10) == 0)
        return e->type != STORE_DELETED && ctl_obj_has(&e->o, "deletionTimestamp");
    return e->type == STORE_DELETED && e->o.ns_len;
}

const struct ctl_def ctl_namespace = {
    .name = NSC,
    .component = "namespace-controller",
    .wants = wants,
    .on_change = on_change,
    .sync = sync,
    .resync = resync,
};
