-- The incident list with many incidents (issue 3; measured in docs/benchmarks.md).
--
-- Text search: `list_incidents` filters with `ref_no LIKE '%…%' OR title LIKE … OR description
-- LIKE …`. Without an index PostgreSQL reads the newest incidents one by one until it has a page
-- (≈ 20 ms for a word in 0.3 % of 100,000 incidents). Trigram GIN indexes on the three columns let
-- it combine the three LIKEs in a BitmapOr (≈ 1 ms); they also serve Japanese text, whose
-- characters pg_trgm counts as word characters under a UTF-8 locale such as C.UTF-8.
--
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension (PostgreSQL 13 and later):
-- the owner of the database may create it. Where it is not installed, or the migrating role may
-- not create it, these indexes are left out and the search works as before, only slower; running
-- `CREATE EXTENSION pg_trgm` and the three CREATE INDEX statements below later adds them.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not created (%): incident text search stays unindexed', SQLERRM;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS incidents_ref_no_trgm ON incidents USING gin (ref_no gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS incidents_title_trgm ON incidents USING gin (title gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS incidents_description_trgm ON incidents USING gin (description gin_trgm_ops);
    ELSE
        RAISE NOTICE 'pg_trgm is not installed here: incident text search stays unindexed';
    END IF;
END
$$;
