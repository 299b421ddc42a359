-- session_aggregates gains what the reports read of a session (DESIGN §6, §8: a session is
-- one touchpoint, at its first visit, with that visit's source), so that they can read a
-- row per session instead of grouping its events (issue 17, docs/BENCHMARKS.md):
-- - visit_state: the session's first visit that is not a bot's (a pageview, screen, browser
--   event or leave; email clicks, opens and impressions are touchpoints of their own), by
--   event time in milliseconds and then by a hash of the event id, or for a session of bots
--   alone its first bot visit, as its channel, source,
--   medium, campaign, referrer, path, country, device and browser joined by the byte 0xFF
--   (which valid UTF-8 never holds);
-- - visit_t_state: the time of its first visit that is not a bot's, in seconds (0: none);
-- - user_hash_state, anon_hash_state: the greatest cityHash64 of the user ids (0 for an
--   event without one) and of the anonymous ids of the session's events that are neither a
--   bot's nor an email open, email click or impression (touchpoints of their own), from
--   which include/touches.sql takes the session's person; anon_hash 0 means no such event.
-- One statement, so that the migration is whole or not applied: 18.16 has no ADD COLUMN IF
-- NOT EXISTS to make a second run harmless. 0026 fills them.
ALTER TABLE {db}.session_aggregates
    ADD COLUMN visit_state AggregateFunction(argMinIf, String, UInt64, UInt8),
    ADD COLUMN visit_t_state AggregateFunction(minIf, UInt32, UInt8),
    ADD COLUMN user_hash_state AggregateFunction(maxIf, UInt64, UInt8),
    ADD COLUMN anon_hash_state AggregateFunction(maxIf, UInt64, UInt8);
