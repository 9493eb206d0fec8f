--
-- subqueries_ctes: subqueries in FROM and WHERE, CTEs, set operations and
-- joins that are not on distribution columns, mixing distributed and local
-- tables, each checked against local copies.
--
CREATE SCHEMA subqueries_ctes;
SET search_path TO subqueries_ctes, regress;

CREATE TABLE t (id int, grp int, v int, s text);
INSERT INTO t SELECT i, i % 7, (i * 37) % 101, 's' || (i % 13) FROM generate_series(1, 300) i;
INSERT INTO t VALUES (301, NULL, NULL, NULL);
CREATE TABLE t_local AS SELECT * FROM t;
SELECT distdb.create_distributed_table('t', 'id', 8);
CREATE TABLE u (id int, name text, grp int);
INSERT INTO u SELECT i, 'u' || i, i % 4 FROM generate_series(1, 200) i;
CREATE TABLE u_local AS SELECT * FROM u;
SELECT distdb.create_distributed_table('u', 'id', 8);
-- a plain table, the same in both runs
CREATE TABLE loc (grp int, label text);
INSERT INTO loc SELECT g, 'g' || g FROM generate_series(0, 6) g;

-- subqueries
SELECT check_query('SELECT count(*) FROM t WHERE id IN (SELECT id FROM u WHERE grp = 1)');
SELECT check_query('SELECT count(*) FROM t WHERE v IN (SELECT id FROM u WHERE grp = 1)');
SELECT check_query('SELECT count(*) FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.v)');
SELECT check_query('SELECT count(*) FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.id = t.v)');
SELECT check_query('SELECT id, (SELECT name FROM u WHERE u.id = t.v) FROM t WHERE id < 20 ORDER BY id');
SELECT check_query('SELECT id FROM t WHERE v > (SELECT avg(id) FROM u) AND id < 40 ORDER BY id');
SELECT check_query('SELECT g, c FROM (SELECT grp AS g, count(*) AS c FROM t GROUP BY grp) s WHERE c > 10 ORDER BY g NULLS FIRST');
SELECT check_query('SELECT s.id, s.m FROM (SELECT id, max(v) m FROM t GROUP BY id) s JOIN u ON u.id = s.id ORDER BY 1 LIMIT 10');
SELECT check_query('SELECT id FROM t WHERE v NOT IN (SELECT grp FROM u) AND id < 30 ORDER BY id');
SELECT check_query('SELECT id, v FROM t WHERE v = ANY (SELECT grp * 10 FROM u) ORDER BY id LIMIT 10');
SELECT check_query('SELECT u.id, x.s FROM u, LATERAL (SELECT sum(v) s FROM t WHERE t.grp = u.grp) x WHERE u.id < 10 ORDER BY 1');
SELECT check_query('SELECT grp, (SELECT count(*) FROM u WHERE u.grp = t.grp) FROM t GROUP BY grp ORDER BY 1 NULLS FIRST');
SELECT check_query('SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id AND u.grp = 2) ORDER BY id LIMIT 10');
SELECT check_query('SELECT count(*) FROM t WHERE grp IN (SELECT grp FROM loc WHERE label > ''g3'')');
SELECT check_query('SELECT x.grp, x.c, y.c FROM (SELECT grp, count(*) c FROM t GROUP BY grp) x FULL JOIN (SELECT grp, count(*) c FROM u GROUP BY grp) y USING (grp) ORDER BY 1 NULLS FIRST');
SELECT check_query('SELECT (SELECT max(v) FROM t) - (SELECT min(id) FROM u)');

-- CTEs
SELECT check_query('WITH a AS (SELECT * FROM t WHERE id < 20), b AS (SELECT a.id, u.name FROM a JOIN u ON u.id = a.id) SELECT * FROM b ORDER BY id');
SELECT check_query('WITH a AS (SELECT grp, count(*) c FROM u GROUP BY grp) SELECT t.id, a.c FROM t JOIN a ON a.grp = t.grp WHERE t.id < 12 ORDER BY 1');
SELECT check_query('WITH a AS (SELECT grp, sum(v) s FROM t GROUP BY grp) SELECT * FROM a WHERE s > 100 ORDER BY grp NULLS FIRST');
SELECT check_query('WITH a AS MATERIALIZED (SELECT id, v FROM t WHERE id < 30) SELECT a.id, u.name FROM a JOIN u ON u.id = a.v ORDER BY 1');
SELECT check_query('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT n, (SELECT count(*) FROM t WHERE grp = n % 7) FROM r ORDER BY n');
SELECT check_query('WITH RECURSIVE r(id, depth) AS (SELECT id, 0 FROM u WHERE id = 1 UNION ALL SELECT u.id, depth + 1 FROM r JOIN u ON u.id = r.id * 2 WHERE depth < 6) SELECT * FROM r ORDER BY id');
SELECT check_query('WITH a AS (SELECT id FROM t WHERE v < 5), b AS (SELECT id FROM u WHERE grp = 2) SELECT count(*) FROM a JOIN b USING (id)');
-- set operations
SELECT check_query('SELECT id FROM t WHERE id < 10 UNION SELECT id FROM u WHERE id < 15 ORDER BY 1');
SELECT check_query('SELECT grp FROM t UNION ALL SELECT grp FROM u ORDER BY 1 NULLS FIRST LIMIT 20');
SELECT check_query('SELECT v FROM t INTERSECT SELECT id FROM u ORDER BY 1');
SELECT check_query('SELECT v FROM t EXCEPT SELECT id FROM u ORDER BY 1');
SELECT check_query('SELECT grp FROM t INTERSECT ALL SELECT grp FROM loc ORDER BY 1');
SELECT check_query('SELECT grp FROM loc EXCEPT SELECT grp FROM t ORDER BY 1');
SELECT check_query('SELECT grp, label FROM loc UNION ALL SELECT grp, name FROM u WHERE id < 5 ORDER BY 1, 2');
-- non-co-located joins
SELECT check_query('SELECT t.id, u.id FROM t JOIN u ON u.grp = t.grp WHERE t.id < 5 AND u.id < 10 ORDER BY 1, 2');
SELECT check_query('SELECT t.grp, l.label, count(*) FROM t JOIN loc l ON l.grp = t.grp GROUP BY 1, 2 ORDER BY 1');
SELECT check_query('SELECT l.grp, count(t.id) FROM loc l LEFT JOIN t ON t.grp = l.grp AND t.v < 10 GROUP BY 1 ORDER BY 1');
SELECT check_query('SELECT count(*) FROM t JOIN u ON u.id = t.v');
SELECT check_query('SELECT t.id, u.id FROM t FULL JOIN u ON u.id = t.v WHERE coalesce(t.id, u.id) < 20 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST');
SELECT check_query('SELECT a.id, b.id FROM t a JOIN t b ON a.v = b.id WHERE a.id < 10 ORDER BY 1');

-- whole-row references: ROW(...) of the pulled columns, NULL for the
-- null-extended rows of outer joins
CREATE TABLE w (id int, a text, dropme int, v int);
ALTER TABLE w DROP COLUMN dropme;
INSERT INTO w SELECT i, 'a' || i, i % 5 FROM generate_series(1, 40) i;
INSERT INTO w VALUES (41, NULL, NULL);
CREATE TABLE w_local (LIKE w);
INSERT INTO w_local SELECT * FROM w;
SELECT distdb.create_distributed_table('w', 'id', 4);
SELECT check_query('SELECT w FROM w WHERE id < 5 ORDER BY id');
SELECT check_query('SELECT row_to_json(w) FROM w WHERE id > 38 ORDER BY id');
SELECT check_query('SELECT count(w), count(*) FROM w');
SELECT check_query('SELECT w.*, u FROM w JOIN u ON u.id = w.id * 3 WHERE w.v = 1 ORDER BY w.id');
SELECT check_query('SELECT w FROM w WHERE w = ROW(3, ''a3'', 3)::w');
SELECT check_query('SELECT u.id, w, w IS NULL FROM u LEFT JOIN w ON w.id = u.id + 30 WHERE u.id < 15 ORDER BY u.id');
SELECT check_query('SELECT id FROM w WHERE EXISTS (SELECT 1 FROM u WHERE u.id = (w).id * 5) ORDER BY id');
SELECT check_query('SELECT w FROM w WHERE id = 7');

-- the coordinator's plan is never JIT-compiled: its costs for rows from
-- the shards are guesses, and compiling costs far more than it saves
CREATE FUNCTION uses_jit(query text) RETURNS bool
LANGUAGE plpgsql AS $fn$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE) ' || query LOOP
		IF line ~ '^JIT:' THEN
			RETURN true;
		END IF;
	END LOOP;
	RETURN false;
END
$fn$;
SET jit_above_cost = 0;
SELECT uses_jit('SELECT count(*) FROM t JOIN u ON u.grp = t.grp WHERE t.v > 10');
SELECT uses_jit('SELECT count(*) FROM t_local t JOIN u_local u ON u.grp = t.grp WHERE t.v > 10') = pg_jit_available() AS local_plan_as_configured;
RESET jit_above_cost;

DROP TABLE t, u, w;
SET client_min_messages TO WARNING;
DROP SCHEMA subqueries_ctes CASCADE;
