-- Issue 12: each audit entry records the company it belongs to (the actor's company), so an
-- auditor reads the own company's log only. The hash of an entry covers the company from
-- canonical form 2 on; `form` says which form each entry was hashed in, so the entries written
-- before this migration (form 1) still verify.
ALTER TABLE audit_log ADD COLUMN company_id BIGINT;
ALTER TABLE audit_log ADD COLUMN form BIGINT NOT NULL DEFAULT 1;

-- The company of the existing entries, where the actor is known. Their hashes (form 1) do not
-- cover it. The append-only guard is lifted for this one statement only (the migration runs
-- in one transaction).
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change;
UPDATE audit_log a SET company_id = u.company_id FROM users u WHERE u.id = a.actor_id;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change;

CREATE INDEX audit_log_company_seq ON audit_log (company_id, seq);
