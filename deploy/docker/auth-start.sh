#!/bin/sh
# auth-start: the auth container's entry point. Creates the signing key on
# the first start (never overwrites one: jwt-admin refuses without
# --force) and, when the users file ($AUTH_SECRETS) does not exist, an
# empty one: the image holds no demo users or passwords. Then runs
# auth_service with the given arguments.
set -eu
# A database password handed over as a compose secret becomes a libpq
# password file (PostgreSQL docs "The Password File"), never part of
# AUTH_DB or the command line.
if [ -r /run/secrets/db_password ] && [ -z "${PGPASSFILE:-}" ]; then
	PGPASSFILE=$(mktemp)
	printf '*:*:*:*:%s\n' "$(cat /run/secrets/db_password)" >"$PGPASSFILE"
	export PGPASSFILE
fi
if [ ! -f keys/private_key.pem ]; then
	jwt-admin keys generate --dir keys
fi
users=${AUTH_SECRETS:-}
if [ -n "$users" ] && [ ! -e "$users" ]; then
	mkdir -p "$(dirname "$users")"
	umask 077
	printf '{"users":{}}\n' >"$users"
	echo "auth-start: no users yet; add one with" \
		"\"docker compose exec auth jwt-admin users add NAME\"" \
		"(or start with docker-compose.demo.yml for the demo users)" >&2
fi
exec auth_service "$@"
