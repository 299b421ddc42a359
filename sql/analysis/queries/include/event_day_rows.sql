-- event_day_rows: the rows of include/session_day_rows.sql, a row per session and UTC day
-- of the period ($days of it), grouped from the events of those days instead of read from
-- session_aggregates: each column is the aggregate that session_touches_mv (migration 0026)
-- keeps for it, over the same events (those with a session id, of the session and day),
-- finalized, so the rows are the same (an event stored twice, a replay, changes no min, max
-- or argMin); visit_key is the order of the visit that is visit, the key of visit_state's
-- argMin (include/session_part_rows.sql). journeyd reads a few days this way
-- (sql/analysis/report/daystore.go): the events' key starts with the day, so a day costs a
-- thirtieth of a month's read, where the sessions' table, keyed by session, costs about the
-- whole month for any day.
WITH
    bitOr(bitShiftLeft(toUInt64(ts) * 1000 + ts_ms, 20), bitAnd(cityHash64(event_id), 1048575)) AS order_key,
    toUInt8(type IN ('pageview', 'screen', 'event', 'leave')) AS is_visit,
    bitOr(order_key, bitShiftLeft(toUInt64(is_bot), 63)) AS visit_order,
    toUInt8(is_bot = 0 AND type NOT IN ('email_open', 'email_click', 'impression')) AS is_touch_event
SELECT
    cityHash64(session_id, '') AS touch_hash,
    maxIf(if(user_id != '', cityHash64(user_id), 0), is_touch_event) AS user_hash,
    maxIf(cityHash64(anon_id), is_touch_event) AS anon_hash,
    minIf(toUInt32(ts), is_visit = 1 AND is_bot = 0) AS visit_t,
    argMinIf(concat(channel, '\xff', source, '\xff', medium, '\xff', campaign, '\xff', referrer, '\xff',
        path, '\xff', country, '\xff', device, '\xff', browser), visit_order, is_visit) AS visit,
    minIf(visit_order, is_visit) AS visit_key,
    toDate(ts) AS day
FROM $db.events
WHERE site_id = $site AND day >= toDate($from, 'UTC') AND day < toDate($until, 'UTC') AND ts >= $from AND ts < $until
    AND $days AND session_id != ''
GROUP BY session_id, day
