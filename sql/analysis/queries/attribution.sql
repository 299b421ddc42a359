-- attribution: the journeys attribution models credit. One row per distinct path: the
-- touchpoint keys in time order (keys), for converting journeys their ages in days before
-- the conversion (ages, rounded to 0.1 day), how many journeys along it converted
-- (conversions) and were worth (value), and how many did not (nulls). journeyd hands the
-- rows to its attribution engine (sql/analysis/attribution); run by hand it is the path table that
-- R's ChannelAttribution or any other tool reads.
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
SELECT path_keys AS keys, path_ages AS ages, conversions, value, nulls
FROM
(
    SELECT
        any(keys) AS path_keys,
        any(ages) AS path_ages,
        sum(converted) AS conversions,
        sum(conv_value) AS value,
        sum((1 - converted) * people) AS nulls
    FROM
    (
        -- include: conversion_paths.sql
    )
    GROUP BY cityHash64(keys), cityHash64(ages)
)
