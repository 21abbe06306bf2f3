# lib.sh: set-up shared by Courier's scripts. Source it; it changes nothing
# until a function is called.
#
# ensure_packages installs Debian's mariadb-server and sysbench when they are
# missing (as root; otherwise it prints the command to run). ensure_go makes
# a Go toolchain new enough for go.mod available: the one on PATH if it is
# recent, else Debian's golang-go used once to fetch the exact toolchain
# from the Go module proxy into ~/.cache/courier/go.

need_go_version() { sed -n 's/^go \([0-9.]*\).*/\1/p' go.mod; }

version_ge() { # version_ge A B: A >= B
	[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "run as root: $*" >&2
		return 1
	fi
}

apt_install() {
	echo "installing $* (Debian packages)..." >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_packages() {
	local missing=()
	command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
	command -v mariadb >/dev/null 2>&1 || missing+=(mariadb-client)
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		apt_install "${missing[@]}"
	fi
}

ensure_go() {
	local want have gobin cache
	want="$(need_go_version)"
	export PATH="/usr/local/go/bin:$PATH"
	if command -v go >/dev/null 2>&1; then
		have="$(go env GOVERSION 2>/dev/null | sed 's/^go//')"
		if [ -n "$have" ] && version_ge "$have" "$want"; then
			return 0
		fi
		if version_ge "${have:-0}" "1.21"; then
			export GOTOOLCHAIN="go$want" # the go command fetches it itself
			return 0
		fi
	fi
	cache="${XDG_CACHE_HOME:-$HOME/.cache}/courier/go$want"
	if [ ! -x "$cache/bin/go" ]; then
		command -v go >/dev/null 2>&1 || apt_install golang-go ca-certificates
		echo "fetching Go $want from the Go module proxy..." >&2
		local tmp modcache dir
		tmp="$(mktemp -d)"
		modcache="$tmp/modcache"
		dir="$(cd "$tmp" && GOMODCACHE="$modcache" GOFLAGS=-mod=mod go mod download -json \
			"golang.org/toolchain@v0.0.1-go$want.linux-$(dpkg --print-architecture)" |
			sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
		mkdir -p "$(dirname "$cache")"
		rm -rf "$cache"
		cp -r "$dir" "$cache"
		chmod -R u+w "$modcache" "$cache"
		chmod +x "$cache"/bin/* "$cache"/pkg/tool/*/*
		rm -rf "$tmp"
	fi
	export PATH="$cache/bin:$PATH"
	export GOTOOLCHAIN=local
}
