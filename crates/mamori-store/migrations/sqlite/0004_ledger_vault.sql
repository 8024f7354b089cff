-- The ledger (個人情報管理台帳) and the vault (issue 5). See ARCHITECTURE.md "The ledger and the vault".

CREATE TABLE datasets (
    id              INTEGER PRIMARY KEY,
    company_id      INTEGER NOT NULL REFERENCES companies(id),
    department_id   INTEGER NOT NULL REFERENCES departments(id),
    name            TEXT NOT NULL,
    items           TEXT NOT NULL,              -- JSON array of appi.md §9 item codes
    card_data       INTEGER NOT NULL DEFAULT 0,
    persons         INTEGER,                    -- NULL: not known
    purpose         TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT '',
    storage_place   TEXT NOT NULL DEFAULT '',
    storage_method  TEXT NOT NULL DEFAULT '',
    access          TEXT NOT NULL DEFAULT '',
    use_until       TEXT,                       -- ISO date
    retain_until    TEXT,
    entrusted_to    TEXT NOT NULL DEFAULT '',
    entrusted_from  TEXT NOT NULL DEFAULT '',
    reviewed_at     INTEGER,
    reviewed_by     INTEGER REFERENCES users(id),
    review_due      TEXT NOT NULL,              -- ISO date
    vault_schema    TEXT,                       -- JSON; NULL when no records are kept in the vault
    retention       TEXT,                       -- JSON retention rule
    created_at      INTEGER NOT NULL,
    created_by      INTEGER,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1,
    UNIQUE (company_id, name)
);
CREATE INDEX datasets_company_dept ON datasets (company_id, department_id);

CREATE TABLE dataset_reviews (
    id           INTEGER PRIMARY KEY,
    dataset_id   INTEGER NOT NULL REFERENCES datasets(id),
    reviewed_at  INTEGER NOT NULL,
    reviewed_by  INTEGER NOT NULL REFERENCES users(id),
    comment      TEXT NOT NULL,
    next_due     TEXT NOT NULL
);
CREATE INDEX dataset_reviews_dataset ON dataset_reviews (dataset_id, id);

CREATE TABLE incident_datasets (
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    dataset_id   INTEGER NOT NULL REFERENCES datasets(id),
    PRIMARY KEY (incident_id, dataset_id)
);

-- One row per master key version: a check value proves at start that the key given is the one
-- the data was wrapped with.
CREATE TABLE vault_keys (
    version      INTEGER PRIMARY KEY,
    check_value  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    retired_at   INTEGER
);

CREATE TABLE vault_counters (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    next_id  INTEGER NOT NULL
);
INSERT INTO vault_counters (id, next_id) VALUES (1, 1);

CREATE TABLE vault_imports (
    id           INTEGER PRIMARY KEY,
    dataset_id   INTEGER NOT NULL REFERENCES datasets(id),
    file_name    TEXT NOT NULL,
    file_sha256  TEXT NOT NULL,
    mapping      TEXT NOT NULL,                 -- JSON: column → field
    status       TEXT NOT NULL,                 -- running | done | rolled_back
    next_row     INTEGER NOT NULL DEFAULT 0,
    imported     INTEGER NOT NULL DEFAULT 0,
    rejected     INTEGER NOT NULL DEFAULT 0,
    started_by   INTEGER,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX vault_imports_dataset ON vault_imports (dataset_id, file_sha256);

CREATE TABLE vault_import_rejects (
    import_id  INTEGER NOT NULL REFERENCES vault_imports(id),
    row_no     INTEGER NOT NULL,
    field      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    PRIMARY KEY (import_id, row_no)
);

-- A record: its fields sealed with the person's data key (one column), and the one date a
-- retention rule counts from.
CREATE TABLE vault_records (
    id              INTEGER PRIMARY KEY,
    dataset_id      INTEGER NOT NULL REFERENCES datasets(id),
    import_id       INTEGER,
    import_row      INTEGER,
    sealed          TEXT NOT NULL,
    retention_date  TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    scrubbed_at     INTEGER,
    erased_at       INTEGER
);
CREATE UNIQUE INDEX vault_records_import ON vault_records (import_id, import_row);
CREATE INDEX vault_records_dataset ON vault_records (dataset_id, id);
CREATE INDEX vault_records_retention ON vault_records (dataset_id, retention_date)
    WHERE retention_date IS NOT NULL;

-- The person's data key, wrapped by a master key version. Deleting the row shreds the record.
CREATE TABLE vault_deks (
    record_id    INTEGER PRIMARY KEY,
    key_version  INTEGER NOT NULL,
    wrapped      TEXT NOT NULL
);

-- Blind index: keyed digests of normalised values (the key is derived per dataset and class),
-- the first 64 bits as an integer; a lookup confirms each hit against the opened value.
CREATE TABLE vault_index (
    digest     INTEGER NOT NULL,
    record_id  INTEGER NOT NULL,
    PRIMARY KEY (digest, record_id)
) WITHOUT ROWID;

CREATE TABLE vault_grants (
    id          INTEGER PRIMARY KEY,
    company_id  INTEGER NOT NULL REFERENCES companies(id),
    dataset_id  INTEGER NOT NULL REFERENCES datasets(id),
    grantee_id  INTEGER NOT NULL REFERENCES users(id),
    fields      TEXT NOT NULL,                  -- JSON array of field names
    purpose     TEXT NOT NULL,
    may_export  INTEGER NOT NULL DEFAULT 0,
    issued_by   INTEGER NOT NULL REFERENCES users(id),
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    revoked_by  INTEGER REFERENCES users(id)
);
CREATE INDEX vault_grants_grantee ON vault_grants (grantee_id, dataset_id);
CREATE INDEX vault_grants_company ON vault_grants (company_id, id);

CREATE TABLE vault_retention_runs (
    id          INTEGER PRIMARY KEY,
    dataset_id  INTEGER NOT NULL REFERENCES datasets(id),
    ran_at      INTEGER NOT NULL,
    rule        TEXT NOT NULL,
    cutoff      TEXT NOT NULL,
    scrubbed    INTEGER NOT NULL,
    deleted     INTEGER NOT NULL,
    failed      INTEGER NOT NULL
);
CREATE INDEX vault_retention_runs_dataset ON vault_retention_runs (dataset_id, id);

CREATE TABLE vault_erasures (
    id          INTEGER PRIMARY KEY,
    dataset_id  INTEGER NOT NULL REFERENCES datasets(id),
    record_id   INTEGER NOT NULL,
    erased_at   INTEGER NOT NULL,
    erased_by   TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX vault_erasures_dataset ON vault_erasures (dataset_id, id);
