/* json_util: bounded, strict JSON in (RFC 8259) over json-c, and typed
 * getters that carry strings as (pointer, length) so an embedded NUL can
 * never shorten a password, a token or a permission. */
#ifndef JWT_JSON_UTIL_H
#define JWT_JSON_UTIL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define JSON_DEFAULT_MAX_DEPTH 16

/* Parses buf[0..len) as exactly one JSON value: JSON_TOKENER_STRICT with
 * UTF-8 validation, the whole input consumed (trailing whitespace only),
 * no comments, NaN/Infinity, single quotes, nesting deeper than max_depth,
 * or duplicate member names in any object. On failure sets fail_code
 * (e.g. ERR_INVALID_REQUEST for bodies, ERR_TOKEN_MALFORMED for tokens). */
int json_parse_strict(const char *buf, size_t len, int max_depth,
    enum err_code fail_code, struct json_object **out, struct err *e);

/* Getters on an object. A missing member or a member of another type is
 * ERR_INVALID_REQUEST naming the member. Strings are borrowed from obj. */
int json_get_string(struct json_object *obj, const char *key, const char **s,
    size_t *len, struct err *e);
/* Like json_get_string, but a missing member gives *s = NULL, returns 0. */
int json_get_string_opt(struct json_object *obj, const char *key,
    const char **s, size_t *len, struct err *e);

/* True if v is a JSON string whose bytes are exactly s[0..len). */
bool json_string_equals(struct json_object *v, const char *s, size_t len);

/* Adds key: value (a copy of the C string) to obj. -1 if out of memory:
 * json_object_new_string's NULL would otherwise be added as null. */
int json_add_string(
    struct json_object *obj, const char *key, const char *value);

/* A JSON number that is an integer in int64 range (json-c saturates on
 * overflow; this rejects it). */
int json_get_int64(struct json_object *v, int64_t *out);

/* A JSON number (integer or finite double) as a NumericDate (RFC 7519
 * section 2): floor of the value, which must be finite and in int64 range.
 * Callers compare it with a leeway without overflow (claims_check). */
int json_get_numeric_date(struct json_object *v, int64_t *out);

#endif
