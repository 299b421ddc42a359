-- touch_events: a copy, kept at insert time, of the events that are neither a page or
-- screen view nor a leave, and of any event with a name: the email opens, email clicks,
-- impressions, browser and server events (a lead, a payment), identify calls, and named
-- views. They are about an eighth of the events (13 % in the bench), and they hold every
-- email touchpoint and every conversion a report can define without a page view: the
-- events' part of touch_rows (include/touch_rows_of_events.sql) reads them here instead of
-- scanning every event of the period (on the bench's 10 million events 0.5 s against
-- 1.6 s, docs/BENCHMARKS.md). A report whose conversion may be a page, screen or leave
-- without a name (a path, a type alone, a property alone) still reads the events
-- (sql/analysis/report/touchevents.go says which).
--
-- The columns are the events' that the reports read of these rows (the touch, the person,
-- the conversion's type, name, properties and value, the bot flag; not the path, which only
-- a page view's conversion reads), with the events'
-- engine, key and partitions, so that a condition on them gives the same rows from either
-- table: a replay is a second copy here as there (ReplacingMergeTree(received_at), and the
-- reports count an event id once). Erasure deletes its rows with the events'
-- (sql/store/erase); a month dropped by hand must be dropped here too, before the events'.
--
-- The view starts first, then the backfill copies the events stored before it. An event
-- inserted in between is copied by both: a replay's second copy, which changes no answer.
-- The backfill reads every event once (the few columns above): run again after a partial
-- failure it copies them again, which is as harmless.
CREATE TABLE IF NOT EXISTS {db}.touch_events
(
    event_id String,
    site_id String,
    ts DateTime('UTC'),
    received_at DateTime('UTC'),
    type String,
    name String,
    anon_id String,
    user_id String,
    session_id String,
    channel String,
    source String,
    medium String,
    campaign String,
    is_bot UInt8,
    props Nested(key String, value String),
    revenue Float64
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (site_id, toDate(ts), anon_id, ts, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.touch_events_mv TO {db}.touch_events AS
SELECT event_id, site_id, ts, received_at, type, name, anon_id, user_id, session_id,
    channel, source, medium, campaign, is_bot, props.key, props.value, revenue
FROM {db}.events
WHERE type NOT IN ('pageview', 'screen', 'leave') OR name != '';

INSERT INTO {db}.touch_events (event_id, site_id, ts, received_at, type, name, anon_id, user_id, session_id,
    channel, source, medium, campaign, is_bot, props.key, props.value, revenue)
SELECT event_id, site_id, ts, received_at, type, name, anon_id, user_id, session_id,
    channel, source, medium, campaign, is_bot, props.key, props.value, revenue
FROM {db}.events
WHERE type NOT IN ('pageview', 'screen', 'leave') OR name != '';
