--
-- multi_shard_queries: SELECTs over all (or several) shards of distributed
-- tables, checked against identical local tables.
--
CREATE SCHEMA multi_shard_queries;
SET search_path TO multi_shard_queries, regress;

-- orders, distributed by id
CREATE TABLE ms_orders (
	id bigint PRIMARY KEY,
	customer_id int NOT NULL,
	status text,
	amount numeric(10,2),
	created date,
	note text
);
INSERT INTO ms_orders
SELECT i,
	   i % 37 + 1,
	   (ARRAY['new', 'paid', 'shipped', 'cancelled'])[i % 4 + 1],
	   CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 17 % 1000) / 4.0 END,
	   date '2024-01-01' + (i % 45),
	   CASE WHEN i % 6 = 0 THEN NULL ELSE 'n' || (i % 13) END
FROM generate_series(1, 1200) i;
CREATE TABLE ms_orders_local (LIKE ms_orders INCLUDING ALL);
INSERT INTO ms_orders_local SELECT * FROM ms_orders;
SELECT distdb.create_distributed_table('ms_orders', 'id');

-- order items, distributed by order id and co-located with ms_orders
CREATE TABLE ms_items (order_id bigint, line int, product text, qty int, price numeric(8,2));
INSERT INTO ms_items
SELECT o, l, 'p' || ((o * l) % 23), (o + l) % 5 + 1, ((o * 7 + l * 3) % 200) / 2.0
FROM generate_series(1, 1250) o, generate_series(1, 3) l
WHERE (o + l) % 4 <> 0;
CREATE TABLE ms_items_local (LIKE ms_items INCLUDING ALL);
INSERT INTO ms_items_local SELECT * FROM ms_items;
SELECT distdb.create_distributed_table('ms_items', 'order_id', colocate_with => 'ms_orders');

-- customers, distributed by customer_id: not co-located with ms_orders
CREATE TABLE ms_customers (customer_id int PRIMARY KEY, name text, region_id int, vip bool);
INSERT INTO ms_customers
SELECT c, 'customer ' || c, c % 5, c % 7 = 0 FROM generate_series(1, 40) c;
CREATE TABLE ms_customers_local (LIKE ms_customers INCLUDING ALL);
INSERT INTO ms_customers_local SELECT * FROM ms_customers;
SELECT distdb.create_distributed_table('ms_customers', 'customer_id');

-- a plain local table
CREATE TABLE regions (region_id int PRIMARY KEY, region text);
INSERT INTO regions VALUES (0, 'north'), (1, 'south'), (2, 'east'), (3, 'west');

SELECT table_name, distribution_column, shard_count FROM distdb.distdb_tables
WHERE table_name::text LIKE 'ms\_%' ORDER BY table_name::text;

-- a full scan and the plan type
SELECT plan_kind('SELECT * FROM ms_orders');
SELECT check_query('SELECT count(*), sum(amount), sum(id) FROM ms_orders');
SELECT count(*) FROM (SELECT * FROM ms_orders EXCEPT ALL SELECT * FROM ms_orders_local) a;
SELECT count(*) FROM (SELECT * FROM ms_orders_local EXCEPT ALL SELECT * FROM ms_orders) a;

-- filters on other columns
SELECT check_query('SELECT id, amount FROM ms_orders WHERE customer_id = 5 ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE status = ''paid'' AND amount > 240 ORDER BY id');
SELECT check_query('SELECT id, note FROM ms_orders WHERE note LIKE ''n1%'' AND created = ''2024-01-10'' ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE amount IS NULL AND id < 100 ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE id > 1190 OR id < 4 ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE id BETWEEN 500 AND 510 ORDER BY id DESC');
SELECT check_query('SELECT count(*) FROM ms_orders WHERE note IS NULL');
SELECT check_query('SELECT count(*) FROM ms_orders WHERE false');

-- ORDER BY with LIMIT and OFFSET
SELECT check_query('SELECT id, amount FROM ms_orders ORDER BY amount DESC NULLS LAST, id LIMIT 7');
SELECT check_query('SELECT id, amount FROM ms_orders ORDER BY amount NULLS FIRST, id LIMIT 5 OFFSET 130');
SELECT check_query('SELECT id FROM ms_orders ORDER BY id OFFSET 1195');
SELECT check_query('SELECT id, created FROM ms_orders ORDER BY created DESC, id DESC LIMIT 4');
SELECT check_query('SELECT note, id FROM ms_orders WHERE note IS NOT NULL ORDER BY note, id LIMIT 5');

-- aggregates
SELECT check_query('SELECT count(*), count(amount), count(note), sum(amount), avg(amount), min(amount), max(amount) FROM ms_orders');
SELECT check_query('SELECT min(created), max(created), min(note), max(note), bool_and(amount > 0), bool_or(amount > 240) FROM ms_orders');
SELECT check_query('SELECT count(DISTINCT customer_id), count(DISTINCT status), count(DISTINCT note), count(DISTINCT amount) FROM ms_orders');
SELECT check_query('SELECT string_agg(id::text, '','' ORDER BY id) FROM ms_orders WHERE customer_id = 3');
SELECT check_query('SELECT array_agg(id ORDER BY id DESC) FROM ms_orders WHERE customer_id = 4 AND status = ''new''');
SELECT check_query('SELECT array_agg(DISTINCT status ORDER BY status) FROM ms_orders');
SELECT check_query('SELECT stddev(amount)::numeric(20,6), variance(id)::numeric(30,4), percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) FROM ms_orders');
SELECT check_query('SELECT sum(amount) FILTER (WHERE status = ''paid''), count(*) FILTER (WHERE note IS NULL) FROM ms_orders');
SELECT check_query('SELECT json_agg(id ORDER BY id)::text FROM ms_orders WHERE id % 100 = 0');

-- GROUP BY and HAVING
SELECT check_query('SELECT status, count(*), sum(amount), round(avg(amount), 4) FROM ms_orders GROUP BY status ORDER BY status');
SELECT check_query('SELECT customer_id, count(*) FROM ms_orders GROUP BY customer_id HAVING count(*) > 32 ORDER BY customer_id');
SELECT check_query('SELECT customer_id, max(amount) FROM ms_orders GROUP BY customer_id HAVING max(amount) < 248 ORDER BY 2, 1');
SELECT check_query('SELECT created, status, count(*) FROM ms_orders WHERE created < ''2024-01-03'' GROUP BY created, status ORDER BY 1, 2');
SELECT check_query('SELECT note IS NULL AS no_note, count(*) FROM ms_orders GROUP BY 1 ORDER BY 1');
SELECT check_query('SELECT status, count(*) FROM ms_orders GROUP BY ROLLUP (status) ORDER BY status NULLS LAST');
SELECT check_query('SELECT status, extract(month FROM created) AS m, count(*) FROM ms_orders GROUP BY CUBE (status, 2) ORDER BY 1 NULLS LAST, 2 NULLS LAST');
SELECT check_query('SELECT id % 3, count(*) FROM ms_orders GROUP BY id % 3 ORDER BY 1');
SELECT check_query('SELECT id, count(*) FROM ms_orders GROUP BY id HAVING id % 200 = 0 ORDER BY id');

-- window functions
SELECT check_query('SELECT id, customer_id, row_number() OVER (PARTITION BY customer_id ORDER BY id) FROM ms_orders WHERE customer_id IN (1, 2) ORDER BY customer_id, id');
SELECT check_query('SELECT id, sum(amount) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM ms_orders WHERE id <= 20 ORDER BY id');
SELECT check_query('SELECT status, id, rank() OVER (PARTITION BY status ORDER BY amount DESC NULLS LAST, id) AS r FROM ms_orders ORDER BY r, status LIMIT 8');
SELECT check_query('SELECT id, lag(id) OVER w, lead(amount) OVER w FROM ms_orders WHERE customer_id = 9 WINDOW w AS (ORDER BY id) ORDER BY id LIMIT 6');
SELECT check_query('SELECT DISTINCT status, count(*) OVER (PARTITION BY status) FROM ms_orders ORDER BY 1');

-- DISTINCT, DISTINCT ON
SELECT check_query('SELECT DISTINCT status FROM ms_orders ORDER BY 1');
SELECT check_query('SELECT DISTINCT customer_id % 5, status FROM ms_orders ORDER BY 1, 2');
SELECT check_query('SELECT DISTINCT ON (customer_id) customer_id, id, amount FROM ms_orders ORDER BY customer_id, amount DESC NULLS LAST, id LIMIT 10');

-- subqueries in FROM, CTEs, IN (SELECT ...), scalar subqueries
SELECT check_query('SELECT status, avg(total)::numeric(12,4) FROM (SELECT status, customer_id, sum(amount) AS total FROM ms_orders GROUP BY 1, 2) s GROUP BY status ORDER BY 1');
SELECT check_query('SELECT * FROM (SELECT id, amount FROM ms_orders ORDER BY amount DESC NULLS LAST, id LIMIT 10) top ORDER BY id');
SELECT check_query('WITH c AS (SELECT customer_id, count(*) AS n FROM ms_orders GROUP BY customer_id) SELECT n, count(*) FROM c GROUP BY n ORDER BY n');
SELECT check_query('WITH big AS MATERIALIZED (SELECT id FROM ms_orders WHERE amount > 245) SELECT count(*), min(id), max(id) FROM big');
SELECT check_query('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n, (SELECT count(*) FROM ms_orders WHERE customer_id = n) FROM r ORDER BY n');
SELECT check_query('SELECT id FROM ms_orders WHERE customer_id IN (SELECT customer_id FROM ms_customers WHERE vip) AND id < 60 ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE id IN (SELECT order_id FROM ms_items WHERE qty = 5 AND price > 95) ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders o WHERE NOT EXISTS (SELECT 1 FROM ms_items i WHERE i.order_id = o.id) AND id < 100 ORDER BY id');
SELECT check_query('SELECT id, (SELECT count(*) FROM ms_items i WHERE i.order_id = o.id) FROM ms_orders o WHERE id < 10 ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE amount > (SELECT avg(amount) * 1.9 FROM ms_orders) ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE amount = (SELECT max(amount) FROM ms_orders) ORDER BY id');
SELECT check_query('SELECT customer_id FROM ms_customers c WHERE customer_id NOT IN (SELECT customer_id FROM ms_orders) ORDER BY 1');

-- set operations
SELECT check_query('SELECT customer_id FROM ms_orders WHERE id < 10 UNION SELECT customer_id FROM ms_customers WHERE vip ORDER BY 1');
SELECT check_query('SELECT customer_id FROM ms_orders WHERE id < 10 UNION ALL SELECT customer_id FROM ms_customers WHERE vip ORDER BY 1');
SELECT check_query('SELECT customer_id FROM ms_orders WHERE status = ''new'' INTERSECT SELECT customer_id FROM ms_customers WHERE region_id = 2 ORDER BY 1');
SELECT check_query('SELECT customer_id FROM ms_customers EXCEPT SELECT customer_id FROM ms_orders WHERE amount > 200 ORDER BY 1');
SELECT check_query('SELECT order_id FROM ms_items WHERE line = 3 AND order_id < 30 EXCEPT ALL SELECT id FROM ms_orders WHERE status = ''new'' ORDER BY 1');

-- joins: co-located
SELECT check_query('SELECT o.id, i.line, i.product FROM ms_orders o JOIN ms_items i ON i.order_id = o.id WHERE o.customer_id = 3 ORDER BY 1, 2');
SELECT check_query('SELECT o.status, count(*), sum(i.qty * i.price) FROM ms_orders o JOIN ms_items i ON i.order_id = o.id GROUP BY o.status ORDER BY 1');
SELECT check_query('SELECT o.id, count(i.line) FROM ms_orders o LEFT JOIN ms_items i ON i.order_id = o.id AND i.qty > 3 WHERE o.id <= 12 GROUP BY o.id ORDER BY o.id');
SELECT check_query('SELECT i.order_id, o.id FROM ms_items i FULL JOIN ms_orders o ON i.order_id = o.id AND i.line = 1 WHERE coalesce(o.id, i.order_id) BETWEEN 1195 AND 1205 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST');
SELECT check_query('SELECT o.id, i.line FROM ms_orders o, ms_items i WHERE i.order_id = o.id AND o.id = 77 ORDER BY 2');
-- joins: not co-located
SELECT check_query('SELECT c.name, count(*) FROM ms_orders o JOIN ms_customers c ON c.customer_id = o.customer_id WHERE c.vip GROUP BY c.name ORDER BY 1');
SELECT check_query('SELECT c.customer_id, count(o.id) FROM ms_customers c LEFT JOIN ms_orders o ON o.customer_id = c.customer_id AND o.amount > 240 GROUP BY 1 ORDER BY 1');
SELECT check_query('SELECT o.id, i.order_id FROM ms_orders o JOIN ms_items i ON i.order_id = o.customer_id WHERE o.id < 5 AND i.line = 1 ORDER BY 1, 2');
SELECT check_query('SELECT a.id, b.id FROM ms_orders a JOIN ms_orders b ON b.id = a.id + 600 WHERE a.customer_id = 2 ORDER BY 1');
-- joins with a local table
SELECT check_query('SELECT r.region, count(*) FROM ms_customers c JOIN regions r USING (region_id) GROUP BY r.region ORDER BY 1');
SELECT check_query('SELECT c.customer_id, r.region FROM ms_customers c LEFT JOIN regions r ON r.region_id = c.region_id WHERE c.customer_id < 12 ORDER BY 1');
SELECT check_query('SELECT r.region, sum(o.amount) FROM ms_orders o JOIN ms_customers c ON c.customer_id = o.customer_id JOIN regions r ON r.region_id = c.region_id GROUP BY 1 ORDER BY 1');
SELECT check_query('SELECT r.region_id, count(c.customer_id) FROM regions r LEFT JOIN ms_customers c ON c.region_id = r.region_id AND c.vip GROUP BY 1 ORDER BY 1');

-- a view over a distributed table
CREATE VIEW ms_paid AS SELECT id, customer_id, amount FROM ms_orders WHERE status = 'paid';
CREATE VIEW ms_paid_local AS SELECT id, customer_id, amount FROM ms_orders_local WHERE status = 'paid';
SELECT count(*), sum(amount) FROM ms_paid;
SELECT count(*), sum(amount) FROM ms_paid_local;
SELECT check_query('SELECT customer_id, count(*) FROM ms_orders o WHERE id IN (SELECT id FROM ms_paid WHERE amount > 200) GROUP BY 1 ORDER BY 1 LIMIT 5');
SELECT * FROM ms_paid WHERE id = 5;
SELECT * FROM ms_paid_local WHERE id = 5;
SELECT * FROM ms_paid WHERE customer_id = 6 ORDER BY id LIMIT 5;
SELECT * FROM ms_paid_local WHERE customer_id = 6 ORDER BY id LIMIT 5;

-- several distribution values: only their shards are read
SELECT plan_kind('SELECT * FROM ms_orders WHERE id IN (1, 2, 3)');
SELECT plan_kind('SELECT * FROM ms_orders WHERE id = ANY (ARRAY[10, 20])');
SELECT plan_kind('SELECT * FROM ms_orders WHERE id = 1 OR id = 2');
SELECT check_query('SELECT id, status FROM ms_orders WHERE id IN (1, 2, 3) ORDER BY id');
SELECT check_query('SELECT id, status FROM ms_orders WHERE id IN (1, 2, 3, 100000) ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE id = ANY (ARRAY[10, 20, 30]::bigint[]) ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE id = ANY (''{40,50,60}''::int[]) ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE id = ANY (ARRAY[]::bigint[]) ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE id = ANY (ARRAY[7, NULL]) ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE id = 1 OR id = 2 ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE id NOT IN (1, 2) AND id < 6 ORDER BY id');
SELECT check_query('SELECT id FROM ms_orders WHERE id IN (1, 2, 3) AND status = ''paid'' ORDER BY id');
SELECT check_query('SELECT count(*) FROM ms_orders WHERE id IN (1, 2) AND id IN (3, 4)');

-- CREATE TABLE AS from a distributed table
CREATE TABLE ms_ctas AS SELECT id, status, amount FROM ms_orders WHERE customer_id = 8;
SELECT count(*) FROM ms_ctas;
SELECT count(*) FROM (SELECT * FROM ms_ctas EXCEPT ALL SELECT id, status, amount FROM ms_orders_local WHERE customer_id = 8) a;
SELECT count(*) FROM (SELECT id, status, amount FROM ms_orders_local WHERE customer_id = 8 EXCEPT ALL SELECT * FROM ms_ctas) a;
CREATE TABLE ms_ctas_agg AS SELECT status, count(*) AS n FROM ms_orders GROUP BY status;
SELECT * FROM ms_ctas_agg ORDER BY status;
SELECT status, count(*) AS n FROM ms_orders_local GROUP BY status ORDER BY status;
SELECT * INTO ms_select_into FROM ms_orders WHERE id = 42;
SELECT * FROM ms_select_into;
SELECT * FROM ms_orders_local WHERE id = 42;

-- COPY (SELECT ...) TO STDOUT
COPY (SELECT id, customer_id, status, amount, created, note FROM ms_orders WHERE customer_id = 10 ORDER BY id LIMIT 8) TO STDOUT;
COPY (SELECT id, customer_id, status, amount, created, note FROM ms_orders_local WHERE customer_id = 10 ORDER BY id LIMIT 8) TO STDOUT;
COPY (SELECT status, count(*) FROM ms_orders GROUP BY status ORDER BY status) TO STDOUT WITH (FORMAT csv, HEADER);
COPY (SELECT * FROM ms_orders WHERE id = 9) TO STDOUT WITH (FORMAT csv);
-- COPY of a whole distributed table (its rows all have one distribution value)
CREATE TABLE ms_copy (k int, v text, d date);
INSERT INTO ms_copy SELECT 1, 'row ' || i, date '2024-03-01' + i FROM generate_series(1, 5) i;
SELECT distdb.create_distributed_table('ms_copy', 'k');
COPY ms_copy TO STDOUT;
COPY ms_copy (v, k) TO STDOUT WITH (FORMAT csv, HEADER);

DROP VIEW ms_paid, ms_paid_local;
DROP TABLE ms_orders, ms_items, ms_customers, ms_copy;
DROP SCHEMA multi_shard_queries CASCADE;
