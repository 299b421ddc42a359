-- stage_channels: every channel name of the site's events in the period, per UTC day
-- (day_number, days since 1970-01-01: journeyd keeps each day's names beside its rows of
-- stage_rows.sql), with the low 32 bits of its cityHash64 (channel_bits), which
-- stage_rows.sql gives each event's session channel as: journeyd turns those bits back into
-- names, and orders the channels by name where stages.sql orders them (a tie of seconds, a
-- tie in the top five). Read after stage_rows.sql, so that it holds every channel that read
-- met. Bots are excluded
-- (is_bot = 0); a name stored twice counts once (GROUP BY).
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $days        which days of the period to read, by the column day: 1 for all, or
--                e.g. (day >= toDate('2026-01-03') AND day < toDate('2026-01-05'))
SELECT toUInt16(day) AS day_number, channel, bitAnd(cityHash64(channel), 4294967295) AS channel_bits
FROM
(
    SELECT toDate(ts, 'UTC') AS day, channel
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND channel != '' AND $days
)
GROUP BY day, channel
