-- day_parts: the data parts of the events table, active and not (printcache.go): a part's
-- name, whether it is active, and the least and the most event time of its rows (Unix
-- seconds; both 0 when the table's partition key does not hold ts). A part is never changed
-- in place and a name is never given twice: an insert, a merge (which drops replayed
-- copies) and a mutation (an erasure) each make new parts, and the parts they replace stay
-- listed, inactive, for old_parts_lifetime (8 minutes by default). Two lists alike tell
-- that no event changed between them; the parts in one list and not in the other tell
-- which days may have changed. Selecting `active` lists the inactive parts too. A table
-- with no parts here (a Distributed or Buffer table, whose events are elsewhere) tells
-- nothing.
--
-- Run by hand in clickhouse-client: replace
--   $database    the database's name, quoted: 'journeyd'
SELECT name, active, toUInt32(min_time) AS min_t, toUInt32(max_time) AS max_t
FROM system.parts
WHERE database = $database AND table = 'events'
