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
-- For speed on ClickHouse 18.16 (docs/BENCHMARKS.md, the overview section): people are
-- counted by a 64-bit hash of the person (include/person_hashes.sql, exact but for a
-- collision), and each period's total is merged from its buckets' uniqExact states instead
-- of every row being counted twice, once in its bucket and once in the total.
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
    uniqExactIfMerge(bucket_visitors) AS visitors,
    sum(bucket_sessions) AS sessions,
    sum(bucket_conversions) AS conversions,
    uniqExactIfMerge(bucket_converters) AS converters,
    round(sum(bucket_revenue), 2) AS revenue
FROM
(
    SELECT
        period,
        in_period,
        uniqExactIfState(person, kind = 1) AS bucket_visitors,
        countIf(kind = 1) AS bucket_sessions,
        countIf(kind = 2) AS bucket_conversions,
        uniqExactIfState(person, kind = 2) AS bucket_converters,
        sumIf(value, kind = 2) AS bucket_revenue
    FROM
    (
        SELECT
            person,
            item.1 AS time,
            item.2 AS kind,
            item.3 AS value,
            toUInt8(time >= toUInt32($current)) AS period,
            toInt64(intDiv(toInt64(time) - toInt64(toUInt32(if(period = 1, $current, $from))), $bucket)) AS in_period
        FROM
        (
            SELECT
                if(person_id != 0, person_id, person_key) AS person,
                arrayJoin(arrayConcat(
                    arraySlice([(t, toUInt8(1), toFloat64(0))], 1, session),
                    arrayMap(x -> (x.1, toUInt8(2), x.2), convs))) AS item
            FROM
            (
                -- include: touches.sql
            ) AS lhs
            -- include: person_hashes.sql
        )
    )
    GROUP BY period, in_period
)
ARRAY JOIN [in_period, -1] AS bucket
GROUP BY period, bucket
ORDER BY period, bucket
