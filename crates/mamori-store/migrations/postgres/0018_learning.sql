-- E-learning and pledges (issue 17, part 2). A course belongs to a company and a year; its pages
-- are Markdown, its images PNG or JPEG checked by their first bytes; the question bank keeps
-- every question ever asked (a changed question is a new row, the old one retired), so an
-- attempt shown again shows what was asked. An attempt stores its seed and the drawn order;
-- it is written once when started and once when submitted. Pledges are versions; an
-- acceptance is an append-only row.
ALTER TABLE users ADD COLUMN employment_type TEXT NOT NULL DEFAULT 'regular';

CREATE TABLE courses (
    id              BIGSERIAL PRIMARY KEY,
    company_id      BIGINT NOT NULL REFERENCES companies(id),
    year            BIGINT NOT NULL,
    title           TEXT NOT NULL,
    summary         TEXT NOT NULL DEFAULT '',
    pass_mark       BIGINT NOT NULL,       -- percent
    questions       BIGINT NOT NULL,       -- drawn per test
    copied_from     BIGINT REFERENCES courses(id),
    created_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX courses_title ON courses(company_id, year, title);

CREATE TABLE course_pages (
    id              BIGSERIAL PRIMARY KEY,
    course_id       BIGINT NOT NULL REFERENCES courses(id),
    position        BIGINT NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,          -- Markdown
    updated_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL
);
CREATE INDEX course_pages_course ON course_pages(course_id, position);

CREATE TABLE course_images (
    id              BIGSERIAL PRIMARY KEY,
    course_id       BIGINT NOT NULL REFERENCES courses(id),
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,          -- 'image/png' | 'image/jpeg'
    bytes           BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE INDEX course_images_course ON course_images(course_id);

CREATE TABLE course_questions (
    id              BIGSERIAL PRIMARY KEY,
    course_id       BIGINT NOT NULL REFERENCES courses(id),
    position        BIGINT NOT NULL,
    text            TEXT NOT NULL,
    choices         TEXT NOT NULL,          -- JSON array of strings
    correct         BIGINT NOT NULL,       -- index into choices
    explanation     TEXT NOT NULL DEFAULT '',
    retired_at      BIGINT,
    created_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE INDEX course_questions_course ON course_questions(course_id, position);

CREATE TABLE course_assignments (
    id              BIGSERIAL PRIMARY KEY,
    course_id       BIGINT NOT NULL REFERENCES courses(id),
    kind            TEXT NOT NULL,          -- 'all' | 'department' | 'role'
    department_id   BIGINT REFERENCES departments(id),
    role            TEXT,
    deadline        TEXT NOT NULL,          -- YYYY-MM-DD, JST, inclusive
    created_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE INDEX course_assignments_course ON course_assignments(course_id);

CREATE TABLE course_attempts (
    id              BIGSERIAL PRIMARY KEY,
    course_id       BIGINT NOT NULL REFERENCES courses(id),
    user_id         BIGINT NOT NULL REFERENCES users(id),
    seed            TEXT NOT NULL,          -- u64 as decimal text
    drawn           TEXT NOT NULL,          -- JSON [[question id, [choice order]], ...]
    started_at      BIGINT NOT NULL,
    submitted_at    BIGINT,
    answers         TEXT,                   -- JSON [stored choice index, ...] in drawn order
    correct         BIGINT,
    total           BIGINT NOT NULL,
    passed          BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX course_attempts_user ON course_attempts(course_id, user_id, id);

CREATE TABLE pledges (
    id              BIGSERIAL PRIMARY KEY,
    company_id      BIGINT NOT NULL REFERENCES companies(id),
    version         BIGINT NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    published_at    BIGINT NOT NULL,
    published_by    TEXT NOT NULL
);
CREATE UNIQUE INDEX pledges_version ON pledges(company_id, version);

CREATE TABLE pledge_acceptances (
    id              BIGSERIAL PRIMARY KEY,
    pledge_id       BIGINT NOT NULL REFERENCES pledges(id),
    user_id         BIGINT NOT NULL REFERENCES users(id),
    accepted_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX pledge_acceptances_once ON pledge_acceptances(pledge_id, user_id);

CREATE FUNCTION learning_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER pledge_acceptances_no_change BEFORE UPDATE OR DELETE ON pledge_acceptances
FOR EACH ROW EXECUTE FUNCTION learning_append_only();
CREATE TRIGGER pledges_no_update BEFORE UPDATE ON pledges
FOR EACH ROW EXECUTE FUNCTION learning_append_only();
