--
-- modify_via_coordinator: UPDATE and DELETE on distributed tables that the
-- shards cannot run shard by shard -- the coordinator selects the target
-- rows (its SELECT planned like any distributed SELECT), then each shard
-- writes them by ctid.  Every statement runs on local twins too
-- (check_query), and the tables are compared after each group.
--
\getenv host DISTDB_HOST
\getenv coordinator_port DISTDB_COORDINATOR_PORT
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
CREATE ROLE via_coord_user;
\c regression - :host :worker_1_port
CREATE ROLE via_coord_user;
\c regression - :host :worker_2_port
CREATE ROLE via_coord_user;
\c regression - :host :coordinator_port

CREATE SCHEMA via_coordinator;
SET search_path TO via_coordinator, regress;

CREATE TABLE orders (order_id int PRIMARY KEY, customer_id int, status text,
					 total numeric, note text);
-- distributed by another column, not co-located
CREATE TABLE payments (payment_id int PRIMARY KEY, order_id int, amount numeric);
CREATE TABLE orders_local (LIKE orders INCLUDING ALL);
CREATE TABLE payments_local (LIKE payments INCLUDING ALL);
-- a plain local table, the same for both sides
CREATE TABLE rates (status text, factor numeric, label text);
SELECT distdb.create_distributed_table('orders', 'order_id', 4);
SELECT distdb.create_distributed_table('payments', 'payment_id', 3, colocate_with => 'none');
INSERT INTO orders SELECT i, i % 7, (ARRAY['new', 'paid', 'sent', NULL, 'lost'])[i % 5 + 1],
	CASE WHEN i % 11 = 0 THEN NULL ELSE i * 10 END, 'n' || i
	FROM generate_series(1, 60) i;
INSERT INTO payments SELECT i, i % 45 + 1, CASE WHEN i % 13 = 0 THEN NULL ELSE i END
	FROM generate_series(1, 90) i;
INSERT INTO rates VALUES ('new', 1, 'New'), ('paid', 2, 'Paid'), ('sent', 3, NULL), ('sent', 4, 'Sent twice');
INSERT INTO orders_local SELECT * FROM orders;
INSERT INTO payments_local SELECT * FROM payments;

-- rows in the right shard: a router query finds each of them
CREATE FUNCTION rows_in_their_shards() RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
	id int;
	misplaced int := 0;
	found_rows int;
BEGIN
	FOR id IN SELECT order_id FROM orders_local LOOP
		EXECUTE 'SELECT count(*) FROM orders WHERE order_id = $1' INTO found_rows USING id;
		IF found_rows <> 1 THEN
			misplaced := misplaced + 1;
		END IF;
	END LOOP;
	RETURN format('%s rows, %s misplaced', (SELECT count(*) FROM orders_local), misplaced);
END
$fn$;

--
-- 1. correlated subqueries over a local table, in SET and WHERE
--
SELECT plan_kind($$UPDATE orders o SET note = (SELECT label FROM rates r WHERE r.status = o.status AND r.factor < 3)$$);
SELECT check_query($$UPDATE orders o SET note = (SELECT label FROM rates r WHERE r.status = o.status AND r.factor < 3) RETURNING o.*$$, true);
SELECT check_query($$UPDATE orders o SET total = o.total * 2
	WHERE EXISTS (SELECT FROM rates r WHERE r.status = o.status AND r.factor > o.customer_id) RETURNING o.order_id, o.total$$, true);
SELECT check_query($$DELETE FROM orders o WHERE o.total > (SELECT max(factor) * 150 FROM rates r WHERE r.status = o.status) RETURNING o.order_id$$, true);
-- correlated over a distributed table that is not co-located
SELECT check_query($$UPDATE orders o SET total = (SELECT sum(amount) FROM payments p WHERE p.order_id = o.order_id)
	WHERE o.customer_id IN (1, 2) RETURNING o.order_id, o.total$$, true);
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);

--
-- 2. UPDATE ... FROM / DELETE ... USING local and non-co-located tables
--
SELECT check_query($$UPDATE orders o SET total = coalesce(o.total, 0) + p.amount FROM payments p
	WHERE p.order_id = o.order_id AND p.payment_id % 2 = 0 RETURNING o.order_id, o.total, p.payment_id$$, true);
SELECT check_query($$UPDATE orders o SET note = r.label, total = o.total * r.factor FROM rates r
	WHERE r.status = o.status AND r.factor <= 2 RETURNING o.order_id, o.note, o.total, r.factor$$, true);
-- a target row joined to several rows is updated once (here with equal values)
SELECT check_query($$UPDATE orders o SET note = 'has ' || o.status FROM rates r WHERE r.status = o.status RETURNING o.order_id, o.note$$, true);
SELECT check_query($$DELETE FROM orders o USING rates r WHERE r.status = o.status AND r.label IS NULL AND o.customer_id < 3
	RETURNING o.order_id, r.factor$$, true);
SELECT check_query($$DELETE FROM orders o USING payments p WHERE p.order_id = o.order_id AND p.amount IS NULL RETURNING o.*$$, true);
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);

--
-- 3. SET (a, b) = (SELECT ...), row comparisons, CTEs
--
SELECT check_query($$UPDATE orders o SET (total, note) = (SELECT sum(amount), 'paid ' || count(*) FROM payments p WHERE p.order_id = o.order_id)
	WHERE o.order_id % 4 = 1 RETURNING o.*$$, true);
SELECT check_query($$UPDATE orders o SET (note, customer_id) = (SELECT r.label, 100 + r.factor FROM rates r WHERE r.status = o.status ORDER BY r.factor LIMIT 1)
	WHERE o.order_id < 20 RETURNING o.*$$, true);
SELECT check_query($$UPDATE orders o SET note = 'pair' WHERE (o.status, o.customer_id) IN (SELECT status, factor::int FROM rates) RETURNING o.order_id$$, true);
SELECT check_query($$DELETE FROM orders o WHERE (o.status, o.customer_id % 2) = (SELECT status, 1 FROM rates WHERE label = 'Paid') RETURNING o.order_id$$, true);
SELECT check_query($$WITH big AS (SELECT order_id FROM payments WHERE amount > 80)
	UPDATE orders o SET note = 'big' FROM big WHERE big.order_id = o.order_id RETURNING o.order_id$$, true);
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);

--
-- 4. changing the distribution column: rows move between shards
--
SELECT plan_kind($$UPDATE orders SET order_id = order_id + 1000$$);
SELECT check_query($$UPDATE orders SET order_id = order_id + 1000 WHERE customer_id = 3 RETURNING *$$, true);
SELECT check_query($$UPDATE orders o SET order_id = o.order_id + 2000, note = r.label FROM rates r
	WHERE r.status = o.status AND r.factor = 1 RETURNING o.order_id, o.note, r.factor$$, true);
-- some rows stay in their shard, others move
SELECT check_query($$UPDATE orders SET order_id = -order_id WHERE order_id BETWEEN 10 AND 30 RETURNING order_id, total$$, true);
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);
SELECT rows_in_their_shards();
SELECT check_shards('orders');
-- a key that exists already: PostgreSQL's unique violation, nothing changed
DO $$
BEGIN
	UPDATE orders SET order_id = (SELECT max(order_id) FROM orders_local) WHERE order_id = (SELECT min(order_id) FROM orders_local);
EXCEPTION WHEN unique_violation THEN
	RAISE NOTICE '%: %', SQLSTATE, regexp_replace(SQLERRM, '_[0-9]{6,}', '');
END
$$;
UPDATE orders SET order_id = NULL WHERE order_id = (SELECT min(order_id) FROM orders_local);
SELECT check_query($$SELECT count(*), sum(order_id) FROM orders$$);

--
-- 5. in a transaction block: nothing stays after ROLLBACK
--
BEGIN;
SELECT check_query($$UPDATE orders o SET order_id = o.order_id + 5000 FROM payments p WHERE p.order_id = o.order_id RETURNING o.order_id$$, true);
SELECT check_query($$DELETE FROM orders o USING rates r WHERE r.status = o.status RETURNING o.order_id$$, true);
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);
ROLLBACK;
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);
SELECT rows_in_their_shards();

--
-- 6. errors: a scalar subquery returning several rows, privileges
--
UPDATE orders o SET note = (SELECT label FROM rates r WHERE r.status = o.status);
GRANT USAGE ON SCHEMA via_coordinator TO via_coord_user;
GRANT SELECT, UPDATE ON orders TO via_coord_user;
GRANT SELECT ON payments TO via_coord_user;
SET ROLE via_coord_user;
-- no privilege on the local table read, or to delete
UPDATE orders o SET note = (SELECT label FROM rates r WHERE r.status = o.status AND r.factor = 1);
UPDATE orders o SET note = 'x' FROM rates r WHERE r.status = o.status;
DELETE FROM orders o USING payments p WHERE p.order_id = o.order_id;
-- moving rows deletes and inserts them: DELETE and INSERT are needed too
UPDATE orders SET order_id = order_id + 1 WHERE order_id = 1;
-- allowed
UPDATE orders o SET total = p.amount FROM payments p WHERE p.order_id = o.order_id AND p.payment_id = 5;
RESET ROLE;
UPDATE orders_local o SET total = p.amount FROM payments_local p WHERE p.order_id = o.order_id AND p.payment_id = 5;
SELECT check_query($$SELECT * FROM orders ORDER BY order_id$$);

SET client_min_messages TO WARNING;
DROP SCHEMA via_coordinator CASCADE;
DROP ROLE via_coord_user;
\c regression - :host :worker_1_port
DROP OWNED BY via_coord_user;
DROP ROLE via_coord_user;
\c regression - :host :worker_2_port
DROP OWNED BY via_coord_user;
DROP ROLE via_coord_user;
\c regression - :host :coordinator_port
