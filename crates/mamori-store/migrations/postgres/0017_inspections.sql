-- Self-inspections (総点検, issue 17 part 1): the company's schedule, question sets in versions,
-- one round per month, the answers (append-only: one per person, round and audience), the
-- counts per round, department, audience and item kept as each answer arrives (so the radar
-- and the monthly report read tens of rows, not millions), and the follow-up interviews.
-- Notes people write (on a "no", in an interview) are sealed by the application.
CREATE TABLE inspection_schedules (
    company_id      BIGINT PRIMARY KEY REFERENCES companies(id),
    day_of_month    BIGINT NOT NULL,
    enabled         BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL
);

CREATE TABLE inspection_sets (
    id              BIGSERIAL PRIMARY KEY,
    company_id      BIGINT NOT NULL REFERENCES companies(id),
    audience        TEXT NOT NULL,          -- 'individual' | 'manager'
    version         BIGINT NOT NULL,
    questions       TEXT NOT NULL,          -- JSON [{"label": …, "text": …}]
    created_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE UNIQUE INDEX inspection_sets_version ON inspection_sets(company_id, audience, version);

CREATE TABLE inspection_rounds (
    id                  BIGSERIAL PRIMARY KEY,
    company_id          BIGINT NOT NULL REFERENCES companies(id),
    month               TEXT NOT NULL,      -- '2026-12'
    opens_on            TEXT NOT NULL,      -- JST date '2026-12-17'
    closes_on           TEXT NOT NULL,
    individual_set_id   BIGINT NOT NULL REFERENCES inspection_sets(id),
    manager_set_id      BIGINT NOT NULL REFERENCES inspection_sets(id),
    opened_at           BIGINT NOT NULL,
    opened_by           TEXT NOT NULL
);
CREATE UNIQUE INDEX inspection_rounds_month ON inspection_rounds(company_id, month);

-- Who was expected to answer, per department and audience, when the round opened, and how
-- many have answered (counted as answers arrive).
CREATE TABLE inspection_expected (
    round_id        BIGINT NOT NULL REFERENCES inspection_rounds(id),
    department_id   BIGINT NOT NULL,
    audience        TEXT NOT NULL,
    expected        BIGINT NOT NULL,
    answered        BIGINT NOT NULL,
    PRIMARY KEY (round_id, department_id, audience)
);

CREATE TABLE inspection_answers (
    id              BIGSERIAL PRIMARY KEY,
    round_id        BIGINT NOT NULL REFERENCES inspection_rounds(id),
    company_id      BIGINT NOT NULL,
    audience        TEXT NOT NULL,
    set_id          BIGINT NOT NULL REFERENCES inspection_sets(id),
    user_id         BIGINT NOT NULL REFERENCES users(id),
    department_id   BIGINT NOT NULL,
    replies         TEXT NOT NULL,          -- 'yyny…' one letter per item: y, n, a (該当なし)
    no_count        BIGINT NOT NULL,
    notes_sealed    TEXT,                   -- JSON of the notes on a "no", sealed
    submitted_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX inspection_answers_person ON inspection_answers(round_id, audience, user_id);
CREATE INDEX inspection_answers_no ON inspection_answers(round_id, no_count);
CREATE INDEX inspection_answers_user ON inspection_answers(user_id, round_id);

CREATE TABLE inspection_tallies (
    round_id        BIGINT NOT NULL REFERENCES inspection_rounds(id),
    department_id   BIGINT NOT NULL,
    audience        TEXT NOT NULL,
    item            BIGINT NOT NULL,       -- 1-based, in the round's set
    yes             BIGINT NOT NULL,
    no              BIGINT NOT NULL,
    na              BIGINT NOT NULL,
    PRIMARY KEY (round_id, department_id, audience, item)
);

CREATE TABLE inspection_followups (
    id              BIGSERIAL PRIMARY KEY,
    answer_id       BIGINT NOT NULL REFERENCES inspection_answers(id),
    interviewed_on  TEXT NOT NULL,          -- JST date
    interviewer_id  BIGINT NOT NULL REFERENCES users(id),
    outcome         TEXT NOT NULL,          -- 'improved' | 'planned' | 'rule_review'
    note_sealed     TEXT,
    recorded_at     BIGINT NOT NULL,
    recorded_by     TEXT NOT NULL
);
CREATE INDEX inspection_followups_answer ON inspection_followups(answer_id);
