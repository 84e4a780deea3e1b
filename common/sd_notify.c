/* sd_notify: one datagram per state change to $NOTIFY_SOCKET. */
#include "sd_notify.h"

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
