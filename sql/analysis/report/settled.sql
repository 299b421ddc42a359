-- settled: whether ClickHouse is writing anything that a read of touch_rows could see in
-- part (daystore.go): the INSERT queries running on the server (of any database: an insert
-- into events writes the events first and session_aggregates from its view after them)
-- and the mutations of the database not done yet (an erasure's ALTER ... DELETE rewrites
-- events, session_aggregates and identities in the background, one after the other), and
-- whether events is a Distributed table (a cluster's: its inserts run on other servers, and
-- reach the shards later, which this server's processes do not show), which is never
-- settled. 0: settled.
--
-- Run by hand in clickhouse-client: replace
--   $database    the database's name, quoted: 'journeyd'
SELECT
    (SELECT count() FROM system.processes WHERE match(query, '^\\s*(?i:insert)'))
    + (SELECT count() FROM system.mutations WHERE database = $database AND is_done = 0)
    + (SELECT count() FROM system.tables WHERE database = $database AND name = 'events' AND engine = 'Distributed') AS busy
