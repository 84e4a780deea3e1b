/* static_files: in-memory static files with strict response headers. The
 * Content-Security-Policy allows only this origin's own scripts and
 * styles, no inline code, no framing (CSP Level 3; RFC 7034 for
 * X-Frame-Options), and fetches only to this origin and the configured
 * resource service. */
#include "static_files.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http_util.h"
#include "log.h"

#define STATIC_FILES_CSP_MAX 1024

const struct static_file static_files_demo[] = {
	{ "/demo", "index.html", "text/html; charset=utf-8" },
	{ "/demo/", "index.html", "text/html; charset=utf-8" },
	{ "/demo/demo.css", "demo.css", "text/css; charset=utf-8" },
	{ "/demo/demo.js", "demo.js", "text/javascript; charset=utf-8" },
};

const size_t static_files_demo_n =
    sizeof(static_files_demo) / sizeof(static_files_demo[0]);

struct static_files_entry {
	char *body;
	size_t len;
};

struct static_files {
	const struct static_file *list;
	size_t n;
	struct static_files_entry *entries;
	char csp[STATIC_FILES_CSP_MAX];
};

void
static_files_free(struct static_files *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->entries != NULL && i < s->n; i++)
		free(s->entries[i].body);
	free(s->entries);
	free(s);
}

/* An origin list for connect-src: only characters an origin can hold,
 * so the configured value cannot add a directive of its own. */
static int
static_files_check_src(const char *src, struct err *e)
{
	for (const char *p = src; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || strchr(":/.-[] ", *p)))
			return err_set(e, ERR_CONFIG,
			    "connect-src \"%s\": not an origin list", src);
	return 0;
}

struct static_files *
static_files_load(const char *dir, const struct static_file *list, size_t n,
    const char *connect_src, struct err *e)
{
	struct static_files *s = NULL;
	char path[4096];
	int len;

	if (connect_src != NULL && static_files_check_src(connect_src, e) == -1)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->entries = calloc(n, sizeof(*s->entries))) == NULL) {
		err_set(e, ERR_NOMEM, "static files");
		goto fail;
	}
	s->list = list;
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		len = snprintf(path, sizeof(path), "%s/%s", dir, list[i].file);
		if (len < 0 || (size_t)len >= sizeof(path)) {
			err_set(e, ERR_CONFIG, "%s: path too long", dir);
			goto fail;
		}
		if (config_read_file(path, STATIC_FILES_MAX_FILE,
		        &s->entries[i].body, &s->entries[i].len, e) == -1)
			goto fail;
	}
	snprintf(s->csp, sizeof(s->csp),
	    "default-src 'none'; script-src 'self'; style-src 'self'; "
	    "img-src 'self' data:; connect-src 'self'%s%s; base-uri 'none'; "
	    "form-action 'none'; frame-ancestors 'none'",
	    connect_src != NULL && connect_src[0] != '\0' ? " " : "",
	    connect_src != NULL ? connect_src : "");
	return s;
fail:
	static_files_free(s);
	return NULL;
}

int
static_files_load_optional(const char *dir, const char *default_dir,
    const char *field, const struct static_file *list, size_t n,
    const char *connect_src, struct static_files **out, struct err *e)
{
	struct err le = { 0 };

	*out = NULL;
	if (dir[0] == '\0')
		return 0;
	if ((*out = static_files_load(dir, list, n, connect_src, &le)) != NULL)
		return 0;
	if (strcmp(dir, default_dir) == 0 && le.code != ERR_NOMEM) {
		log_msg(LOG_WARN, "%s: %s; not served", field, le.msg);
		return 0;
	}
	return err_set(e, le.code == ERR_NOMEM ? ERR_NOMEM : ERR_CONFIG,
	    "%s: %s", field, le.msg);
}

int
static_files_serve(const struct static_files *s, struct evhttp_request *req)
{
	struct evkeyvalq *h;
	struct evbuffer *buf;
	char path[256];
	size_t i;

	if (s == NULL || http_request_path(req, path, sizeof(path)) == -1)
		return -1;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->list[i].path, path) == 0)
			break;
	if (i == s->n)
		return -1;
	if ((buf = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return 0;
	}
	h = evhttp_request_get_output_headers(req);
	/* A copy: the reply may outlive a reload that frees s. */
	evbuffer_add(buf, s->entries[i].body, s->entries[i].len);
	evhttp_add_header(h, "Content-Type", s->list[i].type);
	/* Revalidated on every use: a changed demo shows after a restart
	 * without a stale copy in the browser. */
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "Content-Security-Policy", s->csp);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	http_send_framed(req, HTTP_OK, "OK", buf);
	evbuffer_free(buf);
	return 0;
}

void
static_files_handler(struct evhttp_request *req, void *arg)
{
	struct err e = { 0 };

	if (static_files_serve(arg, req) == 0)
		return;
	err_set(&e, ERR_NOT_FOUND, "no such static file");
	http_reply_error(req, &e);
}
