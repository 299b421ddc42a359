-- paths: the most common journeys (touchpoint keys in time order) to a conversion, with how
-- many converted along each, how many people followed it without converting, the conversion
-- rate, and the median days from the first touch to the conversion.
--
-- A touchpoint is the start of a session (its first event's key) or an email open, email
-- click or ad impression. A conversion's journey is the person's touchpoints before it,
-- within the lookback, after the previous conversion; a person's touchpoints after their
-- last conversion (or all of them, for people who never converted) form a null path. Bots
-- are excluded. An event stored twice (a replay before the table's background merge removes
-- the copy) counts once: each person's events are collected with groupUniqArray over their
-- event ids. A person is the user id where known, else the anonymous id, linked through
-- identify and alias events.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $to   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $key         the touchpoint key column: channel, source or campaign
--   $empty_key   what an empty key reads as, quoted: 'Direct'
--   $conversion  the conversion condition: name = 'purchase'
--   $value       the conversion value: revenue
--   $lookback    the lookback in seconds: 2592000 (30 days)
--   $top         how many paths: 20
SELECT
    arrayStringConcat(arrayMap(tp -> tp.3, journey), ' > ') AS path,
    sum(conv.4) AS conversions,
    sum(1 - conv.4) AS nulls,
    round(conversions / (conversions + nulls), 4) AS conversion_rate,
    round(quantileExactIf(0.5)((conv.1 - journey[1].1) / 86400, conv.4 = 1), 2) AS median_days
FROM
(
    SELECT
        person,
        arraySort(x -> x.1, groupUniqArray((toUInt32(ts), touch, key, is_conversion, value, event_id))) AS evs,
        arrayFilter((x, n) -> n = 1 AND x.2 != '', evs, arrayEnumerateUniq(arrayMap(x -> x.2, evs))) AS touches,
        arrayPushBack(arrayFilter(x -> x.4 = 1, evs), (toUInt32(0), '', '', toUInt8(0), toFloat64(0), '')) AS ends
    FROM
    (
        SELECT
            person, ts, event_id,
            if(type IN ('email_open', 'email_click', 'impression'), event_id, session_id) AS touch,
            if(k = '', $empty_key, k) AS key,
            toUInt8($conversion) AS is_conversion,
            if(is_conversion = 1, toFloat64($value), toFloat64(0)) AS value
        FROM
        (
            SELECT
                if(user_id != '', user_id, if(linked_user_id != '', linked_user_id, anon_id)) AS person,
                event_id, session_id, ts, type, name, path, `props.key`, `props.value`, revenue, k
            FROM
            (
                SELECT event_id, anon_id, user_id, session_id, ts, type, name, path,
                    `props.key`, `props.value`, revenue, $key AS k
                FROM $db.events
                WHERE site_id = $site AND ts >= $from AND ts < $to AND is_bot = 0
            )
            ANY LEFT JOIN
            (
                SELECT anon_id, any(user_id) AS linked_user_id
                FROM $db.events
                WHERE site_id = $site AND type IN ('identify', 'alias') AND user_id != '' AND is_bot = 0
                GROUP BY anon_id
            ) USING anon_id
        )
    )
    GROUP BY person
)
ARRAY JOIN
    ends AS conv,
    arrayEnumerate(ends) AS i
WHERE notEmpty(arrayFilter(tp -> tp.1 > if(i = 1, 0, ends[i - 1].1)
        AND (conv.4 = 0 OR (tp.1 <= conv.1 AND toInt64(tp.1) + $lookback >= conv.1)), touches) AS journey)
GROUP BY path
HAVING conversions > 0
ORDER BY conversions DESC, path
LIMIT $top
