-- session_touches: the rows of include/touches.sql, the same columns with the same values,
-- read from the sessions ClickHouse keeps at insert time (session_aggregates, migrations
-- 0025-0026) instead of grouping every event of the period: a report reads it where a
-- query says `-- include: touches.sql` when the period starts and ends at midnight UTC (the
-- table holds a row per session and UTC day) and no filter narrows the events (a filter is
-- on events, not sessions); journeyd chooses, and TestSessionTouchesAgree holds the two to
-- the same rows. On ClickHouse 18.16 its GROUP BY of millions of groups costs about what
-- touches.sql's grouping of the events does (the cost is per group more than per row), so
-- the reports that aggregate in SQL gain little; the journey reports group the same rows
-- in journeyd instead (touch_rows.sql, docs/BENCHMARKS.md).
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
-- The rows are include/session_touch_rows.sql's, keyed the same for every key (touch_key: a
-- session's whole first visit, an email's channel, source, medium and campaign, joined by
-- the byte 0xFF); $visit_key takes the key's field out of touch_key, per row as touches.sql
-- keys each event: substring(touch_key, 1, position(touch_key, '\xff') - 1) for channel,
-- else splitByChar('\xff', touch_key)[2], [3] or [4] for source, medium or campaign, and an
-- empty field reads as $empty_key.
SELECT
    if(max(user_hash) != 0, max(user_hash), max(anon_hash)) AS person_key,
    toUInt8(max(visit_t) != 0) AS visit,
    toUInt8(visit = 1 AND max(is_email) = 0) AS session,
    minIf(visit_t, visit_t != 0) AS t,
    argMinIf(if(key_field = '', $empty_key, key_field), visit_t, visit_t != 0) AS k,
    arrayDistinct(groupArrayIf((conv_time, conv_value, conv_id), is_conversion = 1)) AS convs,
    arrayMap(x -> x.1, convs) AS conv_t,
    arrayMap(x -> x.2, convs) AS conv_v
FROM
(
    SELECT touch_hash, user_hash, anon_hash, visit_t, $visit_key AS key_field, is_email, is_conversion, conv_time, conv_value, conv_id
    FROM
    (
        -- include: session_touch_rows.sql
    )
)
GROUP BY touch_hash
