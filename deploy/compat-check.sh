#!/usr/bin/env bash
# make compat-check: journeyd's schema and every report on a current ClickHouse release beside
# Debian's 18.16, on the same generated journeys, with the answers compared.
#
# The current release is chdb (ClickHouse as a library) from the npm registry, run through
# Node (deploy/compat/chdb.js): this machine has no other way to a current server. The
# events are generated once into the local 18.16 (journeyd gen, every scenario), copied to
# the current release, and every report's SQL (journeyd report --sql) runs on both, and so
# does the SQL journeyd serve runs for the dashboard's reports through the days it keeps
# (--kept-sql: the days' prints, settled.sql, each day's rows, over a long period and over
# two days, which touch_rows reads from the events), and page_names.sql.
set -euo pipefail
bin=${1:-bin/journeyd}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
version=${CHDB_VERSION:-26.7.3-stable.1}
pkg=var/chdb/$version/package
if [ ! -f "$pkg/chdb_node.node" ]; then
  command -v npm >/dev/null 2>&1 || { echo "installing nodejs and npm" >&2; apt-get install -y -qq nodejs npm >/dev/null; }
  echo "fetching @chdb/lib-linux-x64-gnu@$version from the npm registry (about 180 MB)" >&2
  mkdir -p "var/chdb/$version"
  (cd "var/chdb/$version" && npm pack --silent "@chdb/lib-linux-x64-gnu@$version" >/dev/null && tar xzf chdb-lib-linux-x64-gnu-*.tgz && rm chdb-lib-linux-x64-gnu-*.tgz)
fi
# the local ClickHouse of make run; stopped again at the end when this script started it
pidfile=var/clickhouse/clickhouse.pid
if ! { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }; then
  trap 'deploy/clickhouse/stop.sh >/dev/null' EXIT
fi
deploy/clickhouse/start.sh >/dev/null
ch() { clickhouse-client --port 19000 "$@"; }
db=journeyd_compat
work=var/compat
rm -rf "$work" && mkdir -p "$work/sql" "$work/old" "$work/current"
sites="shop email-chain webinar b2b coffee"

ch -q "DROP DATABASE IF EXISTS $db"
ch -q "CREATE DATABASE $db"
"$bin" migrate --clickhouse "clickhouse://127.0.0.1:19000/$db" >/dev/null
for s in $sites; do
  "$bin" gen --scenario "$s" --seed 1 --site "$s" --direct "clickhouse://127.0.0.1:19000/$db" >/dev/null
done

current=$(node -e "console.log(require(require('path').resolve('$pkg', 'index.js')).EngineVersion())")
old=$(ch -q 'SELECT version()')
echo "== schema on ClickHouse $current"
"$bin" migrate --sql "$current" --clickhouse "clickhouse://127.0.0.1:19000/$db" > "$work/schema.sql"
cols=$(ch -q "DESCRIBE TABLE $db.events" | awk -F'\t' '{ printf "%s`%s`", (NR > 1 ? ", " : ""), $1 }')
structure=$(ch -q "DESCRIBE TABLE $db.events" | awk -F'\t' '{ printf "%s`%s` %s", (NR > 1 ? ", " : ""), $1, $2 }')
ch -q "SELECT $cols FROM $db.events FORMAT TabSeparated" > "$work/events.tsv"
{
  cat "$work/schema.sql"
  echo "INSERT INTO $db.events ($cols) SELECT * FROM file('$top/$work/events.tsv', 'TabSeparated', '$structure');"
  echo "OPTIMIZE TABLE $db.session_aggregates FINAL;"
} | node deploy/compat/chdb.js run "$pkg" "$work/chdb-data"
# session_rows.sql reads session_aggregates without FINAL, a row per session, day and data
# part, and the two servers' inserts leave their parts apart differently: merged into one
# part each, both give a row per session and day, the same rows
ch -q "OPTIMIZE TABLE $db.session_aggregates FINAL"
echo "schema applied, $(wc -l < "$work/events.tsv") events copied"

echo "== every report on ClickHouse $old and $current"
steps='pageview:/product/*,event:add_to_cart,event:checkout,event:purchase'
dashboard_steps='pageview:/product/*,event:add_to_cart,event:checkout,conversion' # app.js's DEFAULT_STEPS
n=0
add() { # add TAG REPORT ARGS...: the SQL of a report, one file per statement
  local tag=$1 name=$2; shift 2
  "$bin" report "$name" --sql --clickhouse "clickhouse://127.0.0.1:19000/$db" --from 2000-01-01 --to 2099-12-31 "$@" |
    awk -v dir="$work/sql" -v tag="$tag" 'BEGIN { RS = ";[ \t]*\n" }
      { body = $0; gsub(/(^|\n)[ \t]*--[^\n]*/, "", body); if (body ~ /[^ \t\n]/) { n++; f = sprintf("%s/%s-%s.sql", dir, tag, n); print $0 > f; close(f) } }'
}
for s in $sites; do
  add "$s-funnel" funnel --site "$s" --steps "$steps" --window 7d
  add "$s-funnel-device" funnel --site "$s" --steps "$steps" --window 7d --by device
  add "$s-funnel-session" funnel --site "$s" --steps "$steps" --window 7d --per session
  add "$s-barriers" barriers --site "$s" --steps "$steps" --by device,channel
  add "$s-attribution" attribution --site "$s" --model all --by channel
  add "$s-paths" paths --site "$s"
  add "$s-next" next --site "$s" --after event:add_to_cart
  add "$s-time-to-convert" time-to-convert --site "$s"
  add "$s-retention" retention --site "$s" --cohort first_purchase --return purchase --within 7d
  add "$s-retention-windows" retention --site "$s" --cohort first_visit --return purchase --within 7d,14d,30d,60d,90d
  add "$s-stages" stages --site "$s"
  add "$s-channels" channels --site "$s"
  add "$s-dropped" dropped --site "$s" --did event:add_to_cart --not 'purchase|order_paid' --within 1d
  add "$s-overview" overview --site "$s" --from 2026-06-01 --to 2027-06-01 --interval week
  add "$s-top" top --site "$s" --dimension channel,source,campaign,entry_page,country,device,browser,page
  add "$s-filtered" channels --site "$s" --filter 'device!=desktop;visitor=new;trait.plan!=pro;page=/*;prop.sku!=x'
  add "$s-filtered-funnel" funnel --site "$s" --steps "$steps" --filter 'channel=Organic Search;entry_page!=/nope;event=add_to_cart'
  # over whole days without a filter the funnel, retention and top pages are counted from
  # the days' rows (funnel_rows.sql, retention_rows.sql, page_rows.sql, above); from noon
  # they run their own queries, as a filter or a period not of whole days makes them
  add "$s-noon-retention" retention --site "$s" --cohort first_purchase --return purchase --within 7d,30d --from 2000-01-01T12:00:00Z
  add "$s-noon-pages" top --site "$s" --dimension page --from 2000-01-01T12:00:00Z
  add "$s-noon-barriers" barriers --site "$s" --steps "$steps" --by device,channel --from 2000-01-01T12:00:00Z
  # what journeyd serve runs for the dashboard through its kept days, on a cold read
  # (--kept-sql): the days' prints, settled.sql and each day's rows, over the whole period
  # and over the last two days of events, which touch_rows reads from the events themselves
  last=$(ch -q "SELECT toDate(max(ts)) FROM $db.events WHERE site_id = '$s'")
  two=(--from "$(date -u -d "$last - 1 day" +%F)" --to "$(date -u -d "$last + 1 day" +%F)")
  add "$s-kept-funnel" funnel --kept-sql --site "$s" --steps "$dashboard_steps" --window 7d --by device
  add "$s-kept-funnel-session" funnel --kept-sql --site "$s" --steps "$steps" --window 7d --per session
  add "$s-kept-barriers" barriers --kept-sql --site "$s" --steps "$dashboard_steps" --by device,channel
  add "$s-kept-retention" retention --kept-sql --site "$s" --cohort first_visit --return purchase --within 7d,14d,30d,60d,90d
  add "$s-kept-pages" top --kept-sql --site "$s" --dimension page
  add "$s-kept-top" top --kept-sql --site "$s" --dimension channel,source,campaign,entry_page,country,device,browser
  add "$s-kept-stages" stages --kept-sql --site "$s"
  add "$s-kept-channels" channels --kept-sql --site "$s"
  add "$s-kept-attribution" attribution --kept-sql --site "$s" --model all --by channel
  add "$s-kept-paths" paths --kept-sql --site "$s"
  add "$s-kept-time-to-convert" time-to-convert --kept-sql --site "$s"
  add "$s-kept-overview" overview --kept-sql --site "$s" --from 2026-06-01 --to 2027-06-01 --interval week
  add "$s-kept-days-channels" channels --kept-sql --site "$s" "${two[@]}"
  add "$s-kept-days-stages" stages --kept-sql --site "$s" "${two[@]}"
  add "$s-kept-days-funnel" funnel --kept-sql --site "$s" --steps "$dashboard_steps" --by device "${two[@]}"
  add "$s-kept-days-retention" retention --kept-sql --site "$s" --cohort first_visit --return purchase "${two[@]}"
  add "$s-kept-days-pages" top --kept-sql --site "$s" --dimension page "${two[@]}"
  # page_names.sql, asked for the paths of the hashes page_rows.sql gave: here every path's
  sed -E -e "s/\\\$db\\./$db./g" -e "s/\\\$site\\b/'$s'/g" -e "s/\\\$from\\b/toDateTime('2000-01-01 00:00:00')/g" \
    -e "s/\\\$until\\b/toDateTime('2099-12-31 00:00:00')/g" \
    -e "s/\\\$hashes\\b/SELECT cityHash64(path) FROM $db.events WHERE site_id = '$s'/g" \
    -e "s/\\\$count\\b/1000000/g" \
    sql/analysis/queries/page_names.sql > "$work/sql/$s-kept-page-names.sql"
done
# the person-level queries of journeyd journey and journeyd erase, for the busiest signed-in person
read -r psite person anon < <(ch -q "SELECT site_id, user_id, any(anon_id) FROM $db.events WHERE user_id != '' AND anon_id != '' GROUP BY site_id, user_id ORDER BY count() DESC, site_id, user_id LIMIT 1")
sessions=$(ch -q "SELECT arraySort(groupUniqArray(session_id)) FROM $db.events WHERE site_id = '$psite' AND (user_id = '$person' OR anon_id = '$anon') AND session_id != ''")
for f in sql/analysis/journey/*.sql sql/store/visitors/*.sql sql/store/erase/ids.sql sql/store/erase/sessions.sql sql/store/erase/count.sql sql/store/erase/erasures.sql; do
  sed -E -e "s/\\\$db\\./$db./g" -e "s/@site\\b/'$psite'/g" -e "s/@(person|id)\\b/'$anon'/g" \
    -e "s/@sessions\\b/$sessions/g" -e "s/@users\\b/['$person']/g" -e "s/@anons\\b/['$anon']/g" \
    -e "s/@since\\b/0/g" -e "s/@limit\\b/1000000/g" -e "s/@from\\b/toDateTime('2000-01-01 00:00:00')/g" "$f" \
    > "$work/sql/person-$(basename "$(dirname "$f")")-$(basename "$f")"
done
for v in sessions_v identities_v identity_links_v person_links_v events_person_v; do
  echo "SELECT * FROM $db.$v" > "$work/sql/view-$v.sql"
done
for f in "$work"/sql/*.sql; do
  ch --multiquery < "$f" > "$work/old/$(basename "$f" .sql).tsv"
done
node deploy/compat/chdb.js each "$pkg" "$work/chdb-data" "$work/current" "$work"/sql/*.sql
echo "$(ls "$work/sql" | wc -l) queries ran on both"
node deploy/compat/chdb.js compare "$work/old" "$work/current"

# erasure's deletions change data, so they run last and only on the current release, where
# they must be accepted
{ echo "SET mutations_sync = 2;"; for f in sql/store/erase/delete_*.sql; do
  sed -E -e "s/\\\$db\\./$db./g" -e "s/@site\\b/'$psite'/g" -e "s/@sessions\\b/$sessions/g" \
    -e "s/@users\\b/['$person']/g" -e "s/@anons\\b/['$anon']/g" "$f"
  echo ";"
done; } | node deploy/compat/chdb.js run "$pkg" "$work/chdb-data"
left=$(echo "SELECT count() FROM $db.events WHERE site_id = '$psite' AND user_id = '$person';" |
  node -e "const c=require(require('path').resolve('$pkg','index.js')); const k=c.CreateConnection('$work/chdb-data'); process.stdout.write(c.QueryWithConnection(k, require('fs').readFileSync(0,'utf8').replace(/;\s*$/,''), 'TabSeparated'))")
[ "$left" = 0 ] || { echo "erasure left $left events of $person on ClickHouse $current" >&2; exit 1; }
echo "erasure's deletions run on ClickHouse $current"
