#!/usr/bin/env bash
# Starts journeyd in the foreground against the project-local ClickHouse that
# deploy/clickhouse/start.sh started, after printing what to try. Used by `make run`.
set -euo pipefail
bin=${1:-bin/journeyd}
config=${2:-deploy/journeyd.example.yaml}
listen=$(sed -n 's/^listen: *//p' "$config" | head -1)
listen=${listen:-127.0.0.1:8080}

cat <<MSG

journeyd is starting on http://$listen (config: $config, ClickHouse: 127.0.0.1:19000).

Try it:
  # a pageview through the tracking pixel
  curl -s -o /dev/null -w '%{http_code} %{content_type}\n' \\
    'http://$listen/p.gif?s=demo&u=https://shop.example/landing?utm_source=newsletter%26utm_medium=email&a=visitor-1'

  # a server-side event through the Segment-compatible API (write key demo-write-key)
  curl -s -u demo-write-key: -H 'Content-Type: application/json' http://$listen/v1/track \\
    -d '{"userId":"user-42","event":"order_paid","properties":{"revenue":49.9,"currency":"EUR"}}'

  # the rows, a second later
  clickhouse-client --port 19000 -q 'SELECT ts, type, name, anon_id, user_id, source, medium, channel FROM journeyd.events ORDER BY received_at DESC LIMIT 5 FORMAT PrettyCompact'

  # the demo shop with the snippet: http://$listen/demo/
  # a person's journey:   $bin journey --clickhouse clickhouse://127.0.0.1:19000/journeyd --site demo --person user-42

Stop with Ctrl-C (events buffered are flushed); stop ClickHouse with: make clickhouse-stop

MSG
exec "$bin" serve --config "$config"
