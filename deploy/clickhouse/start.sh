#!/usr/bin/env bash
# Starts the project-local ClickHouse of `make run` in the background: data under
# var/clickhouse of this checkout, native port 19000, HTTP 18123, 127.0.0.1 only.
# Installs clickhouse-server when missing; does nothing when it is already running.
# Waits until `clickhouse-client --port 19000 -q 'SELECT 1'` answers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$root/var/clickhouse"
pidfile="$dir/clickhouse.pid"
port=19000

"$root/deploy/install-deps.sh"

server=(/usr/sbin/clickhouse-server)
client=(clickhouse-client)
if [ ! -x /usr/sbin/clickhouse-server ]; then
  if command -v clickhouse-server >/dev/null 2>&1; then server=(clickhouse-server)
  else server=(clickhouse server); fi
fi
command -v clickhouse-client >/dev/null 2>&1 || client=(clickhouse client)

answers() { "${client[@]}" --port "$port" -q 'SELECT 1' >/dev/null 2>&1; }

if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  if answers; then
    echo "ClickHouse already running (pid $(cat "$pidfile")) on 127.0.0.1:$port"
    exit 0
  fi
else
  mkdir -p "$dir/log" "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas"
  sed "s|@DIR@|$dir|g" "$here/config.xml.in" > "$dir/config.xml"
  if answers; then
    echo "using the ClickHouse that already answers on 127.0.0.1:$port (it has no $pidfile: stop.sh cannot stop it)"
    exit 0
  fi
  cd "$dir"
  nohup setsid "${server[@]}" --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 </dev/null &
  echo $! > "$pidfile"
fi

for _ in $(seq 1 600); do
  if answers; then
    echo "ClickHouse $("${client[@]}" --port "$port" -q 'SELECT version()') running (pid $(cat "$pidfile")) on 127.0.0.1:$port, data in $dir"
    exit 0
  fi
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
echo "cannot start ClickHouse on 127.0.0.1:$port; log tail:" >&2
tail -n 30 "$dir/log/server.err.log" "$dir/log/stdout.log" >&2 2>/dev/null || true
exit 1
