/* route_track: what every handler of the issuer shares: in-flight
 * accounting for a clean shutdown, and the answer to a refused use case. */
#include "route_track.h"

#include <stdio.h>
#include <string.h>

#include "auth_metrics.h"
#include "http_util.h"

/* In-flight accounting for a clean shutdown: a request counts until its
 * reply has been written out. */
static void
request_complete(struct evhttp_request *req, void *arg)
{
	struct auth_ctx *ctx = arg;

	(void)req;
	if (ctx->active > 0)
		ctx->active--;
}

void
route_track(struct evhttp_request *req, struct auth_ctx *ctx)
{
	ctx->active++;
	evhttp_request_set_on_complete_cb(req, request_complete, ctx);
}

/* A reply to a request whose client has gone is freed unsent, and its
 * completion callback never runs: settle the count here instead. */
void
route_untrack_if_orphaned(struct evhttp_request *req, struct auth_ctx *ctx)
{
	if (evhttp_request_get_connection(req) == NULL && ctx->active > 0)
		ctx->active--;
}

/* A refused use case: its error, with Retry-After when it asks for one. */
void
route_reply_refusal(struct evhttp_request *req, const struct session_refusal *r)
{
	if (r->retry_after > 0)
		http_reply_error_retry(req, &r->e, (int)r->retry_after);
	else
		http_reply_error(req, &r->e);
}

/* The request being dispatched on the loop (one thread: no lock). */
static struct request_log *route_current;
static bool route_current_kept;

void
route_log_open(struct request_log *rl)
{
	route_current = rl;
	route_current_kept = false;
	http_reply_status_reset();
}

bool
route_log_close(void)
{
	route_current = NULL;
	request_log_clear_current();
	return route_current_kept;
}

void
route_log_keep(struct request_log *out, const char **route)
{
	*route = http_route_matched();
	if (route_current != NULL)
		*out = *route_current;
	else
		memset(out, 0, sizeof(*out));
	route_current_kept = true;
}

void
route_log_return(void)
{
	route_current_kept = false;
}

void
route_log_done(struct auth_ctx *ctx, const struct request_log *rl,
    const char *route, int status)
{
	int64_t us = request_log_elapsed_us(rl);

	auth_metrics_request(route, status, us);
	if (ctx->cfg->access_log)
		request_log_write(rl, route, status, us, NULL, 0);
}

void
route_log_client(struct evhttp_request *req, char *addr, size_t len)
{
	if (route_current == NULL || len == 0) {
		http_client_addr(req, addr, len);
		return;
	}
	snprintf(addr, len, "%s", route_current->client);
}
