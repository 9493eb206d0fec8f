--
-- ddl_indexes: CREATE INDEX, DROP INDEX and REINDEX on distributed tables
-- run on every shard; regress.check_shards compares every shard with the
-- coordinator's table after each command
--
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
\set coordinator_port :PORT

CREATE SCHEMA ddl_idx;
SET search_path TO ddl_idx, public;

-- the error a command raises, shard ids masked
CREATE FUNCTION ddl_idx.test_error(command text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE command;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN regexp_replace(SQLSTATE || ': ' || SQLERRM, '_[0-9]{6,}\M', '_<id>', 'g');
END $$;

CREATE TABLE items (id int PRIMARY KEY, name text, price numeric, tags text[]);
INSERT INTO items SELECT g, 'item ' || g, g / 10.0, ARRAY['t' || g % 3]
FROM generate_series(1, 200) g;
SELECT distdb.create_distributed_table('items', 'id', 4);
CREATE TABLE items_local (LIKE items);
INSERT INTO items_local SELECT * FROM items;
SELECT regress.check_shards('items');

--
-- CREATE INDEX in its forms
--
CREATE INDEX items_name ON items (name);
SELECT regress.check_shards('items');
CREATE INDEX ON items (price DESC NULLS LAST, name text_pattern_ops);
CREATE INDEX items_lower ON items ((lower(name))) WHERE price > 1;
CREATE INDEX items_incl ON items (price) INCLUDE (name) WITH (fillfactor = 70);
CREATE INDEX items_tags ON items USING gin (tags);
CREATE UNIQUE INDEX items_id_name ON items (name, id);
CREATE INDEX IF NOT EXISTS items_name ON items (price);
SELECT regress.check_shards('items');
SELECT DISTINCT name, coordinator_definition
FROM distdb.distdb_shard_definitions('items') WHERE kind = 'index' ORDER BY 1;
-- the shard indexes on a worker, by name
\c - - - :worker_1_port
SELECT DISTINCT regexp_replace(indexname, '_[0-9]{6,}$', '_<id>') AS shard_index
FROM pg_indexes WHERE schemaname = 'ddl_idx' ORDER BY 1;
\c - - - :coordinator_port
SET search_path TO ddl_idx, public;
-- queries still return what a local table returns, and may use the index
SELECT * FROM regress.check_query($$SELECT id, name FROM items WHERE lower(name) = 'item 150' AND price > 1$$);
SELECT * FROM regress.check_query($$SELECT count(*) FROM items WHERE tags @> ARRAY['t1']$$);

-- names that are too long for a shard suffix are clipped, with a hash
CREATE INDEX an_index_name_that_is_long_enough_to_need_clipping_on_the_shards ON items (price, id);
SELECT regress.check_shards('items');
\c - - - :worker_2_port
SELECT DISTINCT regexp_replace(indexname, '_[0-9]{6,}$', '_<id>') AS shard_index,
	   length(indexname) <= 63 AS fits
FROM pg_indexes WHERE schemaname = 'ddl_idx' AND indexname LIKE 'an_index%' ORDER BY 1;
\c - - - :coordinator_port
SET search_path TO ddl_idx, public;

-- a unique index must include the distribution column
CREATE UNIQUE INDEX items_name_unique ON items (name);
CREATE UNIQUE INDEX items_expr_unique ON items ((id + 1));

-- only the owner may create an index, checked before any shard changes
CREATE ROLE regress_idx_user;
\c - - - :worker_1_port
CREATE ROLE regress_idx_user;
\c - - - :worker_2_port
CREATE ROLE regress_idx_user;
\c - - - :coordinator_port
SET search_path TO ddl_idx, public;
GRANT USAGE ON SCHEMA ddl_idx TO regress_idx_user;
GRANT SELECT ON items TO regress_idx_user;
SET ROLE regress_idx_user;
CREATE INDEX items_by_user ON items (price);
RESET ROLE;

-- a rolled back CREATE INDEX leaves nothing behind
BEGIN;
CREATE INDEX items_rolled_back ON items (name, price);
SELECT count(*) FROM distdb.distdb_shard_definitions('items')
WHERE name = 'items_rolled_back' AND shard_definition IS NOT NULL;
ROLLBACK;
SELECT count(*) FROM distdb.distdb_shard_definitions('items')
WHERE name = 'items_rolled_back';
SELECT regress.check_shards('items');

-- several statements in one transaction, with a savepoint
BEGIN;
CREATE INDEX items_tx1 ON items (name, id);
SAVEPOINT s1;
CREATE INDEX items_tx2 ON items (price, id);
ROLLBACK TO SAVEPOINT s1;
CREATE INDEX items_tx3 ON items (id, price);
COMMIT;
SELECT regress.check_shards('items');
SELECT DISTINCT name FROM distdb.distdb_shard_definitions('items')
WHERE name LIKE 'items_tx%' ORDER BY 1;

--
-- DROP INDEX
--
DROP INDEX items_tx1, items_tx3;
DROP INDEX IF EXISTS items_no_such_index, items_lower;
SELECT regress.check_shards('items');
-- an index and a local table's index together
CREATE INDEX items_local_name ON items_local (name);
DROP INDEX items_local_name, items_incl;
SELECT regress.check_shards('items');
-- the index of a constraint cannot be dropped, as in PostgreSQL
DROP INDEX items_pkey;
BEGIN;
DROP INDEX items_tags;
ROLLBACK;
SELECT regress.check_shards('items');
SELECT count(*) FROM distdb.distdb_shard_definitions('items')
WHERE name = 'items_tags' AND shard_definition IS NOT NULL;

--
-- REINDEX
--
REINDEX INDEX items_name;
REINDEX TABLE items;
REINDEX (TABLESPACE pg_default) TABLE items;
SELECT regress.check_shards('items');

--
-- CONCURRENTLY: outside a transaction block only, as in PostgreSQL
--
CREATE INDEX CONCURRENTLY items_conc ON items (name, price);
SELECT regress.check_shards('items');
REINDEX INDEX CONCURRENTLY items_conc;
REINDEX TABLE CONCURRENTLY items;
SELECT regress.check_shards('items');
DROP INDEX CONCURRENTLY items_conc;
SELECT regress.check_shards('items');
BEGIN;
CREATE INDEX CONCURRENTLY items_conc2 ON items (name);
ROLLBACK;
BEGIN;
DROP INDEX CONCURRENTLY items_name;
ROLLBACK;
SELECT regress.check_shards('items');

--
-- a worker rejects the command: nothing changes anywhere
--
-- an object with the name of one shard's index, made on one worker
SELECT 'items_conflict_' || shardid AS conflicting_index, nodeport AS conflicting_port
FROM distdb.distdb_shards WHERE table_name = 'items'::regclass AND shardindex = 3 \gset
\c - - - :conflicting_port
CREATE TABLE ddl_idx.:"conflicting_index" (id int);
\c - - - :coordinator_port
SET search_path TO ddl_idx, public;
SELECT test_error($$CREATE INDEX items_conflict ON items (name, id)$$);
SELECT indexname FROM pg_indexes WHERE tablename = 'items' ORDER BY 1;
SELECT regress.check_shards('items');
SELECT count(*) FROM pg_prepared_xacts;
\c - - - :conflicting_port
DROP TABLE ddl_idx.:"conflicting_index";
SELECT count(*) FROM pg_prepared_xacts;
\c - - - :coordinator_port
SET search_path TO ddl_idx, public;
CREATE INDEX items_conflict ON items (name, id);
SELECT regress.check_shards('items');

-- with CONCURRENTLY, the coordinator and the shards done before the
-- failure keep the index, invalid on the coordinator as a failed CREATE
-- INDEX CONCURRENTLY leaves it in PostgreSQL; DROP INDEX removes it
-- everywhere
DROP INDEX items_conflict;
\c - - - :conflicting_port
CREATE TABLE ddl_idx.:"conflicting_index" (id int);
\c - - - :coordinator_port
SET search_path TO ddl_idx, public;
\set VERBOSITY sqlstate
CREATE INDEX CONCURRENTLY items_conflict ON items (name, id);
\set VERBOSITY default
SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_conflict'::regclass;
SELECT regress.check_shards('items');
\c - - - :conflicting_port
DROP TABLE ddl_idx.:"conflicting_index";
\c - - - :coordinator_port
SET search_path TO ddl_idx, public;
DROP INDEX items_conflict;
SELECT regress.check_shards('items');

-- the same through two-phase commit: a failure while preparing rolls
-- back every node
SELECT distdb.distdb_set_fault('before_prepare', 'error');
CREATE INDEX items_fault ON items (price, name);
SELECT distdb.distdb_clear_faults();
SELECT count(*) FROM pg_indexes WHERE indexname = 'items_fault';
SELECT regress.check_shards('items');

-- clean up
DROP TABLE items, items_local;
DROP OWNED BY regress_idx_user;
DROP ROLE regress_idx_user;
DROP SCHEMA ddl_idx CASCADE;
\c - - - :worker_1_port
DROP SCHEMA ddl_idx CASCADE;
DROP ROLE regress_idx_user;
\c - - - :worker_2_port
DROP SCHEMA ddl_idx CASCADE;
DROP ROLE regress_idx_user;
\c - - - :coordinator_port
