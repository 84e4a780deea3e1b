/* test_http_url: the one fetch-URL check (common/http_url.c). */
#include <string.h>

#include "http_url.h"
#include "test.h"

static void
test_parts(void)
{
	struct http_url u;
	struct err e = { 0 };

	CHECK(http_url_parse(
	          "http://127.0.0.1:5000/.well-known/jwks.json", &u, &e) == 0);
	CHECK(strcmp(u.connect_host, "127.0.0.1") == 0);
	CHECK(strcmp(u.host_header, "127.0.0.1:5000") == 0);
	CHECK(strcmp(u.target, "/.well-known/jwks.json") == 0);
	CHECK(u.port == 5000);
	http_url_clear(&u);

	CHECK(http_url_parse("http://issuer.example?v=2", &u, &e) == 0);
	CHECK(strcmp(u.host_header, "issuer.example") == 0);
	CHECK(strcmp(u.target, "/?v=2") == 0);
	CHECK(u.port == 80);
	http_url_clear(&u);
}

/* The brackets stay in Host and leave the address (RFC 3986 3.2.2). */
static void
test_ipv6_literal(void)
{
	struct http_url u;
	struct err e = { 0 };

	CHECK(http_url_parse("http://[::1]:8080/jwks", &u, &e) == 0);
	CHECK(strcmp(u.connect_host, "::1") == 0);
	CHECK(strcmp(u.host_header, "[::1]:8080") == 0);
	http_url_clear(&u);
}

static void
test_https(void)
{
	struct http_url u;
	struct err e = { 0 };

	CHECK(http_url_parse("https://issuer.example/jwks", &u, &e) == 0);
	CHECK(u.tls);
	CHECK(u.port == 443);
	CHECK(strcmp(u.host_header, "issuer.example") == 0);
	http_url_clear(&u);
	CHECK(http_url_parse("HTTPS://[::1]:8443/k", &u, &e) == 0);
	CHECK(u.tls && u.port == 8443);
	http_url_clear(&u);
	CHECK(http_url_parse("http://issuer/", &u, &e) == 0);
	CHECK(!u.tls && u.port == 80);
	http_url_clear(&u);
}

static void
test_refusals(void)
{
	static const char *const bad[] = {
		"",
		"jwks.json",
		"ftp://issuer/",
		"http://user:pw@issuer/jwks",
		"http://issuer/jwks#frag",
		"http:///jwks",
		"http://issuer:99999/",
	};
	struct http_url u;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct err e = { 0 };
		CHECK(http_url_parse(bad[i], &u, &e) == -1);
		CHECK(e.code == ERR_CONFIG);
		CHECK(u.connect_host == NULL && u.target == NULL);
	}
}

int
main(void)
{
	RUN(test_parts);
	RUN(test_ipv6_literal);
	RUN(test_https);
	RUN(test_refusals);
	return test_report();
}
