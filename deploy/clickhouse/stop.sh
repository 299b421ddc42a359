#!/usr/bin/env bash
# Stops the project-local ClickHouse that start.sh started (SIGTERM, SIGKILL after 30 s).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pidfile="$(cd "$here/../.." && pwd)/var/clickhouse/clickhouse.pid"

if [ ! -f "$pidfile" ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "ClickHouse is not running"
  rm -f "$pidfile"
  exit 0
fi
pid="$(cat "$pidfile")"
kill -TERM "$pid"
for _ in $(seq 1 300); do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$pidfile"
    echo "ClickHouse stopped"
    exit 0
  fi
  sleep 0.1
done
echo "ClickHouse (pid $pid) did not stop in 30 s; killing it" >&2
kill -KILL "$pid" 2>/dev/null || true
rm -f "$pidfile"
