/* sd_notify: one datagram per state change to $NOTIFY_SOCKET, and the
 * watchdog's pings. */
#include "sd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
sd_notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[512];
	size_t plen;
	socklen_t len;
	ssize_t sent;
	int fd, n;

	if (path == NULL || path[0] == '\0')
		return 0;
	/* A path, or "@name" for the abstract namespace (a leading NUL). */
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	n = snprintf(
	    msg, sizeof(msg), "%s\nMAINPID=%ld", state, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	sent = sendto(
	    fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	close(fd);
	return sent == n ? 0 : -1;
}

int64_t
sd_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	long long v;
	char *end;

	if (usec == NULL || usec[0] == '\0')
		return 0;
	/* Set for the main process; a child inheriting it is not asked. */
	if (pid != NULL && pid[0] != '\0') {
		errno = 0;
		v = strtoll(pid, &end, 10);
		if (errno != 0 || *end != '\0' || v != (long long)getpid())
			return 0;
	}
	errno = 0;
	v = strtoll(usec, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return 0;
	return (int64_t)v;
}

struct sd_watchdog {
	struct event *tick;
	bool (*alive)(void *arg);
	void *arg;
};

static void
watchdog_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sd_watchdog *w = arg;

	(void)fd;
	(void)what;
	if (w->alive == NULL || w->alive(w->arg))
		(void)sd_notify_send("WATCHDOG=1");
}

struct sd_watchdog *
sd_watchdog_start(struct event_base *base, bool (*alive)(void *arg), void *arg)
{
	int64_t usec = sd_watchdog_usec() / 2;
	struct timeval every = { .tv_sec = (time_t)(usec / 1000000),
		.tv_usec = (suseconds_t)(usec % 1000000) };
	struct sd_watchdog *w;

	if (usec <= 0 || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->alive = alive;
	w->arg = arg;
	if ((w->tick = event_new(base, -1, EV_PERSIST, watchdog_tick, w)) ==
	        NULL ||
	    event_add(w->tick, &every) == -1) {
		sd_watchdog_free(w);
		return NULL;
	}
	return w;
}

void
sd_watchdog_free(struct sd_watchdog *w)
{
	if (w == NULL)
		return;
	if (w->tick != NULL)
		event_free(w->tick);
	free(w);
}
