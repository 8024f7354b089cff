-- The incident list with many incidents (issue 3; measured in docs/benchmarks.md).
--
-- `list_incidents` walks `incidents_company_created` newest first and tests each incident's
-- status, drill flag, reporter and dates. Its optional filters are written
-- `(CAST($n AS …) IS NULL OR col = $n)`, which SQLite cannot turn into index bounds, so it tests
-- them row by row. With these columns in the index, SQLite tests them on the index entry and reads
-- the incident itself only when they hold (for a department head's open incidents, about 4 times
-- fewer pages read). The index keeps the name, column order and prefix it had, so every query
-- that used it still can.
DROP INDEX incidents_company_created;
CREATE INDEX incidents_company_created ON incidents(company_id, created_at, id, status, drill, reporter_id);
