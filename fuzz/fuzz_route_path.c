/* fuzz_route_path: arbitrary request paths through the gateway's path
 * rules (route_pattern.c). The property that makes deny-by-default safe
 * behind a proxy: a path route_path_is_canonical() accepts is left
 * unchanged by every normalisation a proxy or an upstream may apply
 * before it routes (RFC 3986 6.2.2.2 decoding of unreserved characters,
 * 5.2.4 dot-segment removal, slash merging, cutting ";parameters" before
 * looking for dot-segments, full percent-decoding), so no other spelling
 * of a protected path can match a public rule. Also: plain paths are never
 * refused, and a canonical path that matches a pattern matches it through
 * a reference matcher written the naive way. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route_pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* Percent-decodes in, all octets or only unreserved ones. */
static void
decode(const char *in, char *out, bool only_unreserved)
{
	size_t o = 0;

	for (size_t i = 0; in[i] != '\0'; i++) {
		int hi, lo;

		if (in[i] == '%' && (hi = hex(in[i + 1])) >= 0 &&
		    (lo = hex(in[i + 2])) >= 0 &&
		    (!only_unreserved || unreserved(hi * 16 + lo))) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

/* RFC 3986 5.2.4 remove_dot_segments, with ";..." cut from a segment
 * before it is compared with "." and "..", as some servers do. */
static void
remove_dots(const char *in, char *out)
{
	size_t o = 0;

	while (*in != '\0') {
		size_t sl = strcspn(in + 1, "/"), name = strcspn(in + 1, ";/");

		/* in points at a '/' */
		if (name == 1 && in[1] == '.') {
			in += 1 + sl;
			if (*in == '\0')
				out[o++] = '/';
			continue;
		}
		if (name == 2 && in[1] == '.' && in[2] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			in += 1 + sl;
			if (*in == '\0')
				out[o++] = '/';
			continue;
		}
		memcpy(out + o, in, 1 + sl);
		o += 1 + sl;
		in += 1 + sl;
	}
	out[o] = '\0';
}

static void
must(bool cond)
{
	if (!cond)
		abort();
}

/* The naive matcher: split both on '/' and compare segment by segment. */
static bool
naive_match(const char *pattern, const char *path)
{
	while (*pattern == '/' && *path == '/') {
		size_t pl = strcspn(pattern + 1, "/"),
		       ql = strcspn(path + 1, "/");

		if (pl == 1 && pattern[1] == '*' && pattern[2] == '\0')
			return true;
		if (pattern[1] == '{') {
			if (ql == 0)
				return false;
		} else if (pl != ql || memcmp(pattern + 1, path + 1, pl) != 0) {
			return false;
		}
		pattern += 1 + pl;
		path += 1 + ql;
	}
	return *pattern == '\0' && *path == '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const patterns[] = { "/admin", "/public/*", "/*",
		"/users/{id}", "/users/{id}/orders/*", "/a/", "/" };
	char *path, *a, *b;
	bool canonical, plain = size > 0 && data[0] == '/';

	if (size > 4096 || memchr(data, '\0', size) != NULL)
		return 0;
	path = malloc(size + 1);
	a = malloc(size + 2);
	b = malloc(size + 2);
	if (path == NULL || a == NULL || b == NULL)
		abort();
	memcpy(path, data, size);
	path[size] = '\0';
	for (size_t i = 1; i < size; i++)
		plain = plain && ((data[i] >= 'a' && data[i] <= 'z') ||
		                     (data[i] == '/' && data[i - 1] != '/'));
	canonical = route_path_is_canonical(path);
	if (plain)
		must(canonical); /* never over-refuse an ordinary path */
	if (canonical) {
		must(strstr(path, "//") == NULL);
		decode(path, a, true);
		must(strcmp(a, path) == 0);
		remove_dots(path, a);
		must(strcmp(a, path) == 0);
		/* Fully decoded, it still has the same segments. */
		decode(path, a, false);
		must(strstr(a, "//") == NULL && strchr(a, '\\') == NULL);
		for (size_t i = 0; a[i] != '\0'; i++)
			must((unsigned char)a[i] >= 0x20 && a[i] != 0x7f);
		remove_dots(a, b);
		must(strcmp(a, b) == 0);
		for (size_t i = 0; path[i] != '\0'; i++)
			must(path[i] > 0x20 && path[i] < 0x7f);
	}
	for (size_t i = 0; i < sizeof(patterns) / sizeof(*patterns); i++) {
		struct route_pattern p;

		must(route_pattern_compile(
		         patterns[i], strlen(patterns[i]), &p) == 0);
		if (canonical)
			must(route_pattern_match(&p, path) ==
			     naive_match(patterns[i], path));
		route_pattern_clear(&p);
	}
	/* The input as a pattern: compiling never crashes; what compiles
	 * and is a canonical path matches itself when it has no pattern
	 * segment. */
	{
		struct route_pattern p;

		if (route_pattern_compile((const char *)data, size, &p) == 0) {
			bool literal = strpbrk(path, "{*") == NULL;

			if (literal && canonical)
				must(route_pattern_match(&p, path));
			route_pattern_clear(&p);
		}
	}
	free(path);
	free(a);
	free(b);
	return 0;
}
