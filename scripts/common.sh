# Shared by run.sh and test.sh: install what is missing, build out of tree.
# Sourced, not run.

BUILD_PACKAGES="build-essential cmake pkg-config libevent-dev libssl-dev
libjson-c-dev libsodium-dev libsqlite3-dev openssl"
TEST_PACKAGES="python3 python3-jwt python3-jwcrypto python3-cryptography
python3-yaml python3-authlib python3-requests sqlite3 curl chromium nginx git"

# Installs the Debian packages that are not installed yet. As root this
# runs apt-get; otherwise it names what is missing and stops.
ensure_packages() {
	local missing=() pkg
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q "install ok installed"; then
			missing+=("$pkg")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages: ${missing[*]}" >&2
		echo "install them with: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "installing: ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# build DIR [cmake options...]: configure once, then build incrementally.
# BUILD_TARGETS (space-separated) limits what is built; default: all.
build() {
	local dir=$1 targets=()
	shift
	if [ ! -f "$dir/CMakeCache.txt" ]; then
		cmake -S . -B "$dir" "$@" >&2
	fi
	if [ -n "${BUILD_TARGETS:-}" ]; then
		# shellcheck disable=SC2206
		targets=(--target $BUILD_TARGETS)
	fi
	cmake --build "$dir" -j "$(nproc)" "${targets[@]}" >&2
}
