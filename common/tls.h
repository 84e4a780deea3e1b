/* tls: OpenSSL through libevent's bufferevent_openssl for both daemons: a
 * server context for an HTTPS listener (TLS 1.2 and later, certificate
 * and key reloaded on SIGHUP) and a client context for fetching over
 * https:// (the system CAs or a CA file; the server's name or address
 * verified, RFC 6125). */
#ifndef JWT_TLS_H
#define JWT_TLS_H

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <stddef.h>

#include "err.h"

struct tls_server;

/* Loads cert (a PEM chain, leaf first) and key (PEM). ERR_CONFIG naming
 * the file and OpenSSL's reason. */
struct tls_server *tls_server_new(
    const char *cert, const char *key, struct err *e);
void tls_server_free(struct tls_server *t);

/* Reads the files again; on success new connections use them (those
 * open keep theirs), on failure the running pair stays. Any thread. */
int tls_server_reload(struct tls_server *t, struct err *e);

/* Every connection http accepts speaks TLS. t outlives http. */
void tls_server_install(struct tls_server *t, struct evhttp *http);

/* The same as a bufferevent maker (listener_limits.make_bev; arg: the
 * struct tls_server): a new SSL on the current certificate. */
struct bufferevent *tls_server_bufferevent(struct event_base *base, void *arg);

struct tls_client;

/* ca_file NULL or "": the system's trust store. */
struct tls_client *tls_client_new(const char *ca_file, struct err *e);
void tls_client_free(struct tls_client *c);

/* A bufferevent that connects with TLS to host (a name, or an address
 * checked as one), sending its name in SNI and refusing a certificate
 * that does not chain to the trusted CAs or does not name host. */
struct bufferevent *tls_client_bufferevent(struct tls_client *c,
    struct event_base *base, const char *host, struct err *e);

/* Why a TLS connection on bev failed, in words ("certificate verify
 * failed: hostname mismatch"), or "" when TLS reported nothing. */
void tls_client_error(struct bufferevent *bev, char *buf, size_t len);

#endif
