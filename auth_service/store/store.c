/* store: the backend-neutral wrappers over a backend's ops table. */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "secret.h"

const char *
store_refusal_name(enum store_refusal why)
{
	switch (why) {
	case STORE_REFUSED_UNKNOWN:
		return "unknown";
	case STORE_REFUSED_EXPIRED:
		return "expired";
	case STORE_REFUSED_REVOKED:
		return "revoked";
	case STORE_REFUSED_REUSED:
		return "reused";
	case STORE_REFUSED_CLIENT:
		return "other_client";
	case STORE_REFUSED_NONE:
	default:
		return "none";
	}
}

void
store_user_free(struct store_user *u)
{
	if (u == NULL)
		return;
	for (size_t i = 0; i < u->n_roles; i++)
		free(u->roles[i]);
	free(u->roles);
	free(u->username);
	secret_free_str(u->password_hash);
	free(u);
}

void
store_seed_state_clear(struct store_seed_state *st)
{
	secret_free_str(st->seed_hash);
	*st = (struct store_seed_state){ 0 };
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->impl);
	free(s);
}

int
store_ping(struct store *s, struct err *e)
{
	return s->ops->ping(s->impl, e);
}

int
store_find_user(struct store *s, const char *name, size_t len,
    struct store_user **out, struct err *e)
{
	return s->ops->find_user(s->impl, name, len, out, e);
}

int
store_find_user_by_id(
    struct store *s, int64_t id, struct store_user **out, struct err *e)
{
	return s->ops->find_user_by_id(s->impl, id, out, e);
}

int
store_update_password_hash(struct store *s, int64_t id, const char *old_hash,
    const char *new_hash, struct err *e)
{
	return s->ops->update_password_hash(s->impl, id, old_hash, new_hash, e);
}

int
store_seed_state(struct store *s, const char *name, size_t len,
    struct store_seed_state *out, struct err *e)
{
	return s->ops->seed_state(s->impl, name, len, out, e);
}

int
store_seed_user(struct store *s, const struct store_seed_user *u,
    const char *new_hash, const char *expected_seed_hash, int64_t now,
    struct err *e)
{
	return s->ops->seed_user(
	    s->impl, u, new_hash, expected_seed_hash, now, e);
}

int
store_create_family(struct store *s, const char *family_id, int64_t user_id,
    const char *client_id, const char *scope, int64_t now, int64_t token_ttl,
    int64_t family_ttl, struct store_grant *out, struct err *e)
{
	return s->ops->create_family(s->impl, family_id, user_id, client_id,
	    scope, now, token_ttl, family_ttl, out, e);
}

int
store_rotate(struct store *s, const char *family_id, uint64_t generation,
    const char *client_id, int64_t now, int64_t token_ttl,
    struct store_grant *out, struct store_user **user, enum store_refusal *why,
    struct err *e)
{
	return s->ops->rotate(s->impl, family_id, generation, client_id, now,
	    token_ttl, out, user, why, e);
}

int
store_revoke(struct store *s, const char *family_id, const char *reason,
    int64_t now, struct store_grant *out, bool *found, struct err *e)
{
	return s->ops->revoke(s->impl, family_id, reason, now, out, found, e);
}

int
store_purge(struct store *s, int64_t before, int64_t limit, int64_t *deleted,
    struct err *e)
{
	return s->ops->purge(s->impl, before, limit, deleted, e);
}

int
store_checkpoint(struct store *s, int64_t *log_pages, struct err *e)
{
	*log_pages = 0;
	if (s->ops->checkpoint == NULL)
		return 0;
	return s->ops->checkpoint(s->impl, log_pages, e);
}

int
store_ping_write(struct store *s, int64_t now, struct err *e)
{
	return s->ops->ping_write(s->impl, now, e);
}

int
store_list_users(struct store *s, int64_t now, struct store_user_summary **out,
    size_t *n, struct err *e)
{
	return s->ops->list_users(s->impl, now, out, n, e);
}

int
store_set_password(struct store *s, const char *name, const char *hash,
    int64_t now, bool *found, int64_t *revoked, struct err *e)
{
	return s->ops->set_password(
	    s->impl, name, hash, now, found, revoked, e);
}

int
store_delete_user(struct store *s, const char *name, bool *found, struct err *e)
{
	return s->ops->delete_user(s->impl, name, found, e);
}

void
store_user_summaries_free(struct store_user_summary *u, size_t n)
{
	for (size_t i = 0; u != NULL && i < n; i++) {
		free(u[i].username);
		free(u[i].roles);
	}
	free(u);
}

int
store_find_client(struct store *s, const char *client_id, size_t len,
    struct store_client **out, struct err *e)
{
	return s->ops->find_client(s->impl, client_id, len, out, e);
}

int
store_add_client(
    struct store *s, const struct store_client *c, int64_t now, struct err *e)
{
	return s->ops->add_client(s->impl, c, now, e);
}

int
store_list_clients(
    struct store *s, struct store_client **out, size_t *n, struct err *e)
{
	return s->ops->list_clients(s->impl, out, n, e);
}

int
store_set_client_secret(struct store *s, const char *client_id,
    const char *secret_hash, bool *found, struct err *e)
{
	return s->ops->set_client_secret(
	    s->impl, client_id, secret_hash, found, e);
}

int
store_delete_client(struct store *s, const char *client_id, int64_t now,
    bool *found, int64_t *revoked, struct err *e)
{
	return s->ops->delete_client(
	    s->impl, client_id, now, found, revoked, e);
}

int
store_find_family(struct store *s, const char *family_id,
    struct store_grant *out, bool *found, struct err *e)
{
	return s->ops->find_family(s->impl, family_id, out, found, e);
}

int
store_create_user(struct store *s, const char *name, size_t len,
    const char *hash, char *const *roles, size_t n_roles, int64_t now,
    struct store_user **out, struct err *e)
{
	return s->ops->create_user(
	    s->impl, name, len, hash, roles, n_roles, now, out, e);
}

static void
client_clear(struct store_client *c)
{
	for (size_t i = 0; i < c->n_roles; i++)
		free(c->roles[i]);
	free(c->roles);
	free(c->client_id);
	free(c->secret_hash);
}

void
store_client_free(struct store_client *c)
{
	if (c == NULL)
		return;
	client_clear(c);
	free(c);
}

void
store_clients_free(struct store_client *c, size_t n)
{
	for (size_t i = 0; c != NULL && i < n; i++)
		client_clear(&c[i]);
	free(c);
}

unsigned
store_grant_type_parse(const char *name, size_t len)
{
	static const struct {
		const char *name;
		unsigned bit;
	} types[] = {
		{ "password", STORE_GRANT_PASSWORD },
		{ "refresh_token", STORE_GRANT_REFRESH_TOKEN },
		{ "client_credentials", STORE_GRANT_CLIENT_CREDENTIALS },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == len &&
		    memcmp(types[i].name, name, len) == 0)
			return types[i].bit;
	return 0;
}

bool
store_shares_throttle(const struct store *s)
{
	return s->ops->throttle_get != NULL;
}

int
store_throttle_get(struct store *s, const unsigned char *key,
    int64_t *blocked_until, struct err *e)
{
	*blocked_until = 0;
	if (s->ops->throttle_get == NULL)
		return err_set(e, ERR_INTERNAL, "no shared throttle");
	return s->ops->throttle_get(s->impl, key, blocked_until, e);
}

int
store_throttle_fail(struct store *s, const unsigned char *key, int64_t now,
    int64_t window, int64_t *failures, struct err *e)
{
	*failures = 0;
	if (s->ops->throttle_fail == NULL)
		return err_set(e, ERR_INTERNAL, "no shared throttle");
	return s->ops->throttle_fail(s->impl, key, now, window, failures, e);
}

int
store_throttle_block(
    struct store *s, const unsigned char *key, int64_t until, struct err *e)
{
	if (s->ops->throttle_block == NULL)
		return err_set(e, ERR_INTERNAL, "no shared throttle");
	return s->ops->throttle_block(s->impl, key, until, e);
}

int
store_throttle_clear(struct store *s, const unsigned char *key, struct err *e)
{
	if (s->ops->throttle_clear == NULL)
		return err_set(e, ERR_INTERNAL, "no shared throttle");
	return s->ops->throttle_clear(s->impl, key, e);
}
