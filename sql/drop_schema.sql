--
-- drop_schema: DROP SCHEMA ... CASCADE, DROP OWNED and other cascades that
-- drop distributed tables drop their shards and metadata too
--
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
\set coordinator_port :PORT
CREATE SCHEMA drop_schema;
SET search_path TO drop_schema, public;

-- shard tables of a schema on the nodes, counted through the shard sizes
-- distdb reads from them (NULL: missing on its node)
CREATE FUNCTION shards_on_nodes(schema_name text) RETURNS TABLE (tables bigint, shards bigint, missing bigint)
LANGUAGE sql AS $$
	SELECT count(DISTINCT s.logicalrelid), count(*), count(*) FILTER (WHERE sz.size IS NULL)
	FROM distdb.shard s
	JOIN distdb.distdb_shard_sizes() sz USING (shardid)
	JOIN pg_class c ON c.oid = s.logicalrelid
	WHERE c.relnamespace::regnamespace::text = schema_name
$$;

CREATE SCHEMA doomed;
CREATE TABLE doomed.t1 (id int PRIMARY KEY, v text);
INSERT INTO doomed.t1 SELECT g, 'v' || g FROM generate_series(1, 50) g;
SELECT distdb.create_distributed_table('doomed.t1', 'id', 4);
CREATE TABLE doomed.t2 (id bigint, w int);
SELECT distdb.create_distributed_table('doomed.t2', 'id', 3);
CREATE TABLE doomed.plain (id int);
CREATE VIEW doomed.t1_view AS SELECT * FROM doomed.t1;
SELECT * FROM shards_on_nodes('doomed');
-- the shard tables exist on the nodes
SELECT count(*) AS shard_placements FROM distdb.distdb_shards
WHERE table_name::text LIKE 'doomed.%' AND shard_size IS NOT NULL;
-- shard ids of the tables, to check the nodes afterwards
CREATE TABLE doomed_shards AS
SELECT s.shardid, s.shard_name, s.nodeport FROM distdb.distdb_shards s
WHERE s.table_name::text LIKE 'doomed.%';

-- without CASCADE, PostgreSQL refuses
\set VERBOSITY terse
DROP SCHEMA doomed;
\set VERBOSITY default

-- a rollback keeps everything
BEGIN;
DROP SCHEMA doomed CASCADE;
ROLLBACK;
SELECT count(*) FROM doomed.t1;
SELECT count(*) FROM distdb.dist_table WHERE logicalrelid::text LIKE 'doomed.%';

DROP SCHEMA doomed CASCADE;
SELECT count(*) AS tables_left FROM distdb.dist_table d
WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.logicalrelid);
SELECT count(*) AS shard_rows_left FROM distdb.shard s
WHERE s.shardid IN (SELECT shardid FROM doomed_shards);
SELECT count(*) AS placement_rows_left FROM distdb.placement p
WHERE p.shardid IN (SELECT shardid FROM doomed_shards);
-- and the shard tables are gone from the nodes
\c - - - :worker_1_port
SELECT count(*) AS shard_tables FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'doomed' AND c.relkind = 'r';
\c - - - :worker_2_port
SELECT count(*) AS shard_tables FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'doomed' AND c.relkind = 'r';
\c - - - :coordinator_port
SET search_path TO drop_schema, public;

-- DROP OWNED drops the tables a role owns, distributed ones too
CREATE ROLE regress_drop_owner;
\c - - - :worker_1_port
CREATE ROLE regress_drop_owner;
\c - - - :worker_2_port
CREATE ROLE regress_drop_owner;
\c - - - :coordinator_port
SET search_path TO drop_schema, public;
GRANT CREATE, USAGE ON SCHEMA drop_schema TO regress_drop_owner;
SET ROLE regress_drop_owner;
CREATE TABLE owned (id int, v text);
INSERT INTO owned VALUES (1, 'a'), (2, 'b');
RESET ROLE;
SELECT distdb.create_distributed_table('owned', 'id', 2);
CREATE TABLE kept (id int);
SELECT distdb.create_distributed_table('kept', 'id', 2);
SELECT count(*) FROM owned;
DROP OWNED BY regress_drop_owner;
SELECT to_regclass('owned') AS owned, to_regclass('kept') AS kept;
SELECT * FROM shards_on_nodes('drop_schema');
SELECT count(*) AS shard_placements_missing FROM distdb.distdb_shards WHERE shard_size IS NULL;

-- TRUNCATE ... CASCADE empties the shards of the tables it names (and of
-- those referencing them, once foreign keys between distributed tables
-- exist)
CREATE TABLE trunc_a (id int, v text);
CREATE TABLE trunc_b (id int, v text);
SELECT distdb.create_distributed_table('trunc_a', 'id', 2);
SELECT distdb.create_distributed_table('trunc_b', 'id', 2);
INSERT INTO trunc_a VALUES (1, 'a'), (2, 'b');
INSERT INTO trunc_b VALUES (1, 'a'), (2, 'b');
TRUNCATE trunc_a CASCADE;
SELECT (SELECT count(*) FROM trunc_a) AS a, (SELECT count(*) FROM trunc_b) AS b;
BEGIN;
TRUNCATE trunc_a, trunc_b CASCADE;
SELECT (SELECT count(*) FROM trunc_a) AS a, (SELECT count(*) FROM trunc_b) AS b;
ROLLBACK;
SELECT (SELECT count(*) FROM trunc_a) AS a, (SELECT count(*) FROM trunc_b) AS b;
DROP TABLE trunc_a, trunc_b;

-- DROP EXTENSION would leave the shards behind: not tested here (it would
-- remove distdb for the tests that follow)

DROP SCHEMA drop_schema CASCADE;
DROP ROLE regress_drop_owner;
\c - - - :worker_1_port
DROP ROLE regress_drop_owner;
\c - - - :worker_2_port
DROP ROLE regress_drop_owner;
\c - - - :coordinator_port
SELECT count(*) AS tables_left FROM distdb.dist_table d
WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.logicalrelid);
SELECT count(*) AS shard_placements_missing FROM distdb.distdb_shards WHERE shard_size IS NULL;
