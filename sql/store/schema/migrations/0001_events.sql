-- events: one row per touchpoint, the columns of event.Event in its field order.
--
-- ORDER BY (site_id, toDate(ts), anon_id, ts, event_id): reports read one site over a date
-- range, so the day comes right after the site and a day's report skips the other days of
-- its month partition; within a day a visitor's events are contiguous and in time order,
-- so a journey (one visitor over time) reads one short range per day. A replay of the same
-- event has the same key and collapses on merge into the copy received last
-- (ReplacingMergeTree(received_at)); until a merge runs, queries dedupe by event_id.
-- Months are the partitions; retention drops old ones (ALTER TABLE ... DROP PARTITION).
CREATE TABLE IF NOT EXISTS {db}.events
(
    event_id String,
    site_id String,
    ts DateTime('UTC'),
    ts_ms UInt16,
    received_at DateTime('UTC'),
    type String,
    name String,
    anon_id String,
    user_id String,
    session_id String,
    url String,
    host String,
    path String,
    query String,
    title String,
    referrer String,
    referrer_host String,
    referrer_kind String,
    search_term String,
    channel String,
    source String,
    medium String,
    campaign String,
    term String,
    content String,
    click_id_type String,
    click_id String,
    country String,
    region String,
    city String,
    browser String,
    browser_version String,
    os String,
    device String,
    is_bot UInt8,
    ip String,
    user_agent String,
    props Nested(key String, value String),
    revenue Float64,
    currency String,
    engaged_ms UInt32,
    lib String
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (site_id, toDate(ts), anon_id, ts, event_id);
