/* sd_notify: the systemd notification protocol (sd_notify(3)), written
 * here: one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET, so
 * Type=notify units know when the daemon is ready, and WatchdogSec=
 * units that it still turns, without libsystemd. */
#ifndef JWT_SD_NOTIFY_H
#define JWT_SD_NOTIFY_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

/* Sends state ("READY=1\nSTATUS=serving", ...) plus MAINPID. Without
 * $NOTIFY_SOCKET (not under systemd) it does nothing and returns 0; -1 if
 * the socket is named but cannot be reached. */
int sd_notify_send(const char *state);

/* The watchdog interval systemd asks of this process, in microseconds
 * (sd_watchdog_enabled(3)): $WATCHDOG_USEC, unless $WATCHDOG_PID names
 * another process. 0: no watchdog. */
int64_t sd_watchdog_usec(void);

/* Sends WATCHDOG=1 from a timer on base every half interval, while
 * alive(arg) (NULL: always true) says the rest of the process turns too:
 * a skipped ping lets systemd restart a daemon whose loop still runs but
 * whose workers hang. NULL (nothing started) when no watchdog is asked
 * or on no memory. */
struct sd_watchdog *sd_watchdog_start(
    struct event_base *base, bool (*alive)(void *arg), void *arg);
void sd_watchdog_free(struct sd_watchdog *w);

#endif
