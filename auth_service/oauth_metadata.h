/* oauth_metadata: the authorization server metadata document (RFC 8414),
 * every URL in it built from the issuer, so it is right behind a proxy
 * that the issuer setting names. */
#ifndef AUTH_OAUTH_METADATA_H
#define AUTH_OAUTH_METADATA_H

#include <json-c/json.h>
#include <stdbool.h>

/* The document for issuer (no trailing '/' needed); password_grant says
 * whether grant_type=password is offered. NULL out of memory. */
struct json_object *oauth_metadata(const char *issuer, bool password_grant);

#endif
