/* tls: server and client contexts on bufferevent_openssl. */
#include "tls.h"

#include <arpa/inet.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tls_server {
	pthread_mutex_t lock; /* ctx is swapped on reload, read per accept */
	SSL_CTX *ctx;
	char *cert, *key;
};

struct tls_client {
	SSL_CTX *ctx;
};

/* OpenSSL's first queued reason, for a config error line. */
static const char *
ssl_reason(void)
{
	unsigned long code = ERR_get_error();
	const char *r = code != 0 ? ERR_reason_error_string(code) : NULL;

	ERR_clear_error();
	return r != NULL ? r : "unknown error";
}

static SSL_CTX *
server_ctx(const char *cert, const char *key, struct err *e)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		err_set(e, ERR_NOMEM, "TLS context");
		return NULL;
	}
	/* TLS 1.2 and later (RFC 8996 retires 1.0 and 1.1). */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(
	    ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		err_set(e, ERR_CONFIG, "tls_cert: %s: %s", cert, ssl_reason());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		err_set(e, ERR_CONFIG, "tls_key: %s: %s", key, ssl_reason());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		err_set(e, ERR_CONFIG, "tls_key: %s does not match tls_cert %s",
		    key, cert);
		goto fail;
	}
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

struct tls_server *
tls_server_new(const char *cert, const char *key, struct err *e)
{
	struct tls_server *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->cert = strdup(cert)) == NULL ||
	    (t->key = strdup(key)) == NULL) {
		tls_server_free(t);
		err_set(e, ERR_NOMEM, "TLS");
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	if ((t->ctx = server_ctx(cert, key, e)) == NULL) {
		tls_server_free(t);
		return NULL;
	}
	return t;
}

void
tls_server_free(struct tls_server *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t->cert);
	free(t->key);
	free(t);
}

int
tls_server_reload(struct tls_server *t, struct err *e)
{
	SSL_CTX *fresh = server_ctx(t->cert, t->key, e), *old;

	if (fresh == NULL)
		return -1;
	pthread_mutex_lock(&t->lock);
	old = t->ctx;
	t->ctx = fresh;
	pthread_mutex_unlock(&t->lock);
	/* Connections open hold their own references (SSL_new). */
	SSL_CTX_free(old);
	return 0;
}

/* evhttp's bevcb: one SSL per accepted connection, on the accepting
 * loop's base. NULL makes libevent fall back to a plain socket, which a
 * TLS client then fails on: no downgrade it would accept. */
struct bufferevent *
tls_server_bufferevent(struct event_base *base, void *arg)
{
	struct tls_server *t = arg;
	struct bufferevent *bev;
	SSL *ssl;

	pthread_mutex_lock(&t->lock);
	ssl = SSL_new(t->ctx);
	pthread_mutex_unlock(&t->lock);
	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(
	    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* A client closing without close_notify ends its own reply early;
	 * HTTP framing (Content-Length) tells it so. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

void
tls_server_install(struct tls_server *t, struct evhttp *http)
{
	evhttp_set_bevcb(http, tls_server_bufferevent, t);
}

struct tls_client *
tls_client_new(const char *ca_file, struct err *e)
{
	struct tls_client *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		free(c);
		err_set(e, ERR_NOMEM, "TLS client");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL && ca_file[0] != '\0') {
		if (SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1) {
			err_set(e, ERR_CONFIG, "jwks_ca_file: %s: %s", ca_file,
			    ssl_reason());
			tls_client_free(c);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
		err_set(e, ERR_CONFIG, "the system CA store: %s", ssl_reason());
		tls_client_free(c);
		return NULL;
	}
	return c;
}

void
tls_client_free(struct tls_client *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

struct bufferevent *
tls_client_bufferevent(struct tls_client *c, struct event_base *base,
    const char *host, struct err *e)
{
	unsigned char addr[16];
	struct bufferevent *bev;
	SSL *ssl = SSL_new(c->ctx);
	bool is_ip = inet_pton(AF_INET, host, addr) == 1 ||
	             inet_pton(AF_INET6, host, addr) == 1;
	int ok;

	if (ssl == NULL) {
		err_set(e, ERR_NOMEM, "TLS connection");
		return NULL;
	}
	/* RFC 6125: the name connected to must be in the certificate; an
	 * address must be an iPAddress entry. SNI carries names only (RFC
	 * 6066 3). */
	if (is_ip)
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	else
		ok = SSL_set1_host(ssl, host) &&
		     SSL_set_tlsext_host_name(ssl, host);
	if (ok != 1) {
		SSL_free(ssl);
		err_set(e, ERR_CONFIG, "TLS: cannot check host %s", host);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		err_set(e, ERR_NOMEM, "TLS connection");
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

void
tls_client_error(struct bufferevent *bev, char *buf, size_t len)
{
	SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
	unsigned long code;
	long v;

	buf[0] = '\0';
	if (ssl == NULL)
		return;
	if ((v = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(buf, len, "TLS certificate refused: %s",
		    X509_verify_cert_error_string(v));
		return;
	}
	if ((code = bufferevent_get_openssl_error(bev)) != 0) {
		const char *r = ERR_reason_error_string(code);
		snprintf(buf, len, "TLS handshake failed: %s",
		    r != NULL ? r : "unknown error");
	}
}
