-- top: the top values of several session dimensions at once, for the dashboard's top lists:
-- one pass over the events instead of one a dimension. A session (the events of one session
-- id, if one of them is a visit: a pageview, screen, browser event or leave) takes each
-- dimension's value from its first visit event (one argMinIf of all the columns), and counts
-- for that value with its
-- person, its conversions and their value. One row per dimension and value, the $limit
-- values with the most sessions of each dimension: dimension, value, sessions, people,
-- conversions, revenue.
--
-- Bots are excluded. Email opens and clicks and ad impressions are touches of their own, not
-- part of a session (include/touches.sql). An event stored twice (a replay before the
-- table's background merge removes the copy) counts once: a session is one group, and its
-- conversions are kept once per event id (arrayDistinct); people are counted by a 64-bit hash
-- of the person (cheaper than the strings, exact but for a collision). A person is resolved as
-- include/persons.sql says: the user id where known, else the user id the anonymous id was
-- first linked to, an alias followed.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $columns     the columns of the dimensions, in order: channel, device
--   $dimensions  each dimension's name and its value, from first, the session's first visit
--                event's columns: ('channel', if(first.1 = '', 'Direct', first.1)),
--                ('device', if(first.2 = '', '(none)', first.2))
--   $conversion  the conversion condition: name = 'purchase'
--   $value       the conversion value: revenue
--   $limit       how many values of each dimension: 10
SELECT
    dimension,
    value,
    count() AS sessions,
    uniqExact(cityHash64(person)) AS people,
    sum(length(convs)) AS conversions,
    round(sum(arraySum(arrayMap(x -> x.2, convs))), 2) AS revenue
FROM
(
    SELECT
        if(person_id != '', person_id, person_key) AS person,
        keys, convs
    FROM
    (
        SELECT
            session_id,
            if(max(user_id) != '', max(user_id), max(anon_id)) AS person_key,
            argMinIf(tuple($columns), ts, type IN ('pageview', 'screen', 'event', 'leave')) AS first,
            [$dimensions] AS keys,
            arrayDistinct(groupArrayIf((toUInt32(ts), toFloat64($value), event_id), $conversion)) AS convs
        FROM $db.events
        WHERE site_id = $site AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
            AND session_id != '' AND type NOT IN ('email_open', 'email_click', 'impression')
        GROUP BY session_id
        HAVING max(type IN ('pageview', 'screen', 'event', 'leave')) = 1
    ) AS lhs
    -- include: persons.sql
)
ARRAY JOIN
    arrayMap(k -> k.1, keys) AS dimension,
    arrayMap(k -> k.2, keys) AS value
GROUP BY dimension, value
ORDER BY dimension, sessions DESC, value
LIMIT $limit BY dimension
