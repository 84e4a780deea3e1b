/* conn_budget: the process-wide counts behind the listener's limits. */
#include "conn_budget.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

#define CONN_BUDGET_BUCKETS 1024
#define CONN_BUDGET_FD_CEILING ((int64_t)1 << 24)

static const char *const note_text[CONN_NOTE_COUNT] = {
	[CONN_NOTE_PAUSED] = "accepting paused: out of descriptors",
	[CONN_NOTE_ACCEPT_ERROR] = "accepting paused: accept() failed",
	[CONN_NOTE_EVICTED] = ("max_connections reached: idle connection "
	                       "closed for a new one"),
	[CONN_NOTE_REFUSED] = "max_connections reached: new connection closed",
	[CONN_NOTE_CLIENT_CAP] =
	    "max_client_connections reached: new connection closed",
	[CONN_NOTE_HEAD_TIMEOUT] = "header_timeout: 408 and closed",
	[CONN_NOTE_BODY_TIMEOUT] = "body_timeout: 408 and closed",
};

struct addr_count {
	unsigned char addr[CONN_BUDGET_ADDR_LEN];
	int64_t n;
	struct addr_count *next;
};

/* Guards the address table and the notes; taken on accept and close,
 * never per request. */
static pthread_mutex_t budget_lock = PTHREAD_MUTEX_INITIALIZER;
static struct addr_count *addr_table[CONN_BUDGET_BUCKETS];
static struct {
	int64_t pending, last_ms;
	int64_t total; /* since start, for /metrics */
	int err;       /* the last errno, for the accept notes */
} notes[CONN_NOTE_COUNT];
static _Atomic int64_t budget_total;
static int64_t fd_soft = 1024;
static pthread_once_t fd_once = PTHREAD_ONCE_INIT;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
raise_once(void)
{
	struct rlimit r;
	rlim_t before;

	if (getrlimit(RLIMIT_NOFILE, &r) == -1) {
		log_msg(
		    LOG_WARN, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return;
	}
	before = r.rlim_cur;
	if (r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r) == -1)
			r.rlim_cur = before;
	}
	fd_soft = r.rlim_cur == RLIM_INFINITY ||
	                  r.rlim_cur > (rlim_t)CONN_BUDGET_FD_CEILING
	              ? CONN_BUDGET_FD_CEILING
	              : (int64_t)r.rlim_cur;
	log_msg(LOG_INFO,
	    "descriptors: soft limit %lld (was %lld), hard limit %lld",
	    (long long)fd_soft, (long long)before,
	    r.rlim_max == RLIM_INFINITY ? -1LL : (long long)r.rlim_max);
}

/* Lines for what was counted but not yet said. Called with the lock. */
static void
notes_flush_locked(int64_t now)
{
	for (int k = 0; k < CONN_NOTE_COUNT; k++) {
		if (notes[k].pending == 0 || now - notes[k].last_ms < 1000)
			continue;
		if (k == CONN_NOTE_PAUSED || k == CONN_NOTE_ACCEPT_ERROR)
			log_msg(LOG_WARN, "%s (%s): %lld in the last second",
			    note_text[k], strerror(notes[k].err),
			    (long long)notes[k].pending);
		else
			log_msg(LOG_WARN, "%s: %lld in the last second",
			    note_text[k], (long long)notes[k].pending);
		notes[k].pending = 0;
		notes[k].last_ms = now;
	}
}

/* The address a cap counts: IPv4 as mapped IPv6, IPv6 by its /64 (one
 * subscriber's prefix, RFC 6177), anything else as one address. */
void
conn_budget_addr_key(int fd, unsigned char key[CONN_BUDGET_ADDR_LEN])
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(key, 0, CONN_BUDGET_ADDR_LEN);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return;
	if (ss.ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6) {
		const unsigned char *a =
		    ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
		static const unsigned char mapped[12] = {
			[10] = 0xff, [11] = 0xff
		};

		memcpy(key, a, CONN_BUDGET_ADDR_LEN);
		if (memcmp(a, mapped, 12) != 0)
			memset(key + 8, 0, 8);
	}
}

static size_t
addr_bucket(const unsigned char key[CONN_BUDGET_ADDR_LEN])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < CONN_BUDGET_ADDR_LEN; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % CONN_BUDGET_BUCKETS;
}

/* Adds delta to the address's count; returns the new count (-1: no
 * memory, counted as over any cap). */
static int64_t
addr_add(const unsigned char key[CONN_BUDGET_ADDR_LEN], int64_t delta)
{
	struct addr_count **p = &addr_table[addr_bucket(key)], *a;
	int64_t n;

	pthread_mutex_lock(&budget_lock);
	while (
	    (a = *p) != NULL && memcmp(a->addr, key, CONN_BUDGET_ADDR_LEN) != 0)
		p = &a->next;
	if (a == NULL && delta > 0) {
		if ((a = calloc(1, sizeof(*a))) == NULL) {
			pthread_mutex_unlock(&budget_lock);
			return -1;
		}
		memcpy(a->addr, key, CONN_BUDGET_ADDR_LEN);
		*p = a;
	}
	if (a == NULL) {
		pthread_mutex_unlock(&budget_lock);
		return 0;
	}
	n = a->n += delta;
	if (n <= 0) {
		*p = a->next;
		free(a);
	}
	pthread_mutex_unlock(&budget_lock);
	return n;
}

int64_t
conn_budget_fd_limit(void)
{
	pthread_once(&fd_once, raise_once);
	return fd_soft;
}

int64_t
conn_budget_total(void)
{
	return atomic_load(&budget_total);
}

int64_t
conn_budget_take(const unsigned char key[CONN_BUDGET_ADDR_LEN], int64_t *mine)
{
	*mine = addr_add(key, 1);
	return atomic_fetch_add(&budget_total, 1) + 1;
}

void
conn_budget_give(const unsigned char key[CONN_BUDGET_ADDR_LEN])
{
	atomic_fetch_sub(&budget_total, 1);
	addr_add(key, -1);
}

bool
conn_budget_note(enum conn_note k, int err)
{
	int64_t now = now_ms();
	bool waiting;

	pthread_mutex_lock(&budget_lock);
	notes[k].pending++;
	notes[k].total++;
	notes[k].err = err;
	notes_flush_locked(now);
	waiting = notes[k].pending > 0;
	pthread_mutex_unlock(&budget_lock);
	return waiting;
}

void
conn_budget_flush(void)
{
	pthread_mutex_lock(&budget_lock);
	notes_flush_locked(now_ms());
	pthread_mutex_unlock(&budget_lock);
}

int64_t
conn_budget_note_total(enum conn_note k)
{
	int64_t n;

	pthread_mutex_lock(&budget_lock);
	n = notes[k].total;
	pthread_mutex_unlock(&budget_lock);
	return n;
}
