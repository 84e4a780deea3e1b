#!/bin/sh
# Regenerates config/common-passwords.txt from the public-domain
# password.lst of Debian's john-data package (Openwall, "assumed to be in
# the public domain"): entries of at least 8 characters, lower-cased,
# sorted, deduplicated. Needs apt-get (download only) and dpkg-deb.
set -eu
out="$(cd "$(dirname "$0")/.." && pwd)/config/common-passwords.txt"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
apt-get download john-data >/dev/null
dpkg-deb -x john-data_*.deb x
{
	sed -n '1,8p' "$out"
	grep -v '^#!comment' x/usr/share/john/password.lst |
		LC_ALL=C grep -E '^[[:print:]]{8,}$' |
		LC_ALL=C tr 'A-Z' 'a-z' | LC_ALL=C sort -u
} >"$tmp/list"
mv "$tmp/list" "$out"
