-- journeys: included by conversion_paths.sql (and through it by attribution.sql, paths.sql
-- and time-to-convert.sql) where it says `-- include: journeys.sql` (paste this file there,
-- then replace the placeholders as the including query's header says). One row per person: their touchpoints in time order,
-- tt (times) and tk (keys), and their conversions in time order, ends_t (times) and ends_v
-- (values), each closed by a 0 standing for the null path after the last conversion.
--
-- A touchpoint is a session's earliest event (its time and key) or an email open, email
-- click or ad impression; a session belongs to its user id if any of its events carries
-- one. Conversions are kept once per event id (arrayDistinct on (time, value, event id)).
-- Touchpoints and conversions are each collected as one array of tuples and sorted by time
-- (then key, or value): one aggregate state per kind instead of two.
SELECT
    person,
    arraySort(groupArrayIf((t, k), touch != '')) AS touches,
    arrayMap(x -> x.1, touches) AS tt,
    arrayMap(x -> x.2, touches) AS tk,
    arraySort(groupArrayArray(convs)) AS sorted_convs,
    arrayPushBack(arrayMap(x -> x.1, sorted_convs), toUInt32(0)) AS ends_t,
    arrayPushBack(arrayMap(x -> x.2, sorted_convs), toFloat64(0)) AS ends_v
FROM
(
    SELECT
        if(known_user_id != '', known_user_id, if(linked_user_id != '', linked_user_id, anon_id)) AS person,
        touch, t, k, convs
    FROM
    (
        SELECT
            anon_id,
            if(type IN ('email_open', 'email_click', 'impression'), event_id, session_id) AS touch,
            max(user_id) AS known_user_id,
            min(toUInt32(ts)) AS t,
            argMin(if($key = '', $empty_key, $key), ts) AS k,
            arrayDistinct(groupArrayIf((toUInt32(ts), toFloat64($value), event_id), $conversion)) AS convs
        FROM $db.events
        WHERE site_id = $site AND ts >= $from AND ts < $until AND is_bot = 0
        GROUP BY anon_id, touch
    ) AS lhs
    ANY LEFT JOIN
    (
        SELECT anon_id, linked_user_id
        FROM $db.identity_links_v
        WHERE site_id = $site
    ) AS rhs USING anon_id
)
GROUP BY person
