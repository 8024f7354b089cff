-- The contact desk (issue 15): inquiries from the telephone, mail and the public form, the mails
-- of a thread, mails that could not be read, FAQ entries in versions, survey answers, the
-- "am I affected?" checks waiting for their mail, and the daily digests sent. Whatever a person
-- said or typed is sealed by the application (the `*_sealed` columns); codes, times and counts
-- stay clear for the figures.
CREATE TABLE inquiries (
    id                 BIGSERIAL PRIMARY KEY,
    company_id         BIGINT NOT NULL,
    incident_id        BIGINT NOT NULL REFERENCES incidents(id),
    channel            TEXT NOT NULL,
    caller_type        TEXT NOT NULL,
    category           TEXT NOT NULL,
    status             TEXT NOT NULL,
    source             TEXT NOT NULL,
    caller_sealed      TEXT,
    question_sealed    TEXT NOT NULL,
    answer_sealed      TEXT,
    person_kind        TEXT,
    person_id          BIGINT,
    escalation_sealed  TEXT,
    escalated_at       BIGINT,
    escalated_by       TEXT,
    reply_sealed       TEXT,
    replied_at         BIGINT,
    replied_by         TEXT,
    operator           TEXT NOT NULL,
    operator_id        BIGINT,
    handling_secs      BIGINT,
    thread_key         TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    closed_at          BIGINT,
    day                TEXT NOT NULL
);
CREATE INDEX inquiries_incident ON inquiries(incident_id, id);
CREATE INDEX inquiries_company_status ON inquiries(company_id, status, id);
CREATE INDEX inquiries_company_day ON inquiries(company_id, day);
CREATE UNIQUE INDEX inquiries_thread ON inquiries(incident_id, thread_key);

CREATE TABLE inquiry_messages (
    id              BIGSERIAL PRIMARY KEY,
    inquiry_id      BIGINT NOT NULL REFERENCES inquiries(id),
    message_key     TEXT NOT NULL UNIQUE,
    sender_sealed   TEXT,
    subject_sealed  TEXT NOT NULL,
    body_sealed     TEXT NOT NULL,
    sent_at         BIGINT,
    imported_at     BIGINT NOT NULL,
    imported_by     TEXT NOT NULL
);
CREATE INDEX inquiry_messages_inquiry ON inquiry_messages(inquiry_id, id);

CREATE TABLE inquiry_quarantine (
    id            BIGSERIAL PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents(id),
    file_name     TEXT NOT NULL,
    position      BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    size          BIGINT NOT NULL,
    raw_sealed    TEXT,
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL
);
CREATE INDEX inquiry_quarantine_incident ON inquiry_quarantine(incident_id, id);

CREATE TABLE faq_entries (
    id                 BIGSERIAL PRIMARY KEY,
    incident_id        BIGINT NOT NULL REFERENCES incidents(id),
    category           TEXT NOT NULL,
    status             TEXT NOT NULL,
    published_version  BIGINT,
    position           BIGINT NOT NULL DEFAULT 0,
    created_by         TEXT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX faq_entries_incident ON faq_entries(incident_id, id);

CREATE TABLE faq_versions (
    id            BIGSERIAL PRIMARY KEY,
    entry_id      BIGINT NOT NULL REFERENCES faq_entries(id),
    version       BIGINT NOT NULL,
    question_ja   TEXT NOT NULL,
    answer_ja     TEXT NOT NULL,
    question_en   TEXT,
    answer_en     TEXT,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    approved_by   TEXT,
    approved_at   BIGINT,
    UNIQUE (entry_id, version)
);

CREATE TABLE survey_responses (
    id              BIGSERIAL PRIMARY KEY,
    incident_id     BIGINT NOT NULL REFERENCES incidents(id),
    score           BIGINT NOT NULL,
    understood      BIGINT,
    comment_sealed  TEXT,
    at              BIGINT NOT NULL,
    day             TEXT NOT NULL
);
CREATE INDEX survey_responses_incident ON survey_responses(incident_id, id);

CREATE TABLE affected_checks (
    id              BIGSERIAL PRIMARY KEY,
    incident_id     BIGINT NOT NULL REFERENCES incidents(id),
    address_sealed  TEXT NOT NULL,
    lang            TEXT NOT NULL,
    requested_at    BIGINT NOT NULL,
    claimed_until   BIGINT,
    sent_at         BIGINT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    problem         TEXT
);
CREATE INDEX affected_checks_pending ON affected_checks(sent_at, id);

CREATE TABLE desk_digests (
    company_id  BIGINT NOT NULL,
    day         TEXT NOT NULL,
    sent_at     BIGINT NOT NULL,
    inquiries   BIGINT NOT NULL,
    PRIMARY KEY (company_id, day)
);

-- The contact terms of the unmatched affected persons of an incident (issue 15): a keyed digest
-- of each e-mail address and phone number their leaked rows held, so the desk and the public
-- check find a person by any of them, not only by the value the person is keyed by.
CREATE TABLE impact_contact_terms (
    incident_id  BIGINT NOT NULL REFERENCES incidents(id),
    digest       BIGINT NOT NULL,
    dedupe_key   TEXT NOT NULL,
    PRIMARY KEY (incident_id, digest, dedupe_key)
);
