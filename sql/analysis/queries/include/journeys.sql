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
    person,
    arraySort(groupArrayIf((t, k), visit = 1)) AS touches,
    arrayMap(x -> x.1, touches) AS tt,
    arrayMap(x -> x.2, touches) AS tk,
    arraySort(groupArrayArray(convs)) AS sorted_convs,
    arrayPushBack(arrayMap(x -> x.1, sorted_convs), toUInt32(0)) AS ends_t,
    arrayPushBack(arrayMap(x -> x.2, sorted_convs), toFloat64(0)) AS ends_v
FROM
(
    SELECT
        if(person_id != '', person_id, person_key) AS person,
        visit, t, k, convs
    FROM
    (
        -- include: touches.sql
    ) AS lhs
    -- include: persons.sql
)
GROUP BY person
