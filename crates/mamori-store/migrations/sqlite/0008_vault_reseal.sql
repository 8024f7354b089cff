-- Issue 12: a sealed vault record is bound to its dataset, its id and its fields' stable ids
-- (format 3) instead of the schema's field names (format 2), so a grown schema never locks
-- records away. The records are re-sealed by the job `vault.reseal` (it needs the keys, so it
-- cannot run here): queue it once, due at once, when there are records to upgrade.
INSERT INTO jobs (kind, payload, run_at, created_at)
SELECT 'vault.reseal', '', 0,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000000
WHERE EXISTS (SELECT 1 FROM vault_records WHERE erased_at IS NULL);

-- Counters for rate limits shared by every process (vault lookups per user): one row per key
-- and fixed window.
CREATE TABLE rate_counts (
    key           TEXT NOT NULL,
    window_start  INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
