-- Issue 14, impact item 1: leaked material attached to an incident. A file is kept in 256 KiB
-- chunks, each sealed with XChaCha20-Poly1305 under the file's own data key (wrapped by the
-- vault master key of `key_version`); the associated data names the file, the chunk number and
-- whether it is the last chunk, so chunks cannot be swapped, reordered or cut off.
-- scan_state: uploading | queued | scanning | done | failed. problem/problem_params: a code and
-- its parameters (JSON), put into words when shown. kind_counts: JSON object kind -> count.
CREATE TABLE incident_files (
    id             INTEGER PRIMARY KEY,
    incident_id    INTEGER NOT NULL REFERENCES incidents(id),
    file_name      TEXT NOT NULL,
    size           INTEGER NOT NULL DEFAULT 0,
    sha256         TEXT NOT NULL DEFAULT '',
    wrapped_key    TEXT NOT NULL DEFAULT '',
    key_version    INTEGER NOT NULL DEFAULT 0,
    chunk_count    INTEGER NOT NULL DEFAULT 0,
    uploaded_by    INTEGER REFERENCES users(id),
    uploaded_at    INTEGER NOT NULL,
    scan_state     TEXT NOT NULL,
    bytes_done     INTEGER NOT NULL DEFAULT 0,
    rows_found     INTEGER NOT NULL DEFAULT 0,
    rows_matched   INTEGER NOT NULL DEFAULT 0,
    problem        TEXT,
    problem_params TEXT,
    kind_counts    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_files_incident ON incident_files (incident_id, id);

CREATE TABLE incident_file_chunks (
    file_id  INTEGER NOT NULL REFERENCES incident_files(id) ON DELETE CASCADE,
    n        INTEGER NOT NULL,
    sealed   BLOB NOT NULL,
    PRIMARY KEY (file_id, n)
);
