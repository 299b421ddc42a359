-- touch_rows_of_sessions: the sessions' part of include/session_touch_rows.sql (which says
-- what its columns are): a row per session and day of the period, from session_aggregates,
-- FINAL, bots and emails left out of its person's hashes and first visit; anon_hash 0, a row
-- without such an event, is left out. The sessions' rows are include/session_day_rows.sql's
-- (or, for a few days, include/event_day_rows.sql's: the same rows grouped from those days'
-- events). The constants are materialized: 18.16 refuses a UNION ALL whose column is
-- constant in one part and not in the other.
SELECT
    touch_hash, user_hash, anon_hash, visit_t,
    visit AS touch_key,
    materialize(toUInt8(0)) AS is_email, materialize(toUInt8(0)) AS is_conversion,
    materialize(toUInt32(0)) AS conv_time, materialize(toFloat64(0)) AS conv_value, materialize('') AS conv_id, day
FROM
(
    -- include: session_day_rows.sql
)
WHERE anon_hash != 0
