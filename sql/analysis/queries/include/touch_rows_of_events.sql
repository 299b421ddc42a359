-- touch_rows_of_events: the events' part of include/session_touch_rows.sql (which says what
-- its columns are): a row per email open, email click, impression and conversion of the
-- period, bots left out. The events are narrowed by toDate(ts) as well as by ts: their
-- table's key holds toDate(ts), and ClickHouse 18.16 does not use it for a condition on ts
-- alone (it reads every event of the site). The conditions on is_bot, type and the
-- conversion are an explicit PREWHERE, read and tested before the ids and the channel's
-- columns: 4.5 % of the events match (emails and conversions), spread over every granule,
-- so every granule is still read, but the part costs about 0.1-0.2 s less of ClickHouse's
-- CPU at 10 million events (median 1.5 s against 1.68 s, twelve runs each alternated at
-- load 7-12; docs/BENCHMARKS.md). The key's conditions (site, day) stay in WHERE, which the
-- index reads as well.
-- $touch_events is the table read: touch_events (migration 0027), the events that are not
-- views without a name, which ClickHouse keeps at insert time with the events' key, when
-- every event the conversion can match is there (sql/analysis/report/touchevents.go); else
-- events. Both give the same rows: touch_events reads an eighth of the events, 0.5 s
-- against 1.6 s on the bench's 10 million.
SELECT
    cityHash64(if(is_email = 1, event_id, session_id), if(is_email = 1 OR session_id != '', '', if(user_id != '', user_id, anon_id))) AS touch_hash,
    if(user_id != '', cityHash64(user_id), toUInt64(0)) AS user_hash,
    cityHash64(anon_id) AS anon_hash,
    if(is_email = 1, toUInt32(ts), toUInt32(0)) AS visit_t,
    if(is_email = 1, concat(channel, '\xff', source, '\xff', medium, '\xff', campaign), '') AS touch_key,
    toUInt8(type IN ('email_open', 'email_click', 'impression')) AS is_email,
    toUInt8($conversion) AS is_conversion,
    toUInt32(ts) AS conv_time, toFloat64($value) AS conv_value, event_id AS conv_id,
    toDate(ts) AS day
FROM $db.$touch_events
PREWHERE is_bot = 0 AND (type IN ('email_open', 'email_click', 'impression') OR $conversion)
WHERE site_id = $site AND day >= toDate($from, 'UTC') AND day < toDate($until, 'UTC') AND ts >= $from AND ts < $until
    AND $days AND $filter
