-- Incidents: the first report and everything that follows from it. Times are microseconds since
-- the Unix epoch (UTC); legal dates are ISO dates (YYYY-MM-DD) in Japan; booleans are 0/1.

CREATE TABLE incidents (
    id               INTEGER PRIMARY KEY,
    company_id       INTEGER NOT NULL REFERENCES companies(id),
    ref_no           TEXT NOT NULL,
    drill            INTEGER NOT NULL DEFAULT 0,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL,
    actions_taken    TEXT NOT NULL,
    found_by         TEXT NOT NULL,
    reporter_id      INTEGER NOT NULL REFERENCES users(id),
    department_id    INTEGER NOT NULL REFERENCES departments(id),
    status           TEXT NOT NULL,
    phase            TEXT NOT NULL,
    facts            TEXT NOT NULL,
    assessment       TEXT NOT NULL,
    reportable       INTEGER NOT NULL,
    persons          INTEGER,
    occurred_at      INTEGER,
    found_at         INTEGER NOT NULL,
    knew_at          INTEGER NOT NULL,
    acknowledged_at  INTEGER,
    acknowledged_by  TEXT,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    closed_at        INTEGER,
    UNIQUE (company_id, ref_no)
);
CREATE INDEX incidents_company_created ON incidents(company_id, created_at, id);
CREATE INDEX incidents_company_status ON incidents(company_id, status, created_at, id);
CREATE INDEX incidents_reporter ON incidents(reporter_id, created_at);

-- The reporting line fixed when the incident was filed: the reporter's department and the
-- incident's department, each with every department above it.
CREATE TABLE incident_line (
    incident_id    INTEGER NOT NULL REFERENCES incidents(id),
    department_id  INTEGER NOT NULL REFERENCES departments(id),
    PRIMARY KEY (incident_id, department_id)
);
CREATE INDEX incident_line_department ON incident_line(department_id, incident_id);

-- The timeline: append-only; edits add entries, nothing is rewritten.
CREATE TABLE incident_events (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    at           INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    text         TEXT NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events(incident_id, id);
CREATE TRIGGER incident_events_no_update BEFORE UPDATE ON incident_events
BEGIN SELECT RAISE(ABORT, 'incident_events is append-only'); END;
CREATE TRIGGER incident_events_no_delete BEFORE DELETE ON incident_events
BEGIN SELECT RAISE(ABORT, 'incident_events is append-only'); END;

-- Every version of the first and second report (第一報・第二報).
CREATE TABLE incident_reports (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    kind         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_by   INTEGER REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    UNIQUE (incident_id, kind, version)
);
CREATE TRIGGER incident_reports_no_update BEFORE UPDATE ON incident_reports
BEGIN SELECT RAISE(ABORT, 'incident_reports keeps every version'); END;

CREATE TABLE obligations (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    kind         TEXT NOT NULL,
    due_on       TEXT,
    warn_on      TEXT,
    basis        TEXT NOT NULL,
    status       TEXT NOT NULL,
    done_at      INTEGER,
    done_by      TEXT,
    updated_at   INTEGER NOT NULL,
    UNIQUE (incident_id, kind)
);
CREATE INDEX obligations_due ON obligations(status, due_on);

CREATE TABLE tasks (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    phase        TEXT NOT NULL,
    title        TEXT NOT NULL,
    owner_id     INTEGER REFERENCES users(id),
    due_on       TEXT,
    status       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    done_at      INTEGER
);
CREATE INDEX tasks_incident ON tasks(incident_id, phase, id);
CREATE INDEX tasks_due ON tasks(status, due_on);

-- A reminder (of an obligation or a task) is sent once per key.
CREATE TABLE reminders_sent (
    subject  TEXT NOT NULL,
    key      TEXT NOT NULL,
    sent_at  INTEGER NOT NULL,
    PRIMARY KEY (subject, key)
);

-- Who is alerted, level by level: level 1 at once, level 2 when nobody acknowledged in time …
CREATE TABLE call_tree (
    company_id  INTEGER NOT NULL REFERENCES companies(id),
    level       INTEGER NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (company_id, level, user_id)
);

CREATE TABLE alert_settings (
    company_id          INTEGER PRIMARY KEY REFERENCES companies(id),
    escalate_after_secs INTEGER NOT NULL
);

CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    incident_id      INTEGER NOT NULL REFERENCES incidents(id),
    level            INTEGER NOT NULL,
    user_id          INTEGER NOT NULL REFERENCES users(id),
    token_hash       TEXT NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL,
    acknowledged_at  INTEGER
);
CREATE INDEX alerts_incident ON alerts(incident_id, level);

-- Mail waiting for, or done with, delivery. The body is sealed (it may name people).
CREATE TABLE mail_outbox (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER REFERENCES incidents(id),
    kind         TEXT NOT NULL,
    to_addr      TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER
);
CREATE INDEX mail_outbox_incident ON mail_outbox(incident_id, id);

CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    company_id  INTEGER NOT NULL REFERENCES companies(id),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);

-- Every version of the report to the PPC, per stage (preliminary / final).
CREATE TABLE ppc_reports (
    id            INTEGER PRIMARY KEY,
    incident_id   INTEGER NOT NULL REFERENCES incidents(id),
    stage         TEXT NOT NULL,
    version       INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_by    INTEGER REFERENCES users(id),
    created_at    INTEGER NOT NULL,
    submitted_at  INTEGER,
    submitted_by  TEXT,
    UNIQUE (incident_id, stage, version)
);

-- The publication decision: every recording is a new row.
CREATE TABLE publication_decisions (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    viewpoints      TEXT NOT NULL,
    recommendation  TEXT NOT NULL,
    reasons         TEXT NOT NULL,
    decision        TEXT,
    decision_reason TEXT,
    recorded_by     TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX publication_decisions_incident ON publication_decisions(incident_id, id);

-- The recurrence-prevention report: every step is a new row.
CREATE TABLE recurrence_reports (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    state        TEXT NOT NULL,
    body         TEXT NOT NULL,
    comment      TEXT NOT NULL,
    actor        TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX recurrence_reports_incident ON recurrence_reports(incident_id, id);

-- Reference numbers per company and year (2026-0001, 2026-0002, …).
CREATE TABLE incident_counters (
    company_id  INTEGER NOT NULL REFERENCES companies(id),
    year        INTEGER NOT NULL,
    last        INTEGER NOT NULL,
    PRIMARY KEY (company_id, year)
);
