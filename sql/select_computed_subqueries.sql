--
-- select_computed_subqueries: subqueries of a SELECT's WHERE clause that do
-- not depend on its rows, over tables the shards cannot read (local
-- tables, distributed tables that are not co-located), are computed first
-- on the coordinator and sent to the shards as parameters, so that the
-- filter, aggregation, grouping and LIMIT run on the shards; compared with
-- local copies (check_query).
--
\getenv host DISTDB_HOST
\getenv coordinator_port DISTDB_COORDINATOR_PORT
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
CREATE ROLE computed_user;
\c regression - :host :worker_1_port
CREATE ROLE computed_user;
\c regression - :host :worker_2_port
CREATE ROLE computed_user;
\c regression - :host :coordinator_port
CREATE SCHEMA select_computed;
SET search_path TO select_computed, regress;

CREATE TABLE big (id int PRIMARY KEY, x int, amount numeric, tag text);
CREATE TABLE other (k int, y int, amount numeric);
CREATE TABLE lk (y int, note text);			-- a local table of the coordinator
CREATE TABLE lk_nulls (y int);				-- with a NULL
CREATE TABLE big_local (LIKE big INCLUDING ALL);
CREATE TABLE other_local (LIKE other INCLUDING ALL);
SELECT distdb.create_distributed_table('big', 'id', 4);
SELECT distdb.create_distributed_table('other', 'k', 3, colocate_with => 'none');
INSERT INTO big SELECT i, CASE WHEN i % 17 = 0 THEN NULL ELSE i % 10 END,
	CASE WHEN i % 13 = 0 THEN NULL ELSE i END, 't' || (i % 4)
	FROM generate_series(1, 200) i;
INSERT INTO other SELECT i, i % 6, i * 3 FROM generate_series(1, 30) i;
INSERT INTO lk VALUES (1, 'one'), (3, 'three'), (5, 'five'), (3, 'again');
INSERT INTO lk_nulls VALUES (2), (NULL);
INSERT INTO big_local SELECT * FROM big;
INSERT INTO other_local SELECT * FROM other;
ANALYZE big, other, lk, lk_nulls;

-- IN over a local table: the filter and the aggregation run on the shards
SELECT regress.check_query('SELECT count(*), sum(amount) FROM big WHERE x IN (SELECT y FROM lk WHERE note <> ''five'')');
SELECT regress.check_query('SELECT x, count(*), max(amount) FROM big WHERE x IN (SELECT y FROM lk) GROUP BY x ORDER BY x');
SELECT regress.check_query('SELECT id, amount FROM big WHERE x IN (SELECT y FROM lk) ORDER BY amount DESC NULLS LAST, id LIMIT 5');
-- NOT IN: a NULL in the subquery means no row qualifies; without one, rows
-- whose x is NULL do not qualify either
SELECT regress.check_query('SELECT count(*) FROM big WHERE x NOT IN (SELECT y FROM lk_nulls)');
SELECT regress.check_query('SELECT count(*) FROM big WHERE x NOT IN (SELECT y FROM lk)');
SELECT regress.check_query('SELECT count(*) FROM big WHERE x NOT IN (SELECT y FROM lk_nulls WHERE y IS NOT NULL)');
-- empty subqueries: IN matches nothing, NOT IN everything (NULLs too)
SELECT regress.check_query('SELECT count(*) FROM big WHERE x IN (SELECT y FROM lk WHERE false)');
SELECT regress.check_query('SELECT count(*) FROM big WHERE x NOT IN (SELECT y FROM lk WHERE false)');
SELECT regress.check_query('SELECT count(*) FROM big WHERE x > ALL (SELECT y FROM lk WHERE y > 100)');
-- ANY / ALL with other operators, NULLs included
SELECT regress.check_query('SELECT count(*) FROM big WHERE x > ALL (SELECT y FROM lk)');
SELECT regress.check_query('SELECT count(*) FROM big WHERE x < ANY (SELECT y FROM lk_nulls)');
SELECT regress.check_query('SELECT count(*) FROM big WHERE x >= ALL (SELECT y FROM lk_nulls)');
-- a non-co-located distributed table in the subquery
SELECT regress.check_query('SELECT tag, count(*) FROM big WHERE x IN (SELECT y FROM other WHERE amount > 40) GROUP BY tag ORDER BY tag');
SELECT regress.plan_kind('SELECT tag, count(*) FROM big WHERE x IN (SELECT y FROM other WHERE amount > 40) GROUP BY tag ORDER BY tag');
-- scalar subqueries that return one row: aggregates, LIMIT 1
SELECT regress.check_query('SELECT count(*), sum(amount) FROM big WHERE amount > (SELECT avg(amount) FROM other)');
-- the shards aggregate, the subquery's value is parameter $1
SELECT shard_plan('SELECT count(*), sum(amount) FROM big WHERE amount > (SELECT avg(amount) FROM other)');
SELECT regress.check_query('SELECT count(*) FROM big WHERE x = (SELECT y FROM lk ORDER BY note LIMIT 1)');
-- ... or none: the value is NULL
SELECT regress.check_query('SELECT count(*) FROM big WHERE amount > (SELECT max(amount) FROM other WHERE k < 0)');
SELECT regress.check_query('SELECT count(*) FROM big WHERE coalesce(x, -1) <> coalesce((SELECT y FROM lk WHERE y > 100 LIMIT 1), -2)');
-- EXISTS, NOT EXISTS, ARRAY()
SELECT regress.check_query('SELECT count(*) FROM big WHERE x < 3 AND EXISTS (SELECT 1 FROM lk WHERE y = 5)');
SELECT regress.check_query('SELECT count(*) FROM big WHERE NOT EXISTS (SELECT 1 FROM lk WHERE y = 7)');
SELECT regress.check_query('SELECT count(*) FROM big WHERE x = ANY (ARRAY(SELECT y FROM lk))');
-- under OR, and several at once
SELECT regress.check_query('SELECT count(*) FROM big WHERE x IN (SELECT y FROM lk) OR amount > (SELECT max(amount) FROM other)');
SELECT regress.check_query('SELECT count(*) FROM big WHERE x IN (SELECT y FROM lk) AND x NOT IN (SELECT y FROM other WHERE k > 27)');
-- a scalar subquery that may return several rows stays on the coordinator:
-- the error comes only when a row needs its value, as in PostgreSQL
SELECT count(*) FROM big WHERE x = (SELECT y FROM lk);
SELECT count(*) FROM big WHERE id < 0 AND x = (SELECT y FROM lk);
SELECT regress.check_query('SELECT count(*) FROM big WHERE x = (SELECT y FROM lk WHERE note = ''five'')');
-- a condition on two pulled tables keeps its subquery on the coordinator
SELECT regress.check_query('SELECT count(*) FROM big b JOIN other o ON b.x = o.y WHERE b.x + o.k IN (SELECT y FROM lk)');
-- in a subquery in FROM, and in a prepared statement with a parameter in
-- the subquery
SELECT regress.check_query('SELECT s.tag, s.n FROM (SELECT tag, count(*) AS n FROM big WHERE x IN (SELECT y FROM lk) GROUP BY tag) s ORDER BY 1');
PREPARE computed_in(int) AS SELECT count(*) FROM big WHERE x IN (SELECT y FROM lk WHERE y > $1);
PREPARE computed_in_local(int) AS SELECT count(*) FROM big_local WHERE x IN (SELECT y FROM lk WHERE y > $1);
SELECT regress.check_query('EXECUTE computed_in(2)');
SELECT regress.check_query('EXECUTE computed_in(4)');
SELECT regress.check_query('EXECUTE computed_in(10)');
SELECT regress.check_query('EXECUTE computed_in(0)');
SELECT regress.check_query('EXECUTE computed_in(1)');
SELECT regress.check_query('EXECUTE computed_in(3)');
-- a correlated subquery is not computed first, nor one reading a CTE of
-- the query around it
WITH c AS MATERIALIZED (SELECT y FROM lk) SELECT count(*) FROM c, big WHERE x IN (SELECT y FROM c);
SELECT regress.check_query('SELECT count(*) FROM big b WHERE x IN (SELECT y FROM lk WHERE lk.y < b.id)');
-- privileges of the subquery's tables are checked
GRANT USAGE ON SCHEMA select_computed TO computed_user;
GRANT SELECT ON big TO computed_user;
SET ROLE computed_user;
SELECT count(*) FROM big WHERE x IN (SELECT y FROM lk);
RESET ROLE;
-- the grouping runs on the shards
SELECT shard_plan('SELECT x, count(*) FROM big WHERE x IN (SELECT y FROM lk) GROUP BY x');

DROP SCHEMA select_computed CASCADE;
DROP ROLE computed_user;
\c regression - :host :worker_1_port
DROP OWNED BY computed_user;
DROP ROLE computed_user;
\c regression - :host :worker_2_port
DROP OWNED BY computed_user;
DROP ROLE computed_user;
\c regression - :host :coordinator_port
