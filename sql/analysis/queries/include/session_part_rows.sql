-- session_part_rows: the rows of include/session_day_rows.sql without FINAL: a row per
-- session, UTC day and part of session_aggregates that holds the session's events of that
-- day, each column its part's aggregate finalized, and visit_key, the order of the visit
-- that is visit (visit_state's key: its time in milliseconds, shifted left 20 bits, then 20
-- bits of its event id's hash, with bit 63 set for a bot's visit; 0 when the part holds no
-- visit). The rows of one session and day are merged by whoever reads them (journeyd,
-- sql/analysis/report/daygroups.go) as FINAL merges the states: the greatest user_hash and
-- anon_hash, the least non-zero visit_t, and the visit of the least visit_key, which tells
-- apart the visits of one second that two parts hold. On ClickHouse 18.16 FINAL merges
-- every part of the period in one stream: on the bench's 30 million events, whose month of
-- sessions lies in six parts, it cost 3.0-4.1 s against 1.2-1.5 s without it, and on 10
-- million in one part 0.8-1.1 s against 0.5 s (docs/BENCHMARKS.md).
-- visit_key is read from the state's bytes: toString gives an aggregate state's own
-- serialization (the form the table stores, which every release reads back), and an argMin
-- state is its value (an Int32 length, -1 when none, then the bytes) and then its key (a
-- byte, 1 when set, then the UInt64): the last 8 bytes when the state holds a value, which
-- a state of 14 bytes or more does (an empty one is 5). 18.16 and current releases give the
-- same bytes (make compat-check).
SELECT
    cityHash64(session_id, '') AS touch_hash,
    finalizeAggregation(user_hash_state) AS user_hash,
    finalizeAggregation(anon_hash_state) AS anon_hash,
    finalizeAggregation(visit_t_state) AS visit_t,
    finalizeAggregation(visit_state) AS visit,
    if(length(toString(visit_state)) >= 14,
        reinterpretAsUInt64(substring(toString(visit_state), length(toString(visit_state)) - 7, 8)), toUInt64(0)) AS visit_key,
    date AS day
FROM $db.session_aggregates
WHERE site_id = $site AND date >= toDate($from, 'UTC') AND date < toDate($until, 'UTC') AND $days
