-- dropped: who did a step and did not do the next one within a given time after it: the
-- abandoned carts that trigger emails react to (added to cart, no purchase within 24 hours),
-- and the people behind a funnel's drop-off. One row per person, the latest drop-offs first:
-- person, user_id, anon_ids, last_seen, left_at, value, last_channel.
--
-- The person's latest $did event in the period is the one asked about (left_at): they are
-- listed when no $then event follows it within $within seconds, and only once those
-- $within seconds have passed before $until; someone whose latest $did is more recent may
-- still do $then and is not listed yet (as PostHog lists drop-offs only once the
-- conversion window has passed). So a person who did $then after an earlier $did but not
-- after the latest one is listed (that cart is abandoned), and a $then later than $within
-- after the latest $did (a purchase three days after the cart, with 24 hours) does not
-- keep anyone off the list. Unlike a funnel, the list does not ask for the funnel's first
-- step, nor count a person who once went on as converted: it asks about each person's
-- latest $did.
--
-- value is what they left, summed: over the $did events after their last $then before
-- left_at (all of them when there is none, so the items added since the last purchase),
-- each event's revenue, else its value property, else its price property times its
-- quantity property (1 when absent). last_seen is the person's latest event of any kind;
-- last_channel the channel of their latest visit, email or ad touch (server events,
-- identify, alias and group calls are not touches; of two in the same millisecond, the
-- greater channel name, so that every server answers alike). user_id is the person's user
-- id, empty for someone never identified; anon_ids the anonymous ids of their events in
-- the period.
--
-- Bots are excluded. An event stored twice (a replay before the table's background merge
-- removes the copy) counts once: the $did events are summed once per event id
-- (arrayDistinct), and the times, ids and channel are maxima, sets and latest values that
-- a copy does not change. A person is resolved as include/persons.sql says: the user id
-- where known, else the user id the anonymous id was first linked to, an alias between user
-- ids followed; a person's anonymous browsing before sign-up belongs to them.
--
-- How it stays cheap on 18.16: a first pass over the $did and $then events alone finds the
-- people listed, grouped by a 64-bit hash of their id (candidates below); only their events
-- are then grouped by person for the columns shown.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $filter      the dashboard's filter, a condition on the events read: 1 for none, or e.g.
--                session_id IN (SELECT session_id FROM ... HAVING argMinIf(channel, ...) = 'Email')
--   $did         the condition of the step they did: name = 'add_to_cart'
--   $then        the condition of the step they did not do after it: name IN ('purchase', 'order_paid')
--   $within      the time allowed for it, in seconds: 86400 (24 hours)
--   $limit       how many people at most: 1000
SELECT
    person,
    user_id,
    anon_ids,
    last_seen,
    left_at,
    value,
    last_channel
FROM
(
    SELECT
        person,
        max(known_user_id) AS user_id,
        arraySort(groupUniqArrayIf(anon_id, anon_id != '')) AS anon_ids,
        max(ts) AS last_seen,
        argMaxIf(channel, (ts, ts_ms, channel), is_touch = 1) AS last_channel,
        maxIf(toUInt32(ts), is_did = 1) AS left_t,
        groupArrayIf(toUInt32(ts), is_then = 1) AS thens,
        arrayReduce('max', arrayFilter(t -> t < left_t, thens)) AS last_then,
        arrayDistinct(groupArrayIf((toUInt32(ts), event_id, item_value), is_did = 1)) AS dids,
        round(arraySum(arrayMap(x -> x.3, arrayFilter(x -> x.1 > last_then, dids))), 2) AS value,
        toDateTime(left_t) AS left_at
    FROM
    (
        SELECT
            if(person_id != '', person_id, person_key) AS person,
            if(person_id != '', person_id, user_id) AS known_user_id,
            anon_id, ts, ts_ms, event_id, channel, is_did, is_then, is_touch, item_value
        FROM
        (
            SELECT
                if(user_id != '', user_id, anon_id) AS person_key,
                anon_id, user_id, ts, ts_ms, event_id, channel,
                toUInt8($did) AS is_did,
                toUInt8($then) AS is_then,
                toUInt8(type NOT IN ('server', 'identify', 'alias', 'group', 'leave') AND channel != '') AS is_touch,
                multiIf(revenue != 0, revenue,
                    has(`props.key`, 'value'), toFloat64OrZero(`props.value`[indexOf(`props.key`, 'value')]),
                    toFloat64OrZero(`props.value`[indexOf(`props.key`, 'price')])
                        * if(has(`props.key`, 'quantity'), toFloat64OrZero(`props.value`[indexOf(`props.key`, 'quantity')]), 1)) AS item_value
            FROM $db.events
            WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
        ) AS lhs
        -- include: persons.sql
        WHERE cityHash64(person) IN
        (
            -- candidates: the people who did $did and not $then within $within after their
            -- latest $did (the HAVING below, on their $did and $then events alone), those
            -- with the $limit latest drop-offs, ties at the last one included
            SELECT candidate
            FROM
            (
                SELECT groupArray(person_hash) AS hashes, groupArray(left_t) AS lefts,
                    arrayReverseSort(lefts)[$limit] AS cutoff
                FROM
                (
                    SELECT
                        person_hash,
                        maxIf(toUInt32(ts), is_did = 1) AS left_t,
                        groupArrayIf(toUInt32(ts), is_then = 1) AS thens
                    FROM
                    (
                        SELECT cityHash64(if(person_id != '', person_id, person_key)) AS person_hash, ts, is_did, is_then
                        FROM
                        (
                            SELECT
                                if(user_id != '', user_id, anon_id) AS person_key, ts,
                                toUInt8($did) AS is_did,
                                toUInt8($then) AS is_then
                            FROM $db.events
                            WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until AND is_bot = 0 AND $filter
                                AND (is_did = 1 OR is_then = 1)
                        ) AS lhs
                        -- include: persons.sql
                    )
                    GROUP BY person_hash
                    HAVING left_t > 0 AND left_t + $within <= toUInt32($until)
                        AND NOT arrayExists(t -> t >= left_t AND t <= left_t + $within, thens)
                )
            )
            ARRAY JOIN hashes AS candidate, lefts AS candidate_left
            WHERE candidate_left >= cutoff
        )
    )
    GROUP BY person
    HAVING left_t > 0 AND left_t + $within <= toUInt32($until)
        AND NOT arrayExists(t -> t >= left_t AND t <= left_t + $within, thens)
)
ORDER BY left_at DESC, person
LIMIT $limit
