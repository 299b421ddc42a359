-- session_touch_rows: the rows include/session_touches.sql groups into the touch groups of
-- include/touches.sql: a row per session and day of the period (from session_aggregates,
-- FINAL, bots and emails left out of its person's hashes and first visit; anon_hash 0, a
-- row without such an event, is left out) and a row per email open, email click,
-- impression and conversion of the period (from the events), each with the hash of the
-- touch group it belongs to (touch_hash), its person's hashes, its visit time (0: none) and
-- key, and, for a conversion (is_conversion), its time, value and event id. journeyd groups
-- them itself for the journey reports (touch_rows.sql), where 18.16's GROUP BY of millions
-- of groups costs more than the read (docs/BENCHMARKS.md).
-- The key (touch_key) is the same whatever key a report asks for, so that one read serves
-- them all (the overview and channels by channel, the top lists by every field, attribution
-- by channel, source, medium or campaign): a session's whole first visit (visit_state's
-- fields, channel, source, medium, campaign, referrer, path, country, device and browser,
-- joined by the byte 0xFF), and an email open, click or impression's channel, source,
-- medium and campaign joined the same way (the only fields a key of an event can be; the
-- other event rows are never a visit and carry ''). Whoever reads it takes the field it
-- keys by out of it (journeyd, sql/analysis/report/sessiontouches.go; session_touches.sql
-- by $visit_key), an empty field reading as the key's empty value.
-- The constants of the sessions' part are materialized: 18.16 refuses a UNION ALL whose
-- column is constant in one part and not in the other. $filter is 1 here (journeyd reads
-- the events themselves for a filter). Each row carries its UTC
-- day (day: a session's row's date, an event's toDate(ts), UTC as ts is), and $days narrows
-- the rows to some days of the period by it: 1 for all of them (journeyd keeps the rows of
-- days it has read, sql/analysis/report/daystore.go). The events are narrowed by toDate(ts) as well as by ts:
-- their table's key holds toDate(ts), and ClickHouse 18.16 does not use it for a condition on
-- ts alone (it reads every event of the site). The events' conditions on is_bot, type and
-- the conversion are an explicit PREWHERE, read and tested before the ids and the channel's
-- columns: 4.5 % of the events match (emails and conversions), spread over every granule,
-- so every granule is still read, but the part costs about 0.1-0.2 s less of ClickHouse's CPU at 10
-- million events (median 1.5 s against 1.68 s, twelve runs each alternated at load 7-12;
-- docs/BENCHMARKS.md). The key's conditions (site, day) stay in WHERE, which the index
-- reads as well. The sessions' rows are
-- include/session_day_rows.sql's (or, for a few days, include/event_day_rows.sql's: the
-- same rows grouped from those days' events).
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
UNION ALL
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
FROM $db.events
PREWHERE is_bot = 0 AND (type IN ('email_open', 'email_click', 'impression') OR $conversion)
WHERE site_id = $site AND day >= toDate($from, 'UTC') AND day < toDate($until, 'UTC') AND ts >= $from AND ts < $until
    AND $days AND $filter
