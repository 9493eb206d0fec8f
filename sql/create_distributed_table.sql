--
-- create_distributed_table: validation, shard DDL, moving existing rows,
-- colocation, and who may distribute a table
--
-- Runs after setup (distdb installed, two workers added).  Shard ids depend
-- on the tests that ran before, so they are masked as <id> wherever they
-- would be printed; ports are never printed.
--
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
\set coordinator_port :PORT
SELECT nodeid AS worker_1_id FROM distdb.node WHERE nodeport = :worker_1_port \gset
SELECT nodeid AS worker_2_id FROM distdb.node WHERE nodeport = :worker_2_port \gset

CREATE SCHEMA cdt;
SET search_path TO cdt, public;

-- SQLSTATE, message, detail and hint of the error a command raises
CREATE FUNCTION cdt.test_error(command text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
	detail text;
	hint text;
	result text;
BEGIN
	EXECUTE command;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	result := regexp_replace(state || ': ' || message
		|| CASE WHEN detail <> '' THEN E'\nDETAIL: ' || detail ELSE '' END
		|| CASE WHEN hint <> '' THEN E'\nHINT: ' || hint ELSE '' END,
		':[0-9]{4,5}\M', ':<port>', 'g');
	RETURN regexp_replace(result, '_[0-9]{6,}\M', '_<id>', 'g');
END $$;
GRANT EXECUTE ON FUNCTION cdt.test_error(text) TO PUBLIC;

-- the distributed tables of schema cdt, from the catalog
CREATE VIEW cdt.dist_tables AS
SELECT t.logicalrelid::regclass AS table_name, a.attname AS dist_column,
	   c.shardcount,
	   (SELECT count(*) FROM distdb.shard s
		WHERE s.logicalrelid = t.logicalrelid) AS shards,
	   (SELECT count(*) FROM distdb.shard s JOIN distdb.placement p USING (shardid)
		WHERE s.logicalrelid = t.logicalrelid) AS placements
FROM distdb.dist_table t
JOIN distdb.colocation c USING (colocationid)
JOIN pg_attribute a ON a.attrelid = t.logicalrelid AND a.attnum = t.distattnum
JOIN pg_class r ON r.oid = t.logicalrelid
WHERE r.relnamespace = 'cdt'::regnamespace
ORDER BY t.logicalrelid::regclass::text;
GRANT SELECT ON cdt.dist_tables TO PUBLIC;

-- catalog rows of every kind, to check that failures change nothing
CREATE VIEW cdt.catalog_counts AS
SELECT (SELECT count(*) FROM distdb.dist_table) AS tables,
	   (SELECT count(*) FROM distdb.shard) AS shards,
	   (SELECT count(*) FROM distdb.placement) AS placements,
	   (SELECT count(*) FROM distdb.colocation) AS groups;

-- tables in schema cdt on a worker (run there)
CREATE VIEW cdt.worker_tables AS
SELECT regexp_replace(c.relname, '_[0-9]{6,}$', '_<id>') AS table_name,
	   count(*) AS shards
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'cdt' AND c.relkind = 'r'
GROUP BY 1 ORDER BY 1;

-- The tables of schema cdt use these objects; distdb does not create
-- types and functions on the workers yet, so the test does.
CREATE TYPE cdt.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN cdt.positive AS int CHECK (VALUE > 0);
CREATE FUNCTION cdt.default_code() RETURNS text
	LANGUAGE sql IMMUTABLE AS $$SELECT 'none'$$;
\c - - - :worker_1_port
CREATE SCHEMA cdt;
CREATE TYPE cdt.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN cdt.positive AS int CHECK (VALUE > 0);
CREATE FUNCTION cdt.default_code() RETURNS text
	LANGUAGE sql IMMUTABLE AS $$SELECT 'none'$$;
CREATE VIEW cdt.worker_tables AS
SELECT regexp_replace(c.relname, '_[0-9]{6,}$', '_<id>') AS table_name,
	   count(*) AS shards
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'cdt' AND c.relkind = 'r'
GROUP BY 1 ORDER BY 1;
\c - - - :worker_2_port
CREATE SCHEMA cdt;
CREATE TYPE cdt.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN cdt.positive AS int CHECK (VALUE > 0);
CREATE FUNCTION cdt.default_code() RETURNS text
	LANGUAGE sql IMMUTABLE AS $$SELECT 'none'$$;
CREATE VIEW cdt.worker_tables AS
SELECT regexp_replace(c.relname, '_[0-9]{6,}$', '_<id>') AS table_name,
	   count(*) AS shards
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'cdt' AND c.relkind = 'r'
GROUP BY 1 ORDER BY 1;
\c - - - :coordinator_port
SET search_path TO cdt, public;

SELECT * FROM catalog_counts \gset before_

--
-- 1. Refused tables and arguments.  Each case changes nothing.
--
CREATE TABLE plain (id int, name text);

-- NULL arguments
SELECT test_error($$SELECT distdb.create_distributed_table(NULL, 'id')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('plain', NULL)$$);
-- no such table
SELECT test_error($$SELECT distdb.create_distributed_table('no_such_table', 'id')$$);

-- not tables
CREATE VIEW plain_view AS SELECT * FROM plain;
CREATE MATERIALIZED VIEW plain_matview AS SELECT * FROM plain;
CREATE SEQUENCE plain_seq;
CREATE INDEX plain_index ON plain (id);
CREATE TYPE plain_composite AS (a int);
SELECT test_error($$SELECT distdb.create_distributed_table('plain_view', 'id')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('plain_matview', 'id')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('plain_seq', 'last_value')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('plain_index', 'id')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('plain_composite', 'a')$$);

-- partitioned tables and partitions
CREATE TABLE parted (id int, day date) PARTITION BY RANGE (day);
CREATE TABLE parted_2024 PARTITION OF parted
	FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SELECT test_error($$SELECT distdb.create_distributed_table('parted', 'id')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('parted_2024', 'id')$$);

-- foreign tables
CREATE FOREIGN DATA WRAPPER cdt_fdw;
CREATE SERVER cdt_server FOREIGN DATA WRAPPER cdt_fdw;
CREATE FOREIGN TABLE foreign_table (id int) SERVER cdt_server;
SELECT test_error($$SELECT distdb.create_distributed_table('foreign_table', 'id')$$);

-- temporary tables
CREATE TEMPORARY TABLE temp_table (id int);
SELECT test_error($$SELECT distdb.create_distributed_table('temp_table', 'id')$$);

-- catalog tables, PostgreSQL's and distdb's
SELECT test_error($$SELECT distdb.create_distributed_table('pg_catalog.pg_class', 'oid')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('distdb.node', 'nodeid')$$);

-- inheritance
CREATE TABLE inh_parent (id int);
CREATE TABLE inh_child () INHERITS (inh_parent);
SELECT test_error($$SELECT distdb.create_distributed_table('inh_parent', 'id')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('inh_child', 'id')$$);

-- row-level security, also when only forced
CREATE TABLE rls_table (id int);
ALTER TABLE rls_table ENABLE ROW LEVEL SECURITY;
SELECT test_error($$SELECT distdb.create_distributed_table('rls_table', 'id')$$);
CREATE TABLE rls_forced (id int);
ALTER TABLE rls_forced FORCE ROW LEVEL SECURITY;
SELECT test_error($$SELECT distdb.create_distributed_table('rls_forced', 'id')$$);
-- a policy without row-level security enabled is harmless
CREATE TABLE policy_table (id int);
CREATE POLICY policy_table_all ON policy_table USING (true);

-- triggers and rules
CREATE FUNCTION trigger_fn() RETURNS trigger LANGUAGE plpgsql
	AS $$BEGIN RETURN NEW; END$$;
CREATE TABLE trigger_table (id int);
CREATE TRIGGER trigger_table_trigger BEFORE INSERT ON trigger_table
	FOR EACH ROW EXECUTE FUNCTION trigger_fn();
SELECT test_error($$SELECT distdb.create_distributed_table('trigger_table', 'id')$$);
CREATE TABLE rule_table (id int);
CREATE RULE rule_table_rule AS ON INSERT TO rule_table DO ALSO NOTHING;
SELECT test_error($$SELECT distdb.create_distributed_table('rule_table', 'id')$$);

-- foreign keys, in both directions
CREATE TABLE fk_referenced (id int PRIMARY KEY);
CREATE TABLE fk_referencing (id int, ref int REFERENCES fk_referenced (id));
SELECT test_error($$SELECT distdb.create_distributed_table('fk_referencing', 'id')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('fk_referenced', 'id')$$);

-- the distribution column
CREATE TABLE column_table (id int, dropped int, pt point, gen int GENERATED ALWAYS AS (id * 2) STORED);
ALTER TABLE column_table DROP COLUMN dropped;
SELECT test_error($$SELECT distdb.create_distributed_table('column_table', 'no_such_column')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('column_table', 'ID')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('column_table', 'dropped')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('column_table', 'ctid')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('column_table', 'pt')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('column_table', 'gen')$$);

-- unique constraints and indexes must have the distribution column as a key
CREATE TABLE pk_table (id int PRIMARY KEY, tenant int);
SELECT test_error($$SELECT distdb.create_distributed_table('pk_table', 'tenant')$$);
CREATE TABLE unique_table (id int, tenant int, CONSTRAINT unique_table_id_key UNIQUE (id) INCLUDE (tenant));
SELECT test_error($$SELECT distdb.create_distributed_table('unique_table', 'tenant')$$);
CREATE TABLE unique_index_table (id int, name text);
CREATE UNIQUE INDEX unique_index_table_lower ON unique_index_table (lower(name));
SELECT test_error($$SELECT distdb.create_distributed_table('unique_index_table', 'name')$$);
CREATE TABLE exclusion_table (id int, during int4range, EXCLUDE USING gist (during WITH &&));
SELECT test_error($$SELECT distdb.create_distributed_table('exclusion_table', 'id')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('exclusion_table', 'during')$$);
-- an exclusion constraint that uses = on the distribution column is fine
CREATE TABLE exclusion_ok (id int, during int4range, EXCLUDE USING gist (during WITH =));

-- shard counts
SELECT test_error($$SELECT distdb.create_distributed_table('plain', 'id', 0)$$);
SELECT test_error($$SELECT distdb.create_distributed_table('plain', 'id', -1)$$);
SELECT test_error($$SELECT distdb.create_distributed_table('plain', 'id', 64001)$$);

-- colocate_with
SELECT test_error($$SELECT distdb.create_distributed_table('plain', 'id', colocate_with => 'no_such_table')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('plain', 'id', colocate_with => 'pk_table')$$);

-- nothing was distributed, no shard was created
SELECT * FROM dist_tables;
SELECT tables - :before_tables AS tables, shards - :before_shards AS shards,
	   placements - :before_placements AS placements,
	   groups - :before_groups AS groups
FROM catalog_counts;
\c - - - :worker_1_port
SELECT * FROM cdt.worker_tables;
\c - - - :worker_2_port
SELECT * FROM cdt.worker_tables;
\c - - - :coordinator_port
SET search_path TO cdt, public;

--
-- 2. Shard DDL: a table with every kind of column, constraint and index.
-- For a table that is not distributed, distdb_shard_ddl_commands shows
-- the commands for shard id 0.
--
CREATE TABLE "Rich Table" (
	id bigint,
	tenant cdt.positive NOT NULL,
	serial_col serial,
	identity_col bigint GENERATED ALWAYS AS IDENTITY,
	"Mixed Case" text COLLATE "C" DEFAULT cdt.default_code(),
	"select" varchar(20) NOT NULL DEFAULT 'x',
	price numeric(10,2) CHECK (price >= 0),
	qty int DEFAULT 1,
	total numeric GENERATED ALWAYS AS (price * qty) STORED,
	feeling cdt.mood DEFAULT 'ok',
	tags text[],
	doc jsonb,
	during int4range,
	created timestamptz DEFAULT now(),
	dropped_col int,
	PRIMARY KEY (tenant, id),
	CONSTRAINT rich_code_key UNIQUE NULLS NOT DISTINCT (tenant, "select") INCLUDE (qty),
	CONSTRAINT rich_deferred_key UNIQUE (id, tenant) DEFERRABLE INITIALLY DEFERRED,
	CONSTRAINT rich_tenant_excl EXCLUDE USING hash (tenant WITH =),
	CONSTRAINT rich_qty_check CHECK (qty > 0 AND qty < 1000) NO INHERIT
) WITH (fillfactor = 80, autovacuum_enabled = false);
ALTER TABLE "Rich Table" DROP COLUMN dropped_col;
CREATE INDEX rich_created ON "Rich Table" (created DESC NULLS LAST, id NULLS FIRST);
CREATE INDEX rich_lower ON "Rich Table" (lower("Mixed Case") COLLATE "POSIX", (qty + 1));
CREATE INDEX rich_hash ON "Rich Table" USING hash ("select");
CREATE INDEX rich_partial ON "Rich Table" (qty) INCLUDE (price) WHERE qty > 10 AND feeling <> 'sad';
CREATE INDEX rich_pattern ON "Rich Table" ("Mixed Case" text_pattern_ops) WITH (fillfactor = 70);
CREATE INDEX rich_gin ON "Rich Table" USING gin (doc jsonb_path_ops);
CREATE INDEX rich_function ON "Rich Table" ((cdt.default_code() || "select"));
CREATE UNIQUE INDEX rich_unique_index ON "Rich Table" (tenant, qty) NULLS NOT DISTINCT;
CREATE INDEX "Rich Index" ON "Rich Table" (id);

SELECT replace(c, 'OWNER TO ' || quote_ident(current_user), 'OWNER TO <superuser>') AS command
FROM distdb.distdb_shard_ddl_commands('"Rich Table"') c;
-- the caller's search_path does not change the commands
SELECT array_agg(c)::text AS rich_commands
FROM distdb.distdb_shard_ddl_commands('"Rich Table"') c \gset
SET search_path TO public;
SELECT array_agg(c)::text = :'rich_commands' AS same_commands
FROM distdb.distdb_shard_ddl_commands('cdt."Rich Table"') c;
SET search_path TO cdt, public;

-- unlogged tables and names that need clipping
CREATE UNLOGGED TABLE unlogged_table (id int CONSTRAINT a_constraint_name_that_is_exactly_sixty_three_bytes_long_abcdefg CHECK (id > 0));
CREATE INDEX an_index_name_that_is_exactly_sixty_three_bytes_long_abcdefghij ON unlogged_table (id);
-- long names that differ only at their end stay different
CREATE INDEX an_index_name_that_is_exactly_sixty_three_bytes_long_abcdefghik ON unlogged_table (id);
-- a name of 2-byte characters is clipped at a character boundary
SELECT format('CREATE INDEX %I ON unlogged_table (id)', repeat('é', 31) || 'a') \gexec
SELECT replace(c, 'OWNER TO ' || quote_ident(current_user), 'OWNER TO <superuser>') AS command
FROM distdb.distdb_shard_ddl_commands('unlogged_table') c;

-- not for relations that are not tables
SELECT test_error($$SELECT distdb.distdb_shard_ddl_commands('plain_view')$$);

-- distribute it; the shards on the workers have the same definition
SELECT distdb.create_distributed_table('"Rich Table"', 'tenant', 4);
SELECT distdb.create_distributed_table('unlogged_table', 'id', 2);
SELECT distdb.create_distributed_table('exclusion_ok', 'during', 2);
SELECT * FROM dist_tables;
SELECT replace(regexp_replace(c, '_[0-9]{6,}\M', '_<id>', 'g'),
			   'OWNER TO ' || quote_ident(current_user), 'OWNER TO <superuser>') AS command
FROM distdb.distdb_shard_ddl_commands('"Rich Table"') c;

-- The definition of the table on the coordinator, and of its first shard
-- (shard index 0) on its worker, with the shard ids removed.
SELECT shard_name AS rich_shard, nodeid = :worker_1_id AS rich_on_worker_1
FROM distdb.distdb_shards WHERE table_name = '"Rich Table"'::regclass
ORDER BY shardindex LIMIT 1 \gset
CREATE FUNCTION public.table_definition(rel regclass) RETURNS text
LANGUAGE sql SET search_path = pg_catalog AS $$
SELECT string_agg(line, E'\n' ORDER BY line) FROM (
	-- columns by position; defaults that take sequence values stay on the
	-- coordinator, like identity
	SELECT format('column %s %s %s notnull=%s collation=%s generated=%s default=%s',
				  row_number() OVER (ORDER BY a.attnum), a.attname,
				  format_type(a.atttypid, a.atttypmod), a.attnotnull,
				  a.attcollation, a.attgenerated,
				  CASE WHEN pg_get_expr(d.adbin, d.adrelid) NOT LIKE 'nextval(%'
					   THEN pg_get_expr(d.adbin, d.adrelid) END) AS line
	FROM pg_attribute a LEFT JOIN pg_attrdef d
		ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT format('constraint %s %s', regexp_replace(conname, '_[0-9]{6,}$', ''),
				  pg_get_constraintdef(oid))
	FROM pg_constraint WHERE conrelid = rel
	UNION ALL
	SELECT format('index %s', regexp_replace(pg_get_indexdef(indexrelid),
											  '_[0-9]{6,}\M', '', 'g'))
	FROM pg_index WHERE indrelid = rel
	UNION ALL
	SELECT format('options %s persistence %s', reloptions, relpersistence)
	FROM pg_class WHERE oid = rel
) lines
$$;
SELECT public.table_definition('"Rich Table"') AS coordinator_definition \gset
SELECT pg_get_functiondef('public.table_definition(regclass)'::regprocedure)
	AS table_definition_function \gset
\set ECHO none
\c - - - :worker_1_port
SELECT :'table_definition_function' \gexec
\c - - - :worker_2_port
SELECT :'table_definition_function' \gexec
\set ECHO all
\if :rich_on_worker_1
\c - - - :worker_1_port
\endif
-- the shard's definition equals the table's (shown once, on the worker)
SELECT public.table_definition(:'rich_shard') AS worker_definition \gset
SELECT :'worker_definition' = :'coordinator_definition' AS same_definition;
SELECT :'worker_definition' AS definition;
SELECT * FROM cdt.worker_tables;
\c - - - :coordinator_port
SET search_path TO cdt, public;

--
-- 3. Tables that hold rows.  The rows move into the shards; afterwards the
-- coordinator's table is empty.
--
CREATE TABLE orders (
	id bigint NOT NULL,
	customer int NOT NULL,
	amount numeric(12,2),
	note text,
	day date,
	doubled bigint GENERATED ALWAYS AS (id * 2) STORED
);
INSERT INTO orders (id, customer, amount, note, day)
SELECT g, g % 97, g * 1.25,
	   CASE g % 7
		   WHEN 0 THEN NULL
		   WHEN 1 THEN E'tab\there'
		   WHEN 2 THEN E'new\nline'
		   WHEN 3 THEN E'back\\slash'
		   WHEN 4 THEN E'carriage\rreturn'
		   WHEN 5 THEN 'ünïcödé ✓'
		   ELSE E'\\N'
	   END,
	   date '2024-01-01' + g
FROM generate_series(1, 5000) g;

-- a checksum of the rows that does not depend on their order
CREATE FUNCTION public.row_checksum(rel regclass) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
	result numeric;
BEGIN
	EXECUTE format('SELECT coalesce(sum((''x'' || substr(md5(t::text), 1, 8))::bit(32)::int::numeric), 0) FROM %s t', rel)
	INTO result;
	RETURN result;
END $$;
SELECT count(*) AS orders_count, sum(amount) AS orders_amount,
	   public.row_checksum('orders') AS orders_checksum
FROM orders \gset
SELECT :orders_count AS count, :orders_amount AS amount;

-- a dateStyle the workers would misread, and small COPY batches
SET datestyle TO 'SQL, DMY';
SET distdb.copy_batch_size TO '1kB';
SELECT distdb.create_distributed_table('orders', 'customer', 8);
RESET datestyle;
RESET distdb.copy_batch_size;
SELECT * FROM dist_tables WHERE table_name = 'orders'::regclass;

-- the coordinator's table is empty now
SELECT pg_relation_size('orders') AS coordinator_size;

-- Every shard holds exactly the rows whose customer hashes to it: the
-- expected row count of each shard, computed on the coordinator ...
SELECT string_agg(format('%s=%s', s.shard_name, coalesce(c.rows, 0)), ','
				  ORDER BY s.shard_name) AS expected_rows
FROM distdb.distdb_shards s
LEFT JOIN (SELECT distdb.distdb_shard_index_for_value('orders', (g % 97)::text) AS shardindex,
				  count(*) AS rows
		   FROM generate_series(1, 5000) g GROUP BY 1) c USING (shardindex)
WHERE s.table_name = 'orders'::regclass \gset
SELECT string_agg(shard_name, ',' ORDER BY shard_name) AS worker_1_shards
FROM distdb.distdb_shards
WHERE table_name = 'orders'::regclass AND nodeid = :worker_1_id \gset
SELECT string_agg(shard_name, ',' ORDER BY shard_name) AS worker_2_shards
FROM distdb.distdb_shards
WHERE table_name = 'orders'::regclass AND nodeid = :worker_2_id \gset
-- ... and the rows each worker's shards hold, with a checksum
CREATE FUNCTION public.shard_rows(prefix text, OUT shards text, OUT rows text,
								  OUT checksum numeric, OUT amount numeric)
LANGUAGE plpgsql AS $$
DECLARE
	shard record;
	shard_count bigint;
	shard_checksum numeric;
	shard_amount numeric;
BEGIN
	checksum := 0;
	amount := 0;
	FOR shard IN
		SELECT format('%I.%I', n.nspname, c.relname) AS name
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'cdt' AND c.relname ~ ('^' || prefix || '_[0-9]+$')
		ORDER BY 1
	LOOP
		EXECUTE format('SELECT count(*), coalesce(sum((''x'' || substr(md5(t::text), 1, 8))::bit(32)::int::numeric), 0), coalesce(sum(amount), 0) FROM %s t', shard.name)
		INTO shard_count, shard_checksum, shard_amount;
		shards := concat_ws(',', shards, shard.name);
		rows := concat_ws(',', rows, shard.name || '=' || shard_count);
		checksum := checksum + shard_checksum;
		amount := amount + shard_amount;
	END LOOP;
END $$;
SELECT pg_get_functiondef('public.shard_rows(text)'::regprocedure)
	AS shard_rows_function \gset
\set ECHO none
\c - - - :worker_2_port
SELECT :'shard_rows_function' \gexec
\c - - - :worker_1_port
SELECT :'shard_rows_function' \gexec
\set ECHO all
SELECT shards AS w1_shards, rows AS w1_rows, checksum AS w1_checksum,
	   amount AS w1_amount
FROM public.shard_rows('orders') \gset
\c - - - :worker_2_port
SELECT shards AS w2_shards, rows AS w2_rows, checksum AS w2_checksum,
	   amount AS w2_amount
FROM public.shard_rows('orders') \gset
\c - - - :coordinator_port
SET search_path TO cdt, public;
-- each worker holds the shards the catalog places there
SELECT :'w1_shards' = :'worker_1_shards' AS worker_1_placements_match,
	   :'w2_shards' = :'worker_2_shards' AS worker_2_placements_match;
-- each shard holds the rows that hash to it
SELECT (SELECT array_agg(x ORDER BY x)
		FROM unnest(string_to_array(:'w1_rows' || ',' || :'w2_rows', ',')) x) =
	   (SELECT array_agg(x ORDER BY x)
		FROM unnest(string_to_array(:'expected_rows', ',')) x) AS rows_in_right_shards;
-- and the rows are the same, byte for byte
SELECT :w1_checksum + :w2_checksum = :orders_checksum AS same_rows,
	   :w1_amount + :w2_amount = :orders_amount AS same_amount;

-- the shard functions: sizes read from the nodes, names, hashing
SELECT count(*) AS shards, bool_and(shard_size > 0) AS all_sizes_known,
	   bool_and(shard_name = format('cdt.orders_%s', shardid)) AS names_match
FROM distdb.distdb_shards WHERE table_name = 'orders'::regclass;
SELECT count(*) AS sizes FROM distdb.distdb_shard_sizes() s
JOIN distdb.shard USING (shardid) WHERE logicalrelid = 'orders'::regclass;
SELECT distdb.distdb_shard_name('"Rich Table"', 42) AS quoted_name;
SELECT distdb.distdb_shard_index_for_value('orders', '5') =
	   (SELECT shardindex FROM distdb.shard
		WHERE logicalrelid = 'orders'::regclass
		  AND hashint4(5) BETWEEN minvalue AND maxvalue) AS same_index;
SELECT test_error($$SELECT distdb.distdb_shard_index_for_value('orders', 'five')$$);
SELECT test_error($$SELECT distdb.distdb_shard_index_for_value('plain', '5')$$);

-- reading through the coordinator gives the same answers
SELECT count(*), sum(amount), sum(doubled) FROM orders;
SELECT count(*) FROM orders WHERE note IS NULL;
SELECT id, customer, amount, note, day, doubled FROM orders WHERE customer = 5 AND id < 500 ORDER BY id;
SELECT note, count(*) FROM orders GROUP BY note ORDER BY note;
COPY (SELECT id, note FROM orders WHERE customer = 3 AND id < 300 ORDER BY id) TO STDOUT;

-- a NULL distribution value refuses the whole table, which keeps its rows
CREATE TABLE null_rows (id int, customer int);
INSERT INTO null_rows VALUES (1, 1), (2, NULL), (3, 3);
SELECT test_error($$SELECT distdb.create_distributed_table('null_rows', 'customer')$$);
SELECT * FROM null_rows ORDER BY id;
SELECT count(*) FROM dist_tables WHERE table_name = 'null_rows'::regclass;

-- a rollback restores the rows and leaves no shard behind
CREATE TABLE rollback_rows (id int, v text);
INSERT INTO rollback_rows SELECT g, 'v' || g FROM generate_series(1, 100) g;
BEGIN;
SELECT distdb.create_distributed_table('rollback_rows', 'id', 4);
SELECT count(*) FROM rollback_rows;
ROLLBACK;
SELECT count(*), sum(id) FROM rollback_rows;
SELECT count(*) FROM dist_tables WHERE table_name = 'rollback_rows'::regclass;
-- the same with a savepoint
BEGIN;
SAVEPOINT before_distribution;
SELECT distdb.create_distributed_table('rollback_rows', 'id', 4);
ROLLBACK TO SAVEPOINT before_distribution;
SELECT count(*), sum(id) FROM rollback_rows;
COMMIT;
SELECT count(*) FROM dist_tables WHERE table_name = 'rollback_rows'::regclass;

-- a failure on a worker (a row the shard's CHECK refuses) changes nothing
CREATE TABLE worker_failure (id int, v int);
INSERT INTO worker_failure VALUES (1, 1), (2, -2);
ALTER TABLE worker_failure ADD CONSTRAINT worker_failure_v_check CHECK (v > 0) NOT VALID;
SELECT test_error($$SELECT distdb.create_distributed_table('worker_failure', 'id', 2)$$);
SELECT * FROM worker_failure ORDER BY id;
SELECT count(*) FROM dist_tables WHERE table_name = 'worker_failure'::regclass;
\c - - - :worker_1_port
SELECT * FROM cdt.worker_tables;
\c - - - :worker_2_port
SELECT * FROM cdt.worker_tables;
\c - - - :coordinator_port
SET search_path TO cdt, public;

-- already distributed
SELECT test_error($$SELECT distdb.create_distributed_table('orders', 'customer')$$);

--
-- 4. Colocation
--
CREATE TABLE colo_a (id int, v text);
CREATE TABLE colo_b (key int);
CREATE TABLE colo_none (id int);
CREATE TABLE colo_with_none (id int);
CREATE TABLE colo_bigint (id bigint);
CREATE TABLE colo_count (id int);
CREATE TABLE colo_text (name text);
CREATE TABLE colo_text_c (name text COLLATE "C");
CREATE TABLE colo_text_c2 (name text COLLATE "C");
CREATE TABLE colo_inherit_count (id int);
-- the same shard count and column type share the default group
SELECT distdb.create_distributed_table('colo_a', 'id', 6);
SELECT distdb.create_distributed_table('colo_b', 'key', 6, 'Default');
-- 'none' makes a group of its own; naming a table joins its group
SELECT distdb.create_distributed_table('colo_none', 'id', 6, 'NONE');
SELECT distdb.create_distributed_table('colo_with_none', 'id', colocate_with => 'colo_none');
-- other types, shard counts and collations get other default groups
SELECT distdb.create_distributed_table('colo_bigint', 'id', 6);
SELECT distdb.create_distributed_table('colo_count', 'id', 3);
SELECT distdb.create_distributed_table('colo_text', 'name', 6);
SELECT distdb.create_distributed_table('colo_text_c', 'name', 6);
SELECT distdb.create_distributed_table('colo_text_c2', 'name', 6);
-- without shard_count, a table named in colocate_with gives its shard count
SELECT distdb.create_distributed_table('colo_inherit_count', 'id', colocate_with => 'cdt.colo_count');

SELECT t.logicalrelid::regclass AS table_name, c.shardcount,
	   c.distcoltype, c.isdefault,
	   dense_rank() OVER (ORDER BY t.colocationid) AS colocation_group
FROM distdb.dist_table t JOIN distdb.colocation c USING (colocationid)
WHERE t.logicalrelid::regclass::text LIKE 'colo\_%'
ORDER BY t.colocationid, 1::text;

-- colocated tables have their shards with the same index on the same node
SELECT a.table_name, b.table_name,
	   bool_and(a.nodeid = b.nodeid AND a.minvalue = b.minvalue AND a.maxvalue = b.maxvalue) AS same_placement
FROM distdb.distdb_shards a JOIN distdb.distdb_shards b USING (shardindex)
WHERE (a.table_name, b.table_name) IN (('colo_a'::regclass, 'colo_b'::regclass),
									   ('colo_none'::regclass, 'colo_with_none'::regclass),
									   ('colo_count'::regclass, 'colo_inherit_count'::regclass))
GROUP BY 1, 2 ORDER BY 1::text;

-- mismatches
SELECT test_error($$SELECT distdb.create_distributed_table('plain', 'id', 4, 'colo_a')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('plain', 'name', colocate_with => 'colo_a')$$);
CREATE TABLE colo_bad_bigint (id bigint);
SELECT test_error($$SELECT distdb.create_distributed_table('colo_bad_bigint', 'id', colocate_with => 'colo_a')$$);
CREATE TABLE colo_bad_collation (name text);
SELECT test_error($$SELECT distdb.create_distributed_table('colo_bad_collation', 'name', colocate_with => 'colo_text_c')$$);
SELECT count(*) FROM dist_tables WHERE table_name::text IN ('plain', 'colo_bad_bigint', 'colo_bad_collation');

-- dropping the last table of a group removes the group
SELECT colocationid AS none_group FROM distdb.dist_table
WHERE logicalrelid = 'colo_none'::regclass \gset
DROP TABLE colo_none;
SELECT count(*) AS group_rows FROM distdb.colocation WHERE colocationid = :none_group;
DROP TABLE colo_with_none;
SELECT count(*) AS group_rows FROM distdb.colocation WHERE colocationid = :none_group;

--
-- 5. Who may distribute a table
--
-- the roles exist on every node before they are granted anything: GRANT
-- on schema cdt, which holds distributed tables, reaches the workers
CREATE ROLE regress_cdt_owner LOGIN;
CREATE ROLE regress_cdt_other LOGIN;
\c - - - :worker_1_port
CREATE ROLE regress_cdt_owner LOGIN;
CREATE ROLE regress_cdt_other LOGIN;
GRANT CREATE ON SCHEMA public TO regress_cdt_owner;
\c - - - :worker_2_port
CREATE ROLE regress_cdt_owner LOGIN;
CREATE ROLE regress_cdt_other LOGIN;
GRANT CREATE ON SCHEMA public TO regress_cdt_owner;
\c - - - :coordinator_port
SET search_path TO cdt, public;
GRANT USAGE ON SCHEMA cdt TO regress_cdt_owner, regress_cdt_other;
GRANT CREATE ON SCHEMA public TO regress_cdt_owner;

SET ROLE regress_cdt_owner;
CREATE TABLE public.owned_table (id int PRIMARY KEY, v text);
INSERT INTO public.owned_table SELECT g, 'v' || g FROM generate_series(1, 50) g;

-- someone else may neither distribute it nor change the catalog
SET ROLE regress_cdt_other;
SELECT test_error($$SELECT distdb.create_distributed_table('public.owned_table', 'id')$$);
SELECT test_error($$SELECT distdb.create_distributed_table('cdt.plain', 'id')$$);
SELECT test_error($$INSERT INTO distdb.dist_table VALUES ('public.owned_table', 'h', 1, 1)$$);
SELECT test_error($$SELECT distdb.distdb_add_node('127.0.0.1', 1)$$);

-- the owner, not a superuser, may
SET ROLE regress_cdt_owner;
SELECT distdb.create_distributed_table('public.owned_table', 'id', 4);
SELECT table_name, shard_count FROM distdb.distdb_tables
WHERE table_name = 'public.owned_table'::regclass;
SELECT count(*), sum(id) FROM public.owned_table;
-- yet may still not write the catalog directly
SELECT test_error($$DELETE FROM distdb.shard$$);
RESET ROLE;

-- the shards belong to the table's owner
\c - - - :worker_1_port
SELECT DISTINCT pg_get_userbyid(relowner) AS shard_owner
FROM pg_class WHERE relname ~ '^owned_table_[0-9]+$';
\c - - - :coordinator_port
SET search_path TO cdt, public;

-- a superuser distributing someone else's table: the shards are still
-- owned by the table's owner
SET ROLE regress_cdt_owner;
CREATE TABLE public.owned_by_other (id int);
RESET ROLE;
SELECT distdb.create_distributed_table('public.owned_by_other', 'id', 2);
\c - - - :worker_2_port
SELECT DISTINCT pg_get_userbyid(relowner) AS shard_owner
FROM pg_class WHERE relname ~ '^owned_by_other_[0-9]+$';
\c - - - :coordinator_port
SET search_path TO cdt, public;

--
-- Clean up
--
DROP TABLE public.owned_table, public.owned_by_other;
REVOKE CREATE ON SCHEMA public FROM regress_cdt_owner;
REVOKE USAGE ON SCHEMA cdt FROM regress_cdt_owner, regress_cdt_other;
DROP ROLE regress_cdt_owner;
DROP ROLE regress_cdt_other;
\c - - - :worker_1_port
REVOKE CREATE ON SCHEMA public FROM regress_cdt_owner;
DROP ROLE regress_cdt_owner;
DROP ROLE regress_cdt_other;
\c - - - :worker_2_port
REVOKE CREATE ON SCHEMA public FROM regress_cdt_owner;
DROP ROLE regress_cdt_owner;
DROP ROLE regress_cdt_other;
\c - - - :coordinator_port

DROP FUNCTION public.table_definition(regclass);
DROP FUNCTION public.row_checksum(regclass);
DROP FUNCTION public.shard_rows(text);
-- the distributed tables of cdt go first: DROP SCHEMA CASCADE refuses them
SELECT format('DROP TABLE %s', string_agg(table_name::text, ', '))
FROM cdt.dist_tables \gexec
\set VERBOSITY terse
DROP SCHEMA cdt CASCADE;
\set VERBOSITY default
DROP SERVER cdt_server;
DROP FOREIGN DATA WRAPPER cdt_fdw;
SELECT tables - :before_tables AS tables, shards - :before_shards AS shards,
	   placements - :before_placements AS placements
FROM (SELECT (SELECT count(*) FROM distdb.dist_table) AS tables,
			 (SELECT count(*) FROM distdb.shard) AS shards,
			 (SELECT count(*) FROM distdb.placement) AS placements) c;
\c - - - :worker_1_port
DROP FUNCTION public.table_definition(regclass);
DROP FUNCTION public.shard_rows(text);
SELECT relname FROM pg_class WHERE relname ~ '_[0-9]{6,}$' AND relnamespace = 'cdt'::regnamespace;
\set VERBOSITY terse
DROP SCHEMA cdt CASCADE;
\set VERBOSITY default
\c - - - :worker_2_port
DROP FUNCTION public.table_definition(regclass);
DROP FUNCTION public.shard_rows(text);
SELECT relname FROM pg_class WHERE relname ~ '_[0-9]{6,}$' AND relnamespace = 'cdt'::regnamespace;
\set VERBOSITY terse
DROP SCHEMA cdt CASCADE;
\set VERBOSITY default
\c - - - :coordinator_port
