-- next: what people do right after an event: the next touchpoint of the same person (a page
-- view by its path, any other event by its type and name), or (end) when nothing followed
-- in the period. Identify and alias calls are not actions and are skipped. One row per next
-- action: next, times, people.
--
-- Bots are excluded. An event stored twice (a replay before the table's background merge
-- removes the copy) counts once: each person's events are kept once per event id
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
--   $after       the condition of the event to follow: name = 'add_to_cart'
--   $limit         how many rows: 20
SELECT
    next,
    count() AS times,
    uniqExact(person) AS people
FROM
(
    SELECT
        person,
        arrayMap(x -> x.2, arraySort(x -> (x.1, x.4), arrayDistinct(groupArray((ts, label, is_after, event_id))))) AS labels,
        arrayMap(x -> x.3, arraySort(x -> (x.1, x.4), arrayDistinct(groupArray((ts, label, is_after, event_id))))) AS marks,
        arrayFilter((i, m) -> m = 1, arrayEnumerate(marks), marks) AS idx,
        arrayMap(i -> if(i < length(labels), labels[i + 1], '(end)'), idx) AS nexts
    FROM
    (
        SELECT
            if(person_id != '', person_id, person_key) AS person,
            ts, event_id, label, is_after
        FROM
        (
            SELECT
                if(user_id != '', user_id, anon_id) AS person_key,
                ts, event_id,
                if(type = 'pageview', concat('pageview ', path), concat(type, ' ', name)) AS label,
                toUInt8($after) AS is_after
            FROM $db.events
            WHERE site_id = $site AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
                AND type NOT IN ('identify', 'alias')
        ) AS lhs
        -- include: persons.sql
    )
    GROUP BY person
)
ARRAY JOIN nexts AS next
GROUP BY next
ORDER BY times DESC, next
LIMIT $limit
