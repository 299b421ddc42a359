-- time-to-convert: how long conversions take and how many touchpoints they need. One row
-- per whole number of days from the journey's first touch to the conversion and number of
-- touchpoints: days, touchpoints, conversions.
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
SELECT
    toUInt32(intDiv(conv_time - times[1], 86400)) AS days,
    length(keys) AS touchpoints,
    count() AS conversions
FROM
(
    -- include: conversion_paths.sql
)
WHERE converted = 1
GROUP BY days, touchpoints
ORDER BY days, touchpoints
