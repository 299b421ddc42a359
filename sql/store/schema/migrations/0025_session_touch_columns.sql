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
-- 0026 fills them.
--
-- The order keeps every insert into events working, and loses no session (issue 17). On
-- 18.16 a materialized view pushes its SELECT's columns into its table as they are: an
-- insert into events fails ("Expected column visit_state: while pushing to view
-- session_visits_mv", code 10) while the old view lacks a column of the table, and
-- ("There is no column with name visit_state", code 16) while the new one has a column the
-- table lacks. No order of ALTER and views avoids both with one view attached at a time,
-- so no session view is attached between the ALTER and 0026's new view, and
-- session_touches_gap_mv notes the sessions of the events inserted meanwhile (from before
-- the old view is dropped, so none slips between the two), which 0026 aggregates whole
-- from the events. Until 0026 has run (at once, or at the next start when it failed),
-- sessions_v lacks those events; nothing else changes.
-- Who inserts meanwhile: not the journeyd that migrates (start.go opens the guard in front
-- of its writer only after Migrate), but other journeyds sharing the database (several
-- collectors, a rolling upgrade, a serve with --migrate=false beside `journeyd migrate`),
-- and replay. With the ALTER and the view swap apart (0025 then 0026, as first written)
-- their inserts failed from the ALTER until the old view was dropped; the writer retries
-- codes 10 and 16 (writer/insert.go classify: a server error, not a rejection), so on a
-- single server nothing was lost, but each failed attempt had already stored its rows in
-- events (the table is written before its views) and a retry stored them again, and while
-- a failed 0026 waited for the next start every insert failed. On replicated tables 18.16
-- skips the views of a block it deduplicates, so a retried batch's sessions would have been
-- lost for good. With this order no insert fails.
-- Run again after a partial failure (a migration is recorded only once all of it ran), the
-- statements do what is left: the runner (schema.go, missingColumns) drops from the ALTER
-- the columns the table has already, as 18.16 has no ADD COLUMN IF NOT EXISTS.
-- TestSessionTouchesWindow and TestSessionTouchesRerun run both cases.
CREATE TABLE IF NOT EXISTS {db}.session_touches_gap
(
    site_id String,
    session_id String
)
ENGINE = MergeTree
ORDER BY (site_id, session_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.session_touches_gap_mv TO {db}.session_touches_gap AS
SELECT DISTINCT site_id, session_id
FROM {db}.events
WHERE session_id != '';

DROP TABLE IF EXISTS {db}.session_visits_mv;

ALTER TABLE {db}.session_aggregates
    ADD COLUMN visit_state AggregateFunction(argMinIf, String, UInt64, UInt8),
    ADD COLUMN visit_t_state AggregateFunction(minIf, UInt32, UInt8),
    ADD COLUMN user_hash_state AggregateFunction(maxIf, UInt64, UInt8),
    ADD COLUMN anon_hash_state AggregateFunction(maxIf, UInt64, UInt8);
