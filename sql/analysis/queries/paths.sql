-- paths: the most common journeys (touchpoint keys in time order) to a conversion, with how
-- many converted along each, how many people followed it without converting, the conversion
-- rate, and the median days from the first touch to the conversion.
--
-- A touchpoint is a visit (a session with a pageview, screen or browser event: the key of its
-- first one, whichever device or id its events carry) or an email open, email click or ad
-- impression (include/touches.sql); server events, identify calls and conversions are never
-- touchpoints, and a conversion outside any session is credited to the touchpoints before it.
-- A conversion's journey is the person's touchpoints before it, within the lookback, after the
-- previous conversion; a person's touchpoints after their last conversion (or all of them, for
-- people who never converted) form a null path. Bots are excluded. An event stored twice (a
-- replay before the table's background merge removes the copy) counts once: a touchpoint is
-- its session's earliest visit event, and conversions are kept once per event id
-- (arrayDistinct). A person is resolved as include/persons.sql says: the user id where known,
-- else the user id the anonymous id was first linked to, an alias between user ids followed; a
-- person's anonymous browsing before sign-up belongs to them.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $key         the touchpoint key column: channel, source or campaign
--   $empty_key   what an empty key reads as, quoted: 'Direct'
--   $conversion  the conversion condition: name = 'purchase'
--   $value       the conversion value: revenue
--   $lookback    the lookback in seconds: 2592000 (30 days)
--   $limit         how many paths: 20
SELECT
    arrayStringConcat(keys, ' > ') AS path,
    sum(converted) AS conversions,
    sum((1 - converted) * people) AS nulls,
    round(conversions / (conversions + nulls), 4) AS conversion_rate,
    round(quantileExactIf(0.5)((conv_time - times[1]) / 86400, converted = 1), 2) AS median_days
FROM
(
    -- include: conversion_paths.sql
)
GROUP BY path
HAVING conversions > 0
ORDER BY conversions DESC, path
LIMIT $limit
