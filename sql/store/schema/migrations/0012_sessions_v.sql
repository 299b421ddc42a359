-- sessions_v: one finished row per session. bounce: at most one interaction (pageview,
-- screen or custom event). duration in seconds from the first to the last event.
CREATE VIEW IF NOT EXISTS {db}.sessions_v AS
SELECT
    site_id,
    session_id,
    argMinIfMerge(anon_id_state) AS anon_id,
    argMaxIfMerge(user_id_state) AS user_id,
    toDateTime(minMerge(start_state)) AS session_start,
    toDateTime(maxMerge(end_state)) AS session_end,
    toUInt32(session_end - session_start) AS duration,
    argMinIfMerge(entry_page_state) AS entry_page,
    argMaxIfMerge(exit_page_state) AS exit_page,
    argMinIfMerge(referrer_state) AS referrer,
    argMinIfMerge(source_state) AS source,
    argMinIfMerge(medium_state) AS medium,
    argMinIfMerge(campaign_state) AS campaign,
    argMinIfMerge(channel_state) AS channel,
    argMinIfMerge(device_state) AS device,
    argMinIfMerge(country_state) AS country,
    uniqExactIfMerge(pageviews_state) AS pageviews,
    uniqExactMerge(events_state) AS events,
    toUInt8(uniqExactIfMerge(interactions_state) <= 1) AS bounce,
    uniqExactIfMerge(conversions_state) AS conversions,
    arraySum(arrayMap(x -> x.2, groupUniqArrayIfMerge(revenue_state))) AS revenue,
    argMaxIfMerge(currency_state) AS currency,
    maxMerge(is_bot_state) AS is_bot
FROM {db}.sessions
GROUP BY site_id, session_id;
