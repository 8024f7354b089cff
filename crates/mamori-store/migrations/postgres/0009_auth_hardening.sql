-- Issue 12: failed second-factor codes are counted on the user. Only a correct code (or an
-- administrator's unlock) clears the counter -- a correct password does not -- and at the
-- limit the second factor is locked until `mamori admin unlock` or the admin page unlocks it.
ALTER TABLE users ADD COLUMN totp_failures BIGINT NOT NULL DEFAULT 0;
