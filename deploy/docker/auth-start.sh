#!/bin/sh
# auth-start: the auth container's entry point. Creates the signing key on
# the first start (never overwrites one: jwt-admin refuses without
# --force), then runs auth_service with the given arguments.
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
exec auth_service "$@"
