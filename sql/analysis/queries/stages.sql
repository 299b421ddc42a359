-- stages: the journey map (DESIGN §7). For each stage in order (awareness, consideration,
-- decision, purchase, retention, advocacy by default), the people who reached it, the
-- median time from the previous stage, and the channels that brought them there (the
-- channel of their latest session at that moment: the five that brought the most people,
-- in name order on a tie). One row per stage reached by someone: stage (1-based), people,
-- median_seconds, top_channels. A person reaches a stage up to purchase at their earliest
-- event of that stage or of any later stage up to purchase, so a buyer who never used the
-- cart still reaches decision, the map is monotone, and the purchase stage counts the
-- people with a conversion. The stages after purchase (retention, advocacy) follow the
-- purchase: reached at their earliest event after it (strictly after for repeat stages).
--
-- Bots are excluded. An event stored twice (a replay before the table's background merge
-- removes the copy) counts once: people are counted, and a repeated event does not move the
-- earliest time a stage is reached nor the latest session before it. A person is resolved
-- as include/persons.sql says.
--
-- How it stays cheap on 18.16: people are grouped by a 64-bit hash of their id (no
-- string keys), a stage up to purchase is a plain minIf (no per-person array), and each
-- person's session events are one array of numbers, time * 2^32 + the channel's rank among
-- the period's channel names sorted (channel_ranks below), so the greatest item at or
-- before a stage's time is the latest session then, the greater channel name first on a
-- tie of seconds, as the ranks keep the names' order. The items after the person's last
-- stage are left out before a row per stage copies the array. The rows of a person and a
-- stage are then counted per stage and rank (the median kept as quantileExactIfState,
-- merged per stage), and only those few rows go back to the channel names (channel_names).
--
-- journeyd itself gives this query's answer from stage_rows.sql and stage_channels.sql,
-- gathering each person's rows in Go (sql/analysis/report/stagerows.go): on 18.16 this
-- query's grouping costs about four plain grouped passes over the events, the rows about
-- one (docs/BENCHMARKS.md). It runs this query when two channel names share the hash bits
-- stage_rows.sql keeps. This file stays the reference an analyst runs by hand.
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
--   $chain       the time each stage was reached, 0 for not reached, after each person's
--                times of the events of every stage after purchase; with purchase the
--                second of three stages and retention a repeat stage after it:
--                groupArrayIf(toUInt32(ts), s3) AS a3,
--                minIf(toUInt32(ts), s1 OR s2) AS t1,
--                minIf(toUInt32(ts), s2) AS t2,
--                if(t2 = 0, 0, arrayReduce('min', arrayFilter(t -> t > t2, a3))) AS t3, [t1, t2, t3] AS chain
--   $purchase    the purchase stage's number (1-based): 2
SELECT
    stage,
    sum(times) AS people,
    quantileExactIfMerge(0.5)(gaps) AS median_seconds,
    arraySlice(arrayMap(x -> x.2, arraySort(x -> (-x.1, x.2), groupArray((times, channel)))), 1, 5) AS top_channels
FROM
(
    SELECT stage, channel, sum(times) AS times, quantileExactIfMergeState(0.5)(gaps) AS gaps
    FROM
    (
        SELECT stage, if(name = '', 'Direct', name) AS channel, times, gaps
        FROM
        (
            SELECT stage, rank, times, gaps
            FROM
            (
                SELECT
                    stage,
                    rank,
                    count() AS times,
                    quantileExactIfState(0.5)(gap, stage > 1) AS gaps
                FROM
                (
                    SELECT
                        arrayJoin(arrayFilter((i, t) -> t > 0, arrayEnumerate(chain), chain)) AS stage,
                        if(stage > 1, toInt64(chain[stage]) - toInt64(if(chain[stage - 1] > 0, chain[stage - 1], chain[$purchase])), 0) AS gap,
                        toUInt64(chain[stage]) * 4294967296 + 4294967295 AS upto,
                        arrayReduce('max', arrayFilter(x -> x <= upto, sessions_before)) % 4294967296 AS rank
                    FROM
                    (
                        SELECT
                            cityHash64(person) AS person_hash,
                            $chain,
                            groupArrayIf(toUInt64(ts) * 4294967296 + rank, rank != 0) AS sessions,
                            toUInt64(arrayReduce('max', chain)) * 4294967296 + 4294967295 AS last_limit,
                            arrayFilter(x -> x <= last_limit, sessions) AS sessions_before
                        FROM
                        (
                            SELECT person, ts, rank, $step_refs
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
                                    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
                                        AND type NOT IN ('identify', 'alias')
                                ) AS lhs
                                -- include: persons.sql
                            ) AS events_of_people
                            ANY LEFT JOIN
                            (
                                -- channel_ranks: every channel name of the period, numbered from 1 in
                                -- sorted order ('' is no session: rank 0 after the join).
                                SELECT channel_name AS session_channel, rank
                                FROM
                                (
                                    -- include: channel_ranks.sql
                                )
                            ) AS channel_ranks USING session_channel
                        )
                        GROUP BY person_hash
                    )
                )
                GROUP BY stage, rank
            )
        ) AS stage_ranks
        ANY LEFT JOIN
        (
            SELECT rank, channel_name AS name
            FROM
            (
                -- include: channel_ranks.sql
            )
        ) AS channel_names USING rank
    )
    GROUP BY stage, channel
)
GROUP BY stage
ORDER BY stage
