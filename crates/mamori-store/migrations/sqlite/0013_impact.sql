-- Issue 14: impact analysis. One row per affected person per incident, matched to a vault
-- record or not (a campaign makes one recipient per row). `items` is the comma-separated appi
-- item codes that leaked for this person (the union over every source). An unmatched person's
-- contact data (what the leak itself holds) is sealed with the vault's keys in
-- `contact_sealed`; a matched person's comes from the vault record. `dedupe_key` is
-- `r:<record id>` when matched, else a keyed digest of the best contact value (never a plain
-- value), so the same person in two files is one person.
CREATE TABLE impact_persons (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    record_id       INTEGER,
    dataset_id      INTEGER,
    strength        TEXT NOT NULL,
    items           TEXT NOT NULL,
    contact_sealed  TEXT,
    dedupe_key      TEXT NOT NULL,
    sources         INTEGER NOT NULL,
    first_locator   TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (incident_id, dedupe_key)
);

-- Every source row (a file's row, or a record of the system side; `file_id` 0) counted once,
-- so a batch sent again changes nothing.
CREATE TABLE impact_sources (
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    file_id      INTEGER NOT NULL,
    locator      TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL,
    PRIMARY KEY (incident_id, file_id, locator)
) WITHOUT ROWID;

-- The blind index gained the class name + address (index format 2). Existing records get their
-- new terms from the job `vault.reindex` (it needs the keys, so it cannot run here).
INSERT INTO jobs (kind, payload, run_at, created_at)
SELECT 'vault.reindex', '', 0,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000000
WHERE EXISTS (SELECT 1 FROM vault_records WHERE erased_at IS NULL);
