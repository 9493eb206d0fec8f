--
-- tablesample: TABLESAMPLE SYSTEM / BERNOULLI on distributed tables.  Each
-- shard samples its own rows.  A sample is random, so the checks use what
-- does not depend on chance: 100 % and 0 % samples, REPEATABLE samples
-- being stable, and samples being subsets of the table.
--
CREATE SCHEMA table_sampling;
SET search_path TO table_sampling, regress;

CREATE TABLE items (id int, grp int, val text);
INSERT INTO items SELECT i, i % 7, 'v' || i FROM generate_series(1, 2000) i;
CREATE TABLE items_local AS SELECT * FROM items;
SELECT distdb.create_distributed_table('items', 'id', 8);
CREATE TABLE groups (grp int, name text);
INSERT INTO groups SELECT g, 'g' || g FROM generate_series(0, 6) g;
CREATE TABLE groups_local AS SELECT * FROM groups;
SELECT distdb.create_distributed_table('groups', 'grp', 4);

-- whole samples return every row, through every planner path
SELECT * FROM check_query('SELECT count(*), sum(id) FROM items TABLESAMPLE SYSTEM (100)');
SELECT * FROM check_query('SELECT count(*), sum(id) FROM items TABLESAMPLE BERNOULLI (100)');
SELECT * FROM check_query('SELECT grp, count(*) FROM items TABLESAMPLE BERNOULLI (100) GROUP BY grp ORDER BY grp');
SELECT * FROM check_query('SELECT * FROM items TABLESAMPLE SYSTEM (100) WHERE id = 17');
SELECT * FROM check_query('SELECT id, val FROM items TABLESAMPLE BERNOULLI (100) WHERE id IN (3, 1999) ORDER BY id');
SELECT * FROM check_query('SELECT g.name, count(*) FROM items i TABLESAMPLE SYSTEM (100) JOIN groups g ON g.grp = i.grp GROUP BY g.name ORDER BY 1');
SELECT * FROM check_query('SELECT id FROM items TABLESAMPLE BERNOULLI (100) REPEATABLE (3) ORDER BY id DESC LIMIT 5');
SELECT * FROM check_query('SELECT count(*) FROM items TABLESAMPLE BERNOULLI (0)');
SELECT * FROM check_query('SELECT count(*) FROM items TABLESAMPLE SYSTEM (0) WHERE grp = 2');

-- a partial sample: a subset of the rows, stable with REPEATABLE
SELECT count(*) > 0 AND count(*) < 2000 AS partial,
       count(*) FILTER (WHERE val <> 'v' || id) AS wrong_rows
FROM items TABLESAMPLE BERNOULLI (50) REPEATABLE (42);
SELECT (SELECT array_agg(id ORDER BY id) FROM items TABLESAMPLE BERNOULLI (30) REPEATABLE (7)) =
       (SELECT array_agg(id ORDER BY id) FROM items TABLESAMPLE BERNOULLI (30) REPEATABLE (7)) AS stable;
SELECT count(*) AS not_in_table
FROM (SELECT id FROM items TABLESAMPLE SYSTEM (40) REPEATABLE (1)) s
WHERE NOT EXISTS (SELECT 1 FROM items_local l WHERE l.id = s.id);
-- the sample is taken on the shards
SELECT * FROM shard_query('SELECT count(*) FROM items TABLESAMPLE BERNOULLI (10) REPEATABLE (5) WHERE grp = 1');
SELECT * FROM shard_query('SELECT * FROM items TABLESAMPLE SYSTEM (10) WHERE id = 5');

-- bad input: PostgreSQL's own errors (and SQLSTATEs), from the shards
\set VERBOSITY terse
SELECT count(*) FROM items TABLESAMPLE BERNOULLI (200);
SELECT count(*) FROM items TABLESAMPLE SYSTEM (-1);
SELECT count(*) FROM items TABLESAMPLE BERNOULLI (NULL);
\set VERBOSITY sqlstate
SELECT count(*) FROM items TABLESAMPLE BERNOULLI (200);
SELECT count(*) FROM items TABLESAMPLE BERNOULLI (NULL);
\set VERBOSITY default
-- extension methods need not exist on the workers: refused
CREATE EXTENSION tsm_system_rows;
SELECT count(*) FROM items TABLESAMPLE system_rows (10);
\set VERBOSITY sqlstate
SELECT count(*) FROM items TABLESAMPLE system_rows (10);
\set VERBOSITY default
SELECT count(*) FROM items_local TABLESAMPLE system_rows (10);
DROP EXTENSION tsm_system_rows;

RESET search_path;
DROP SCHEMA table_sampling CASCADE;
