#!/usr/bin/env bash
# test.sh runs Courier's whole test suite: formatting and vet checks, unit
# tests, and integration tests that start real MariaDB servers (and run
# sysbench) on loopback ports. It installs what is missing first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh
ensure_packages sysbench
# The client matrix's Python and PHP clients (clients/python, clients/php).
/usr/bin/python3 -c 'import sqlalchemy, pymysql' 2>/dev/null || apt_install python3-sqlalchemy python3-pymysql
php -r "exit(extension_loaded('pdo_mysql') ? 0 : 1);" 2>/dev/null || apt_install php-cli php-mysql
# ... its Java client (clients/java: Connector/J, run by the JDK's source launcher) ...
[ -f /usr/share/java/mariadb-java-client.jar ] || apt_install libmariadb-java
command -v javac >/dev/null 2>&1 || apt_install default-jdk-headless
# The dashboard and alerts' test (deploy/) runs Debian's Prometheus.
command -v prometheus >/dev/null 2>&1 || apt_install prometheus
# ... and the client matrix's Node.js client (clients/node), mysql2 from the npm registry.
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
[ -d clients/node/node_modules/mysql2 ] || npm ci --prefix clients/node --no-audit --no-fund >/dev/null
ensure_go

unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi
go vet ./...
# Integration tests must not skip for want of a server.
export COURIER_REQUIRE_MARIADB=1
go test -race -count=1 -timeout 20m "$@" ./...
# Heap sizes mean nothing under the race detector: the heap bound (10,000
# statements of 1 MiB) runs without it.
go test -count=1 -timeout 10m -run 'TestShardsWithReplicas/heap_bound' ./proxy
# The classifier and normaliser against generated SQL, the splitter
# against the server's own reading of it, for a bounded time each.
go test ./parser -run '^$' -fuzz 'FuzzSplitServer$' -fuzztime 60s
go test ./parser -run '^$' -fuzz 'FuzzNormalize$' -fuzztime 30s
go test ./parser -run '^$' -fuzz 'FuzzClassify$' -fuzztime 20s
