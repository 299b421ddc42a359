-- sessions agree with the reports (DESIGN §6-§8): the view that fills session_aggregates
-- is replaced by one whose
-- - source (origin_state) is that of the session's first visit event (a pageview, screen,
--   browser event, leave or email click), as include/touches.sql takes it, not of whichever
--   event came first;
-- - screens (an app's page views, Segment screen calls) count as page views (bit 1 of
--   events_state) and name the entry and exit page;
-- - conversion flag (bit 4 of events_state) is the default conversion of every report: an
--   event named purchase, order_paid or Order Completed of any type (it was any event but a
--   pageview, screen or leave named purchase or order_paid or with revenue).
-- sessions_v then lists only sessions with a pageview, screen or browser event (a session
-- made of server events alone, which journeyd before 0022 could make, is no visit) and names a visit without a channel
-- Direct, as the channels report does.
--
-- Sessions stored before this migration keep the flags they were stored with. The new view
-- starts before the old one is dropped, so no event is missed; an event inserted in between
-- is aggregated by both, which counts it twice only when the two flag it differently (an
-- event named Order Completed, or with revenue and another name).
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.session_visits_mv TO {db}.session_aggregates AS
WITH bitOr(bitShiftLeft(toUInt64(ts) * 1000 + ts_ms, 20), bitAnd(cityHash64(event_id), 1048575)) AS order_key
SELECT
    site_id,
    session_id,
    toDate(ts) AS date,
    argMinIfState(anon_id, order_key, anon_id != '') AS anon_id_state,
    argMaxIfState(user_id, order_key, user_id != '') AS user_id_state,
    minState(toUInt32(ts)) AS start_state,
    maxState(toUInt32(ts)) AS end_state,
    argMinIfState(if(type = 'screen', name, path), order_key, type IN ('pageview', 'screen')) AS entry_page_state,
    argMaxIfState(if(type = 'screen', name, path), order_key, type IN ('pageview', 'screen')) AS exit_page_state,
    argMinIfState(concat(referrer, '\xff', source, '\xff', medium, '\xff', campaign, '\xff', channel), order_key, type IN ('pageview', 'screen', 'event', 'leave', 'email_click')) AS origin_state,
    argMinIfState(device, order_key, device != '') AS device_state,
    argMinIfState(country, order_key, country != '') AS country_state,
    groupUniqArrayState(bitOr(bitAnd(cityHash64(event_id), 18446744073709551608),
        toUInt64(type IN ('pageview', 'screen'))
        + 2 * (type IN ('pageview', 'screen', 'event'))
        + 4 * (name IN ('purchase', 'order_paid', 'Order Completed')))) AS events_state,
    groupUniqArrayIfState((event_id, toFloat64(revenue)), revenue != 0) AS revenue_state,
    argMaxIfState(currency, order_key, revenue != 0) AS currency_state,
    maxState(toUInt8(is_bot)) AS is_bot_state
FROM {db}.events
WHERE session_id != ''
GROUP BY site_id, session_id, date;

DROP TABLE IF EXISTS {db}.session_aggregates_mv;

DROP TABLE IF EXISTS {db}.sessions_v;

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
    splitByChar('\xff', argMinIfMerge(origin_state))[1] AS referrer,
    splitByChar('\xff', argMinIfMerge(origin_state))[2] AS source,
    splitByChar('\xff', argMinIfMerge(origin_state))[3] AS medium,
    splitByChar('\xff', argMinIfMerge(origin_state))[4] AS campaign,
    if(splitByChar('\xff', argMinIfMerge(origin_state))[5] = '', 'Direct', splitByChar('\xff', argMinIfMerge(origin_state))[5]) AS channel,
    argMinIfMerge(device_state) AS device,
    argMinIfMerge(country_state) AS country,
    toUInt64(arrayCount(x -> bitAnd(x, 1) != 0, groupUniqArrayMerge(events_state))) AS pageviews,
    toUInt64(length(groupUniqArrayMerge(events_state))) AS events,
    toUInt8(arrayCount(x -> bitAnd(x, 2) != 0, groupUniqArrayMerge(events_state)) <= 1) AS bounce,
    toUInt64(arrayCount(x -> bitAnd(x, 4) != 0, groupUniqArrayMerge(events_state))) AS conversions,
    arraySum(arrayMap(x -> x.2, groupUniqArrayIfMerge(revenue_state))) AS revenue,
    argMaxIfMerge(currency_state) AS currency,
    maxMerge(is_bot_state) AS is_bot
FROM {db}.session_aggregates
GROUP BY site_id, session_id
HAVING arrayCount(x -> bitAnd(x, 2) != 0, groupUniqArrayMerge(events_state)) > 0;
