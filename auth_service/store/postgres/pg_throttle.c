/* pg_throttle: the login_failures table: one row per throttled key (a
 * keyed hash, never a name or address), each change one autocommitted
 * statement, so concurrent failures on several issuers all count. */
#include "pg_throttle.h"

#include <stdio.h>

#include "store.h"

static const char pg_sql_get[] =
    "SELECT blocked_until FROM login_failures WHERE key = $1::bytea";
/* The row lock of the upsert orders concurrent failures: none is lost. */
static const char pg_sql_fail[] =
    "INSERT INTO login_failures AS t (key, failures, last_failure,"
    " blocked_until) VALUES ($1::bytea, 1, $2::bigint, 0)"
    " ON CONFLICT (key) DO UPDATE SET"
    " failures = CASE WHEN t.last_failure <= $2::bigint - $3::bigint"
    " AND t.blocked_until <= $2::bigint THEN 1 ELSE t.failures + 1 END,"
    " last_failure = $2::bigint"
    " RETURNING failures";
static const char pg_sql_block[] =
    "UPDATE login_failures SET blocked_until = greatest(blocked_until,"
    " $2::bigint) WHERE key = $1::bytea";
static const char pg_sql_clear[] =
    "DELETE FROM login_failures WHERE key = $1::bytea";
static const char pg_sql_purge[] =
    "DELETE FROM login_failures WHERE key IN (SELECT key FROM"
    " login_failures WHERE last_failure < $1::bigint - 86400"
    " AND blocked_until < $1::bigint LIMIT $2::bigint"
    " FOR UPDATE SKIP LOCKED)";

/* bytea in PostgreSQL's hex text form. */
static const char *
key_param(const unsigned char *key, char out[3 + 2 * STORE_THROTTLE_KEY_LEN])
{
	out[0] = '\\';
	out[1] = 'x';
	for (size_t i = 0; i < STORE_THROTTLE_KEY_LEN; i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", key[i]);
	return out;
}

static int
run(struct pg *pg, const char *sql, int n, const char *const *p,
    const char *what, PGresult **out, struct err *e)
{
	PGresult *res = pg_exec(pg, sql, n, p, what, e);

	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return res != NULL ? 0 : -1;
}

int
pg_throttle_get(struct pg *pg, const unsigned char *key, int64_t *blocked_until,
    struct err *e)
{
	char k[3 + 2 * STORE_THROTTLE_KEY_LEN];
	const char *p[] = { key_param(key, k) };
	PGresult *res;

	*blocked_until = 0;
	if (run(pg, pg_sql_get, 1, p, "throttle", &res, e) == -1)
		return -1;
	if (PQntuples(res) == 1)
		*blocked_until = pg_int(res, 0, 0);
	PQclear(res);
	return 0;
}

int
pg_throttle_fail(struct pg *pg, const unsigned char *key, int64_t now,
    int64_t window, int64_t *failures, struct err *e)
{
	char k[3 + 2 * STORE_THROTTLE_KEY_LEN], b[2][PG_INT_BUF];
	const char *p[] = { key_param(key, k), pg_param_int(b[0], now),
		pg_param_int(b[1], window) };
	PGresult *res;

	*failures = 0;
	if (run(pg, pg_sql_fail, 3, p, "throttle failure", &res, e) == -1)
		return -1;
	*failures = pg_int(res, 0, 0);
	PQclear(res);
	return 0;
}

int
pg_throttle_block(
    struct pg *pg, const unsigned char *key, int64_t until, struct err *e)
{
	char k[3 + 2 * STORE_THROTTLE_KEY_LEN], b[PG_INT_BUF];
	const char *p[] = { key_param(key, k), pg_param_int(b, until) };

	return run(pg, pg_sql_block, 2, p, "throttle block", NULL, e);
}

int
pg_throttle_clear(struct pg *pg, const unsigned char *key, struct err *e)
{
	char k[3 + 2 * STORE_THROTTLE_KEY_LEN];
	const char *p[] = { key_param(key, k) };

	return run(pg, pg_sql_clear, 1, p, "throttle clear", NULL, e);
}

int
pg_throttle_purge(struct pg *pg, int64_t before, int64_t limit,
    int64_t *deleted, struct err *e)
{
	char b[2][PG_INT_BUF];
	const char *p[] = { pg_param_int(b[0], before),
		pg_param_int(b[1], limit) };
	PGresult *res;

	*deleted = 0;
	if (run(pg, pg_sql_purge, 2, p, "throttle purge", &res, e) == -1)
		return -1;
	*deleted = pg_changes(res);
	PQclear(res);
	return 0;
}
