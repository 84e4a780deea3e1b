/* admin_fetch: one bounded HTTP GET with libevent's client, for
 * "token inspect --jwks-url". Plain http only: the JWKS is public and
 * the verifier in resource_service fetches it the same way. */
#ifndef AUTH_ADMIN_FETCH_H
#define AUTH_ADMIN_FETCH_H

#include <stddef.h>

#include "err.h"

#define ADMIN_FETCH_MAX (256L * 1024) /* bytes of a response body */
#define ADMIN_FETCH_TIMEOUT 10        /* seconds */

/* GETs url ("http://host[:port]/path"); a 200 body is returned in *body
 * (malloc'd, NUL-terminated). Errors: ERR_CONFIG for an unusable URL,
 * ERR_IO for a failed request, another status or an oversized body. */
int admin_fetch(const char *url, char **body, size_t *len, struct err *e);

#endif
