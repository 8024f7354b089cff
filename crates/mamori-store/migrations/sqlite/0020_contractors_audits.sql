-- Contractors (委託先) and internal audit (issue 17, parts 5 and 6).
--
-- A contractor is owned by a department and linked to the ledger entries it handles. Its
-- checklist (selection checks and seed 004's contract clauses) and its reviews are
-- append-only rows with who and when: the current state of an item is its newest row. An
-- incident may name the contractor involved.
CREATE TABLE contractors (
    id               INTEGER PRIMARY KEY,
    company_id       INTEGER NOT NULL REFERENCES companies(id),
    department_id    INTEGER NOT NULL REFERENCES departments(id),
    name             TEXT NOT NULL,
    address          TEXT NOT NULL,
    contact_person   TEXT NOT NULL,
    contact          TEXT NOT NULL,          -- telephone or mail of the contact person
    work             TEXT NOT NULL,          -- what they do for the company
    interval_months  INTEGER NOT NULL,
    next_review_on   TEXT NOT NULL,          -- YYYY-MM-DD (JST)
    created_at       INTEGER NOT NULL,
    created_by       TEXT NOT NULL,
    updated_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX contractors_name ON contractors(company_id, name);
CREATE INDEX contractors_due ON contractors(next_review_on);

CREATE TABLE contractor_datasets (
    contractor_id    INTEGER NOT NULL REFERENCES contractors(id),
    dataset_id       INTEGER NOT NULL REFERENCES datasets(id),
    PRIMARY KEY (contractor_id, dataset_id)
);
CREATE INDEX contractor_datasets_dataset ON contractor_datasets(dataset_id);

CREATE TABLE contractor_checks (
    id               INTEGER PRIMARY KEY,
    contractor_id    INTEGER NOT NULL REFERENCES contractors(id),
    item             TEXT NOT NULL,          -- 'assessment' | 'certification' | 'purpose' | …
    status           TEXT NOT NULL,          -- 'met' | 'not_met' | 'unchecked'
    document         TEXT NOT NULL,          -- the evidence: a document's name
    document_on      TEXT,                   -- its date (YYYY-MM-DD)
    note             TEXT NOT NULL,
    by_user          INTEGER REFERENCES users(id),
    by_name          TEXT NOT NULL,
    at               INTEGER NOT NULL
);
CREATE INDEX contractor_checks_item ON contractor_checks(contractor_id, item, id);

CREATE TABLE contractor_reviews (
    id               INTEGER PRIMARY KEY,
    contractor_id    INTEGER NOT NULL REFERENCES contractors(id),
    reviewed_on      TEXT NOT NULL,
    result           TEXT NOT NULL,          -- 'satisfactory' | 'improvements' | 'terminate'
    note             TEXT NOT NULL,
    next_review_on   TEXT NOT NULL,
    by_user          INTEGER REFERENCES users(id),
    by_name          TEXT NOT NULL,
    at               INTEGER NOT NULL
);
CREATE INDEX contractor_reviews_contractor ON contractor_reviews(contractor_id, id);

ALTER TABLE incidents ADD COLUMN contractor_id INTEGER REFERENCES contractors(id);

-- The yearly plan and its audits; findings and the history of corrective actions are
-- append-only.
CREATE TABLE audit_plans (
    id               INTEGER PRIMARY KEY,
    company_id       INTEGER NOT NULL REFERENCES companies(id),
    year             INTEGER NOT NULL,
    note             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    created_by       TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_plans_year ON audit_plans(company_id, year);

CREATE TABLE audits (
    id               INTEGER PRIMARY KEY,
    plan_id          INTEGER NOT NULL REFERENCES audit_plans(id),
    company_id       INTEGER NOT NULL REFERENCES companies(id),
    department_id    INTEGER NOT NULL REFERENCES departments(id),
    planned_on       TEXT NOT NULL,          -- YYYY-MM-DD
    auditor_id       INTEGER NOT NULL REFERENCES users(id),
    status           TEXT NOT NULL,          -- 'planned' | 'done'
    done_on          TEXT,
    summary          TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    created_by       TEXT NOT NULL
);
CREATE INDEX audits_plan ON audits(plan_id, planned_on);
CREATE INDEX audits_auditor ON audits(auditor_id);

CREATE TABLE audit_findings (
    id               INTEGER PRIMARY KEY,
    audit_id         INTEGER NOT NULL REFERENCES audits(id),
    severity         TEXT NOT NULL,          -- 'major' | 'minor' | 'observation'
    description      TEXT NOT NULL,
    rule             TEXT NOT NULL,          -- the rule it breaks (a clause of a policy, JIS Q 15001)
    by_user          INTEGER REFERENCES users(id),
    by_name          TEXT NOT NULL,
    at               INTEGER NOT NULL
);
CREATE INDEX audit_findings_audit ON audit_findings(audit_id, id);

CREATE TABLE audit_actions (
    id               INTEGER PRIMARY KEY,
    finding_id       INTEGER NOT NULL REFERENCES audit_findings(id),
    description      TEXT NOT NULL,
    owner_id         INTEGER NOT NULL REFERENCES users(id),
    due_on           TEXT NOT NULL,
    status           TEXT NOT NULL,          -- 'open' | 'in_progress' | 'done'
    created_at       INTEGER NOT NULL,
    created_by       TEXT NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX audit_actions_finding ON audit_actions(finding_id, id);
CREATE INDEX audit_actions_owner ON audit_actions(owner_id, status);

CREATE TABLE audit_action_updates (
    id               INTEGER PRIMARY KEY,
    action_id        INTEGER NOT NULL REFERENCES audit_actions(id),
    status           TEXT NOT NULL,
    note             TEXT NOT NULL,
    by_user          INTEGER REFERENCES users(id),
    by_name          TEXT NOT NULL,
    at               INTEGER NOT NULL
);
CREATE INDEX audit_action_updates_action ON audit_action_updates(action_id, id);
