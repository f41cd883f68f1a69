/* body.c — request bodies into JSON, by Content-Type.
 *
 *   application/json, application/...+json  JSON (patches: merge, json, SMP)
 *   application/yaml, application/apply-patch+yaml   YAML (codec/yaml.c),
 *                                           which also reads JSON
 *   application/vnd.kubernetes.protobuf    Kubernetes' protobuf envelope,
 *                                           decoded with the schema
 *                                           (kube/protobuf.c): kubectl 1.32's
 *                                           create generators send it
 * An empty Content-Type is read as JSON. Anything else is 415. A body that
 * does not parse is 400 with the parser's message. */
#include <stdio.h>
#include <string.h>

#include "codec/codec.h"
#include "kube/kube.h"
#include "server/internal.h"

enum body_format { BODY_JSON, BODY_YAML, BODY_PROTOBUF, BODY_UNSUPPORTED };

const char *request_header(struct request *rq, const char *name)
{
    if (rq->inproc)
        return inproc_header(rq->inproc, name);
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

/* The media type of the body, without parameters, lowercased. */
void request_media_type(struct request *rq, char *out, size_t len)
{
    const char *ct = request_header(rq, "Content-Type");
    size_t n = ct ? strcspn(ct, ";") : 0, j = 0;
    while (n && ct[n - 1] == ' ')
        n--;
    for (size_t i = 0; i < n && j + 1 < len; i++)
        out[j++] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ? ct[i] + 32 : ct[i]);
    out[j] = '\0';
}

static enum body_format format_of(const char *mt)
{
    size_t n = strlen(mt);
    if (n == 0 || strcmp(mt, "application/json") == 0 ||
        (strncmp(mt, "application/", 12) == 0 && n > 17 && strcmp(mt + n - 5, "+json") == 0))
        return BODY_JSON;
    if (strcmp(mt, "application/yaml") == 0 || strcmp(mt, "application/apply-patch+yaml") == 0 ||
        strcmp(mt, "text/yaml") == 0)
        return BODY_YAML;
    if (strcmp(mt, "application/vnd.kubernetes.protobuf") == 0)
        return BODY_PROTOBUF;
    return BODY_UNSUPPORTED;
}

json_t *body_decode_any(struct request *rq, enum MHD_Result *ret)
{
    char mt[128], err[512] = "";
    request_media_type(rq, mt, sizeof mt);
    const char *data = rq->body.data ? rq->body.data : "";
    json_t *v = NULL;
    switch (format_of(mt)) {
    case BODY_JSON: {
        json_error_t e;
        v = codec_json_load(data, rq->body.len, JSON_DECODE_ANY, &e);
        if (!v)
            snprintf(err, sizeof err, "the request body is not valid JSON: %s (line %d)", e.text,
                     e.line);
        break;
    }
    case BODY_YAML:
        v = codec_yaml_to_json(data, rq->body.len, err, sizeof err);
        break;
    case BODY_PROTOBUF:
        v = kube_protobuf_decode(data, rq->body.len, err, sizeof err);
        break;
    case BODY_UNSUPPORTED:
        *ret = reply_status(rq, 415, "UnsupportedMediaType",
                            "the body's media type \"%s\" is not supported", mt);
        return NULL;
    }
    if (!v)
        *ret = reply_status(rq, 400, "BadRequest", "%s", err[0] ? err : "cannot decode the body");
    return v;
}

json_t *body_decode_object(struct request *rq, enum MHD_Result *ret)
{
    json_t *v = body_decode_any(rq, ret);
    if (v && !json_is_object(v)) {
        json_decref(v);
        *ret = reply_status(rq, 400, "BadRequest", "the request body must be an object");
        return NULL;
    }
    return v;
}
