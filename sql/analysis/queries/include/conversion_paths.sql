-- conversion_paths: included by attribution.sql, paths.sql and time-to-convert.sql where they
-- say `-- include: conversion_paths.sql` (paste this file there, and journeys.sql into it).
-- One row per conversion and per null path of every person: converted (1, or 0 for the
-- touchpoints after the last conversion), the touchpoint keys and times of the journey in
-- time order, their ages in days before the conversion (rounded to 0.1 day; computed here,
-- as 18.16 cannot see conv_time from a lambda one query further out), and the conversion's
-- time and value. A conversion's journey is the
-- touchpoints before it, within $lookback, after the previous conversion. Journeys without
-- a touchpoint are left out.
SELECT
    toUInt8(i < length(ends_t)) AS converted,
    if(i = 1, toUInt32(0), ends_t[i - 1]) AS previous,
    if(converted = 1, conv_time, toUInt32(4294967295)) AS until,
    toUInt32(if(converted = 1, greatest(toInt64(conv_time) - $lookback, 0), 0)) AS since,
    arrayMap(x -> x > previous AND x <= until AND x >= since, tt) AS mask,
    arrayFilter((k, m) -> m = 1, tk, mask) AS keys,
    arrayFilter((x, m) -> m = 1, tt, mask) AS times,
    if(converted = 1, arrayMap(x -> round((conv_time - x) / 86400, 1), times), emptyArrayFloat64()) AS ages,
    conv_time, conv_value
FROM
(
    -- include: journeys.sql
)
ARRAY JOIN
    ends_t AS conv_time,
    ends_v AS conv_value,
    arrayEnumerate(ends_t) AS i
WHERE notEmpty(keys)
