-- pending: how many mutations of database @db are not finished (18.16 has no failure
-- reason column: a failed mutation stays here).
SELECT count()
FROM system.mutations
WHERE database = @db AND is_done = 0
