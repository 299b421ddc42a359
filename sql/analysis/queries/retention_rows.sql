-- retention_rows: the events retention.sql's cohorts are made of, one row each, in no
-- order: what journeyd gathers per person into the answer of retention.sql when the period
-- is whole UTC days with no filter, keeping each day's rows when it keeps the days it has
-- read (sql/analysis/report/retentiondays.go). Each row is an event that is a cohort event or a return event (or
-- both): its UTC day as a number (days since 1970-01-01), person_key (cityHash64 of the
-- user id where known, else of the anonymous id; journeyd resolves it to the person as
-- person_links.sql says), its time in seconds, and kind: bit 0 set for a cohort event,
-- bit 1 for a return event. Bots are left out (is_bot = 0); identify and alias calls are
-- read as retention.sql reads them (a cohort of any first visit counts them). An event
-- stored twice counts once: a person's cohort time is their earliest cohort event and
-- their return the earliest return event after it, which a copy does not move.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period, both at midnight UTC: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $cohort      the cohort event's condition: name = 'purchase' (1 for any first visit)
--   $return      the return event's condition: name = 'purchase'
--   $touch_events   the table read: touch_events when the cohort and return events cannot be
--                views without a name (sql/analysis/report/touchevents.go), else events
--   $days        which days of the period to read, by the column day: 1 for all, or
--                e.g. (day >= toDate('2026-01-03') AND day < toDate('2026-01-05'))
SELECT
    toUInt16(day) AS day_number,
    cityHash64(if(user_id != '', user_id, anon_id)) AS person_key,
    toUInt32(ts) AS t,
    toUInt8(is_cohort + 2 * is_return) AS kind
FROM
(
    SELECT toDate(ts, 'UTC') AS day, user_id, anon_id, ts, toUInt8($cohort) AS is_cohort, toUInt8($return) AS is_return
    FROM $db.$touch_events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $days
        AND (($cohort) OR ($return))
)
