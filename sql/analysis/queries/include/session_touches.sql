-- session_touches: the rows of include/touches.sql, the same columns with the same values,
-- read from the sessions ClickHouse keeps at insert time (session_aggregates, migrations
-- 0025-0026) instead of grouping every event of the period: a report reads it where a
-- query says `-- include: touches.sql` when the period starts and ends at midnight UTC (the
-- table holds a row per session and UTC day) and no filter narrows the events (a filter is
-- on events, not sessions); journeyd chooses, and TestSessionTouchesAgree holds the two to
-- the same rows. On 10 million events it costs about a third of touches.sql
-- (docs/BENCHMARKS.md).
-- - a session: its rows of the period's days, read with FINAL (the parts' rows of one key
--   merged in key order, without a hash table) and finalizeAggregation; a row per day, so a
--   session that crosses midnight is merged again by the GROUP BY below. Its person's hashes
--   and first visit leave out bots and email events, as touches.sql's session groups do
--   (anon_hash 0: a row without such an event, which touches.sql has no group for);
-- - an email open, email click or impression, and every conversion: read from the events,
--   which only the rows of these types or names pass. A conversion joins its group (its
--   session, or the events outside sessions of its user id, else its anonymous id) by the
--   hash touches.sql keys the group with; it is never the group's visit: a session's
--   visit events are in its row, and events outside sessions are never a visit.
-- The constants of the sessions' part are materialized: 18.16 refuses a UNION ALL whose
-- column is constant in one part and not in the other. $filter is 1 here (journeyd reads the events themselves for a filter). $visit_key is the key's field of the session's visit (0xFF-joined channel, source, medium,
-- campaign, ...): substring(visit, 1, position(visit, '\xff') - 1) for channel, else
-- splitByChar('\xff', visit)[2], [3] or [4] for source, medium or campaign.
SELECT
    if(max(user_hash) != 0, max(user_hash), max(anon_hash)) AS person_key,
    toUInt8(max(visit_t) != 0) AS visit,
    toUInt8(visit = 1 AND max(is_email) = 0) AS session,
    minIf(visit_t, visit_t != 0) AS t,
    argMinIf(touch_key, visit_t, visit_t != 0) AS k,
    arrayDistinct(groupArrayIf((conv_time, conv_value, conv_id), is_conversion = 1)) AS convs,
    arrayMap(x -> x.1, convs) AS conv_t,
    arrayMap(x -> x.2, convs) AS conv_v
FROM
(
    SELECT
        touch_hash, user_hash, anon_hash, visit_t,
        if(visit_field = '', $empty_key, visit_field) AS touch_key,
        materialize(toUInt8(0)) AS is_email, materialize(toUInt8(0)) AS is_conversion,
        materialize(toUInt32(0)) AS conv_time, materialize(toFloat64(0)) AS conv_value, materialize('') AS conv_id
    FROM
    (
        SELECT
            cityHash64(session_id, '') AS touch_hash,
            finalizeAggregation(user_hash_state) AS user_hash,
            finalizeAggregation(anon_hash_state) AS anon_hash,
            finalizeAggregation(visit_t_state) AS visit_t,
            finalizeAggregation(visit_state) AS visit,
            $visit_key AS visit_field
        FROM $db.session_aggregates FINAL
        WHERE site_id = $site AND date >= toDate($from) AND date < toDate($until)
    )
    WHERE anon_hash != 0
    UNION ALL
    SELECT
        cityHash64(if(is_email = 1, event_id, session_id), if(is_email = 1 OR session_id != '', '', if(user_id != '', user_id, anon_id))) AS touch_hash,
        if(user_id != '', cityHash64(user_id), toUInt64(0)) AS user_hash,
        cityHash64(anon_id) AS anon_hash,
        if(is_email = 1, toUInt32(ts), toUInt32(0)) AS visit_t,
        if($key = '', $empty_key, $key) AS touch_key,
        toUInt8(type IN ('email_open', 'email_click', 'impression')) AS is_email,
        toUInt8($conversion) AS is_conversion,
        toUInt32(ts) AS conv_time, toFloat64($value) AS conv_value, event_id AS conv_id
    FROM $db.events
    WHERE site_id = $site AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
        AND (type IN ('email_open', 'email_click', 'impression') OR $conversion)
)
GROUP BY touch_hash
