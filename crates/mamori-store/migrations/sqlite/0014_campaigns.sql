-- Notification campaigns (issue 14): the notice to the persons in versions, campaigns with
-- their channel order, one recipient per affected person with a state per channel, and every
-- event of a recipient (posted, returned, claimed, accepted, bounced, called …) for the funnel
-- and the record. Contact data is sealed by the application; references and Message-IDs carry
-- no personal data.
CREATE TABLE notice_versions (
    id            INTEGER PRIMARY KEY,
    incident_id   INTEGER NOT NULL REFERENCES incidents(id),
    version       INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    approved_by   TEXT,
    approved_at   INTEGER,
    UNIQUE (incident_id, version)
);

CREATE TABLE campaigns (
    id                 INTEGER PRIMARY KEY,
    incident_id        INTEGER NOT NULL REFERENCES incidents(id),
    notice_version_id  INTEGER NOT NULL REFERENCES notice_versions(id),
    channels           TEXT NOT NULL,
    rate_per_sec       INTEGER NOT NULL,
    lease_secs         INTEGER NOT NULL,
    status             TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    last_error         TEXT,
    last_error_at      INTEGER,
    public_slug        TEXT UNIQUE,
    public_at          INTEGER,
    public_by          TEXT
);
CREATE INDEX campaigns_incident ON campaigns(incident_id, id);

CREATE TABLE campaign_recipients (
    id             INTEGER PRIMARY KEY,
    campaign_id    INTEGER NOT NULL REFERENCES campaigns(id),
    person_id      INTEGER NOT NULL,
    reach          TEXT NOT NULL,
    contact        TEXT NOT NULL,
    items          TEXT NOT NULL,
    channel        TEXT,
    state          TEXT NOT NULL,
    no_answers     INTEGER NOT NULL DEFAULT 0,
    not_before     INTEGER,
    attempt        INTEGER NOT NULL DEFAULT 0,
    message_id     TEXT,
    claimed_by     TEXT,
    claimed_until  INTEGER,
    problem        TEXT,
    updated_at     INTEGER NOT NULL,
    UNIQUE (campaign_id, person_id)
);
CREATE INDEX campaign_recipients_work ON campaign_recipients(campaign_id, channel, state, id);
CREATE INDEX campaign_recipients_message ON campaign_recipients(message_id);

CREATE TABLE campaign_events (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    recipient_id  INTEGER NOT NULL REFERENCES campaign_recipients(id),
    channel       TEXT,
    event         TEXT NOT NULL,
    state_after   TEXT NOT NULL,
    message_id    TEXT,
    note          TEXT,
    actor         TEXT NOT NULL,
    at            INTEGER NOT NULL,
    day           TEXT NOT NULL
);
CREATE INDEX campaign_events_campaign ON campaign_events(campaign_id, day);
CREATE INDEX campaign_events_recipient ON campaign_events(recipient_id, id);
CREATE INDEX campaign_events_message ON campaign_events(message_id);
