--
-- distributed_ddl: utility commands on distributed tables (DROP, TRUNCATE,
-- COPY, and the DDL that is refused so that the coordinator's table never
-- diverges from its shards)
--
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
\set coordinator_port :PORT

CREATE SCHEMA ddl;
SET search_path TO ddl, public;

-- SQLSTATE, message, detail and hint of the error a command raises
CREATE FUNCTION ddl.test_error(command text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
	detail text;
	hint text;
BEGIN
	EXECUTE command;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN regexp_replace(regexp_replace(state || ': ' || message
		|| CASE WHEN detail <> '' THEN E'\nDETAIL: ' || detail ELSE '' END
		|| CASE WHEN hint <> '' THEN E'\nHINT: ' || hint ELSE '' END,
		':[0-9]{4,5}\M', ':<port>', 'g'), '_[0-9]{6,}\M', '_<id>', 'g');
END $$;
GRANT USAGE ON SCHEMA ddl TO PUBLIC;
GRANT EXECUTE ON FUNCTION ddl.test_error(text) TO PUBLIC;

-- shard tables of schema ddl on the current node, by table, with the
-- rows they hold
CREATE VIEW ddl.shard_tables AS
SELECT regexp_replace(c.relname, '_[0-9]{6,}$', '') AS table_name,
	   count(*) AS shards,
	   sum((xpath('/row/c/text()',
				  query_to_xml(format('SELECT count(*) AS c FROM %I.%I',
									  n.nspname, c.relname),
							   false, true, '')))[1]::text::int) AS rows
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'ddl' AND c.relkind = 'r' AND c.relname ~ '_[0-9]{6,}$'
GROUP BY 1 ORDER BY 1;
SELECT pg_get_viewdef('ddl.shard_tables'::regclass) AS shard_tables_query \gset
\set ECHO none
\c - - - :worker_1_port
CREATE SCHEMA ddl;
SELECT format('CREATE VIEW ddl.shard_tables AS %s', :'shard_tables_query') \gexec
\c - - - :worker_2_port
CREATE SCHEMA ddl;
SELECT format('CREATE VIEW ddl.shard_tables AS %s', :'shard_tables_query') \gexec
\c - - - :coordinator_port
\set ECHO all
SET search_path TO ddl, public;

CREATE TABLE items (id int PRIMARY KEY, name text, price numeric);
CREATE INDEX items_name ON items (name);
INSERT INTO items SELECT g, 'item ' || g, g / 10.0 FROM generate_series(1, 100) g;
SELECT distdb.create_distributed_table('items', 'id', 4);
CREATE TABLE other_items (id int, note text);
INSERT INTO other_items VALUES (1, 'one'), (2, 'two');
SELECT distdb.create_distributed_table('other_items', 'id', 4);
CREATE TABLE local_table (id int, note text);
\c - - - :worker_1_port
SELECT * FROM ddl.shard_tables;
\c - - - :worker_2_port
SELECT * FROM ddl.shard_tables;
\c - - - :coordinator_port
SET search_path TO ddl, public;

--
-- COPY TO reads through the coordinator (COPY FROM: see copy_from.sql)
--
COPY (SELECT * FROM items WHERE id <= 5 ORDER BY id) TO STDOUT;
-- one shard, so that the rows come in a stable order
CREATE TABLE copy_items (id int, note text, day date);
INSERT INTO copy_items VALUES (1, E'tab\there', '2024-02-29'), (2, NULL, NULL),
	(3, 'comma, "quote"', '2024-12-31');
SELECT distdb.create_distributed_table('copy_items', 'id', 1);
COPY copy_items TO STDOUT;
COPY copy_items (note, id) TO STDOUT;
COPY copy_items TO STDOUT WITH (FORMAT csv, HEADER);
COPY ddl.copy_items (id) TO STDOUT (FORMAT text);
COPY copy_items (no_such_column) TO STDOUT;
COPY copy_items (ctid) TO STDOUT;
COPY copy_items (id, id) TO STDOUT;
-- COPY FROM a missing file or a failing program fails as in PostgreSQL
SELECT test_error($$COPY copy_items (id) FROM '/nonexistent'$$);
SELECT test_error($$COPY copy_items FROM PROGRAM 'exit 1'$$);

--
-- DDL that would change a distributed table is refused (what is carried
-- to the shards: ddl_indexes.sql, ddl_alter_table.sql)
--
SELECT test_error($$ALTER TABLE items OWNER TO CURRENT_USER$$);
SELECT test_error($$ALTER TABLE items ADD COLUMN extra int, ENABLE ROW LEVEL SECURITY$$);
SELECT test_error($$ALTER TABLE items ENABLE ROW LEVEL SECURITY$$);
SELECT test_error($$ALTER INDEX items_name SET (fillfactor = 50)$$);
SELECT test_error($$CREATE TRIGGER items_trigger BEFORE INSERT ON items
	FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()$$);
SELECT test_error($$CREATE POLICY items_policy ON items USING (true)$$);
SELECT test_error($$CREATE RULE items_rule AS ON INSERT TO items DO ALSO NOTHING$$);
SELECT test_error($$CLUSTER items USING items_pkey$$);

-- objects that would depend on a distributed table
SELECT test_error($$CREATE TABLE refs (id int REFERENCES items (id))$$);
SELECT test_error($$CREATE TABLE refs (id int, FOREIGN KEY (id) REFERENCES ddl.items)$$);
SELECT test_error($$CREATE TABLE items_child () INHERITS (items)$$);
SELECT test_error($$ALTER TABLE local_table ADD FOREIGN KEY (id) REFERENCES items (id)$$);
SELECT test_error($$ALTER TABLE local_table ADD COLUMN item int REFERENCES items$$);
SELECT test_error($$ALTER TABLE local_table INHERIT items$$);
CREATE TABLE parted (id int, name text, price numeric) PARTITION BY RANGE (id);
SELECT test_error($$ALTER TABLE parted ATTACH PARTITION items FOR VALUES FROM (0) TO (1000)$$);

-- schemas and roles that hold distributed tables
SELECT test_error($$ALTER SCHEMA ddl RENAME TO ddl2$$);
-- (the roles exist on every node: GRANT reaches the workers)
CREATE ROLE regress_ddl_owner;
CREATE ROLE regress_ddl_user;
\c - - - :worker_1_port
CREATE ROLE regress_ddl_owner;
CREATE ROLE regress_ddl_user;
\c - - - :worker_2_port
CREATE ROLE regress_ddl_owner;
CREATE ROLE regress_ddl_user;
\c - - - :coordinator_port
SET search_path TO ddl, public;
GRANT CREATE ON SCHEMA ddl TO regress_ddl_owner;
CREATE TABLE owned_items (id int);
ALTER TABLE owned_items OWNER TO regress_ddl_owner;
SELECT distdb.create_distributed_table('owned_items', 'id', 2);
SELECT test_error($$REASSIGN OWNED BY regress_ddl_owner TO CURRENT_USER$$);

-- the table is unchanged
SELECT attname, format_type(atttypid, atttypmod), attnotnull
FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0 ORDER BY attnum;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'items'::regclass ORDER BY 1;
SELECT relname, relnamespace::regnamespace, relrowsecurity FROM pg_class WHERE oid = 'items'::regclass;
SELECT count(*) FROM items;

-- what does not change a distributed table passes
-- (VACUUM and ANALYZE run on the shards too: see vacuum_analyze.sql)
VACUUM items;
ANALYZE items;
VACUUM ANALYZE local_table, items;
COMMENT ON TABLE items IS 'items';
GRANT SELECT ON items TO regress_ddl_owner;
REVOKE SELECT ON items FROM regress_ddl_owner;
BEGIN;
LOCK TABLE items IN ACCESS SHARE MODE;
COMMIT;
CREATE VIEW items_view AS SELECT id, name FROM items;
SELECT count(*) FROM items_view;
ALTER TABLE local_table ADD COLUMN extra int;
CREATE INDEX local_table_id ON local_table (id);
ALTER TABLE local_table RENAME TO local_renamed;
VACUUM local_renamed;
ANALYZE local_renamed;
TRUNCATE local_renamed;
-- without CASCADE, PostgreSQL refuses to drop a non-empty schema itself
\set VERBOSITY terse
DROP SCHEMA ddl;
\set VERBOSITY default

--
-- TRUNCATE empties the shards; a rollback brings the rows back
--
BEGIN;
TRUNCATE items;
SELECT count(*) FROM items;
ROLLBACK;
SELECT count(*) FROM items;
TRUNCATE other_items, local_renamed;
SELECT count(*) FROM other_items;
\c - - - :worker_1_port
SELECT * FROM ddl.shard_tables;
\c - - - :worker_2_port
SELECT * FROM ddl.shard_tables;
\c - - - :coordinator_port
SET search_path TO ddl, public;
INSERT INTO other_items VALUES (3, 'three');
SELECT * FROM other_items;
-- TRUNCATE needs the privilege, checked before any shard is touched
GRANT SELECT ON items TO regress_ddl_user;
SET ROLE regress_ddl_user;
SELECT test_error($$TRUNCATE ddl.items$$);
RESET ROLE;
SELECT count(*) FROM items;

--
-- DROP TABLE drops the shards and the metadata
--
-- only the owner may drop it, checked before any shard is dropped
SET ROLE regress_ddl_user;
SELECT test_error($$DROP TABLE ddl.items$$);
RESET ROLE;
SELECT count(*) FROM distdb.shard WHERE logicalrelid = 'items'::regclass;
-- a rolled back DROP leaves everything in place
BEGIN;
DROP TABLE other_items;
ROLLBACK;
SELECT count(*) FROM other_items;
\c - - - :worker_1_port
SELECT * FROM ddl.shard_tables;
\c - - - :worker_2_port
SELECT * FROM ddl.shard_tables;
\c - - - :coordinator_port
SET search_path TO ddl, public;
-- dependent objects need CASCADE, as for any table
SELECT test_error($$DROP TABLE items$$);
-- several tables at once, distributed or not, and ones that do not exist
CREATE TABLE drop_local (id int);
DROP TABLE IF EXISTS no_such_table, items, drop_local, other_items CASCADE;
SELECT count(*) AS dist_rows FROM distdb.dist_table t
JOIN pg_class c ON c.oid = t.logicalrelid
WHERE c.relnamespace = 'ddl'::regnamespace;
\c - - - :worker_1_port
SELECT * FROM ddl.shard_tables;
\c - - - :worker_2_port
SELECT * FROM ddl.shard_tables;
\c - - - :coordinator_port
SET search_path TO ddl, public;

-- clean up
DROP TABLE owned_items, copy_items;
DROP ROLE regress_ddl_user;
REVOKE CREATE ON SCHEMA ddl FROM regress_ddl_owner;
DROP ROLE regress_ddl_owner;
\set VERBOSITY terse
DROP SCHEMA ddl CASCADE;
\c - - - :worker_1_port
DROP SCHEMA ddl CASCADE;
DROP ROLE regress_ddl_owner, regress_ddl_user;
\c - - - :worker_2_port
DROP SCHEMA ddl CASCADE;
DROP ROLE regress_ddl_owner, regress_ddl_user;
\c - - - :coordinator_port
\set VERBOSITY default
