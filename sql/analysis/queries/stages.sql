-- stages: the journey map (DESIGN §7). For each stage in order (awareness, consideration,
-- decision, purchase, retention, advocacy by default), the people who reached it, the
-- median time from the previous stage, and the channels that brought them there (the
-- channel of their latest session at that moment; topK, approximate for very many
-- channels). One row per stage reached by someone: stage (1-based), people,
-- median_seconds, top_channels. A person reaches a stage up to purchase at their earliest
-- event of that stage or of any later stage up to purchase, so a buyer who never used the
-- cart still reaches decision, the map is monotone, and the purchase stage counts the
-- people with a conversion. The stages after purchase (retention, advocacy) follow the
-- purchase: reached at their earliest event after it (strictly after for repeat stages).
--
-- Bots are excluded. An event stored twice (a replay before the table's background merge
-- removes the copy) counts once: people are counted, and a repeated event does not move the
-- earliest time a stage is reached. A person is resolved as include/persons.sql says.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $steps       the stage conditions as columns s1, s2, ...: toUInt8(1) AS s1,
--                toUInt8(name = 'purchase') AS s2
--   $step_refs   the stage columns: s1, s2
--   $step_arrays each person's times of each stage's events, one item per stage:
--                groupArrayIf(toUInt32(ts), s1) AS a1, groupArrayIf(toUInt32(ts), s2) AS a2
--   $chain       the time each stage was reached, 0 for not reached; with purchase the
--                second of three stages and retention a repeat stage after it:
--                arrayReduce('min', arrayConcat(a1, a2)) AS t1,
--                arrayReduce('min', arrayConcat(a2)) AS t2,
--                if(t2 = 0, 0, arrayReduce('min', arrayFilter(t -> t > t2, a3))) AS t3, [t1, t2, t3] AS chain
--   $purchase    the purchase stage's number (1-based): 2
SELECT
    stage,
    count() AS people,
    quantileExactIf(0.5)(gap, stage > 1) AS median_seconds,
    topK(5)(channel) AS top_channels
FROM
(
    SELECT
        arrayJoin(arrayFilter(i -> chain[i] > 0, arrayEnumerate(chain))) AS stage,
        if(stage > 1, toInt64(chain[stage]) - toInt64(if(chain[stage - 1] > 0, chain[stage - 1], chain[$purchase])), 0) AS gap,
        arrayReduce('max', arrayFilter(x -> x.1 <= chain[stage] AND x.2 != '', chans)).2 AS ch,
        if(ch = '', 'Direct', ch) AS channel
    FROM
    (
        SELECT
            person,
            $step_arrays,
            groupArray((toUInt32(ts), session_channel)) AS chans,
            $chain
        FROM
        (
            SELECT
                if(person_id != '', person_id, person_key) AS person,
                ts, session_channel, $step_refs
            FROM
            (
                SELECT
                    if(user_id != '', user_id, anon_id) AS person_key,
                    ts, if(session_id = '', '', channel) AS session_channel, $steps
                FROM $db.events
                WHERE site_id = $site AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
                    AND type NOT IN ('identify', 'alias')
            ) AS lhs
            -- include: persons.sql
        )
        GROUP BY person
    )
)
GROUP BY stage
ORDER BY stage
