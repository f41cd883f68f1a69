/* podlog.c — what a hollow container "printed": the log the kubelet
 * endpoint serves for `kubectl logs` (kubelet.c streams it).
 *
 * A hollow container runs nothing, so its log is made up from the pod as
 * the API has it: the lines of the pod's annotation bosun.dev/hollow-log
 * if it has one (a Job's "output", say), else a line saying it started
 * and, once it has terminated, a line with its exit code. Every line is
 * stamped with the container's startedAt (finishedAt for the exit line),
 * so sinceSeconds and timestamps mean what they do on a real node. The
 * lines only grow: those of a running container stay, and termination
 * adds at the end, which is what lets a follower send only the new ones.
 *
 * Formatting is the kubelet's: "RFC3339Nano text" with timestamps, and
 * limitBytes cuts the output, even mid-line, at that many bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "util/util.h"

static json_t *named(json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *n = json_string_value(json_object_get(v, "name"));
        if (n && strcmp(n, name) == 0)
            return v;
    }
    return NULL;
}

bool agent_pod_container(json_t *pod, const char *name, json_t **spec, json_t **status)
{
    json_t *sp = json_object_get(pod, "spec"), *st = json_object_get(pod, "status");
    *spec = named(json_object_get(sp, "containers"), name);
    *status = named(json_object_get(st, "containerStatuses"), name);
    if (!*spec) {
        *spec = named(json_object_get(sp, "initContainers"), name);
        *status = named(json_object_get(st, "initContainerStatuses"), name);
    }
    return *spec != NULL;
}

static void log_add(struct agent_log *l, int64_t ms, const char *text, size_t len)
{
    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n].ms = ms;
    l->v[l->n].text = xstrndup(text, len);
    l->n++;
}

void agent_log_free(struct agent_log *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].text);
    free(l->v);
    memset(l, 0, sizeof *l);
}

bool agent_log_make(json_t *pod, const char *container, struct agent_log *l)
{
    json_t *spec, *status;
    memset(l, 0, sizeof *l);
    if (!agent_pod_container(pod, container, &spec, &status))
        return false;
    json_t *state = json_object_get(status, "state");
    json_t *run = json_object_get(state, "running"), *term = json_object_get(state, "terminated");
    if (!run && !term)
        return true; /* not started: nothing yet */
    int64_t start = agent_time_parse(json_string_value(json_object_get(run ? run : term,
                                                                       "startedAt")));
    const char *text = json_string_value(json_object_get(
        json_object_get(json_object_get(pod, "metadata"), "annotations"), AGENT_LOG_ANNOTATION));
    l->ended = term != NULL;
    if (text) {
        while (*text) {
            size_t n = strcspn(text, "\n");
            log_add(l, start, text, n);
            text += n + (text[n] == '\n');
        }
        return true;
    }
    char line[1024];
    const char *image = json_string_value(json_object_get(spec, "image"));
    const char *node = json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
    snprintf(line, sizeof line,
             "hollow container \"%s\" started on node %s from image \"%s\" (nothing runs in a "
             "hollow pod)",
             container, node ? node : "", image ? image : "");
    log_add(l, start, line, strlen(line));
    if (term) {
        int64_t end = agent_time_parse(json_string_value(json_object_get(term, "finishedAt")));
        const char *reason = json_string_value(json_object_get(term, "reason"));
        snprintf(line, sizeof line, "hollow container \"%s\" exited with code %lld (%s)",
                 container, json_integer_value(json_object_get(term, "exitCode")),
                 reason ? reason : "Completed");
        log_add(l, end, line, strlen(line));
    }
    return true;
}

bool agent_log_format(const struct agent_log *l, size_t from, const struct agent_log_opts *o,
                      long *sent, struct ubuf *out)
{
    for (size_t i = from; i < l->n; i++) {
        if (o->since_ms && l->v[i].ms < o->since_ms)
            continue;
        size_t before = out->len;
        if (o->timestamps) {
            char ts[40];
            agent_time_rfc3339(l->v[i].ms, ts, sizeof ts);
            /* RFC 3339 with nanoseconds, as the kubelet stamps lines */
            ubuf_appendf(out, "%.19s.%09lldZ ", ts, (long long)(l->v[i].ms % 1000) * 1000000);
        }
        ubuf_appendf(out, "%s\n", l->v[i].text);
        if (o->limit >= 0) {
            long room = o->limit - *sent;
            long n = (long)(out->len - before);
            if (n >= room) {
                out->len = before + (size_t)(room > 0 ? room : 0);
                *sent = o->limit;
                return true;
            }
            *sent += n;
        }
    }
    return false;
}
