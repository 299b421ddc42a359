-- nodes: the servers of cluster @cluster, a row per replica of each shard, and whether the
-- events of database @db are on a Replicated engine there (then a deletion run on one
-- replica of a shard reaches the others through ZooKeeper).
SELECT
    shard_num,
    concat(host_address, ':', toString(port)) AS addr,
    (SELECT count() FROM system.tables WHERE database = @db AND name = 'events_local' AND engine LIKE 'Replicated%') AS replicated
FROM system.clusters
WHERE cluster = @cluster
ORDER BY shard_num, replica_num
