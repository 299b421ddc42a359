-- conversion_paths: included by attribution.sql, paths.sql and time-to-convert.sql where they
-- say `-- include: conversion_paths.sql` (paste this file there, and journeys.sql into it).
-- One row per conversion and per null path of every person: converted (1, or 0 for the
-- touchpoints after the last conversion), the touchpoint keys and times of the journey in
-- time order, their ages in days before the conversion (rounded to 0.1 day; computed here,
-- as 18.16 cannot see conv_time from a lambda one query further out), and the conversion's
-- time and value. A conversion's journey is the
-- touchpoints before it, within $lookback, after the previous conversion. Journeys without
-- a touchpoint are left out. A person without conversions has one journey, all their
-- touchpoints, taken as it is: the lambdas that cut a journey run on empty arrays for them
-- (if() computes both of its branches), which on the million people who never converted
-- is most of this step's cost.
SELECT
    toUInt8(i < length(ends_t)) AS converted,
    toUInt8(length(ends_t) = 1) AS whole,
    if(i = 1, toUInt32(0), ends_t[i - 1]) AS previous,
    if(converted = 1, conv_time, toUInt32(4294967295)) AS until,
    toUInt32(if(converted = 1, greatest(toInt64(conv_time) - $lookback, 0), 0)) AS since,
    if(whole = 1, emptyArrayUInt32(), tt) AS cut_t,
    if(whole = 1, emptyArrayString(), tk) AS cut_k,
    arrayMap(x -> x > previous AND x <= until AND x >= since, cut_t) AS mask,
    if(whole = 1, tk, arrayFilter((k, m) -> m = 1, cut_k, mask)) AS keys,
    if(whole = 1, tt, arrayFilter((x, m) -> m = 1, cut_t, mask)) AS times,
    arrayMap(x -> round((conv_time - x) / 86400, 1), if(converted = 1, times, emptyArrayUInt32())) AS ages,
    conv_time, conv_value, people
FROM
(
    SELECT any(p_tt) AS tt, any(p_tk) AS tk, any(p_ends_t) AS ends_t, any(p_ends_v) AS ends_v, count() AS people
    FROM
    (
        SELECT person_hash, tt AS p_tt, tk AS p_tk, ends_t AS p_ends_t, ends_v AS p_ends_v
        FROM
        (
            -- include: journeys.sql
        )
    )
    GROUP BY length(p_ends_t) = 1, if(length(p_ends_t) = 1, cityHash64(p_tk), person_hash)
)
ARRAY JOIN
    ends_t AS conv_time,
    ends_v AS conv_value,
    arrayEnumerate(ends_t) AS i
WHERE notEmpty(keys)
