/* static_files: a fixed allow-list of files (the teaching demo page, the
 * OpenAPI description) read into memory from a configured directory at
 * start and served from there. A request path is only ever compared with
 * the list, never joined to a directory, so no path can reach another
 * file ("/demo/../keys/private_key.pem" is simply not in the list). */
#ifndef JWT_STATIC_FILES_H
#define JWT_STATIC_FILES_H

#include <event2/http.h>
#include <stddef.h>

#include "err.h"

#define STATIC_FILES_MAX_FILE ((size_t)1024 * 1024)

struct static_file {
	const char *path; /* request path, exact: "/demo/demo.js" */
	const char *file; /* name inside the directory: "demo.js" */
	const char *type; /* Content-Type */
};

/* The demo page: /demo and /demo/ (index.html), /demo/demo.css,
 * /demo/demo.js. */
extern const struct static_file static_files_demo[];
extern const size_t static_files_demo_n;

struct static_files;

/* Reads every listed file from dir (each a regular file of at most
 * STATIC_FILES_MAX_FILE bytes; ERR_CONFIG naming the file otherwise).
 * connect_src: extra origins the page may fetch from, as written into the
 * Content-Security-Policy connect-src (e.g. the resource service's
 * "http://127.0.0.1:5001"); NULL for none. The list must outlive s. */
struct static_files *static_files_load(const char *dir,
    const struct static_file *list, size_t n, const char *connect_src,
    struct err *e);
void static_files_free(struct static_files *s);

/* The optional pages (/demo, /openapi.json): *out NULL when dir is "" (off).
 * The default directories are relative to the working directory, so a
 * daemon started elsewhere (a package, a test's temp dir) runs without
 * them, with a warning, rather than not at all; a directory set on purpose
 * (dir other than default_dir) must load: ERR_CONFIG naming field. */
int static_files_load_optional(const char *dir, const char *default_dir,
    const char *field, const struct static_file *list, size_t n,
    const char *connect_src, struct static_files **out, struct err *e);

/* Answers req if its raw path is in the list (GET; HEAD through
 * http_route): 200 with the file, Content-Type, Cache-Control: no-cache,
 * the Content-Security-Policy, nosniff, no-referrer and frame denial.
 * Returns -1, sending nothing, for a path not in the list. */
int static_files_serve(
    const struct static_files *s, struct evhttp_request *req);

/* The same as an http_util route handler, arg being the static_files. */
void static_files_handler(struct evhttp_request *req, void *arg);

#endif
