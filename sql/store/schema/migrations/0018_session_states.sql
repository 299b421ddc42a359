-- session_states replaces sessions (0010, 0011): the same states, with the order of the
-- first and last values (argMin/argMax) kept as one UInt64 instead of the tuple
-- (ts, ts_ms, event_id). On ClickHouse 18.16 a tuple key is a generic value, copied and
-- compared as a Field: the view cost twice as much CPU at insert and more in every merge.
-- order_key is milliseconds since 1970 in the high 44 bits and 20 bits of
-- cityHash64(event_id) below, so events of the same millisecond still fall in one order
-- that a replay cannot change.
--
-- The switch loses no event: the new view starts before the old one is dropped, and the
-- backfill from events overlaps it harmlessly, as every state is unchanged by an event
-- seen twice. sessions_v keeps its name and columns. The backfill reads every event once:
-- on 18.16 about 90 seconds for 10 million events, at the first start of this journeyd.
CREATE TABLE IF NOT EXISTS {db}.session_states
(
    site_id String,
    session_id String,
    date Date,
    anon_id_state AggregateFunction(argMinIf, String, UInt64, UInt8),
    user_id_state AggregateFunction(argMaxIf, String, UInt64, UInt8),
    start_state AggregateFunction(min, UInt32),
    end_state AggregateFunction(max, UInt32),
    entry_page_state AggregateFunction(argMinIf, String, UInt64, UInt8),
    exit_page_state AggregateFunction(argMaxIf, String, UInt64, UInt8),
    referrer_state AggregateFunction(argMinIf, String, UInt64, UInt8),
    source_state AggregateFunction(argMinIf, String, UInt64, UInt8),
    medium_state AggregateFunction(argMinIf, String, UInt64, UInt8),
    campaign_state AggregateFunction(argMinIf, String, UInt64, UInt8),
    channel_state AggregateFunction(argMinIf, String, UInt64, UInt8),
    device_state AggregateFunction(argMinIf, String, UInt64, UInt8),
    country_state AggregateFunction(argMinIf, String, UInt64, UInt8),
    pageviews_state AggregateFunction(uniqExactIf, String, UInt8),
    events_state AggregateFunction(uniqExact, String),
    interactions_state AggregateFunction(uniqExactIf, String, UInt8),
    conversions_state AggregateFunction(uniqExactIf, String, UInt8),
    revenue_state AggregateFunction(groupUniqArrayIf, Tuple(String, Float64), UInt8),
    currency_state AggregateFunction(argMaxIf, String, UInt64, UInt8),
    is_bot_state AggregateFunction(max, UInt8)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, session_id, date);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.session_states_mv TO {db}.session_states AS
WITH bitOr(bitShiftLeft(toUInt64(ts) * 1000 + ts_ms, 20), bitAnd(cityHash64(event_id), 1048575)) AS order_key
SELECT
    site_id,
    session_id,
    toDate(ts) AS date,
    argMinIfState(anon_id, order_key, anon_id != '') AS anon_id_state,
    argMaxIfState(user_id, order_key, user_id != '') AS user_id_state,
    minState(toUInt32(ts)) AS start_state,
    maxState(toUInt32(ts)) AS end_state,
    argMinIfState(path, order_key, type = 'pageview') AS entry_page_state,
    argMaxIfState(path, order_key, type = 'pageview') AS exit_page_state,
    argMinIfState(referrer, order_key, type NOT IN ('email_open', 'impression')) AS referrer_state,
    argMinIfState(source, order_key, type NOT IN ('email_open', 'impression')) AS source_state,
    argMinIfState(medium, order_key, type NOT IN ('email_open', 'impression')) AS medium_state,
    argMinIfState(campaign, order_key, type NOT IN ('email_open', 'impression')) AS campaign_state,
    argMinIfState(channel, order_key, type NOT IN ('email_open', 'impression')) AS channel_state,
    argMinIfState(device, order_key, device != '') AS device_state,
    argMinIfState(country, order_key, country != '') AS country_state,
    uniqExactIfState(event_id, type = 'pageview') AS pageviews_state,
    uniqExactState(event_id) AS events_state,
    uniqExactIfState(event_id, type IN ('pageview', 'screen', 'event')) AS interactions_state,
    uniqExactIfState(event_id, type NOT IN ('pageview', 'screen', 'leave') AND (name IN ('purchase', 'order_paid') OR revenue > 0)) AS conversions_state,
    groupUniqArrayIfState((event_id, toFloat64(revenue)), revenue != 0) AS revenue_state,
    argMaxIfState(currency, order_key, revenue != 0) AS currency_state,
    maxState(toUInt8(is_bot)) AS is_bot_state
FROM {db}.events
WHERE session_id != ''
GROUP BY site_id, session_id, date;

DROP TABLE IF EXISTS {db}.sessions_mv;

INSERT INTO {db}.session_states
WITH bitOr(bitShiftLeft(toUInt64(ts) * 1000 + ts_ms, 20), bitAnd(cityHash64(event_id), 1048575)) AS order_key
SELECT
    site_id,
    session_id,
    toDate(ts) AS date,
    argMinIfState(anon_id, order_key, anon_id != '') AS anon_id_state,
    argMaxIfState(user_id, order_key, user_id != '') AS user_id_state,
    minState(toUInt32(ts)) AS start_state,
    maxState(toUInt32(ts)) AS end_state,
    argMinIfState(path, order_key, type = 'pageview') AS entry_page_state,
    argMaxIfState(path, order_key, type = 'pageview') AS exit_page_state,
    argMinIfState(referrer, order_key, type NOT IN ('email_open', 'impression')) AS referrer_state,
    argMinIfState(source, order_key, type NOT IN ('email_open', 'impression')) AS source_state,
    argMinIfState(medium, order_key, type NOT IN ('email_open', 'impression')) AS medium_state,
    argMinIfState(campaign, order_key, type NOT IN ('email_open', 'impression')) AS campaign_state,
    argMinIfState(channel, order_key, type NOT IN ('email_open', 'impression')) AS channel_state,
    argMinIfState(device, order_key, device != '') AS device_state,
    argMinIfState(country, order_key, country != '') AS country_state,
    uniqExactIfState(event_id, type = 'pageview') AS pageviews_state,
    uniqExactState(event_id) AS events_state,
    uniqExactIfState(event_id, type IN ('pageview', 'screen', 'event')) AS interactions_state,
    uniqExactIfState(event_id, type NOT IN ('pageview', 'screen', 'leave') AND (name IN ('purchase', 'order_paid') OR revenue > 0)) AS conversions_state,
    groupUniqArrayIfState((event_id, toFloat64(revenue)), revenue != 0) AS revenue_state,
    argMaxIfState(currency, order_key, revenue != 0) AS currency_state,
    maxState(toUInt8(is_bot)) AS is_bot_state
FROM {db}.events
WHERE session_id != ''
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
FROM {db}.session_states
GROUP BY site_id, session_id;

DROP TABLE IF EXISTS {db}.sessions;
