#!/usr/bin/env bash
# make bench: throughput figures as ratios to baselines measured in the same run (the
# machines are shared and noisy), then the allocation benchmarks of the hot paths and the
# reports timed against one plain pass over the same events.
set -euo pipefail
bin=${1:-bin/journeyd}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v wrk >/dev/null 2>&1 || { echo "installing wrk" >&2; apt-get install -y -qq wrk >/dev/null; }
deploy/clickhouse/start.sh

ch=$(pgrep -f "$top/var/clickhouse/config.xml" | head -1 || true)
bench=("$bin" bench --clickhouse clickhouse://127.0.0.1:19000/journeyd_bench --clickhouse-pid "${ch:-0}" ${BENCH_FLAGS:-})

echo "== pixel and server API throughput, everything sharing every core (journeyd bench)"
"${bench[@]}"

# In production ClickHouse runs on machines of its own. To see the collector's own cost,
# pin ClickHouse to the last core and the two servers under test and wrk to the others.
cores=$(nproc)
if [ "$cores" -ge 2 ] && [ -n "$ch" ] && command -v taskset >/dev/null; then
  echo
  echo "== the same with ClickHouse pinned to core $((cores-1)), servers and load on cores 0-$((cores-2))"
  taskset -a -cp "$((cores-1))" "$ch" >/dev/null
  trap 'taskset -a -cp 0-$((cores-1)) "$ch" >/dev/null 2>&1 || true' EXIT
  taskset -c "0-$((cores-2))" "${bench[@]}"
  taskset -a -cp "0-$((cores-1))" "$ch" >/dev/null
fi

echo
echo "== hot path allocations and per-event costs (go test -bench)"
go test -run '^$' -bench 'BenchmarkPixel$|BenchmarkSegmentBatch|BenchmarkBeacon|BenchmarkChain|BenchmarkSessionize|BenchmarkMemoryPerVisitor|BenchmarkFill|BenchmarkWrite$|BenchmarkWritePixels|BenchmarkAppendBinary' \
  -benchmem -benchtime 2s ./collector/ ./collector/enrich/standard ./sessionizer ./spool ./event ./sql/store/writer | grep -E '^(Benchmark|ok|FAIL)'

echo
echo "== reports on ${REPORT_EVENTS:-10000000} synthetic events, as ratios to one plain pass (journeyd bench-reports)"
"$bin" bench-reports --clickhouse clickhouse://127.0.0.1:19000/journeyd_bench --clickhouse-pid "${ch:-0}" --events "${REPORT_EVENTS:-10000000}"
