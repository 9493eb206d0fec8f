--
-- join_pushdown: joins of co-located tables on their distribution columns
-- run on the shards; other joins are computed on the coordinator.  Every
-- result is checked against local copies.
--
CREATE SCHEMA join_pushdown;
SET search_path TO join_pushdown, regress;


CREATE TABLE customers (id bigint PRIMARY KEY, name text, region int);
CREATE TABLE orders (customer_id bigint, order_id int, total numeric,
					 PRIMARY KEY (customer_id, order_id));
CREATE TABLE payments (customer_id bigint, order_id int, amount numeric);
CREATE TABLE regions (region int, label text);
INSERT INTO customers SELECT i, 'c' || i, i % 5 FROM generate_series(1, 300) i;
INSERT INTO orders SELECT i % 250 + 1, i, (i * 7) % 100 FROM generate_series(1, 1200) i;
INSERT INTO payments SELECT customer_id, order_id, total / 2 FROM orders WHERE order_id % 3 = 0;
INSERT INTO payments VALUES (999, 1, 5);
INSERT INTO regions SELECT r, 'region ' || r FROM generate_series(0, 4) r;
CREATE TABLE customers_local AS SELECT * FROM customers;
CREATE TABLE orders_local AS SELECT * FROM orders;
CREATE TABLE payments_local AS SELECT * FROM payments;
CREATE TABLE regions_local AS SELECT * FROM regions;
SELECT distdb.create_distributed_table('customers', 'id', 8);
SELECT distdb.create_distributed_table('orders', 'customer_id', 8);
SELECT distdb.create_distributed_table('payments', 'customer_id', 8);
SELECT distdb.create_distributed_table('regions', 'region', 8, colocate_with => 'none');

-- the shards run the join
SELECT shard_query('SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.total > 90');
SELECT check_query('SELECT c.name, o.order_id, o.total FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.total > 95 ORDER BY 2');
SELECT check_query('SELECT c.id, count(o.order_id), sum(o.total) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id HAVING count(o.order_id) < 4 ORDER BY c.id');
SELECT check_query('SELECT o.order_id, p.amount FROM orders o RIGHT JOIN payments p ON p.customer_id = o.customer_id AND p.order_id = o.order_id WHERE p.customer_id > 240 ORDER BY 1 NULLS FIRST, 2');
SELECT check_query('SELECT o.customer_id, o.order_id, p.customer_id FROM orders o FULL JOIN payments p ON p.customer_id = o.customer_id AND p.order_id = o.order_id WHERE coalesce(o.customer_id, p.customer_id) > 245 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3');
SELECT check_query('SELECT count(*), sum(p.amount) FROM customers c, orders o, payments p WHERE o.customer_id = c.id AND p.customer_id = o.customer_id AND p.order_id = o.order_id');
SELECT check_query('SELECT customer_id, count(*), sum(amount) FROM orders JOIN payments USING (customer_id, order_id) WHERE customer_id < 20 GROUP BY 1 ORDER BY 1');
SELECT check_query('SELECT c.region, count(*) FROM customers c JOIN orders o ON o.customer_id = c.id AND o.order_id = c.id GROUP BY 1 ORDER BY 1');
SELECT check_query('SELECT id, name, total FROM customers c JOIN orders o ON c.id = o.customer_id ORDER BY total DESC, order_id LIMIT 5');
-- aggregation over the join runs on the shards too
SELECT shard_query('SELECT c.region, count(*), avg(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.region');
SELECT check_query('SELECT c.region, count(*), avg(o.total), min(c.name), max(o.order_id) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.region ORDER BY 1');
SELECT check_query('SELECT count(*), sum(p.amount), count(DISTINCT p.order_id) FROM orders o LEFT JOIN payments p ON p.customer_id = o.customer_id AND p.order_id = o.order_id');
SELECT check_query('SELECT count(DISTINCT c.region) FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.total > 50');
SELECT check_query('SELECT o.order_id % 3, count(*) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY 1 HAVING count(*) > 10 ORDER BY 1');

-- a filter on one table's distribution column pins the shard of all
SELECT shard_query('SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 42');
SELECT check_query('SELECT c.name, o.order_id FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 42 ORDER BY 2');
SELECT check_query('SELECT c.name, o.order_id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE c.id IN (7, 260, 299) ORDER BY 1, 2');

-- joins that are not on the distribution columns, or not co-located, or
-- with local tables: computed on the coordinator
SELECT shard_query('SELECT * FROM customers c JOIN orders o ON o.order_id = c.id');
SELECT check_query('SELECT count(*) FROM customers c JOIN orders o ON o.order_id = c.id');
SELECT check_query('SELECT r.label, count(*) FROM customers c JOIN regions r ON r.region = c.region GROUP BY 1 ORDER BY 1');
SELECT check_query('SELECT c.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.order_id > 10000 WHERE o.customer_id IS NULL AND c.id < 5 ORDER BY 1');
SELECT check_query('SELECT count(*) FROM customers c JOIN orders o ON o.customer_id = c.id JOIN regions_local r ON r.region = c.region');

SET client_min_messages TO WARNING;
DROP TABLE customers, orders, payments, regions;
DROP SCHEMA join_pushdown CASCADE;
