-- funnel_rows: what funnel.sql counts, by UTC day: one row per day and unit (the person key,
-- or the session) with an event read that day, in no order. journeyd keeps each day's rows
-- and counts the answer of funnel.sql from them when it keeps the days it has read
-- (sql/analysis/report/funneldays.go), the period is whole UTC days, no filter narrows the
-- events and the order is not strict: it resolves each person key through the person links
-- (person_links.sql), merges a person's rows of every day, takes the segment of the
-- person's first event of the period and rebuilds windowFunnel's level and the earliest
-- chain's step times as funnel.sql computes them.
--
-- Each row: day_number (days since 1970-01-01), unit_key (cityHash64 of the user id where
-- known, else of the anonymous id; or of the session id), first (the time of the unit's
-- first event read that day, in seconds), events (the day's events that match a step or
-- the exclusion, each as 10 hex digits: 1 << 32 + its seconds into the day << 15 + its
-- mask, where bit i-1 is set when the event matches step i and bit n (n steps) when it
-- matches the exclusion), then the breakdown values of that first event (s1, s2, ...).
-- The events come as one string rather than arrays, which journeyd's driver reads several
-- times slower. Bots are left out (is_bot = 0). An event stored twice counts once: its copy
-- gives its time and mask again, which journeyd drops, and moves no first event.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period, both at midnight UTC: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $days        which days of the period to read, by the column day: 1 for all, or
--                e.g. (day >= toDate('2026-01-03') AND day < toDate('2026-01-05'))
--   $person_key  the unit counted: if(user_id != '', user_id, anon_id) (people) or session_id
--   $breakdowns  the breakdown columns as d1, d2, ...: device AS d1, channel AS d2; or '' AS d1
--   $segments    the day's first event's value of each breakdown: argMin(d1, ts) AS s1, argMin(d2, ts) AS s2;
--                or '' AS s1 with no breakdown
--   $mask        the step and exclusion bits of an event:
--                toUInt32(type = 'pageview' AND path LIKE '/product/%') + 2 * toUInt32(name = 'purchase') + 4 * toUInt32(name = 'refund')
--   $keep        which events are read: 1 with a breakdown (the segment is the first
--                event's), else those of a step or the exclusion: ($mask) != 0
SELECT
    toUInt16(day) AS day_number,
    unit_key,
    toUInt32(min(ts)) AS first,
    arrayStringConcat(arrayMap(x -> hex(x), groupArrayIf(toUInt64(4294967296 + toUInt32(ts) % 86400 * 32768 + mask), mask != 0))) AS events,
    $segments
FROM
(
    SELECT toDate(ts, 'UTC') AS day, cityHash64($person_key) AS unit_key, ts, $breakdowns, toUInt32($mask) AS mask
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $days
        AND ($keep)
)
GROUP BY day, unit_key
