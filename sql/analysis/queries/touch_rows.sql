-- touch_rows: the rows of every touch group of the period, in no order, read
-- from the sessions ClickHouse keeps at insert time and from the emails and conversions of
-- the events (include/session_touch_rows.sql says which and how; journeyd runs those two
-- parts of the UNION ALL as two queries at once, the sessions' as session_rows.sql, without
-- FINAL, merging the rows of a session's parts itself): what journeyd groups,
-- one touch group at a time, into the rows of touchpoints.sql for attribution, paths and
-- time-to-convert. It takes this route when the period is whole UTC days and no filter
-- narrows the events, because on ClickHouse 18.16 a GROUP BY of the millions of sessions
-- costs more than reading them, and sorting them by group about as much; a group (the
-- rows of one touch_hash) has the person key
-- if(max(user_hash) != 0, max(user_hash), max(anon_hash)) of its rows, its visit the row
-- with the least non-zero visit_t, its conversions those rows with is_conversion, each
-- event id once (an event stored twice, a replay, counts once), its person that key
-- resolved by person_links.sql, and it is a session (channels, the overview) when it has a
-- visit and no row with is_email (an email open, email click or impression is a touchpoint
-- of its own, not a session). Bots are left out (is_bot = 0). day is the row's UTC day as a
-- number (days since 1970-01-01): journeyd keeps the rows of each day it has read and reads
-- again only the days whose events changed (sql/analysis/report/daystore.go). touch_key is
-- the same whatever key a report asks for (a session's whole first visit, an email's
-- channel, source, medium and campaign, 0xFF-joined: include/session_touch_rows.sql), so
-- that one read, and the days journeyd keeps of it, serve every report and key at once;
-- journeyd takes the key's field out of each distinct touch_key (sessiontouches.go).
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period, both at midnight UTC: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      1 (a filter is on events: touchpoints.sql reads them)
--   $conversion  the conversion condition: name = 'purchase'
--   $value       the conversion value: revenue
--   $touch_events   the table of the emails and conversions: touch_events, or events for a
--                conversion that may be a view without a name (sql/analysis/report/touchevents.go)
--   $days        which days of the period to read, by the rows' column day: 1 for all, or
--                e.g. (day >= toDate('2026-01-03') AND day < toDate('2026-01-05'))
SELECT touch_hash, user_hash, anon_hash, visit_t, touch_key, is_email, is_conversion, conv_time, conv_value, conv_id, toUInt16(day) AS day_number
FROM
(
    -- include: session_touch_rows.sql
)
