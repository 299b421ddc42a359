-- channels: sessions, people, conversions and revenue by channel. A session (a visit,
-- include/touches.sql) belongs to the channel of its first visit event; the conversions made
-- inside it, whatever their type, count for that channel with their value. Email opens and
-- clicks and ad impressions are touches, not visits, and are left out; conversions outside
-- any session (a server purchase after the visit ended) are not in this table: the
-- attribution report credits them to the touchpoints before them.
--
-- Bots are excluded. An event stored twice (a replay before the table's background merge
-- removes the copy) counts once: a session's conversions are kept once per event id
-- (arrayDistinct). A person is resolved as include/persons.sql says: the user id where
-- known, else the user id the anonymous id was first linked to, an alias followed; people
-- are counted by a 64-bit hash of that id (uniqExact of strings costs 18.16 a third of the
-- query).
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $conversion  the conversion condition: name = 'purchase'
--   $value       the conversion value: revenue
--   $key         the session's key: channel
--   $empty_key   the key of a visit without one: 'Direct'
SELECT
    k AS channel,
    count() AS sessions,
    uniqExact(person) AS people,
    sum(length(convs)) AS conversions,
    round(sum(arraySum(arrayMap(x -> x.2, convs))), 2) AS revenue
FROM
(
    SELECT
        if(person_id != 0, person_id, person_key) AS person,
        session, k, convs
    FROM
    (
        -- include: touches.sql
    ) AS lhs
    -- include: person_hashes.sql
)
WHERE session = 1
GROUP BY channel
ORDER BY sessions DESC, channel
