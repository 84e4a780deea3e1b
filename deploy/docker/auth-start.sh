#!/bin/sh
# auth-start: the auth container's entry point. Creates the signing key on
# the first start (never overwrites one: jwt-admin refuses without
# --force) and, when the users file ($AUTH_SECRETS) does not exist, an
# empty one: the image holds no demo users or passwords. Then runs
# auth_service with the given arguments.
set -eu
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
