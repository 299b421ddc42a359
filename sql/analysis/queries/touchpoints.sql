-- touchpoints: every person's touchpoints and conversions, one row per touch group of
-- include/touches.sql, ordered by person: the rows journeyd assembles into journeys for
-- attribution, paths and time-to-convert. It cuts them as include/journeys.sql and
-- include/conversion_paths.sql say, in Go, one person at a time: on ClickHouse 18.16 the
-- per-person arrays of those fragments cost more than reading and grouping the events
-- (docs/BENCHMARKS.md). Run by hand it is the input any journey tool reads.
--
-- person is a 64-bit hash of the person id (include/person_hashes.sql: the user id where known,
-- else the user id the anonymous id was first linked to, an alias followed); visit is 1
-- for a touchpoint, at time t (seconds) with key k; conv_t and conv_v are the group's
-- conversions (times and values), each event id once, so that an event stored twice (a
-- replay) counts once. Bots are excluded (is_bot = 0). Groups that are neither a
-- touchpoint nor hold a conversion are left out.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none
--   $key         the touchpoint key column: channel, source or campaign
--   $empty_key   what an empty key reads as, quoted: 'Direct'
--   $conversion  the conversion condition: name = 'purchase'
--   $value       the conversion value: revenue
SELECT
    if(person_id != 0, person_id, person_key) AS person,
    visit, t, k, conv_t, conv_v
FROM
(
    -- include: touches.sql
) AS lhs
-- include: person_hashes.sql
WHERE visit = 1 OR notEmpty(conv_t)
ORDER BY person
