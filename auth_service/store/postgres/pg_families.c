/* pg_families: refresh-token families in PostgreSQL. A family is one
 * login: its user, client, granted scope, absolute expiry, and the
 * generation and expiry of its one live refresh token (refresh_token.h). Each
 * call is one autocommitted statement on the success path (one round trip); an
 * older generation is a reuse and revokes the family (RFC 9700 4.14.2). */
#include "pg_families.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_users.h"
#include "store_user.h"

static const char pg_sql_insert_family[] =
    "INSERT INTO families (id, user_id, client_id, created_at, expires_at,"
    " generation, token_expires_at, scope, token_issued_at) VALUES ($1::text,"
    " $2::bigint, $3::text, $4::bigint, $5::bigint, 0, $6::bigint, $7::text,"
    " $4::bigint)";
/* The decision of a rotation. Under READ COMMITTED a concurrent UPDATE of
 * the same row waits for the first to commit and then re-checks its WHERE
 * against the new row (PostgreSQL docs 13.2.1): the generation no longer
 * matches, so exactly one caller, in any process on any host, moves the
 * family from g to g + 1, and only while it, its token and its user are
 * live, and only for the client it was issued to (RFC 6749 6). The user
 * is read by the same statement, so the next access token carries the
 * roles as they are now and a deleted user gets nothing. Columns 0..8 are
 * GRANT_COLUMNS' (revoked is false here), the user's from 8. */
static const char pg_sql_advance[] =
    "UPDATE families f SET generation = f.generation + 1,"
    " token_expires_at = least($3::bigint + $4::bigint, f.expires_at),"
    " token_issued_at = $3::bigint"
    " FROM users u"
    " WHERE f.id = $1::text AND u.id = f.user_id"
    " AND f.generation = $2::bigint AND f.revoked_at IS NULL"
    " AND f.expires_at > $3::bigint AND f.token_expires_at > $3::bigint"
    " AND f.client_id = $5::text"
    " RETURNING f.user_id, f.expires_at, f.token_expires_at, f.generation,"
    " false, u.username, f.client_id, f.scope, $3::bigint,"
    " u.id, u.sub, u.username, u.password_hash, u.roles";
#define GRANT_USER_COL 9
/* What grant_from_row reads, in this order. */
#define GRANT_COLUMNS                                                          \
	"f.user_id, f.expires_at, f.token_expires_at, f.generation,"           \
	" f.revoked_at IS NOT NULL, u.username, f.client_id, f.scope,"         \
	" greatest(f.token_issued_at, f.created_at)"
static const char pg_sql_family[] =
    "SELECT " GRANT_COLUMNS
    " FROM families f LEFT JOIN users u ON u.id = f.user_id"
    " WHERE f.id = $1::text";
/* Revokes once (the first reason stays) and returns the row as it was
 * (o: read under the row lock before the change), as the SQLite backend
 * does: one statement, so logout is one round trip. */
static const char pg_sql_revoke[] =
    "UPDATE families f SET revoked_at = coalesce(f.revoked_at, $2::bigint),"
    " revoked_reason = CASE WHEN f.revoked_at IS NULL THEN $3::text"
    " ELSE f.revoked_reason END"
    " FROM (SELECT id, revoked_at FROM families WHERE id = $1::text"
    " FOR UPDATE) o"
    " WHERE f.id = o.id"
    " RETURNING f.user_id, f.expires_at, f.token_expires_at, f.generation,"
    " o.revoked_at IS NOT NULL,"
    " (SELECT username FROM users WHERE id = f.user_id),"
    " f.client_id, f.scope, greatest(f.token_issued_at, f.created_at)";
/* Oldest first, a bounded batch per statement (families_expiry index);
 * rows another issuer's purge holds are skipped, not waited for. */
static const char pg_sql_purge[] =
    "DELETE FROM families WHERE id IN (SELECT id FROM families"
    " WHERE expires_at < $1::bigint ORDER BY expires_at LIMIT $2::bigint"
    " FOR UPDATE SKIP LOCKED)";

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Row 0's GRANT_COLUMNS: user_id, expires_at, token_expires_at,
 * generation, revoked, username (NULL: the user is gone), client_id,
 * scope, when the live generation was issued. */
static void
grant_from_row(
    struct store_grant *g, const char *family_id, const PGresult *res)
{
	*g = (struct store_grant){
		.user_id = pg_int(res, 0, 0),
		.family_expires = pg_int(res, 0, 1),
		.token_expires = pg_int(res, 0, 2),
		.generation = (uint64_t)pg_int(res, 0, 3),
		.revoked = strcmp(PQgetvalue(res, 0, 4), "t") == 0,
		.token_issued = pg_int(res, 0, 8),
	};
	snprintf(g->family_id, sizeof(g->family_id), "%s", family_id);
	if (!PQgetisnull(res, 0, 5))
		snprintf(g->username, sizeof(g->username), "%s",
		    PQgetvalue(res, 0, 5));
	snprintf(
	    g->client_id, sizeof(g->client_id), "%s", PQgetvalue(res, 0, 6));
	snprintf(g->scope, sizeof(g->scope), "%s", PQgetvalue(res, 0, 7));
}

int
pg_create_family(struct pg *pg, const char *family_id, int64_t user_id,
    const char *client_id, const char *scope, int64_t now, int64_t token_ttl,
    int64_t family_ttl, struct store_grant *out, struct err *e)
{
	char b[4][PG_INT_BUF];
	const char *p[7];
	PGresult *res;

	if (scope == NULL)
		scope = "";
	if (strlen(client_id) > STORE_MAX_CLIENT_ID ||
	    strlen(scope) > STORE_MAX_SCOPE ||
	    !pg_text_ok(client_id, strlen(client_id)) ||
	    !pg_text_ok(scope, strlen(scope)))
		return err_set(e, ERR_INVALID_REQUEST, "client_id or scope");
	*out = (struct store_grant){ .user_id = user_id };
	snprintf(out->family_id, sizeof(out->family_id), "%s", family_id);
	snprintf(out->client_id, sizeof(out->client_id), "%s", client_id);
	snprintf(out->scope, sizeof(out->scope), "%s", scope);
	out->family_expires = now + family_ttl;
	out->token_expires = min64(now + token_ttl, out->family_expires);
	out->token_issued = now;
	p[0] = family_id;
	p[1] = pg_param_int(b[0], user_id);
	p[2] = client_id;
	p[3] = pg_param_int(b[1], now);
	p[4] = pg_param_int(b[2], out->family_expires);
	p[5] = pg_param_int(b[3], out->token_expires);
	p[6] = scope;
	res = pg_exec(pg, pg_sql_insert_family, 7, p, "insert family", e);
	PQclear(res);
	return res != NULL ? 0 : -1;
}

/* Why a presented (family, generation) that did not advance is refused.
 * Reuse is checked before expiry: an old generation proves the family
 * leaked, even once its tokens have expired. Generations only grow, so a
 * row past the presented one is reuse whatever happens meanwhile. */
static int
refuse(struct pg *pg, const char *family_id, uint64_t generation,
    const char *client_id, int64_t now, struct store_grant *out,
    enum store_refusal *why, struct err *e)
{
	PGresult *res = pg_exec(pg, pg_sql_family, 1, &family_id, "family", e);
	struct store_grant revoked_grant;
	bool found;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		*why = STORE_REFUSED_UNKNOWN;
		return err_set(e, ERR_INVALID_GRANT, "unknown refresh token");
	}
	grant_from_row(out, family_id, res);
	PQclear(res);
	/* Another client's token: refused, and nothing changes for the
	 * client it belongs to (RFC 6749 6, 10.4). */
	if (strcmp(out->client_id, client_id) != 0) {
		*why = STORE_REFUSED_CLIENT;
		return err_set(e, ERR_INVALID_GRANT, "another client's token");
	}
	if (out->revoked) {
		*why = STORE_REFUSED_REVOKED;
		return err_set(e, ERR_INVALID_GRANT, "family revoked");
	}
	if (generation < out->generation) {
		/* Two parties hold the family: revoke all of it. The
		 * statement commits on its own, although this request
		 * fails. */
		if (pg_revoke(pg, family_id, "reuse", now, &revoked_grant,
		        &found, e) == -1)
			return -1;
		*why = STORE_REFUSED_REUSED;
		return err_set(e, ERR_INVALID_GRANT, "refresh token reused");
	}
	if (generation > out->generation) {
		/* Only a database restored from an older backup says so. */
		*why = STORE_REFUSED_UNKNOWN;
		return err_set(e, ERR_INVALID_GRANT, "generation not issued");
	}
	*why = STORE_REFUSED_EXPIRED;
	return err_set(e, ERR_INVALID_GRANT, "refresh token expired");
}

int
pg_rotate(struct pg *pg, const char *family_id, uint64_t generation,
    const char *client_id, int64_t now, int64_t token_ttl,
    struct store_grant *out, struct store_user **user, enum store_refusal *why,
    struct err *e)
{
	char b[3][PG_INT_BUF];
	const char *p[5];
	PGresult *res;
	int rc;

	*out = (struct store_grant){ 0 };
	*user = NULL;
	*why = STORE_REFUSED_NONE;
	p[0] = family_id;
	p[1] = pg_param_int(b[0], (int64_t)generation);
	p[2] = pg_param_int(b[1], now);
	p[3] = pg_param_int(b[2], token_ttl);
	p[4] = client_id;
	/* A client id PostgreSQL cannot take as text is no stored one's. */
	if (!pg_text_ok(client_id, strlen(client_id)))
		return refuse(
		    pg, family_id, generation, client_id, now, out, why, e);
	if ((res = pg_exec(pg, pg_sql_advance, 5, p, "advance family", e)) ==
	    NULL)
		return -1;
	/* The row count is the decision, not an assumption about locks. */
	if (PQntuples(res) != 1) {
		PQclear(res);
		return refuse(
		    pg, family_id, generation, client_id, now, out, why, e);
	}
	grant_from_row(out, family_id, res);
	rc = pg_user_from_row(res, GRANT_USER_COL, user, e);
	PQclear(res);
	return rc;
}

int
pg_revoke(struct pg *pg, const char *family_id, const char *reason, int64_t now,
    struct store_grant *out, bool *found, struct err *e)
{
	char b[PG_INT_BUF];
	const char *p[] = { family_id, pg_param_int(b, now), reason };
	PGresult *res = pg_exec(pg, pg_sql_revoke, 3, p, "revoke family", e);

	*out = (struct store_grant){ 0 };
	*found = false;
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		*found = true;
		grant_from_row(out, family_id, res);
	}
	PQclear(res);
	return 0;
}

int
pg_find_family(struct pg *pg, const char *family_id, struct store_grant *out,
    bool *found, struct err *e)
{
	PGresult *res = pg_exec(pg, pg_sql_family, 1, &family_id, "family", e);

	*out = (struct store_grant){ 0 };
	*found = false;
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		*found = true;
		grant_from_row(out, family_id, res);
	}
	PQclear(res);
	return 0;
}

int
pg_purge(struct pg *pg, int64_t before, int64_t limit, int64_t *deleted,
    struct err *e)
{
	char b[2][PG_INT_BUF];
	const char *p[] = { pg_param_int(b[0], before),
		pg_param_int(b[1], limit) };
	PGresult *res = pg_exec(pg, pg_sql_purge, 2, p, "purge", e);

	*deleted = 0;
	if (res == NULL)
		return -1;
	*deleted = pg_changes(res);
	PQclear(res);
	return 0;
}
