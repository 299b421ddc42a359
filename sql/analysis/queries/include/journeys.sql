-- journeys: included by conversion_paths.sql (and through it by attribution.sql, paths.sql
-- and time-to-convert.sql) where it says `-- include: journeys.sql` (paste this file there,
-- then replace the placeholders as the including query's header says). One row per person: their touchpoints in time order,
-- tt (times) and tk (keys), and their conversions in time order, ends_t (times) and ends_v
-- (values), each closed by a 0 standing for the null path after the last conversion.
--
-- The touchpoints are those of touches.sql (a session with a visit, an email open or click,
-- an ad impression: one per session whichever device or id its events carry); the
-- conversions are every conversion of the person, inside a session or outside any, each
-- event id once. Touchpoints and conversions are each collected as one array of tuples and
-- sorted by time (then key, or value): one aggregate state per kind instead of two.
SELECT
    person AS person_hash,
    arraySort(groupArrayIf(t, visit = 1)) AS tt,
    arraySort((x, y) -> (y, x), groupArrayIf(k, visit = 1), groupArrayIf(t, visit = 1)) AS tk,
    groupArrayArray(conv_t) AS all_conv_t,
    groupArrayArray(conv_v) AS all_conv_v,
    arrayPushBack(arraySort(all_conv_t), toUInt32(0)) AS ends_t,
    arrayPushBack(arraySort((v, x) -> (x, v), all_conv_v, all_conv_t), toFloat64(0)) AS ends_v
FROM
(
    SELECT
        if(person_id != 0, person_id, person_key) AS person,
        visit, t, k, conv_t, conv_v
    FROM
    (
        -- include: touches.sql
    ) AS lhs
    -- include: person_hashes.sql
)
GROUP BY person_hash
