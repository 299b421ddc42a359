#!/usr/bin/env bash
# insert-cost.sh PORT NAME=BINARY...: ClickHouse CPU per ingested event of the schema each
# journeyd binary makes (docs/BENCHMARKS.md, "Issue 17: sessions read as rows"), to compare
# builds whose materialized views differ. PORT is a ClickHouse of its own (nothing else
# running on it) whose config has <query_log>; its process is found by the port.
#
# Once, it writes 1 million events of cmd/journeyd/bench/benchdata.sql (people of 8 events,
# Jan 2026) into a plain table insert_cost_src.ev, numbered in time order, so that an insert
# holds pieces of many sessions as the writer's batches do. Then, ROUNDS times (default 4),
# for each binary in turn and for "alone" (the last binary's schema without its views): a
# fresh database insert_cost migrated by the binary, the events inserted as INSERTs of
# INSERT_ROWS rows (default 100 000, as the writer's full batches; a pixel load of the bench
# makes about 20 000 a second), and the CPU of those INSERTs from system.query_log (the views run in the
# inserting thread), and of the whole server (/proc, merges included) until no merge runs.
# Each line is one run; compare the medians.
set -euo pipefail
port=$1; shift
[ $# -ge 1 ] || { echo "usage: $0 PORT NAME=BINARY..." >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
q() { clickhouse-client --port "$port" -n -q "$1"; }
pid=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
[ -n "$pid" ] || { echo "cannot find the ClickHouse listening on port $port" >&2; exit 1; }
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; } # user + system, clock ticks
hz=$(getconf CLK_TCK)
rows=${INSERT_ROWS:-100000}
settle() {
  for _ in $(seq 1 1200); do
    if [ "$(q "SELECT count() FROM system.merges WHERE database = 'insert_cost'")" = 0 ]; then
      sleep 1
      [ "$(q "SELECT count() FROM system.merges WHERE database = 'insert_cost'")" = 0 ] && return
    fi
    sleep 0.5
  done
}
last=${!#}; last=${last#*=}
if [ "$(q "EXISTS TABLE insert_cost_src.ev")" != 1 ]; then
  "$last" migrate --clickhouse "clickhouse://127.0.0.1:$port/insert_cost_tmpl" >/dev/null
  q "CREATE DATABASE IF NOT EXISTS insert_cost_src;
     CREATE TABLE insert_cost_src.events AS insert_cost_tmpl.events ENGINE = MergeTree ORDER BY tuple()"
  sed -e 's/\$db/insert_cost_src/g' -e "s/\$site/'bench'/g" -e 's/\$events/1000000/g' \
    -e "s/\$start/toDateTime('2026-01-01 00:00:00')/g" "$top/cmd/journeyd/bench/benchdata.sql" | grep -v '^--' | clickhouse-client --port "$port" -n
  q "CREATE TABLE insert_cost_src.ev ENGINE = MergeTree ORDER BY n AS
     SELECT rowNumberInAllBlocks() AS n, * FROM (SELECT * FROM insert_cost_src.events ORDER BY ts, event_id);
     DROP TABLE insert_cost_src.events; DROP DATABASE insert_cost_tmpl"
fi
cols=$(q "SELECT arrayStringConcat(groupArray(name), ', ') FROM system.columns WHERE database = 'insert_cost_src' AND table = 'ev' AND name != 'n'")
for round in $(seq 1 "${ROUNDS:-4}"); do
  for run in "$@" "alone=$last"; do
    name=${run%%=*} bin=${run#*=}
    q "DROP DATABASE IF EXISTS insert_cost"
    "$bin" migrate --clickhouse "clickhouse://127.0.0.1:$port/insert_cost" >/dev/null
    if [ "$name" = alone ]; then
      for mv in $(q "SELECT name FROM system.tables WHERE database = 'insert_cost' AND engine = 'MaterializedView'"); do
        q "DROP TABLE insert_cost.$mv"
      done
    fi
    settle
    tag="insert-cost-$$-$round-$name"
    c0=$(cpu)
    for i in $(seq 0 $((1000000 / rows - 1))); do
      clickhouse-client --port "$port" --log_queries 1 --query_id "$tag-$i" \
        -q "INSERT INTO insert_cost.events ($cols) SELECT $cols FROM insert_cost_src.ev WHERE n >= $((i * rows)) AND n < $(((i + 1) * rows))"
    done
    settle
    c1=$(cpu)
    q "SYSTEM FLUSH LOGS"
    us=$(q "SELECT round(sum(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'UserTimeMicroseconds')]
      + ProfileEvents.Values[indexOf(ProfileEvents.Names, 'SystemTimeMicroseconds')]) / 1000000, 2)
      FROM system.query_log WHERE type = 2 AND query_id LIKE '$tag-%'")
    echo "round $round $name ($rows-row inserts): inserts $us us/event (query_log), whole server $(echo "scale=2; ($c1 - $c0) * 1000000 / $hz / 1000000" | bc) us/event (/proc), load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
q "DROP DATABASE IF EXISTS insert_cost"
