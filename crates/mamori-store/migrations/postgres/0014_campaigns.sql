-- Notification campaigns (issue 14): the notice to the persons in versions, campaigns with
-- their channel order, one recipient per affected person with a state per channel, and every
-- event of a recipient (posted, returned, claimed, accepted, bounced, called …) for the funnel
-- and the record. Contact data is sealed by the application; references and Message-IDs carry
-- no personal data.
CREATE TABLE notice_versions (
    id            BIGSERIAL PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents(id),
    version       BIGINT NOT NULL,
    body          TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    approved_by   TEXT,
    approved_at   BIGINT,
    UNIQUE (incident_id, version)
);

CREATE TABLE campaigns (
    id                 BIGSERIAL PRIMARY KEY,
    incident_id        BIGINT NOT NULL REFERENCES incidents(id),
    notice_version_id  BIGINT NOT NULL REFERENCES notice_versions(id),
    channels           TEXT NOT NULL,
    rate_per_sec       BIGINT NOT NULL,
    lease_secs         BIGINT NOT NULL,
    status             TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    last_error         TEXT,
    last_error_at      BIGINT,
    public_slug        TEXT UNIQUE,
    public_at          BIGINT,
    public_by          TEXT
);
CREATE INDEX campaigns_incident ON campaigns(incident_id, id);

CREATE TABLE campaign_recipients (
    id             BIGSERIAL PRIMARY KEY,
    campaign_id    BIGINT NOT NULL REFERENCES campaigns(id),
    person_id      BIGINT NOT NULL,
    reach          TEXT NOT NULL,
    contact        TEXT NOT NULL,
    items          TEXT NOT NULL,
    channel        TEXT,
    state          TEXT NOT NULL,
    no_answers     BIGINT NOT NULL DEFAULT 0,
    not_before     BIGINT,
    attempt        BIGINT NOT NULL DEFAULT 0,
    message_id     TEXT,
    claimed_by     TEXT,
    claimed_until  BIGINT,
    problem        TEXT,
    updated_at     BIGINT NOT NULL,
    UNIQUE (campaign_id, person_id)
);
CREATE INDEX campaign_recipients_work ON campaign_recipients(campaign_id, channel, state, id);
CREATE INDEX campaign_recipients_message ON campaign_recipients(message_id);

CREATE TABLE campaign_events (
    id            BIGSERIAL PRIMARY KEY,
    campaign_id   BIGINT NOT NULL REFERENCES campaigns(id),
    recipient_id  BIGINT NOT NULL REFERENCES campaign_recipients(id),
    channel       TEXT,
    event         TEXT NOT NULL,
    state_after   TEXT NOT NULL,
    message_id    TEXT,
    note          TEXT,
    actor         TEXT NOT NULL,
    at            BIGINT NOT NULL,
    day           TEXT NOT NULL
);
CREATE INDEX campaign_events_campaign ON campaign_events(campaign_id, day);
CREATE INDEX campaign_events_recipient ON campaign_events(recipient_id, id);
CREATE INDEX campaign_events_message ON campaign_events(message_id);
