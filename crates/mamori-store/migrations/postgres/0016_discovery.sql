-- Discovery (issue 16, part 2): folders on the server scanned on a schedule, and the signed
-- reports people upload from their own PCs; each scan, and each file with what was found in it
-- last. Masked samples are sealed by the application (`samples_sealed`); kinds and counts stay
-- clear for the figures. A file may be tied to a ledger entry, or recorded as deleted.
CREATE TABLE discovery_locations (
    id              BIGSERIAL PRIMARY KEY,
    company_id      BIGINT NOT NULL REFERENCES companies(id),
    department_id   BIGINT NOT NULL REFERENCES departments(id),
    kind            TEXT NOT NULL,          -- 'folder' | 'device' (reports of one person's PC)
    name            TEXT NOT NULL,
    path            TEXT NOT NULL,          -- the folder; the host name for a device
    owner_user_id   BIGINT REFERENCES users(id),
    interval_hours  BIGINT NOT NULL,       -- 0: only when asked
    enabled         BIGINT NOT NULL DEFAULT 1,
    next_scan_at    BIGINT,
    created_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE UNIQUE INDEX discovery_locations_name ON discovery_locations(company_id, name);
CREATE INDEX discovery_locations_due ON discovery_locations(next_scan_at);

CREATE TABLE discovery_scans (
    id                 BIGSERIAL PRIMARY KEY,
    location_id        BIGINT NOT NULL REFERENCES discovery_locations(id),
    company_id         BIGINT NOT NULL,
    source             TEXT NOT NULL,       -- 'schedule' | 'manual' | 'report'
    status             TEXT NOT NULL,       -- 'queued' | 'running' | 'done' | 'failed'
    requested_by       TEXT NOT NULL,
    queued_at          BIGINT NOT NULL,
    started_at         BIGINT,
    finished_at        BIGINT,
    lease_until        BIGINT,
    worker             TEXT,
    files_seen         BIGINT NOT NULL DEFAULT 0,
    files_read         BIGINT NOT NULL DEFAULT 0,
    files_unchanged    BIGINT NOT NULL DEFAULT 0,
    files_with_data    BIGINT NOT NULL DEFAULT 0,
    files_not_read     BIGINT NOT NULL DEFAULT 0,
    files_removed      BIGINT NOT NULL DEFAULT 0,
    files_total        BIGINT,
    bytes_read         BIGINT NOT NULL DEFAULT 0,
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
    id                 BIGSERIAL PRIMARY KEY,
    location_id        BIGINT NOT NULL REFERENCES discovery_locations(id),
    company_id         BIGINT NOT NULL,
    path               TEXT NOT NULL,       -- relative to the location
    size               BIGINT NOT NULL,
    mtime              BIGINT NOT NULL,
    sha256             TEXT NOT NULL,
    scanner            TEXT NOT NULL,
    format             TEXT NOT NULL,
    status             TEXT NOT NULL,       -- 'scanned' | 'skipped' | 'failed'
    reason             TEXT,
    counts             TEXT NOT NULL,
    prev_counts        TEXT,
    change             TEXT NOT NULL,       -- 'new' | 'changed' | 'unchanged' | 'removed'
    samples_sealed     TEXT,
    first_scan_id      BIGINT NOT NULL,
    last_scan_id       BIGINT NOT NULL,
    changed_scan_id    BIGINT NOT NULL,
    ledger_dataset_id  BIGINT REFERENCES datasets(id),
    disposition        TEXT,                -- 'deleted'
    disposition_note   TEXT,
    disposition_by     TEXT,
    disposition_at     BIGINT
);
CREATE UNIQUE INDEX discovery_files_path ON discovery_files(location_id, path);
CREATE INDEX discovery_files_scan ON discovery_files(location_id, changed_scan_id);

CREATE TABLE scan_keys (
    key_id       TEXT PRIMARY KEY,
    company_id   BIGINT NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users(id),
    public_key   TEXT NOT NULL,
    label        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    revoked_by   TEXT
);
CREATE INDEX scan_keys_user ON scan_keys(user_id);
