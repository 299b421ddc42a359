-- page_rows: the page views of the period, one row each, in no order: what journeyd counts
-- into the top pages (pages.sql's rows) when the period is whole UTC days with no filter,
-- keeping each day's when it keeps the days it has read (sql/analysis/report/pagedays.go). Each
-- row is a view's UTC day as a number (days since 1970-01-01), path_hash (cityHash64 of its
-- path), person_key (cityHash64 of the user id where known, else of the anonymous id, as
-- pages.sql's person_key) and id (cityHash64 of its event id); page_names.sql gives the
-- paths of the hashes that make the list. Bots are left out (is_bot = 0). Nothing is
-- grouped: ClickHouse 18.16 spends more on grouping the views by day, path and person than
-- on reading them, and journeyd keeps each day's distinct people and event ids of every
-- path, so that a replay (an event stored twice) counts once, as in pages.sql.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period, both at midnight UTC: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $days        which days of the period to read, by the column day: 1 for all, or
--                e.g. (day >= toDate('2026-01-03') AND day < toDate('2026-01-05'))
SELECT
    toUInt16(day) AS day_number,
    cityHash64(path) AS path_hash,
    cityHash64(if(user_id != '', user_id, anon_id)) AS person_key,
    cityHash64(event_id) AS id
FROM
(
    SELECT toDate(ts, 'UTC') AS day, path, user_id, anon_id, event_id
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND type = 'pageview' AND $days
)
