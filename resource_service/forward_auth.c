/* forward_auth: trusted peers, the forwarded method and target, and the
 * granted answer of the forward-auth endpoint. */
#include "forward_auth.h"

#include <arpa/inet.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_util.h"
#include "route_config.h"

struct forward_auth_range {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned bits;
};

struct forward_auth_peers {
	struct forward_auth_range ranges[FORWARD_AUTH_MAX_PEERS];
	size_t n;
};

static int
parse_range(const char *s, struct forward_auth_range *r)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, r->addr) == 1) {
		r->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, r->addr) == 1) {
		r->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	r->bits = max;
	if (slash != NULL) {
		char *end;
		unsigned long bits;

		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || bits > max)
			return -1;
		r->bits = (unsigned)bits;
	}
	return 0;
}

int
forward_auth_peers_parse(char *const *list, const char *label,
    const char *field, struct forward_auth_peers **out, struct err *e)
{
	struct forward_auth_peers *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return err_set(e, ERR_NOMEM, "%s", field);
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		if (p->n == FORWARD_AUTH_MAX_PEERS) {
			free(p);
			return err_set(e, ERR_CONFIG,
			    "%s: %s: more than %d entries", label, field,
			    FORWARD_AUTH_MAX_PEERS);
		}
		if (parse_range(list[i], &p->ranges[p->n]) == -1) {
			err_set(e, ERR_CONFIG,
			    "%s: %s: expected IP addresses or CIDR ranges, got "
			    "\"%.60s\"",
			    label, field, list[i]);
			free(p);
			return -1;
		}
		p->n++;
	}
	*out = p;
	return 0;
}

void
forward_auth_peers_free(struct forward_auth_peers *p)
{
	free(p);
}

static bool
in_range(
    const struct forward_auth_range *r, int family, const unsigned char *addr)
{
	unsigned full = r->bits / 8, rest = r->bits % 8;

	if (r->family != family || memcmp(r->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((r->addr[full] ^ addr[full]) & (0xff << (8 - rest)) & 0xff) ==
	       0;
}

bool
forward_auth_addr_allowed(
    const struct forward_auth_peers *p, const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	const unsigned char *addr;
	int family;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		addr = (const unsigned char *)&((const struct sockaddr_in *)sa)
		           ->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		family = AF_INET6;
		addr = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			family =
			    AF_INET; /* ::ffff:a.b.c.d (RFC 4291 2.5.5.2) */
			addr += sizeof(mapped);
		}
	} else {
		return false;
	}
	if ((family == AF_INET && addr[0] == 127) ||
	    (family == AF_INET6 &&
	        memcmp(addr, &in6addr_loopback, sizeof(in6addr_loopback)) == 0))
		return true;
	for (size_t i = 0; p != NULL && i < p->n; i++)
		if (in_range(&p->ranges[i], family, addr))
			return true;
	return false;
}

bool
forward_auth_peer_allowed(
    const struct forward_auth_peers *p, struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);

	return conn != NULL &&
	       forward_auth_addr_allowed(p, evhttp_connection_get_addr(conn));
}

/* The one value of a pair of header names (the proxy's own, and the
 * X-Forwarded-* spelling Traefik sends). */
static int
one_of(struct evhttp_request *req, const char *name_a, const char *name_b,
    const char **out, struct err *e)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *a = NULL, *b = NULL;

	for (struct evkeyval *kv = h->tqh_first; kv != NULL;
	     kv = kv->next.tqe_next) {
		const char **slot = strcasecmp(kv->key, name_a) == 0   ? &a
		                    : strcasecmp(kv->key, name_b) == 0 ? &b
		                                                       : NULL;
		if (slot == NULL)
			continue;
		if (*slot != NULL)
			return err_set(e, ERR_INVALID_REQUEST,
			    "repeated %s header", kv->key);
		*slot = kv->value;
	}
	if (a != NULL && b != NULL && strcmp(a, b) != 0)
		return err_set(e, ERR_INVALID_REQUEST, "%s and %s disagree",
		    name_a, name_b);
	*out = a != NULL ? a : b;
	if (*out == NULL || (*out)[0] == '\0')
		return err_set(e, ERR_INVALID_REQUEST, "no %s or %s header",
		    name_a, name_b);
	return 0;
}

int
forward_auth_target(
    struct evhttp_request *req, struct forward_auth_target *t, struct err *e)
{
	const char *method;

	*t = (struct forward_auth_target){ 0 };
	if (one_of(req, "X-Original-Method", "X-Forwarded-Method", &method,
	        e) == -1 ||
	    one_of(req, "X-Original-URI", "X-Forwarded-Uri", &t->uri, e) == -1)
		return -1;
	t->method_name = method;
	/* A method no rule may name (PROPFIND, TRACE, ...) is not an error
	 * of the proxy: no rule allows it, so it is denied. */
	t->method_routable = route_config_method_parse(
	                         method, strlen(method), &t->method) == 0 &&
	                     t->method != EVHTTP_REQ_TRACE &&
	                     t->method != EVHTTP_REQ_CONNECT;
	return 0;
}

size_t
forward_auth_escape(const char *s, size_t len, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c > 0x20 && c < 0x7f && c != '%') {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '%';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	out[o] = '\0';
	return o;
}

static int
add_escaped(
    struct evkeyvalq *h, const char *name, const struct verify_str *v, size_t n)
{
	size_t room = 1, o = 0;
	char *value;
	int rc;

	for (size_t i = 0; i < n; i++)
		room += 3 * v[i].len + 1;
	if ((value = malloc(room)) == NULL)
		return -1;
	value[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			value[o++] = ' ';
		o += forward_auth_escape(v[i].s, v[i].len, value + o);
	}
	rc = evhttp_add_header(h, name, value);
	free(value);
	return rc;
}

int
forward_auth_reply_granted(
    struct evhttp_request *req, const struct access_token *t, struct err *e)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	/* A header that could not be added fails the request: an upstream
	 * must never see an allowed request without its user. */
	if (t != NULL &&
	    (add_escaped(h, "X-Auth-Request-User",
	         t->username.s != NULL ? &t->username : &t->sub, 1) == -1 ||
	        add_escaped(h, "X-Auth-Request-Sub", &t->sub, 1) == -1 ||
	        add_escaped(h, "X-Auth-Request-Permissions", t->permissions,
	            t->n_permissions) == -1))
		return err_set(e, ERR_NOMEM, "X-Auth-Request headers");
	/* The answer is about this token and this target only. */
	evhttp_add_header(h, "Cache-Control", "no-store");
	http_send_framed(req, HTTP_OK, "OK", NULL);
	return 0;
}
