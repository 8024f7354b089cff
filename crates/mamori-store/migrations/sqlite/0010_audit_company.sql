-- Issue 12: each audit entry records the company it belongs to (the actor's company), so an
-- auditor reads the own company's log only. The hash of an entry covers the company from
-- canonical form 2 on; `form` says which form each entry was hashed in, so the entries written
-- before this migration (form 1) still verify.
ALTER TABLE audit_log ADD COLUMN company_id INTEGER;
ALTER TABLE audit_log ADD COLUMN form INTEGER NOT NULL DEFAULT 1;

-- The company of the existing entries, where the actor is known. Their hashes (form 1) do not
-- cover it. The append-only guard is lifted for this one statement only.
DROP TRIGGER audit_log_no_update;
UPDATE audit_log
SET company_id = (SELECT u.company_id FROM users u WHERE u.id = audit_log.actor_id)
WHERE actor_id IS NOT NULL;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE INDEX audit_log_company_seq ON audit_log (company_id, seq);
