-- funnel: how many people (or sessions) enter each step of an ordered funnel within a
-- conversion window, and the median time from the previous step; per segment of one or
-- several breakdowns on request, all from one read of the events (barriers asks for its
-- three at once). One row per breakdown, segment and step: breakdown (1-based, the order of
-- $breakdowns; 1 with none), segment, step (1-based), entered, median_seconds.
--
-- Counted once per person: windowFunnel gives the deepest step each person reached with the
-- steps in order inside the window (the building block); the step times follow the earliest
-- chain from the person's first step-1 event. People (or sessions) are grouped by a 64-bit
-- hash of their id, which is faster than grouping by the string and, barring a hash
-- collision, counts the same. Bots are excluded. An event stored twice (a
-- replay before the table's background merge removes the copy) counts once: windowFunnel, the
-- step times and the count of people do not change when an event repeats. A person is resolved
-- as include/persons.sql says: the user id where known, else the user id the anonymous id was
-- first linked to, an alias between user ids followed; a person's anonymous browsing before
-- sign-up belongs to them; people are joined to their links by 64-bit hashes of the ids
-- (include/person_hashes.sql), cheaper on 18.16 than joining the id strings.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $window      the conversion window in seconds: 604800 (7 days); for strict order (no
--                other event between steps, ClickHouse 21.1+): 604800, 'strict_order'
--   $unit        person (count people) or session_id (count sessions); grouped by its hash
--   $breakdowns  the breakdown columns as d1, d2, ... (device, channel, country, source,
--                campaign): device AS d1, channel AS d2; or '' AS d1 for none
--   $breakdown_refs the breakdown columns' names: d1, d2
--   $segments    each person's segment in each breakdown, their first event's:
--                [argMin(d1, ts), argMin(d2, ts)]; or [''] with no breakdown (saves a
--                per-person state)
--   $steps       the step conditions as columns s1, s2, ...:
--                toUInt8(type = 'pageview' AND path LIKE '/product/%') AS s1, toUInt8(name = 'purchase') AS s2
--   $step_refs   the step columns: s1, s2
--   $exclusion     the exclusion condition: toUInt8(name = 'refund'), or toUInt8(0) for none
--   $keep        which events are read: those matching a step or the exclusion,
--                s1 OR s2 OR sx (windowFunnel and the step times ignore the others); or 1
--                with a breakdown (the segment is the first event's) or strict order (any
--                other event breaks the chain)
--   $excluded    whether a person did it inside their window:
--                arrayExists(t -> t >= t1 AND t <= t1 + 604800, ax), or 0 for none
--   $step_arrays each person's times of each step after the first, one item per step:
--                groupArrayIf(toUInt32(ts), s2) AS a2
--   $chain       the step times of the earliest chain, one per step; for two steps:
--                minIf(toUInt32(ts), s1) AS t1,
--                if(t1 = 0, 0, arrayReduce('min', arrayFilter(t -> t >= t1 AND t <= t1 + 604800, a2))) AS t2,
--                [t1, t2] AS chain
SELECT
    breakdown,
    segment,
    step,
    count() AS entered,
    quantileExactIf(0.5)(gap, step > 1 AND gap >= 0) AS median_seconds
FROM
(
    SELECT
        breakdown,
        segment,
        arrayJoin(arraySlice(arrayEnumerate(chain), 1, level)) AS step,
        if(step > 1 AND chain[step] > 0, toInt64(chain[step]) - toInt64(chain[step - 1]), -1) AS gap
    FROM
    (
        SELECT
            cityHash64($unit) AS unit,
            $segments AS segments,
            windowFunnel($window)(ts, $step_refs) AS level,
            $step_arrays,
            groupArrayIf(toUInt32(ts), sx) AS ax,
            $chain
        FROM
        (
            SELECT
                if(person_id != 0, person_id, person_key) AS person,
                session_id, ts, $breakdown_refs, sx, $step_refs
            FROM
            (
                SELECT cityHash64(if(user_id != '', user_id, anon_id)) AS person_key, session_id, ts, $breakdowns, $exclusion AS sx, $steps
                FROM $db.events
                WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
                    AND ($keep)
            ) AS lhs
            -- include: person_hashes.sql
        )
        GROUP BY unit
        HAVING level > 0 AND NOT $excluded
    )
    ARRAY JOIN segments AS segment, arrayEnumerate(segments) AS breakdown
)
GROUP BY breakdown, segment, step
ORDER BY breakdown, segment, step
