--
-- window_functions: window functions over distributed tables, checked
-- against local copies.
--
CREATE SCHEMA window_functions;
SET search_path TO window_functions, regress;


CREATE TABLE t (id int, grp int, v int, s text);
INSERT INTO t SELECT i, i % 7, (i * 37) % 101, 's' || (i % 13) FROM generate_series(1, 300) i;
CREATE TABLE t_local AS SELECT * FROM t;
SELECT distdb.create_distributed_table('t', 'id', 8);
CREATE TABLE u (id int, name text, grp int);
INSERT INTO u SELECT i, 'u' || i, i % 4 FROM generate_series(1, 200) i;
CREATE TABLE u_local AS SELECT * FROM u;
SELECT distdb.create_distributed_table('u', 'id', 8);

-- partitioned by other columns, or not at all: computed on the coordinator
SELECT check_query('SELECT id, v, row_number() OVER (PARTITION BY grp ORDER BY v, id), sum(v) OVER (PARTITION BY grp ORDER BY id) FROM t WHERE id < 50 ORDER BY id');
SELECT check_query('SELECT id, v, lag(v) OVER w, lead(v, 2) OVER w, first_value(v) OVER w FROM t WINDOW w AS (ORDER BY id) ORDER BY id LIMIT 20');
SELECT check_query('SELECT id, ntile(3) OVER (ORDER BY v, id), percent_rank() OVER (PARTITION BY grp ORDER BY v, id) FROM t ORDER BY id LIMIT 30');
SELECT check_query('SELECT grp, sum(v), rank() OVER (ORDER BY sum(v) DESC) FROM t GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT id, sum(v) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING) FROM t WHERE id BETWEEN 100 AND 120 ORDER BY id');
SELECT check_query('SELECT * FROM (SELECT id, grp, rank() OVER (PARTITION BY grp ORDER BY v DESC, id) r FROM t) s WHERE r <= 2 ORDER BY grp, r');

-- partitioned by the distribution column: computed on the shards
SELECT shard_query('SELECT id, rank() OVER (PARTITION BY id ORDER BY v), count(*) OVER (PARTITION BY id) FROM t WHERE id < 50');
SELECT shard_query('SELECT id, sum(v), rank() OVER (PARTITION BY id ORDER BY sum(v)) FROM t GROUP BY id ORDER BY id LIMIT 10');
SELECT shard_query('SELECT id, sum(v) OVER w, count(*) FILTER (WHERE v > 10) OVER w FROM t WINDOW w AS (PARTITION BY id ORDER BY v DESC NULLS FIRST ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE TIES)');
SELECT check_query('SELECT id, rank() OVER (PARTITION BY id ORDER BY v), count(*) OVER (PARTITION BY id) FROM t WHERE id < 50 ORDER BY id');
SELECT check_query('SELECT id, grp, sum(v) OVER (PARTITION BY id, grp), max(s) OVER (PARTITION BY grp, id ORDER BY v) FROM t ORDER BY id LIMIT 20');
SELECT check_query('SELECT id, sum(v), rank() OVER (PARTITION BY id ORDER BY sum(v)) FROM t GROUP BY id ORDER BY id LIMIT 10');
SELECT check_query('SELECT id, row_number() OVER (PARTITION BY id), avg(v) OVER (PARTITION BY id) FROM t WHERE grp = 3 ORDER BY id');
SELECT check_query('SELECT id, count(*) OVER (PARTITION BY id), count(*) OVER () FROM t WHERE id < 10 ORDER BY id');
SELECT check_query('SELECT id, sum(v) OVER w, count(*) FILTER (WHERE v > 10) OVER w FROM t WINDOW w AS (PARTITION BY id ORDER BY v DESC NULLS FIRST ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE TIES) ORDER BY 1 LIMIT 8');
SELECT check_query('SELECT id, v, sum(v) OVER (PARTITION BY id, grp ORDER BY v RANGE BETWEEN 5 PRECEDING AND UNBOUNDED FOLLOWING), last_value(s) OVER (PARTITION BY id ORDER BY v GROUPS BETWEEN CURRENT ROW AND 1 FOLLOWING EXCLUDE CURRENT ROW) FROM t ORDER BY 1 LIMIT 15');
SELECT check_query('SELECT id, rank() OVER (PARTITION BY id ORDER BY v) + 1, lag(s, 1, ''none'') OVER (PARTITION BY id) FROM t ORDER BY 2 DESC, 1 LIMIT 5');
SELECT check_query('SELECT DISTINCT count(*) OVER (PARTITION BY id) FROM t');
SELECT check_query('SELECT * FROM (SELECT id, v, row_number() OVER (PARTITION BY id ORDER BY v) AS r FROM t) s WHERE r = 1 AND id < 15 ORDER BY id');

-- over joins: on the shards when partitioned by a distribution column of
-- a co-located join (not on the nullable side of an outer join)
SELECT shard_query('SELECT t.id, u.name, row_number() OVER (PARTITION BY t.id ORDER BY t.v) FROM t JOIN u ON u.id = t.id');
SELECT shard_query('SELECT t.id, sum(t.v) OVER (PARTITION BY u.id) FROM t LEFT JOIN u ON u.id = t.id');
SELECT check_query('SELECT t.id, sum(t.v) OVER (PARTITION BY u.id) FROM t LEFT JOIN u ON u.id = t.id ORDER BY 1 LIMIT 5 OFFSET 195');
SELECT check_query('SELECT t.id, u.id, count(*) OVER (PARTITION BY u.id, t.grp ORDER BY t.v) FROM t FULL JOIN u ON u.id = t.id WHERE coalesce(t.id, u.id) % 20 = 0 ORDER BY 1, 2');
SELECT check_query('SELECT u.id, first_value(u.name) OVER (PARTITION BY u.id ORDER BY t.v DESC), t.v FROM u JOIN t ON t.id = u.id WHERE u.grp = 1 ORDER BY 1 LIMIT 10');
SELECT check_query('SELECT t.id, u.name, row_number() OVER (PARTITION BY t.id ORDER BY t.v) FROM t JOIN u ON u.id = t.id ORDER BY 1 LIMIT 10');
SELECT check_query('SELECT t.id, u.grp, sum(t.v) OVER (PARTITION BY u.grp ORDER BY t.id) FROM t JOIN u ON u.id = t.id WHERE t.id < 40 ORDER BY 1');
SELECT check_query('SELECT t.id, u.id, dense_rank() OVER (PARTITION BY u.grp ORDER BY t.v) FROM t JOIN u ON u.id = t.v WHERE t.id < 30 ORDER BY 1, 2');

DROP TABLE t, u;
SET client_min_messages TO WARNING;
DROP SCHEMA window_functions CASCADE;
