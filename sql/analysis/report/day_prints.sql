-- day_prints: for each UTC day of the period that has events of the site, what tells
-- whether they changed since journeyd kept the rows it read of that day (daystore.go): the
-- day (days since 1970-01-01), the count of the site's events (bots, replayed copies and
-- all) and the sum, wrapping at 2^64, of a 64-bit hash of each one's id, event time and
-- receipt time. An insert changes the count, a merge that drops replayed copies too; the
-- sum tells apart an insert and such a drop that leave the count where it was. The days are
-- taken by toDate(ts) (UTC, as ts is), which the events' key holds: ClickHouse 18.16 would
-- read every event of the site for a condition on ts.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period, both at midnight UTC: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
SELECT
    toUInt16(toDate(ts)) AS day,
    count() AS events,
    sum(cityHash64(event_id, received_at, ts, ts_ms)) AS hash
FROM $db.events
WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) < toDate($until, 'UTC')
GROUP BY day
