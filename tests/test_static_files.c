/* test_static_files: the allow-list, the headers, and that no request path
 * reaches a file outside the list. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_loop.h"
#include "http_util.h"
#include "static_files.h"
#include "test.h"

static const struct static_file files[] = {
	{ "/demo", "index.html", "text/html; charset=utf-8" },
	{ "/demo/demo.js", "demo.js", "text/javascript; charset=utf-8" },
};

static struct static_files *served;

static void
serve(struct evhttp_request *req, void *arg)
{
	static const struct route table[] = {
		{ EVHTTP_REQ_GET, "/demo", static_files_handler },
		{ EVHTTP_REQ_GET, "/demo/demo.js", static_files_handler },
	};

	(void)arg;
	http_dispatch(req, table, 2, 0, served);
}

static char dir[] = "/tmp/test_static_files_XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void
test_load_errors(void)
{
	static const struct static_file missing[] = {
		{ "/x", "missing.html", "text/html" },
	};
	struct err e = { 0 };

	CHECK(static_files_load(dir, missing, 1, NULL, &e) == NULL);
	CHECK(e.code == ERR_CONFIG);
	CHECK(strstr(e.msg, "missing.html") != NULL);
	/* A connect-src that would smuggle in another directive. */
	e = (struct err){ 0 };
	CHECK(static_files_load(dir, files, 2,
	          "http://a; script-src 'unsafe-inline'", &e) == NULL);
	CHECK(e.code == ERR_CONFIG);
	e = (struct err){ 0 };
	served = static_files_load(dir, files, 2, "http://127.0.0.1:5001", &e);
	CHECK(served != NULL);
}

static void
test_serves_listed_files_with_headers(void)
{
	struct http_loop l;
	const char *csp;

	CHECK(http_loop_start(&l, serve, NULL) == 0);
	CHECK(http_loop_request(&l, EVHTTP_REQ_GET, "/demo", NULL) == 0);
	CHECK(l.reply.status == 200);
	CHECK(strcmp(l.reply.body, "<p>hello</p>\n") == 0);
	CHECK(strcmp(http_loop_header(&l, "Content-Type"),
	          "text/html; charset=utf-8") == 0);
	CHECK(strcmp(http_loop_header(&l, "Cache-Control"), "no-cache") == 0);
	CHECK(strcmp(http_loop_header(&l, "X-Content-Type-Options"),
	          "nosniff") == 0);
	CHECK(strcmp(http_loop_header(&l, "X-Frame-Options"), "DENY") == 0);
	csp = http_loop_header(&l, "Content-Security-Policy");
	CHECK(csp != NULL);
	if (csp != NULL) {
		CHECK(strstr(csp, "default-src 'none'") != NULL);
		CHECK(strstr(csp, "script-src 'self';") != NULL);
		CHECK(strstr(csp,
		          "connect-src 'self' http://127.0.0.1:5001;") != NULL);
		CHECK(strstr(csp, "frame-ancestors 'none'") != NULL);
		CHECK(strstr(csp, "unsafe") == NULL);
	}
	/* The query is not part of the path. */
	CHECK(http_loop_request(
	          &l, EVHTTP_REQ_GET, "/demo/demo.js?v=2", NULL) == 0);
	CHECK(l.reply.status == 200);
	CHECK(strcmp(l.reply.body, "let x = 1;\n") == 0);
	CHECK(strncmp(http_loop_header(&l, "Content-Type"), "text/javascript",
	          15) == 0);
	/* Another method: 405 from the route table. */
	CHECK(http_loop_request(&l, EVHTTP_REQ_POST, "/demo", NULL) == 0);
	CHECK(l.reply.status == 405);
	/* HEAD: the headers without the body. */
	CHECK(http_loop_request(&l, EVHTTP_REQ_HEAD, "/demo", NULL) == 0);
	CHECK(l.reply.status == 200);
	CHECK(l.reply.body_len == 0);
	http_loop_free(&l);
}

static void
test_no_path_leaves_the_list(void)
{
	static const char *const paths[] = { "/demo/../secret.txt",
		"/demo/..%2fsecret.txt", "/secret.txt", "/demo/", "/demo/x",
		"/demo/demo.js/", "/DEMO", "/demo%2fdemo.js", "//demo",
		"/demo/./demo.js" };
	struct http_loop l;

	CHECK(http_loop_start(&l, serve, NULL) == 0);
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		CHECK(
		    http_loop_request(&l, EVHTTP_REQ_GET, paths[i], NULL) == 0);
		CHECK(l.reply.status == 404);
		CHECK(strstr(l.reply.body, "top secret") == NULL);
	}
	http_loop_free(&l);
}

static void
test_serve_outside_the_list_sends_nothing(void)
{
	/* static_files_serve() leaves unknown paths to the caller. */
	CHECK(static_files_serve(NULL, NULL) == -1);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return EXIT_FAILURE;
	write_file("index.html", "<p>hello</p>\n");
	write_file("demo.js", "let x = 1;\n");
	write_file("secret.txt", "top secret\n");
	RUN(test_load_errors);
	RUN(test_serves_listed_files_with_headers);
	RUN(test_no_path_leaves_the_list);
	RUN(test_serve_outside_the_list_sends_nothing);
	static_files_free(served);
	{
		char path[256];
		const char *names[] = { "index.html", "demo.js", "secret.txt" };
		for (size_t i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			unlink(path);
		}
		rmdir(dir);
	}
	return test_report();
}
