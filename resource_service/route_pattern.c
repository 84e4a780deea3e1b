/* route_pattern: compiling routes.json paths into segments, matching
 * canonical request paths against them, and ordering two patterns by
 * specificity. */
#include "route_pattern.h"

#include <stdlib.h>
#include <string.h>

#include "hex.h"

/* unreserved / sub-delims / ":" / "@" (RFC 3986 3.3), without '*', which
 * a pattern uses for its rest segment. */
static bool
is_pchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-._~!$&'()+,;=:@", c) != NULL);
}

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

static bool
is_dot_segment(const char *s, size_t len)
{
	return (len == 1 && s[0] == '.') ||
	       (len == 2 && s[0] == '.' && s[1] == '.');
}

void
route_pattern_clear(struct route_pattern *p)
{
	free(p->text);
	free(p->segs);
	*p = (struct route_pattern){ 0 };
}

static bool
is_param(const char *seg, size_t len)
{
	if (len < 3 || seg[0] != '{' || seg[len - 1] != '}')
		return false;
	for (size_t i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char)seg[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static bool
is_literal(const char *seg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_pchar((unsigned char)seg[i]))
			return false;
	return !is_dot_segment(seg, len);
}

int
route_pattern_compile(const char *s, size_t len, struct route_pattern *p)
{
	size_t n = 0, pos = 1;

	*p = (struct route_pattern){ 0 };
	if (len == 0 || s[0] != '/' || memchr(s, '\0', len) != NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '/';
	if ((p->text = strndup(s, len)) == NULL ||
	    (p->segs = calloc(n, sizeof(*p->segs))) == NULL)
		goto fail;
	for (size_t k = 0; k < n; k++) {
		const char *seg = p->text + pos;
		size_t sl = strcspn(seg, "/");
		bool last = k + 1 == n;
		struct route_seg *g = &p->segs[k];

		/* "//" would match only a path no rule may match. */
		if (sl == 0 && !last)
			goto fail;
		if (sl == 1 && seg[0] == '*') {
			if (!last)
				goto fail;
			*g = (struct route_seg){ ROUTE_SEG_REST, seg, 1 };
		} else if (is_param(seg, sl)) {
			*g = (struct route_seg){ ROUTE_SEG_PARAM, seg + 1,
				sl - 2 };
		} else if (is_literal(seg, sl)) {
			*g = (struct route_seg){ ROUTE_SEG_LITERAL, seg, sl };
		} else {
			goto fail;
		}
		pos += sl + 1;
	}
	p->n_segs = n;
	return 0;
fail:
	route_pattern_clear(p);
	return -1;
}

bool
route_pattern_match(const struct route_pattern *p, const char *path)
{
	const char *q = path + 1; /* after the leading '/' */

	for (size_t k = 0; k < p->n_segs; k++) {
		const struct route_seg *g = &p->segs[k];
		size_t sl;

		if (g->kind == ROUTE_SEG_REST)
			return true; /* "/prefix/" was matched: anything below
			              */
		sl = strcspn(q, "/");
		if (g->kind == ROUTE_SEG_PARAM
		        ? sl == 0
		        : (sl != g->len || memcmp(q, g->text, sl) != 0))
			return false;
		q += sl;
		if (k + 1 == p->n_segs)
			return *q == '\0';
		if (*q != '/')
			return false;
		q++;
	}
	return false;
}

int
route_pattern_compare(
    const struct route_pattern *a, const struct route_pattern *b)
{
	for (size_t k = 0; k < a->n_segs && k < b->n_segs; k++) {
		if (a->segs[k].kind != b->segs[k].kind)
			return (int)a->segs[k].kind - (int)b->segs[k].kind;
		if (a->segs[k].kind == ROUTE_SEG_REST)
			return 0;
	}
	return 0;
}

bool
route_pattern_same(const struct route_pattern *a, const struct route_pattern *b)
{
	if (a->n_segs != b->n_segs)
		return false;
	for (size_t k = 0; k < a->n_segs; k++) {
		const struct route_seg *x = &a->segs[k], *y = &b->segs[k];
		if (x->kind != y->kind)
			return false;
		if (x->kind == ROUTE_SEG_LITERAL &&
		    (x->len != y->len || memcmp(x->text, y->text, x->len) != 0))
			return false;
	}
	return true;
}

bool
route_path_is_canonical(const char *path)
{
	const char *seg;

	if (path[0] != '/')
		return false;
	seg = path + 1;
	for (;;) {
		size_t sl = strcspn(seg, "/"), name_len = sl;
		bool last = seg[sl] == '\0';

		if (sl == 0 && !last)
			return false; /* "//": merged by many upstreams */
		for (size_t i = 0; i < sl; i++) {
			unsigned char c = (unsigned char)seg[i];
			int hi, lo, v;

			if (c == ';' && name_len == sl)
				name_len = i; /* RFC 3986 3.3 parameters */
			if (c != '%') {
				if (!is_pchar(c) && c != '*')
					return false;
				continue;
			}
			if (i + 2 >= sl ||
			    (hi = hex_value((unsigned char)seg[i + 1])) < 0 ||
			    (lo = hex_value((unsigned char)seg[i + 2])) < 0)
				return false;
			v = hi * 16 + lo;
			/* An unreserved byte has one spelling (RFC 3986
			 * 6.2.2.2): "%2e" is '.', "%61" is 'a'. An encoded
			 * slash or backslash is a separator to some
			 * upstreams, an encoded ';' starts parameters to those
			 * that decode first ("..%3b"), an encoded '%' is a
			 * second round of decoding ("%252e"). */
			if (is_unreserved((unsigned char)v) || v == '/' ||
			    v == '\\' || v == ';' || v == '%' || v < 0x20 ||
			    v == 0x7f)
				return false;
			i += 2;
		}
		/* With '.' never encoded, a dot-segment is spelled raw; "..;"
		 * is ".." to servers that cut parameters first. */
		if (is_dot_segment(seg, name_len))
			return false;
		if (last)
			return true;
		seg += sl + 1;
	}
}
