--
-- vacuum_analyze: VACUUM and ANALYZE run on every shard; the coordinator's
-- row estimates of a distributed table come from its shards
--
CREATE SCHEMA vacuum_analyze;
SET search_path TO vacuum_analyze, public;
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
\set coordinator_port :PORT
-- (the role exists on every node: shards get the schema's privileges)
CREATE ROLE regress_va_user;
\c - - - :worker_1_port
CREATE ROLE regress_va_user;
\c - - - :worker_2_port
CREATE ROLE regress_va_user;
\c - - - :coordinator_port
SET search_path TO vacuum_analyze, public;
GRANT USAGE ON SCHEMA vacuum_analyze TO regress_va_user;

CREATE TABLE va (id int PRIMARY KEY, val text, n int);
INSERT INTO va SELECT g, 'value ' || g, g % 10 FROM generate_series(1, 1000) g;
SELECT distdb.create_distributed_table('va', 'id', 4);
CREATE TABLE va_local AS SELECT * FROM va;
CREATE TABLE other (id int, note text);
INSERT INTO other SELECT g, 'note ' || g FROM generate_series(1, 200) g;
SELECT distdb.create_distributed_table('other', 'id', 3);
CREATE TABLE small_local (id int PRIMARY KEY, label text);
INSERT INTO small_local SELECT g, 'label ' || g FROM generate_series(1, 20) g;


-- before ANALYZE, the coordinator's table looks empty or unknown
SELECT relname, reltuples FROM pg_class WHERE oid IN ('va'::regclass, 'other'::regclass) ORDER BY 1;

-- ANALYZE of one table, with a column list, of several tables
ANALYZE va;
SELECT reltuples, relpages > 0 AS has_pages FROM pg_class WHERE oid = 'va'::regclass;
ANALYZE va (val, n);
ANALYZE (SKIP_LOCKED) va, other, small_local;
SELECT relname, reltuples FROM pg_class WHERE oid IN ('va'::regclass, 'other'::regclass) ORDER BY 1;

-- the shards were analyzed: the estimates are theirs, summed
SELECT count(*) AS shards FROM distdb.distdb_shards WHERE table_name = 'va'::regclass;

-- VACUUM with options, and VACUUM ANALYZE
DELETE FROM va WHERE id > 900;
VACUUM va;
SELECT reltuples FROM pg_class WHERE oid = 'va'::regclass;
VACUUM (FREEZE, INDEX_CLEANUP off, PARALLEL 1, TRUNCATE true) va;
VACUUM FULL other;
VACUUM ANALYZE va (n), other;
VACUUM (ANALYZE, SKIP_LOCKED, DISABLE_PAGE_SKIPPING) va;
SELECT relname, reltuples FROM pg_class WHERE oid IN ('va'::regclass, 'other'::regclass) ORDER BY 1;
DELETE FROM va_local WHERE id > 900;
SELECT * FROM regress.check_query('SELECT count(*), sum(n) FROM va');

-- the whole database, which includes the distributed tables
INSERT INTO va SELECT g, 'value ' || g, g % 10 FROM generate_series(901, 1000) g;
INSERT INTO va_local SELECT g, 'value ' || g, g % 10 FROM generate_series(901, 1000) g;
ANALYZE;
SELECT relname, reltuples FROM pg_class WHERE oid IN ('va'::regclass, 'other'::regclass) ORDER BY 1;
VACUUM;
SELECT relname, reltuples FROM pg_class WHERE oid IN ('va'::regclass, 'other'::regclass) ORDER BY 1;

-- ANALYZE inside a transaction block runs in the node transactions
BEGIN;
INSERT INTO other SELECT g, 'more ' || g FROM generate_series(201, 300) g;
ANALYZE other;
SELECT reltuples FROM pg_class WHERE oid = 'other'::regclass;
COMMIT;
SELECT count(*) FROM other;

-- VACUUM cannot run in a transaction block, as in PostgreSQL
BEGIN;
VACUUM va;
ROLLBACK;
CREATE FUNCTION vacuum_in_function() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	VACUUM va;
END $$;
SELECT vacuum_in_function();

-- bad input is refused by the coordinator before any node is asked
VACUUM va (no_such_column);
ANALYZE va (no_such_column);
ANALYZE va (n, n);
VACUUM (NO_SUCH_OPTION) va;
VACUUM (PARALLEL -1) va;
VACUUM no_such_table;

-- only the owner (or the database owner) vacuums a table: others get
-- PostgreSQL's warning and nothing is sent
ALTER TABLE small_local OWNER TO regress_va_user;
SET ROLE regress_va_user;
VACUUM vacuum_analyze.va, vacuum_analyze.small_local;
ANALYZE vacuum_analyze.va;
RESET ROLE;
DROP TABLE small_local;
CREATE TABLE small_local (id int PRIMARY KEY, label text);
INSERT INTO small_local SELECT g, 'label ' || g FROM generate_series(1, 20) g;

--
-- the coordinator's planner sees the table's rows: a pulled-up table's
-- estimate is its reltuples times the selectivity of its filters
--
CREATE FUNCTION scan_rows(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN ' || query LOOP
		IF line ~ 'Custom Scan|on small_local' THEN
			RETURN NEXT regexp_replace(btrim(line), '\(cost=[0-9.]+\.\.[0-9.]+ (rows=[0-9]+) width=[0-9]+\)', '(\1)');
		END IF;
	END LOOP;
END $$;
ANALYZE va, other, small_local;
-- (the small local table would be sent to the shards instead: see
-- broadcast_joins)
SET distdb.broadcast_join_max_rows = 0;
SELECT scan_rows('SELECT * FROM va JOIN small_local s ON s.id = va.n');
SELECT scan_rows('SELECT * FROM va JOIN small_local s ON s.id = va.n WHERE va.val > ''value 5''');
SELECT scan_rows('SELECT * FROM va JOIN small_local s ON s.id = va.n WHERE va.id IN (1, 2)');
SELECT scan_rows('SELECT * FROM other JOIN small_local s USING (id)');
RESET distdb.broadcast_join_max_rows;
SELECT * FROM regress.check_query('SELECT va.id, s.label FROM va JOIN small_local s ON s.id = va.n WHERE va.id < 5 ORDER BY 1');

DROP SCHEMA vacuum_analyze CASCADE;
DROP ROLE regress_va_user;
\c - - - :worker_1_port
DROP ROLE regress_va_user;
\c - - - :worker_2_port
DROP ROLE regress_va_user;
