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
-- a reference table on the preserved side of an outer join is refused
UPDATE orders o SET total = 1 FROM statuses s LEFT JOIN items i ON i.amount = s.factor WHERE i.order_id = o.order_id;
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);

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
UPDATE statuses SET factor = 0 WHERE code IN (SELECT status FROM orders);
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
