--
-- insert_subqueries: INSERT ... VALUES with scalar subqueries, and INSERT
-- with CTEs, into distributed and reference tables: the rows are computed
-- by the coordinator as an INSERT ... SELECT.  Defaults and sequences are
-- evaluated once per row (the twins have sequences of their own, so ids
-- agree only if each is called once per row); each statement is compared
-- with the same one on local twins.
--
CREATE SCHEMA insert_subqueries;
SET search_path TO insert_subqueries, regress;

CREATE TABLE items (id serial, k int NOT NULL, v text, n int DEFAULT 7,
					PRIMARY KEY (k, id));
CREATE TABLE items_local (id serial, k int NOT NULL, v text, n int DEFAULT 7,
						  PRIMARY KEY (k, id));
SELECT distdb.create_distributed_table('items', 'k', 4);
CREATE TABLE other (k int, v text);
CREATE TABLE other_local (k int, v text);
SELECT distdb.create_distributed_table('other', 'v', 4);
INSERT INTO other SELECT i % 10, 'other' || i FROM generate_series(1, 100) i;
INSERT INTO other_local SELECT * FROM other;
CREATE TABLE ref (k int PRIMARY KEY, v text);
CREATE TABLE ref_local (k int PRIMARY KEY, v text);
SELECT distdb.create_reference_table('ref');
-- a plain table of the coordinator
CREATE TABLE lookup (k int, name text);
INSERT INTO lookup VALUES (1, 'one'), (2, 'two'), (3, 'three');

-- one row, a subquery over a local table
SELECT * FROM check_query($$INSERT INTO items (k, v) VALUES (1, (SELECT name FROM lookup WHERE k = 1)) RETURNING *$$);
SELECT * FROM plan_kind($$INSERT INTO items (k, v) VALUES (1, (SELECT name FROM lookup WHERE k = 1))$$);
-- several rows, subqueries over a distributed table, DEFAULT
SELECT * FROM check_query($$INSERT INTO items (k, v, n) VALUES (2, (SELECT max(v) FROM other), DEFAULT), ((SELECT count(*)::int FROM other), 'count', (SELECT min(k) FROM other WHERE v > 'other5')) RETURNING *$$, true);
-- subqueries reading the target itself see it as it was before
SELECT * FROM check_query($$INSERT INTO items (k, v) VALUES (3, (SELECT count(*)::text FROM items)), (4, (SELECT string_agg(id::text, ',' ORDER BY id) FROM items)) RETURNING *$$, true);
-- EXISTS, IN, a correlated subquery over the VALUES row
SELECT * FROM check_query($$INSERT INTO items (k, v) SELECT x, (SELECT count(*)::text FROM other o WHERE o.k = x) FROM (VALUES (5), (6)) AS r(x) WHERE EXISTS (SELECT 1 FROM other WHERE k = x) RETURNING *$$, true);
SELECT * FROM check_query($$INSERT INTO items (k, v) VALUES (7, CASE WHEN 7 IN (SELECT k FROM other) THEN 'in' ELSE 'out' END) RETURNING *$$);

-- CTEs: with VALUES, with SELECT, recursive, reading the target
SELECT * FROM check_query($$WITH c AS (SELECT k, name FROM lookup) INSERT INTO items (k, v) VALUES ((SELECT max(k) FROM c), 'cte') RETURNING *$$);
SELECT * FROM check_query($$WITH c AS (SELECT k + 10 AS k, v FROM other WHERE k < 3) INSERT INTO items (k, v) SELECT k, v FROM c ORDER BY v RETURNING k, v, n$$, true);
SELECT * FROM check_query($$WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 5) INSERT INTO items (k, v) SELECT i + 20, 'r' || i FROM r RETURNING k, v$$, true);
WITH c AS (SELECT id, k, v FROM items) INSERT INTO items (k, v) SELECT k + 100, v FROM c ORDER BY id;
WITH c AS (SELECT id, k, v FROM items_local) INSERT INTO items_local (k, v) SELECT k + 100, v FROM c ORDER BY id;
SELECT table_diff('items');

-- ON CONFLICT with subqueries in the values
SELECT * FROM check_query($$INSERT INTO items (id, k, v) VALUES (1, 1, (SELECT 'dup')) ON CONFLICT DO NOTHING RETURNING *$$);
SELECT * FROM check_query($$INSERT INTO items (id, k, v) VALUES (1, 1, (SELECT name FROM lookup WHERE k = 2)), (1000, 1, (SELECT name FROM lookup WHERE k = 3)) ON CONFLICT (k, id) DO UPDATE SET v = excluded.v || '!' RETURNING *$$, true);

-- a reference table
SELECT * FROM check_query($$INSERT INTO ref VALUES ((SELECT count(*)::int FROM other), (SELECT name FROM lookup WHERE k = 3)) RETURNING *$$);
SELECT * FROM check_query($$WITH c AS (SELECT k FROM lookup) INSERT INTO ref SELECT k, 'c' FROM c ON CONFLICT (k) DO UPDATE SET v = excluded.v RETURNING *$$, true);
SELECT table_diff('ref');

-- prepared, past the switch to a generic plan
PREPARE ins(int) AS INSERT INTO items (k, v) VALUES ($1, (SELECT count(*)::text FROM other WHERE k = $1)) RETURNING *;
PREPARE ins_local(int) AS INSERT INTO items_local (k, v) VALUES ($1, (SELECT count(*)::text FROM other_local WHERE k = $1)) RETURNING *;
SELECT * FROM check_query('EXECUTE ins(1)');
SELECT * FROM check_query('EXECUTE ins(2)');
SELECT * FROM check_query('EXECUTE ins(3)');
SELECT * FROM check_query('EXECUTE ins(4)');
SELECT * FROM check_query('EXECUTE ins(5)');
SELECT * FROM check_query('EXECUTE ins(6)');
SELECT * FROM check_query('EXECUTE ins(7)');
DEALLOCATE ins;
DEALLOCATE ins_local;

-- in a transaction block, rolled back
BEGIN;
INSERT INTO items (k, v) VALUES (8, (SELECT max(v) FROM other));
SELECT k, v FROM items WHERE k = 8;
ROLLBACK;
SELECT count(*) FROM items WHERE k = 8;
SELECT table_diff('items');

-- bad input: errors as PostgreSQL gives them, and nothing stays
SELECT sqlstate_of($$INSERT INTO items (k, v) VALUES (1, 'a'), (2, (SELECT name FROM lookup))$$);
SELECT sqlstate_of($$INSERT INTO items_local (k, v) VALUES (1, 'a'), (2, (SELECT name FROM lookup))$$);
INSERT INTO items (k, v) VALUES (1, (SELECT name FROM lookup));
SELECT sqlstate_of($$INSERT INTO items (k, v) VALUES (1, (SELECT (1 / 0)::text))$$);
SELECT sqlstate_of($$INSERT INTO items_local (k, v) VALUES (1, (SELECT (1 / 0)::text))$$);
SELECT sqlstate_of($$INSERT INTO items (k, v) VALUES (1, (SELECT 'x', 'y'))$$);
SELECT sqlstate_of($$INSERT INTO items (k, v) VALUES ((SELECT NULL::int), 'x')$$);
SELECT sqlstate_of($$INSERT INTO items (k, v) VALUES ((SELECT k FROM lookup WHERE k = 1), 'x'), (2, 'y') ON CONFLICT (v) DO NOTHING$$);
INSERT INTO items (k, v) VALUES (1, (SELECT 'x')) RETURNING (SELECT 1);
INSERT INTO items (k, v) VALUES (1, 'x') ON CONFLICT (k, id) DO UPDATE SET v = (SELECT 'y');
WITH d AS (DELETE FROM items WHERE k = 1 RETURNING *) INSERT INTO items (k, v) SELECT k, v FROM d;
SELECT table_diff('items'), count(*) FROM items;

DROP SCHEMA insert_subqueries CASCADE;
