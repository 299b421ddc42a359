-- stage_rows: the events the journey map (stages.sql) is drawn from, one row each, in no
-- order: what journeyd gathers per person into the answer of stages.sql
-- (sql/analysis/report/stagerows.go), because on ClickHouse 18.16 grouping the events by
-- person with an aggregate per stage, a per-person array of sessions and a row per stage
-- costs about four plain grouped passes, and reading the rows about one
-- (docs/BENCHMARKS.md). Each row: person_key, the 64-bit hash (cityHash64) of the user id
-- where known, else the anonymous id, which journeyd resolves to the person as
-- person_links.sql says; item, the event's time in seconds times 2^32 plus the low 32 bits
-- of cityHash64 of its session's channel (0 for an event outside any session or without a
-- channel; stage_channels.sql gives every channel's name beside the same bits); stages,
-- bit k-1 set when the event is of stage k.
--
-- Bots are excluded (is_bot = 0), as are identify and alias calls. An event stored twice (a
-- replay before the table's background merge removes the copy) counts once: journeyd takes
-- from a person's rows only the earliest time of each stage and the latest session event
-- before it, which a copy does not move. journeyd may keep each UTC day's rows (the day is
-- the time's, ts divided by 86400) and read only the days whose events changed ($days).
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $steps       the stage conditions as columns s1, s2, ...: toUInt8(1) AS s1,
--                toUInt8(name = 'purchase') AS s2
--   $stage_bits  the stage columns as one number: toUInt64(s1) + bitShiftLeft(toUInt64(s2), 1)
--   $days        which days of the period to read, by the column day: 1 for all, or
--                e.g. (day >= toDate('2026-01-03') AND day < toDate('2026-01-05'))
SELECT
    cityHash64(if(user_id != '', user_id, anon_id)) AS person_key,
    bitOr(bitShiftLeft(toUInt64(ts), 32), if(session_id = '' OR channel = '', toUInt64(0), bitAnd(cityHash64(channel), 4294967295))) AS item,
    $stage_bits AS stages
FROM
(
    SELECT user_id, anon_id, ts, toDate(ts, 'UTC') AS day, session_id, channel, $steps
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
        AND type NOT IN ('identify', 'alias') AND $days
)
