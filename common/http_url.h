/* http_url: the one check of an http:// or https:// URL this project
 * fetches from (the issuer's JWKS, for the verifier and jwt-admin alike),
 * split into what an HTTP/1.1 client needs. */
#ifndef JWT_HTTP_URL_H
#define JWT_HTTP_URL_H

#include <stdbool.h>

#include "err.h"

struct http_url {
	char *connect_host; /* the name or address to connect to: an IPv6
	                       literal without its brackets */
	char *host_header;  /* Host: host[:port] as written (RFC 9110 7.2) */
	char *target;       /* origin-form path[?query], "/" when empty */
	int port;           /* 80 (https: 443) when the URL names none */
	bool tls;           /* https:// */
};

/* Accepts http[s]://host[:port][/path][?query]: no other scheme, no
 * userinfo (a password has no place in a config file's URL), no fragment
 * (RFC 9110 4.2.1: never sent). ERR_CONFIG saying what is wrong; *out is
 * the caller's to clear on success. */
int http_url_parse(const char *url, struct http_url *out, struct err *e);
void http_url_clear(struct http_url *u);

#endif
