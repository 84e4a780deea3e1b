/* pg: PostgreSQL connection set-up, schema migrations, prepared
 * statements, transactions and error mapping for the store's PostgreSQL
 * backend. */
#include "pg.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

/* Migration n takes the schema from version n to n + 1, each recorded in
 * schema_migrations. Never edit a shipped step: append one. Times are
 * seconds since the epoch as the issuer's clock gives them (as in the
 * SQLite schema), so every backend decides expiry on the same numbers. */
static const char *const pg_migrations[PG_SCHEMA_VERSION] = {
	/* 0 -> 1: the SQLite schema at its version 2 (one row per login). */
	"CREATE TABLE users ("
	" id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" sub text NOT NULL UNIQUE,"
	" username text NOT NULL UNIQUE,"
	" password_hash text NOT NULL,"
	" seed_hash text," /* the hash last imported from secrets.json */
	" roles text NOT NULL DEFAULT '[]'," /* JSON array of strings */
	" created_at bigint NOT NULL,"
	" updated_at bigint NOT NULL);"
	"CREATE TABLE families ("
	" id text PRIMARY KEY,"
	" user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" client_id text NOT NULL,"
	" created_at bigint NOT NULL,"
	" expires_at bigint NOT NULL,"
	" revoked_at bigint,"
	" revoked_reason text,"
	" generation bigint NOT NULL DEFAULT 0,"
	" token_expires_at bigint NOT NULL)"
	/* A rotation rewrites the row; room on its page keeps the new
	 * version there (a HOT update: no index touched, and the old one
	 * pruned without a vacuum). */
	" WITH (fillfactor = 70);"
	"CREATE INDEX families_user ON families(user_id);"
	"CREATE INDEX families_expiry ON families(expires_at);"
	/* One row the readiness check rewrites to prove writes succeed. */
	"CREATE TABLE health_probe ("
	" id integer PRIMARY KEY CHECK (id = 1),"
	" at bigint NOT NULL);",
	/* 1 -> 2: the failed-login throttle's state, shared by every issuer
	 * of the database (pg_throttle.c). key: a keyed hash, never a user
	 * name or address. */
	"CREATE TABLE login_failures ("
	" key bytea PRIMARY KEY,"
	" failures bigint NOT NULL,"
	" last_failure bigint NOT NULL,"
	" blocked_until bigint NOT NULL DEFAULT 0);",
	/* 2 -> 3: OAuth 2.0 clients (store.h struct store_client) and the
	 * scope a family was granted (refresh never widens it), as the
	 * SQLite schema's step 3. */
	"CREATE TABLE clients ("
	" id text PRIMARY KEY,"
	" secret_hash text,"                 /* NULL: a public client */
	" grant_types integer NOT NULL,"     /* store.h STORE_GRANT_* bits */
	" roles text NOT NULL DEFAULT '[]'," /* JSON array of strings */
	" access_ttl bigint NOT NULL DEFAULT 0," /* 0: the configured one */
	" created_at bigint NOT NULL);"
	/* A constant default: no table rewrite (PostgreSQL 11+). */
	"ALTER TABLE families ADD COLUMN scope text NOT NULL DEFAULT '';"
	"CREATE INDEX families_client ON families(client_id);",
	/* 3 -> 4: when the live refresh token was issued (introspection's
	 * iat), as the SQLite schema's step 4; 0 reads as created_at. */
	"ALTER TABLE families ADD COLUMN token_issued_at bigint NOT NULL"
	" DEFAULT 0;",
};

/* Any constant: issuers starting together migrate one at a time. */
#define PG_MIGRATION_LOCK "7084423091733"

bool
pg_is_url(const char *database)
{
	return strncmp(database, "postgresql://", 13) == 0 ||
	       strncmp(database, "postgres://", 11) == 0;
}

bool
pg_text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n = c < 0x80             ? 1
		           : (c & 0xe0) == 0xc0 ? 2
		           : (c & 0xf0) == 0xe0 ? 3
		           : (c & 0xf8) == 0xf0 ? 4
		                                : 0;
		uint32_t cp;

		if (c == 0 || n == 0 || i + n > len)
			return false;
		cp = n == 1 ? c : (uint32_t)(c & (0x7f >> n));
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and beyond U+10FFFF. */
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

const char *
pg_param_int(char buf[PG_INT_BUF], int64_t v)
{
	snprintf(buf, PG_INT_BUF, "%" PRId64, v);
	return buf;
}

int64_t
pg_int(const PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c)
	           ? 0
	           : strtoll(PQgetvalue(res, r, c), NULL, 10);
}

int64_t
pg_changes(const PGresult *res)
{
	return strtoll(PQcmdTuples((PGresult *)res), NULL, 10);
}

/* Copies the first line of msg into out with every occurrence of the
 * URL's password replaced: libpq's connection errors quote parts of the
 * connection string. */
static void
scrub(const struct pg *pg, const char *msg, char *out, size_t cap)
{
	const char *pw = pg != NULL ? pg->password : NULL;
	size_t pwlen = pw != NULL ? strlen(pw) : 0, o = 0;

	for (const char *p = msg; *p != '\0' && *p != '\n' && o + 1 < cap;) {
		if (pwlen > 0 && strncmp(p, pw, pwlen) == 0) {
			for (const char *r = "***"; *r != '\0' && o + 1 < cap;)
				out[o++] = *r++;
			p += pwlen;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
}

static bool
sqlstate_is(const char *state, const char *code)
{
	return state != NULL && strcmp(state, code) == 0;
}

int
pg_fail(struct pg *pg, const PGresult *res, const char *what, struct err *e)
{
	const char *state =
	    res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL
	                      ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
	                      : NULL;
	bool connected = pg != NULL && pg->conn != NULL &&
	                 PQstatus(pg->conn) == CONNECTION_OK;
	enum err_code code = ERR_IO;
	char clean[120];

	if (msg == NULL)
		msg = pg != NULL && pg->conn != NULL ? PQerrorMessage(pg->conn)
		                                     : "no connection";
	/* Retryable: another transaction won a race or held a lock, or a
	 * statement was cancelled; the connection itself is fine. Anything
	 * else (no connection, a server shutting down, a full disk, a
	 * read-only server, a schema gone) fails the database: ERR_IO, and
	 * the pool starts the next task from a fresh connection. */
	if (connected &&
	    (sqlstate_is(state, "40001") || sqlstate_is(state, "40P01") ||
	        sqlstate_is(state, "55P03") || sqlstate_is(state, "23505") ||
	        sqlstate_is(state, "57014")))
		code = ERR_UNAVAILABLE;
	/* Another broken constraint (a user deleted by another issuer
	 * between two steps) or bad data says nothing about the database's
	 * health, as in the SQLite backend. */
	else if (connected && state != NULL &&
	         (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0))
		code = ERR_INTERNAL;
	scrub(pg, msg, clean, sizeof(clean));
	return err_set(e, code, "postgres: %s: %s", what, clean);
}

static int
pg_ok(struct pg *pg, PGresult *res, const char *what, struct err *e)
{
	ExecStatusType st =
	    res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	return pg_fail(pg, res, what, e);
}

/* A statement without parameters (transaction control, migrations). */
static int
pg_simple(struct pg *pg, const char *sql, const char *what, struct err *e)
{
	PGresult *res = PQexec(pg->conn, sql);
	int rc = pg_ok(pg, res, what, e);

	PQclear(res);
	return rc;
}

/* Before a statement outside a transaction. A connection the server
 * ended while it sat idle (a restart, a failover, an idle timeout, an
 * administrator) has the server's goodbye waiting on its socket; seen
 * here, nothing of this statement has been sent, so connecting again is
 * safe for any statement, a write included, and the request never
 * notices. A connection lost without a word is found by the statement
 * itself: ERR_IO, and the store pool starts afresh. */
static int
pg_alive(struct pg *pg, const char *what, struct err *e)
{
	struct pollfd pfd = { .fd = PQsocket(pg->conn), .events = POLLIN };

	/* In a transaction a lost connection fails the statement: never
	 * carry on in a new session. */
	if (PQstatus(pg->conn) == CONNECTION_OK &&
	    PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
		return 0;
	/* The goodbye is an error message, then the end of the stream:
	 * libpq sees the end on a second read. A live connection has at
	 * most a notice waiting, and nothing after it. */
	for (int i = 0; i < 4 && PQstatus(pg->conn) == CONNECTION_OK &&
	                pfd.fd >= 0 && poll(&pfd, 1, 0) == 1;
	     i++)
		if (PQconsumeInput(pg->conn) == 0)
			break;
	if (PQstatus(pg->conn) == CONNECTION_OK)
		return 0;
	PQreset(pg->conn);
	/* A new session: nothing is prepared in it. */
	memset(pg->prepared, 0, sizeof(pg->prepared));
	if (PQstatus(pg->conn) != CONNECTION_OK)
		return pg_fail(pg, NULL, what, e);
	return 0;
}

PGresult *
pg_exec(struct pg *pg, const char *sql, int n, const char *const *params,
    const char *what, struct err *e)
{
	char name[16];
	size_t i;
	PGresult *res;

	if (pg_alive(pg, what, e) == -1)
		return NULL;
	for (i = 0; i < PG_STMT_CACHE && pg->prepared[i] != NULL; i++)
		if (pg->prepared[i] == sql)
			break;
	if (i == PG_STMT_CACHE) {
		err_set(e, ERR_INTERNAL, "statement cache full");
		return NULL;
	}
	snprintf(name, sizeof(name), "s%zu", i);
	if (pg->prepared[i] == NULL) {
		res = PQprepare(pg->conn, name, sql, n, NULL);
		if (pg_ok(pg, res, what, e) == -1) {
			PQclear(res);
			return NULL;
		}
		PQclear(res);
		pg->prepared[i] = sql;
	}
	res = PQexecPrepared(pg->conn, name, n, params, NULL, NULL, 0);
	if (pg_ok(pg, res, what, e) == -1) {
		PQclear(res);
		return NULL;
	}
	return res;
}

int
pg_begin(struct pg *pg, struct err *e)
{
	if (pg_alive(pg, "begin", e) == -1)
		return -1;
	return pg_simple(pg, "BEGIN", "begin", e);
}

int
pg_commit(struct pg *pg, struct err *e)
{
	PGresult *res = PQexec(pg->conn, "COMMIT");
	int rc = pg_ok(pg, res, "commit", e);

	/* COMMIT of a transaction that failed answers ROLLBACK. */
	if (rc == 0 && strcmp(PQcmdStatus(res), "COMMIT") != 0)
		rc = err_set(e, ERR_IO, "postgres: commit rolled back");
	PQclear(res);
	if (rc == -1)
		pg_rollback(pg);
	return rc;
}

void
pg_rollback(struct pg *pg)
{
	struct err ignored = { 0 };

	if (pg->conn != NULL && PQstatus(pg->conn) == CONNECTION_OK &&
	    PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
		pg_simple(pg, "ROLLBACK", "rollback", &ignored);
}

static int
schema_version(struct pg *pg, int *version, struct err *e)
{
	PGresult *res = PQexec(pg->conn,
	    "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL"
	    " THEN -1 ELSE 0 END");
	int rc = pg_ok(pg, res, "schema version", e);

	if (rc == 0 && pg_int(res, 0, 0) == 0) {
		PQclear(res);
		res = PQexec(pg->conn,
		    "SELECT coalesce(max(version), 0) FROM schema_migrations");
		rc = pg_ok(pg, res, "schema version", e);
		*version = rc == 0 ? (int)pg_int(res, 0, 0) : 0;
	} else {
		*version = 0;
	}
	PQclear(res);
	return rc;
}

static int
migrate(struct pg *pg, struct err *e)
{
	char sql[160];
	int version;

	/* Nothing to do, the common case: no lock, no transaction. */
	if (schema_version(pg, &version, e) == -1)
		return -1;
	if (version == PG_SCHEMA_VERSION)
		return 0;
	if (pg_begin(pg, e) == -1 ||
	    pg_simple(pg, "SELECT pg_advisory_xact_lock(" PG_MIGRATION_LOCK ")",
	        "migration lock", e) == -1 ||
	    pg_simple(pg,
	        "CREATE TABLE IF NOT EXISTS schema_migrations ("
	        " version integer PRIMARY KEY, applied_at bigint NOT NULL)",
	        "schema_migrations", e) == -1 ||
	    schema_version(pg, &version, e) == -1)
		goto fail;
	if (version > PG_SCHEMA_VERSION) {
		err_set(e, ERR_IO,
		    "database schema version %d is newer than this program's "
		    "%d",
		    version, PG_SCHEMA_VERSION);
		goto fail;
	}
	for (; version < PG_SCHEMA_VERSION; version++) {
		if (pg_simple(pg, pg_migrations[version], "migration", e) == -1)
			goto fail;
		/* version is our int, not input. */
		snprintf(sql, sizeof(sql),
		    "INSERT INTO schema_migrations VALUES (%d,"
		    " extract(epoch FROM now())::bigint)",
		    version + 1);
		if (pg_simple(pg, sql, "schema_migrations", e) == -1)
			goto fail;
	}
	return pg_commit(pg, e);
fail:
	pg_rollback(pg);
	return -1;
}

/* The URL's password, kept only to scrub it from messages. */
static int
find_password(struct pg *pg, const char *url, struct err *e)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &msg);

	if (opts == NULL) {
		/* libpq's message quotes the URL: not shown. */
		PQfreemem(msg);
		return err_set(e, ERR_CONFIG,
		    "database: not a valid PostgreSQL URL (not shown: it may "
		    "hold a password)");
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    o->val[0] != '\0' &&
		    (pg->password = strdup(o->val)) == NULL) {
			PQconninfoFree(opts);
			return err_set(e, ERR_NOMEM, "pg");
		}
	PQconninfoFree(opts);
	return 0;
}

int
pg_open(const char *url, int lock_timeout_ms, struct pg **out, struct err *e)
{
	char options[64], connect_timeout[16];
	/* Defaults before "dbname", so that the URL's own settings (and
	 * then libpq's environment, PGPASSFILE included) win; the client
	 * encoding after it: this code sends and reads UTF-8. */
	const char *kw[8], *val[8];
	int n = 0;
	struct pg *pg;

	*out = NULL;
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return err_set(e, ERR_NOMEM, "pg");
	if (find_password(pg, url, e) == -1)
		goto fail;
	/* A host that does not answer must not hold a worker for the
	 * kernel's minutes: bounded connect, bounded unacknowledged send. */
	snprintf(connect_timeout, sizeof(connect_timeout), "%d",
	    lock_timeout_ms / 1000 > 2 ? lock_timeout_ms / 1000 : 2);
	if (getenv("PGCONNECT_TIMEOUT") == NULL) {
		kw[n] = "connect_timeout";
		val[n++] = connect_timeout;
	}
	kw[n] = "tcp_user_timeout";
	val[n++] = "10000";
	/* A row lock held by another issuer is waited for as long as
	 * SQLite's busy timeout, then the request gets 503. */
	snprintf(options, sizeof(options), "-c lock_timeout=%d",
	    lock_timeout_ms > 0 ? lock_timeout_ms : 1);
	if (getenv("PGOPTIONS") == NULL) {
		kw[n] = "options";
		val[n++] = options;
	}
	kw[n] = "fallback_application_name";
	val[n++] = "auth_service";
	kw[n] = "dbname";
	val[n++] = url;
	kw[n] = "client_encoding";
	val[n++] = "UTF8";
	kw[n] = NULL;
	val[n] = NULL;
	pg->conn = PQconnectdbParams(kw, val, 1);
	if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
		pg_fail(pg, NULL, "connect", e);
		goto fail;
	}
	if (migrate(pg, e) == -1)
		goto fail;
	*out = pg;
	return 0;
fail:
	pg_free(pg);
	return -1;
}

void
pg_free(struct pg *pg)
{
	if (pg == NULL)
		return;
	PQfinish(pg->conn);
	secret_free_str(pg->password);
	free(pg);
}

/* A read of a real table, as the SQLite ping does. */
static const char pg_sql_ping[] =
    "SELECT count(*) FROM (SELECT id FROM users LIMIT 1) s";

int
pg_ping(struct pg *pg, struct err *e)
{
	PGresult *res = pg_exec(pg, pg_sql_ping, 0, NULL, "ping", e);

	PQclear(res);
	return res != NULL ? 0 : -1;
}

static const char pg_sql_probe[] =
    "INSERT INTO health_probe (id, at) VALUES (1, $1::bigint)"
    " ON CONFLICT (id) DO UPDATE SET at = excluded.at";

int
pg_ping_write(struct pg *pg, int64_t now, struct err *e)
{
	char b[PG_INT_BUF];
	const char *p[] = { pg_param_int(b, now) };
	PGresult *res = pg_exec(pg, pg_sql_probe, 1, p, "write probe", e);

	PQclear(res);
	return res != NULL ? 0 : -1;
}
