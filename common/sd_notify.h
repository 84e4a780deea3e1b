/* sd_notify: the systemd notification protocol (sd_notify(3)), written
 * here: one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET, so
 * Type=notify units know when the daemon is ready, without libsystemd. */
#ifndef JWT_SD_NOTIFY_H
#define JWT_SD_NOTIFY_H

/* Sends state ("READY=1\nSTATUS=serving", ...) plus MAINPID. Without
 * $NOTIFY_SOCKET (not under systemd) it does nothing and returns 0; -1 if
 * the socket is named but cannot be reached. */
int sd_notify_send(const char *state);

#endif
