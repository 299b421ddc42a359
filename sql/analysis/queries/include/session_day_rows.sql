-- session_day_rows: a row per session and UTC day of the period ($days of it), from
-- session_aggregates (migrations 0025-0026), read with FINAL and finalizeAggregation: the
-- group's hash (touch_hash), its person's hashes and first visit leaving out bots and email
-- events, that visit's time (visit_t, 0: none) and its 0xFF-joined fields (visit), and the
-- day. include/event_day_rows.sql gives the same rows from
-- the events. The table's key is (site_id, session_id, date): a day's rows lie in every part
-- of the site's month, so reading a few days costs about what reading the month does.
SELECT
    cityHash64(session_id, '') AS touch_hash,
    finalizeAggregation(user_hash_state) AS user_hash,
    finalizeAggregation(anon_hash_state) AS anon_hash,
    finalizeAggregation(visit_t_state) AS visit_t,
    finalizeAggregation(visit_state) AS visit,
    date AS day
FROM $db.session_aggregates FINAL
WHERE site_id = $site AND date >= toDate($from, 'UTC') AND date < toDate($until, 'UTC') AND $days
