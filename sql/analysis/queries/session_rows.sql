-- session_rows: the sessions' part of touch_rows.sql (include/touch_rows_of_sessions.sql) as
-- journeyd reads it, beside the events' part (include/touch_rows_of_events.sql), to group
-- the touch groups itself (sql/analysis/report/touchrows.go): a row per session, UTC day and
-- part of session_aggregates (include/session_part_rows.sql, read without FINAL, so that a
-- session and day may come in several rows, which journeyd merges as FINAL would), or, for
-- a few days, a row per session and day grouped from their events
-- (include/event_day_rows.sql). touch_key is the session's whole first visit, 0xFF-joined,
-- and visit_key its order (include/session_part_rows.sql); a row whose anon_hash is 0 holds
-- no event of a person that is not an email's (a bot's alone, an email's alone) and is left
-- out. day_number is the row's UTC day as a number (days since 1970-01-01). Bots are left
-- out as session_touches_mv (migration 0026) leaves them out of the states (is_bot = 0 for
-- the person's hashes and visit_t; a bot's visit orders after every other in visit_state),
-- and an event stored twice (a replay) counts once: a copy changes no max, min or argMin.
-- It reads $db.session_aggregates, which ClickHouse fills from $db.events at insert time.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period, both at midnight UTC: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $days        which days of the period to read, by the rows' column day: 1 for all, or
--                e.g. (day >= toDate('2026-01-03') AND day < toDate('2026-01-05'))
SELECT touch_hash, user_hash, anon_hash, visit_t, visit_key, visit AS touch_key, toUInt16(day) AS day_number
FROM
(
    -- include: session_part_rows.sql
)
WHERE anon_hash != 0
