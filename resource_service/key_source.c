/* key_source: PEM files or a JWKS URL -> the current key set, published to
 * the workers' mailboxes. Everything but key_source_kid_wanted() and
 * key_source_fetches_done() runs on the control thread, so the fetch
 * state needs no lock; the unknown-kid table has its own. */
#include "key_source.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "http_url.h"
#include "jwk.h"
#include "log.h"

struct key_source {
	struct event_base *base;
	struct key_source_config cfg; /* jwks_url and pem_paths borrowed */
	struct jwks *current;         /* owned reference; NULL until loaded */
	struct mailbox **subs;
	size_t n_subs;

	/* JWKS mode only. */
	struct evdns_base *dns;
	struct evhttp_connection *conn;
	char *host_header;  /* "host" or "host:port" (RFC 9110 7.2) */
	char *connect_host; /* host without an IPv6 literal's brackets */
	char *target;       /* path and query */
	struct event *refresh_ev;
	struct event *kick_ev; /* an unknown kid wants a fetch */
	bool in_flight;
	int64_t retry_delay;     /* seconds; doubles on failure up to min_age */
	int64_t last_start_ms;   /* monotonic, of the last fetch started */
	struct event **watchers; /* activated after every fetch */
	size_t n_watchers;

	/* Unknown kids, from any worker thread: the fetch count and the kid
	 * table are under kid_lock; done is read without it. */
	pthread_mutex_t kid_lock;
	uint64_t started;      /* fetches started; the next is started + 1 */
	uint64_t in_flight_no; /* number of the fetch under way */
	bool want;             /* a kid waits for a fetch not yet started */
	_Atomic uint64_t done; /* number of the last fetch that finished */
	struct key_source_kid_entry {
		char kid[JWK_KID_MAX + 1];
		size_t len;       /* 0: a free slot */
		uint64_t need;    /* pending: the fetch that answers it */
		int64_t until_ms; /* refused (not pending) until then */
	} kids[KEY_SOURCE_KIDS];
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
key_source_load_pem(
    char *const *paths, bool skip_gone, struct jwks **out, struct err *e)
{
	struct jwks *set = jwks_new();
	struct jws_key *k = NULL;
	struct err ae = { 0 };
	struct stat st;

	if (set == NULL)
		return err_set(e, ERR_NOMEM, "key set");
	for (size_t i = 0; paths != NULL && paths[i] != NULL; i++) {
		/* A key file removed since the start is a retired key: it
		 * must stop verifying, not keep the old set alive. */
		if (skip_gone && stat(paths[i], &st) == -1 && errno == ENOENT) {
			log_msg(LOG_WARN,
			    "%s: gone; its key no longer verifies", paths[i]);
			continue;
		}
		if ((k = jwk_load_public_pem(paths[i], e)) == NULL)
			goto fail;
		/* jwks_add takes k even when it refuses it. */
		if (jwks_add(set, k, &ae) == -1) {
			err_set(e, ERR_KEY, "%s: %s", paths[i], ae.msg);
			goto fail;
		}
	}
	if (set->n == 0) {
		err_set(e, ERR_CONFIG, "public_keys: no key file %s",
		    skip_gone ? "left" : "given");
		goto fail;
	}
	*out = set;
	return 0;
fail:
	jwks_free(set);
	return -1;
}

/* Same kids, same public keys: a refresh that changes nothing must not
 * empty every worker's token cache. */
static bool
same_keys(const struct jwks *a, const struct jwks *b)
{
	if (a == NULL || b == NULL || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct jws_key *k = a->keys[i];
		const struct jws_key *o = jwks_find(b, k->kid, strlen(k->kid));
		if (o == NULL || o->alg != k->alg ||
		    EVP_PKEY_eq(o->pkey, k->pkey) != 1)
			return false;
	}
	return true;
}

/* Takes the caller's reference to set. */
static void
publish(struct key_source *ks, struct jwks *set, const char *from)
{
	if (same_keys(ks->current, set)) {
		jwks_free(set);
		log_msg(LOG_DEBUG, "key set from %s unchanged", from);
		return;
	}
	for (size_t i = 0; i < ks->n_subs; i++)
		mailbox_post(ks->subs[i], jwks_retain(set));
	jwks_free(ks->current);
	ks->current = set;
	log_msg(LOG_INFO, "key set from %s: %zu key(s)", from, set->n);
}

int
key_source_check_url(const char *url, struct err *e)
{
	struct http_url u;
	struct err ue = { 0 };

	if (http_url_parse(url, &u, &ue) == -1)
		return err_set(e, ue.code, "jwks_url: %s", ue.msg);
	http_url_clear(&u);
	return 0;
}

static int
setup_remote(struct key_source *ks, struct err *e)
{
	struct http_url u;
	struct err ue = { 0 };

	if (http_url_parse(ks->cfg.jwks_url, &u, &ue) == -1)
		return err_set(e, ue.code, "jwks_url: %s", ue.msg);
	/* The key source keeps the three strings; u gives them up. */
	ks->connect_host = u.connect_host;
	ks->host_header = u.host_header;
	ks->target = u.target;
	/* Names resolve through evdns so a slow resolver never blocks the
	 * control loop (signals, timers); /etc/hosts is honoured. */
	ks->dns =
	    evdns_base_new(ks->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	                                 EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	ks->conn = evhttp_connection_base_new(
	    ks->base, ks->dns, ks->connect_host, (unsigned short)u.port);
	if (ks->conn == NULL)
		return err_set(e, ERR_NOMEM, "jwks_url: connection");
	evhttp_connection_set_timeout(ks->conn, (int)ks->cfg.timeout);
	evhttp_connection_set_max_body_size(ks->conn, KEY_SOURCE_MAX_JWKS);
	evhttp_connection_set_max_headers_size(ks->conn, 16L * 1024);
	evhttp_connection_set_retries(ks->conn, 0);
	return 0;
}

static void fetch_start(struct key_source *ks, const char *why);

static void
refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fetch_start(arg, "scheduled refresh");
}

/* An unknown kid wants a fetch: at most one starts per
 * refetch_interval, however many kids (and however junk) ask, so a
 * flood of forged tokens is no load on the issuer; every kid waiting is
 * answered by the same fetch. */
static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct key_source *ks = arg;
	int64_t next = ks->last_start_ms + ks->cfg.refetch_interval * 1000;
	int64_t now = mono_ms();

	(void)fd;
	(void)what;
	if (ks->in_flight)
		return; /* its end kicks again */
	if (ks->last_start_ms != 0 && now < next) {
		struct timeval tv = { (time_t)((next - now) / 1000),
			(suseconds_t)((next - now) % 1000) * 1000 };

		if (!event_pending(ks->kick_ev, EV_TIMEOUT, NULL))
			event_add(ks->kick_ev, &tv);
		return;
	}
	fetch_start(ks, "unknown kid");
}

struct key_source *
key_source_new(
    struct event_base *base, const struct key_source_config *cfg, struct err *e)
{
	struct key_source *ks = calloc(1, sizeof(*ks));

	if (ks == NULL) {
		err_set(e, ERR_NOMEM, "key source");
		return NULL;
	}
	ks->base = base;
	ks->cfg = *cfg;
	ks->retry_delay = 1;
	pthread_mutex_init(&ks->kid_lock, NULL);
	atomic_init(&ks->done, 0);
	if (!key_source_is_remote(ks))
		return ks;
	if (setup_remote(ks, e) == -1)
		goto fail;
	ks->refresh_ev = evtimer_new(base, refresh_cb, ks);
	ks->kick_ev = event_new(base, -1, 0, kick_cb, ks);
	if (ks->refresh_ev == NULL || ks->kick_ev == NULL) {
		err_set(e, ERR_NOMEM, "key source events");
		goto fail;
	}
	return ks;
fail:
	key_source_free(ks);
	return NULL;
}

void
key_source_free(struct key_source *ks)
{
	if (ks == NULL)
		return;
	/* Freeing the connection drops an in-flight request without calling
	 * its callback. */
	if (ks->conn != NULL)
		evhttp_connection_free(ks->conn);
	if (ks->dns != NULL)
		evdns_base_free(ks->dns, 0);
	if (ks->refresh_ev != NULL)
		event_free(ks->refresh_ev);
	if (ks->kick_ev != NULL)
		event_free(ks->kick_ev);
	free(ks->host_header);
	free(ks->connect_host);
	free(ks->target);
	free(ks->subs);
	free(ks->watchers);
	jwks_free(ks->current);
	pthread_mutex_destroy(&ks->kid_lock);
	free(ks);
}

bool
key_source_is_remote(const struct key_source *ks)
{
	return ks->cfg.jwks_url != NULL && ks->cfg.jwks_url[0] != '\0';
}

size_t
key_source_key_count(const struct key_source *ks)
{
	return ks->current != NULL ? ks->current->n : 0;
}

int
key_source_subscribe(struct key_source *ks, struct mailbox *mb, struct err *e)
{
	struct mailbox **subs;

	if (ks->n_subs >= KEY_SOURCE_MAX_SUBSCRIBERS)
		return err_set(e, ERR_INTERNAL, "too many key subscribers");
	subs = realloc(ks->subs, (ks->n_subs + 1) * sizeof(struct mailbox *));
	if (subs == NULL)
		return err_set(e, ERR_NOMEM, "key subscribers");
	subs[ks->n_subs++] = mb;
	ks->subs = subs;
	return 0;
}

static int
load_files(struct key_source *ks, bool reload, struct err *e)
{
	struct jwks *set = NULL;

	if (key_source_load_pem(ks->cfg.pem_paths, reload, &set, e) == -1)
		return -1;
	publish(ks, set, "PEM files");
	return 0;
}

int
key_source_start(struct key_source *ks, struct err *e)
{
	if (!key_source_is_remote(ks))
		return load_files(ks, false, e);
	fetch_start(ks, "start");
	return 0;
}

int
key_source_reload(struct key_source *ks, struct err *e)
{
	if (!key_source_is_remote(ks))
		return load_files(ks, true, e);
	fetch_start(ks, "reload");
	return 0;
}

int
key_source_watch(struct key_source *ks, struct event *ev, struct err *e)
{
	struct event **w;

	w = realloc(
	    ks->watchers, (ks->n_watchers + 1) * sizeof(struct event *));
	if (w == NULL)
		return err_set(e, ERR_NOMEM, "key watchers");
	w[ks->n_watchers++] = ev;
	ks->watchers = w;
	return 0;
}

uint64_t
key_source_fetches_done(struct key_source *ks)
{
	return atomic_load_explicit(&ks->done, memory_order_acquire);
}

/* The entry of kid, or NULL. Called with kid_lock. */
static struct key_source_kid_entry *
kid_find(struct key_source *ks, const char *kid, size_t len)
{
	for (size_t i = 0; i < KEY_SOURCE_KIDS; i++)
		if (ks->kids[i].len == len &&
		    memcmp(ks->kids[i].kid, kid, len) == 0)
			return &ks->kids[i];
	return NULL;
}

/* A slot for a new kid: a free one, else the refusal ending first; a
 * table full of pending kids records nothing (the kid still waits for
 * the next fetch, it only goes unremembered). Called with kid_lock. */
static struct key_source_kid_entry *
kid_slot(struct key_source *ks, int64_t now)
{
	struct key_source_kid_entry *best = NULL;

	for (size_t i = 0; i < KEY_SOURCE_KIDS; i++) {
		struct key_source_kid_entry *k = &ks->kids[i];

		if (k->len == 0 || (k->need == 0 && k->until_ms <= now))
			return k;
		if (k->need == 0 &&
		    (best == NULL || k->until_ms < best->until_ms))
			best = k;
	}
	return best;
}

enum key_source_kid
key_source_kid_wanted(
    struct key_source *ks, const char *kid, size_t len, uint64_t *need)
{
	struct key_source_kid_entry *k;
	int64_t now = mono_ms();
	bool kick = false;

	if (len == 0 || len > JWK_KID_MAX)
		return KEY_SOURCE_KID_REFUSE; /* no key could have it */
	pthread_mutex_lock(&ks->kid_lock);
	if ((k = kid_find(ks, kid, len)) != NULL) {
		if (k->need != 0) {
			*need = k->need;
			pthread_mutex_unlock(&ks->kid_lock);
			return KEY_SOURCE_KID_WAIT;
		}
		if (k->until_ms > now) {
			/* A fetch made after this kid was first seen did
			 * not bring it: refused without asking again. */
			pthread_mutex_unlock(&ks->kid_lock);
			return KEY_SOURCE_KID_REFUSE;
		}
		k->len = 0;
	}
	/* The next fetch to start answers it: one under way may have been
	 * sent before the issuer published this key. */
	*need = ks->started + 1;
	if ((k = kid_slot(ks, now)) != NULL) {
		memcpy(k->kid, kid, len);
		k->len = len;
		k->need = *need;
		k->until_ms = 0;
	}
	if (!ks->want) {
		ks->want = true;
		kick = true;
	}
	pthread_mutex_unlock(&ks->kid_lock);
	/* event_active is safe from another thread once evthread is on. */
	if (kick)
		event_active(ks->kick_ev, 0, 0);
	return KEY_SOURCE_KID_WAIT;
}

/* Control thread: the kids fetch no answered, set the set it brought
 * (NULL: the fetch failed, which proves nothing about a kid). */
static void
kids_answered(struct key_source *ks, uint64_t no, const struct jwks *set)
{
	int64_t until = mono_ms() + ks->cfg.unknown_kid_ttl * 1000;
	bool again;

	pthread_mutex_lock(&ks->kid_lock);
	for (size_t i = 0; i < KEY_SOURCE_KIDS; i++) {
		struct key_source_kid_entry *k = &ks->kids[i];

		if (k->len == 0 || k->need == 0 || k->need > no)
			continue;
		k->need = 0;
		if (set != NULL && jwks_find(set, k->kid, k->len) == NULL)
			k->until_ms = until;
		else
			k->len = 0;
	}
	again = ks->want;
	pthread_mutex_unlock(&ks->kid_lock);
	atomic_store_explicit(&ks->done, no, memory_order_release);
	for (size_t i = 0; i < ks->n_watchers; i++)
		event_active(ks->watchers[i], EV_READ, 1);
	/* Kids seen while this fetch was under way need the next one. */
	if (again)
		event_active(ks->kick_ev, 0, 0);
}

int
key_source_max_age(const char *cc, int64_t *out)
{
	const char *p = cc;
	int found = 0;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ','), *name, *value = NULL;
		size_t n, len;

		if (end == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		name = p;
		n = strcspn(name, "=, \t");
		if (name + n > end)
			n = (size_t)(end - name);
		if (name[n] == '=')
			value = name + n + 1;
		if (n == 7 && strncasecmp(name, "max-age", 7) == 0 &&
		    value != NULL && value < end) {
			int64_t v = 0;
			/* delta-seconds, possibly quoted (RFC 9111 1.2.2,
			 * 5.2); saturate rather than overflow. */
			len = (size_t)(end - value);
			if (*value == '"') {
				value++;
				len--;
			}
			if (len > 0 && isdigit((unsigned char)*value)) {
				for (;
				     len > 0 && isdigit((unsigned char)*value);
				     value++, len--)
					v = v > INT64_MAX / 20
					        ? INT64_MAX / 20
					        : v * 10 + (*value - '0');
				*out = found ? (v < *out ? v : *out) : v;
				found = 1;
			}
		} else if ((n == 8 && strncasecmp(name, "no-store", 8) == 0) ||
		           (n == 8 && strncasecmp(name, "no-cache", 8) == 0)) {
			*out = 0;
			found = 1;
			return found;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return found;
}

static int64_t
clamp_age(const struct key_source *ks, int64_t age)
{
	if (age < ks->cfg.min_age)
		return ks->cfg.min_age;
	if (age > ks->cfg.max_age)
		return ks->cfg.max_age;
	return age;
}

static void
schedule(struct key_source *ks, int64_t seconds)
{
	struct timeval tv = { .tv_sec = (time_t)seconds };

	evtimer_add(ks->refresh_ev, &tv);
}

/* Failure: the running set stays; retry after 1, 2, 4 ... seconds, never
 * more often than that and never later than min_age. */
static void
fetch_failed(struct key_source *ks, const char *why)
{
	int64_t delay = ks->retry_delay;

	kids_answered(ks, ks->in_flight_no, NULL);
	log_msg(LOG_WARN,
	    "JWKS fetch from %s failed: %s; %s, retry in %" PRId64 " s",
	    ks->cfg.jwks_url, why,
	    ks->current != NULL ? "keeping the last good key set"
	                        : "no key set yet",
	    delay);
	ks->retry_delay =
	    delay * 2 > ks->cfg.min_age ? ks->cfg.min_age : delay * 2;
	if (ks->retry_delay < 1)
		ks->retry_delay = 1;
	schedule(ks, delay);
}

static void
fetch_done(struct evhttp_request *req, void *arg)
{
	struct key_source *ks = arg;
	struct jwks *set = NULL;
	struct evbuffer *body;
	const char *cc, *data;
	struct err e = { 0 };
	int64_t age = 0, life;
	char why[160];
	size_t len;
	int status;

	ks->in_flight = false;
	/* libevent passes NULL (or a request without a status) when the
	 * connection failed or timed out. */
	status = req != NULL ? evhttp_request_get_response_code(req) : 0;
	if (status != 200) {
		if (status == 0)
			snprintf(why, sizeof(why), "no response");
		else
			snprintf(why, sizeof(why), "HTTP status %d", status);
		fetch_failed(ks, why);
		return;
	}
	body = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(body);
	if (len == 0 ||
	    (data = (const char *)evbuffer_pullup(body, -1)) == NULL) {
		fetch_failed(ks, "empty body");
		return;
	}
	if ((set = jwks_from_json_text(data, len, &e)) == NULL) {
		snprintf(why, sizeof(why), "unusable JWKS: %s", e.msg);
		fetch_failed(ks, why);
		return;
	}
	cc = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Cache-Control");
	if (cc == NULL || !key_source_max_age(cc, &age))
		age = ks->cfg.min_age;
	life = clamp_age(ks, age);
	ks->retry_delay = 1;
	publish(ks, set, ks->cfg.jwks_url);
	kids_answered(ks, ks->in_flight_no, ks->current);
	/* Refetch at four fifths of the lifetime, so a fresh copy is in hand
	 * before this one is stale. */
	schedule(ks, life - life / 5 > 0 ? life - life / 5 : 1);
}

static void
fetch_start(struct key_source *ks, const char *why)
{
	struct evhttp_request *req;
	struct evkeyvalq *h;

	if (ks->in_flight)
		return; /* the fetch under way will bring the newest set */
	if ((req = evhttp_request_new(fetch_done, ks)) == NULL) {
		fetch_failed(ks, "out of memory");
		return;
	}
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", ks->host_header);
	evhttp_add_header(h, "Accept", "application/json");
	log_msg(LOG_DEBUG, "fetching JWKS from %s (%s)", ks->cfg.jwks_url, why);
	pthread_mutex_lock(&ks->kid_lock);
	ks->in_flight_no = ++ks->started;
	ks->want = false; /* every kid seen so far is answered by this one */
	pthread_mutex_unlock(&ks->kid_lock);
	ks->last_start_ms = mono_ms();
	ks->in_flight = true;
	evtimer_del(ks->refresh_ev);
	if (evhttp_make_request(ks->conn, req, EVHTTP_REQ_GET, ks->target) !=
	    0) {
		ks->in_flight = false;
		fetch_failed(ks, "cannot start the request");
	}
}
