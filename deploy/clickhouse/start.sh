#!/usr/bin/env bash
# Starts the project-local ClickHouse of `make run`: data and logs under var/clickhouse of
# the checkout, native port 19000, HTTP port 18123, loopback only. Installs Debian's
# clickhouse-server when missing; reuses a server that is already running.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir="$top/var/clickhouse"
pidfile="$dir/clickhouse.pid"
"$top/deploy/install-deps.sh"

ping() { clickhouse-client --port 19000 -q 'SELECT 1' >/dev/null 2>&1; }
if ping; then
  echo "ClickHouse already running on 127.0.0.1:19000"
  exit 0
fi
mkdir -p "$dir"/{data,tmp,user_files,format_schemas}
sed "s#@DIR@#$dir#g" "$top/deploy/clickhouse/config.xml.in" > "$dir/config.xml"
bin=/usr/sbin/clickhouse-server
[ -x "$bin" ] || bin="$(command -v clickhouse-server || echo "clickhouse server")"
cd "$dir"
nohup $bin --config-file="$dir/config.xml" --pid-file="$pidfile" >"$dir/stdout.log" 2>&1 &
for _ in $(seq 1 120); do
  if ping; then
    echo "ClickHouse started on 127.0.0.1:19000 (data in $dir)"
    exit 0
  fi
  sleep 0.5
done
echo "ClickHouse did not start within 60s; the end of its log:" >&2
tail -20 "$dir/server.err.log" "$dir/stdout.log" >&2 || true
exit 1
