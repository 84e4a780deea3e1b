/* forward_auth: the proxy side of the forward-auth endpoint (nginx
 * auth_request, Traefik ForwardAuth): which peers may ask, the original
 * method and request-target a proxy forwards in X-Original-Method /
 * X-Original-URI or X-Forwarded-Method / X-Forwarded-Uri, and the 200
 * answer's X-Auth-Request-* headers. The decision itself is the routes'
 * (route_config_match, then guard_decide). */
#ifndef RESOURCE_FORWARD_AUTH_H
#define RESOURCE_FORWARD_AUTH_H

#include <event2/http.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "err.h"
#include "verify.h"

#define FORWARD_AUTH_MAX_PEERS 64

/* Peers allowed to call the endpoint besides loopback, which always is. */
struct forward_auth_peers;

/* Parses a NULL-terminated list of addresses and CIDR ranges ("10.0.0.5",
 * "10.0.0.0/8", "fd00::/8"). label and field name the source in errors:
 * "resource.json: forward_auth_peers: ...". ERR_CONFIG. */
int forward_auth_peers_parse(char *const *list, const char *label,
    const char *field, struct forward_auth_peers **out, struct err *e);
void forward_auth_peers_free(struct forward_auth_peers *p);

/* Is this address loopback or in the list (p may be NULL: loopback
 * only)? An IPv4-mapped IPv6 address counts as its IPv4 address. */
bool forward_auth_addr_allowed(
    const struct forward_auth_peers *p, const struct sockaddr *sa);

/* The same for the peer of req's connection. */
bool forward_auth_peer_allowed(
    const struct forward_auth_peers *p, struct evhttp_request *req);

/* The request a proxy asks about. */
struct forward_auth_target {
	enum evhttp_cmd_type method;
	bool method_routable;    /* false: a method no rule may name */
	const char *method_name; /* as forwarded; into req's headers */
	const char *uri;         /* into req's headers */
};

/* Reads the original method and request-target: each from exactly one
 * header of its pair; when both names of a pair are present they must
 * agree (a client's spoofed X-Forwarded-Uri next to the proxy's
 * X-Original-URI is no guess). A missing, repeated, conflicting or empty
 * header is ERR_INVALID_REQUEST: the proxy is misconfigured. */
int forward_auth_target(
    struct evhttp_request *req, struct forward_auth_target *t, struct err *e);

/* Writes s[0..len) for a header value: bytes outside visible ASCII and
 * '%' itself as %XX (RFC 3986 2.1), so no claim can end the header or
 * start another, and a space can separate list items. Returns the length
 * written; out holds at least 3 * len + 1 bytes. */
size_t forward_auth_escape(const char *s, size_t len, char *out);

/* 200 for an allowed request: with a token, X-Auth-Request-User (the
 * username claim, else sub), X-Auth-Request-Sub and
 * X-Auth-Request-Permissions (space-separated), each escaped; a public
 * rule's answer (t NULL) carries none. Never stored. -1 (ERR_NOMEM,
 * nothing sent) when a header could not be added. */
int forward_auth_reply_granted(
    struct evhttp_request *req, const struct access_token *t, struct err *e);

#endif
