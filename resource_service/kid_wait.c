/* kid_wait: held requests of one worker, in arrival order (every hold has
 * the same bound, so the first to expire is the oldest). Woken by the key
 * source after each fetch and by a timer for the oldest deadline. */
#include "kid_wait.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64url.h"
#include "json_util.h"
#include "jws.h"
#include "log.h"

struct kid_hold {
	struct evhttp_request *req;
	void *saved;
	uint64_t need;       /* the fetch that answers this kid */
	int64_t deadline_ms; /* monotonic */
	struct kid_hold *next;
};

struct kid_wait {
	struct key_source *ks;
	int64_t max_wait_ms;
	kid_wait_retry retry;
	void *arg;
	struct event *wake; /* activated by the key source, or its timer */
	struct kid_hold *head, *tail;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
arm(struct kid_wait *kw, int64_t now)
{
	struct timeval tv;
	int64_t wait;

	if (kw->head == NULL) {
		event_del(kw->wake);
		return;
	}
	wait = kw->head->deadline_ms > now ? kw->head->deadline_ms - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	event_add(kw->wake, &tv);
}

/* After a fetch, or at the oldest deadline: every held request is
 * decided again with the worker's newest key set. */
static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kid_wait *kw = arg;
	uint64_t done = key_source_fetches_done(kw->ks);
	int64_t now = mono_ms();
	struct kid_hold **p = &kw->head, *h;

	(void)fd;
	(void)what;
	kw->tail = NULL;
	while ((h = *p) != NULL) {
		bool last = done >= h->need || now >= h->deadline_ms;

		if (kw->retry(kw->arg, h->req, h->saved, last)) {
			*p = h->next;
			free(h->saved);
			free(h);
			continue;
		}
		kw->tail = h;
		p = &h->next;
	}
	arm(kw, now);
}

struct kid_wait *
kid_wait_new(struct event_base *base, struct key_source *ks,
    int64_t max_wait_ms, kid_wait_retry retry, void *arg, struct err *e)
{
	struct kid_wait *kw = calloc(1, sizeof(*kw));

	if (kw == NULL ||
	    (kw->wake = event_new(base, -1, 0, wake_cb, kw)) == NULL) {
		free(kw);
		err_set(e, ERR_NOMEM, "kid wait");
		return NULL;
	}
	kw->ks = ks;
	kw->max_wait_ms = max_wait_ms;
	kw->retry = retry;
	kw->arg = arg;
	if (key_source_watch(ks, kw->wake, e) == -1) {
		event_free(kw->wake);
		free(kw);
		return NULL;
	}
	return kw;
}

void
kid_wait_free(struct kid_wait *kw)
{
	struct kid_hold *h, *next;

	if (kw == NULL)
		return;
	for (h = kw->head; h != NULL; h = next) {
		next = h->next;
		free(h->saved);
		free(h);
	}
	event_free(kw->wake);
	free(kw);
}

int
kid_wait_hold(struct kid_wait *kw, struct evhttp_request *req, const char *kid,
    size_t kid_len, void *saved)
{
	struct kid_hold *h;
	uint64_t need = 0;
	int64_t now = mono_ms();

	if (key_source_kid_wanted(kw->ks, kid, kid_len, &need) ==
	    KEY_SOURCE_KID_REFUSE)
		return -1;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	h->req = req;
	h->saved = saved;
	h->need = need;
	h->deadline_ms = now + kw->max_wait_ms;
	if (kw->tail != NULL)
		kw->tail->next = h;
	else
		kw->head = h;
	kw->tail = h;
	if (kw->head == h)
		arm(kw, now);
	/* The fetch may have finished already (another worker's kid). */
	if (key_source_fetches_done(kw->ks) >= need)
		event_active(kw->wake, EV_READ, 1);
	return 0;
}

int
kid_wait_token_kid(
    const char *token, size_t len, char *buf, size_t buflen, size_t *kid_len)
{
	const char *dot = memchr(token, '.', len);
	struct json_object *header = NULL, *kid;
	unsigned char *raw = NULL;
	size_t raw_len = 0, n;
	struct err e = { 0 };
	int rc = -1;

	if (dot == NULL ||
	    (size_t)(dot - token) > (size_t)2 * JWT_MAX_HEADER_LEN ||
	    b64url_decode(token, (size_t)(dot - token), &raw, &raw_len, &e) ==
	        -1 ||
	    json_parse_strict((const char *)raw, raw_len,
	        JSON_DEFAULT_MAX_DEPTH, ERR_TOKEN_MALFORMED, &header, &e) == -1)
		goto out;
	if (!json_object_object_get_ex(header, "kid", &kid) ||
	    !json_object_is_type(kid, json_type_string))
		goto out;
	n = (size_t)json_object_get_string_len(kid);
	if (n == 0 || n >= buflen)
		goto out;
	memcpy(buf, json_object_get_string(kid), n);
	buf[n] = '\0';
	*kid_len = n;
	rc = 0;
out:
	json_object_put(header);
	free(raw);
	return rc;
}
