-- The device and media register and take-outs (issue 17, parts 3 and 4). A device belongs to a
-- department and to a person or the department's lending pool; each lending is a row kept after
-- the return (the history). A register CSV is kept decoded between its preview and its import.
-- A take-out names a ledger entry, a device of the register or paper, and its last day; the
-- decision and the return or destruction are recorded on the row with who and when.
CREATE TABLE devices (
    id              INTEGER PRIMARY KEY,
    company_id      INTEGER NOT NULL REFERENCES companies(id),
    asset_tag       TEXT NOT NULL,
    kind            TEXT NOT NULL,          -- 'laptop' | 'phone' | 'usb' | 'media'
    model           TEXT NOT NULL DEFAULT '',
    serial          TEXT NOT NULL DEFAULT '',
    department_id   INTEGER NOT NULL REFERENCES departments(id),
    owner_user_id   INTEGER REFERENCES users(id),
    pool            INTEGER NOT NULL DEFAULT 0,   -- 1: the department's lending pool
    encryption      TEXT NOT NULL,          -- 'yes' | 'no' | 'unknown'
    remote_wipe     TEXT NOT NULL,          -- 'yes' | 'no' | 'unknown'
    state           TEXT NOT NULL,          -- 'in_use' | 'in_stock' | 'lent' | 'lost' | 'retired'
    note            TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT NOT NULL
);
CREATE UNIQUE INDEX devices_tag ON devices(company_id, asset_tag);
CREATE INDEX devices_list ON devices(company_id, department_id, kind, state);
CREATE INDEX devices_owner ON devices(owner_user_id);

CREATE TABLE device_loans (
    id               INTEGER PRIMARY KEY,
    device_id        INTEGER NOT NULL REFERENCES devices(id),
    company_id       INTEGER NOT NULL,
    borrower_id      INTEGER NOT NULL REFERENCES users(id),
    lent_at          INTEGER NOT NULL,
    lent_by          TEXT NOT NULL,
    due_on           TEXT NOT NULL,         -- YYYY-MM-DD (JST)
    purpose          TEXT NOT NULL DEFAULT '',
    returned_at      INTEGER,
    returned_by      TEXT,
    return_note      TEXT
);
CREATE INDEX device_loans_device ON device_loans(device_id, id);
CREATE INDEX device_loans_open ON device_loans(returned_at, due_on);
CREATE INDEX device_loans_borrower ON device_loans(borrower_id, returned_at);
-- At most one open lending per device.
CREATE UNIQUE INDEX device_loans_one_open ON device_loans(device_id) WHERE returned_at IS NULL;

CREATE TABLE device_imports (
    id              INTEGER PRIMARY KEY,
    company_id      INTEGER NOT NULL REFERENCES companies(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    file_name       TEXT NOT NULL,
    body            TEXT NOT NULL,          -- the file decoded to UTF-8
    created_at      INTEGER NOT NULL,
    applied_at      INTEGER
);

CREATE TABLE takeouts (
    id               INTEGER PRIMARY KEY,
    company_id       INTEGER NOT NULL REFERENCES companies(id),
    department_id    INTEGER NOT NULL REFERENCES departments(id),  -- the requester's
    requester_id     INTEGER NOT NULL REFERENCES users(id),
    dataset_id       INTEGER NOT NULL REFERENCES datasets(id),
    device_id        INTEGER REFERENCES devices(id),               -- NULL: on paper
    purpose          TEXT NOT NULL,
    until_on         TEXT NOT NULL,         -- YYYY-MM-DD (JST), the last day out
    status           TEXT NOT NULL,         -- 'requested' | 'approved' | 'refused' | 'closed' | 'withdrawn'
    requested_at     INTEGER NOT NULL,
    requested_on     TEXT NOT NULL,         -- YYYY-MM-DD (JST)
    decided_at       INTEGER,
    decided_by       INTEGER REFERENCES users(id),
    decision_reason  TEXT NOT NULL DEFAULT '',
    evidence         TEXT,                  -- 'returned' | 'destroyed'
    evidence_on      TEXT,                  -- YYYY-MM-DD, the day it happened
    evidence_note    TEXT NOT NULL DEFAULT '',
    evidence_at      INTEGER,
    evidence_by      INTEGER REFERENCES users(id)
);
CREATE INDEX takeouts_company ON takeouts(company_id, status, until_on);
CREATE INDEX takeouts_requester ON takeouts(requester_id, status);
