-- channels: sessions, people, conversions and revenue by channel. A session belongs to the
-- channel of its first event; its conversions and their value count for that channel.
-- Email opens and clicks and ad impressions are touches, not visits, and are left out;
-- conversions outside any session (server events) are not in this table: the attribution
-- report credits them.
--
-- Bots are excluded. An event stored twice (a replay before the table's background merge
-- removes the copy) counts once: a session's conversions are kept once per event id
-- (arrayDistinct). A person is the user id where known, else the user id the anonymous id
-- was first linked to (identity_links_v, any event carrying both ids), else the anonymous
-- id: a person's anonymous browsing before sign-up belongs to them.
--
-- Run by hand in clickhouse-client: replace
--   $db          the database, e.g. journeyd
--   $site        the site id, quoted: 'demo'
--   $from, $until   the period: toDateTime('2026-01-01 00:00:00'), toDateTime('2026-02-01 00:00:00')
--   $conversion  the conversion condition: name = 'purchase'
--   $value       the conversion value: revenue
SELECT
    if(first_channel = '', 'Direct', first_channel) AS channel,
    count() AS sessions,
    uniqExact(person) AS people,
    sum(session_conversions) AS conversions,
    round(sum(session_value), 2) AS revenue
FROM
(
    SELECT
        session_id,
        argMin(k, ts) AS first_channel,
        any(person) AS person,
        arrayDistinct(groupArrayIf((event_id, v), is_conversion = 1)) AS converted,
        length(converted) AS session_conversions,
        arraySum(arrayMap(x -> x.2, converted)) AS session_value
    FROM
    (
        SELECT
            if(user_id != '', user_id, if(linked_user_id != '', linked_user_id, anon_id)) AS person,
            event_id, session_id, ts, k, is_conversion, v
        FROM
        (
            SELECT
                anon_id, user_id,
                event_id, session_id, ts, channel AS k,
                toUInt8($conversion) AS is_conversion,
                toFloat64($value) AS v
            FROM $db.events
            WHERE site_id = $site AND ts >= $from AND ts < $until AND is_bot = 0 AND session_id != ''
                AND type NOT IN ('email_open', 'email_click', 'impression')
        ) AS lhs
        ANY LEFT JOIN
        (
            SELECT anon_id, linked_user_id
            FROM $db.identity_links_v
            WHERE site_id = $site
        ) AS rhs USING anon_id
    )
    GROUP BY session_id
)
GROUP BY channel
ORDER BY sessions DESC, channel
