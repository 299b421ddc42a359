-- next_rows: the events next.sql orders per person, one row each, in no order: every event
-- of each person who did $after, with the person's 64-bit hash, the time, the event id,
-- the label (a page view by its path, any other event by its type and name) and whether it
-- is an $after event. journeyd gathers each person's rows into next.sql's answer
-- (sql/analysis/report/nextrows.go), leaving out the events before the person's first
-- $after event, which cannot follow one: on ClickHouse 18.16 next.sql's arrays per person,
-- of strings, filtered, deduplicated and sorted by lambdas, cost about twice what reading
-- these rows does, and its join with each person's first $after time about 1 s more than
-- this IN (docs/BENCHMARKS.md).
--
-- Bots are excluded (is_bot = 0), as are identify and alias calls. An event stored twice (a
-- replay before the table's background merge removes the copy) counts once: journeyd keeps
-- each person's events once per event id, as next.sql does. A person is resolved as
-- include/person_hashes.sql says (include/persons.sql's rule, as 64-bit hashes).
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $after       the condition of the event to follow: name = 'add_to_cart'
SELECT person_hash, toUInt32(ts) AS t, event_id, label, is_after
FROM
(
    SELECT
        if(person_id != 0, person_id, person_key) AS person_hash,
        ts, event_id, label, is_after
    FROM
    (
        SELECT
            cityHash64(if(user_id != '', user_id, anon_id)) AS person_key,
            ts, event_id,
            if(type = 'pageview', concat('pageview ', path), concat(type, ' ', name)) AS label,
            toUInt8($after) AS is_after
        FROM $db.events
        WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
            AND type NOT IN ('identify', 'alias')
    ) AS lhs
    -- include: person_hashes.sql
)
WHERE person_hash IN
(
    -- each person who did $after
    SELECT if(person_id != 0, person_id, person_key)
    FROM
    (
        SELECT cityHash64(if(user_id != '', user_id, anon_id)) AS person_key
        FROM $db.events
        WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
            AND type NOT IN ('identify', 'alias') AND ($after)
    ) AS lhs
    -- include: person_hashes.sql
)
