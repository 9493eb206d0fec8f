--
-- insert_select_self: INSERT ... SELECT through the coordinator whose
-- SELECT reads the target table itself (directly, in a subquery, a CTE, a
-- view, a join or a UNION ALL branch), over many more rows than one batch.
-- As in PostgreSQL, the SELECT must not see the rows the statement
-- inserts, even in a part of it that starts reading after some batches
-- went out; each statement is compared with the same one on a local twin.
--
CREATE SCHEMA insert_select_self;
SET search_path TO insert_select_self, regress;

-- runs a statement on t and on t_local, then compares the tables
CREATE FUNCTION run_both(statement text) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
	distributed bigint;
	local bigint;
BEGIN
	EXECUTE statement;
	GET DIAGNOSTICS distributed = ROW_COUNT;
	EXECUTE replace(replace(statement, 'INTO t ', 'INTO t_local '),
					'FROM t ', 'FROM t_local ');
	GET DIAGNOSTICS local = ROW_COUNT;
	RETURN format('%s rows (local %s), %s rows differ, %s in total',
				  distributed, local, table_diff('t'),
				  (SELECT count(*) FROM t));
END
$fn$;

-- g: the statement that inserted the row
CREATE TABLE t (k int, id int, g int, v int, PRIMARY KEY (k, id, g));
CREATE TABLE t_local (LIKE t INCLUDING ALL);
SELECT distdb.create_distributed_table('t', 'k', 4);
INSERT INTO t SELECT i % 10, i, 0, i FROM generate_series(1, 2000) i;
INSERT INTO t_local SELECT * FROM t;
CREATE TABLE src (a int, b int);
INSERT INTO src SELECT i, i % 7 FROM generate_series(1, 3000) i;

-- batches of about 1 kB: 2000 rows are many batches
SET distdb.copy_batch_size = 1024;

-- the SELECT reads the target directly: with COPY, RETURNING, ON CONFLICT
SELECT run_both('INSERT INTO t SELECT k + 1, id, 1, v FROM t ');
SELECT run_both('INSERT INTO t SELECT k, id, 2, v FROM t RETURNING k');
SELECT run_both('INSERT INTO t SELECT k, id, 3, v FROM t WHERE g < 2 ON CONFLICT DO NOTHING');
SELECT run_both('INSERT INTO t SELECT k, id, g, v FROM t WHERE g IN (0, 3) ON CONFLICT (k, id, g) DO UPDATE SET v = excluded.v + 1');

-- the second branch of a UNION ALL starts reading t after the first one's
-- rows went out: it must not see them
SELECT run_both('INSERT INTO t SELECT b, a, 5, 0 FROM src UNION ALL SELECT k + 100, id, 5, v FROM t WHERE g = 5');
SELECT run_both('INSERT INTO t SELECT b, a, 6, 0 FROM src UNION ALL SELECT k + 100, id, 6, v FROM t WHERE g = 6 RETURNING k');
SELECT run_both('INSERT INTO t SELECT b, a, 7, 0 FROM src UNION ALL SELECT k + 100, id, 7, v FROM t WHERE g = 7 ON CONFLICT DO NOTHING');

-- a subquery first evaluated for late rows, a correlated one
SELECT run_both('INSERT INTO t SELECT b, a, 8, CASE WHEN a > 2500 THEN (SELECT count(*) FROM t x WHERE x.g = 8) ELSE -1 END FROM src ');
SELECT run_both('INSERT INTO t SELECT s.b, s.a, 9, (SELECT count(*) FROM t x WHERE x.k = s.b AND x.g = 9) FROM src s');

-- a CTE inside the SELECT, a join with a local table
SELECT run_both('INSERT INTO t SELECT * FROM (WITH c AS (SELECT k, id, 10, v FROM t WHERE g = 0) SELECT * FROM c) x');
SELECT run_both('INSERT INTO t SELECT s.b, x.id + s.a, 11, 0 FROM t x JOIN src s ON x.id = s.a WHERE x.g IN (0, 11)');

-- through a view
CREATE VIEW tv AS SELECT * FROM t WHERE g = 12;
CREATE VIEW tv_local AS SELECT * FROM t_local WHERE g = 12;
INSERT INTO t SELECT b, a, 12, 0 FROM src UNION ALL SELECT k + 100, id, 12, v FROM tv;
INSERT INTO t_local SELECT b, a, 12, 0 FROM src UNION ALL SELECT k + 100, id, 12, v FROM tv_local;
SELECT table_diff('t');

-- in a transaction block that wrote on every node before
BEGIN;
UPDATE t SET v = v + 1 WHERE g = 0;
UPDATE t_local SET v = v + 1 WHERE g = 0;
SELECT run_both('INSERT INTO t SELECT b, a, 13, 0 FROM src UNION ALL SELECT k + 100, id, 13, v FROM t WHERE g = 13');
SELECT run_both('INSERT INTO t SELECT k + 200, id, 14, v FROM t WHERE g IN (0, 14)');
COMMIT;
SELECT table_diff('t'), count(*) FROM t;

-- a SELECT that does not read the target streams its rows as before
SELECT run_both('INSERT INTO t SELECT b, a, 15, 0 FROM src ');
SELECT g, count(*) FROM t GROUP BY g ORDER BY g;

RESET distdb.copy_batch_size;
DROP SCHEMA insert_select_self CASCADE;
