-- funnel_rows: what funnel.sql counts, by UTC day, in three kinds of rows in no order.
-- journeyd counts the answer of funnel.sql from them when the period is whole UTC days, no
-- filter narrows the events and the order is not strict, keeping each day's rows when it
-- keeps the days it has read (sql/analysis/report/funneldays.go): it resolves each person key
-- through the person links (person_links.sql), merges a person's rows of every day, takes
-- the segment of the person's first event of the period and rebuilds windowFunnel's level
-- and the earliest chain's step times as funnel.sql computes them.
--
-- Every row has kind, day_number (days since 1970-01-01), unit_key, t, combo and names:
--   kind 1, with a breakdown: per event, its unit (unit_key: cityHash64 of the user id
--     where known, else of the anonymous id; or of the session id), t its time (seconds)
--     and combo the hash of its breakdown values, which journeyd reduces to each unit's
--     first event of the day (sql/analysis/report/unitfirsts.go);
--   kind 2: per event that matches a step or the exclusion, its unit and t = its seconds
--     into the day << 15 | its mask (bit i-1 set when it matches step i, bit n of n steps
--     when it matches the exclusion);
--   kind 3, with a breakdown: per day and hash of breakdown values (combo), the values,
--     which the rows of kind 1 name by their hash alone: in names, each value as its
--     length in bytes, a colon and the value (one column, empty in the rows of kinds 1 and
--     2, which are most: three empty columns cost journeyd's driver a third of a second a
--     month at 10 million events).
-- Scalar rows rather than arrays per unit, and a hash rather than the values per event: the
-- driver reads arrays several times slower, and a string per event would cost sending and
-- decoding where a hash is 8 bytes (grouped here, argMin of strings cost ClickHouse twice
-- argMin of a hash). Bots are left out (is_bot = 0). An event stored twice counts once: its
-- copy gives a row of kind 1 and one of kind 2 again, which change neither the first event
-- nor windowFunnel nor the step times.
--
-- What each part costs ClickHouse 18.16 (10 million events, the dashboard's barriers by
-- device, server CPU): the rows of kind 1 are every event, 0.6 s. Grouped here by day and
-- unit (min(ts) and argMin of the hash, 2.5 million groups) they costed 2.5-2.6 s, most of
-- the query, even grouped by one UInt64 (the unit's hash with the day xor-ed into it; a key
-- of two columns hashes as 128 bits and costed 4.5 s): a table of 2.5 million groups does
-- not stay in the processor's caches, where journeyd's of one day does. The rows of
-- kind 2 filter on the mask before the unit's hash is taken (1.0 s; 1.2 s hashing every
-- event), and the rows of kind 3 read only ts and the breakdowns (0.4 s). One scan carrying
-- a unit's step events as an array instead (groupArrayIf, ARRAY JOIN-ed out) costed more
-- than the three: 4.3-4.6 s before the names and the ARRAY JOIN, the arrays of 2.5 million
-- groups about as much as a second scan; and the step events gathered in arrays per day and
-- hash of values, with the names (few groups), costed 2.1 s against 1.4 s for kinds 2 and 3
-- apart.
--
-- ClickHouse 18.16 runs each query on one thread here (max_threads 1: it takes this VM's
-- two cores for one physical core), so the three kinds ran one after the other on one
-- core: in the dashboard's first open the longest read, the last to end, with little else
-- left to run beside it (docs/BENCHMARKS.md, "funnel_rows in two queries"). journeyd
-- reads the rows of kind 2 in one query, the same whatever the breakdowns (so that a
-- funnel and barriers of the same steps share them), and, with a breakdown, those of kinds
-- 1 and 3 in another at the same time (funnelRowsParams): a kind left out is a constant
-- false condition, which reads nothing. A server that runs one query on several threads
-- answers the same.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period, both at midnight UTC: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $days        which days of the period to read, by the column day: 1 for all, or
--                e.g. (day >= toDate('2026-01-03') AND day < toDate('2026-01-05'))
--   $person_key  the unit counted: if(user_id != '', user_id, anon_id) (people) or session_id
--   $breakdowns  the breakdown columns as d1, d2, ...: device AS d1, channel AS d2; or '' AS d1
--   $combo       the hash of an event's breakdown values: cityHash64(d1, d2); or toUInt64(0)
--   $first_rows, $step_rows, $name_rows
--                which kinds of rows to read, 1 or 0 each: kind 1 ($first_rows) and kind 3
--                ($name_rows) only with a breakdown; journeyd asks for kind 2 alone in one
--                query and for kinds 1 and 3 in another run beside it (above)
--   $names       the values of a hash: concat(toString(length(any(d1))), ':', any(d1), toString(length(any(d2))), ':', any(d2));
--                or '' with no breakdown
--   $mask        the step and exclusion bits of an event:
--                1 * toUInt32(type = 'pageview' AND path LIKE '/product/%') + 2 * toUInt32(name = 'purchase') + 4 * toUInt32(name = 'refund')
SELECT toUInt8(1) AS kind, toUInt16(day) AS day_number, cityHash64(person) AS unit_key, toUInt32(ts) AS t, h AS combo, '' AS names
FROM
(
    SELECT toDate(ts, 'UTC') AS day, ts, $person_key AS person, $breakdowns, $combo AS h
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $days
        AND $first_rows
)
UNION ALL
SELECT toUInt8(2) AS kind, toUInt16(day) AS day_number, cityHash64(person) AS unit_key, toUInt32(toUInt32(ts) % 86400 * 32768 + mask) AS t, toUInt64(0) AS combo, '' AS names
FROM
(
    SELECT toDate(ts, 'UTC') AS day, ts, toUInt32($mask) AS mask, $person_key AS person
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $days
        AND mask != 0 AND $step_rows
)
UNION ALL
SELECT toUInt8(3) AS kind, toUInt16(day) AS day_number, toUInt64(0) AS unit_key, toUInt32(0) AS t, h AS combo, $names AS names
FROM
(
    SELECT toDate(ts, 'UTC') AS day, $breakdowns, $combo AS h
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $days
        AND $name_rows
)
GROUP BY day, h
