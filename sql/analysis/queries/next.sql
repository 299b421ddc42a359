-- next: what people do right after an event: the next touchpoint of the same person (a page
-- view by its path, any other event by its type and name), or (end) when nothing followed
-- in the period. Identify and alias calls are not actions and are skipped. One row per next
-- action: next, times, people.
--
-- Bots are excluded. An event stored twice (a replay before the table's background merge
-- removes the copy) counts once: each person's events are kept once per event id
-- (arrayEnumerateUniq), in the order of their time, then event id. A person is resolved as
-- include/persons.sql says: the user id where known, else the user id the anonymous id was
-- first linked to, an alias between user ids followed; a person's anonymous browsing before
-- sign-up belongs to them.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $after       the condition of the event to follow: name = 'add_to_cart'
--   $limit         how many rows: 20
--
-- How it stays cheap on 18.16: only the events of people who did $after, from their first
-- $after event on, are grouped (the earlier ones cannot follow one), people are grouped by
-- a 64-bit hash of their id, their events go into separate arrays sorted by (time, event
-- id) rather than into an array of tuples, and people are counted per next action by the
-- first time it occurs in each person's list instead of a uniqExact over their ids.
--
-- journeyd itself gives this query's answer from next_rows.sql (the rows this query groups,
-- in no order), ordering and counting each person's events in Go
-- (sql/analysis/report/nextrows.go): on 18.16 the arrays per person below cost about as
-- much again as reading those rows (docs/BENCHMARKS.md). This file stays the reference an
-- analyst runs by hand.
SELECT
    next,
    count() AS times,
    countIf(first = 1) AS people
FROM
(
    SELECT
        person_hash,
        groupArray(ts) AS times_all,
        groupArray(event_id) AS ids_all,
        groupArray(label) AS labels_all,
        groupArray(is_after) AS marks_all,
        arrayEnumerateUniq(ids_all) AS copy,
        arrayFilter((t, c) -> c = 1, times_all, copy) AS times_once,
        arrayFilter((e, c) -> c = 1, ids_all, copy) AS ids_once,
        arraySort((l, t, e) -> (t, e), arrayFilter((l, c) -> c = 1, labels_all, copy), times_once, ids_once) AS labels,
        arraySort((m, t, e) -> (t, e), arrayFilter((m, c) -> c = 1, marks_all, copy), times_once, ids_once) AS marks,
        arrayFilter((l, m) -> m = 1, arrayPushBack(arrayPopFront(labels), '(end)'), marks) AS nexts
    FROM
    (
        SELECT person_hash, ts, event_id, label, is_after
        FROM
        (
            SELECT
                cityHash64(if(person_id != '', person_id, person_key)) AS person_hash,
                ts, event_id, label, is_after
            FROM
            (
                SELECT
                    if(user_id != '', user_id, anon_id) AS person_key,
                    ts, event_id,
                    if(type = 'pageview', concat('pageview ', path), concat(type, ' ', name)) AS label,
                    toUInt8($after) AS is_after
                FROM $db.events
                WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
                    AND type NOT IN ('identify', 'alias')
            ) AS lhs
            -- include: persons.sql
        ) AS events_of_people
        ALL INNER JOIN
        (
            -- each person who did $after, with the time of their first $after event
            SELECT person_hash, min(ts) AS first_after
            FROM
            (
                SELECT
                    cityHash64(if(person_id != '', person_id, person_key)) AS person_hash,
                    ts
                FROM
                (
                    SELECT if(user_id != '', user_id, anon_id) AS person_key, ts
                    FROM $db.events
                    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
                        AND type NOT IN ('identify', 'alias') AND ($after)
                ) AS lhs
                -- include: persons.sql
            )
            GROUP BY person_hash
        ) AS doers USING person_hash
        WHERE ts >= first_after
    )
    GROUP BY person_hash
)
ARRAY JOIN nexts AS next, arrayEnumerateUniq(nexts) AS first
GROUP BY next
ORDER BY times DESC, next
LIMIT $limit
