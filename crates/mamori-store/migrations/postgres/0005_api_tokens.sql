-- Personal API tokens for /api/v1 (issue 5: the vault lookup API). Only the SHA-256 of a token is
-- stored, as with sessions; the token itself is shown once when it is created.
CREATE TABLE api_tokens (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id, created_at);
