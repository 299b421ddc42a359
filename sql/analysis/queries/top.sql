-- top: the top values of several session dimensions at once, for the dashboard's top lists:
-- one grouping of the events into sessions instead of one a dimension. A session (the events of one session
-- id, if one of them is a visit: a pageview, screen, browser event or leave) takes each
-- dimension's value from its first visit event (by time in milliseconds, then by a hash of
-- its event id, as session_aggregates orders them: top_sessions.sql, which journeyd runs
-- instead where it can, gives the same answers), and counts for that value with its person,
-- its conversions and their value. One row per dimension and value, the $limit values with
-- the most sessions of each dimension: dimension, value, sessions, people, conversions,
-- revenue.
--
-- Bots are excluded. Email opens and clicks and ad impressions are touches of their own, not
-- part of a session (include/touches.sql). An event stored twice (a replay before the
-- table's background merge removes the copy) counts once: a session is one group, and its
-- conversions are kept once per event id (arrayDistinct). A person is resolved as
-- include/persons.sql says: the user id where known, else the user id the anonymous id was
-- first linked to, an alias followed; a session's person key is a 64-bit hash of its user
-- id, else of its anonymous id, as include/touches.sql takes it (where its events carry
-- several, the greatest hash), resolved by include/person_hashes.sql.
--
-- How it stays cheap on ClickHouse 18.16 (docs/BENCHMARKS.md, the overview section): the
-- events are grouped by a 64-bit hash of the session id, not the string; a session keeps
-- one number for its first visit, the hash of that event's dimension columns (combo),
-- instead of the columns themselves (argMinIf of a tuple of strings is the costliest part
-- of the old query); sessions are then grouped by combo, with their people as a uniqExact
-- state of the person's hash; only then is each combo given its dimensions' values, read
-- from the visit events grouped by combo (a few rows), and expanded to one row per
-- dimension. Hashes are exact but for a collision.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $columns     the columns of the dimensions, in order: channel, device
--   $dimensions  each dimension's name and its value, from first, the first visit event's
--                value of each column (any of the combo's): ('channel', if(first.1 = '',
--                'Direct', first.1)), ('device', if(first.2 = '', '(none)', first.2))
--   $conversion  the conversion condition: name = 'purchase'
--   $value       the conversion value: revenue
--   $limit       how many values of each dimension: 10
SELECT
    dimension,
    any(dimension_value) AS value,
    sum(combo_sessions) AS sessions,
    uniqExactMerge(combo_people) AS people,
    sum(combo_conversions) AS conversions,
    round(sum(combo_revenue), 2) AS revenue
FROM
(
    SELECT combo_sessions, combo_people, combo_conversions, combo_revenue, keys
    FROM
    (
        SELECT
            combo,
            count() AS combo_sessions,
            uniqExactState(person) AS combo_people,
            sum(length(convs)) AS combo_conversions,
            sum(arraySum(arrayMap(x -> x.2, convs))) AS combo_revenue
        FROM
        (
            SELECT
                if(person_id != 0, person_id, person_key) AS person,
                combo, convs
            FROM
            (
                SELECT
                    max(if(user_id != '', cityHash64(user_id), 0)) AS user_key,
                    if(user_key != 0, user_key, max(cityHash64(anon_id))) AS person_key,
                    argMinIf(cityHash64($columns), bitOr(bitShiftLeft(toUInt64(ts) * 1000 + ts_ms, 20), bitAnd(cityHash64(event_id), 1048575)),
                        type IN ('pageview', 'screen', 'event', 'leave')) AS combo,
                    arrayDistinct(groupArrayIf((toUInt32(ts), toFloat64($value), event_id), $conversion)) AS convs
                FROM $db.events
                WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
                    AND session_id != '' AND type NOT IN ('email_open', 'email_click', 'impression')
                GROUP BY cityHash64(session_id)
                HAVING max(type IN ('pageview', 'screen', 'event', 'leave')) = 1
            ) AS lhs
            -- include: person_hashes.sql
        )
        GROUP BY combo
    ) AS sessions
    ANY LEFT JOIN
    (
        SELECT cityHash64($columns) AS combo, any(tuple($columns)) AS first, [$dimensions] AS keys
        FROM $db.events
        WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0
            AND session_id != '' AND type IN ('pageview', 'screen', 'event', 'leave')
        GROUP BY combo
    ) AS combos USING combo
)
ARRAY JOIN
    arrayMap(k -> k.1, keys) AS dimension,
    arrayMap(k -> k.2, keys) AS dimension_value
GROUP BY dimension, cityHash64(dimension_value)
ORDER BY dimension, sessions DESC, value
LIMIT $limit BY dimension
