/* route_track: what every handler of the issuer shares: in-flight
 * accounting for a clean shutdown, and the answer to a refused use case. */
#include "route_track.h"

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
