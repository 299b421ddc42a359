-- active_visitors: the visitors whose latest session had an event at or after @since (unix
-- seconds), as the sessionizer restores them on start: the session id, the event times of
-- its first and last event (unix ms), its source, and the user id the visitor is linked to
-- (the first linked wins, as in identity_links_v). Sessions are read back to @from (the
-- session's maximum length before @since) so a long session keeps its real start. Email
-- opens and ad impressions are left out: they never make a session. A visitor is its
-- anonymous id, or its user id for events that carry none. The most recent come first, and
-- at most @limit of them: what the sessionizer's memory bound holds.
SELECT
    site_id, anon_id, key_user_id, last_session_id, start_ms, last_ms, source, medium, campaign,
    term, content, channel, click_id, referrer_host, referrer_kind, linked_user_id
FROM
(
    SELECT
        site_id,
        anon_id,
        key_user_id,
        argMax(session_id, session_last_ms) AS last_session_id,
        argMax(session_start_ms, session_last_ms) AS start_ms,
        max(session_last_ms) AS last_ms,
        argMax(first_source, session_last_ms) AS source,
        argMax(first_medium, session_last_ms) AS medium,
        argMax(first_campaign, session_last_ms) AS campaign,
        argMax(first_term, session_last_ms) AS term,
        argMax(first_content, session_last_ms) AS content,
        argMax(first_channel, session_last_ms) AS channel,
        argMax(first_click_id, session_last_ms) AS click_id,
        argMax(first_referrer_host, session_last_ms) AS referrer_host,
        argMax(first_referrer_kind, session_last_ms) AS referrer_kind
    FROM
    (
        SELECT
            site_id,
            anon_id,
            if(anon_id = '', user_id, '') AS key_user_id,
            session_id,
            min(toUInt64(ts) * 1000 + ts_ms) AS session_start_ms,
            max(toUInt64(ts) * 1000 + ts_ms) AS session_last_ms,
            argMin(source, (ts, ts_ms, event_id)) AS first_source,
            argMin(medium, (ts, ts_ms, event_id)) AS first_medium,
            argMin(campaign, (ts, ts_ms, event_id)) AS first_campaign,
            argMin(term, (ts, ts_ms, event_id)) AS first_term,
            argMin(content, (ts, ts_ms, event_id)) AS first_content,
            argMin(channel, (ts, ts_ms, event_id)) AS first_channel,
            argMin(click_id, (ts, ts_ms, event_id)) AS first_click_id,
            argMin(referrer_host, (ts, ts_ms, event_id)) AS first_referrer_host,
            argMin(referrer_kind, (ts, ts_ms, event_id)) AS first_referrer_kind
        FROM $db.events
        WHERE ts >= toDateTime(@from) AND session_id != '' AND (anon_id != '' OR user_id != '')
            AND type NOT IN ('email_open', 'impression')
        GROUP BY site_id, anon_id, key_user_id, session_id
    )
    GROUP BY site_id, anon_id, key_user_id
    HAVING last_ms >= @since * 1000
    ORDER BY last_ms DESC
    LIMIT @limit
) AS lhs
GLOBAL ANY LEFT JOIN  -- on a cluster: the links read once, on this node
(
    SELECT site_id, anon_id, linked_user_id
    FROM $db.identity_links_v
) AS rhs USING (site_id, anon_id)
ORDER BY last_ms DESC
