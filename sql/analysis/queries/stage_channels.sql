-- stage_channels: every channel name of the site's events in the period, per UTC day
-- (day_number, days since 1970-01-01: journeyd keeps each day's names beside its rows of
-- stage_rows.sql), with the low 32 bits of its cityHash64 (channel_bits), which
-- stage_rows.sql gives each event's session channel as: journeyd turns those bits back into
-- names, and orders the channels by name where stages.sql orders them (a tie of seconds, a
-- tie in the top five). Read after stage_rows.sql, so that it holds every channel that read
-- met. Bots are excluded
-- (is_bot = 0); a name stored twice counts once (GROUP BY).
-- The names are grouped by day and the name's cityHash64, a key of fixed size, not by day and
-- name: 18.16 groups a String key by copying each row's key into its arena, and the query cost
-- 0.55-0.75 s of ClickHouse's CPU at 10 million events grouped by name, 0.47-0.53 s by hash
-- (four runs each alternated; docs/BENCHMARKS.md). The rows are the same: two names share a
-- row only when their 64-bit hashes are equal, and then their channel_bits, the 32 bits
-- journeyd tells channels apart by, are equal too (one name of the two stands for both).
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $days        which days of the period to read, by the column day: 1 for all, or
--                e.g. (day >= toDate('2026-01-03') AND day < toDate('2026-01-05'))
SELECT toUInt16(day) AS day_number, any(channel) AS channel, bitAnd(h, 4294967295) AS channel_bits
FROM
(
    SELECT toDate(ts, 'UTC') AS day, channel, cityHash64(channel) AS h
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND channel != '' AND $days
)
GROUP BY day, h
