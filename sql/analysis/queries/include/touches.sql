-- touches: the touchpoint model of every report (DESIGN §6, §8), included where a query says
-- `-- include: touches.sql`. One row per touch group of the site's events in the period,
-- bots left out:
-- - a session (touch = its session id): a touchpoint (visit = 1) when one of its events is
--   a visit (a pageview, screen, browser event or leave); its time is that of its earliest
--   visit event and its key that event's $key (the earliest by time in milliseconds, then by
--   a hash of the event id: the order session_aggregates keeps, include/session_touches.sql). Server events, identify, alias and group
--   calls that joined the session belong to it but are never a touchpoint themselves;
-- - an email open, email click or ad impression (touch = its event id): a touchpoint of
--   its own;
-- - the events outside any session (no session id: server events, identify, alias, group
--   with no open session): one group per user id (or anonymous id), touch = '', visit = 0:
--   never a visit, never a touchpoint, never Direct; their conversions count for the person.
-- session is 1 for a session that is a touchpoint (a visit), 0 for the rest.
-- person_key is a 64-bit hash (cityHash64) of the group's user id where one of its events
-- carries one, else of its anonymous id (where a group's events carry several, the one with
-- the greatest hash): the column person_hashes.sql resolves to the person. Hashes rather
-- than the ids themselves: carrying the id strings through the grouping cost 18.16 half
-- of the attribution's server time. convs are the group's conversions as
-- (time, value, event id), each event id once; conv_t and conv_v their times and values.
-- The groups are keyed by a 64-bit hash of (touch, outside): on 18.16 a hash table of
-- numbers groups the millions of sessions about twice as fast as one of their id strings.
SELECT
    if(max(user_hash) != 0, max(user_hash), max(anon_hash)) AS person_key,
    toUInt8(max(in_touch) = 1 AND max(is_visit) = 1) AS visit,
    toUInt8(visit = 1 AND max(is_email) = 0) AS session,
    minIf(toUInt32(ts), is_visit = 1) AS t,
    argMinIf(touch_key, visit_order, is_visit = 1) AS k,
    arrayDistinct(groupArrayIf((toUInt32(ts), touch_value, event_id), is_conversion = 1)) AS convs,
    arrayMap(x -> x.1, convs) AS conv_t,
    arrayMap(x -> x.2, convs) AS conv_v
FROM
(
    SELECT
        ts, event_id,
        bitOr(bitShiftLeft(toUInt64(ts) * 1000 + ts_ms, 20), bitAnd(cityHash64(event_id), 1048575)) AS visit_order,
        if(user_id != '', cityHash64(user_id), 0) AS user_hash,
        cityHash64(anon_id) AS anon_hash,
        if($key = '', $empty_key, $key) AS touch_key,
        toFloat64($value) AS touch_value,
        toUInt8(type IN ('email_open', 'email_click', 'impression')) AS is_email,
        toUInt8(is_email = 1 OR session_id != '') AS in_touch,
        toUInt8(type IN ('pageview', 'screen', 'event', 'leave', 'email_open', 'email_click', 'impression')) AS is_visit,
        toUInt8($conversion) AS is_conversion,
        cityHash64(if(is_email = 1, event_id, session_id), if(in_touch = 1, '', if(user_id != '', user_id, anon_id))) AS touch_hash
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
)
GROUP BY touch_hash
