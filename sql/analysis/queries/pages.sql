-- pages: the most viewed pages, by the people who viewed them: one row per path: dimension
-- ('page'), value (the path), people, pageviews. A page view is a pageview event; the top report's page dimension.
--
-- Bots are excluded. An event stored twice (a replay before the table's background merge
-- removes the copy) counts once: pageviews are counted by distinct event id, people by
-- distinct person. A person is resolved as include/persons.sql says: the user id where
-- known, else the user id the anonymous id was first linked to, an alias followed
-- (include/person_hashes.sql, on 64-bit hashes of the ids).
--
-- For speed on ClickHouse 18.16, event ids, people and paths are counted and grouped by
-- their 64-bit cityHash64 (exact but for a collision): uniqExact of strings and a GROUP BY
-- on a String key cost about three times as much on 10 million events (docs/BENCHMARKS.md).
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $limit       how many rows: 20
SELECT
    'page' AS dimension,
    any(path) AS value,
    uniqExact(person) AS people,
    uniqExact(id) AS pageviews
FROM
(
    SELECT
        if(person_id != 0, person_id, person_key) AS person,
        path, id
    FROM
    (
        SELECT cityHash64(if(user_id != '', user_id, anon_id)) AS person_key, path, cityHash64(event_id) AS id
        FROM $db.events
        WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
            AND type = 'pageview'
    ) AS lhs
    -- include: person_hashes.sql
)
GROUP BY cityHash64(path)
ORDER BY people DESC, pageviews DESC, value
LIMIT $limit
