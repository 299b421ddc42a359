-- erasures: the tombstones of erased people (journeyd erase), one row per erased id: the
-- site, the kind of id ('user' or 'anon'), the id, and when it was erased (unix ms, the
-- erase command's clock). Every journeyd reads them: the sessionizer forgets the links of
-- an erased id, and an event of an erased id received before the erasure is dropped on its
-- way to the writer, so neither a spool replay after a crash nor an insert in flight brings
-- it back (sql/store/erase). Events of the id received after the erasure are new data.
-- Kept for ever: a few bytes per erased id.
CREATE TABLE IF NOT EXISTS {db}.erasures
(
    site_id String,
    kind String,
    id String,
    erased_ms UInt64
)
ENGINE = MergeTree()
ORDER BY (site_id, kind, id);
