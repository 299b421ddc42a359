-- channel_ranks: included by stages.sql where it says `-- include: channel_ranks.sql`. Every
-- channel name of the site's events in the period, numbered from 1 in sorted order
-- (channel_name, rank): stages keeps a channel in a number array by its rank, and turns the
-- ranks of its top channels back into names.
SELECT channel_name, toUInt64(channel_rank) AS rank
FROM
(
    SELECT arraySort(groupUniqArray(channel)) AS names
    FROM $db.events
    WHERE site_id = $site AND toDate(ts) >= toDate($from, 'UTC') AND toDate(ts) <= toDate($until - 1, 'UTC') AND ts >= $from AND ts < $until
)
ARRAY JOIN names AS channel_name, arrayEnumerate(names) AS channel_rank
WHERE channel_name != ''
