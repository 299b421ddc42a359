-- sessions_mv fills sessions from every block inserted into events. The session's source
-- (referrer, source, medium, campaign, channel) is that of its first event, leaving out email
-- opens and ad impressions, which join a session without being its source. A conversion is
-- the default definition of sql/analysis/report (an event named purchase or order_paid, or any
-- event with revenue); per-site conversions are the reports' business. Keep the conversion
-- condition in step with sql/analysis/journey/touchpoints.sql.
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.sessions_mv TO {db}.sessions AS
SELECT
    site_id,
    session_id,
    toDate(ts) AS date,
    argMinIfState(anon_id, (toUInt32(ts), toUInt16(ts_ms), event_id), anon_id != '') AS anon_id_state,
    argMaxIfState(user_id, (toUInt32(ts), toUInt16(ts_ms), event_id), user_id != '') AS user_id_state,
    minState(toUInt32(ts)) AS start_state,
    maxState(toUInt32(ts)) AS end_state,
    argMinIfState(path, (toUInt32(ts), toUInt16(ts_ms), event_id), type = 'pageview') AS entry_page_state,
    argMaxIfState(path, (toUInt32(ts), toUInt16(ts_ms), event_id), type = 'pageview') AS exit_page_state,
    argMinIfState(referrer, (toUInt32(ts), toUInt16(ts_ms), event_id), type NOT IN ('email_open', 'impression')) AS referrer_state,
    argMinIfState(source, (toUInt32(ts), toUInt16(ts_ms), event_id), type NOT IN ('email_open', 'impression')) AS source_state,
    argMinIfState(medium, (toUInt32(ts), toUInt16(ts_ms), event_id), type NOT IN ('email_open', 'impression')) AS medium_state,
    argMinIfState(campaign, (toUInt32(ts), toUInt16(ts_ms), event_id), type NOT IN ('email_open', 'impression')) AS campaign_state,
    argMinIfState(channel, (toUInt32(ts), toUInt16(ts_ms), event_id), type NOT IN ('email_open', 'impression')) AS channel_state,
    argMinIfState(device, (toUInt32(ts), toUInt16(ts_ms), event_id), device != '') AS device_state,
    argMinIfState(country, (toUInt32(ts), toUInt16(ts_ms), event_id), country != '') AS country_state,
    uniqExactIfState(event_id, type = 'pageview') AS pageviews_state,
    uniqExactState(event_id) AS events_state,
    uniqExactIfState(event_id, type IN ('pageview', 'screen', 'event')) AS interactions_state,
    uniqExactIfState(event_id, type NOT IN ('pageview', 'screen', 'leave') AND (name IN ('purchase', 'order_paid') OR revenue > 0)) AS conversions_state,
    groupUniqArrayIfState((event_id, toFloat64(revenue)), revenue != 0) AS revenue_state,
    argMaxIfState(currency, (toUInt32(ts), toUInt16(ts_ms), event_id), revenue != 0) AS currency_state,
    maxState(toUInt8(is_bot)) AS is_bot_state
FROM {db}.events
WHERE session_id != ''
GROUP BY site_id, session_id, date;
