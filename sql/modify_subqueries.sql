--
-- modify_subqueries: UPDATE and DELETE on distributed and reference tables
-- that read reference tables (FROM, USING, subqueries), compared with
-- local copies (check_query runs each statement on both and compares the
-- returned rows; the tables are compared after each group).
--
\getenv host DISTDB_HOST
\getenv coordinator_port DISTDB_COORDINATOR_PORT
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
-- a role for the privilege checks, on every node
CREATE ROLE modify_subq_user;
\c regression - :host :worker_1_port
CREATE ROLE modify_subq_user;
\c regression - :host :worker_2_port
CREATE ROLE modify_subq_user;
\c regression - :host :coordinator_port

CREATE SCHEMA modify_subqueries;
SET search_path TO modify_subqueries, regress;

CREATE TABLE orders (order_id int PRIMARY KEY, customer_id int, status text,
					 total numeric, note text);
CREATE TABLE items (order_id int, item_id int, amount numeric,
					PRIMARY KEY (order_id, item_id));
CREATE TABLE statuses (code text PRIMARY KEY, label text, factor int);
CREATE TABLE status_log (code text, at int);
CREATE TABLE orders_local (LIKE orders INCLUDING ALL);
CREATE TABLE items_local (LIKE items INCLUDING ALL);
CREATE TABLE statuses_local (LIKE statuses INCLUDING ALL);
CREATE TABLE status_log_local (LIKE status_log INCLUDING ALL);
SELECT distdb.create_distributed_table('orders', 'order_id', 4);
SELECT distdb.create_distributed_table('items', 'order_id', 4, colocate_with => 'orders');
SELECT distdb.create_reference_table('statuses');
SELECT distdb.create_reference_table('status_log');
INSERT INTO orders SELECT i, i % 7, (ARRAY['new', 'paid', 'sent', NULL, 'lost'])[i % 5 + 1],
	CASE WHEN i % 11 = 0 THEN NULL ELSE i * 10 END, 'n' || i
	FROM generate_series(1, 60) i;
INSERT INTO items SELECT i % 50 + 1, i, CASE WHEN i % 13 = 0 THEN NULL ELSE i END
	FROM generate_series(1, 150) i;
INSERT INTO statuses VALUES ('new', 'New', 1), ('paid', 'Paid', 2), ('sent', 'Sent', 3), ('void', NULL, NULL);
INSERT INTO status_log SELECT (ARRAY['new', 'paid', 'sent', 'lost'])[i % 4 + 1], i FROM generate_series(1, 12) i;
INSERT INTO orders_local SELECT * FROM orders;
INSERT INTO items_local SELECT * FROM items;
INSERT INTO statuses_local SELECT * FROM statuses;
INSERT INTO status_log_local SELECT * FROM status_log;
-- rows on every shard
SELECT count(DISTINCT distdb.distdb_shard_index_for_value('orders', order_id::text)) FROM orders;

--
-- 1. reference tables joined to a distributed target: each shard joins
-- the reference table's copy on its node
--
SELECT plan_kind($$UPDATE orders o SET total = o.total * s.factor FROM statuses s WHERE s.code = o.status$$);
SELECT check_query($$UPDATE orders o SET total = o.total * s.factor FROM statuses s WHERE s.code = o.status RETURNING o.order_id, o.total, s.label$$, true);
SELECT check_query($$UPDATE orders o SET note = o.note || '/' || s.label FROM statuses s, items i
	WHERE s.code = o.status AND i.order_id = o.order_id AND i.amount > 100 RETURNING o.*$$, true);
-- a target row joined to several reference rows is updated once
SELECT check_query($$UPDATE orders o SET total = coalesce(o.total, 0) + 1 FROM status_log l WHERE l.code = o.status RETURNING o.order_id, o.total$$, true);
SELECT check_query($$DELETE FROM orders o USING statuses s WHERE s.code = o.status AND s.factor = 3 AND o.order_id > 40 RETURNING o.order_id, s.code$$, true);
-- EXISTS and IN over reference tables become joins too
SELECT check_query($$UPDATE orders SET note = note || '+' WHERE status IN (SELECT code FROM statuses WHERE factor >= 2) RETURNING order_id, note$$, true);
SELECT check_query($$DELETE FROM orders o WHERE EXISTS (SELECT FROM status_log l WHERE l.code = o.status AND l.at = 5) RETURNING order_id$$, true);
-- pinned to one shard by the distribution column
SELECT plan_kind($$UPDATE orders o SET total = 0 FROM statuses s WHERE s.code = o.status AND o.order_id = 3$$);
SELECT check_query($$UPDATE orders o SET total = 0 FROM statuses s WHERE s.code = o.status AND o.order_id = 3 RETURNING o.*$$);
-- a reference table on the preserved side of an outer join: through the
-- coordinator (modify_via_coordinator.sql)
SELECT check_query($$UPDATE orders o SET total = 1 FROM statuses s LEFT JOIN items i ON i.amount = s.factor WHERE i.order_id = o.order_id RETURNING o.order_id$$, true);
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);

--
-- 2. subqueries the shards evaluate inside the statement: over reference
-- tables, or over co-located tables restricted to the row's shard by the
-- distribution column
--
-- scalar subqueries in SET and WHERE, with aggregates
SELECT plan_kind($$UPDATE orders o SET total = (SELECT sum(amount) FROM items i WHERE i.order_id = o.order_id)$$);
SELECT check_query($$UPDATE orders o SET total = (SELECT sum(amount) FROM items i WHERE i.order_id = o.order_id) RETURNING o.order_id, o.total$$, true);
SELECT check_query($$UPDATE orders o SET note = (SELECT s.label FROM statuses s WHERE s.code = o.status)
	WHERE o.total > (SELECT avg(amount) * 2 FROM items i WHERE i.order_id = o.order_id) RETURNING o.*$$, true);
-- NOT EXISTS; NOT IN with NULLs on either side
SELECT check_query($$UPDATE orders o SET note = 'none' WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.order_id = o.order_id) RETURNING o.order_id, o.note$$, true);
SELECT check_query($$UPDATE orders o SET note = 'not listed' WHERE o.status NOT IN (SELECT code FROM statuses) RETURNING o.order_id, o.status$$, true);
SELECT check_query($$UPDATE orders o SET note = 'unlabelled' WHERE o.note NOT IN (SELECT label FROM statuses) RETURNING o.order_id$$, true);
SELECT check_query($$UPDATE orders o SET note = 'odd' WHERE o.total NOT IN (SELECT i.amount * 2 FROM items i WHERE i.order_id = o.order_id) RETURNING o.order_id$$, true);
-- NOT IN on the distribution columns, uncorrelated: values from other
-- shards could never match
SELECT check_query($$UPDATE orders o SET note = 'lonely' WHERE o.order_id NOT IN (SELECT i.order_id FROM items i WHERE i.amount > 90) RETURNING o.order_id$$, true);
-- grouping and LIMIT when correlated on the distribution column
SELECT check_query($$UPDATE orders o SET note = 'many' WHERE o.order_id IN (SELECT i.order_id FROM items i WHERE i.order_id = o.order_id
	GROUP BY i.order_id HAVING count(*) > 2) RETURNING o.order_id$$, true);
SELECT check_query($$UPDATE orders o SET total = (SELECT i.amount FROM items i WHERE i.order_id = o.order_id ORDER BY i.amount DESC NULLS LAST LIMIT 1)
	WHERE o.customer_id = 3 RETURNING o.order_id, o.total$$, true);
-- nested subqueries, a subquery in RETURNING, an OR of subqueries
SELECT check_query($$UPDATE orders o SET total = 0 WHERE EXISTS (SELECT 1 FROM items i WHERE i.order_id = o.order_id
	AND i.amount > (SELECT max(factor) * 45 FROM statuses)) RETURNING o.order_id, (SELECT count(*) FROM items i WHERE i.order_id = o.order_id)$$, true);
SELECT check_query($$DELETE FROM orders o WHERE EXISTS (SELECT FROM items i WHERE i.order_id = o.order_id AND i.amount IS NULL)
	OR o.status IN (SELECT code FROM statuses WHERE label IS NULL) RETURNING o.order_id$$, true);
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);
-- prepared, with a parameter in the subquery (custom and generic plans)
PREPARE upd_sub(numeric) AS UPDATE orders o SET total = (SELECT count(*) FROM items i WHERE i.order_id = o.order_id AND i.amount > $1)
	WHERE o.order_id % 3 = 0 RETURNING o.order_id, o.total;
PREPARE upd_sub_local(numeric) AS UPDATE orders_local o SET total = (SELECT count(*) FROM items_local i WHERE i.order_id = o.order_id AND i.amount > $1)
	WHERE o.order_id % 3 = 0 RETURNING o.order_id, o.total;
SELECT count(*) FROM (SELECT check_query(format('EXECUTE upd_sub(%s)', x), true) FROM generate_series(10, 70, 10) x) c;
-- a reference table target with correlated subqueries over reference tables
SELECT check_query($$UPDATE statuses s SET factor = (SELECT count(*) FROM status_log l WHERE l.code = s.code) RETURNING s.*$$, true);
SELECT check_query($$DELETE FROM status_log l WHERE NOT EXISTS (SELECT FROM statuses s WHERE s.code = l.code) RETURNING l.*$$, true);
-- through the coordinator (modify_via_coordinator.sql): correlated on
-- another column, a local table, SET of several columns from one subquery
SELECT check_query($$UPDATE orders o SET total = (SELECT sum(amount) FROM items i WHERE i.item_id = o.order_id) RETURNING o.order_id, o.total$$, true);
SELECT check_query($$DELETE FROM orders o WHERE NOT EXISTS (SELECT FROM items i WHERE i.amount = o.total) AND o.order_id % 5 = 0 RETURNING o.order_id$$, true);
SELECT check_query($$UPDATE orders o SET note = (SELECT note || '?' FROM orders_local l WHERE l.order_id = o.order_id) RETURNING o.order_id, o.note$$, true);
SELECT check_query($$UPDATE orders o SET (total, note) = (SELECT sum(amount), 'x' FROM items i WHERE i.order_id = o.order_id) RETURNING o.*$$, true);
-- refused: order-dependent subqueries on a reference table
UPDATE statuses s SET label = (SELECT code FROM status_log l WHERE l.code = s.code LIMIT 1);
UPDATE statuses s SET label = (SELECT string_agg(code, ',') FROM status_log l WHERE l.code = s.code);
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);
SELECT check_query($$SELECT * FROM statuses ORDER BY code$$);

--
-- 3. subqueries independent of the statement's rows, over other tables:
-- computed first on the coordinator, their values sent as parameters
--
CREATE TABLE customers (id int PRIMARY KEY, banned bool, tier int);
INSERT INTO customers VALUES (0, false, 1), (1, true, 2), (2, false, NULL), (3, true, 3), (4, NULL, 1), (5, false, 2), (6, false, 3);
CREATE TABLE other_orders (order_id int, customer_id int);
CREATE TABLE other_orders_local (LIKE other_orders);
SELECT distdb.create_distributed_table('other_orders', 'order_id', 3, colocate_with => 'none');
INSERT INTO other_orders SELECT i, i % 4 FROM generate_series(1, 30, 3) i;
INSERT INTO other_orders_local SELECT * FROM other_orders;
SELECT plan_kind($$DELETE FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE banned)$$);
SELECT check_query($$DELETE FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE banned) RETURNING order_id, customer_id$$, true);
-- NOT IN: a NULL among the values leaves nothing that qualifies
SELECT check_query($$UPDATE orders SET note = 'x' WHERE customer_id NOT IN (SELECT tier FROM customers) RETURNING order_id$$, true);
SELECT check_query($$UPDATE orders SET note = 'y' WHERE customer_id NOT IN (SELECT tier FROM customers WHERE tier IS NOT NULL) RETURNING order_id, customer_id$$, true);
-- scalar subqueries with aggregates in SET, WHERE and RETURNING
SELECT check_query($$UPDATE orders SET total = (SELECT max(tier) FROM customers) * 100 WHERE customer_id = (SELECT min(id) FROM customers WHERE NOT banned)
	RETURNING order_id, total, (SELECT count(*) FROM customers)$$, true);
-- ALL, ANY with another operator, EXISTS, ARRAY()
SELECT check_query($$UPDATE orders SET note = 'big' WHERE total > ALL (SELECT tier * 100 FROM customers WHERE tier IS NOT NULL) RETURNING order_id$$, true);
SELECT check_query($$UPDATE orders SET note = 'some' WHERE total < ANY (SELECT order_id * 3 FROM other_orders) AND order_id < 20 RETURNING order_id$$, true);
SELECT check_query($$DELETE FROM orders WHERE EXISTS (SELECT FROM customers WHERE tier > 5) RETURNING order_id$$);
SELECT check_query($$UPDATE orders SET note = array_to_string(ARRAY(SELECT id FROM customers WHERE banned ORDER BY id), ',') WHERE order_id % 5 = 0 RETURNING order_id, note$$, true);
-- a distributed table that is not co-located, with casts; an empty result
SELECT check_query($$UPDATE orders o SET note = 'other' WHERE o.order_id::bigint IN (SELECT x.order_id::bigint FROM other_orders x WHERE x.customer_id = 2) RETURNING o.order_id$$, true);
SELECT check_query($$UPDATE orders SET note = 'none' WHERE order_id IN (SELECT order_id FROM other_orders WHERE false) RETURNING order_id$$);
-- a scalar subquery returning more than one row
UPDATE orders SET total = (SELECT id FROM customers);
-- on a reference table: every copy gets the same values
SELECT check_query($$UPDATE statuses SET factor = (SELECT count(*) FROM orders WHERE status = 'paid') RETURNING *$$, true);
SELECT check_query($$DELETE FROM status_log WHERE code IN (SELECT status FROM orders WHERE total > 300) RETURNING *$$, true);
-- with a subquery the shards evaluate, in a transaction rolled back
BEGIN;
UPDATE orders o SET total = (SELECT sum(amount) FROM items i WHERE i.order_id = o.order_id) WHERE o.customer_id IN (SELECT id FROM customers WHERE NOT banned);
SELECT count(*) FROM orders WHERE total IS NULL;
ROLLBACK;
-- prepared, the subquery's parameter in custom and generic plans
PREPARE del_cust(int) AS DELETE FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE tier = $1) AND order_id % 4 = 0 RETURNING order_id;
PREPARE del_cust_local(int) AS DELETE FROM orders_local WHERE customer_id IN (SELECT id FROM customers WHERE tier = $1) AND order_id % 4 = 0 RETURNING order_id;
SELECT count(*) FROM (SELECT check_query(format('EXECUTE del_cust(%s)', x % 4), true) FROM generate_series(1, 7) x) c;
-- EXPLAIN does not compute it
SELECT plan_kind($$UPDATE orders SET total = (SELECT max(id) FROM customers)$$);
-- through the coordinator: correlated over a local table, a row comparison
SELECT check_query($$UPDATE orders o SET note = (SELECT 'c' FROM customers c WHERE c.id = o.customer_id) RETURNING o.order_id, o.note$$, true);
SELECT check_query($$DELETE FROM orders WHERE (customer_id, order_id) IN (SELECT id, id FROM customers) RETURNING order_id$$, true);
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);
SELECT check_query($$SELECT * FROM statuses ORDER BY code$$);
SELECT check_query($$SELECT * FROM status_log ORDER BY code, at$$);

--
-- 4. UPDATE / DELETE of a reference table using reference tables: the same
-- statement on every copy
--
SELECT plan_kind($$DELETE FROM status_log l USING statuses s WHERE s.code = l.code AND s.factor = 3$$);
SELECT check_query($$DELETE FROM status_log l USING statuses s WHERE s.code = l.code AND s.factor = 3 RETURNING l.*$$, true);
-- SET reads statuses through its primary key: one row per target row
SELECT check_query($$UPDATE status_log l SET at = l.at * 100 + s.factor FROM statuses s WHERE s.code = l.code RETURNING l.*$$, true);
SELECT check_query($$UPDATE statuses s SET label = s.label || '!' FROM status_log l WHERE l.code = s.code RETURNING s.*$$, true);
SELECT check_query($$UPDATE statuses SET factor = factor + 1 WHERE code IN (SELECT code FROM status_log WHERE at > 200) RETURNING *$$, true);
-- refused: a target row could join several rows the SET clause reads,
-- and each copy could pick another
UPDATE statuses s SET factor = l.at FROM status_log l WHERE l.code = s.code;
UPDATE status_log l SET at = s.factor FROM statuses s WHERE s.label = l.code;
-- refused: distributed tables are not whole on each copy
DELETE FROM statuses s USING orders o WHERE o.status = s.code;
UPDATE statuses s SET factor = 0 WHERE EXISTS (SELECT FROM orders o WHERE o.status = s.code);
-- ... unless the subquery does not depend on the target's rows: computed
-- first on the coordinator
SELECT check_query($$UPDATE statuses SET factor = 0 WHERE code IN (SELECT status FROM orders) RETURNING *$$, true);
-- refused: volatile functions
UPDATE status_log l SET at = random() FROM statuses s WHERE s.code = l.code;
SELECT check_query($$SELECT * FROM statuses ORDER BY code$$);
SELECT check_query($$SELECT * FROM status_log ORDER BY code, at$$);

-- in a transaction, rolled back
BEGIN;
UPDATE orders o SET total = -1 FROM statuses s WHERE s.code = o.status;
DELETE FROM status_log l USING statuses s WHERE s.code = l.code;
SELECT count(*) FILTER (WHERE total = -1), (SELECT count(*) FROM status_log) FROM orders;
ROLLBACK;
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);
SELECT check_query($$SELECT * FROM status_log ORDER BY code, at$$);

-- privileges of every table are checked on the coordinator, also of
-- those read in subqueries
GRANT USAGE ON SCHEMA modify_subqueries TO modify_subq_user;
GRANT SELECT, UPDATE, DELETE ON orders, status_log TO modify_subq_user;
SET ROLE modify_subq_user;
UPDATE orders o SET total = 1 FROM statuses s WHERE s.code = o.status;
DELETE FROM orders WHERE status IN (SELECT code FROM statuses);
DELETE FROM orders o WHERE EXISTS (SELECT FROM items i WHERE i.order_id = o.order_id);
DELETE FROM status_log WHERE code IN (SELECT code FROM statuses);
DELETE FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE banned);
RESET ROLE;
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);

SET client_min_messages TO WARNING;
DROP SCHEMA modify_subqueries CASCADE;
DROP ROLE modify_subq_user;
\c regression - :host :worker_1_port
DROP OWNED BY modify_subq_user;
DROP ROLE modify_subq_user;
\c regression - :host :worker_2_port
DROP OWNED BY modify_subq_user;
DROP ROLE modify_subq_user;
\c regression - :host :coordinator_port
