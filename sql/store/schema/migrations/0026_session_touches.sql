-- The view that fills session_aggregates is replaced by one that also fills the columns of
-- 0025 and no longer fills origin_state, device_state and country_state (it writes them
-- empty: 18.16 wants every column from a view): sessions_v takes the session's referrer,
-- source, medium, campaign, channel, device and country from visit_state instead, the
-- session's first visit, as the channels and top reports take them (an email click is a
-- touchpoint of its own there, not the session's source). visit_state orders a bot's
-- events after every other, so it holds the first visit that is not a bot's, and for a
-- session of bots alone the first bot visit (its device and country, as sessions_v gave
-- them). The three states dropped cost the view about what the four gained do
-- (docs/BENCHMARKS.md), so ClickHouse's CPU per ingested event stays where it was.
--
-- No event is missed, and no insert fails (0025 says why the order matters on 18.16): the
-- new view starts first, then session_touches_gap_mv stops, and the sessions it noted while
-- no session view was attached are aggregated whole from the events, every state; those
-- that both it and the new view saw are aggregated twice, which changes nothing, since
-- merging a state with itself gives it back (argMin, min, max and groupUniqArray all
-- are idempotent). The backfill then fills the new columns of the sessions already stored,
-- from the events, once, at the first start of this journeyd; it overlaps the new view
-- harmlessly for the same reason. It reads every event: 54 s of ClickHouse CPU and 4 GB of
-- memory on the 41 million events of the bench server (its SELECT alone, 285 s on the shared
-- machine), so journeyd gives the migrations hours (cmd/journeyd, migrateTimeout), not the
-- minute of a ping at start, which would cut it off at every start. Its memory grows with
-- the sessions stored: in proportion, 18.16's default max_memory_usage (10 GB) would be
-- reached at about 100 million events. Each statement can run again after a partial failure:
-- the gap table is made again, empty, when a run that dropped it was not recorded.
CREATE TABLE IF NOT EXISTS {db}.session_touches_gap
(
    site_id String,
    session_id String
)
ENGINE = MergeTree
ORDER BY (site_id, session_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.session_touches_mv TO {db}.session_aggregates AS
WITH
    bitOr(bitShiftLeft(toUInt64(ts) * 1000 + ts_ms, 20), bitAnd(cityHash64(event_id), 1048575)) AS order_key,
    toUInt8(type IN ('pageview', 'screen', 'event', 'leave')) AS is_visit,
    bitOr(order_key, bitShiftLeft(toUInt64(is_bot), 63)) AS visit_key,
    toUInt8(is_bot = 0 AND type NOT IN ('email_open', 'email_click', 'impression')) AS is_touch_event
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
    groupUniqArrayState(bitOr(bitAnd(cityHash64(event_id), 18446744073709551608),
        toUInt64(type IN ('pageview', 'screen'))
        + 2 * (type IN ('pageview', 'screen', 'event'))
        + 4 * (name IN ('purchase', 'order_paid', 'Order Completed')))) AS events_state,
    groupUniqArrayIfState((event_id, toFloat64(revenue)), revenue != 0) AS revenue_state,
    argMaxIfState(currency, order_key, revenue != 0) AS currency_state,
    maxState(toUInt8(is_bot)) AS is_bot_state,
    argMinIfState('', toUInt64(0), toUInt8(0)) AS origin_state,
    argMinIfState('', toUInt64(0), toUInt8(0)) AS device_state,
    argMinIfState('', toUInt64(0), toUInt8(0)) AS country_state,
    argMinIfState(concat(channel, '\xff', source, '\xff', medium, '\xff', campaign, '\xff', referrer, '\xff',
        path, '\xff', country, '\xff', device, '\xff', browser), visit_key, is_visit) AS visit_state,
    minIfState(toUInt32(ts), is_visit = 1 AND is_bot = 0) AS visit_t_state,
    maxIfState(if(user_id != '', cityHash64(user_id), 0), is_touch_event) AS user_hash_state,
    maxIfState(cityHash64(anon_id), is_touch_event) AS anon_hash_state
FROM {db}.events
WHERE session_id != ''
GROUP BY site_id, session_id, date;

DROP TABLE IF EXISTS {db}.session_touches_gap_mv;

-- dropped by 0025 already, unless 0025 ran before it did (a database of the first build
-- of these two migrations)
DROP TABLE IF EXISTS {db}.session_visits_mv;

INSERT INTO {db}.session_aggregates (site_id, session_id, date, visit_state, visit_t_state, user_hash_state, anon_hash_state)
WITH
    bitOr(bitShiftLeft(toUInt64(ts) * 1000 + ts_ms, 20), bitAnd(cityHash64(event_id), 1048575)) AS order_key,
    toUInt8(type IN ('pageview', 'screen', 'event', 'leave')) AS is_visit,
    bitOr(order_key, bitShiftLeft(toUInt64(is_bot), 63)) AS visit_key,
    toUInt8(is_bot = 0 AND type NOT IN ('email_open', 'email_click', 'impression')) AS is_touch_event
SELECT
    site_id,
    session_id,
    toDate(ts) AS date,
    argMinIfState(concat(channel, '\xff', source, '\xff', medium, '\xff', campaign, '\xff', referrer, '\xff',
        path, '\xff', country, '\xff', device, '\xff', browser), visit_key, is_visit) AS visit_state,
    minIfState(toUInt32(ts), is_visit = 1 AND is_bot = 0) AS visit_t_state,
    maxIfState(if(user_id != '', cityHash64(user_id), 0), is_touch_event) AS user_hash_state,
    maxIfState(cityHash64(anon_id), is_touch_event) AS anon_hash_state
FROM {db}.events
WHERE session_id != ''
GROUP BY site_id, session_id, date;

-- the sessions of events inserted while no session view was attached, whole
INSERT INTO {db}.session_aggregates (site_id, session_id, date, anon_id_state, user_id_state, start_state,
    end_state, entry_page_state, exit_page_state, events_state, revenue_state, currency_state, is_bot_state,
    origin_state, device_state, country_state, visit_state, visit_t_state, user_hash_state, anon_hash_state)
WITH
    bitOr(bitShiftLeft(toUInt64(ts) * 1000 + ts_ms, 20), bitAnd(cityHash64(event_id), 1048575)) AS order_key,
    toUInt8(type IN ('pageview', 'screen', 'event', 'leave')) AS is_visit,
    bitOr(order_key, bitShiftLeft(toUInt64(is_bot), 63)) AS visit_key,
    toUInt8(is_bot = 0 AND type NOT IN ('email_open', 'email_click', 'impression')) AS is_touch_event
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
    groupUniqArrayState(bitOr(bitAnd(cityHash64(event_id), 18446744073709551608),
        toUInt64(type IN ('pageview', 'screen'))
        + 2 * (type IN ('pageview', 'screen', 'event'))
        + 4 * (name IN ('purchase', 'order_paid', 'Order Completed')))) AS events_state,
    groupUniqArrayIfState((event_id, toFloat64(revenue)), revenue != 0) AS revenue_state,
    argMaxIfState(currency, order_key, revenue != 0) AS currency_state,
    maxState(toUInt8(is_bot)) AS is_bot_state,
    argMinIfState('', toUInt64(0), toUInt8(0)) AS origin_state,
    argMinIfState('', toUInt64(0), toUInt8(0)) AS device_state,
    argMinIfState('', toUInt64(0), toUInt8(0)) AS country_state,
    argMinIfState(concat(channel, '\xff', source, '\xff', medium, '\xff', campaign, '\xff', referrer, '\xff',
        path, '\xff', country, '\xff', device, '\xff', browser), visit_key, is_visit) AS visit_state,
    minIfState(toUInt32(ts), is_visit = 1 AND is_bot = 0) AS visit_t_state,
    maxIfState(if(user_id != '', cityHash64(user_id), 0), is_touch_event) AS user_hash_state,
    maxIfState(cityHash64(anon_id), is_touch_event) AS anon_hash_state
FROM {db}.events
WHERE session_id != ''
    AND (site_id, session_id) IN (SELECT site_id, session_id FROM {db}.session_touches_gap)
GROUP BY site_id, session_id, date;

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
    arraySum(arrayMap(x -> x.2, groupUniqArrayIfMerge(revenue_state))) AS revenue,
    argMaxIfMerge(currency_state) AS currency,
    maxMerge(is_bot_state) AS is_bot
FROM {db}.session_aggregates
GROUP BY site_id, session_id
HAVING arrayCount(x -> bitAnd(x, 2) != 0, groupUniqArrayMerge(events_state)) > 0;

DROP TABLE IF EXISTS {db}.session_touches_gap;
