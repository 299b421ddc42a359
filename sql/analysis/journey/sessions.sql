-- sessions: the finished rows of the sessions in @sessions (an array of session ids) on
-- @site, as sessions_v gives them, filtered before the merge so only these are read. The
-- columns decode session_aggregates exactly as sessions_v does (the latest migration that
-- creates it); TestSessionsDecodeAsTheView keeps the two in step.
SELECT
    session_id,
    toUInt64(minMerge(start_state)) AS start_unix,
    toUInt64(maxMerge(end_state)) AS end_unix,
    argMinIfMerge(entry_page_state) AS entry_page,
    argMaxIfMerge(exit_page_state) AS exit_page,
    splitByChar('\xff', argMinIfMerge(visit_state))[5] AS referrer,
    splitByChar('\xff', argMinIfMerge(visit_state))[2] AS source,
    splitByChar('\xff', argMinIfMerge(visit_state))[3] AS medium,
    splitByChar('\xff', argMinIfMerge(visit_state))[4] AS campaign,
    if(splitByChar('\xff', argMinIfMerge(visit_state))[1] = '', 'Direct', splitByChar('\xff', argMinIfMerge(visit_state))[1]) AS channel,
    splitByChar('\xff', argMinIfMerge(visit_state))[8] AS device,
    splitByChar('\xff', argMinIfMerge(visit_state))[7] AS country,
    toUInt64(arrayCount(x -> bitAnd(x, 1) != 0, groupUniqArrayMerge(events_state))) AS pageviews,
    toUInt64(length(groupUniqArrayMerge(events_state))) AS events,
    toUInt8(arrayCount(x -> bitAnd(x, 2) != 0, groupUniqArrayMerge(events_state)) <= 1) AS bounce,
    toUInt64(arrayCount(x -> bitAnd(x, 4) != 0, groupUniqArrayMerge(events_state))) AS conversions,
    arraySum(arrayMap(x -> x.2, groupUniqArrayIfMerge(revenue_state))) AS revenue
FROM $db.session_aggregates
WHERE site_id = @site AND has(@sessions, session_id)
GROUP BY session_id
ORDER BY start_unix, session_id
