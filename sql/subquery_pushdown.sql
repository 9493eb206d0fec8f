--
-- subquery_pushdown: subqueries in FROM and inlined CTEs over co-located
-- tables run on the shards with the join around them; the others are
-- pulled up.  Every query is checked against local copies.
--
CREATE SCHEMA subquery_pushdown;
SET search_path TO subquery_pushdown, regress;


CREATE TABLE users (id int, name text, city int);
INSERT INTO users SELECT i, 'u' || i, CASE WHEN i % 5 = 0 THEN NULL ELSE i % 3 END
FROM generate_series(1, 120) i;
CREATE TABLE users_local AS SELECT * FROM users;
SELECT distdb.create_distributed_table('users', 'id', 8);

-- NULL-heavy: orders of unknown users, NULL amounts
CREATE TABLE orders (user_id int, order_id int, amount numeric);
INSERT INTO orders SELECT i % 150, i, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 40 END
FROM generate_series(1, 600) i;
INSERT INTO orders VALUES (200, 1000, NULL), (201, 1001, NULL);
CREATE TABLE orders_local AS SELECT * FROM orders;
SELECT distdb.create_distributed_table('orders', 'user_id', 8);

CREATE TABLE events (user_id int, kind text, at int);
INSERT INTO events SELECT (i * 7) % 90, 'k' || (i % 4), i FROM generate_series(1, 500) i;
CREATE TABLE events_local AS SELECT * FROM events;
SELECT distdb.create_distributed_table('events', 'user_id', 8);

-- not co-located with the others (other shard count)
CREATE TABLE other (id int, v int);
INSERT INTO other SELECT i, i % 9 FROM generate_series(1, 100) i;
CREATE TABLE other_local AS SELECT * FROM other;
SELECT distdb.create_distributed_table('other', 'id', 4);

CREATE TABLE cities (city int, cname text);
INSERT INTO cities VALUES (0, 'zero'), (1, 'one'), (2, 'two');
CREATE TABLE cities_local AS SELECT * FROM cities;
SELECT distdb.create_reference_table('cities');

-- an empty table co-located with the others
CREATE TABLE empty (user_id int, x int);
CREATE TABLE empty_local AS SELECT * FROM empty;
SELECT distdb.create_distributed_table('empty', 'user_id', 8);

-- subqueries in FROM grouped by the distribution column, joined on it
SELECT plan_kind('SELECT u.id, o.total FROM users u JOIN (SELECT user_id, sum(amount) total FROM orders GROUP BY user_id) o ON o.user_id = u.id');
SELECT check_query('SELECT u.id, o.total FROM users u JOIN (SELECT user_id, sum(amount) total FROM orders GROUP BY user_id) o ON o.user_id = u.id ORDER BY 1');
SELECT plan_kind('SELECT count(*) FROM (SELECT user_id, count(*) FROM events GROUP BY user_id HAVING count(*) > 2) s');
SELECT check_query('SELECT count(*) FROM (SELECT user_id, count(*) FROM events GROUP BY user_id HAVING count(*) > 2) s');
SELECT check_query('SELECT count(*), sum(c), max(c) FROM (SELECT user_id, count(*) c FROM events GROUP BY user_id HAVING count(*) > 6) s');
SELECT check_query('SELECT u.city, count(*), sum(o.total) FROM users u JOIN (SELECT user_id, sum(amount) total FROM orders GROUP BY user_id) o ON o.user_id = u.id GROUP BY u.city ORDER BY 1 NULLS FIRST');
SELECT check_query('SELECT u.id, o.total FROM users u LEFT JOIN (SELECT user_id, sum(amount) total FROM orders WHERE amount > 10 GROUP BY user_id) o ON o.user_id = u.id ORDER BY 1');
SELECT check_query('SELECT o.user_id, o.total, u.name FROM (SELECT user_id, sum(amount) total FROM orders GROUP BY user_id) o LEFT JOIN users u ON o.user_id = u.id ORDER BY 1 NULLS FIRST');
SELECT check_query('SELECT o.user_id, o.n, e.n FROM (SELECT user_id, count(*) n FROM orders GROUP BY user_id) o FULL JOIN (SELECT user_id, count(*) n FROM events GROUP BY user_id) e ON e.user_id = o.user_id ORDER BY 1 NULLS FIRST, 2, 3');
SELECT check_query('SELECT s.user_id, s.m FROM (SELECT user_id, max(at) m FROM events WHERE kind <> ''k1'' GROUP BY user_id) s WHERE s.m > 300 ORDER BY 2 DESC, 1 LIMIT 7');
SELECT check_query('SELECT avg(total) FROM (SELECT user_id, sum(amount) total FROM orders GROUP BY user_id) o');
-- a subquery without aggregates, and nested subqueries
SELECT check_query('SELECT u.name, x.amount FROM users u JOIN (SELECT user_id, amount FROM orders WHERE amount > 30) x ON x.user_id = u.id ORDER BY 1, 2');
SELECT plan_kind('SELECT count(*) FROM (SELECT uid, sum(c) s FROM (SELECT user_id uid, count(*) c FROM events GROUP BY user_id) a GROUP BY uid) b JOIN users ON users.id = b.uid');
SELECT check_query('SELECT count(*), sum(b.s) FROM (SELECT uid, sum(c) s FROM (SELECT user_id uid, count(*) c FROM events GROUP BY user_id) a GROUP BY uid) b JOIN users ON users.id = b.uid');
-- a join inside the subquery, a reference table inside and outside
SELECT check_query('SELECT s.id, s.n, c.cname FROM (SELECT u.id, u.city, count(o.order_id) n FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id, u.city) s LEFT JOIN cities c ON c.city = s.city ORDER BY 1');
SELECT check_query('SELECT s.cname, sum(s.n) FROM (SELECT u.id, c.cname, count(*) n FROM users u JOIN cities c USING (city) JOIN events e ON e.user_id = u.id GROUP BY u.id, c.cname) s GROUP BY 1 ORDER BY 1');
-- DISTINCT including the distribution column, window partitioned by it
SELECT check_query('SELECT count(*) FROM (SELECT DISTINCT user_id, kind FROM events) d');
SELECT check_query('SELECT d.user_id, count(*) FROM (SELECT DISTINCT user_id, kind FROM events) d JOIN users u ON u.id = d.user_id GROUP BY 1 ORDER BY 1');
SELECT check_query('SELECT count(*), sum(u.id) FROM (SELECT DISTINCT ON (user_id, kind) user_id, kind FROM events) d JOIN users u ON u.id = d.user_id');
SELECT check_query('SELECT w.user_id, w.at, w.r FROM (SELECT user_id, at, rank() OVER (PARTITION BY user_id ORDER BY at DESC) r FROM events) w WHERE w.r = 1 ORDER BY 1');
-- the same column names twice
SELECT check_query('SELECT * FROM (SELECT u.id, o.user_id AS id2, o.amount FROM users u JOIN orders o ON o.user_id = u.id WHERE o.amount = 3) s JOIN events e ON e.user_id = s.id ORDER BY 1, 2, 3, 5, 6');
-- an empty co-located table
SELECT check_query('SELECT u.id, e.c FROM users u LEFT JOIN (SELECT user_id, count(*) c FROM empty GROUP BY user_id) e ON e.user_id = u.id WHERE u.id < 5 ORDER BY 1');
SELECT check_query('SELECT count(*), sum(c) FROM (SELECT user_id, count(*) c FROM empty GROUP BY user_id) e');

-- these cannot run per shard and are pulled up, still right
SELECT plan_kind('SELECT count(*) FROM (SELECT user_id FROM events ORDER BY at LIMIT 10) s JOIN users u ON u.id = s.user_id');
SELECT check_query('SELECT count(*) FROM (SELECT user_id FROM events ORDER BY at, user_id LIMIT 10) s JOIN users u ON u.id = s.user_id');
SELECT check_query('SELECT k.kind, k.c FROM (SELECT kind, count(*) c FROM events GROUP BY kind) k ORDER BY 1');
SELECT check_query('SELECT count(*) FROM (SELECT DISTINCT kind FROM events) k');
SELECT check_query('SELECT count(*) FROM (SELECT count(*) c FROM events) k');
SELECT check_query('SELECT s.user_id, s.r FROM (SELECT user_id, row_number() OVER (ORDER BY at) r FROM events) s WHERE r < 5 ORDER BY 2');
SELECT check_query('SELECT count(*) FROM (SELECT user_id FROM events UNION SELECT id FROM users) s');
SELECT check_query('SELECT s.city, s.c FROM (SELECT city, count(*) c FROM users GROUP BY city) s JOIN cities USING (city) ORDER BY 1');
SELECT check_query('SELECT o.id, s.c FROM other o JOIN (SELECT user_id, count(*) c FROM events GROUP BY user_id) s ON s.user_id = o.id ORDER BY 1');
SELECT check_query('SELECT u.id, s.c FROM users u JOIN (SELECT user_id, count(*) c FROM events GROUP BY user_id) s ON s.c = u.id ORDER BY 1');
-- grouped by a column of the nullable side: NULL groups span shards
SELECT check_query('SELECT s.uid, s.c FROM (SELECT o.user_id uid, count(*) c FROM users u RIGHT JOIN orders o ON o.user_id = u.id GROUP BY o.user_id) s ORDER BY 1 NULLS FIRST');
SELECT check_query('SELECT s.id, s.c FROM (SELECT u.id, count(*) c FROM orders o LEFT JOIN users u ON o.user_id = u.id GROUP BY u.id) s ORDER BY 1 NULLS FIRST');

-- CTEs inlined as subqueries
SELECT plan_kind('WITH s AS (SELECT user_id, sum(amount) total FROM orders GROUP BY user_id) SELECT u.id, s.total FROM s JOIN users u ON u.id = s.user_id');
SELECT check_query('WITH s AS (SELECT user_id, sum(amount) total FROM orders GROUP BY user_id) SELECT u.id, s.total FROM s JOIN users u ON u.id = s.user_id ORDER BY 1');
SELECT check_query('WITH a AS (SELECT user_id, count(*) c FROM events GROUP BY user_id), b AS (SELECT a.user_id, a.c, u.city FROM a JOIN users u ON u.id = a.user_id) SELECT city, sum(c) FROM b GROUP BY city ORDER BY 1 NULLS FIRST');
SELECT check_query('WITH s AS NOT MATERIALIZED (SELECT user_id, count(*) c FROM events GROUP BY user_id) SELECT count(*) FROM s x JOIN s y ON x.user_id = y.user_id WHERE x.c > 5');
-- materialized or referenced twice: planned as before
SELECT plan_kind('WITH s AS MATERIALIZED (SELECT user_id, count(*) c FROM events GROUP BY user_id) SELECT count(*) FROM s JOIN users u ON u.id = s.user_id');
SELECT check_query('WITH s AS MATERIALIZED (SELECT user_id, count(*) c FROM events GROUP BY user_id) SELECT count(*) FROM s JOIN users u ON u.id = s.user_id');
SELECT check_query('WITH s AS (SELECT user_id, count(*) c FROM events GROUP BY user_id) SELECT count(*) FROM s x JOIN s y ON x.user_id = y.user_id WHERE x.c > 5');

-- filters on the distribution column inside the subquery prune the shards
SELECT plan_kind('SELECT u.id, o.total FROM users u JOIN (SELECT user_id, sum(amount) total FROM orders WHERE user_id = 7 GROUP BY user_id) o ON o.user_id = u.id');
SELECT check_query('SELECT u.id, o.total FROM users u JOIN (SELECT user_id, sum(amount) total FROM orders WHERE user_id = 7 GROUP BY user_id) o ON o.user_id = u.id');
-- but not on an outer join's nullable side
SELECT plan_kind('SELECT u.id, o.total FROM users u LEFT JOIN (SELECT user_id, sum(amount) total FROM orders WHERE user_id = 7 GROUP BY user_id) o ON o.user_id = u.id');
SELECT check_query('SELECT u.id, o.total FROM users u LEFT JOIN (SELECT user_id, sum(amount) total FROM orders WHERE user_id = 7 GROUP BY user_id) o ON o.user_id = u.id ORDER BY 1');
-- prepared statements: the parameter picks the shard at execution
PREPARE p1(int) AS SELECT u.id, o.total FROM users u JOIN (SELECT user_id, sum(amount) total FROM orders WHERE user_id = $1 GROUP BY user_id) o ON o.user_id = u.id;
PREPARE p1_local(int) AS SELECT u.id, o.total FROM users_local u JOIN (SELECT user_id, sum(amount) total FROM orders_local WHERE user_id = $1 GROUP BY user_id) o ON o.user_id = u.id;
SELECT check_query('EXECUTE p1(3)');
SELECT check_query('EXECUTE p1(4)');
SELECT check_query('EXECUTE p1(5)');
SELECT check_query('EXECUTE p1(6)');
SELECT check_query('EXECUTE p1(7)');
SELECT check_query('EXECUTE p1(8)');
SELECT check_query('EXECUTE p1(NULL)');
SELECT shard_query('EXECUTE p1(8)');
SET plan_cache_mode TO force_generic_plan;
SELECT plan_kind('EXECUTE p1(8)');
SELECT check_query('EXECUTE p1(8)');
SELECT check_query('EXECUTE p1(9)');
RESET plan_cache_mode;
PREPARE p2(int) AS SELECT count(*), sum(c) FROM (SELECT user_id, count(*) c FROM events WHERE user_id = $1 GROUP BY user_id) s JOIN users u ON u.id = s.user_id;
PREPARE p2_local(int) AS SELECT count(*), sum(c) FROM (SELECT user_id, count(*) c FROM events_local WHERE user_id = $1 GROUP BY user_id) s JOIN users_local u ON u.id = s.user_id;
SELECT check_query('EXECUTE p2(14)');
SELECT check_query('EXECUTE p2(14)');
SELECT check_query('EXECUTE p2(14)');
SELECT check_query('EXECUTE p2(14)');
SELECT check_query('EXECUTE p2(14)');
SELECT check_query('EXECUTE p2(15)');
SELECT check_query('EXECUTE p2(21)');
DEALLOCATE p1; DEALLOCATE p1_local; DEALLOCATE p2; DEALLOCATE p2_local;

-- UNION ALL of co-located branches, the distribution column at the same
-- position in each
SELECT plan_kind('SELECT s.user_id, count(*), sum(s.c) FROM (SELECT user_id, 1 c FROM orders UNION ALL SELECT user_id, 2 FROM events) s JOIN users u ON u.id = s.user_id GROUP BY 1');
SELECT check_query('SELECT s.user_id, count(*), sum(s.c) FROM (SELECT user_id, 1 c FROM orders UNION ALL SELECT user_id, 2 FROM events) s JOIN users u ON u.id = s.user_id GROUP BY 1 ORDER BY 1');
SELECT check_query('SELECT count(*), sum(n) FROM (SELECT user_id, count(*) n FROM orders GROUP BY user_id UNION ALL SELECT user_id, count(*) FROM events WHERE kind = ''k2'' GROUP BY user_id UNION ALL SELECT id, 0 FROM users) s');
SELECT check_query('SELECT u.id, s.x FROM users u LEFT JOIN (SELECT user_id, amount x FROM orders WHERE amount > 35 UNION ALL SELECT user_id, at FROM events WHERE at < 20) s ON s.user_id = u.id ORDER BY 1, 2');
SELECT check_query('WITH s AS (SELECT user_id FROM orders UNION ALL SELECT user_id FROM events) SELECT user_id, count(*) FROM s GROUP BY user_id ORDER BY 2 DESC, 1 LIMIT 5');
-- pulled up: UNION, other positions, not co-located
SELECT plan_kind('SELECT count(*) FROM (SELECT user_id, order_id FROM orders UNION ALL SELECT at, user_id FROM events) s JOIN users u ON u.id = s.user_id');
SELECT check_query('SELECT count(*) FROM (SELECT user_id, order_id FROM orders UNION ALL SELECT at, user_id FROM events) s JOIN users u ON u.id = s.user_id');
SELECT check_query('SELECT count(*) FROM (SELECT user_id FROM orders UNION SELECT user_id FROM events) s JOIN users u ON u.id = s.user_id');
SELECT check_query('SELECT count(*) FROM (SELECT user_id FROM orders UNION ALL SELECT id FROM other) s JOIN users u ON u.id = s.user_id');

-- WHERE sublinks correlated on the distribution column, or IN over a
-- co-located subquery's distribution column, go to the shards
SELECT plan_kind('SELECT count(*) FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.amount > 30)');
SELECT check_query('SELECT count(*) FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.amount > 30)');
SELECT check_query('SELECT id, name FROM users u WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE u.id = o.user_id AND o.amount IS NOT NULL) ORDER BY 1');
SELECT plan_kind('SELECT id FROM users WHERE id IN (SELECT user_id FROM orders WHERE amount > 35)');
SELECT check_query('SELECT id FROM users WHERE id IN (SELECT user_id FROM orders WHERE amount > 35) ORDER BY id');
SELECT plan_kind('SELECT count(*) FROM users WHERE id NOT IN (SELECT user_id FROM orders WHERE amount > 20)');
SELECT check_query('SELECT count(*) FROM users WHERE id NOT IN (SELECT user_id FROM orders WHERE amount > 20)');
SELECT check_query('SELECT count(*) FROM users WHERE id NOT IN (SELECT user_id FROM empty)');
SELECT check_query('SELECT count(*) FROM users WHERE id IN (SELECT user_id FROM events GROUP BY user_id HAVING count(*) > 5)');
SELECT plan_kind('SELECT id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) > 4');
SELECT check_query('SELECT id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) > 4 ORDER BY 1');
SELECT check_query('SELECT id FROM users u WHERE (SELECT max(amount) FROM orders o WHERE o.user_id = u.id) IS NULL OR u.city = 1 ORDER BY 1');
SELECT check_query('SELECT count(*) FROM users u WHERE u.city IN (SELECT e.at % 3 FROM events e WHERE e.user_id = u.id)');
SELECT check_query('SELECT count(*) FROM users u WHERE u.city NOT IN (SELECT e.at % 3 FROM events e WHERE e.user_id = u.id)');
SELECT check_query('SELECT count(*) FROM users u WHERE u.city > ALL (SELECT e.at % 3 FROM events e WHERE e.user_id = u.id)');
SELECT check_query('SELECT u.id, o.amount FROM users u JOIN orders o ON o.user_id = u.id WHERE EXISTS (SELECT 1 FROM events e WHERE e.user_id = o.user_id AND e.kind = ''k1'') AND o.amount < 5 ORDER BY 1, 2');
SELECT check_query('SELECT count(*) FROM users u LEFT JOIN orders o ON o.user_id = u.id AND o.amount > 30 WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.user_id = o.user_id)');
SELECT check_query('SELECT count(*) FROM users u WHERE EXISTS (SELECT 1 FROM orders o JOIN cities c ON c.city = o.order_id % 3 WHERE o.user_id = u.id AND c.cname = ''two'')');
SELECT check_query('SELECT s.user_id, s.total FROM (SELECT user_id, sum(amount) total FROM orders GROUP BY user_id) s WHERE EXISTS (SELECT 1 FROM events e WHERE e.user_id = s.user_id AND e.at < 50) ORDER BY 1');
SELECT check_query('SELECT u.city, count(*) FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id) GROUP BY u.city ORDER BY 1 NULLS FIRST');
-- correlated scalar subqueries in the SELECT list
SELECT plan_kind('SELECT u.id, (SELECT sum(amount) FROM orders o WHERE o.user_id = u.id) FROM users u');
SELECT check_query('SELECT u.id, (SELECT sum(amount) FROM orders o WHERE o.user_id = u.id) FROM users u ORDER BY 1');
SELECT check_query('SELECT u.id, u.name, (SELECT count(*) FROM events e WHERE e.user_id = u.id AND e.kind = ''k1'') AS k1, EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.amount IS NULL) AS has_null FROM users u WHERE u.id < 40 ORDER BY 3 DESC, 1 LIMIT 12');
SELECT check_query('SELECT o.order_id, (SELECT max(at) FROM events e WHERE e.user_id = o.user_id) FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE o.amount > 37 ORDER BY 1');
SELECT check_query('SELECT s.user_id, s.c, (SELECT count(*) FROM orders o WHERE o.user_id = s.user_id) FROM (SELECT user_id, count(*) c FROM events GROUP BY user_id) s ORDER BY 1');
SELECT shard_query('SELECT u.id, (SELECT sum(amount) FROM orders o WHERE o.user_id = u.id) FROM users u');
-- grouped, or not correlated on the distribution column: on the coordinator
SELECT check_query('SELECT u.city, sum((SELECT count(*) FROM orders o WHERE o.user_id = u.id)) FROM users u GROUP BY u.city ORDER BY 1 NULLS FIRST');
SELECT check_query('SELECT u.id, (SELECT count(*) FROM orders o WHERE o.order_id = u.id) FROM users u WHERE u.id < 10 ORDER BY 1');

-- these are computed first on the coordinator (select_computed_subqueries)
-- or stay there, still right
SELECT plan_kind('SELECT count(*) FROM users WHERE city NOT IN (SELECT user_id FROM orders WHERE amount > 38)');
SELECT check_query('SELECT count(*) FROM users WHERE city NOT IN (SELECT user_id FROM orders WHERE amount > 38)');
SELECT check_query('SELECT count(*) FROM users WHERE id NOT IN (SELECT o.user_id FROM events e LEFT JOIN orders o ON o.user_id = e.user_id AND o.amount > 38)');
SELECT check_query('SELECT count(*) FROM users u LEFT JOIN orders o ON o.user_id = u.id AND o.amount > 30 WHERE o.user_id NOT IN (SELECT user_id FROM events)');
SELECT check_query('SELECT count(*) FROM users u WHERE EXISTS (SELECT 1 FROM other x WHERE x.id = u.id)');
SELECT check_query('SELECT count(*) FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.order_id = u.id)');
SELECT check_query('SELECT count(*) FROM users u WHERE id > (SELECT avg(user_id) FROM orders)');
SELECT check_query('SELECT count(*) FROM users u WHERE id IN (SELECT user_id FROM orders ORDER BY amount NULLS LAST, order_id LIMIT 20)');
-- with a parameter on the distribution column
PREPARE p3(int) AS SELECT count(*) FROM users u WHERE u.id = $1 AND EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.amount > 20);
PREPARE p3_local(int) AS SELECT count(*) FROM users_local u WHERE u.id = $1 AND EXISTS (SELECT 1 FROM orders_local o WHERE o.user_id = u.id AND o.amount > 20);
SELECT check_query('EXECUTE p3(21)');
SELECT check_query('EXECUTE p3(22)');
SET plan_cache_mode TO force_generic_plan;
SELECT plan_kind('EXECUTE p3(21)');
SELECT check_query('EXECUTE p3(23)');
RESET plan_cache_mode;
DEALLOCATE p3; DEALLOCATE p3_local;

-- more shapes: contradictory filters, CTEs nested in subqueries and sublinks,
-- reference tables on an outer join's preserved side, volatile functions
SELECT check_query('SELECT count(*), sum(c) FROM (SELECT user_id, count(*) c FROM events WHERE user_id = 7 AND user_id = 8 GROUP BY user_id) s');
SELECT check_query('SELECT u.id, s.c FROM users u JOIN (WITH x AS (SELECT user_id, count(*) c FROM events GROUP BY user_id) SELECT user_id, c FROM x WHERE c > 6) s ON s.user_id = u.id ORDER BY 1');
SELECT plan_kind('WITH s AS (SELECT user_id FROM orders WHERE amount > 30) SELECT count(*) FROM users WHERE id IN (SELECT user_id FROM s)');
SELECT check_query('WITH s AS (SELECT user_id FROM orders WHERE amount > 30) SELECT count(*) FROM users WHERE id IN (SELECT user_id FROM s)');
SELECT check_query('SELECT count(*) FROM users WHERE id NOT IN (SELECT uid FROM (SELECT user_id uid, count(*) FROM events GROUP BY user_id) x)');
SELECT check_query('SELECT s.city, count(s.id) FROM (SELECT c.city, u.id FROM cities c LEFT JOIN users u ON u.city = c.city) s GROUP BY 1 ORDER BY 1');
SELECT check_query('SELECT count(*) FROM (SELECT user_id, random() r FROM orders) s JOIN users u ON u.id = s.user_id WHERE s.r >= 0');
SELECT check_query('SELECT DISTINCT s.c FROM (SELECT user_id, count(*) c FROM events GROUP BY user_id) s JOIN users u ON u.id = s.user_id ORDER BY 1');
SELECT check_query('SELECT u.name, s.total FROM users u JOIN (SELECT user_id, sum(amount) total FROM orders GROUP BY user_id) s ON s.user_id = u.id ORDER BY s.total DESC NULLS LAST, 1 LIMIT 5 OFFSET 2');
SELECT check_query('SELECT count(*) FROM users u JOIN orders o ON o.user_id = u.id WHERE o.amount IN (SELECT max(amount) FROM orders x WHERE x.user_id = o.user_id)');

-- the shard query carries the subquery
SELECT shard_query('SELECT u.id, o.total FROM users u JOIN (SELECT user_id, sum(amount) total FROM orders GROUP BY user_id) o ON o.user_id = u.id');
SELECT shard_query('SELECT count(*), sum(b.s) FROM (SELECT uid, sum(c) s FROM (SELECT user_id uid, count(*) c FROM events GROUP BY user_id) a GROUP BY uid) b JOIN users ON users.id = b.uid');
SELECT shard_query('WITH s AS (SELECT user_id, sum(amount) total FROM orders GROUP BY user_id) SELECT u.id, s.total FROM s JOIN users u ON u.id = s.user_id');
SELECT shard_query('SELECT * FROM (SELECT u.id, o.user_id AS id2, o.amount FROM users u JOIN orders o ON o.user_id = u.id WHERE o.amount = 3) s JOIN events e ON e.user_id = s.id');
SELECT shard_query('SELECT count(*) FROM users u JOIN events e ON e.user_id = u.id WHERE u.city NOT IN (SELECT e.at % 3 FROM events e WHERE e.user_id = u.id) AND NOT EXISTS (SELECT 1 FROM orders e WHERE e.user_id = u.id)');
SELECT check_query('SELECT count(*) FROM users u JOIN events e ON e.user_id = u.id WHERE u.city NOT IN (SELECT e.at % 3 FROM events e WHERE e.user_id = u.id) AND NOT EXISTS (SELECT 1 FROM orders e WHERE e.user_id = u.id)');
SELECT shard_query('SELECT s.user_id, count(*), sum(s.c) FROM (SELECT user_id, 1 c FROM orders UNION ALL SELECT user_id, 2 FROM events) s JOIN users u ON u.id = s.user_id GROUP BY 1');
SELECT shard_query('SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM orders WHERE amount > 20) OR (SELECT count(*) FROM events e WHERE e.user_id = users.id) > 3');

-- privileges are checked on the subquery's tables too
\getenv host DISTDB_HOST
\getenv coordinator_port DISTDB_COORDINATOR_PORT
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
CREATE ROLE subq_reader;
\c regression - :host :worker_1_port
CREATE ROLE subq_reader;
\c regression - :host :worker_2_port
CREATE ROLE subq_reader;
\c regression - :host :coordinator_port
SET search_path TO subquery_pushdown, regress;
GRANT USAGE ON SCHEMA subquery_pushdown TO subq_reader;
-- unnamed output columns of a pushed-down subquery (both "?column?") get
-- unique names in the shard query
SELECT count(*) FROM check_query('SELECT * FROM (SELECT user_id + 1, order_id * 2 FROM orders) x', true);
SELECT * FROM check_query('SELECT * FROM (WITH w AS (SELECT id, city FROM users WHERE id < 20) SELECT id + 3, city + 1 FROM w) x', true);
SELECT count(*) FROM check_query('SELECT * FROM users u JOIN (SELECT user_id, count(*), sum(amount) FROM orders GROUP BY user_id) o ON o.user_id = u.id WHERE u.id < 12', true);
SELECT * FROM shard_query('SELECT * FROM (SELECT user_id + 1, order_id * 2 FROM orders) x');

GRANT SELECT ON users TO subq_reader;
SET ROLE subq_reader;
SELECT count(*) FROM users u JOIN (SELECT user_id, count(*) c FROM orders GROUP BY user_id) o ON o.user_id = u.id;
RESET ROLE;
SET client_min_messages TO warning;
DROP SCHEMA subquery_pushdown CASCADE;
DROP ROLE subq_reader;
\c regression - :host :worker_1_port
DROP ROLE subq_reader;
\c regression - :host :worker_2_port
DROP ROLE subq_reader;
\c regression - :host :coordinator_port
