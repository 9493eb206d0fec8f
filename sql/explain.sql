--
-- explain: EXPLAIN shows the distributed plan, the number of tasks, one
-- task's node and SQL, and the plan the node makes for it; EXPLAIN ANALYZE
-- adds every task's rows.  Shard ids are masked, they depend on the tests
-- run before.
--
CREATE SCHEMA explain_test;
SET search_path TO explain_test, regress;

CREATE FUNCTION explain_masked(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE query LOOP
		line := regexp_replace(line, '(Task Shard: |shard |_)[0-9]+', '\1xxx', 'g');
		line := regexp_replace(line, 'Task Node Address: .*', 'Task Node Address: (masked)');
		RETURN NEXT line;
	END LOOP;
END
$fn$;

CREATE TABLE items (id int PRIMARY KEY, grp int, name text);
INSERT INTO items SELECT i, i % 4, 'item ' || i FROM generate_series(1, 200) i;
SELECT distdb.create_distributed_table('items', 'id', 4);

-- router query: one task, with the plan its node makes
SELECT explain_masked('EXPLAIN (COSTS OFF) SELECT name FROM items WHERE id = 42');
SELECT explain_masked('EXPLAIN (COSTS OFF, VERBOSE) SELECT name FROM items WHERE id = 42');
-- multi-shard: partial aggregation on the shards, combined on the coordinator
SELECT explain_masked('EXPLAIN (COSTS OFF) SELECT grp, count(*) FROM items GROUP BY grp');
-- EXPLAIN ANALYZE: rows of every task
SELECT explain_masked('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT grp, count(*) FROM items GROUP BY grp');
SELECT explain_masked('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM items WHERE id IN (1, 2, 3) ORDER BY id');
-- a modification is explained, not run twice
BEGIN;
SELECT explain_masked('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) UPDATE items SET name = name || ''!'' WHERE id = 7');
SELECT name FROM items WHERE id = 7;
ROLLBACK;
-- EXPLAIN without ANALYZE of an INSERT evaluates nothing
SELECT explain_masked('EXPLAIN (COSTS OFF) INSERT INTO items VALUES (1000, 1, ''x'')');
SELECT count(*) FROM items WHERE id = 1000;

SET client_min_messages TO WARNING;
DROP TABLE items;
DROP SCHEMA explain_test CASCADE;
