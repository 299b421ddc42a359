-- sessions: one row per session (and day), aggregated from events by sessions_mv. Every
-- figure is a state that a repeated event cannot change: counts are uniqExact over event
-- ids, first and last values are argMin/argMax by (ts, ts_ms, event_id), revenue is the sum
-- over the distinct (event_id, revenue) pairs. Read it through sessions_v, which merges the
-- states into one finished row per session. Partitions are months, dropped for retention.
CREATE TABLE IF NOT EXISTS {db}.sessions
(
    site_id String,
    session_id String,
    date Date,
    anon_id_state AggregateFunction(argMinIf, String, Tuple(UInt32, UInt16, String), UInt8),
    user_id_state AggregateFunction(argMaxIf, String, Tuple(UInt32, UInt16, String), UInt8),
    start_state AggregateFunction(min, UInt32),
    end_state AggregateFunction(max, UInt32),
    entry_page_state AggregateFunction(argMinIf, String, Tuple(UInt32, UInt16, String), UInt8),
    exit_page_state AggregateFunction(argMaxIf, String, Tuple(UInt32, UInt16, String), UInt8),
    referrer_state AggregateFunction(argMinIf, String, Tuple(UInt32, UInt16, String), UInt8),
    source_state AggregateFunction(argMinIf, String, Tuple(UInt32, UInt16, String), UInt8),
    medium_state AggregateFunction(argMinIf, String, Tuple(UInt32, UInt16, String), UInt8),
    campaign_state AggregateFunction(argMinIf, String, Tuple(UInt32, UInt16, String), UInt8),
    channel_state AggregateFunction(argMinIf, String, Tuple(UInt32, UInt16, String), UInt8),
    device_state AggregateFunction(argMinIf, String, Tuple(UInt32, UInt16, String), UInt8),
    country_state AggregateFunction(argMinIf, String, Tuple(UInt32, UInt16, String), UInt8),
    pageviews_state AggregateFunction(uniqExactIf, String, UInt8),
    events_state AggregateFunction(uniqExact, String),
    interactions_state AggregateFunction(uniqExactIf, String, UInt8),
    conversions_state AggregateFunction(uniqExactIf, String, UInt8),
    revenue_state AggregateFunction(groupUniqArrayIf, Tuple(String, Float64), UInt8),
    currency_state AggregateFunction(argMaxIf, String, Tuple(UInt32, UInt16, String), UInt8),
    is_bot_state AggregateFunction(max, UInt8)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, session_id, date);
