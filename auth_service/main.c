/* main: auth_service's entry: settings, event loop, listener and signals. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "auth_config.h"
#include "auth_metrics.h"
#include "http_util.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "purge.h"
#include "reload.h"
#include "request_log.h"
#include "routes.h"
#include "sd_notify.h"
#include "secret.h"
#include "service.h"
#include "tls.h"
#include "version.h"

#define MAIN_FLUSH_MS 300 /* writing out the last replies at exit */
#define MAIN_WIRE_BODY_FLOOR ((ev_ssize_t)1088 * 1024) /* 1 MiB + 64 KiB */

struct main_state {
	struct auth_ctx ctx;
	struct evhttp *http;
	struct evhttp *metrics_http; /* NULL: /metrics on the main one */
	struct evhttp_bound_socket *listener;
	struct reloader *reloader;
	struct tls_server *tls; /* NULL: plain HTTP */
	struct event *drain_ev;
	struct timespec drain_deadline;
};

/* Prints the one line tests and scripts wait for ("listening on", or
 * "metrics listening on" for the metrics listener, printed first); for
 * the main listener (ctx set) fixes the issuer URL from the port actually
 * listened on (--port 0 included). */
static int
announce(struct evhttp_bound_socket *b, const char *what, struct auth_ctx *ctx,
    struct err *e)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getsockname(evhttp_bound_socket_get_fd(b), (struct sockaddr *)&ss,
	        &len) == -1)
		return err_set(e, ERR_IO, "getsockname failed");
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	if (ctx != NULL && service_set_issuer(ctx, port, e) == -1)
		return -1;
	printf("%slistening on %s:%d\n", what, host, port);
	fflush(stdout);
	log_msg(LOG_INFO, "%slistening on %s:%d%s%s", what, host, port,
	    ctx != NULL ? ", issuer " : "", ctx != NULL ? ctx->issuer_url : "");
	return 0;
}

static bool
deadline_passed(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec &&
	           now.tv_nsec >= deadline->tv_nsec);
}

/* While draining: exit once nothing is in flight, or at the deadline. */
static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct main_state *m = arg;

	(void)fd;
	(void)what;
	if ((m->ctx.active == 0 && password_pool_busy(m->ctx.pool) == 0 &&
	        store_pool_busy(m->ctx.db) == 0 &&
	        !reloader_busy(m->reloader)) ||
	    deadline_passed(&m->drain_deadline)) {
		if (m->ctx.active > 0)
			log_msg(LOG_WARN, "stopping with %zu requests open",
			    m->ctx.active);
		event_base_loopexit(m->ctx.base, NULL);
	}
}

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct main_state *m = arg;
	struct timeval tick = { 0, 20000 };

	(void)what;
	if (m->ctx.draining)
		return;
	log_msg(LOG_INFO, "signal %d: stopping", (int)sig);
	(void)sd_notify_send("STOPPING=1");
	m->ctx.draining = true;
	/* Stop accepting; connections already open finish their requests. */
	if (m->listener != NULL) {
		evhttp_del_accept_socket(m->http, m->listener);
		m->listener = NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &m->drain_deadline);
	m->drain_deadline.tv_sec += m->ctx.cfg->shutdown_grace;
	event_add(m->drain_ev, &tick);
}

static void
hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct main_state *m = arg;

	(void)sig;
	(void)what;
	log_msg(LOG_INFO, "SIGHUP: reloading permissions and users");
	reloader_start(m->reloader);
	if (m->tls != NULL) {
		struct err e = { 0 };

		if (tls_server_reload(m->tls, &e) == -1)
			log_msg(LOG_ERROR,
			    "reload: keeping the running TLS certificate: %s",
			    e.msg);
		else
			log_msg(LOG_INFO, "reload: TLS certificate from %s",
			    m->ctx.cfg->tls_cert);
	}
}

/* At exit: every reply written out, the flush can stop early. */
static void
flushed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct auth_ctx *ctx = arg;

	(void)fd;
	(void)what;
	if (ctx->active == 0)
		event_base_loopbreak(ctx->base);
}

static ev_ssize_t
wire_body_limit(const struct auth_config *cfg)
{
	ev_ssize_t n = (ev_ssize_t)cfg->max_body * 8;

	return n > MAIN_WIRE_BODY_FLOOR ? n : MAIN_WIRE_BODY_FLOOR;
}

/* metrics_bind: /metrics on a listener of its own (a port only the
 * scraper reaches), announced before the main one. */
static int
open_metrics(struct main_state *m, const struct auth_config *cfg, struct err *e)
{
	struct evhttp_bound_socket *b;

	if (!cfg->metrics || cfg->metrics_bind[0] == '\0')
		return 0;
	if ((m->metrics_http = evhttp_new(m->ctx.base)) == NULL)
		return err_set(e, ERR_NOMEM, "metrics listener");
	http_set_header_limit(m->metrics_http, (size_t)cfg->max_headers);
	evhttp_set_timeout(m->metrics_http, (int)cfg->request_timeout);
	routes_install_metrics(m->metrics_http, &m->ctx);
	if ((b = evhttp_bind_socket_with_handle(m->metrics_http,
	         cfg->metrics_bind, (ev_uint16_t)cfg->metrics_port)) == NULL)
		return err_set(e, ERR_IO, "cannot listen on %s:%lld: %s",
		    cfg->metrics_bind, (long long)cfg->metrics_port,
		    strerror(errno));
	return announce(b, "metrics ", NULL, e);
}

static int
serve(struct main_state *m, const struct auth_config *cfg, struct err *e)
{
	struct event *sigs[3] = { NULL };
	struct listener_limits lim;
	struct purger *purge = NULL;
	struct sd_watchdog *watchdog = NULL;
	struct event_base *base = m->ctx.base;
	int rc = -1;

	m->http = evhttp_new(base);
	m->drain_ev = event_new(base, -1, EV_PERSIST, drain_cb, m);
	sigs[0] = evsignal_new(base, SIGTERM, stop_cb, m);
	sigs[1] = evsignal_new(base, SIGINT, stop_cb, m);
	sigs[2] = evsignal_new(base, SIGHUP, hup_cb, m);
	if (m->http == NULL || m->drain_ev == NULL || sigs[0] == NULL ||
	    sigs[1] == NULL || sigs[2] == NULL ||
	    (m->reloader = reloader_new(&m->ctx, e)) == NULL) {
		err_set(e, ERR_NOMEM, "event set-up");
		goto out;
	}
	/* libevent refuses bodies past its own limit with an HTML 413 that
	 * no callback can replace (2.1); keep that well above max_body, and
	 * at least a little over 1 MiB, so a client sending a megabyte gets
	 * our JSON 413 instead. */
	evhttp_set_max_body_size(m->http, wire_body_limit(cfg));
	http_set_header_limit(m->http, (size_t)cfg->max_headers);
	evhttp_set_timeout(m->http, (int)cfg->request_timeout);
	routes_install(m->http, &m->ctx);
	lim = cfg->conn;
	if (cfg->tls_cert[0] != '\0') {
		if ((m->tls = tls_server_new(cfg->tls_cert, cfg->tls_key, e)) ==
		    NULL)
			goto out;
		lim.make_bev = tls_server_bufferevent;
		lim.make_bev_arg = m->tls;
	}
	if ((m->listener = listener_bind(base, m->http, cfg->bind,
	         (uint16_t)cfg->port, &lim)) == NULL) {
		err_set(e, ERR_IO, "cannot listen on %s:%lld: %s", cfg->bind,
		    (long long)cfg->port, strerror(errno));
		goto out;
	}
	for (int i = 0; i < 3; i++)
		event_add(sigs[i], NULL);
	if (open_metrics(m, cfg, e) == -1 ||
	    (purge = purger_new(&m->ctx, e)) == NULL ||
	    announce(m->listener, "", &m->ctx, e) == -1)
		goto out;
	/* Type=notify: the listener is up, the database opened and
	 * migrated (service_open), a key signs. */
	if (sd_notify_send("READY=1\nSTATUS=serving") == -1)
		log_msg(LOG_WARN, "NOTIFY_SOCKET: cannot notify systemd");
	/* WatchdogSec=: pinged while this loop turns; the pools' threads
	 * are bounded by their own deadlines. */
	if ((watchdog = sd_watchdog_start(base, NULL, NULL)) == NULL &&
	    sd_watchdog_usec() > 0)
		log_msg(LOG_WARN, "WATCHDOG_USEC: cannot start the watchdog");
	event_base_dispatch(base);
	rc = 0;
out:
	sd_watchdog_free(watchdog);
	reloader_free(m->reloader);
	/* Workers finish; queued logins are answered 503 before the
	 * connections go. */
	m->ctx.closing = true;
	password_pool_free(m->ctx.pool);
	m->ctx.pool = NULL;
	store_pool_free(m->ctx.db);
	m->ctx.db = NULL;
	/* What the pools delivered was replied to; let the loop write it
	 * out (bounded) before the connections are freed. */
	if (m->http != NULL && m->ctx.active > 0) {
		struct timeval flush = { 0, MAIN_FLUSH_MS * 1000 };
		struct timeval tick = { 0, 10000 };
		struct event *sent =
		    event_new(base, -1, EV_PERSIST, flushed_cb, &m->ctx);
		/* Nothing but the connections may run now: the drain tick
		 * asks the freed pools, SIGHUP the freed reloader. */
		if (m->drain_ev != NULL)
			event_del(m->drain_ev);
		for (int i = 0; i < 3; i++)
			if (sigs[i] != NULL)
				event_del(sigs[i]);
		purger_free(purge);
		purge = NULL;
		event_base_loopexit(base, &flush);
		if (sent != NULL)
			event_add(sent, &tick);
		event_base_dispatch(base);
		if (sent != NULL)
			event_free(sent);
	}
	if (m->http != NULL)
		evhttp_free(m->http);
	if (m->metrics_http != NULL)
		evhttp_free(m->metrics_http);
	for (int i = 0; i < 3; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	purger_free(purge);
	if (m->drain_ev != NULL)
		event_free(m->drain_ev);
	tls_server_free(m->tls);
	return rc;
}

int
main(int argc, char **argv)
{
	struct auth_config cfg;
	struct config_cli cli;
	struct main_state m = { 0 };
	struct event_base *base = NULL;
	struct err e = { 0 };
	int status = 2;

	log_set_program("auth_service");
	signal(SIGPIPE, SIG_IGN);
	auth_config_defaults(&cfg);
	if (config_load(AUTH_CONFIG_DEFAULT_PATH, auth_config_fields,
	        auth_config_n_fields, &cfg, AUTH_CONFIG_ENV_PREFIX, argc, argv,
	        &cli, &e) == -1)
		goto out;
	if (cli.version) {
		printf("auth_service %s\n", jwt_version());
		status = 0;
		goto out;
	}
	if (cli.help) {
		struct auth_config defaults;

		auth_config_defaults(&defaults);
		config_usage(stdout, "auth_service", AUTH_CONFIG_DEFAULT_PATH,
		    auth_config_fields, auth_config_n_fields,
		    AUTH_CONFIG_ENV_PREFIX, &defaults);
		status = 0;
		goto out;
	}
	if (auth_config_check(&cfg, cli.config_path, &e) == -1)
		goto out;
	{
		enum log_level level = LOG_INFO;
		enum log_format format = LOG_FORMAT_JSON;

		(void)log_level_parse(cfg.log_level, &level); /* checked */
		(void)log_format_parse(cfg.log_format, &format);
		log_set_level(level);
		log_set_format(format);
	}
	if (auth_metrics_init() == -1) {
		err_set(&e, ERR_INTERNAL, "metrics table");
		goto out;
	}
	if (secret_init() == -1) {
		err_set(&e, ERR_INTERNAL, "libsodium failed to initialise");
		goto out;
	}
	if (cli.check_config) {
		if (service_check(&cfg, &e) == -1)
			goto out;
		printf("%s: ok\n", cli.config_path);
		status = 0;
		goto out;
	}
	/* Workers wake the loop with event_active(): the base needs locks. */
	if (evthread_use_pthreads() == -1 ||
	    (base = http_event_base_new()) == NULL) {
		err_set(&e, ERR_INTERNAL, "libevent set-up failed");
		goto out;
	}
	/* Access lines (all written on this thread) go out a buffer at a
	 * time, on a timer of the base (request_log.h). */
	if (cfg.access_log &&
	    request_log_start(base, cfg.access_log_flush_ms) == -1) {
		err_set(&e, ERR_NOMEM, "access log buffer");
		goto out;
	}
	if (service_open(&m.ctx, &cfg, base, &e) == -1)
		goto out;
	status = 1;
	if (serve(&m, &cfg, &e) == -1) {
		if (e.code == ERR_CONFIG) /* tls_cert, tls_key */
			status = 2;
		goto out;
	}
	log_msg(LOG_INFO, "stopped");
	status = 0;
out:
	if (status != 0 && e.code != ERR_OK)
		fprintf(stderr, "auth_service: %s\n", e.msg);
	/* The last access lines, before the base their timer is on. */
	request_log_stop();
	service_close(&m.ctx);
	listener_free_base(base);
	config_free(auth_config_fields, auth_config_n_fields, &cfg);
	metrics_shutdown();
	return status;
}
