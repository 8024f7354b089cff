-- E-learning and pledges (issue 17, part 2). A course belongs to a company and a year; its pages
-- are Markdown, its images PNG or JPEG checked by their first bytes; the question bank keeps
-- every question ever asked (a changed question is a new row, the old one retired), so an
-- attempt shown again shows what was asked. An attempt stores its seed and the drawn order;
-- it is written once when started and once when submitted. Pledges are versions; an
-- acceptance is an append-only row.
ALTER TABLE users ADD COLUMN employment_type TEXT NOT NULL DEFAULT 'regular';

CREATE TABLE courses (
    id              INTEGER PRIMARY KEY,
    company_id      INTEGER NOT NULL REFERENCES companies(id),
    year            INTEGER NOT NULL,
    title           TEXT NOT NULL,
    summary         TEXT NOT NULL DEFAULT '',
    pass_mark       INTEGER NOT NULL,       -- percent
    questions       INTEGER NOT NULL,       -- drawn per test
    copied_from     INTEGER REFERENCES courses(id),
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX courses_title ON courses(company_id, year, title);

CREATE TABLE course_pages (
    id              INTEGER PRIMARY KEY,
    course_id       INTEGER NOT NULL REFERENCES courses(id),
    position        INTEGER NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,          -- Markdown
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT NOT NULL
);
CREATE INDEX course_pages_course ON course_pages(course_id, position);

CREATE TABLE course_images (
    id              INTEGER PRIMARY KEY,
    course_id       INTEGER NOT NULL REFERENCES courses(id),
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,          -- 'image/png' | 'image/jpeg'
    bytes           BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE INDEX course_images_course ON course_images(course_id);

CREATE TABLE course_questions (
    id              INTEGER PRIMARY KEY,
    course_id       INTEGER NOT NULL REFERENCES courses(id),
    position        INTEGER NOT NULL,
    text            TEXT NOT NULL,
    choices         TEXT NOT NULL,          -- JSON array of strings
    correct         INTEGER NOT NULL,       -- index into choices
    explanation     TEXT NOT NULL DEFAULT '',
    retired_at      INTEGER,
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE INDEX course_questions_course ON course_questions(course_id, position);

CREATE TABLE course_assignments (
    id              INTEGER PRIMARY KEY,
    course_id       INTEGER NOT NULL REFERENCES courses(id),
    kind            TEXT NOT NULL,          -- 'all' | 'department' | 'role'
    department_id   INTEGER REFERENCES departments(id),
    role            TEXT,
    deadline        TEXT NOT NULL,          -- YYYY-MM-DD, JST, inclusive
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE INDEX course_assignments_course ON course_assignments(course_id);

CREATE TABLE course_attempts (
    id              INTEGER PRIMARY KEY,
    course_id       INTEGER NOT NULL REFERENCES courses(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    seed            TEXT NOT NULL,          -- u64 as decimal text
    drawn           TEXT NOT NULL,          -- JSON [[question id, [choice order]], ...]
    started_at      INTEGER NOT NULL,
    submitted_at    INTEGER,
    answers         TEXT,                   -- JSON [stored choice index, ...] in drawn order
    correct         INTEGER,
    total           INTEGER NOT NULL,
    passed          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX course_attempts_user ON course_attempts(course_id, user_id, id);

CREATE TABLE pledges (
    id              INTEGER PRIMARY KEY,
    company_id      INTEGER NOT NULL REFERENCES companies(id),
    version         INTEGER NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    published_at    INTEGER NOT NULL,
    published_by    TEXT NOT NULL
);
CREATE UNIQUE INDEX pledges_version ON pledges(company_id, version);

CREATE TABLE pledge_acceptances (
    id              INTEGER PRIMARY KEY,
    pledge_id       INTEGER NOT NULL REFERENCES pledges(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    accepted_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX pledge_acceptances_once ON pledge_acceptances(pledge_id, user_id);

CREATE TRIGGER pledge_acceptances_no_update BEFORE UPDATE ON pledge_acceptances
BEGIN SELECT RAISE(ABORT, 'pledge acceptances are append-only'); END;
CREATE TRIGGER pledge_acceptances_no_delete BEFORE DELETE ON pledge_acceptances
BEGIN SELECT RAISE(ABORT, 'pledge acceptances are append-only'); END;
CREATE TRIGGER pledges_no_update BEFORE UPDATE ON pledges
BEGIN SELECT RAISE(ABORT, 'pledge versions are append-only'); END;
