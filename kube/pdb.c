/* pdb.c — what a PodDisruptionBudget means, without I/O: which pods it
 * covers and its DisruptionAllowed condition. The eviction subresource
 * (server/eviction.c) and the disruption controller (controllers/
 * disruption.c) both decide by these rules, so that they never disagree.
 *
 * Selection follows Kubernetes' getPodDisruptionBudgets and the
 * controller's getPodsForPdb: a budget covers the pods of its own
 * namespace that its spec.selector matches, read by
 * metav1.LabelSelectorAsSelector, so a missing selector covers nothing and
 * an empty one ({}) every pod of the namespace; a selector that does not
 * parse covers nothing. The condition follows component-helpers'
 * UpdateDisruptionAllowedCondition and ConditionsAreUpToDate, with
 * apimachinery's SetStatusCondition (lastTransitionTime moves only when
 * the status does). */
#include <assert.h>
#include <string.h>

#include "kube/kube.h"

#define PDB_CONDITION "DisruptionAllowed"

static const char *pdb_str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

bool kube_pdb_selects(json_t *pdb, json_t *pod)
{
    json_t *md = json_object_get(pdb, "metadata"), *pmd = json_object_get(pod, "metadata");
    if (strcmp(pdb_str(md, "namespace"), pdb_str(pmd, "namespace")) != 0)
        return false;
    char err[128];
    struct kube_selector *sel =
        kube_selector_from_json(json_object_get(json_object_get(pdb, "spec"), "selector"), err,
                                sizeof err);
    bool match = sel && kube_selector_match(sel, json_object_get(pmd, "labels"));
    kube_selector_free(sel);
    return match;
}

/* The DisruptionAllowed condition in status.conditions, or NULL. */
static json_t *pdb_condition(json_t *pdb)
{
    json_t *conds = json_object_get(json_object_get(pdb, "status"), "conditions"), *cd;
    size_t i;
    json_array_foreach(conds, i, cd) if (strcmp(pdb_str(cd, "type"), PDB_CONDITION) == 0) return cd;
    return NULL;
}

static json_int_t pdb_int(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* The condition's status and reason for the budget's disruptionsAllowed. */
static void pdb_condition_want(json_t *status, const char **cstatus, const char **reason)
{
    bool allowed = pdb_int(status, "disruptionsAllowed") > 0;
    *cstatus = allowed ? "True" : "False";
    *reason = allowed ? "SufficientPods" : "InsufficientPods";
}

bool kube_pdb_conditions_current(json_t *pdb)
{
    json_t *status = json_object_get(pdb, "status"), *cd = pdb_condition(pdb);
    if (!cd || pdb_int(status, "observedGeneration") !=
                   pdb_int(json_object_get(pdb, "metadata"), "generation"))
        return false;
    const char *cstatus, *reason;
    pdb_condition_want(status, &cstatus, &reason);
    return strcmp(pdb_str(cd, "status"), cstatus) == 0 && strcmp(pdb_str(cd, "reason"), reason) == 0;
}

bool kube_pdb_condition_update(json_t *pdb, const char *now)
{
    json_t *status = json_object_get(pdb, "status");
    assert(json_is_object(status) && now && *now);
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    const char *cstatus, *reason;
    pdb_condition_want(status, &cstatus, &reason);
    json_int_t gen = pdb_int(status, "observedGeneration");
    json_t *cd = pdb_condition(pdb);
    if (!cd) {
        json_array_append_new(conds, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type",
                                               PDB_CONDITION, "status", cstatus,
                                               "observedGeneration", gen, "lastTransitionTime",
                                               now, "reason", reason, "message", ""));
        return true;
    }
    bool changed = false;
    if (strcmp(pdb_str(cd, "status"), cstatus) != 0) {
        json_object_set_new(cd, "status", json_string(cstatus));
        json_object_set_new(cd, "lastTransitionTime", json_string(now));
        changed = true;
    }
    if (strcmp(pdb_str(cd, "reason"), reason) != 0) {
        json_object_set_new(cd, "reason", json_string(reason));
        changed = true;
    }
    if (*pdb_str(cd, "message")) {
        json_object_set_new(cd, "message", json_string(""));
        changed = true;
    }
    if (pdb_int(cd, "observedGeneration") != gen) {
        json_object_set_new(cd, "observedGeneration", json_integer(gen));
        changed = true;
    }
    return changed;
}
