/* resource_service: the verifier daemon. This file only wires things:
 * the configuration (resource_config.c), the listening sockets, one worker
 * thread per core each with its own event base, and signals (SIGHUP
 * reload, SIGINT/SIGTERM clean stop). Requests are handled in routes.c. */
#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "forward_auth.h"
#include "guard.h"
#include "http_util.h"
#include "key_source.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "request_log.h"
#include "resource_config.h"
#include "resource_metrics.h"
#include "routes.h"
#include "sd_notify.h"
#include "secret.h"
#include "static_files.h"
#include "tls.h"
#include "version.h"

#define MAIN_EXIT_CONFIG 2

struct worker {
	pthread_t thread;
	bool started;
	int fd; /* owned until evhttp takes it */
	struct event_base *base;
	struct evhttp *http;
	struct routes_worker *routes;
	struct event *sweep;
	atomic_bool answered; /* the watchdog's last probe ran here */
	bool access_log;
	int64_t flush_ms; /* access_log_flush_ms */
};

#define MAIN_SWEEP_SECONDS 30

struct daemon {
	struct resource_config cfg;
	const char *config_path;
	struct event_base *base; /* control thread: signals, JWKS */
	struct key_source *keys;
	struct worker *workers;
	size_t n_workers;
	struct event *sig_int, *sig_term, *sig_hup;
	struct evhttp *metrics_http; /* metrics_bind, on the control thread */
	struct tls_server *tls;      /* NULL: plain HTTP */
	bool serving;                /* the workers accept */
	bool have_keys;              /* a key set was loaded */
	struct sd_watchdog *watchdog;
};

/* Type=notify: ready once the workers accept and a key set is loaded
 * (from PEM files at start, or the first JWKS fetch). */
static void
notify_ready(struct daemon *d)
{
	if (!d->serving || !d->have_keys)
		return;
	if (sd_notify_send("READY=1\nSTATUS=serving") == -1)
		log_msg(LOG_WARN, "NOTIFY_SOCKET: cannot notify systemd");
}

static void
worker_answer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	atomic_store(&w->answered, true);
}

/* The watchdog's check: every worker ran the probe sent half an interval
 * ago (its loop turns), then a new probe goes to each. */
static bool
workers_alive(void *arg)
{
	struct daemon *d = arg;
	const struct timeval now = { 0, 0 };
	bool alive = true;

	for (size_t i = 0; i < d->n_workers; i++)
		alive = atomic_load(&d->workers[i].answered) && alive;
	for (size_t i = 0; i < d->n_workers; i++) {
		struct worker *w = &d->workers[i];
		atomic_store(&w->answered, false);
		(void)event_base_once(
		    w->base, -1, EV_TIMEOUT, worker_answer, w, &now);
	}
	return alive;
}

static void
first_keys(void *arg)
{
	struct daemon *d = arg;

	d->have_keys = true;
	notify_ready(d);
}

static size_t
core_count(void)
{
	cpu_set_t set;
	long n;

	/* The cores this process may run on (taskset), not all cores. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (size_t)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (size_t)n : 1;
}

static int
bind_one(const struct addrinfo *ai, int port, bool share, struct err *e)
{
	struct sockaddr_storage ss;
	int fd, one = 1;

	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	fd = socket(
	    ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return err_set(e, ERR_IO, "socket: %s", strerror(errno));
	/* SO_REUSEPORT: one socket per worker on the same port; the kernel
	 * spreads new connections over them, so no worker accepts for all
	 * and no lock is shared. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (share && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	                  sizeof(one)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) == -1 ||
	    (share && listen(fd, 1024) == -1)) {
		err_set(
		    e, ERR_IO, "bind to port %d: %s", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Binds one socket per worker, on a port nothing else holds. */
static int
bind_all(struct daemon *d, char *shown, size_t shown_len, struct err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_ADDRCONFIG };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST] = "";
	int port = (int)d->cfg.port, rc = -1, gai, probe = -1;

	if ((gai = getaddrinfo(d->cfg.bind, NULL, &hints, &ai)) != 0)
		return err_set(e, ERR_CONFIG, "%s: bind: cannot resolve %s: %s",
		    d->config_path, d->cfg.bind, gai_strerror(gai));
	/* A plain bind first: SO_REUSEPORT would let a second daemon on
	 * the same port start silently and take half the connections. The
	 * probe also picks the port for --port 0. */
	if ((probe = bind_one(ai, port, false, e)) == -1)
		goto out;
	if (getsockname(probe, (struct sockaddr *)&ss, &sl) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), NULL, 0,
	        NI_NUMERICHOST) != 0) {
		err_set(e, ERR_IO, "getsockname: %s", strerror(errno));
		goto out;
	}
	port = ntohs(ss.ss_family == AF_INET6
	                 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                 : ((struct sockaddr_in *)&ss)->sin_port);
	close(probe);
	probe = -1;
	for (size_t i = 0; i < d->n_workers; i++)
		if ((d->workers[i].fd = bind_one(ai, port, true, e)) == -1)
			goto out;
	snprintf(shown, shown_len,
	    ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
	rc = 0;
out:
	if (probe != -1)
		close(probe);
	freeaddrinfo(ai);
	return rc;
}

static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	routes_worker_sweep(arg);
}

static int
worker_setup(struct daemon *d, struct worker *w, struct route_config *routes,
    struct err *e)
{
	const struct timeval every = { .tv_sec = MAIN_SWEEP_SECONDS };
	struct guard_config gc = { .issuer = d->cfg.issuer,
		.audience = d->cfg.audience,
		.leeway = d->cfg.leeway,
		.cache_entries = (size_t)d->cfg.token_cache_size };
	struct guard *g;

	if ((w->base = http_event_base_new()) == NULL ||
	    (w->http = evhttp_new(w->base)) == NULL)
		return err_set(e, ERR_NOMEM, "worker event base");
	if ((g = guard_new(&gc, e)) == NULL)
		return -1;
	if ((w->routes = routes_worker_new(g, route_config_retain(routes),
	         d->cfg.access_log, e)) == NULL) {
		route_config_free(routes);
		guard_free(g);
		return -1;
	}
	routes_worker_install(
	    w->routes, w->http, (size_t)d->cfg.max_header_size);
	/* An unknown kid waits for the next fetch: at most the interval
	 * between two (counted up to 5 s: a longer one is not worth a
	 * client's wait), plus one fetch under way and the one it needs. */
	if (key_source_is_remote(d->keys) &&
	    routes_worker_wait_keys(w->routes, w->base, d->keys,
	        1000 * ((d->cfg.jwks_refetch_interval < 5
	                        ? d->cfg.jwks_refetch_interval
	                        : 5) +
	                   2 * d->cfg.jwks_timeout) +
	            100,
	        e) == -1)
		return -1;
	/* On the worker's own base: the cache is touched by no other
	 * thread. */
	if ((w->sweep = event_new(
	         w->base, -1, EV_PERSIST, sweep_cb, w->routes)) == NULL ||
	    event_add(w->sweep, &every) == -1)
		return err_set(e, ERR_NOMEM, "worker sweep timer");
	evhttp_set_timeout(w->http, (int)d->cfg.idle_timeout);
	if (listener_accept(w->base, w->http, w->fd,
	        &(struct listener_limits){
	            .max_connections = d->cfg.max_connections,
	            .max_client_connections = d->cfg.max_client_connections,
	            .header_timeout = d->cfg.header_timeout,
	            .body_timeout = d->cfg.body_timeout,
	            .idle_timeout = d->cfg.idle_timeout,
	            .make_bev = d->tls != NULL ? tls_server_bufferevent : NULL,
	            .make_bev_arg = d->tls }) == NULL)
		return err_set(e, ERR_IO, "accepting on the listening socket");
	w->fd = -1; /* the evhttp closes it now */
	w->access_log = d->cfg.access_log;
	w->flush_ms = d->cfg.access_log_flush_ms;
	return key_source_subscribe(d->keys, routes_worker_keys(w->routes), e);
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	/* The access lines of this thread go out a buffer at a time, on a
	 * timer of its own base (request_log.h); the last ones at the end. */
	if (w->access_log && request_log_start(w->base, w->flush_ms) == -1)
		log_msg(
		    LOG_WARN, "worker: access lines unbuffered (no memory)");
	event_base_dispatch(w->base);
	request_log_stop();
	return NULL;
}

static void
worker_teardown(struct worker *w)
{
	if (w->sweep != NULL)
		event_free(w->sweep);
	/* The evhttp first: it owns connections on the base. The routes
	 * before the base: their events live on it. */
	if (w->http != NULL)
		evhttp_free(w->http);
	routes_worker_free(w->routes);
	listener_free_base(w->base);
	if (w->fd != -1)
		close(w->fd);
}

/* SIGHUP: re-read routes.json and the key files while serving. A bad file
 * is logged and the running configuration kept. */
static void
reload(struct daemon *d)
{
	struct route_config *routes = NULL;
	struct err e = { 0 };

	if (routes_load_config(
	        d->cfg.routes, d->cfg.forward_auth_path, &routes, &e) == -1) {
		log_msg(
		    LOG_ERROR, "reload: keeping the running routes: %s", e.msg);
	} else {
		for (size_t i = 0; i < d->n_workers; i++)
			mailbox_post(
			    routes_worker_configs(d->workers[i].routes),
			    route_config_retain(routes));
		log_msg(LOG_INFO, "reload: %zu route(s) from %s",
		    routes->n_rules, d->cfg.routes);
		route_config_free(routes);
	}
	e = (struct err){ 0 };
	if (key_source_reload(d->keys, &e) == -1)
		log_msg(LOG_ERROR, "reload: keeping the running key set: %s",
		    e.msg);
	e = (struct err){ 0 };
	if (d->tls != NULL && tls_server_reload(d->tls, &e) == -1)
		log_msg(LOG_ERROR,
		    "reload: keeping the running TLS certificate: %s", e.msg);
	else if (d->tls != NULL)
		log_msg(LOG_INFO, "reload: TLS certificate from %s",
		    d->cfg.tls_cert);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	log_msg(LOG_INFO, "signal %d: stopping", (int)sig);
	(void)sd_notify_send("STOPPING=1");
	event_base_loopbreak(d->base);
}

static int
add_signals(struct daemon *d, struct err *e)
{
	d->sig_int = evsignal_new(d->base, SIGINT, signal_cb, d);
	d->sig_term = evsignal_new(d->base, SIGTERM, signal_cb, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, signal_cb, d);
	if (d->sig_int == NULL || d->sig_term == NULL || d->sig_hup == NULL ||
	    event_add(d->sig_int, NULL) == -1 ||
	    event_add(d->sig_term, NULL) == -1 ||
	    event_add(d->sig_hup, NULL) == -1)
		return err_set(e, ERR_INTERNAL, "signal events");
	return 0;
}

/* Workers inherit a mask with the handled signals blocked, so they are
 * delivered to the control thread alone. */
static int
start_workers(struct daemon *d, struct err *e)
{
	sigset_t block, old;
	int rc = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (size_t i = 0; i < d->n_workers && rc == 0; i++) {
		struct worker *w = &d->workers[i];
		if (pthread_create(&w->thread, NULL, worker_run, w) != 0)
			rc = err_set(e, ERR_INTERNAL, "pthread_create");
		else
			w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void
stop_workers(struct daemon *d)
{
	for (size_t i = 0; i < d->n_workers; i++)
		if (d->workers[i].started)
			event_base_loopexit(d->workers[i].base, NULL);
	for (size_t i = 0; i < d->n_workers; i++)
		if (d->workers[i].started)
			pthread_join(d->workers[i].thread, NULL);
}

/* metrics_bind: /metrics on a listener of its own, served by the control
 * thread (a scrape never waits behind the workers' requests). Announced
 * as "metrics listening on ADDR:PORT" before the main listener. */
static int
open_metrics(struct daemon *d, struct err *e)
{
	struct evhttp_bound_socket *b;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";

	if (!d->cfg.metrics || d->cfg.metrics_bind[0] == '\0')
		return 0;
	if ((d->metrics_http = evhttp_new(d->base)) == NULL)
		return err_set(e, ERR_NOMEM, "metrics listener");
	http_set_header_limit(d->metrics_http, (size_t)d->cfg.max_header_size);
	evhttp_set_timeout(d->metrics_http, (int)d->cfg.idle_timeout);
	http_serve(d->metrics_http, routes_metrics_request, &d->cfg.access_log);
	if ((b = evhttp_bind_socket_with_handle(d->metrics_http,
	         d->cfg.metrics_bind, (ev_uint16_t)d->cfg.metrics_port)) ==
	    NULL)
		return err_set(e, ERR_IO, "cannot listen on %s:%" PRId64 ": %s",
		    d->cfg.metrics_bind, d->cfg.metrics_port, strerror(errno));
	if (getsockname(evhttp_bound_socket_get_fd(b), (struct sockaddr *)&ss,
	        &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host),
		    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	printf(ss.ss_family == AF_INET6 ? "metrics listening on [%s]:%s\n"
	                                : "metrics listening on %s:%s\n",
	    host, port);
	fflush(stdout);
	return 0;
}

static int
serve(struct daemon *d, struct route_config *routes, struct err *e)
{
	struct key_source_config kc = { .pem_paths = d->cfg.public_keys,
		.jwks_url = d->cfg.jwks_url,
		.min_age = d->cfg.jwks_min_age,
		.max_age = d->cfg.jwks_max_age,
		.refetch_interval = d->cfg.jwks_refetch_interval,
		.unknown_kid_ttl = d->cfg.jwks_unknown_kid_ttl,
		.timeout = d->cfg.jwks_timeout,
		.ca_file = d->cfg.jwks_ca_file,
		.first_keys = first_keys,
		.first_keys_arg = d };
	char shown[NI_MAXHOST + 16];
	struct err ke = { 0 };
	int rc = -1;

	d->n_workers =
	    d->cfg.workers > 0 ? (size_t)d->cfg.workers : core_count();
	if (d->n_workers > RESOURCE_MAX_WORKERS)
		d->n_workers = RESOURCE_MAX_WORKERS;
	if ((d->workers = calloc(d->n_workers, sizeof(*d->workers))) == NULL) {
		err_set(e, ERR_NOMEM, "workers");
		return -1;
	}
	for (size_t i = 0; i < d->n_workers; i++)
		d->workers[i].fd = -1;
	if ((d->base = event_base_new()) == NULL ||
	    (d->cfg.access_log &&
	        request_log_start(d->base, d->cfg.access_log_flush_ms) == -1)) {
		err_set(e, ERR_NOMEM, "event base");
		goto out;
	}
	if (d->cfg.tls_cert[0] != '\0' &&
	    (d->tls = tls_server_new(d->cfg.tls_cert, d->cfg.tls_key, e)) ==
	        NULL)
		goto out;
	if ((d->keys = key_source_new(d->base, &kc, e)) == NULL ||
	    bind_all(d, shown, sizeof(shown), e) == -1)
		goto out;
	for (size_t i = 0; i < d->n_workers; i++)
		if (worker_setup(d, &d->workers[i], routes, e) == -1)
			goto out;
	if (add_signals(d, e) == -1 || open_metrics(d, e) == -1)
		goto out;
	if (key_source_start(d->keys, &ke) == -1) {
		/* A key file that does not load at start is bad config. */
		err_set(e, ERR_CONFIG, "%s: public_keys: %s", d->config_path,
		    ke.msg);
		goto out;
	}
	if (start_workers(d, e) == -1)
		goto out;
	log_msg(LOG_INFO, "%zu worker(s), %zu route(s), keys from %s",
	    d->n_workers, routes->n_rules,
	    key_source_is_remote(d->keys) ? d->cfg.jwks_url : "PEM files");
	printf("listening on %s\n", shown);
	fflush(stdout);
	d->serving = true;
	notify_ready(d);
	for (size_t i = 0; i < d->n_workers; i++)
		atomic_store(&d->workers[i].answered, true);
	if ((d->watchdog = sd_watchdog_start(d->base, workers_alive, d)) ==
	        NULL &&
	    sd_watchdog_usec() > 0)
		log_msg(LOG_WARN, "WATCHDOG_USEC: cannot start the watchdog");
	event_base_dispatch(d->base);
	rc = 0;
out:
	sd_watchdog_free(d->watchdog);
	request_log_stop(); /* the /metrics lines of this thread */
	stop_workers(d);
	for (size_t i = 0; i < d->n_workers; i++)
		worker_teardown(&d->workers[i]);
	free(d->workers);
	if (d->metrics_http != NULL)
		evhttp_free(d->metrics_http);
	if (d->sig_int != NULL)
		event_free(d->sig_int);
	if (d->sig_term != NULL)
		event_free(d->sig_term);
	if (d->sig_hup != NULL)
		event_free(d->sig_hup);
	key_source_free(d->keys);
	tls_server_free(d->tls);
	listener_free_base(d->base);
	return rc;
}

/* PEM mode: the key files load, or the start is refused before it binds
 * or logs anything, so a bad file is the one line of a config error. *n is
 * the number of keys (0 in JWKS mode, fetched once serving). */
static int
check_pem_keys(const struct daemon *d, size_t *n, struct err *e)
{
	struct jwks *set = NULL;
	struct err ke = { 0 };

	*n = 0;
	if (d->cfg.jwks_url != NULL && d->cfg.jwks_url[0] != '\0')
		return 0;
	if (key_source_load_pem(d->cfg.public_keys, false, &set, &ke) == -1)
		return err_set(e, ERR_CONFIG, "%s: public_keys: %s",
		    d->config_path, ke.msg);
	*n = set->n;
	jwks_free(set);
	return 0;
}

/* --check-config: everything a start would read (main() has loaded the
 * routes and the PEM keys, n_keys of them), without serving. */
static void
check_config(
    const struct daemon *d, const struct route_config *routes, size_t n_keys)
{
	if (d->cfg.jwks_url == NULL || d->cfg.jwks_url[0] == '\0')
		printf("config ok: %zu route(s), %zu public key(s)\n",
		    routes->n_rules, n_keys);
	else
		printf("config ok: %zu route(s), keys from %s\n",
		    routes->n_rules, d->cfg.jwks_url);
}

int
main(int argc, char **argv)
{
	static const struct static_file openapi_file[] = {
		{ "/openapi.json", "resource.json", "application/json" },
	};
	struct daemon d = { 0 };
	struct static_files *openapi = NULL;
	struct forward_auth_peers *peers = NULL;
	struct route_config *routes = NULL;
	struct config_cli cli = { 0 };
	struct err e = { 0 };
	size_t n_keys = 0;
	int status = MAIN_EXIT_CONFIG;

	log_set_program("resource_service");
	http_set_realm("resource_service");
	resource_config_defaults(&d.cfg);
	if (config_load(RESOURCE_CONFIG_DEFAULT_PATH, resource_config_fields,
	        resource_config_n_fields, &d.cfg, RESOURCE_CONFIG_ENV_PREFIX,
	        argc, argv, &cli, &e) == -1)
		goto fail;
	d.config_path = cli.config_path;
	if (cli.version) {
		printf("resource_service %s\n", jwt_version());
		status = 0;
		goto out;
	}
	if (cli.help) {
		struct resource_config defaults;

		resource_config_defaults(&defaults);
		config_usage(stdout, "resource_service",
		    RESOURCE_CONFIG_DEFAULT_PATH, resource_config_fields,
		    resource_config_n_fields, RESOURCE_CONFIG_ENV_PREFIX,
		    &defaults);
		status = 0;
		goto out;
	}
	if (resource_config_check(&d.cfg, d.config_path, &e) == -1)
		goto fail;
	log_set_level(resource_config_log_level(&d.cfg));
	log_set_format(resource_config_log_format(&d.cfg));
	routes_set_metrics(d.cfg.metrics && d.cfg.metrics_bind[0] == '\0');
	if (resource_config_peers(&d.cfg, d.config_path, &peers, &e) == -1 ||
	    routes_load_config(
	        d.cfg.routes, d.cfg.forward_auth_path, &routes, &e) == -1 ||
	    check_pem_keys(&d, &n_keys, &e) == -1)
		goto fail;
	if (resource_metrics_init() == -1) {
		err_set(&e, ERR_INTERNAL, "metrics table");
		goto fail;
	}
	if (secret_init() == -1 || evthread_use_pthreads() == -1) {
		err_set(&e, ERR_INTERNAL, "libsodium or libevent threads");
		status = 1;
		goto fail;
	}
	if (static_files_load_optional(d.cfg.openapi_dir,
	        RESOURCE_OPENAPI_DIR_DEFAULT, "openapi_dir", openapi_file, 1,
	        NULL, &openapi, &e) == -1) {
		/* e.msg names the field; the config file goes first. */
		fprintf(
		    stderr, "resource_service: %s: %s\n", d.config_path, e.msg);
		goto out;
	}
	routes_set_shared(d.cfg.cors_origin, openapi, peers);
	if (cli.check_config) {
		check_config(&d, routes, n_keys);
		status = 0;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if (serve(&d, routes, &e) == -1) {
		status = e.code == ERR_CONFIG ? MAIN_EXIT_CONFIG : 1;
		goto fail;
	}
	status = 0;
	goto out;
fail:
	fprintf(stderr, "resource_service: %s\n", e.msg);
out:
	static_files_free(openapi);
	route_config_free(routes);
	forward_auth_peers_free(peers);
	config_free(resource_config_fields, resource_config_n_fields, &d.cfg);
	metrics_shutdown();
	return status;
}
