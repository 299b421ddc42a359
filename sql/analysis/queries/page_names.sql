-- page_names: the path of each of the given path hashes (cityHash64 of the path, as
-- page_rows.sql gives them) among the page views of the period: one row per hash,
-- path_hash and path. journeyd asks it for the paths of the top pages it counted from
-- page_rows.sql (sql/analysis/report/pagedays.go) whose paths it has not met yet. Bots'
-- views are left out (is_bot = 0), as page_rows.sql leaves them; a path viewed many times,
-- or by an event stored twice (a replay), counts once: one row per hash.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $hashes      the path hashes: 4123948394839, 998877665544
--   $count       how many hashes $hashes holds: 2
--
-- The first view of each hash, not a GROUP BY: LIMIT 1 BY keeps a hash's first row and the
-- outer LIMIT ends the read once every hash has one, so ClickHouse stops reading there. The
-- hashes asked are those of the top pages, viewed all through the period, so the read ends
-- within the first granules: at 10 million events 32 768 rows and 0.01-0.02 s of ClickHouse
-- CPU, where grouping every page view of the period read all 10 million and took 0.57-0.67 s
-- (docs/BENCHMARKS.md). The rows are the same: a hash's paths are one path (cityHash64
-- telling two paths apart, as page_rows.sql's path_hash does); a hash not viewed in the
-- period has no row either way, and then the read goes to the end as before.
SELECT path_hash, path
FROM
(
    SELECT cityHash64(path) AS path_hash, path
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND type = 'pageview'
)
WHERE path_hash IN ($hashes)
LIMIT 1 BY path_hash
LIMIT $count
