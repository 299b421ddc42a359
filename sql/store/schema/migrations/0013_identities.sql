-- identities: the links between anonymous ids and user ids, one row per (site, anonymous
-- id, user id), filled by identities_mv from every event that carries both ids (identify,
-- alias, and any later event of a signed-in visitor). first_seen and last_seen bound the
-- link in event time; links counts the distinct events that made it, so a repeated event
-- changes nothing. A person is the user id where one is known, else the anonymous id; the
-- first user id linked to an anonymous id wins (identity_links_v), a later different one is
-- a conflict: kept here, flagged in identities_v, never applied.
CREATE TABLE IF NOT EXISTS {db}.identities
(
    site_id String,
    anon_id String,
    user_id String,
    first_seen_state AggregateFunction(min, UInt32),
    last_seen_state AggregateFunction(max, UInt32),
    links_state AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree()
ORDER BY (site_id, anon_id, user_id);
