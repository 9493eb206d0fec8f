--
-- ddl_alter_table: ALTER TABLE, renames and SET SCHEMA of distributed
-- tables run on every shard; regress.check_shards compares every shard
-- with the coordinator's table after each command
--
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
\set coordinator_port :PORT

CREATE SCHEMA ddl_alter;
SET search_path TO ddl_alter, public;

-- the error a command raises, shard ids masked
CREATE FUNCTION ddl_alter.test_error(command text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE command;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN regexp_replace(SQLSTATE || ': ' || SQLERRM
		|| CASE WHEN detail <> '' THEN E'\nDETAIL: ' || detail ELSE '' END,
		'_[0-9]{6,}\M', '_<id>', 'g');
END $$;

CREATE TABLE orders (id int PRIMARY KEY, customer text, amount numeric, note text);
INSERT INTO orders SELECT g, 'customer ' || g % 7, g * 1.5, NULL
FROM generate_series(1, 100) g;
CREATE TABLE orders_local (LIKE orders);
INSERT INTO orders_local SELECT * FROM orders;
SELECT distdb.create_distributed_table('orders', 'id', 4);

--
-- ADD COLUMN
--
ALTER TABLE orders ADD COLUMN status text;
SELECT regress.check_shards('orders');
ALTER TABLE orders ADD COLUMN qty int NOT NULL DEFAULT 1,
	ADD COLUMN created date DEFAULT '2024-01-31';
ALTER TABLE orders_local ADD COLUMN status text, ADD COLUMN qty int NOT NULL DEFAULT 1,
	ADD COLUMN created date DEFAULT '2024-01-31';
SELECT regress.check_shards('orders');
SELECT * FROM regress.check_query($$SELECT id, qty, created FROM orders ORDER BY id LIMIT 3$$);
-- a stable default is evaluated once, on the coordinator: every row of
-- every shard gets the same value, as in PostgreSQL
ALTER TABLE orders ADD COLUMN added_at timestamptz DEFAULT now();
SELECT count(DISTINCT added_at) AS added_at_values, count(*) FROM orders;
-- a volatile default is evaluated for each row, as in PostgreSQL
ALTER TABLE orders ADD COLUMN r float8 DEFAULT random();
SELECT count(DISTINCT r) > 50 AS per_row FROM orders;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS status text;
ALTER TABLE orders ADD COLUMN checked int CHECK (checked > 0),
	ADD COLUMN code text COLLATE "C", ADD UNIQUE (code, id);
SELECT regress.check_shards('orders');
-- a unique column must be the distribution column
SELECT test_error($$ALTER TABLE orders ADD COLUMN code2 text UNIQUE$$);
-- defaults from sequences are refused: existing rows would need them
CREATE SEQUENCE order_seq;
SELECT test_error($$ALTER TABLE orders ADD COLUMN seq int DEFAULT nextval('order_seq')$$);
SELECT test_error($$ALTER TABLE orders ADD COLUMN seq serial$$);
SELECT test_error($$ALTER TABLE orders ADD COLUMN seq int GENERATED ALWAYS AS IDENTITY$$);
-- but a sequence default can be set afterwards: the coordinator evaluates
-- it, the shards do not have it
ALTER TABLE orders ADD COLUMN seq int;
ALTER TABLE orders ALTER COLUMN seq SET DEFAULT nextval('order_seq');
SELECT regress.check_shards('orders');
INSERT INTO orders (id, customer, amount) VALUES (1001, 'customer 1', 1) RETURNING seq;
DELETE FROM orders WHERE id = 1001;
SELECT DISTINCT name, coordinator_definition
FROM distdb.distdb_shard_definitions('orders') WHERE kind = 'column' ORDER BY 1;

--
-- DROP COLUMN, ALTER COLUMN
--
ALTER TABLE orders DROP COLUMN r, DROP COLUMN IF EXISTS no_such_column;
SELECT regress.check_shards('orders');
ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2),
	ALTER COLUMN note TYPE varchar(100) COLLATE "C";
ALTER TABLE orders ALTER COLUMN customer TYPE text USING upper(customer) || '!';
ALTER TABLE orders_local ALTER COLUMN amount TYPE numeric(12,2),
	ALTER COLUMN customer TYPE text USING upper(customer) || '!';
SELECT regress.check_shards('orders');
SELECT * FROM regress.check_query($$SELECT id, customer, amount FROM orders ORDER BY id LIMIT 3$$);
ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'none', ALTER COLUMN customer SET NOT NULL;
ALTER TABLE orders ALTER COLUMN qty DROP DEFAULT, ALTER COLUMN qty DROP NOT NULL;
SELECT regress.check_shards('orders');
-- the shards check their rows: NULLs in status make SET NOT NULL fail,
-- and nothing changes anywhere
SELECT test_error($$ALTER TABLE orders ALTER COLUMN status SET NOT NULL$$);
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'status';
SELECT regress.check_shards('orders');

--
-- constraints
--
ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount >= 0),
	ADD CONSTRAINT amount_small CHECK (amount < 1000) NOT VALID;
SELECT regress.check_shards('orders');
ALTER TABLE orders VALIDATE CONSTRAINT amount_small;
SELECT regress.check_shards('orders');
-- existing rows that violate a new CHECK make it fail
SELECT test_error($$ALTER TABLE orders ADD CONSTRAINT amount_tiny CHECK (amount < 1)$$);
ALTER TABLE orders ADD CONSTRAINT orders_customer_id UNIQUE (customer, id);
SELECT test_error($$ALTER TABLE orders ADD CONSTRAINT orders_customer UNIQUE (customer)$$);
SELECT test_error($$ALTER TABLE orders ADD CONSTRAINT orders_excl EXCLUDE USING btree (amount WITH =)$$);
ALTER TABLE orders ADD CONSTRAINT orders_excl EXCLUDE USING btree (id WITH =, code WITH =);
-- replacing the primary key in one statement
ALTER TABLE orders DROP CONSTRAINT orders_pkey, ADD PRIMARY KEY (id);
SELECT regress.check_shards('orders');
-- a constraint from an existing index
CREATE UNIQUE INDEX orders_id_note ON orders (id, note);
ALTER TABLE orders ADD CONSTRAINT orders_id_note_key UNIQUE USING INDEX orders_id_note;
SELECT regress.check_shards('orders');
ALTER TABLE orders DROP CONSTRAINT amount_small, DROP CONSTRAINT IF EXISTS no_such;
SELECT regress.check_shards('orders');
SELECT DISTINCT kind, name, coordinator_definition
FROM distdb.distdb_shard_definitions('orders') WHERE kind <> 'column' ORDER BY 1, 2;

--
-- renames
--
ALTER TABLE orders RENAME COLUMN note TO remark;
ALTER TABLE orders RENAME CONSTRAINT amount_positive TO amount_not_negative;
-- renaming a constraint with an index renames the index, on the shards too
ALTER TABLE orders RENAME CONSTRAINT orders_id_note_key TO orders_remark_key;
ALTER INDEX orders_pkey RENAME TO orders_pk;
CREATE INDEX orders_customer_idx ON orders (customer);
ALTER INDEX orders_customer_idx RENAME TO orders_by_customer;
SELECT regress.check_shards('orders');
ALTER TABLE orders RENAME TO purchases;
ALTER TABLE orders_local RENAME TO purchases_local;
SELECT regress.check_shards('purchases');
SELECT * FROM regress.check_query($$SELECT count(*), sum(amount) FROM purchases$$);
-- renaming the distribution column: rows stay where they are
ALTER TABLE purchases RENAME COLUMN id TO purchase_id;
ALTER TABLE purchases_local RENAME COLUMN id TO purchase_id;
SELECT * FROM regress.check_query($$SELECT customer FROM purchases WHERE purchase_id = 5$$);
SELECT regress.check_shards('purchases');
\c - - - :worker_1_port
SELECT DISTINCT regexp_replace(tablename, '_[0-9]{6,}$', '_<id>') AS shard_table
FROM pg_tables WHERE schemaname = 'ddl_alter' ORDER BY 1;
\c - - - :coordinator_port
SET search_path TO ddl_alter, public;

--
-- SET SCHEMA: the schema is created on the nodes when missing
--
CREATE SCHEMA ddl_alter_moved;
ALTER TABLE purchases SET SCHEMA ddl_alter_moved;
SELECT regress.check_shards('ddl_alter_moved.purchases');
SELECT count(*) FROM ddl_alter_moved.purchases;
\c - - - :worker_2_port
SELECT DISTINCT schemaname, regexp_replace(tablename, '_[0-9]{6,}$', '_<id>') AS shard_table
FROM pg_tables WHERE schemaname LIKE 'ddl_alter%' ORDER BY 1, 2;
\c - - - :coordinator_port
SET search_path TO ddl_alter, public;
ALTER TABLE ddl_alter_moved.purchases SET SCHEMA ddl_alter;
SELECT regress.check_shards('purchases');

--
-- refused: the distribution column, other subcommands (by name)
--
SELECT test_error($$ALTER TABLE purchases DROP COLUMN purchase_id$$);
SELECT test_error($$ALTER TABLE purchases ALTER COLUMN purchase_id TYPE bigint$$);
SELECT test_error($$ALTER TABLE purchases SET UNLOGGED$$);
SELECT test_error($$ALTER TABLE purchases ALTER COLUMN qty SET STATISTICS 100$$);
SELECT test_error($$ALTER TABLE purchases ADD COLUMN extra int, CLUSTER ON purchases_pkey$$);
SELECT test_error($$ALTER INDEX orders_pk SET (fillfactor = 50)$$);
SELECT count(*) FROM pg_attribute WHERE attrelid = 'purchases'::regclass AND attname = 'extra';
-- comments stay on the coordinator (they do not change the shards' data)
COMMENT ON TABLE purchases IS 'what was bought';
COMMENT ON COLUMN purchases.customer IS 'who bought';
SELECT obj_description('purchases'::regclass, 'pg_class'), col_description('purchases'::regclass, 2);
SELECT regress.check_shards('purchases');

--
-- transactions
--
BEGIN;
ALTER TABLE purchases ADD COLUMN tmp int;
ALTER TABLE purchases RENAME COLUMN tmp TO tmp2;
ROLLBACK;
SELECT count(*) FROM pg_attribute WHERE attrelid = 'purchases'::regclass AND attname LIKE 'tmp%';
SELECT regress.check_shards('purchases');
BEGIN;
ALTER TABLE purchases ADD COLUMN extra int DEFAULT 7;
INSERT INTO purchases (purchase_id, customer, amount, extra) VALUES (2000, 'new', 1, 8);
SELECT purchase_id, extra FROM purchases WHERE purchase_id IN (1, 2000) ORDER BY 1;
SAVEPOINT s1;
ALTER TABLE purchases DROP COLUMN extra;
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SELECT purchase_id, extra FROM purchases WHERE purchase_id IN (1, 2000) ORDER BY 1;
SELECT regress.check_shards('purchases');
DELETE FROM purchases WHERE purchase_id = 2000;

--
-- foreign keys between co-located tables, on the distribution column
--
CREATE TABLE lines (order_id int, line int, item text, PRIMARY KEY (order_id, line));
SELECT distdb.create_distributed_table('lines', 'order_id', colocate_with => 'purchases');
ALTER TABLE lines ADD CONSTRAINT lines_order_fk FOREIGN KEY (order_id)
	REFERENCES purchases (purchase_id) ON DELETE CASCADE;
SELECT regress.check_shards('lines');
SELECT DISTINCT name, coordinator_definition FROM distdb.distdb_shard_definitions('lines')
WHERE kind = 'constraint' ORDER BY 1;
INSERT INTO lines VALUES (1, 1, 'a'), (1, 2, 'b'), (2, 1, 'c');
SELECT test_error($$INSERT INTO lines VALUES (99999, 1, 'x')$$);
DELETE FROM purchases WHERE purchase_id = 1;
SELECT * FROM lines ORDER BY 1, 2;
-- refused: not co-located, not on the distribution column, to a local table
CREATE TABLE other (id int PRIMARY KEY);
SELECT distdb.create_distributed_table('other', 'id', 3);
CREATE TABLE local_ref (id int PRIMARY KEY);
SELECT test_error($$ALTER TABLE lines ADD FOREIGN KEY (order_id) REFERENCES other (id)$$);
SELECT test_error($$ALTER TABLE lines ADD FOREIGN KEY (line) REFERENCES purchases (purchase_id) NOT VALID$$);
SELECT test_error($$ALTER TABLE lines ADD COLUMN other_id int REFERENCES other$$);
SELECT test_error($$ALTER TABLE lines ADD FOREIGN KEY (order_id) REFERENCES local_ref (id)$$);
SELECT regress.check_shards('lines');
-- TRUNCATE ... CASCADE and DROP ... CASCADE follow the foreign key on the shards
BEGIN;
TRUNCATE purchases CASCADE;
SELECT count(*) FROM lines;
ROLLBACK;
SELECT count(*) FROM lines;

--
-- a worker rejects the command: nothing changes anywhere
--
-- a column of that name, added to one shard directly on its worker
SELECT shardid AS conflicting_shardid, nodeport AS conflicting_port
FROM distdb.distdb_shards WHERE table_name = 'purchases'::regclass AND shardindex = 2 \gset
\c - - - :conflicting_port
ALTER TABLE ddl_alter.purchases_:conflicting_shardid ADD COLUMN conflicting int;
\c - - - :coordinator_port
SET search_path TO ddl_alter, public;
SELECT test_error($$ALTER TABLE purchases ADD COLUMN conflicting int, ADD COLUMN other_new int$$);
SELECT count(*) FROM pg_attribute WHERE attrelid = 'purchases'::regclass
AND attname IN ('conflicting', 'other_new');
-- only the column made on the worker differs
SELECT regress.check_shards('purchases');
-- a rename whose new shard name is taken on one worker
\c - - - :conflicting_port
ALTER TABLE ddl_alter.purchases_:conflicting_shardid DROP COLUMN conflicting;
CREATE TABLE ddl_alter.orders_:conflicting_shardid (id int);
\c - - - :coordinator_port
SET search_path TO ddl_alter, public;
SELECT test_error($$ALTER TABLE purchases RENAME TO orders$$);
SELECT count(*) FROM purchases;
SELECT regress.check_shards('purchases');
\c - - - :conflicting_port
DROP TABLE ddl_alter.orders_:conflicting_shardid;
\c - - - :coordinator_port
SET search_path TO ddl_alter, public;
-- a failure in two-phase commit rolls back every node
SELECT distdb.distdb_set_fault('after_prepare', 'error');
ALTER TABLE purchases ADD COLUMN fault_column int;
SELECT distdb.distdb_clear_faults();
SELECT count(*) FROM pg_attribute WHERE attrelid = 'purchases'::regclass AND attname = 'fault_column';
SELECT regress.check_shards('purchases');
SELECT count(*) FROM pg_prepared_xacts;

-- clean up
DROP TABLE purchases CASCADE;
SELECT regress.check_shards('lines');
DROP TABLE lines, other, local_ref, purchases_local;
DROP SCHEMA ddl_alter, ddl_alter_moved CASCADE;
\c - - - :worker_1_port
DROP SCHEMA IF EXISTS ddl_alter, ddl_alter_moved CASCADE;
\c - - - :worker_2_port
DROP SCHEMA IF EXISTS ddl_alter, ddl_alter_moved CASCADE;
\c - - - :coordinator_port
