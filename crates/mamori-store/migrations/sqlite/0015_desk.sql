-- The contact desk (issue 15): inquiries from the telephone, mail and the public form, the mails
-- of a thread, mails that could not be read, FAQ entries in versions, survey answers, the
-- "am I affected?" checks waiting for their mail, and the daily digests sent. Whatever a person
-- said or typed is sealed by the application (the `*_sealed` columns); codes, times and counts
-- stay clear for the figures.
CREATE TABLE inquiries (
    id                 INTEGER PRIMARY KEY,
    company_id         INTEGER NOT NULL,
    incident_id        INTEGER NOT NULL REFERENCES incidents(id),
    channel            TEXT NOT NULL,
    caller_type        TEXT NOT NULL,
    category           TEXT NOT NULL,
    status             TEXT NOT NULL,
    source             TEXT NOT NULL,
    caller_sealed      TEXT,
    question_sealed    TEXT NOT NULL,
    answer_sealed      TEXT,
    person_kind        TEXT,
    person_id          INTEGER,
    escalation_sealed  TEXT,
    escalated_at       INTEGER,
    escalated_by       TEXT,
    reply_sealed       TEXT,
    replied_at         INTEGER,
    replied_by         TEXT,
    operator           TEXT NOT NULL,
    operator_id        INTEGER,
    handling_secs      INTEGER,
    thread_key         TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    closed_at          INTEGER,
    day                TEXT NOT NULL
);
CREATE INDEX inquiries_incident ON inquiries(incident_id, id);
CREATE INDEX inquiries_company_status ON inquiries(company_id, status, id);
CREATE INDEX inquiries_company_day ON inquiries(company_id, day);
CREATE UNIQUE INDEX inquiries_thread ON inquiries(incident_id, thread_key);

CREATE TABLE inquiry_messages (
    id              INTEGER PRIMARY KEY,
    inquiry_id      INTEGER NOT NULL REFERENCES inquiries(id),
    message_key     TEXT NOT NULL UNIQUE,
    sender_sealed   TEXT,
    subject_sealed  TEXT NOT NULL,
    body_sealed     TEXT NOT NULL,
    sent_at         INTEGER,
    imported_at     INTEGER NOT NULL,
    imported_by     TEXT NOT NULL
);
CREATE INDEX inquiry_messages_inquiry ON inquiry_messages(inquiry_id, id);

CREATE TABLE inquiry_quarantine (
    id            INTEGER PRIMARY KEY,
    incident_id   INTEGER NOT NULL REFERENCES incidents(id),
    file_name     TEXT NOT NULL,
    position      INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    raw_sealed    TEXT,
    at            INTEGER NOT NULL,
    actor         TEXT NOT NULL
);
CREATE INDEX inquiry_quarantine_incident ON inquiry_quarantine(incident_id, id);

CREATE TABLE faq_entries (
    id                 INTEGER PRIMARY KEY,
    incident_id        INTEGER NOT NULL REFERENCES incidents(id),
    category           TEXT NOT NULL,
    status             TEXT NOT NULL,
    published_version  INTEGER,
    position           INTEGER NOT NULL DEFAULT 0,
    created_by         TEXT NOT NULL,
    created_at         INTEGER NOT NULL
);
CREATE INDEX faq_entries_incident ON faq_entries(incident_id, id);

CREATE TABLE faq_versions (
    id            INTEGER PRIMARY KEY,
    entry_id      INTEGER NOT NULL REFERENCES faq_entries(id),
    version       INTEGER NOT NULL,
    question_ja   TEXT NOT NULL,
    answer_ja     TEXT NOT NULL,
    question_en   TEXT,
    answer_en     TEXT,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    approved_by   TEXT,
    approved_at   INTEGER,
    UNIQUE (entry_id, version)
);

CREATE TABLE survey_responses (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    score           INTEGER NOT NULL,
    understood      INTEGER,
    comment_sealed  TEXT,
    at              INTEGER NOT NULL,
    day             TEXT NOT NULL
);
CREATE INDEX survey_responses_incident ON survey_responses(incident_id, id);

CREATE TABLE affected_checks (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    address_sealed  TEXT NOT NULL,
    lang            TEXT NOT NULL,
    requested_at    INTEGER NOT NULL,
    claimed_until   INTEGER,
    sent_at         INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    problem         TEXT
);
CREATE INDEX affected_checks_pending ON affected_checks(sent_at, id);

CREATE TABLE desk_digests (
    company_id  INTEGER NOT NULL,
    day         TEXT NOT NULL,
    sent_at     INTEGER NOT NULL,
    inquiries   INTEGER NOT NULL,
    PRIMARY KEY (company_id, day)
);

-- The contact terms of the unmatched affected persons of an incident (issue 15): a keyed digest
-- of each e-mail address and phone number their leaked rows held, so the desk and the public
-- check find a person by any of them, not only by the value the person is keyed by.
CREATE TABLE impact_contact_terms (
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    digest       INTEGER NOT NULL,
    dedupe_key   TEXT NOT NULL,
    PRIMARY KEY (incident_id, digest, dedupe_key)
);
