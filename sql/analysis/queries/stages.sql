-- stages: the journey map. For each stage in order (awareness, consideration, decision,
-- purchase, retention, advocacy by default), the people who reached it after reaching the
-- stages before it, the median time from the previous stage, and the channels that brought
-- them there (the channel of their latest session at that moment; topK, approximate for
-- very many channels). One row per stage: stage (1-based), people, median_seconds,
-- top_channels. A stage is reached at the earliest matching event after the previous
-- stage's (strictly after for repeat stages such as retention).
--
-- Bots are excluded. An event stored twice (a replay before the table's background merge
-- removes the copy) counts once: people are counted, and a repeated event does not move the
-- earliest time a stage is reached. A person is the user id where known, else the user id
-- the anonymous id was first linked to (identity_links_v, any event carrying both ids),
-- else the anonymous id: a person's anonymous browsing before sign-up belongs to them.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $steps       the stage conditions as columns s1, s2, ...: toUInt8(1) AS s1,
--                toUInt8(name = 'purchase') AS s2
--   $step_refs   the stage columns: s1, s2
--   $step_arrays each person's times of each stage's events, one item per stage:
--                groupArrayIf(toUInt32(ts), s1) AS a1, groupArrayIf(toUInt32(ts), s2) AS a2
--   $chain       the stage times of the earliest chain, one per stage, as in funnel.sql but
--                with no window, and t > t1 instead of t >= t1 for repeat stages:
--                arrayReduce('min', a1) AS t1,
--                if(t1 = 0, 0, arrayReduce('min', arrayFilter(t -> t >= t1, a2))) AS t2, [t1, t2] AS chain
SELECT
    stage,
    count() AS people,
    quantileExactIf(0.5)(gap, stage > 1) AS median_seconds,
    topK(5)(channel) AS top_channels
FROM
(
    SELECT
        arrayJoin(arraySlice(arrayEnumerate(chain), 1, arrayCount(t -> t > 0, chain))) AS stage,
        if(stage > 1, toInt64(chain[stage]) - toInt64(chain[stage - 1]), 0) AS gap,
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
                if(user_id != '', user_id, if(linked_user_id != '', linked_user_id, anon_id)) AS person,
                ts, session_channel, $step_refs
            FROM
            (
                SELECT
                    anon_id, user_id,
                    ts, if(session_id = '', '', channel) AS session_channel, $steps
                FROM $db.events
                WHERE site_id = $site AND ts >= $from AND ts < $until AND is_bot = 0
                    AND type NOT IN ('identify', 'alias')
            ) AS lhs
            ANY LEFT JOIN
            (
                SELECT anon_id, linked_user_id
                FROM $db.identity_links_v
                WHERE site_id = $site
            ) AS rhs USING anon_id
        )
        GROUP BY person
    )
)
GROUP BY stage
ORDER BY stage
