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
SELECT path_hash, any(path) AS path
FROM
(
    SELECT cityHash64(path) AS path_hash, path
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND type = 'pageview'
)
WHERE path_hash IN ($hashes)
GROUP BY path_hash
