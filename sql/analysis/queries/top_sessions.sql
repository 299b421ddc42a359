-- top_sessions: the answers of top.sql (the top values of several session dimensions at
-- once), read from a row per session and day in session_aggregates instead of from the
-- events, for a period of whole UTC days without a filter, when the dimensions are among
-- those of the first visit the table keeps (channel, source, medium, campaign, entry_page,
-- country, device, browser). One row per dimension and value, the $limit values with the
-- most sessions of each dimension: dimension, value, sessions, people, conversions,
-- revenue. journeyd itself counts the same rows from the touch groups of touch_rows.sql
-- keyed by the whole first visit (sql/analysis/report/sessiontop.go), which costs
-- ClickHouse a third of this query's GROUP BY of the sessions; a test holds the two to the
-- same rows (TestTopSessionsSQLAgrees).
--
-- As top.sql: a session counts if one of its events in the period that is not a bot's is a
-- visit (a pageview, screen, browser event or leave), and takes each dimension's value from
-- the first such visit (by time in milliseconds, then by a hash of the event id); its person
-- is the hash of its user id, else of its anonymous id (the greatest where its events carry
-- several), over its events that are neither a bot's nor an email open, email click or
-- impression, resolved by include/person_hashes.sql; its conversions are its conversion
-- events in the period (is_bot = 0), each event id kept once (arrayDistinct), so that an
-- event stored twice counts once (the table's states count it once too).
--
-- session_aggregates (migrations 0025, 0026) holds, per site, session and UTC day:
-- visit_state, the day's first visit (a bot's ordered after every other) as channel,
-- source, medium, campaign, referrer, path, country, device and browser joined by the byte
-- 0xFF; visit_t_state, the time of the day's first visit that is not a bot's (0: none);
-- user_hash_state and anon_hash_state, the greatest hash of the user ids (0: none) and of the
-- anonymous ids of the day's events that are neither a bot's nor an email open, click or
-- impression (0: no such event). A session crossing midnight has a row per day; its rows are
-- merged here, its first visit being the row with the least visit time that is not 0.
--
-- How it stays cheap on ClickHouse 18.16 (docs/BENCHMARKS.md, "Issue 17: sessions read as
-- rows"): FINAL with finalizeAggregation reads the states as plain values, far cheaper than
-- GROUP BY with -Merge; the sessions are grouped by a 64-bit hash of the session id, with
-- numbers only: a row's first visit is the hash of its string (combo; 0 for a row without a
-- visit that is not a bot's), as a string in 2.5 million aggregate states costs more than
-- reading the table again; a session's conversions join it in the same grouping (UNION
-- ALL), not by a JOIN; the sessions are then grouped by combo, and each combo finds its
-- string in a second read of the rows without FINAL (any row of a combination holds its
-- string), grouped by combo, so that the string is split into its fields once per
-- combination, not once per session. Hashes are exact but for a collision, as in top.sql.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period, both at 00:00:00 UTC: toDateTime('2026-01-01 00:00:00', 'UTC'),
--                toDateTime('2026-02-01 00:00:00', 'UTC')
--   $dimensions  each dimension's name and its value, from the fields of the first visit,
--                first (1 channel, 2 source, 3 medium, 4 campaign, 5 referrer, 6 path,
--                7 country, 8 device, 9 browser): ('channel', if(first[1] = '', 'Direct',
--                first[1])), ('device', if(first[8] = '', '(none)', first[8]))
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
    SELECT
        combo_sessions, combo_people, combo_conversions, combo_revenue,
        splitByChar('\xff', visit) AS first,
        [$dimensions] AS keys
    FROM
    (
        SELECT
            combo,
            count() AS combo_sessions,
            uniqExactState(if(person_id != 0, person_id, person_key)) AS combo_people,
            sum(session_conversions) AS combo_conversions,
            sum(session_revenue) AS combo_revenue
        FROM
        (
            SELECT
                if(max(user_hash) != 0, max(user_hash), max(anon_hash)) AS person_key,
                argMin(visit_hash, if(visit_t = 0, 4294967295, visit_t)) AS combo,
                sum(conversions) AS session_conversions,
                sum(revenue) AS session_revenue
            FROM
            (
                SELECT
                    session, visit_hash, visit_t, user_hash, anon_hash,
                    materialize(toUInt64(0)) AS conversions, materialize(toFloat64(0)) AS revenue
                FROM
                (
                    SELECT
                        cityHash64(session_id) AS session,
                        finalizeAggregation(visit_t_state) AS visit_t,
                        if(visit_t = 0, 0, cityHash64(finalizeAggregation(visit_state))) AS visit_hash,
                        finalizeAggregation(user_hash_state) AS user_hash,
                        finalizeAggregation(anon_hash_state) AS anon_hash
                    FROM $db.session_aggregates FINAL
                    WHERE site_id = $site AND date >= toDate($from, 'UTC') AND date < toDate($until, 'UTC')
                )
                WHERE anon_hash != 0
                UNION ALL
                SELECT
                    session, materialize(toUInt64(0)) AS visit_hash, materialize(toUInt32(0)) AS visit_t,
                    materialize(toUInt64(0)) AS user_hash, materialize(toUInt64(0)) AS anon_hash,
                    length(convs) AS conversions, arraySum(arrayMap(x -> x.2, convs)) AS revenue
                FROM
                (
                    SELECT
                        cityHash64(session_id) AS session,
                        arrayDistinct(groupArray((toUInt32(ts), toFloat64($value), event_id))) AS convs
                    FROM $db.events
                    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0
                        AND session_id != '' AND type NOT IN ('email_open', 'email_click', 'impression')
                        AND $conversion
                    GROUP BY session
                )
            )
            GROUP BY session
            HAVING combo != 0
        ) AS lhs
        -- include: person_hashes.sql
        GROUP BY combo
    ) AS sessions
    ANY LEFT JOIN
    (
        SELECT cityHash64(visit_text) AS combo, any(visit_text) AS visit
        FROM
        (
            SELECT finalizeAggregation(visit_state) AS visit_text
            FROM $db.session_aggregates
            WHERE site_id = $site AND date >= toDate($from, 'UTC') AND date < toDate($until, 'UTC')
        )
        GROUP BY combo
    ) AS visits USING combo
)
ARRAY JOIN
    arrayMap(k -> k.1, keys) AS dimension,
    arrayMap(k -> k.2, keys) AS dimension_value
GROUP BY dimension, cityHash64(dimension_value)
ORDER BY dimension, sessions DESC, value
LIMIT $limit BY dimension
