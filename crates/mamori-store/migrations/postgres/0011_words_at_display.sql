-- Issue 13, item 8: what mamori writes for people is kept as a code with parameters (JSON) and
-- put into words when shown, in the reader's language. The text columns keep being written in
-- Japanese (exports, older readers, the record); rows from before have no code and show their
-- text as it is.
ALTER TABLE incident_events ADD COLUMN msg TEXT;
ALTER TABLE obligations ADD COLUMN basis_msg TEXT;
ALTER TABLE tasks ADD COLUMN template TEXT;
