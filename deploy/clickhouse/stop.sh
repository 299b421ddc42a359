#!/usr/bin/env bash
# Stops the project-local ClickHouse started by deploy/clickhouse/start.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
pidfile="$top/var/clickhouse/clickhouse.pid"
[ -f "$pidfile" ] || { echo "no local ClickHouse running"; exit 0; }
pid=$(cat "$pidfile")
kill "$pid" 2>/dev/null || true
for _ in $(seq 1 60); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; echo "ClickHouse stopped"; exit 0; }
  sleep 0.5
done
kill -9 "$pid" 2>/dev/null || true
rm -f "$pidfile"
