/* serviceaccount.c — the service account controller: every active
 * namespace has a ServiceAccount named "default", as in Kubernetes
 * (ServiceAccountsController of kube-controller-manager).
 *
 * A namespace is looked at when it appears or changes and when a
 * ServiceAccount named "default" goes; the sync creates the account if the
 * namespace is active (not terminating) and has none. A deleted "default"
 * comes back, as it does on Kubernetes. A namespace being deleted gets
 * none: the API refuses new objects in it anyway, and the namespace
 * controller is emptying it. */
#include <stdio.h>
#include <string.h>

#include "controllers/controllers.h"
#include "util/util.h"

#define SAC "serviceaccount"
#define SA_DEFAULT "default"

static bool is_default_sa(const struct store_event *e)
{
    return ctl_is_resource(&e->o, "serviceaccounts") && e->o.name_len == strlen(SA_DEFAULT) &&
           memcmp(e->o.name, SA_DEFAULT, e->o.name_len) == 0;
}

/* Namespaces that appear or change; a "default" ServiceAccount that goes. */
static bool wants(const struct store_event *e)
{
    if (ctl_is_resource(&e->o, "namespaces"))
        return e->type != STORE_DELETED && !ctl_obj_has(&e->o, "deletionTimestamp");
    return e->type == STORE_DELETED && is_default_sa(e);
}

static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    (void)obj;
    char ns[256];
    if (ctl_is_resource(&e->o, "namespaces"))
        snprintf(ns, sizeof ns, "%.*s", (int)e->o.name_len, e->o.name);
    else
        snprintf(ns, sizeof ns, "%.*s", (int)e->o.ns_len, e->o.ns);
    ctl_enqueue(c, SAC, "namespaces", "", ns);
}

/* Whether namespace name is active and lacks its "default" account, read
 * from this replica. */
static bool needs_default(struct ctl *c, const char *name)
{
    struct store_read r;
    struct store_obj o;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return false;
    bool active = store_get(&r, "namespaces", "", name, &o) == 0 &&
                  !ctl_obj_has(&o, "deletionTimestamp");
    bool missing = active && store_get(&r, "serviceaccounts", name, SA_DEFAULT, &o) != 0;
    store_read_end(&r);
    return missing;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    (void)resource;
    (void)ns;
    if (!needs_default(c, name))
        return true;
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/serviceaccounts", name);
    json_t *sa = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "ServiceAccount",
                           "metadata", "name", SA_DEFAULT);
    int st = ctl_api(c, "POST", path, NULL, sa, NULL);
    json_decref(sa);
    /* 409: made meanwhile; 403/404: the namespace is going or gone. */
    return st == 201 || st == 409 || st == 403 || st == 404;
}

/* Every active namespace; its sync finds out whether it lacks one. */
static int queue_namespace(void *arg, const struct store_obj *o)
{
    if (!ctl_obj_has(o, "deletionTimestamp")) {
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)o->name_len, o->name);
        ctl_enqueue(arg, SAC, "namespaces", "", name);
    }
    return 0;
}

static void resync(struct ctl *c)
{
    struct store_read r;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return;
    store_list(&r, "namespaces", NULL, queue_namespace, c);
    store_read_end(&r);
}

const struct ctl_def ctl_service_account = {
    .name = SAC,
    .component = "service-account-controller",
    .wants = wants,
    .on_change = on_change,
    .sync = sync,
    .resync = resync,
};
