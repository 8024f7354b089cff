-- Discovery (issue 16, part 2): folders on the server scanned on a schedule, and the signed
-- reports people upload from their own PCs; each scan, and each file with what was found in it
-- last. Masked samples are sealed by the application (`samples_sealed`); kinds and counts stay
-- clear for the figures. A file may be tied to a ledger entry, or recorded as deleted.
CREATE TABLE discovery_locations (
    id              INTEGER PRIMARY KEY,
    company_id      INTEGER NOT NULL REFERENCES companies(id),
    department_id   INTEGER NOT NULL REFERENCES departments(id),
    kind            TEXT NOT NULL,          -- 'folder' | 'device' (reports of one person's PC)
    name            TEXT NOT NULL,
    path            TEXT NOT NULL,          -- the folder; the host name for a device
    owner_user_id   INTEGER REFERENCES users(id),
    interval_hours  INTEGER NOT NULL,       -- 0: only when asked
    enabled         INTEGER NOT NULL DEFAULT 1,
    next_scan_at    INTEGER,
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE UNIQUE INDEX discovery_locations_name ON discovery_locations(company_id, name);
CREATE INDEX discovery_locations_due ON discovery_locations(next_scan_at);

CREATE TABLE discovery_scans (
    id                 INTEGER PRIMARY KEY,
    location_id        INTEGER NOT NULL REFERENCES discovery_locations(id),
    company_id         INTEGER NOT NULL,
    source             TEXT NOT NULL,       -- 'schedule' | 'manual' | 'report'
    status             TEXT NOT NULL,       -- 'queued' | 'running' | 'done' | 'failed'
    requested_by       TEXT NOT NULL,
    queued_at          INTEGER NOT NULL,
    started_at         INTEGER,
    finished_at        INTEGER,
    lease_until        INTEGER,
    worker             TEXT,
    files_seen         INTEGER NOT NULL DEFAULT 0,
    files_read         INTEGER NOT NULL DEFAULT 0,
    files_unchanged    INTEGER NOT NULL DEFAULT 0,
    files_with_data    INTEGER NOT NULL DEFAULT 0,
    files_not_read     INTEGER NOT NULL DEFAULT 0,
    files_removed      INTEGER NOT NULL DEFAULT 0,
    files_total        INTEGER,
    bytes_read         INTEGER NOT NULL DEFAULT 0,
    counts             TEXT NOT NULL DEFAULT '{}',
    error              TEXT,
    report_sha256      TEXT,
    report_key_id      TEXT,
    report_scanned_at  TEXT
);
CREATE INDEX discovery_scans_location ON discovery_scans(location_id, id);
CREATE INDEX discovery_scans_status ON discovery_scans(status, id);
CREATE UNIQUE INDEX discovery_scans_report ON discovery_scans(report_sha256);

CREATE TABLE discovery_files (
    id                 INTEGER PRIMARY KEY,
    location_id        INTEGER NOT NULL REFERENCES discovery_locations(id),
    company_id         INTEGER NOT NULL,
    path               TEXT NOT NULL,       -- relative to the location
    size               INTEGER NOT NULL,
    mtime              INTEGER NOT NULL,
    sha256             TEXT NOT NULL,
    scanner            TEXT NOT NULL,
    format             TEXT NOT NULL,
    status             TEXT NOT NULL,       -- 'scanned' | 'skipped' | 'failed'
    reason             TEXT,
    counts             TEXT NOT NULL,
    prev_counts        TEXT,
    change             TEXT NOT NULL,       -- 'new' | 'changed' | 'unchanged' | 'removed'
    samples_sealed     TEXT,
    first_scan_id      INTEGER NOT NULL,
    last_scan_id       INTEGER NOT NULL,
    changed_scan_id    INTEGER NOT NULL,
    ledger_dataset_id  INTEGER REFERENCES datasets(id),
    disposition        TEXT,                -- 'deleted'
    disposition_note   TEXT,
    disposition_by     TEXT,
    disposition_at     INTEGER
);
CREATE UNIQUE INDEX discovery_files_path ON discovery_files(location_id, path);
CREATE INDEX discovery_files_scan ON discovery_files(location_id, changed_scan_id);

CREATE TABLE scan_keys (
    key_id       TEXT PRIMARY KEY,
    company_id   INTEGER NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    public_key   TEXT NOT NULL,
    label        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    revoked_by   TEXT
);
CREATE INDEX scan_keys_user ON scan_keys(user_id);
