--
-- update_from: UPDATE ... FROM and DELETE ... USING over co-located
-- distributed tables run shard by shard, compared with local copies;
-- other forms run through the coordinator (modify_via_coordinator.sql).
--
CREATE SCHEMA update_from;
SET search_path TO update_from, regress;

CREATE TABLE orders (k int, id int, v text, n int, PRIMARY KEY (k, id));
CREATE TABLE items (k int, id int, qty int, label text);
CREATE TABLE extras (k int, bonus int);
CREATE TABLE orders_local (LIKE orders);
CREATE TABLE items_local (LIKE items);
CREATE TABLE extras_local (LIKE extras);
CREATE TABLE other_table (k int, id int);
CREATE TABLE other_table_local (k int, id int);
SELECT distdb.create_distributed_table('other_table', 'k', 3);
SELECT distdb.create_distributed_table('orders', 'k', 4);
SELECT distdb.create_distributed_table('items', 'k', 4, colocate_with => 'orders');
SELECT distdb.create_distributed_table('extras', 'k', 4, colocate_with => 'orders');
INSERT INTO orders SELECT i % 30, i, 'o' || i, i FROM generate_series(1, 120) i;
INSERT INTO items SELECT i % 30, i, i % 7, 'l' || (i % 5) FROM generate_series(1, 200, 2) i;
INSERT INTO extras SELECT k, k * 10 FROM generate_series(0, 29, 3) k;
INSERT INTO orders_local SELECT * FROM orders;
INSERT INTO items_local SELECT * FROM items;
INSERT INTO extras_local SELECT * FROM extras;

-- UPDATE ... FROM a co-located table joined on the distribution column
SELECT plan_kind($$UPDATE orders o SET n = o.n + i.qty FROM items i WHERE o.k = i.k AND o.id = i.id$$);
SELECT check_query($$UPDATE orders o SET n = o.n + i.qty FROM items i WHERE o.k = i.k AND o.id = i.id RETURNING o.k, o.id, o.n, i.qty$$, true);
-- several tables, explicit joins, an outer join, RETURNING the FROM tables' columns
SELECT check_query($$UPDATE orders SET v = orders.v || '-' || i.label || coalesce(e.bonus::text, '')
	FROM items i JOIN extras e ON e.k = i.k
	WHERE orders.k = i.k AND orders.id = i.id AND i.qty > 2 RETURNING orders.*, e.bonus$$, true);
SELECT check_query($$UPDATE orders SET n = n * 2
	FROM items i LEFT JOIN extras e ON e.k = i.k
	WHERE orders.k = i.k AND i.id = orders.id + 2 AND e.bonus IS NULL RETURNING orders.k, orders.id, orders.n$$, true);
-- a filter on a distribution column pins one shard
SELECT plan_kind($$UPDATE orders o SET n = 0 FROM items i WHERE o.k = i.k AND i.k = 7$$);
SELECT check_query($$UPDATE orders o SET n = n + 1 FROM items i WHERE o.k = i.k AND i.k = 7 AND i.id = o.id RETURNING o.*$$, true);
-- a row joined to several rows is updated once
SELECT check_query($$UPDATE orders o SET n = -1 FROM items i WHERE o.k = i.k AND o.k = 8 RETURNING o.k, o.id, o.n$$, true);
-- prepared, with the pinned value a parameter
PREPARE upd(int) AS UPDATE orders o SET v = upper(o.v) FROM items i WHERE o.k = i.k AND o.id = i.id AND o.k = $1 RETURNING o.k, o.id, o.v;
PREPARE upd_local(int) AS UPDATE orders_local o SET v = upper(o.v) FROM items_local i WHERE o.k = i.k AND o.id = i.id AND o.k = $1 RETURNING o.k, o.id, o.v;
SELECT check_query('EXECUTE upd(1)', true);
SELECT check_query('EXECUTE upd(3)', true);
SELECT check_query('EXECUTE upd(5)', true);
SELECT check_query('EXECUTE upd(9)', true);
SELECT check_query('EXECUTE upd(11)', true);
SELECT check_query('EXECUTE upd(13)', true);
SELECT check_query($$SELECT count(*), sum(n), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM orders$$);

-- DELETE ... USING
SELECT check_query($$DELETE FROM orders o USING items i WHERE o.k = i.k AND o.id = i.id AND i.qty = 0 RETURNING o.k, o.id, i.label$$, true);
SELECT check_query($$DELETE FROM orders USING extras e, items i WHERE orders.k = e.k AND e.k = i.k AND orders.id = i.id + 10 RETURNING orders.*$$, true);
SELECT check_query($$DELETE FROM orders o USING items i WHERE i.k = o.k AND o.k IN (2, 4) AND i.qty = 3 RETURNING o.k, o.id$$, true);
-- nothing matches
SELECT check_query($$DELETE FROM orders o USING items i WHERE o.k = i.k AND false RETURNING o.*$$);
SELECT check_query($$SELECT count(*), sum(n), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM orders$$);

-- EXISTS and IN subqueries over co-located tables joined on the
-- distribution column
SELECT check_query($$UPDATE orders SET n = n + 1000 WHERE EXISTS (SELECT 1 FROM items i WHERE i.k = orders.k AND i.id = orders.id AND i.qty = 5) RETURNING k, id, n$$, true);
SELECT check_query($$UPDATE orders o SET v = v || '!' WHERE o.k IN (SELECT e.k FROM extras e WHERE e.bonus > 100) AND o.id > 60 RETURNING o.k, o.id, o.v$$, true);
SELECT check_query($$UPDATE orders o SET n = 7 WHERE (o.k, o.id) IN (SELECT i.k, i.id FROM items i JOIN extras e USING (k)) RETURNING o.*$$, true);
SELECT check_query($$DELETE FROM orders WHERE id IN (SELECT o2.id FROM orders o2 WHERE o2.k = orders.k AND o2.n < 20) RETURNING k, id$$, true);
SELECT check_query($$DELETE FROM orders o WHERE EXISTS (SELECT FROM items i WHERE i.k = o.k AND i.label = 'l3') AND EXISTS (SELECT FROM extras e WHERE e.k = o.k) RETURNING o.k, o.id$$, true);
SELECT plan_kind($$DELETE FROM orders o WHERE EXISTS (SELECT FROM items i WHERE i.k = o.k AND i.k = 10)$$);
SELECT check_query($$SELECT count(*), sum(n), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM orders$$);
-- anti-joins, aggregates, subqueries in SET or under OR, correlated on
-- the distribution column, run inside each shard's statement (more in
-- modify_subqueries.sql)
SELECT check_query($$UPDATE orders o SET n = n + 1 WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.k = o.k AND i.qty > 4) RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$UPDATE orders o SET n = n + 1 WHERE o.k NOT IN (SELECT i.k FROM items i WHERE i.qty = 1) RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$UPDATE orders o SET n = n + 1 WHERE o.n > (SELECT avg(qty) * 20 FROM items i WHERE i.k = o.k) RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$DELETE FROM orders o WHERE EXISTS (SELECT 1 FROM items i WHERE i.k = o.k AND i.qty = 6 AND i.id = o.id) OR o.id = 1 RETURNING o.k, o.id$$, true);
SELECT check_query($$UPDATE orders o SET n = (SELECT max(qty) FROM items i WHERE i.k = o.k) WHERE o.id > 110 RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$SELECT count(*), sum(n), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM orders$$);
-- independent of the statement's rows: computed first on the coordinator
SELECT check_query($$DELETE FROM orders o WHERE o.k IN (SELECT i.k FROM items i ORDER BY i.id LIMIT 3) RETURNING o.k, o.id$$, true);
SELECT check_query($$DELETE FROM orders o WHERE o.id IN (SELECT i.id + 1 FROM items i WHERE i.qty = 2) RETURNING o.k, o.id$$, true);
INSERT INTO other_table VALUES (3, 1), (5, 2), (NULL, 3);
INSERT INTO other_table_local SELECT * FROM other_table;
SELECT check_query($$DELETE FROM orders o WHERE o.k IN (SELECT x.k FROM other_table x) RETURNING o.k, o.id$$, true);
SELECT check_query($$UPDATE orders o SET n = -n WHERE o.k NOT IN (SELECT x.k FROM other_table x WHERE x.k IS NOT NULL) AND o.id < 20 RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$SELECT count(*), sum(n), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM orders$$);
-- correlated, not on the distribution column: through the coordinator
-- (more in modify_via_coordinator.sql)
SELECT check_query($$DELETE FROM orders o WHERE o.id IN (SELECT i.id FROM items i WHERE i.qty = o.n) RETURNING o.k, o.id$$, true);

-- in a transaction: visible to later statements, gone after ROLLBACK
BEGIN;
DELETE FROM orders o USING items i WHERE o.k = i.k;
SELECT count(*) FROM orders;
ROLLBACK;
SELECT check_query('SELECT count(*) FROM orders');

-- the distribution column: assigning its own value runs shard by shard,
-- any other value moves rows through the coordinator, also from another
-- table joined on it
SELECT check_query($$UPDATE orders SET k = k, n = n + 1 WHERE id = 50 RETURNING *$$);
SELECT check_query($$UPDATE orders o SET k = o.k FROM items i WHERE o.k = i.k AND o.id = i.id AND i.id = 51 RETURNING o.*$$);
SELECT plan_kind($$UPDATE orders SET k = k + 1 WHERE id = 50$$);
SELECT check_query($$UPDATE orders SET k = k + 1 WHERE id = 50 RETURNING *$$);
SELECT check_query($$UPDATE orders SET k = 5 WHERE k = 4 RETURNING *$$, true);
SELECT check_query($$UPDATE orders SET k = id WHERE k = 6 RETURNING *$$, true);
SELECT check_query($$UPDATE orders o SET k = i.k + 100 FROM items i WHERE o.k = i.k AND o.id = i.id AND i.qty = 4 RETURNING o.*$$, true);
PREPARE move(int) AS UPDATE orders SET k = $1 WHERE id = 53 RETURNING *;
PREPARE move_local(int) AS UPDATE orders_local SET k = $1 WHERE id = 53 RETURNING *;
SELECT check_query('EXECUTE move(17)');
SELECT check_query('EXECUTE move(18)');
SELECT check_query($$SELECT count(*), sum(n), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM orders$$);

-- through the coordinator: tables that are not co-located or not joined
-- on the distribution column, local tables, subqueries and VALUES in FROM
CREATE TABLE other (k int, id int);
CREATE TABLE other_local (k int, id int);
SELECT distdb.create_distributed_table('other', 'k', 3);
INSERT INTO other VALUES (1, 1), (2, 2), (9, 3), (9, 4);
INSERT INTO other_local SELECT * FROM other;
SELECT check_query($$UPDATE orders o SET n = 0 FROM other x WHERE o.k = x.k RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$UPDATE orders o SET n = 1 FROM items i WHERE o.id = i.id AND i.qty = 1 RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$UPDATE orders o SET n = 2 FROM items i WHERE o.k = i.id RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$UPDATE orders o SET n = 3 FROM items i, extras e WHERE o.k = i.k AND e.bonus = 30 RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$UPDATE orders o SET n = 4 FROM items_local i WHERE o.k = i.k AND i.qty = 2 RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$UPDATE orders o SET n = 5 FROM (SELECT k FROM items WHERE qty = 3) i WHERE o.k = i.k RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$UPDATE orders o SET n = 6 FROM (VALUES (1), (20)) x(k) WHERE o.k = x.k RETURNING o.k, o.id, o.n$$, true);
SELECT check_query($$SELECT count(*), sum(n), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM orders$$);
SELECT check_query($$DELETE FROM orders o USING items i WHERE o.k = i.k OR o.id = i.id RETURNING o.k, o.id$$, true);
SELECT check_query($$DELETE FROM orders o USING other x WHERE o.k = x.k RETURNING o.k, o.id$$, true);
SELECT check_query($$DELETE FROM orders o USING items i WHERE o.k < i.k AND i.qty = 6 RETURNING o.k, o.id$$, true);
SELECT check_query($$SELECT count(*), sum(n), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM orders$$);

SET client_min_messages TO WARNING;
DROP TABLE orders, items, extras, other, other_local, other_table, other_table_local;
DROP SCHEMA update_from CASCADE;
