--
-- alter_distributed_table: a new shard count or distribution column, rows
-- kept
--
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
\set coordinator_port :PORT
CREATE SCHEMA alter_dist;
CREATE ROLE regress_alter_user;
\c - - - :worker_1_port
CREATE ROLE regress_alter_user;
\c - - - :worker_2_port
CREATE ROLE regress_alter_user;
\c - - - :coordinator_port
GRANT USAGE ON SCHEMA alter_dist TO regress_alter_user;
SET search_path TO alter_dist, public;

CREATE TABLE orders (customer_id int, order_id int, total numeric, note text,
	PRIMARY KEY (customer_id, order_id));
INSERT INTO orders SELECT g % 97, g, g * 1.5, 'order ' || g FROM generate_series(1, 2000) g;
SELECT distdb.create_distributed_table('orders', 'customer_id', 4);
CREATE TABLE customers (customer_id int PRIMARY KEY, name text);
INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(0, 96) g;
SELECT distdb.create_distributed_table('customers', 'customer_id', 4, colocate_with => 'orders');
CREATE TABLE orders_local AS SELECT * FROM orders;
CREATE TABLE customers_local AS SELECT * FROM customers;
GRANT SELECT ON orders TO regress_alter_user;

-- shards, colocation group and shard count of a table
CREATE FUNCTION layout(t regclass) RETURNS TABLE (shard_count int, shards bigint, nodes bigint, same_group_as_customers bool)
LANGUAGE sql AS $$
	SELECT c.shard_count, (SELECT count(*) FROM distdb.distdb_shards s WHERE s.table_name = t),
		   (SELECT count(DISTINCT nodeid) FROM distdb.distdb_shards s WHERE s.table_name = t),
		   c.colocationid = (SELECT colocationid FROM distdb.distdb_tables WHERE table_name = 'customers'::regclass)
	FROM distdb.distdb_tables c WHERE c.table_name = t
$$;
SELECT * FROM layout('orders');

-- a new shard count: new shards, same rows, a group of its own
SELECT distdb.alter_distributed_table('orders', shard_count => 8);
SELECT * FROM layout('orders');
SELECT * FROM regress.check_query('SELECT count(*), sum(total), count(DISTINCT note) FROM orders');
SELECT * FROM regress.check_query('SELECT o.customer_id, count(*), max(c.name) FROM orders o JOIN customers c USING (customer_id) GROUP BY 1 ORDER BY 1 LIMIT 5');
-- each row is in the shard its value hashes to: a router query for each
-- value finds all its rows
CREATE FUNCTION misplaced_values(col text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	v int;
	wrong int := 0;
	dist bigint;
	loc bigint;
BEGIN
	FOR v IN EXECUTE format('SELECT DISTINCT %I FROM orders_local', col) LOOP
		EXECUTE format('SELECT count(*) FROM orders WHERE %I = %s', col, v) INTO dist;
		EXECUTE format('SELECT count(*) FROM orders_local WHERE %I = %s', col, v) INTO loc;
		IF dist <> loc THEN
			wrong := wrong + 1;
		END IF;
	END LOOP;
	RETURN wrong;
END $$;
SELECT misplaced_values('customer_id');
SELECT * FROM regress.check_query('SELECT * FROM orders WHERE customer_id = 42 ORDER BY order_id LIMIT 3');
-- privileges stay
SET ROLE regress_alter_user;
SELECT count(*) FROM orders;
RESET ROLE;

-- back to 4 shards, co-located with customers again
SELECT distdb.alter_distributed_table('orders', shard_count => 4, colocate_with => 'customers');
SELECT * FROM layout('orders');
SELECT * FROM regress.check_query('SELECT o.customer_id, count(*), max(c.name) FROM orders o JOIN customers c USING (customer_id) GROUP BY 1 ORDER BY 1 LIMIT 5');

-- a new distribution column (the primary key includes it)
SELECT distdb.alter_distributed_table('orders', distribution_column => 'order_id');
SELECT distribution_column, shard_count FROM distdb.distdb_tables WHERE table_name = 'orders'::regclass;
SELECT * FROM regress.check_query('SELECT count(*), sum(total) FROM orders');
SELECT regress.plan_kind('SELECT * FROM orders WHERE order_id = 7');
SELECT misplaced_values('order_id');

-- a rollback keeps the old layout
BEGIN;
SELECT distdb.alter_distributed_table('orders', shard_count => 3);
SELECT * FROM layout('orders');
ROLLBACK;
SELECT * FROM layout('orders');
SELECT * FROM regress.check_query('SELECT count(*), sum(total) FROM orders');

-- bad input: nothing changes
SELECT distdb.alter_distributed_table('orders');
SELECT distdb.alter_distributed_table('orders', shard_count => 0);
SELECT distdb.alter_distributed_table('orders', shard_count => 100000);
SELECT distdb.alter_distributed_table('orders', distribution_column => 'no_such_column');
-- a column the primary key lacks is refused by the redistribution itself
SELECT distdb.alter_distributed_table('orders', distribution_column => 'note');
SELECT distdb.alter_distributed_table('orders_local', shard_count => 2);
SELECT distdb.alter_distributed_table(NULL, shard_count => 2);
SELECT distdb.alter_distributed_table('orders', shard_count => 2, colocate_with => 'orders_local');
-- only the owner
SET ROLE regress_alter_user;
SELECT distdb.alter_distributed_table('alter_dist.orders', shard_count => 2);
RESET ROLE;
SELECT * FROM layout('orders');
SELECT * FROM regress.check_query('SELECT count(*), sum(total) FROM orders');

DROP SCHEMA alter_dist CASCADE;
DROP ROLE regress_alter_user;
\c - - - :worker_1_port
DROP ROLE regress_alter_user;
\c - - - :worker_2_port
DROP ROLE regress_alter_user;
