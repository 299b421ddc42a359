#!/usr/bin/env bash
# Starts journeyd in the foreground against the project-local ClickHouse that
# deploy/clickhouse/start.sh started, after printing what to try. Used by `make run`.
#
# Under var/ of the current directory it keeps a development admin token (var/admin-token)
# and email link key (var/link-keys), made on the first run and kept across restarts, and
# writes var/journeyd.env: the ClickHouse, config, base URL and those two files, which every
# journeyd command run from this directory reads, so `bin/journeyd report ...`, `journey`,
# `erase` and `sign` find this setup without flags.
#
# JOURNEYD_LISTEN and JOURNEYD_CLICKHOUSE override the config's listen and clickhouse (the
# README tour test runs it on free ports); JOURNEYD_ADMIN_TOKEN and JOURNEYD_LINK_KEYS, when
# set, win over the files, as they do for journeyd serve.
set -euo pipefail
bin=${1:-bin/journeyd}
config=${2:-deploy/journeyd.example.yaml}
setting() { sed -n "s/^$1: *//p" "$config" | sed 's/ *#.*//' | head -1; }
listen=${JOURNEYD_LISTEN:-$(setting listen)}
listen=${listen:-127.0.0.1:8080}
dsn=${JOURNEYD_CLICKHOUSE:-$(setting clickhouse)}
dsn=${dsn:-clickhouse://127.0.0.1:19000/journeyd}
chaddr=${dsn#clickhouse://}
chaddr=${chaddr%%/*}
chaddr=${chaddr##*@}
chport=${chaddr##*:}
db=${dsn##*/}
db=${db%%\?*}
base=http://$listen

mkdir -p var
if [ ! -s var/admin-token ]; then
  (umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > var/admin-token)
fi
if [ ! -s var/link-keys ]; then
  (umask 077 && { printf 'dev:'; od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; } > var/link-keys)
fi
token=${JOURNEYD_ADMIN_TOKEN:-$(cat var/admin-token)}
token_from="var/admin-token"
[ -n "${JOURNEYD_ADMIN_TOKEN:-}" ] && token_from="JOURNEYD_ADMIN_TOKEN of your environment"
cat > var/journeyd.env <<ENV
# Written by deploy/run.sh (make run) on $(date -u +%Y-%m-%dT%H:%M:%SZ): the setup it started.
# Every journeyd command but serve run from $PWD fills its unset JOURNEYD_* settings from here.
JOURNEYD_CLICKHOUSE=$dsn
JOURNEYD_CONFIG=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
JOURNEYD_BASE_URL=$base
JOURNEYD_ADMIN_TOKEN_FILE=$PWD/var/admin-token
JOURNEYD_LINK_KEYS_FILE=$PWD/var/link-keys
ENV

cat <<MSG

journeyd is starting on $base (config: $config, ClickHouse: $chaddr, database $db).

Dashboard: $base/dashboard/
  admin token (paste it there; also the Bearer token of /api/v1): $token
  (from $token_from; kept across restarts. The CLI finds this setup through var/journeyd.env)

Try it (the README's five-minute tour):
  # a landing from a newsletter, through the pixel, as Firefox (curl's own user agent is a bot's)
  curl -s -o /dev/null -A 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' \\
    '$base/p.gif?s=demo&a=visitor-1&u=https://shop.example/?utm_source=newsletter%26utm_medium=email'
  # the sign-up and the payment, through the Segment API (write key demo-write-key)
  curl -s -u demo-write-key: $base/v1/identify -d '{"anonymousId":"visitor-1","userId":"user-42","traits":{"plan":"pro"}}'
  curl -s -u demo-write-key: $base/v1/track -d '{"userId":"user-42","event":"purchase","properties":{"revenue":49.9,"currency":"EUR"}}'
  # what landed, a second later
  clickhouse-client --port $chport -q "SELECT ts, type, name, anon_id, user_id, channel FROM $db.events ORDER BY ts, received_at FORMAT PrettyCompact"
  # the journey of that person
  $bin journey --site demo --person user-42
  # a signed email link (the key is in var/link-keys)
  $bin sign --site demo --url https://shop.example/winter --campaign winter
  # the demo shop, to click through a journey of your own: $base/demo/

Stop with Ctrl-C (events buffered are flushed); stop ClickHouse with: make clickhouse-stop

MSG
exec "$bin" serve --config "$config" --listen "$listen" --clickhouse "$dsn" \
  --admin-token-file var/admin-token --link-keys-file var/link-keys
