/* route_pattern: the path patterns of routes.json and the one test of a
 * request path against them. A pattern is an exact path ("/admin"), may
 * hold parameter segments ("/users/{id}", one non-empty segment each) and
 * may end in a rest segment ("/api/orders/" then "*": "/api/orders/" and
 * anything below). Request paths are matched raw (never percent-decoded), and
 * only when canonical (route_path_is_canonical), so no spelling of a path can
 * reach one rule through another. */
#ifndef RESOURCE_ROUTE_PATTERN_H
#define RESOURCE_ROUTE_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

/* Higher is more specific: at the first segment where two matching
 * patterns differ, a literal beats a parameter beats a rest segment. */
enum route_seg_kind {
	ROUTE_SEG_REST = 1,
	ROUTE_SEG_PARAM = 2,
	ROUTE_SEG_LITERAL = 3,
};

struct route_seg {
	enum route_seg_kind kind;
	const char *text; /* into the pattern's text; the literal or name */
	size_t len;
};

struct route_pattern {
	char *text; /* as written in routes.json */
	struct route_seg *segs;
	size_t n_segs;
};

/* Compiles s[0..len) into p (route_pattern_clear frees it). -1 when s is
 * not a pattern: not absolute, a byte outside RFC 3986 pchar, a '%', an
 * empty segment before the last, a "." or ".." segment, '*' other than a
 * whole last segment, braces other than a whole {name} segment. */
int route_pattern_compile(const char *s, size_t len, struct route_pattern *p);
void route_pattern_clear(struct route_pattern *p);

/* Does the canonical request path match? */
bool route_pattern_match(const struct route_pattern *p, const char *path);

/* > 0 when a is more specific than b, < 0 when b is, 0 when both have the
 * same shape (and so, with equal literals, match the same paths). */
int route_pattern_compare(
    const struct route_pattern *a, const struct route_pattern *b);

/* Same shape and same literals: two such patterns match exactly the same
 * paths and neither takes precedence. */
bool route_pattern_same(
    const struct route_pattern *a, const struct route_pattern *b);

/* A path any rule may match: absolute; no empty segment but the last
 * ("//admin"); no segment that is "." or ".." once its ";parameters" are
 * cut and its percent-encoding decoded ("/%2e%2e/", "/..;/"); no
 * percent-encoding that is malformed or spells an unreserved character
 * ("/%61dmin", RFC 3986 6.2.2.2), a '/', a '\\', a ';', a '%' or a control
 * byte; no raw
 * '\\' or byte outside printable ASCII. A proxy or an upstream may
 * normalise any of these into another route's path; such a path matches
 * no rule at all (RFC 3986 5.2.4, 6.2.2). */
bool route_path_is_canonical(const char *path);

#endif
