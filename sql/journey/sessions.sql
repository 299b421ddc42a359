-- sessions: the finished rows of the sessions in @sessions (an array of session ids) on
-- @site, as sessions_v gives them, filtered before the merge so only these are read.
SELECT
    session_id,
    toUInt64(minMerge(start_state)) AS start_unix,
    toUInt64(maxMerge(end_state)) AS end_unix,
    argMinIfMerge(entry_page_state) AS entry_page,
    argMaxIfMerge(exit_page_state) AS exit_page,
    argMinIfMerge(referrer_state) AS referrer,
    argMinIfMerge(source_state) AS source,
    argMinIfMerge(medium_state) AS medium,
    argMinIfMerge(campaign_state) AS campaign,
    argMinIfMerge(channel_state) AS channel,
    argMinIfMerge(device_state) AS device,
    argMinIfMerge(country_state) AS country,
    toUInt64(uniqExactIfMerge(pageviews_state)) AS pageviews,
    toUInt64(uniqExactMerge(events_state)) AS events,
    toUInt8(uniqExactIfMerge(interactions_state) <= 1) AS bounce,
    toUInt64(uniqExactIfMerge(conversions_state)) AS conversions,
    arraySum(arrayMap(x -> x.2, groupUniqArrayIfMerge(revenue_state))) AS revenue
FROM $db.session_states
WHERE site_id = @site AND has(@sessions, session_id)
GROUP BY session_id
ORDER BY start_unix, session_id
