#!/bin/sh
# auth-start: the auth container's entry point. Creates the signing key on
# the first start (never overwrites one: jwt-admin refuses without
# --force), then runs auth_service with the given arguments.
set -eu
if [ ! -f keys/private_key.pem ]; then
	jwt-admin keys generate --dir keys
fi
exec auth_service "$@"
