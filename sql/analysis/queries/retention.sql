-- retention: weekly cohorts of people by the date of their cohort event (their first
-- purchase, or first visit), and the share who come back (buy again, or do the return
-- event) within each return window after it. A window's cohorts count only the people whose
-- whole window lies inside the period, so late cohorts are not understated: a longer window
-- has fewer (or later-ending) cohorts than a shorter one. One row per window and cohort week:
-- within (the window in seconds), cohort_week (its Monday), people, returned, rate; in
-- order of window, then week. All windows are answered from one pass over the events: each
-- person's cohort time and their first return after it are found once, then paired with
-- every window.
--
-- Bots are excluded. An event stored twice (a replay before the table's background merge
-- removes the copy) counts once: people are counted, and a repeated event changes neither a
-- person's first date nor whether they returned. A person is resolved as include/persons.sql
-- says: the user id where known, else the user id the anonymous id was first linked to, an
-- alias between user ids followed; a person's anonymous browsing before sign-up belongs to
-- them.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $cohort      the cohort event's condition: name = 'purchase' (1 for any first visit)
--   $return      the return event's condition: name = 'purchase'
--   $touch_events   the table read: touch_events when the cohort and return events cannot be
--                views without a name (sql/analysis/report/touchevents.go), else events
--   $within      the return windows in seconds, an array: [604800] (7 days), or
--                [604800, 1209600, 2592000] (7, 14 and 30 days)
SELECT
    within,
    toMonday(toDateTime(t0)) AS cohort_week,
    count() AS people,
    sum(next_return != 0 AND next_return <= t0 + within) AS returned,
    round(returned / people, 4) AS rate
FROM
(
    SELECT
        person,
        minIf(toUInt32(ts), is_cohort = 1) AS t0,
        -- the person's first return after t0, 0 for none: they came back within a window
        -- exactly when it lies in it, so the windows need no array per person
        arrayReduce('min', arrayFilter(t -> t > t0, groupArrayIf(toUInt32(ts), is_return = 1))) AS next_return
    FROM
    (
        SELECT
            if(person_id != '', person_id, person_key) AS person,
            ts, is_cohort, is_return
        FROM
        (
            SELECT
                if(user_id != '', user_id, anon_id) AS person_key,
                ts, toUInt8($cohort) AS is_cohort, toUInt8($return) AS is_return
            FROM $db.$touch_events
            WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
        ) AS lhs
        -- include: persons.sql
    )
    GROUP BY person
    HAVING countIf(is_cohort = 1) > 0
)
ARRAY JOIN $within AS within
-- a person is in a window's cohort once that window has fully passed
WHERE t0 + within <= toUInt32($until)
GROUP BY within, cohort_week
ORDER BY within, cohort_week
