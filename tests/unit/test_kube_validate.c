/* test_kube_validate.c — unit tests for kube/validate.c (Kubernetes'
 * validation) and kube/check.c (the schema's decoding rules).
 *
 * Objects go through what the server runs on a write: kube_defaults_apply,
 * then kube_validate (with the defaulted stored object on update). A test
 * names the field and the exact message Kubernetes 1.32 gives; on a
 * mismatch every cause is printed. Test bodies are written with single
 * quotes, which parse() turns into double quotes, so they stay readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kube/kube.h"
#include "util/util.h"

/* A cmocka test function; no test uses the state. */
#define TEST(name) static void name(void **state __attribute__((unused)))

/* ---- Kubernetes' long messages ---- */

#define LABEL_MSG                                                                                  \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define SUBDOMAIN_MSG                                                                              \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define DNS1035_MSG                                                                                \
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "   \
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "           \
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
#define QNAME_MSG                                                                                  \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "         \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define LABEL_VALUE_MSG                                                                            \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is "                                       \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
#define CONFIG_KEY_MSG                                                                             \
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "           \
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "                    \
    "'[-._a-zA-Z0-9]+')"

/* ---- object skeletons ---- */

#define META "'metadata':{'name':'x','namespace':'ns'}"
#define CONTAINER "{'name':'c','image':'nginx:1'}"
#define POD_SPEC "{'containers':[" CONTAINER "]}"
#define POD(spec) "{'apiVersion':'v1','kind':'Pod'," META ",'spec':" spec "}"
#define TEMPLATE(spec) "{'metadata':{'labels':{'app':'x'}},'spec':" spec "}"
#define SELECTOR "{'matchLabels':{'app':'x'}}"
#define DEPLOYMENT(extra)                                                                          \
    "{'apiVersion':'apps/v1','kind':'Deployment'," META ",'spec':{'selector':" SELECTOR            \
    ",'template':" TEMPLATE(POD_SPEC) extra "}}"
#define JOB_TEMPLATE "{'spec':{'restartPolicy':'Never','containers':[" CONTAINER "]}}"
#define JOB(extra)                                                                                 \
    "{'apiVersion':'batch/v1','kind':'Job'," META ",'spec':{'template':" JOB_TEMPLATE extra "}}"
#define CRONJOB(schedule, extra)                                                                   \
    "{'apiVersion':'batch/v1','kind':'CronJob'," META ",'spec':{'schedule':'" schedule "',"        \
    "'jobTemplate':{'spec':{'template':" JOB_TEMPLATE "}}" extra "}}"
#define SERVICE(spec) "{'apiVersion':'v1','kind':'Service'," META ",'spec':" spec "}"

/* ---- helpers ---- */

static json_t *parse(const char *s)
{
    char *copy = strdup(s);
    for (char *p = copy; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t err;
    json_t *v = json_loads(copy, JSON_DECODE_ANY, &err);
    if (!v)
        fail_msg("bad test JSON: %s: %s", err.text, copy);
    free(copy);
    return v;
}

static void print_causes(json_t *causes)
{
    size_t i;
    json_t *c;
    json_array_foreach(causes, i, c) {
        print_error("  %s: %s [%s]\n", json_string_value(json_object_get(c, "field")),
                    json_string_value(json_object_get(c, "message")),
                    json_string_value(json_object_get(c, "reason")));
    }
}

/* Defaults, then validation: what the server does with a write. */
static json_t *run(const char *group, const char *kind, const char *body, const char *old_body)
{
    json_t *obj = parse(body), *old = old_body ? parse(old_body) : NULL;
    kube_defaults_apply(group, kind, obj);
    if (old)
        kube_defaults_apply(group, kind, old);
    json_t *causes = kube_validate(group, kind, obj, old);
    json_decref(obj);
    json_decref(old);
    return causes;
}

static void expect_valid(const char *group, const char *kind, const char *body, const char *old)
{
    json_t *causes = run(group, kind, body, old);
    if (causes) {
        print_error("%s %s: expected valid, got:\n", group, kind);
        print_causes(causes);
        json_decref(causes);
        fail();
    }
}

/* A cause at field with message (and reason, when given) must be there. */
static void expect_cause(const char *group, const char *kind, const char *body, const char *old,
                         const char *field, const char *message, const char *reason)
{
    json_t *causes = run(group, kind, body, old);
    size_t i;
    json_t *c;
    json_array_foreach(causes, i, c) {
        const char *f = json_string_value(json_object_get(c, "field"));
        const char *m = json_string_value(json_object_get(c, "message"));
        const char *r = json_string_value(json_object_get(c, "reason"));
        if (strcmp(f, field) == 0 && strcmp(m, message) == 0 &&
            (!reason || strcmp(r, reason) == 0)) {
            json_decref(causes);
            return;
        }
    }
    print_error("%s %s: no cause\n  %s: %s\namong:\n", group, kind, field, message);
    print_causes(causes);
    json_decref(causes);
    fail();
}

static void expect_error(const char *group, const char *kind, const char *body, const char *field,
                         const char *message)
{
    expect_cause(group, kind, body, NULL, field, message, NULL);
}

static void expect_update_error(const char *group, const char *kind, const char *body,
                                const char *old, const char *field, const char *message)
{
    expect_cause(group, kind, body, old, field, message, NULL);
}

/* Like expect_cause, but message need only start with prefix. */
static void expect_prefix(const char *group, const char *kind, const char *body, const char *old,
                          const char *field, const char *prefix)
{
    json_t *causes = run(group, kind, body, old);
    size_t i;
    json_t *c;
    json_array_foreach(causes, i, c) {
        const char *f = json_string_value(json_object_get(c, "field"));
        const char *m = json_string_value(json_object_get(c, "message"));
        if (strcmp(f, field) == 0 && strncmp(m, prefix, strlen(prefix)) == 0) {
            json_decref(causes);
            return;
        }
    }
    print_error("%s %s: no cause\n  %s: %s...\namong:\n", group, kind, field, prefix);
    print_causes(causes);
    json_decref(causes);
    fail();
}

static size_t count_causes(const char *group, const char *kind, const char *body, const char *old)
{
    json_t *causes = run(group, kind, body, old);
    size_t n = json_array_size(causes);
    json_decref(causes);
    return n;
}

/* ==== every kind: a valid object passes, on create and on update ==== */

static const struct {
    const char *group, *kind, *body;
} valid_objects[] = {
    {"", "Namespace", "{'metadata':{'name':'team-a'}}"},
    {"", "Node",
     "{'metadata':{'name':'node-1.example'},'spec':{'podCIDRs':['10.1.0.0/24'],"
     "'taints':[{'key':'dedicated','value':'gpu','effect':'NoSchedule'}]}}"},
    {"", "Pod",
     POD("{'initContainers':[{'name':'init','image':'busybox'}],"
         "'containers':[{'name':'web','image':'nginx:1.25','ports':[{'name':'http','containerPort':"
         "80}],"
         "'env':[{'name':'A','value':'1'},{'name':'N','valueFrom':{'fieldRef':{'fieldPath':'"
         "metadata.name'}}}],"
         "'envFrom':[{'configMapRef':{'name':'cm'}}],"
         "'resources':{'requests':{'cpu':'100m','memory':'64Mi'},'limits':{'cpu':'1','memory':'"
         "128Mi'}},"
         "'volumeMounts':[{'name':'data','mountPath':'/data'},{'name':'conf','mountPath':'/etc/"
         "c','subPath':'c'}],"
         "'livenessProbe':{'httpGet':{'port':'http'}},'readinessProbe':{'tcpSocket':{'port':80}}}],"
         "'volumes':[{'name':'data'},{'name':'conf','configMap':{'name':'cm'}}],"
         "'tolerations':[{'key':'k','operator':'Exists','effect':'NoExecute','tolerationSeconds':"
         "30}],"
         "'nodeSelector':{'disk':'ssd'},'hostname':'web','serviceAccountName':'default'}")},
    {"", "Service",
     SERVICE("{'selector':{'app':'x'},'ports':[{'name':'http','port':80,'targetPort':'http'},"
             "{'name':'https','port':443}]}")},
    {"", "Service", SERVICE("{'clusterIP':'None','selector':{'app':'x'}}")},
    {"", "Service", SERVICE("{'type':'ExternalName','externalName':'db.example.com'}")},
    {"", "Service", SERVICE("{'type':'NodePort','ports':[{'port':80,'nodePort':30080}]}")},
    {"", "Endpoints",
     "{" META ",'subsets':[{'addresses':[{'ip':'10.1.2.3'}],'ports':[{'port':80}]}]}"},
    {"", "ConfigMap", "{" META ",'data':{'app.conf':'x','KEY_1':'y'},'binaryData':{'b':'AAE='}}"},
    {"", "Secret", "{" META ",'data':{'password':'cGFzcw=='},'stringData':{'user':'admin'}}"},
    {"", "Secret",
     "{" META ",'type':'kubernetes.io/tls','data':{'tls.crt':'YQ==','tls.key':'Yg=='}}"},
    {"", "PersistentVolume",
     "{'metadata':{'name':'pv1'},'spec':{'capacity':{'storage':'10Gi'},"
     "'accessModes':['ReadWriteOnce'],'hostPath':{'path':'/data'}}}"},
    {"", "PersistentVolumeClaim",
     "{" META
     ",'spec':{'accessModes':['ReadWriteOnce'],'resources':{'requests':{'storage':'1Gi'}}}}"},
    {"", "Event",
     "{" META ",'involvedObject':{'kind':'Pod','name':'p','namespace':'ns'},'reason':'Started'}"},
    {"", "ServiceAccount", "{" META "}"},
    {"apps", "Deployment", DEPLOYMENT("")},
    {"apps", "ReplicaSet",
     "{" META ",'spec':{'replicas':2,'selector':" SELECTOR ",'template':" TEMPLATE(POD_SPEC) "}}"},
    {"apps", "DaemonSet",
     "{" META
     ",'spec':{'selector':{'matchExpressions':[{'key':'app','operator':'In','values':['x','y']}]},"
     "'template':" TEMPLATE(POD_SPEC) "}}"},
    {"apps", "StatefulSet",
     "{" META ",'spec':{'serviceName':'x','selector':" SELECTOR
     ",'template':" TEMPLATE(POD_SPEC) ","
                                       "'volumeClaimTemplates':[{'metadata':{'name':'data'},'spec':"
                                       "{'accessModes':['ReadWriteOnce'],"
                                       "'resources':{'requests':{'storage':'1Gi'}}}}]}}"},
    {"apps", "ControllerRevision", "{" META ",'data':{'spec':{}},'revision':3}"},
    {"batch", "Job", JOB(",'backoffLimit':2,'completions':5,'parallelism':2")},
    {"batch", "Job", JOB(",'completionMode':'Indexed','completions':3")},
    {"batch", "CronJob", CRONJOB("*/5 * * * *", ",'concurrencyPolicy':'Forbid'")},
    {"batch", "CronJob", CRONJOB("@hourly", "")},
    {"autoscaling", "HorizontalPodAutoscaler",
     "{" META ",'spec':{'scaleTargetRef':{'apiVersion':'apps/v1','kind':'Deployment','name':'web'},"
     "'minReplicas':1,'maxReplicas':10,'behavior':{'scaleDown':{'stabilizationWindowSeconds':300}}}"
     "}"},
    {"coordination.k8s.io", "Lease",
     "{" META ",'spec':{'holderIdentity':'a','leaseDurationSeconds':15,'leaseTransitions':0}}"},
    {"discovery.k8s.io", "EndpointSlice",
     "{" META ",'addressType':'IPv4','endpoints':[{'addresses':['10.1.2.3'],'nodeName':'n1'}],"
     "'ports':[{'name':'http','port':80}]}"},
    {"scheduling.k8s.io", "PriorityClass", "{'metadata':{'name':'high'},'value':1000000}"},
    {"scheduling.k8s.io", "PriorityClass",
     "{'metadata':{'name':'system-node-critical'},'value':2000001000}"},
};

TEST(test_valid_objects)
{
    for (size_t i = 0; i < sizeof valid_objects / sizeof valid_objects[0]; i++) {
        expect_valid(valid_objects[i].group, valid_objects[i].kind, valid_objects[i].body, NULL);
        /* An unchanged object is a valid update. */
        expect_valid(valid_objects[i].group, valid_objects[i].kind, valid_objects[i].body,
                     valid_objects[i].body);
    }
    /* Kinds bosun does not validate give nothing. */
    assert_null(kube_validate("example.com", "Widget", NULL, NULL));
    assert_null(kube_validate(NULL, "Pod", NULL, NULL));
}

/* ==== metadata ==== */

TEST(test_meta_names)
{
    expect_cause("", "Pod", "{'metadata':{'namespace':'ns'},'spec':" POD_SPEC "}", NULL,
                 "metadata.name", "Required value: name or generateName is required",
                 "FieldValueRequired");
    expect_cause("", "Pod", "{'metadata':{'name':'Web_1','namespace':'ns'},'spec':" POD_SPEC "}",
                 NULL, "metadata.name", "Invalid value: \"Web_1\": " SUBDOMAIN_MSG,
                 "FieldValueInvalid");
    expect_error("", "Service",
                 "{'metadata':{'name':'1web','namespace':'ns'},'spec':{'clusterIP':'None'}}",
                 "metadata.name", "Invalid value: \"1web\": " DNS1035_MSG);
    expect_error("", "Namespace", "{'metadata':{'name':'a.b'}}", "metadata.name",
                 "Invalid value: \"a.b\": " LABEL_MSG);
    expect_error("apps", "StatefulSet", "{'metadata':{'name':'a.b','namespace':'ns'},'spec':{}}",
                 "metadata.name", "Invalid value: \"a.b\": " LABEL_MSG);
    /* Subdomains may have dots; 253 characters at most. */
    expect_valid("", "ConfigMap", "{'metadata':{'name':'a.b-c','namespace':'ns'}}", NULL);
    char body[600], name[300];
    memset(name, 'a', 254);
    name[254] = '\0';
    snprintf(body, sizeof body, "{'metadata':{'name':'%s','namespace':'ns'}}", name);
    expect_error("", "ConfigMap", body, "metadata.name",
                 "Invalid value: \""
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                 "\": must be no more than 253 characters");
    /* generateName may end in '-'; its rule is the name's. */
    expect_valid("", "ConfigMap",
                 "{'metadata':{'name':'cm-x1','generateName':'cm-','namespace':'ns'}}", NULL);
    expect_error("", "ConfigMap",
                 "{'metadata':{'name':'cm','generateName':'Cm-','namespace':'ns'}}",
                 "metadata.generateName", "Invalid value: \"Cm-\": " SUBDOMAIN_MSG);
}

/* Field paths: multi-digit indexes, keys, and a path too long for the
 * walk's buffer, which ends in "..." instead of being cut anywhere. */
TEST(test_field_paths)
{
    struct ubuf b = {0};
    ubuf_appendf(&b, "{'metadata':{'name':'p','namespace':'ns'},'spec':{'containers':[");
    for (int i = 0; i < 12; i++)
        ubuf_appendf(&b, "%s{'name':'c%d'%s}", i ? "," : "", i, i == 11 ? "" : ",'image':'x'");
    ubuf_appendf(&b, "]}}");
    ubuf_append(&b, "", 1);
    expect_error("", "Pod", b.data, "spec.containers[11].image", "Required value");
    ubuf_free(&b);
    char key[700];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    key[0] = '!';
    ubuf_appendf(&b, "{'metadata':{'name':'c','namespace':'ns'},'data':{'%s':'v'}}", key);
    ubuf_append(&b, "", 1);
    expect_prefix("", "ConfigMap", b.data, NULL, "data...", "Invalid value: \"!kkk");
    ubuf_free(&b);
}

TEST(test_meta_namespace)
{
    expect_cause("", "Pod", "{'metadata':{'name':'p'},'spec':" POD_SPEC "}", NULL,
                 "metadata.namespace", "Required value", "FieldValueRequired");
    expect_error("", "Pod", "{'metadata':{'name':'p','namespace':'Bad_NS'},'spec':" POD_SPEC "}",
                 "metadata.namespace", "Invalid value: \"Bad_NS\": " LABEL_MSG);
    expect_cause("", "Node", "{'metadata':{'name':'n','namespace':'ns'}}", NULL,
                 "metadata.namespace", "Forbidden: not allowed on this type",
                 "FieldValueForbidden");
    expect_error("", "ConfigMap", "{'metadata':{'name':'c','namespace':'ns','generation':-1}}",
                 "metadata.generation", "Invalid value: -1: must be greater than or equal to 0");
}

TEST(test_meta_labels_annotations)
{
    expect_error("", "ConfigMap",
                 "{'metadata':{'name':'c','namespace':'ns','labels':{'a/b/c':'x'}}}",
                 "metadata.labels",
                 "Invalid value: \"a/b/c\": a qualified name " QNAME_MSG
                 " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    expect_error("", "ConfigMap",
                 "{'metadata':{'name':'c','namespace':'ns','labels':{'Ex.com/a':'x'}}}",
                 "metadata.labels", "Invalid value: \"Ex.com/a\": prefix part " SUBDOMAIN_MSG);
    expect_error("", "ConfigMap", "{'metadata':{'name':'c','namespace':'ns','labels':{'/a':'x'}}}",
                 "metadata.labels", "Invalid value: \"/a\": prefix part must be non-empty");
    expect_error("", "ConfigMap", "{'metadata':{'name':'c','namespace':'ns','labels':{'a/':'x'}}}",
                 "metadata.labels", "Invalid value: \"a/\": name part must be non-empty");
    expect_error("", "ConfigMap", "{'metadata':{'name':'c','namespace':'ns','labels':{'a':'x y'}}}",
                 "metadata.labels", "Invalid value: \"x y\": " LABEL_VALUE_MSG);
    expect_error(
        "", "ConfigMap",
        "{'metadata':{'name':'c','namespace':'ns','labels':{'a':"
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'}}}",
        "metadata.labels",
        "Invalid value: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\": "
        "must be no more than 63 characters");
    expect_valid(
        "", "ConfigMap",
        "{'metadata':{'name':'c','namespace':'ns','labels':{'example.com/a':'','b':'B.1_x'},"
        "'annotations':{'Example.COM/Note':'anything at all \\n'}}}",
        NULL);
    expect_error("", "ConfigMap",
                 "{'metadata':{'name':'c','namespace':'ns','annotations':{'a b':'x'}}}",
                 "metadata.annotations", "Invalid value: \"a b\": name part " QNAME_MSG);
    /* 256 KiB of annotations in all, keys included. */
    size_t big = 256 * 1024;
    char *body = malloc(big + 200);
    int n = sprintf(body, "{'metadata':{'name':'c','namespace':'ns','annotations':{'k':'");
    memset(body + n, 'v', big);
    strcpy(body + n + big, "'}}}");
    expect_cause("", "ConfigMap", body, NULL, "metadata.annotations",
                 "Too long: may not be more than 262144 bytes", "FieldValueTooLong");
    body[n + big - 1] = '\'';
    strcpy(body + n + big, "}}}");
    expect_valid("", "ConfigMap", body, NULL);
    free(body);
}

TEST(test_meta_finalizers_owners)
{
    expect_error("", "ConfigMap", "{'metadata':{'name':'c','namespace':'ns','finalizers':['foo']}}",
                 "metadata.finalizers[0]",
                 "Invalid value: \"foo\": name is neither a standard finalizer name nor is it "
                 "fully qualified");
    expect_valid(
        "", "ConfigMap",
        "{'metadata':{'name':'c','namespace':'ns','finalizers':['kubernetes','example.com/x']}}",
        NULL);
    expect_error(
        "", "ConfigMap",
        "{'metadata':{'name':'c','namespace':'ns','finalizers':['orphan','foregroundDeletion']}}",
        "metadata.finalizers",
        "Invalid value: []string{\"orphan\", \"foregroundDeletion\"}: finalizer orphan and "
        "foregroundDeletion cannot be both set");
    expect_error(
        "", "ConfigMap",
        "{'metadata':{'name':'c','namespace':'ns','ownerReferences':[{'apiVersion':'apps/v1',"
        "'kind':'ReplicaSet','name':'rs'}]}}",
        "metadata.ownerReferences.uid", "Invalid value: \"\": uid must not be empty");
    expect_error(
        "", "ConfigMap",
        "{'metadata':{'name':'c','namespace':'ns','ownerReferences':[{'apiVersion':'apps/',"
        "'kind':'ReplicaSet','name':'rs','uid':'1'}]}}",
        "metadata.ownerReferences.apiVersion",
        "Invalid value: \"apps/\": version must not be empty");
    expect_prefix("", "ConfigMap",
                  "{'metadata':{'name':'c','namespace':'ns','ownerReferences':["
                  "{'apiVersion':'v1','kind':'A','name':'a','uid':'1','controller':true},"
                  "{'apiVersion':'v1','kind':'B','name':'b','uid':'2','controller':true}]}}",
                  NULL, "metadata.ownerReferences", "Invalid value: [");
    assert_int_equal(
        count_causes("", "ConfigMap",
                     "{'metadata':{'name':'c','namespace':'ns','ownerReferences':["
                     "{'apiVersion':'v1','kind':'A','name':'a','uid':'1','controller':true},"
                     "{'apiVersion':'v1','kind':'B','name':'b','uid':'2','controller':true}]}}",
                     NULL),
        1);
}

/* ==== Pod ==== */

TEST(test_pod_containers)
{
    expect_cause("", "Pod", POD("{'containers':[]}"), NULL, "spec.containers", "Required value",
                 "FieldValueRequired");
    expect_error("", "Pod", POD("{}"), "spec.containers", "Required value");
    expect_error("", "Pod", POD("{'containers':[{'name':'c'}]}"), "spec.containers[0].image",
                 "Required value");
    expect_error("", "Pod", POD("{'containers':[{'image':'x'}]}"), "spec.containers[0].name",
                 "Required value");
    expect_error("", "Pod", POD("{'containers':[{'name':'Web','image':'x'}]}"),
                 "spec.containers[0].name", "Invalid value: \"Web\": " LABEL_MSG);
    expect_cause("", "Pod", POD("{'containers':[" CONTAINER "," CONTAINER "]}"), NULL,
                 "spec.containers[1].name", "Duplicate value: \"c\"", "FieldValueDuplicate");
    /* Names are unique across init and app containers. */
    expect_error("", "Pod", POD("{'initContainers':[" CONTAINER "],'containers':[" CONTAINER "]}"),
                 "spec.initContainers[0].name", "Duplicate value: \"c\"");
    expect_error("", "Pod", POD("{'containers':[{'name':'c','image':' nginx'}]}"),
                 "spec.containers[0].image",
                 "Invalid value: \" nginx\": must not have leading or trailing whitespace");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','imagePullPolicy':'Sometimes',"
                     "'terminationMessagePolicy':'Never'}]}"),
                 "spec.containers[0].imagePullPolicy",
                 "Unsupported value: \"Sometimes\": supported values: \"Always\", "
                 "\"IfNotPresent\", \"Never\"");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','terminationMessagePolicy':'Never'}]}"),
        "spec.containers[0].terminationMessagePolicy",
        "Unsupported value: \"Never\": supported values: \"File\", \"FallbackToLogsOnError\"");
    expect_error(
        "", "Pod", POD("{'containers':[{'name':'c','image':'x','restartPolicy':'Always'}]}"),
        "spec.containers[0].restartPolicy", "Forbidden: may not be set for non-init containers");
    expect_error("", "Pod",
                 POD("{'initContainers':[{'name':'i','image':'x','restartPolicy':'OnFailure'}],"
                     "'containers':[" CONTAINER "]}"),
                 "spec.initContainers[0].restartPolicy",
                 "Unsupported value: \"OnFailure\": supported values: \"Always\"");
}

TEST(test_pod_ports)
{
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','ports':[{'containerPort':0}]}]}"),
                 "spec.containers[0].ports[0].containerPort", "Required value");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','ports':[{'containerPort':70000}]}]}"),
                 "spec.containers[0].ports[0].containerPort",
                 "Invalid value: 70000: must be between 1 and 65535, inclusive");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','ports':[{'containerPort':80,'"
                     "hostPort':-1}]}]}"),
                 "spec.containers[0].ports[0].hostPort",
                 "Invalid value: -1: must be between 1 and 65535, inclusive");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','ports':[{'containerPort':80,'name':'web'},"
            "{'containerPort':81,'name':'web'}]}]}"),
        "spec.containers[0].ports[1].name", "Duplicate value: \"web\"");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','ports':[{'containerPort':80,'name':'"
                     "HTTP'}]}]}"),
                 "spec.containers[0].ports[0].name",
                 "Invalid value: \"HTTP\": must contain at least one letter (a-z)");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','ports':[{'containerPort':80,'name':'"
                     "a--b'}]}]}"),
                 "spec.containers[0].ports[0].name",
                 "Invalid value: \"a--b\": must not contain consecutive hyphens");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','ports':[{'containerPort':80,'name':'"
                     "verylongportname'}]}]}"),
                 "spec.containers[0].ports[0].name",
                 "Invalid value: \"verylongportname\": must be no more than 15 characters");
    expect_cause("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','ports':[{'containerPort':80,'"
                     "protocol':'ICMP'}]}]}"),
                 NULL, "spec.containers[0].ports[0].protocol",
                 "Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                 "FieldValueNotSupported");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'a','image':'x','ports':[{'containerPort':80,'"
                     "hostPort':8080}]},"
                     "{'name':'b','image':'x','ports':[{'containerPort':81,'hostPort':8080}]}]}"),
                 "spec.containers[1].ports[0].hostPort", "Duplicate value: \"/TCP/8080\"");
    /* The same host port over UDP does not conflict. */
    expect_valid("", "Pod",
                 POD("{'containers':[{'name':'a','image':'x','ports':[{'containerPort':80,'"
                     "hostPort':8080}]},"
                     "{'name':'b','image':'x','ports':[{'containerPort':81,'hostPort':8080,'"
                     "protocol':'UDP'}]}]}"),
                 NULL);
}

TEST(test_pod_resources)
{
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','resources':{'limits':{'cpu':'1'},'"
                     "requests':{'cpu':'2'}}}]}"),
                 "spec.containers[0].resources.requests",
                 "Invalid value: \"2\": must be less than or equal to cpu limit of 1");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','resources':{'limits':{'memory':'1Gi'},"
            "'requests':{'memory':'1025Mi'}}}]}"),
        "spec.containers[0].resources.requests",
        "Invalid value: \"1025Mi\": must be less than or equal to memory limit of 1Gi");
    expect_valid("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','resources':{'limits':{'cpu':'1'},'"
                     "requests':{'cpu':'1000m'}}}]}"),
                 NULL);
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','resources':{'requests':{'cpu':'-1'}}}]}"),
        "spec.containers[0].resources.requests[cpu]",
        "Invalid value: \"-1\": must be greater than or equal to 0");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','resources':{'requests':{'gpu':'1'}}}]}"),
        "spec.containers[0].resources.requests[gpu]",
        "Invalid value: \"gpu\": must be a standard resource for containers");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','resources':{'requests':{'example.com/"
                     "gpu':'1'}}}]}"),
                 "spec.containers[0].resources.limits",
                 "Required value: Limit must be set for non overcommitable resources");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','resources':{'limits':{'example.com/gpu':'2'},"
            "'requests':{'example.com/gpu':'1'}}}]}"),
        "spec.containers[0].resources.requests",
        "Invalid value: \"1\": must be equal to example.com/gpu limit of 2");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','resources':{'limits':{'example.com/"
                     "gpu':'1.5'}}}]}"),
                 "spec.containers[0].resources.limits[example.com/gpu]",
                 "Invalid value: \"1.5\": must be an integer");
}

TEST(test_pod_spec_fields)
{
    expect_cause(
        "", "Pod", POD("{'restartPolicy':'Sometimes','containers':[" CONTAINER "]}"), NULL,
        "spec.restartPolicy",
        "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
        "FieldValueNotSupported");
    expect_error("", "Pod", POD("{'dnsPolicy':'Nope','containers':[" CONTAINER "]}"),
                 "spec.dnsPolicy",
                 "Unsupported value: \"Nope\": supported values: \"ClusterFirstWithHostNet\", "
                 "\"ClusterFirst\", \"Default\", \"None\"");
    expect_error("", "Pod", POD("{'dnsPolicy':'None','containers':[" CONTAINER "]}"),
                 "spec.dnsConfig",
                 "Required value: must provide `dnsConfig` when `dnsPolicy` is None");
    expect_error(
        "", "Pod",
        POD("{'dnsPolicy':'None','dnsConfig':{'nameservers':['1.1.1.1','x']},'containers':"
            "[" CONTAINER "]}"),
        "spec.dnsConfig.nameservers[1]",
        "Invalid value: \"x\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
    expect_error("", "Pod", POD("{'activeDeadlineSeconds':0,'containers':[" CONTAINER "]}"),
                 "spec.activeDeadlineSeconds",
                 "Invalid value: 0: must be between 1 and 2147483647, inclusive");
    expect_error("", "Pod", POD("{'hostname':'web.1','containers':[" CONTAINER "]}"),
                 "spec.hostname", "Invalid value: \"web.1\": " LABEL_MSG);
    expect_error("", "Pod", POD("{'serviceAccountName':'SA','containers':[" CONTAINER "]}"),
                 "spec.serviceAccountName", "Invalid value: \"SA\": " SUBDOMAIN_MSG);
    expect_error("", "Pod", POD("{'nodeSelector':{'disk':'s s'},'containers':[" CONTAINER "]}"),
                 "spec.nodeSelector", "Invalid value: \"s s\": " LABEL_VALUE_MSG);
    expect_error(
        "", "Pod", POD("{'preemptionPolicy':'Always','containers':[" CONTAINER "]}"),
        "spec.preemptionPolicy",
        "Unsupported value: \"Always\": supported values: \"PreemptLowerPriority\", \"Never\"");
    expect_error(
        "", "Pod",
        POD("{'tolerations':[{'key':'k','operator':'Exists','value':'v'}],'containers':[" CONTAINER
            "]}"),
        "spec.tolerations[0].operator",
        "Invalid value: core.Toleration{Key:\"k\", Operator:\"Exists\", Value:\"v\", Effect:\"\", "
        "TolerationSeconds:(*int64)(nil)}: value must be empty when `operator` is 'Exists'");
    expect_error(
        "", "Pod",
        POD("{'tolerations':[{'operator':'Equal','value':'v'}],'containers':[" CONTAINER "]}"),
        "spec.tolerations[0].operator",
        "Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means "
        "\"match all values and all keys\"");
    expect_error("", "Pod",
                 POD("{'tolerations':[{'key':'k','effect':'NoSchedule','tolerationSeconds':5}],'"
                     "containers':[" CONTAINER "]}"),
                 "spec.tolerations[0].effect",
                 "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
                 "`tolerationSeconds` is set");
    expect_error("", "Pod",
                 POD("{'tolerations':[{'key':'k','effect':'Never'}],'containers':[" CONTAINER "]}"),
                 "spec.tolerations[0].effect",
                 "Unsupported value: \"Never\": supported values: \"NoSchedule\", "
                 "\"PreferNoSchedule\", \"NoExecute\"");
}

TEST(test_pod_volumes)
{
    expect_error("", "Pod",
                 POD("{'containers':[" CONTAINER "],'volumes':[{'name':'v'},{'name':'v'}]}"),
                 "spec.volumes[1].name", "Duplicate value: \"v\"");
    expect_error("", "Pod", POD("{'containers':[" CONTAINER "],'volumes':[{'emptyDir':{}}]}"),
                 "spec.volumes[0].name", "Required value");
    expect_error("", "Pod", POD("{'containers':[" CONTAINER "],'volumes':[{'name':'V'}]}"),
                 "spec.volumes[0].name", "Invalid value: \"V\": " LABEL_MSG);
    expect_error("", "Pod",
                 POD("{'containers':[" CONTAINER
                     "],'volumes':[{'name':'v','emptyDir':{},'hostPath':{'path':'/x'}}]}"),
                 "spec.volumes[0].hostPath", "Forbidden: may not specify more than 1 volume type");
    expect_error("", "Pod",
                 POD("{'containers':[" CONTAINER "],'volumes':[{'name':'v','secret':{}}]}"),
                 "spec.volumes[0].secret.secretName", "Required value");
    expect_error("", "Pod",
                 POD("{'containers':[" CONTAINER "],'volumes':[{'name':'v','configMap':{}}]}"),
                 "spec.volumes[0].configMap.name", "Required value");
    expect_error("", "Pod",
                 POD("{'containers':[" CONTAINER "],'volumes':[{'name':'v','hostPath':{}}]}"),
                 "spec.volumes[0].hostPath.path", "Required value");
    expect_error(
        "", "Pod",
        POD("{'containers':[" CONTAINER "],'volumes':[{'name':'v','persistentVolumeClaim':{}}]}"),
        "spec.volumes[0].persistentVolumeClaim.claimName", "Required value");
    expect_error("", "Pod",
                 POD("{'containers':[" CONTAINER
                     "],'volumes':[{'name':'v','configMap':{'name':'c','defaultMode':512}}]}"),
                 "spec.volumes[0].configMap.defaultMode",
                 "Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive");
    expect_error(
        "", "Pod",
        POD("{'containers':[" CONTAINER "],'volumes':[{'name':'v','secret':{'secretName':'s',"
            "'items':[{'key':'k','path':'../x'}]}}]}"),
        "spec.volumes[0].secret.items[0].path", "Invalid value: \"../x\": must not contain '..'");
    expect_error("", "Pod",
                 POD("{'containers':[" CONTAINER
                     "],'volumes':[{'name':'v','nfs':{'server':'s','path':'x'}}]}"),
                 "spec.volumes[0].nfs.path", "Invalid value: \"x\": must be an absolute path");
    /* Mounts name valid volumes, at unique paths. */
    expect_cause("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','volumeMounts':[{'name':'nope','"
                     "mountPath':'/x'}]}]}"),
                 NULL, "spec.containers[0].volumeMounts[0].name", "Not found: \"nope\"",
                 "FieldValueNotFound");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','volumeMounts':[{'name':'v','mountPath':'/x'},"
            "{'name':'v','mountPath':'/x'}]}],'volumes':[{'name':'v'}]}"),
        "spec.containers[0].volumeMounts[1].mountPath", "Invalid value: \"/x\": must be unique");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','volumeMounts':[{'name':'v'}]}],'"
                     "volumes':[{'name':'v'}]}"),
                 "spec.containers[0].volumeMounts[0].mountPath", "Required value");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','volumeMounts':[{'name':'v','mountPath':'/x',"
            "'subPath':'/abs'}]}],'volumes':[{'name':'v'}]}"),
        "spec.containers[0].volumeMounts.subPath",
        "Invalid value: \"/abs\": must be a relative path");
    /* A mount of a volume that is itself invalid is not found either. */
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','volumeMounts':[{'name':'v','"
                     "mountPath':'/x'}]}],"
                     "'volumes':[{'name':'v','secret':{}}]}"),
                 "spec.containers[0].volumeMounts[0].name", "Not found: \"v\"");
}

TEST(test_pod_env_and_probes)
{
    expect_error("", "Pod", POD("{'containers':[{'name':'c','image':'x','env':[{'value':'1'}]}]}"),
                 "spec.containers[0].env[0].name", "Required value");
    expect_error("", "Pod", POD("{'containers':[{'name':'c','image':'x','env':[{'value':'1'}]}]}"),
                 "spec.containers[0].env[0].name",
                 "Invalid value: \"\": environment variable name must be non-empty");
    expect_error("", "Pod", POD("{'containers':[{'name':'c','image':'x','env':[{'name':'A=B'}]}]}"),
                 "spec.containers[0].env[0].name",
                 "Invalid value: \"A=B\": a valid environment variable name must consist only of "
                 "printable ASCII characters other than '='");
    expect_valid("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','env':[{'name':'1.weird-NAME'}]}]}"),
                 NULL);
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','env':[{'name':'A','valueFrom':{}}]}]}"),
        "spec.containers[0].env[0].valueFrom",
        "Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, "
        "`configMapKeyRef` or `secretKeyRef`");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','env':[{'name':'A','value':'v',"
                     "'valueFrom':{'secretKeyRef':{'name':'s','key':'k'}}}]}]}"),
                 "spec.containers[0].env[0].valueFrom",
                 "Invalid value: \"\": may not be specified when `value` is not empty");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','env':[{'name':'A','valueFrom':{"
                     "'secretKeyRef':{'name':'s','key':'k'},'configMapKeyRef':{'name':'c','key':'k'}}}]}]}"),
                 "spec.containers[0].env[0].valueFrom",
                 "Invalid value: \"\": may not have more than one field specified at a time");
    expect_error("", "Pod",
                 POD("{'containers':[{'name':'c','image':'x','env':[{'name':'A',"
                     "'valueFrom':{'configMapKeyRef':{'name':'s'}}}]}]}"),
                 "spec.containers[0].env[0].valueFrom.configMapKeyRef.key", "Required value");
    expect_error("", "Pod", POD("{'containers':[{'name':'c','image':'x','envFrom':[{}]}]}"),
                 "spec.containers[0].envFrom",
                 "Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','livenessProbe':{'exec':{'command':['t']},"
            "'successThreshold':2}}]}"),
        "spec.containers[0].livenessProbe.successThreshold", "Invalid value: 2: must be 1");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','readinessProbe':{'exec':{'command':['t']},"
            "'terminationGracePeriodSeconds':5}}]}"),
        "spec.containers[0].readinessProbe.terminationGracePeriodSeconds",
        "Invalid value: 5: must not be set for readinessProbes");
    expect_error("", "Pod", POD("{'containers':[{'name':'c','image':'x','livenessProbe':{}}]}"),
                 "spec.containers[0].livenessProbe", "Required value: must specify a handler type");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','livenessProbe':{'exec':{'command':['t']},"
            "'tcpSocket':{'port':80}}}]}"),
        "spec.containers[0].livenessProbe.tcpSocket",
        "Forbidden: may not specify more than 1 handler type");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','livenessProbe':{'httpGet':{'port':0}}}]}"),
        "spec.containers[0].livenessProbe.httpGet.port",
        "Invalid value: 0: must be between 1 and 65535, inclusive");
    expect_error(
        "", "Pod",
        POD("{'containers':[{'name':'c','image':'x','startupProbe':{'exec':{'command':['t']},"
            "'periodSeconds':-5}}]}"),
        "spec.containers[0].startupProbe.periodSeconds",
        "Invalid value: -5: must be greater than or equal to 0");
    expect_error("", "Pod",
                 POD("{'initContainers':[{'name':'i','image':'x','livenessProbe':{'exec':{'command'"
                     ":['t']}}}],"
                     "'containers':[" CONTAINER "]}"),
                 "spec.initContainers[0].livenessProbe",
                 "Forbidden: may not be set for init containers without restartPolicy=Always");
    expect_valid("", "Pod",
                 POD("{'initContainers':[{'name':'i','image':'x','restartPolicy':'Always',"
                     "'livenessProbe':{'exec':{'command':['t']}}}],'containers':[" CONTAINER "]}"),
                 NULL);
}

/* ==== Service, Endpoints ==== */

TEST(test_service)
{
    expect_error("", "Service", SERVICE("{'selector':{'a':'b'}}"), "spec.ports", "Required value");
    expect_error("", "Service", SERVICE("{'ports':[{'port':0}]}"), "spec.ports[0].port",
                 "Invalid value: 0: must be between 1 and 65535, inclusive");
    expect_error("", "Service", SERVICE("{'ports':[{'port':80,'protocol':'HTTP'}]}"),
                 "spec.ports[0].protocol",
                 "Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"");
    expect_error("", "Service", SERVICE("{'type':'Fancy','ports':[{'port':80}]}"), "spec.type",
                 "Unsupported value: \"Fancy\": supported values: \"ClusterIP\", \"ExternalName\", "
                 "\"LoadBalancer\", \"NodePort\"");
    expect_error("", "Service", SERVICE("{'clusterIP':'10.0.0.300','ports':[{'port':80}]}"),
                 "spec.clusterIP",
                 "Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or "
                 "2001:db8::ffff)");
    expect_error("", "Service",
                 SERVICE("{'type':'LoadBalancer','clusterIP':'None','ports':[{'port':80}]}"),
                 "spec.clusterIP",
                 "Invalid value: \"None\": may not be set to 'None' for LoadBalancer services");
    expect_error("", "Service", SERVICE("{'type':'ExternalName'}"), "spec.externalName",
                 "Required value");
    expect_error("", "Service",
                 SERVICE("{'type':'ExternalName','externalName':'a.b','clusterIP':'10.0.0.1'}"),
                 "spec.clusterIP", "Forbidden: must be empty for ExternalName services");
    expect_error(
        "", "Service", SERVICE("{'ports':[{'port':80},{'port':80}]}"), "spec.ports[1]",
        "Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", "
        "AppProtocol:(*string)(nil), "
        "Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}");
    expect_error("", "Service", SERVICE("{'ports':[{'port':80},{'port':81}]}"),
                 "spec.ports[0].name", "Required value");
    expect_error("", "Service",
                 SERVICE("{'ports':[{'name':'a','port':80},{'name':'a','port':81}]}"),
                 "spec.ports[1].name", "Duplicate value: \"a\"");
    expect_error("", "Service", SERVICE("{'ports':[{'port':80,'targetPort':'-x'}]}"),
                 "spec.ports[0].targetPort",
                 "Invalid value: \"-x\": must not begin or end with a hyphen");
    expect_error("", "Service", SERVICE("{'ports':[{'port':80,'nodePort':30001}]}"),
                 "spec.ports[0].nodePort", "Forbidden: may not be used when `type` is 'ClusterIP'");
    expect_error("", "Service", SERVICE("{'sessionAffinity':'Sticky','ports':[{'port':80}]}"),
                 "spec.sessionAffinity",
                 "Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\"");
    expect_error("", "Service", SERVICE("{'externalTrafficPolicy':'Local','ports':[{'port':80}]}"),
                 "spec.externalTrafficPolicy",
                 "Invalid value: \"Local\": may only be set for externally-accessible services");
    expect_error("", "Service", SERVICE("{'ipFamilies':['IPv5'],'ports':[{'port':80}]}"),
                 "spec.ipFamilies[0]",
                 "Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\"");
    expect_error(
        "", "Service", SERVICE("{'externalIPs':['127.0.0.1'],'ports':[{'port':80}]}"),
        "spec.externalIPs[0]",
        "Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)");
    expect_error("", "Service", SERVICE("{'selector':{'a':'-'},'ports':[{'port':80}]}"),
                 "spec.selector", "Invalid value: \"-\": " LABEL_VALUE_MSG);
}

TEST(test_endpoints)
{
    expect_error("", "Endpoints", "{" META ",'subsets':[{'ports':[{'port':80}]}]}", "subsets[0]",
                 "Required value: must specify `addresses` or `notReadyAddresses`");
    expect_error(
        "", "Endpoints", "{" META ",'subsets':[{'addresses':[{'ip':'nope'}]}]}",
        "subsets[0].addresses[0].ip",
        "Invalid value: \"nope\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
    expect_error("", "Endpoints", "{" META ",'subsets':[{'addresses':[{'ip':'169.254.1.1'}]}]}",
                 "subsets[0].addresses[0].ip",
                 "Invalid value: \"169.254.1.1\": may not be in the link-local range "
                 "(169.254.0.0/16, fe80::/10)");
    expect_error(
        "", "Endpoints",
        "{" META
        ",'subsets':[{'addresses':[{'ip':'10.0.0.1'}],'ports':[{'port':80},{'port':81}]}]}",
        "subsets[0].ports[0].name", "Required value");
    /* Loopback addresses: refused, but in default/kubernetes (the API
     * servers' own addresses, controllers/kubesvc.c). */
    const char *loop = ",'subsets':[{'addresses':[{'ip':'127.0.0.1'}],'ports':[{'port':80}]}]}";
    char body[512];
    snprintf(body, sizeof body, "{'metadata':{'name':'kubernetes','namespace':'x'}%s", loop);
    expect_error("", "Endpoints", body, "subsets[0].addresses[0].ip",
                 "Invalid value: \"127.0.0.1\": may not be in the loopback range "
                 "(127.0.0.0/8, ::1/128)");
    snprintf(body, sizeof body, "{'metadata':{'name':'kubernetes','namespace':'default'}%s",
             loop);
    expect_valid("", "Endpoints", body, NULL);
}

/* ==== apps/v1 ==== */

TEST(test_workload_selectors)
{
    const char *no_selector = "{" META ",'spec':{'template':" TEMPLATE(POD_SPEC) "}}";
    expect_cause("apps", "Deployment", no_selector, NULL, "spec.selector", "Required value",
                 "FieldValueRequired");
    expect_error("apps", "Deployment", no_selector, "spec.template.metadata.labels",
                 "Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match "
                 "template `labels`");
    expect_error("apps", "ReplicaSet", no_selector, "spec.selector", "Required value");
    expect_error("apps", "StatefulSet", no_selector, "spec.selector", "Required value");
    expect_error("apps", "DaemonSet", no_selector, "spec.template.metadata.labels",
                 "Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match "
                 "template `labels`");
    const char *mismatch =
        "{" META
        ",'spec':{'selector':{'matchLabels':{'app':'y'}},'template':" TEMPLATE(POD_SPEC) "}}";
    static const char *const kinds[] = {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"};
    for (size_t i = 0; i < 4; i++)
        expect_error("apps", kinds[i], mismatch, "spec.template.metadata.labels",
                     "Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match "
                     "template `labels`");
    const char *empty = "{" META ",'spec':{'selector':{},'template':" TEMPLATE(POD_SPEC) "}}";
    static const char *const empty_kinds[][2] = {{"Deployment", "deployment"},
                                                 {"ReplicaSet", "deployment"},
                                                 {"DaemonSet", "daemonset"},
                                                 {"StatefulSet", "statefulset"}};
    for (size_t i = 0; i < 4; i++) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
                 "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid "
                 "for %s",
                 empty_kinds[i][1]);
        expect_error("apps", empty_kinds[i][0], empty, "spec.selector", msg);
    }
    /* Expressions select too; a bad operator makes the selector invalid. */
    expect_valid("apps", "Deployment",
                 "{" META
                 ",'spec':{'selector':{'matchExpressions':[{'key':'app','operator':'Exists'}]},"
                 "'template':" TEMPLATE(POD_SPEC) "}}",
                 NULL);
    const char *bad_op =
        "{" META ",'spec':{'selector':{'matchExpressions':[{'key':'app','operator':'Is',"
        "'values':['x']}]},'template':" TEMPLATE(POD_SPEC) "}}";
    expect_error("apps", "Deployment", bad_op, "spec.selector.matchExpressions[0].operator",
                 "Invalid value: \"Is\": not a valid selector operator");
    expect_error(
        "apps", "Deployment", bad_op, "spec.selector",
        "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"app\", "
        "Operator:\"Is\", Values:[]string{\"x\"}}}}: invalid label selector");
    expect_error("apps", "Deployment",
                 "{" META
                 ",'spec':{'selector':{'matchExpressions':[{'key':'app','operator':'In'}]},"
                 "'template':" TEMPLATE(POD_SPEC) "}}",
                 "spec.selector.matchExpressions[0].values",
                 "Required value: must be specified when `operator` is 'In' or 'NotIn'");
}

TEST(test_deployment)
{
    expect_error("apps", "Deployment", DEPLOYMENT(",'replicas':-1"), "spec.replicas",
                 "Invalid value: -1: must be greater than or equal to 0");
    expect_cause("apps", "Deployment", DEPLOYMENT(",'strategy':{'type':'Canary'}"), NULL,
                 "spec.strategy",
                 "Unsupported value: apps.DeploymentStrategy{Type:\"Canary\", "
                 "RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "
                 "\"Recreate\", \"RollingUpdate\"",
                 "FieldValueNotSupported");
    expect_error("apps", "Deployment",
                 DEPLOYMENT(",'strategy':{'rollingUpdate':{'maxSurge':0,'maxUnavailable':'0%'}}"),
                 "spec.strategy.rollingUpdate.maxUnavailable",
                 "Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"0%\"}: may not be 0 "
                 "when `maxSurge` is 0");
    expect_error("apps", "Deployment",
                 DEPLOYMENT(",'strategy':{'rollingUpdate':{'maxUnavailable':'150%'}}"),
                 "spec.strategy.rollingUpdate.maxUnavailable",
                 "Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not "
                 "be greater than 100%");
    expect_error(
        "apps", "Deployment", DEPLOYMENT(",'strategy':{'rollingUpdate':{'maxSurge':'lots'}}"),
        "spec.strategy.rollingUpdate.maxSurge",
        "Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"lots\"}: a valid percent "
        "string "
        "must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for "
        "validation is '[0-9]+%')");
    expect_error("apps", "Deployment", DEPLOYMENT(",'strategy':{'rollingUpdate':{'maxSurge':-1}}"),
                 "spec.strategy.rollingUpdate.maxSurge",
                 "Invalid value: -1: must be greater than or equal to 0");
    expect_error("apps", "Deployment",
                 DEPLOYMENT(",'strategy':{'type':'Recreate','rollingUpdate':{}}"),
                 "spec.strategy.rollingUpdate",
                 "Forbidden: may not be specified when strategy `type` is 'Recreate'");
    expect_error("apps", "Deployment", DEPLOYMENT(",'minReadySeconds':600"),
                 "spec.progressDeadlineSeconds",
                 "Invalid value: 600: must be greater than minReadySeconds");
    expect_error("apps", "Deployment",
                 "{" META ",'spec':{'selector':" SELECTOR ",'template':" TEMPLATE(
                     "{'restartPolicy':'Never','activeDeadlineSeconds':5,'containers':[" CONTAINER
                     "]}") "}}",
                 "spec.template.spec.restartPolicy",
                 "Unsupported value: \"Never\": supported values: \"Always\"");
    expect_error("apps", "Deployment",
                 "{" META ",'spec':{'selector':" SELECTOR ",'template':" TEMPLATE(
                     "{'activeDeadlineSeconds':5,'containers':[" CONTAINER "]}") "}}",
                 "spec.template.spec.activeDeadlineSeconds",
                 "Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported");
    /* The template's pod spec is validated, its labels at "template.labels". */
    expect_error("apps", "Deployment",
                 "{" META ",'spec':{'selector':" SELECTOR
                 ",'template':" TEMPLATE("{'containers':[{'name':'c'}]}") "}}",
                 "spec.template.spec.containers[0].image", "Required value");
    expect_error(
        "apps", "Deployment",
        "{" META
        ",'spec':{'selector':{},'template':{'metadata':{'labels':{'a':'-'}},'spec':" POD_SPEC "}}}",
        "spec.template.labels", "Invalid value: \"-\": " LABEL_VALUE_MSG);
    expect_error("apps", "Deployment", "{" META ",'spec':{'selector':" SELECTOR "}}",
                 "spec.template", "Required value");
}

TEST(test_daemonset_statefulset)
{
    const char *ds =
        "{" META ",'spec':{'selector':" SELECTOR ",'template':" TEMPLATE(POD_SPEC) ",%s}}";
    char body[1024];
    snprintf(body, sizeof body, ds,
             "'updateStrategy':{'rollingUpdate':{'maxUnavailable':1,'maxSurge':1}}");
    expect_error(
        "apps", "DaemonSet", body, "spec.updateStrategy.rollingUpdate.maxSurge",
        "Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:\"\"}: may not be set when "
        "maxUnavailable is non-zero");
    snprintf(body, sizeof body, ds,
             "'updateStrategy':{'rollingUpdate':{'maxUnavailable':0,'maxSurge':0}}");
    expect_error("apps", "DaemonSet", body, "spec.updateStrategy.rollingUpdate.maxUnavailable",
                 "Required value: cannot be 0 when maxSurge is 0");
    snprintf(body, sizeof body, ds, "'updateStrategy':{'type':'Sometimes'}");
    expect_error("apps", "DaemonSet", body, "spec.updateStrategy",
                 "Unsupported value: apps.DaemonSetUpdateStrategy{Type:\"Sometimes\", "
                 "RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}: supported values: "
                 "\"RollingUpdate\", \"OnDelete\"");
    const char *sts =
        "{" META ",'spec':{'selector':" SELECTOR ",'template':" TEMPLATE(POD_SPEC) ",%s}}";
    snprintf(body, sizeof body, sts, "'podManagementPolicy':'Random'");
    expect_error("apps", "StatefulSet", body, "spec.podManagementPolicy",
                 "Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'");
    snprintf(body, sizeof body, sts, "'updateStrategy':{'type':'Later'}");
    expect_error("apps", "StatefulSet", body, "spec.updateStrategy",
                 "Invalid value: apps.StatefulSetUpdateStrategy{Type:\"Later\", "
                 "RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be "
                 "'RollingUpdate' or 'OnDelete'");
    snprintf(body, sizeof body, sts, "'updateStrategy':{'rollingUpdate':{'partition':-1}}");
    expect_error("apps", "StatefulSet", body, "spec.updateStrategy.rollingUpdate.partition",
                 "Invalid value: -1: must be greater than or equal to 0");
    snprintf(body, sizeof body, sts,
             "'persistentVolumeClaimRetentionPolicy':{'whenDeleted':'Keep'}");
    expect_error("apps", "StatefulSet", body,
                 "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
                 "Unsupported value: \"Keep\": supported values: \"Retain\", \"Delete\"");
    snprintf(body, sizeof body, sts, "'ordinals':{'start':-2}");
    expect_error("apps", "StatefulSet", body, "spec.ordinals.start",
                 "Invalid value: -2: must be greater than or equal to 0");
    /* Kubernetes leaves a StatefulSet's pod spec unchecked but for these. */
    expect_valid("apps", "StatefulSet",
                 "{" META ",'spec':{'selector':" SELECTOR
                 ",'template':" TEMPLATE("{'containers':[{'name':'c'}]}") "}}",
                 NULL);
    expect_error(
        "apps", "StatefulSet",
        "{" META ",'spec':{'selector':" SELECTOR ",'template':" TEMPLATE(
            "{'restartPolicy':'OnFailure','activeDeadlineSeconds':1,'containers':[" CONTAINER
            "]}") "}}",
        "spec.template.spec.activeDeadlineSeconds",
        "Forbidden: activeDeadlineSeconds in StatefulSet is not Supported");
    expect_error("apps", "DaemonSet",
                 "{" META ",'spec':{'selector':" SELECTOR ",'template':" TEMPLATE(
                     "{'activeDeadlineSeconds':9,'containers':[" CONTAINER "]}") "}}",
                 "spec.template.spec.activeDeadlineSeconds",
                 "Invalid value: 9: activeDeadlineSeconds in DaemonSet is not Supported");
    expect_error("apps", "DaemonSet", "{" META ",'spec':{'selector':" SELECTOR "}}", "spec.template",
                 "Required value");
    expect_error("apps", "ControllerRevision", "{" META "}", "data",
                 "Required value: data is mandatory");
}

/* ==== batch/v1 ==== */

TEST(test_job)
{
    expect_error("batch", "Job", JOB(",'parallelism':-1"), "spec.parallelism",
                 "Invalid value: -1: must be greater than or equal to 0");
    expect_error("batch", "Job", JOB(",'completions':-1"), "spec.completions",
                 "Invalid value: -1: must be greater than or equal to 0");
    expect_error("batch", "Job", JOB(",'backoffLimit':-1"), "spec.backoffLimit",
                 "Invalid value: -1: must be greater than or equal to 0");
    expect_error("batch", "Job",
                 "{" META ",'spec':{'template':{'spec':{'containers':[" CONTAINER "]}}}}",
                 "spec.template.spec.restartPolicy",
                 "Required value: valid values: \"OnFailure\", \"Never\"");
    expect_error("batch", "Job",
                 "{" META
                 ",'spec':{'template':{'spec':{'restartPolicy':'Always','containers':[" CONTAINER
                 "]}}}}",
                 "spec.template.spec.restartPolicy",
                 "Required value: valid values: \"OnFailure\", \"Never\"");
    expect_error(
        "batch", "Job",
        "{" META
        ",'spec':{'podFailurePolicy':{'rules':[]},'template':{'spec':{'restartPolicy':'OnFailure',"
        "'containers':[" CONTAINER "]}}}}",
        "spec.template.spec.restartPolicy",
        "Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy is "
        "specified");
    expect_error("batch", "Job", "{" META ",'spec':{}}", "spec.template", "Required value");
    expect_error("batch", "Job", JOB(",'completionMode':'Sometimes'"), "spec.completionMode",
                 "Unsupported value: \"Sometimes\": supported values: \"NonIndexed\", \"Indexed\"");
    /* parallelism alone leaves completions unset (both unset default to 1). */
    expect_error("batch", "Job", JOB(",'completionMode':'Indexed','parallelism':2"),
                 "spec.completions", "Required value: when completion mode is Indexed");
    expect_error(
        "batch", "Job",
        JOB(",'podFailurePolicy':{'rules':[]},'podReplacementPolicy':'TerminatingOrFailed'"),
        "spec.podReplacementPolicy",
        "Unsupported value: \"TerminatingOrFailed\": supported values: \"Failed\"");
    expect_error(
        "batch", "Job",
        "{" META
        ",'spec':{'selector':{'matchLabels':{'a':'b'}},'template':{'metadata':{'labels':{'a':'c'}},"
        "'spec':{'restartPolicy':'Never','containers':[" CONTAINER "]}}}}",
        "spec.template.metadata.labels",
        "Invalid value: map[string]string{\"a\":\"c\"}: `selector` does not match template "
        "`labels`");
}

TEST(test_cronjob)
{
    static const struct {
        const char *schedule, *message;
    } bad[] = {
        {"foo", "expected exactly 5 fields, found 1: [foo]"},
        {"* * * *", "expected exactly 5 fields, found 4: [* * * *]"},
        {"60 * * * *", "end of range (60) above maximum (59): 60"},
        {"* 24 * * *", "end of range (24) above maximum (23): 24"},
        {"* * 0 * *", "beginning of range (0) below minimum (1): 0"},
        {"* * * 13 *", "end of range (13) above maximum (12): 13"},
        {"* * * * 7", "end of range (7) above maximum (6): 7"},
        {"5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"},
        {"*/0 * * * *", "step of range should be a positive number: */0"},
        {"1/2/3 * * * *", "too many slashes: 1/2/3"},
        {"1-2-3 * * * *", "too many hyphens: 1-2-3"},
        {"x * * * *", "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"},
        {"* * * foo *",
         "failed to parse int from foo: strconv.Atoi: parsing \"foo\": invalid syntax"},
        {"@fortnightly", "unrecognized descriptor: @fortnightly"},
        {"@every 5", "failed to parse duration @every 5: time: missing unit in duration \"5\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[1024], msg[300];
        snprintf(body, sizeof body,
                 "{'apiVersion':'batch/v1','kind':'CronJob'," META ",'spec':{'schedule':'%s',"
                 "'jobTemplate':{'spec':{'template':" JOB_TEMPLATE "}}}}",
                 bad[i].schedule);
        snprintf(msg, sizeof msg, "Invalid value: \"%s\": %s", bad[i].schedule, bad[i].message);
        expect_error("batch", "CronJob", body, "spec.schedule", msg);
    }
    static const char *const good[] = {"0 0 * * *", "*/15 9-17 * * mon-fri", "0 0 1,15 jan,jul *",
                                       "@daily",    "@every 1h30m",          "0 12 * * SUN",
                                       "? * * * *", "5/10 * * * *"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "{" META ",'spec':{'schedule':'%s','jobTemplate':{'spec':{'template':" JOB_TEMPLATE
                 "}}}}",
                 good[i]);
        expect_valid("batch", "CronJob", body, NULL);
    }
    expect_error("batch", "CronJob", CRONJOB("TZ=UTC 0 * * * *", ""), "spec.schedule",
                 "Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use "
                 "timeZone field instead");
    expect_error("batch", "CronJob", CRONJOB("", ""), "spec.schedule", "Required value");
    expect_error(
        "batch", "CronJob", CRONJOB("* * * * *", ",'concurrencyPolicy':'Sometimes'"),
        "spec.concurrencyPolicy",
        "Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"");
    expect_error("batch", "CronJob", CRONJOB("* * * * *", ",'successfulJobsHistoryLimit':-1"),
                 "spec.successfulJobsHistoryLimit",
                 "Invalid value: -1: must be greater than or equal to 0");
    expect_error("batch", "CronJob", CRONJOB("* * * * *", ",'timeZone':''"), "spec.timeZone",
                 "Invalid value: \"\": timeZone must be nil or non-empty string");
    /* The zone must exist (time.LoadLocation); UTC needs no file. */
    expect_error("batch", "CronJob", CRONJOB("* * * * *", ",'timeZone':'Mars/Olympus_Mons'"),
                 "spec.timeZone",
                 "Invalid value: \"Mars/Olympus_Mons\": unknown time zone Mars/Olympus_Mons");
    expect_error("batch", "CronJob", CRONJOB("* * * * *", ",'timeZone':'../etc/passwd'"),
                 "spec.timeZone", "Invalid value: \"../etc/passwd\": time: invalid location name");
    expect_valid("batch", "CronJob", CRONJOB("* * * * *", ",'timeZone':'Europe/Paris'"), NULL);
    expect_valid("batch", "CronJob", CRONJOB("* * * * *", ",'timeZone':'UTC'"), NULL);
    expect_error(
        "batch", "CronJob",
        "{" META ",'spec':{'schedule':'* * * * "
                 "*','jobTemplate':{'spec':{'selector':{'matchLabels':{'a':'b'}},"
        "'template':" JOB_TEMPLATE "}}}}",
        "spec.jobTemplate.spec.selector",
        "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"a\":\"b\"}, "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated");
    expect_error("batch", "CronJob",
                 "{" META
                 ",'spec':{'schedule':'* * * * *','jobTemplate':{'spec':{'template':{'spec':{"
                 "'containers':[" CONTAINER "]}}}}}}",
                 "spec.jobTemplate.spec.template.spec.restartPolicy",
                 "Required value: valid values: \"OnFailure\", \"Never\"");
    expect_error("batch", "CronJob",
                 "{'metadata':{'name':'a2345678901234567890123456789012345678901234567890123','"
                 "namespace':'ns'},"
                 "'spec':{'schedule':'* * * * *','jobTemplate':{'spec':{'template':" JOB_TEMPLATE
                 "}}}}",
                 "metadata.name",
                 "Invalid value: \"a2345678901234567890123456789012345678901234567890123\": must "
                 "be no more than 52 characters");
}

/* ==== ConfigMap, Secret, Namespace, Node ==== */

TEST(test_config_map_secret)
{
    expect_error("", "ConfigMap", "{" META ",'data':{'a b':'x'}}", "data[a b]",
                 "Invalid value: \"a b\": " CONFIG_KEY_MSG);
    expect_error("", "ConfigMap", "{" META ",'data':{'..x':'x'}}", "data[..x]",
                 "Invalid value: \"..x\": must not start with '..'");
    expect_error("", "ConfigMap", "{" META ",'data':{'a':'x'},'binaryData':{'a':'eA=='}}",
                 "data[a]", "Invalid value: \"a\": duplicate of key present in binaryData");
    expect_error("", "Secret", "{" META ",'data':{'.':'eA=='}}", "data[.]",
                 "Invalid value: \".\": must not be '.'");
    size_t big = 1024 * 1024 + 1;
    char *body = malloc(big + 100);
    int n = sprintf(body, "{" META ",'data':{'k':'");
    for (char *p = body; *p; p++)
        if (*p == '\'')
            *p = '"';
    memset(body + n, 'v', big);
    strcpy(body + n + big, "\"}}");
    expect_cause("", "ConfigMap", body, NULL, "", "Too long: may not be more than 1048576 bytes",
                 "FieldValueTooLong");
    free(body);
    /* A Secret's size counts the decoded bytes. */
    big = 1024 * 1024 / 3 * 4 + 8;
    body = malloc(big + 100);
    n = sprintf(body, "{\"metadata\":{\"name\":\"x\",\"namespace\":\"ns\"},\"data\":{\"k\":\"");
    memset(body + n, 'Q', big);
    strcpy(body + n + big, "\"}}");
    expect_cause("", "Secret", body, NULL, "data", "Too long: may not be more than 1048576 bytes",
                 "FieldValueTooLong");
    free(body);
    expect_error("", "Secret", "{" META ",'type':'kubernetes.io/tls','data':{'tls.crt':'YQ=='}}",
                 "data[tls.key]", "Required value");
    expect_error("", "Secret", "{" META ",'type':'kubernetes.io/basic-auth'}", "data[username]",
                 "Required value");
    expect_valid("", "Secret",
                 "{" META ",'type':'kubernetes.io/basic-auth','data':{'password':''}}", NULL);
    expect_error("", "Secret", "{" META ",'type':'kubernetes.io/dockerconfigjson'}",
                 "data[.dockerconfigjson]", "Required value");
    expect_error("", "Secret", "{" META ",'type':'kubernetes.io/service-account-token'}",
                 "metadata.annotations[kubernetes.io/service-account.name]", "Required value");
}

TEST(test_namespace_node)
{
    expect_error("", "Namespace", "{'metadata':{'name':'n'},'spec':{'finalizers':['foo']}}",
                 "spec.finalizers",
                 "Invalid value: \"foo\": name is neither a standard finalizer name nor is it "
                 "fully qualified");
    expect_error("", "Node",
                 "{'metadata':{'name':'n'},'spec':{'taints':[{'key':'k','effect':'NoSchedule'},"
                 "{'key':'k','effect':'NoSchedule'}]}}",
                 "spec.taints[1]",
                 "Duplicate value: core.Taint{Key:\"k\", Value:\"\", Effect:\"NoSchedule\", "
                 "TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair");
    expect_error("", "Node", "{'metadata':{'name':'n'},'spec':{'taints':[{'key':'k'}]}}",
                 "spec.taints[0].effect", "Required value");
    expect_error("", "Node",
                 "{'metadata':{'name':'n'},'spec':{'taints':[{'key':'k','effect':'Evict'}]}}",
                 "spec.taints[0].effect",
                 "Unsupported value: \"Evict\": supported values: \"NoSchedule\", "
                 "\"PreferNoSchedule\", \"NoExecute\"");
    expect_error("", "Node", "{'metadata':{'name':'n'},'spec':{'podCIDRs':['10.0.0.0/33']}}",
                 "spec.podCIDRs[0]",
                 "Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or "
                 "2001:db8::/64)");
}

/* ==== the rest ==== */

TEST(test_storage)
{
    expect_error("", "PersistentVolume",
                 "{'metadata':{'name':'pv'},'spec':{'hostPath':{'path':'/x'}}}", "spec.accessModes",
                 "Required value: must specify at least 1 access mode");
    expect_error("", "PersistentVolume",
                 "{'metadata':{'name':'pv'},'spec':{'accessModes':['ReadWriteOnce'],"
                 "'hostPath':{'path':'/x'}}}",
                 "spec.capacity", "Required value");
    expect_error("", "PersistentVolume",
                 "{'metadata':{'name':'pv'},'spec':{'accessModes':['ReadWriteOnce'],"
                 "'capacity':{'storage':'1Gi'}}}",
                 "spec", "Required value: must specify a volume type");
    expect_error(
        "", "PersistentVolume",
        "{'metadata':{'name':'pv'},'spec':{'accessModes':['ReadWriteMost'],"
        "'capacity':{'storage':'1Gi'},'hostPath':{'path':'/"
        "x'},'persistentVolumeReclaimPolicy':'Keep'}}",
        "spec.persistentVolumeReclaimPolicy",
        "Unsupported value: \"Keep\": supported values: \"Delete\", \"Recycle\", \"Retain\"");
    expect_error("", "PersistentVolume",
                 "{'metadata':{'name':'pv'},'spec':{'accessModes':['ReadWriteMost'],"
                 "'capacity':{'storage':'1Gi'},'hostPath':{'path':'/x'}}}",
                 "spec.accessModes",
                 "Unsupported value: \"ReadWriteMost\": supported values: \"ReadOnlyMany\", "
                 "\"ReadWriteMany\", "
                 "\"ReadWriteOnce\", \"ReadWriteOncePod\"");
    expect_error("", "PersistentVolumeClaim",
                 "{" META ",'spec':{'resources':{'requests':{'storage':'1Gi'}}}}",
                 "spec.accessModes", "Required value: at least 1 access mode is required");
    expect_error("", "PersistentVolumeClaim", "{" META ",'spec':{'accessModes':['ReadWriteOnce']}}",
                 "spec.resources[storage]", "Required value");
    expect_error(
        "", "PersistentVolumeClaim",
        "{" META
        ",'spec':{'accessModes':['ReadWriteOnce'],'resources':{'requests':{'storage':'0'}}}}",
        "spec.resources[storage]", "Invalid value: \"0\": must be greater than zero");
    expect_error("", "PersistentVolumeClaim",
                 "{" META ",'spec':{'accessModes':['ReadWriteOnce','ReadWriteOncePod'],"
                 "'resources':{'requests':{'storage':'1'}}}}",
                 "spec.accessModes",
                 "Forbidden: may not use ReadWriteOncePod with other access modes");
}

TEST(test_hpa_lease_slice_priority)
{
    const char *hpa = "{" META ",'spec':{'scaleTargetRef':{'kind':'Deployment','name':'w'},%s}}";
    char body[1024];
    snprintf(body, sizeof body, hpa, "'minReplicas':5,'maxReplicas':2");
    expect_error("autoscaling", "HorizontalPodAutoscaler", body, "spec.maxReplicas",
                 "Invalid value: 2: must be greater than or equal to `minReplicas`");
    snprintf(body, sizeof body, hpa, "'minReplicas':0,'maxReplicas':0");
    expect_error("autoscaling", "HorizontalPodAutoscaler", body, "spec.minReplicas",
                 "Invalid value: 0: must be greater than or equal to 1");
    expect_error("autoscaling", "HorizontalPodAutoscaler", body, "spec.maxReplicas",
                 "Invalid value: 0: must be greater than 0");
    expect_error("autoscaling", "HorizontalPodAutoscaler", "{" META ",'spec':{'maxReplicas':3}}",
                 "spec.scaleTargetRef.kind", "Required value");
    snprintf(body, sizeof body, hpa, "'maxReplicas':3,'metrics':[{'type':'Magic'}]");
    expect_error(
        "autoscaling", "HorizontalPodAutoscaler", body, "spec.metrics[0].type",
        "Unsupported value: \"Magic\": supported values: \"Object\", \"Pods\", \"Resource\", "
        "\"External\", \"ContainerResource\"");
    snprintf(body, sizeof body, hpa, "'maxReplicas':3,'metrics':[{'type':'Resource'}]");
    expect_error("autoscaling", "HorizontalPodAutoscaler", body, "spec.metrics[0].resource",
                 "Required value: must populate information for the given metric source");
    snprintf(body, sizeof body, hpa,
             "'maxReplicas':3,'metrics':[{'type':'Resource','resource':{'name':'cpu','target':{'"
             "type':'Utilization'}}}]");
    expect_error("autoscaling", "HorizontalPodAutoscaler", body,
                 "spec.metrics[0].resource.target.averageUtilization",
                 "Required value: must set either a target raw value or a target utilization");
    snprintf(body, sizeof body, hpa,
             "'maxReplicas':3,'behavior':{'scaleUp':{'selectPolicy':'Avg','policies':[]}}");
    expect_error("autoscaling", "HorizontalPodAutoscaler", body,
                 "spec.behavior.scaleUp.selectPolicy",
                 "Unsupported value: \"Avg\": supported values: \"Max\", \"Min\", \"Disabled\"");
    expect_error("autoscaling", "HorizontalPodAutoscaler", body, "spec.behavior.scaleUp.policies",
                 "Required value: must specify at least one Policy");
    snprintf(body, sizeof body, hpa,
             "'maxReplicas':3,'behavior':{'scaleDown':{'policies':[{'type':'Pods','value':0,'"
             "periodSeconds':1801}]}}");
    expect_error("autoscaling", "HorizontalPodAutoscaler", body,
                 "spec.behavior.scaleDown.policies[0].periodSeconds",
                 "Invalid value: 1801: must be less than or equal to 1800");
    expect_error("coordination.k8s.io", "Lease", "{" META ",'spec':{'leaseDurationSeconds':0}}",
                 "spec.leaseDurationSeconds", "Invalid value: 0: must be greater than 0");
    expect_error("discovery.k8s.io", "EndpointSlice", "{" META ",'addressType':'IPv5'}",
                 "addressType",
                 "Unsupported value: \"IPv5\": supported values: \"FQDN\", \"IPv4\", \"IPv6\"");
    expect_error("discovery.k8s.io", "EndpointSlice", "{" META "}", "addressType",
                 "Required value");
    expect_error("discovery.k8s.io", "EndpointSlice",
                 "{" META ",'addressType':'IPv4','endpoints':[{'addresses':['::1']},{}]}",
                 "endpoints[0].addresses[0]",
                 "Invalid value: \"::1\": must be a valid IPv4 address");
    expect_error("discovery.k8s.io", "EndpointSlice",
                 "{" META ",'addressType':'IPv4','endpoints':[{}]}", "endpoints[0].addresses",
                 "Required value: must contain at least 1 address");
    expect_error("discovery.k8s.io", "EndpointSlice",
                 "{" META ",'addressType':'FQDN','endpoints':[{'addresses':['localhost']}]}",
                 "endpoints[0].addresses[0]",
                 "Invalid value: \"localhost\": should be a domain with at least two segments "
                 "separated by dots");
    expect_error("discovery.k8s.io", "EndpointSlice",
                 "{" META ",'addressType':'IPv4','ports':[{'name':'a'},{'name':'a'}]}",
                 "ports[1].name", "Duplicate value: \"a\"");
    /* policy/v1 PodDisruptionBudget */
    expect_valid("policy", "PodDisruptionBudget",
                 "{" META ",'spec':{'minAvailable':'50%','selector':" SELECTOR "}}", NULL);
    expect_valid("policy", "PodDisruptionBudget", "{" META ",'spec':{'maxUnavailable':2}}", NULL);
    expect_error("policy", "PodDisruptionBudget",
                 "{" META ",'spec':{'minAvailable':1,'maxUnavailable':1}}", "spec",
                 "Invalid value: {\"maxUnavailable\":1,\"minAvailable\":1}: minAvailable and "
                 "maxUnavailable cannot be both set");
    expect_error("policy", "PodDisruptionBudget", "{" META ",'spec':{'minAvailable':'150%'}}",
                 "spec.minAvailable",
                 "Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not "
                 "be greater than 100%");
    expect_error("policy", "PodDisruptionBudget", "{" META ",'spec':{'maxUnavailable':-1}}",
                 "spec.maxUnavailable", "Invalid value: -1: must be greater than or equal to 0");
    expect_error("policy", "PodDisruptionBudget",
                 "{" META ",'spec':{'selector':{'matchLabels':{'a b':'x'}}}}",
                 "spec.selector.matchLabels",
                 "Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', "
                 "'_' or '.', and must start and end with an alphanumeric character (e.g. "
                 "'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                 "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
    expect_error("policy", "PodDisruptionBudget",
                 "{" META ",'spec':{'unhealthyPodEvictionPolicy':'Never'}}",
                 "spec.unhealthyPodEvictionPolicy",
                 "Unsupported value: \"Never\": supported values: \"AlwaysAllow\", "
                 "\"IfHealthyBudget\"");
    expect_error("policy", "PodDisruptionBudget", "{" META ",'status':{'currentHealthy':-2}}",
                 "status.currentHealthy", "Invalid value: -2: must be greater than or equal to 0");
    expect_error("scheduling.k8s.io", "PriorityClass",
                 "{'metadata':{'name':'p'},'value':1000000001}", "value",
                 "Forbidden: maximum allowed value of a user defined priority is 1000000000");
    expect_error(
        "scheduling.k8s.io", "PriorityClass", "{'metadata':{'name':'system-high'},'value':1}",
        "metadata.name",
        "Forbidden: priority class names with 'system-' prefix are reserved for system use only. "
        "error: system-high is not a known system priority class");
    expect_error(
        "scheduling.k8s.io", "PriorityClass",
        "{'metadata':{'name':'system-node-critical'},'value':5}", "metadata.name",
        "Forbidden: priority class names with 'system-' prefix are reserved for system use only. "
        "error: value of system-node-critical PriorityClass must be 2000001000");
    expect_error(
        "scheduling.k8s.io", "PriorityClass",
        "{'metadata':{'name':'p'},'value':1,'preemptionPolicy':'Sometimes'}", "preemptionPolicy",
        "Unsupported value: \"Sometimes\": supported values: \"PreemptLowerPriority\", \"Never\"");
    expect_error(
        "", "Event", "{" META ",'involvedObject':{'kind':'Pod','name':'p','namespace':'other'}}",
        "involvedObject.namespace", "Invalid value: \"other\": does not match event.namespace");
}

/* ==== updates ==== */

TEST(test_update_metadata)
{
    const char *old = "{'metadata':{'name':'c','namespace':'ns','uid':'u1','creationTimestamp':'"
                      "2024-01-01T00:00:00Z'}}";
    expect_update_error("", "ConfigMap",
                        "{'metadata':{'name':'d','namespace':'ns','uid':'u1',"
                        "'creationTimestamp':'2024-01-01T00:00:00Z'}}",
                        old, "metadata.name", "Invalid value: \"d\": field is immutable");
    expect_update_error("", "ConfigMap",
                        "{'metadata':{'name':'c','namespace':'ns','uid':'u2',"
                        "'creationTimestamp':'2024-01-01T00:00:00Z'}}",
                        old, "metadata.uid", "Invalid value: \"u2\": field is immutable");
    expect_update_error("", "ConfigMap",
                        "{'metadata':{'name':'c','namespace':'ns2','uid':'u1',"
                        "'creationTimestamp':'2024-01-01T00:00:00Z'}}",
                        old, "metadata.namespace", "Invalid value: \"ns2\": field is immutable");
    expect_update_error("", "ConfigMap",
                        "{'metadata':{'name':'c','namespace':'ns','uid':'u1',"
                        "'creationTimestamp':'2025-01-01T00:00:00Z'}}",
                        old, "metadata.creationTimestamp",
                        "Invalid value: \"2025-01-01T00:00:00Z\": field is immutable");
    expect_update_error(
        "", "ConfigMap",
        "{'metadata':{'name':'c','namespace':'ns','finalizers':['a.io/x','b.io/y']}}",
        "{'metadata':{'name':'c','namespace':'ns','deletionTimestamp':'2024-01-01T00:00:00Z',"
        "'finalizers':['a.io/x']}}",
        "metadata.finalizers",
        "Forbidden: no new finalizers can be added if the object is being deleted, found new "
        "finalizers []string{\"b.io/y\"}");
    expect_valid("", "ConfigMap",
                 "{'metadata':{'name':'c','namespace':'ns','labels':{'a':'b'}},'data':{'x':'y'}}",
                 "{'metadata':{'name':'c','namespace':'ns'}}");
}

TEST(test_update_pod)
{
    const char *old = POD("{'containers':[{'name':'c','image':'nginx:1'}],'tolerations':[{'key':'a'"
                          ",'operator':'Exists'}]}");
    expect_valid("", "Pod",
                 POD("{'containers':[{'name':'c','image':'nginx:2'}],'tolerations':[{'key':'a','"
                     "operator':'Exists'},"
                     "{'key':'b','operator':'Exists'}],'activeDeadlineSeconds':30}"),
                 old);
    expect_prefix(
        "", "Pod",
        POD("{'restartPolicy':'Never','containers':[{'name':'c','image':'nginx:1'}],"
            "'tolerations':[{'key':'a','operator':'Exists'}]}"),
        old, "spec",
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
        "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
        "set to 1 if it was previously negative)");
    expect_update_error(
        "", "Pod", POD("{'containers':[{'name':'c','image':'nginx:1'},{'name':'d','image':'x'}]}"),
        old, "spec.containers", "Forbidden: pod updates may not add or remove containers");
    expect_update_error(
        "", "Pod", POD("{'containers':[{'name':'c','image':'nginx:1'}]}"), old, "spec.tolerations",
        "Forbidden: existing toleration can not be modified except its tolerationSeconds");
    const char *deadline =
        POD("{'activeDeadlineSeconds':30,'containers':[{'name':'c','image':'nginx:1'}]}");
    expect_update_error(
        "", "Pod",
        POD("{'activeDeadlineSeconds':60,'containers':[{'name':'c','image':'nginx:1'}]}"), deadline,
        "spec.activeDeadlineSeconds",
        "Invalid value: 60: must be less than or equal to previous value");
    expect_update_error(
        "", "Pod", POD("{'containers':[{'name':'c','image':'nginx:1'}]}"), deadline,
        "spec.activeDeadlineSeconds",
        "Invalid value: \"null\": must not update from a positive integer to nil value");
    expect_valid("", "Pod",
                 POD("{'activeDeadlineSeconds':10,'containers':[{'name':'c','image':'nginx:1'}]}"),
                 deadline);
    expect_valid("", "Pod", POD("{'terminationGracePeriodSeconds':1,'containers':[" CONTAINER "]}"),
                 POD("{'terminationGracePeriodSeconds':-5,'containers':[" CONTAINER "]}"));
}

/* ValidateContainerStateTransition: a terminated container of a pod that
 * does not restart always may not run again (a late "Running" status must
 * not undo a completion a Job has counted). */
#define POD_STATUS(policy, state)                                                                  \
    "{'apiVersion':'v1','kind':'Pod'," META ",'spec':{'restartPolicy':'" policy "',"               \
    "'containers':[{'name':'c','image':'nginx:1'}]},'status':{'phase':'Running',"                \
    "'containerStatuses':[{'name':'c','image':'nginx:1','imageID':'','ready':false,"             \
    "'restartCount':0,'state':" state "}]}}"
#define TERMINATED(code) "{'terminated':{'exitCode':" #code "}}"
#define RUNNING "{'running':{'startedAt':'2026-01-01T00:00:00Z'}}"

TEST(test_update_pod_status_transitions)
{
    expect_update_error("", "Pod", POD_STATUS("Never", RUNNING), POD_STATUS("Never", TERMINATED(0)),
                        "status.containerStatuses[0].state",
                        "Forbidden: may not be transitioned to non-terminated state");
    expect_update_error("", "Pod", POD_STATUS("OnFailure", RUNNING),
                        POD_STATUS("OnFailure", TERMINATED(0)), "status.containerStatuses[0].state",
                        "Forbidden: may not be transitioned to non-terminated state");
    /* a failed container restarts under OnFailure; anything under Always */
    expect_valid("", "Pod", POD_STATUS("OnFailure", RUNNING), POD_STATUS("OnFailure", TERMINATED(1)));
    expect_valid("", "Pod", POD_STATUS("Always", RUNNING), POD_STATUS("Always", TERMINATED(0)));
    /* running to terminated is the normal way */
    expect_valid("", "Pod", POD_STATUS("Never", TERMINATED(0)), POD_STATUS("Never", RUNNING));
}

TEST(test_update_workloads)
{
    const char *old = DEPLOYMENT("");
    expect_valid("apps", "Deployment", DEPLOYMENT(",'replicas':5"), old);
    const char *moved =
        "{" META ",'spec':{'selector':{'matchLabels':{'app':'x','v':'2'}},"
        "'template':{'metadata':{'labels':{'app':'x','v':'2'}},'spec':" POD_SPEC "}}}";
    expect_update_error(
        "apps", "Deployment", moved, old, "spec.selector",
        "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"x\", "
        "\"v\":\"2\"}, "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
    expect_update_error(
        "apps", "ReplicaSet", moved, old, "spec.selector",
        "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"x\", "
        "\"v\":\"2\"}, "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
    expect_update_error(
        "apps", "DaemonSet", moved, old, "spec.selector",
        "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"x\", "
        "\"v\":\"2\"}, "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
    const char *sts = "{" META ",'spec':{'serviceName':'a','selector':" SELECTOR
                      ",'template':" TEMPLATE(POD_SPEC) "}}";
    expect_valid("apps", "StatefulSet",
                 "{" META
                 ",'spec':{'serviceName':'a','replicas':3,'minReadySeconds':5,'selector':" SELECTOR
                 ",'updateStrategy':{'type':'OnDelete'},'template':" TEMPLATE(
                     "{'containers':[{'name':'c','image':'v2'}]}") "}}",
                 sts);
    expect_update_error(
        "apps", "StatefulSet",
        "{" META ",'spec':{'serviceName':'b','selector':" SELECTOR
        ",'template':" TEMPLATE(POD_SPEC) "}}",
        sts, "spec",
        "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
        "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
        "'minReadySeconds' are forbidden");
    expect_update_error("apps", "ControllerRevision", "{" META ",'data':{'a':2}}",
                        "{" META ",'data':{'a':1}}", "data",
                        "Invalid value: {\"a\":2}: field is immutable");
}

TEST(test_update_jobs)
{
    const char *old = JOB(",'selector':{'matchLabels':{'u':'1'}},'completions':3");
    const char *job_with = "{" META ",'spec':{'selector':{'matchLabels':{'u':'1'}},'completions':3,"
                           "'template':{'metadata':{'labels':{'u':'1'}},%s}}}";
    char body[1024], old_body[1024];
    snprintf(old_body, sizeof old_body, job_with,
             "'spec':{'restartPolicy':'Never','containers':[" CONTAINER "]}");
    snprintf(body, sizeof body, job_with,
             "'spec':{'restartPolicy':'Never','containers':[{'name':'c','image':'v2'}]}");
    expect_prefix("batch", "Job", body, old_body, "spec.template", "Invalid value: {");
    expect_prefix("batch", "Job", body, old_body, "spec.template", "Invalid value: {\"metadata\":");
    (void)old;
    snprintf(body, sizeof body,
             "{" META ",'spec':{'selector':{'matchLabels':{'u':'1'}},'completions':4,"
             "'template':{'metadata':{'labels':{'u':'1'}},'spec':{'restartPolicy':'Never','"
             "containers':[" CONTAINER "]}}}}");
    expect_update_error("batch", "Job", body, old_body, "spec.completions",
                        "Invalid value: 4: field is immutable");
    /* A suspended Job that never ran may move its pods. */
    const char *suspended =
        "{" META ",'spec':{'suspend':true,'selector':{'matchLabels':{'u':'1'}},"
        "'template':{'metadata':{'labels':{'u':'1'}},'spec':{%s'restartPolicy':'Never',"
        "'containers':[" CONTAINER "]}}}}";
    snprintf(old_body, sizeof old_body, suspended, "");
    snprintf(body, sizeof body, suspended, "'nodeSelector':{'zone':'b'},");
    expect_valid("batch", "Job", body, old_body);
}

TEST(test_update_core)
{
    const char *svc = SERVICE("{'clusterIP':'10.0.0.1','ports':[{'port':80}]}");
    expect_update_error("", "Service", SERVICE("{'clusterIP':'10.0.0.2','ports':[{'port':80}]}"),
                        svc, "spec.clusterIPs[0]",
                        "Invalid value: []string{\"10.0.0.2\"}: may not change once set");
    expect_valid("", "Service", SERVICE("{'ports':[{'port':81}]}"), svc);
    const char *cm = "{" META ",'immutable':true,'data':{'a':'1'}}";
    expect_update_error("", "ConfigMap", "{" META ",'immutable':true,'data':{'a':'2'}}", cm, "data",
                        "Forbidden: field is immutable when `immutable` is set");
    expect_update_error("", "ConfigMap", "{" META ",'data':{'a':'1'}}", cm, "immutable",
                        "Forbidden: field is immutable when `immutable` is set");
    expect_valid("", "ConfigMap",
                 "{" META
                 ",'immutable':true,'data':{'a':'1'},'metadata':{'name':'x','namespace':'ns',"
                 "'labels':{'l':'v'}}}",
                 cm);
    expect_update_error("", "Secret", "{" META ",'immutable':true,'data':{'a':'Mg=='}}",
                        "{" META ",'immutable':true,'data':{'a':'MQ=='}}", "data",
                        "Forbidden: field is immutable when `immutable` is set");
    expect_update_error("", "Secret", "{" META ",'type':'example.com/t'}", "{" META "}", "type",
                        "Invalid value: \"example.com/t\": field is immutable");
    const char *pvc =
        "{" META
        ",'spec':{'accessModes':['ReadWriteOnce'],'resources':{'requests':{'storage':'1Gi'}}},"
        "'status':{'phase':'Bound'}}";
    expect_valid(
        "", "PersistentVolumeClaim",
        "{" META
        ",'spec':{'accessModes':['ReadWriteOnce'],'resources':{'requests':{'storage':'2Gi'}}}}",
        pvc);
    expect_update_error(
        "", "PersistentVolumeClaim",
        "{" META
        ",'spec':{'accessModes':['ReadWriteOnce'],'resources':{'requests':{'storage':'512Mi'}}}}",
        pvc, "spec.resources.requests.storage",
        "Forbidden: field can not be less than previous value");
    expect_update_error(
        "", "PersistentVolumeClaim",
        "{" META
        ",'spec':{'accessModes':['ReadWriteMany'],'resources':{'requests':{'storage':'1Gi'}}}}",
        pvc, "spec",
        "Forbidden: spec is immutable after creation except resources.requests for bound claims");
    expect_valid("", "PersistentVolumeClaim",
                 "{" META ",'spec':{'volumeName':'pv1','accessModes':['ReadWriteOnce'],"
                 "'resources':{'requests':{'storage':'1Gi'}}}}",
                 pvc);
    const char *pv = "{'metadata':{'name':'pv'},'spec':{'accessModes':['ReadWriteOnce'],'capacity':"
                     "{'storage':'1Gi'},"
                     "'hostPath':{'path':'/a'}}}";
    expect_update_error("", "PersistentVolume",
                        "{'metadata':{'name':'pv'},'spec':{'accessModes':['ReadWriteOnce'],'"
                        "capacity':{'storage':'1Gi'},"
                        "'hostPath':{'path':'/b'}}}",
                        pv, "spec.persistentvolumesource",
                        "Forbidden: spec.persistentvolumesource is immutable after creation");
    expect_update_error("", "Node", "{'metadata':{'name':'n'},'spec':{'podCIDRs':['10.2.0.0/24']}}",
                        "{'metadata':{'name':'n'},'spec':{'podCIDRs':['10.1.0.0/24']}}",
                        "spec.podCIDRs",
                        "Forbidden: node updates may not change podCIDR except from \"\" to valid");
    expect_valid("", "Node", "{'metadata':{'name':'n'},'spec':{'podCIDRs':['10.2.0.0/24']}}",
                 "{'metadata':{'name':'n'}}");
    expect_update_error("scheduling.k8s.io", "PriorityClass", "{'metadata':{'name':'p'},'value':2}",
                        "{'metadata':{'name':'p'},'value':1}", "value",
                        "Forbidden: may not be changed in an update.");
    expect_update_error("discovery.k8s.io", "EndpointSlice", "{" META ",'addressType':'IPv6'}",
                        "{" META ",'addressType':'IPv4'}", "addressType",
                        "Invalid value: \"IPv6\": field is immutable");
}

/* ==== the schema check (check.c) ==== */

static json_t *check(const char *group, const char *version, const char *kind, const char *body,
                     bool strict, json_t **obj_out)
{
    const struct kube_type *t = kube_schema_kind(group, version, kind);
    assert_non_null(t);
    json_t *obj = parse(body);
    json_t *causes = kube_schema_check(t, obj, strict);
    if (obj_out)
        *obj_out = obj;
    else
        json_decref(obj);
    return causes;
}

static void expect_schema_cause(const char *kind, const char *body, const char *field,
                                const char *message)
{
    json_t *causes = check("", "v1", kind, body, true, NULL);
    size_t i;
    json_t *c;
    json_array_foreach(causes, i, c) {
        if (strcmp(json_string_value(json_object_get(c, "field")), field) == 0 &&
            strcmp(json_string_value(json_object_get(c, "message")), message) == 0) {
            json_decref(causes);
            return;
        }
    }
    print_error("check %s: no cause %s: %s among:\n", kind, field, message);
    print_causes(causes);
    json_decref(causes);
    fail();
}

static void expect_schema_clean(const char *kind, const char *body)
{
    json_t *causes = check("", "v1", kind, body, true, NULL);
    if (causes) {
        print_error("check %s: expected clean, got:\n", kind);
        print_causes(causes);
        json_decref(causes);
        fail();
    }
}

TEST(test_check_types)
{
    expect_schema_cause(
        "Pod", "{'spec':{'containers':[{'name':'c','ports':[{'containerPort':'80'}]}]}}",
        ".spec.containers[0].ports[0].containerPort", "expected an integer, got a string");
    json_t *causes =
        check("", "v1", "Pod", "{'spec':{'containers':[{'ports':[{'containerPort':'80'}]}]}}",
              false, NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(causes, 0), "reason")),
                        "FieldValueTypeInvalid");
    json_decref(causes);
    expect_schema_cause("Pod", "{'spec':{'containers':[{'ports':[{'containerPort':3000000000}]}]}}",
                        ".spec.containers[0].ports[0].containerPort",
                        "expected a 32-bit integer, got 3000000000");
    expect_schema_cause("Pod", "{'spec':{'containers':[{'ports':[{'containerPort':80.0}]}]}}",
                        ".spec.containers[0].ports[0].containerPort",
                        "expected an integer, got a number");
    expect_schema_cause("Pod", "{'spec':{'hostNetwork':'yes'}}", ".spec.hostNetwork",
                        "expected a boolean, got a string");
    expect_schema_cause("Pod", "{'spec':{'containers':{}}}", ".spec.containers",
                        "expected an array, got an object");
    expect_schema_cause("Pod", "{'spec':{'containers':['x']}}", ".spec.containers[0]",
                        "expected an object, got a string");
    expect_schema_cause("Pod", "{'spec':{'nodeSelector':['x']}}", ".spec.nodeSelector",
                        "expected an object, got an array");
    expect_schema_cause("Pod", "{'spec':{'nodeSelector':{'a':1}}}", ".spec.nodeSelector[a]",
                        "expected a string, got an integer");
    expect_schema_cause("Pod", "{'metadata':{'finalizers':[1]}}", ".metadata.finalizers[0]",
                        "expected a string, got an integer");
    expect_schema_cause("Pod", "{'spec':7}", ".spec", "expected an object, got an integer");
    expect_schema_cause("Pod", "{'kind':5}", ".kind", "expected a string, got an integer");
    expect_schema_cause("Service", "{'spec':{'ports':[{'targetPort':1.5}]}}",
                        ".spec.ports[0].targetPort",
                        "expected an integer or a string, got a number");
    expect_schema_cause("Service", "{'spec':{'ports':[{'targetPort':true}]}}",
                        ".spec.ports[0].targetPort",
                        "expected an integer or a string, got a boolean");
    expect_schema_cause("Secret", "{'data':{'a':'not base64!'}}", ".data[a]",
                        "illegal base64 data at input byte 3");
    expect_schema_cause("Secret", "{'data':{'a':'YWJ'}}", ".data[a]",
                        "illegal base64 data at input byte 0");
    expect_schema_cause("Secret", "{'data':{'a':'YQ==YQ=='}}", ".data[a]",
                        "illegal base64 data at input byte 4");
    expect_schema_cause("Pod", "{'metadata':{'creationTimestamp':'yesterday'}}",
                        ".metadata.creationTimestamp",
                        "expected an RFC 3339 time, got \"yesterday\"");
    expect_schema_cause("Pod", "{'metadata':{'creationTimestamp':'2024-02-30T00:00:00Z'}}",
                        ".metadata.creationTimestamp",
                        "expected an RFC 3339 time, got \"2024-02-30T00:00:00Z\"");
    expect_schema_cause("Pod", "{'metadata':{'creationTimestamp':5}}",
                        ".metadata.creationTimestamp",
                        "expected an RFC 3339 time string, got an integer");
    expect_schema_cause("Pod", "{'spec':{'overhead':{'cpu':true}}}", ".spec.overhead[cpu]",
                        "expected a quantity (a string like \"100m\" or a number), got a boolean");
    expect_schema_clean(
        "Pod",
        "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p','labels':null,'annotations':{},"
        "'creationTimestamp':'2024-02-29T23:59:59.123+05:30','managedFields':[{'fieldsV1':{'f:x':{}"
        "}}]},"
        "'spec':{'containers':[{'name':'c','ports':[{'containerPort':80}],'resources':{'limits':"
        "{'cpu':0.5,'memory':'1Gi'}}}],'volumes':null,'nodeSelector':{'a':'b'},"
        "'terminationGracePeriodSeconds':9223372036854775807}}");
    expect_schema_clean("Secret", "{'data':{'a':'YWJj','b':'YQ==','c':'','d':'YW\\nJj','e':null}}");
    expect_schema_clean("Service",
                        "{'spec':{'ports':[{'targetPort':8080},{'targetPort':'http'}]}}");
}

TEST(test_check_quantities)
{
    /* "Gi" sic: Go reads a missing number as 0. */
    static const char *const good[] = {"100m", "1Gi", "1e3", "0.5", "1",  "-1", "+1",
                                       "1.",   ".5",  "1E-3", "10Ki", "5Ei", "2n", "3u",
                                       "1k",   "1M",  "1T",  "1P",   "1E",  "0",  "Gi"};
    static const char *const bad[] = {"",    "1Zi", "abc", "1.2.3", "1 Gi",
                                      "1GG", "1e",  "1i",  "1Ki5",  "--1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char body[128];
        snprintf(body, sizeof body, "{'spec':{'overhead':{'cpu':'%s'}}}", good[i]);
        expect_schema_clean("Pod", body);
        assert_true(kube_quantity_parse(good[i], NULL));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[128];
        snprintf(body, sizeof body, "{'spec':{'overhead':{'cpu':'%s'}}}", bad[i]);
        json_t *causes = check("", "v1", "Pod", body, true, NULL);
        if (json_array_size(causes) != 1)
            fail_msg("quantity %s: expected one cause", bad[i]);
        json_decref(causes);
        assert_false(kube_quantity_parse(bad[i], NULL));
    }
    expect_schema_cause("Pod", "{'spec':{'overhead':{'cpu':'1GG'}}}", ".spec.overhead[cpu]",
                        "unable to parse quantity's suffix");
    expect_schema_cause("Pod", "{'spec':{'overhead':{'cpu':'1 Gi'}}}", ".spec.overhead[cpu]",
                        "quantities must match the regular expression "
                        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    double v;
    assert_true(kube_quantity_parse("100m", &v));
    assert_true(v > 0.0999 && v < 0.1001);
    assert_true(kube_quantity_parse("1Gi", &v));
    assert_true(v == 1073741824.0);
    assert_true(kube_quantity_parse("1.5k", &v));
    assert_true(v == 1500.0);
    assert_true(kube_quantity_parse("-2e2", &v));
    assert_true(v == -200.0);
    assert_false(kube_quantity_parse(NULL, &v));
}

TEST(test_check_unknown_fields)
{
    const char *body =
        "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d','nmae':'x'},"
        "'spec':{'foo':1,'template':{'spec':{'containers':[{'name':'c','imagee':'x'}]}}},'extra':{}"
        "}";
    json_t *causes = check("apps", "v1", "Deployment", body, true, NULL);
    assert_int_equal(json_array_size(causes), 4);
    static const char *const fields[] = {".metadata.nmae", ".spec.foo",
                                         ".spec.template.spec.containers[0].imagee", ".extra"};
    for (size_t i = 0; i < 4; i++) {
        json_t *c = json_array_get(causes, i);
        char msg[128];
        snprintf(msg, sizeof msg, "unknown field \"%s\"", fields[i] + 1);
        assert_string_equal(json_string_value(json_object_get(c, "field")), fields[i]);
        assert_string_equal(json_string_value(json_object_get(c, "message")), msg);
        assert_string_equal(json_string_value(json_object_get(c, "reason")), "FieldValueInvalid");
    }
    json_decref(causes);
    /* Not strict: the same fields are pruned, and nothing is reported. */
    json_t *obj;
    causes = check("apps", "v1", "Deployment", body, false, &obj);
    assert_null(causes);
    json_t *want = parse("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d'},"
                         "'spec':{'template':{'spec':{'containers':[{'name':'c'}]}}}}");
    assert_true(json_equal(obj, want));
    json_decref(obj);
    json_decref(want);
    /* Inline members (a Volume's sources) are fields of their holder. */
    expect_schema_clean("Pod", "{'spec':{'volumes':[{'name':'v','configMap':{'name':'c'}}]}}");
    expect_schema_cause("Pod", "{'spec':{'volumes':[{'name':'v','volumeSource':{}}]}}",
                        ".spec.volumes[0].volumeSource",
                        "unknown field \"spec.volumes[0].volumeSource\"");
}

TEST(test_check_limits)
{
    /* Not an object at all. */
    json_t *arr = json_array();
    json_t *causes = kube_schema_check(kube_schema_kind("", "v1", "Pod"), arr, true);
    assert_int_equal(json_array_size(causes), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(causes, 0), "message")),
                        "expected an object, got an array");
    json_decref(causes);
    json_decref(arr);
    /* A flood of errors is cut at 100 causes. */
    json_t *obj = parse("{'spec':{'containers':[]}}");
    json_t *containers = json_object_get(json_object_get(obj, "spec"), "containers");
    for (int i = 0; i < 500; i++)
        json_array_append_new(containers, json_integer(i));
    causes = kube_schema_check(kube_schema_kind("", "v1", "Pod"), obj, true);
    assert_int_equal(json_array_size(causes), 100);
    json_decref(causes);
    json_decref(obj);
    /* A path too long for the buffer is cut, and says so. */
    struct {
        char s[1500];
    } deep;
    int n = snprintf(deep.s, sizeof deep.s, "{'metadata':{'labels':{'");
    memset(deep.s + n, 'k', 1200);
    snprintf(deep.s + n + 1200, sizeof deep.s - n - 1200, "':1}}}");
    obj = parse(deep.s);
    causes = kube_schema_check(kube_schema_kind("", "v1", "Pod"), obj, true);
    assert_int_equal(json_array_size(causes), 1);
    const char *field = json_string_value(json_object_get(json_array_get(causes, 0), "field"));
    assert_int_equal(strncmp(field, ".metadata.labels[kkkk", 21), 0);
    assert_int_equal(strlen(field), 1023);
    assert_string_equal(field + 1020, "...");
    json_decref(causes);
    json_decref(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_objects),
        cmocka_unit_test(test_meta_names),
        cmocka_unit_test(test_field_paths),
        cmocka_unit_test(test_meta_namespace),
        cmocka_unit_test(test_meta_labels_annotations),
        cmocka_unit_test(test_meta_finalizers_owners),
        cmocka_unit_test(test_pod_containers),
        cmocka_unit_test(test_pod_ports),
        cmocka_unit_test(test_pod_resources),
        cmocka_unit_test(test_pod_spec_fields),
        cmocka_unit_test(test_pod_volumes),
        cmocka_unit_test(test_pod_env_and_probes),
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_workload_selectors),
        cmocka_unit_test(test_deployment),
        cmocka_unit_test(test_daemonset_statefulset),
        cmocka_unit_test(test_job),
        cmocka_unit_test(test_cronjob),
        cmocka_unit_test(test_config_map_secret),
        cmocka_unit_test(test_namespace_node),
        cmocka_unit_test(test_storage),
        cmocka_unit_test(test_hpa_lease_slice_priority),
        cmocka_unit_test(test_update_metadata),
        cmocka_unit_test(test_update_pod),
        cmocka_unit_test(test_update_pod_status_transitions),
        cmocka_unit_test(test_update_workloads),
        cmocka_unit_test(test_update_jobs),
        cmocka_unit_test(test_update_core),
        cmocka_unit_test(test_check_types),
        cmocka_unit_test(test_check_quantities),
        cmocka_unit_test(test_check_unknown_fields),
        cmocka_unit_test(test_check_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
