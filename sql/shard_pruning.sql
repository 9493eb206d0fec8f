--
-- shard_pruning: which shards a statement's filters send it to (task
-- counts), and that the pruned answers match a local copy.
--
CREATE SCHEMA shard_pruning;
SET search_path TO shard_pruning, regress;

CREATE TABLE t (id bigint, v int);
INSERT INTO t SELECT i, i % 7 FROM generate_series(1, 400) i;
CREATE TABLE t_local AS SELECT * FROM t;
SELECT distdb.create_distributed_table('t', 'id', 16);

-- one value: a router query
SELECT plan_kind('SELECT * FROM t WHERE id = 5');
-- ORs of equalities, IN lists and = ANY: the union of their shards
SELECT plan_kind('SELECT * FROM t WHERE id = 5 OR id = 6');
SELECT check_query('SELECT * FROM t WHERE id = 5 OR id = 6 ORDER BY id');
SELECT plan_kind('SELECT * FROM t WHERE (id = 5 AND v > 0) OR id = 300');
SELECT check_query('SELECT * FROM t WHERE (id = 5 AND v > 0) OR id = 300 ORDER BY id');
SELECT plan_kind('SELECT * FROM t WHERE id IN (1, 2, 3) OR id = 4');
SELECT check_query('SELECT * FROM t WHERE id IN (1, 2, 3) OR id = 4 ORDER BY id');
SELECT plan_kind('SELECT * FROM t WHERE id = ANY (ARRAY[7, 8, 9])');
SELECT check_query('SELECT count(*) FROM t WHERE id = ANY (ARRAY[7, 8, 9])');
-- an OR with a branch on another column: every shard
SELECT plan_kind('SELECT * FROM t WHERE id = 5 OR v = 2');
SELECT check_query('SELECT count(*) FROM t WHERE id = 5 OR v = 2');
-- AND of ORs: the intersection
SELECT plan_kind('SELECT * FROM t WHERE (id = 1 OR id = 2) AND (id = 2 OR id = 3)');
SELECT check_query('SELECT * FROM t WHERE (id = 1 OR id = 2) AND (id = 2 OR id = 3)');
-- contradictions and NULL: no shard, but aggregates still answer
SELECT plan_kind('SELECT count(*) FROM t WHERE id = 1 AND id = 2');
SELECT check_query('SELECT count(*) FROM t WHERE id = 1 AND id = 2');
SELECT check_query('SELECT count(*) FROM t WHERE id = NULL OR id IS NULL');
-- cross-type values
SELECT check_query('SELECT * FROM t WHERE id = 7::int OR id = 8::smallint ORDER BY id');
-- a parameter of a generic plan picks its shard when the plan runs
SET plan_cache_mode = force_generic_plan;
PREPARE p(bigint, bigint) AS SELECT count(*) FROM t WHERE id = $1 OR id = $2;
EXECUTE p(5, 6);
EXECUTE p(5, NULL);
PREPARE q(bigint) AS SELECT v FROM t WHERE id = $1;
EXECUTE q(42);
EXECUTE q(NULL);
RESET plan_cache_mode;

SET client_min_messages TO WARNING;
DROP TABLE t;
DROP SCHEMA shard_pruning CASCADE;
