-- overview: visitors, sessions, conversions, converting people and revenue per time bucket
-- of the period and of the period before it, for the dashboard's overview. The query reads
-- both periods at once: $from is the start of the previous period, $current the start of
-- the current one (the end of the previous); bucket k of a period starts k * $bucket
-- seconds after the period's start, and bucket -1 is the period's total. One row per period
-- (1 current, 0 previous) and bucket: visitors, sessions, conversions, converters, revenue.
--
-- Sessions and their visitors are the touchpoints of include/touches.sql that are sessions
-- (a visit), each in the bucket of its first visit event; conversions are every conversion
-- of the person, inside a session or outside any, in the bucket of its time. Bots are
-- excluded. An event stored twice (a replay before the table's background merge removes the
-- copy) counts once: a session is one group of touches.sql and its conversions are kept
-- once per event id. A person is resolved as include/persons.sql says: the user id where
-- known, else the user id the anonymous id was first linked to, an alias followed.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   both periods: toDateTime('2025-12-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $current     the start of the current period: toDateTime('2026-01-01 00:00:00')
--   $bucket      the bucket length in seconds: 86400 (a day)
--   $conversion  the conversion condition: name = 'purchase'
--   $value       the conversion value: revenue
--   $key         the session's key (unused here): channel
--   $empty_key   the key of a visit without one: 'Direct'
SELECT
    period,
    bucket,
    uniqExactIf(person, kind = 1) AS visitors,
    countIf(kind = 1) AS sessions,
    countIf(kind = 2) AS conversions,
    uniqExactIf(person, kind = 2) AS converters,
    round(sumIf(value, kind = 2), 2) AS revenue
FROM
(
    SELECT
        person,
        item.1 AS time,
        item.2 AS kind,
        item.3 AS value,
        toUInt8(time >= toUInt32($current)) AS period,
        arrayJoin([toInt64(intDiv(toInt64(time) - toInt64(toUInt32(if(period = 1, $current, $from))), $bucket)), toInt64(-1)]) AS bucket
    FROM
    (
        SELECT
            person,
            arrayJoin(arrayConcat(
                arraySlice([(t, toUInt8(1), toFloat64(0))], 1, session),
                arrayMap(x -> (x.1, toUInt8(2), x.2), convs))) AS item
        FROM
        (
            SELECT
                if(person_id != '', person_id, person_key) AS person,
                session, t, convs
            FROM
            (
                -- include: touches.sql
            ) AS lhs
            -- include: persons.sql
        )
    )
)
GROUP BY period, bucket
ORDER BY period, bucket
