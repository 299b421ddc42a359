-- erasures: every erased id (the tombstones journeyd erase writes, migration 0024) with the
-- time of its latest erasure, unix ms.
SELECT site_id, kind, id, max(erased_ms) AS erased_ms
FROM $db.erasures
GROUP BY site_id, kind, id
