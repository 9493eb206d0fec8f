--
-- insert_select_coordinator: INSERT ... SELECT through the coordinator
-- (sources that are not co-located with the target) with ON CONFLICT and
-- RETURNING, each compared with the same statement on local twins.
--
CREATE SCHEMA insert_select_coordinator;
SET search_path TO insert_select_coordinator, regress;

-- how many rows a statement returns and a digest of them, sorted
CREATE FUNCTION returned_digest(query text) RETURNS text
LANGUAGE sql AS $fn$
	SELECT count(*) || ' ' ||
		md5(coalesce(string_agg(x, ',' ORDER BY x COLLATE "C"), ''))
	FROM regress.sorted_rows(query) x
$fn$;

CREATE TABLE kv (k int, id int, v text, n int DEFAULT 0, PRIMARY KEY (k, id));
CREATE TABLE kv_local (LIKE kv INCLUDING ALL);
SELECT distdb.create_distributed_table('kv', 'k', 8);
INSERT INTO kv SELECT i % 20, i, 'v' || i, i FROM generate_series(1, 100) i;
INSERT INTO kv_local SELECT * FROM kv;

-- sources: a local table, a distributed table not co-located with kv
CREATE TABLE src (a int, b int, t text);
INSERT INTO src SELECT i % 50, i, 'src' || i FROM generate_series(1, 500) i;
INSERT INTO src VALUES (7, NULL, 'null b'), (8, 1000, NULL);
CREATE TABLE other (k int, id int, v text);
CREATE TABLE other_local (LIKE other);
SELECT distdb.create_distributed_table('other', 'id', 4, colocate_with => 'none');
INSERT INTO other SELECT i % 30, i, 'other' || i FROM generate_series(1, 300) i;
INSERT INTO other_local SELECT * FROM other;

-- the plan: through the coordinator
SELECT plan_kind($$INSERT INTO kv (k, id, v) SELECT a, b, t FROM src ON CONFLICT DO NOTHING$$);

-- DO NOTHING without and with a conflict target; RETURNING what was inserted
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT a % 20, b, t FROM src WHERE b <= 150 ON CONFLICT DO NOTHING RETURNING *$$, true);
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT k, id, v FROM other WHERE id % 3 = 0 ON CONFLICT (k, id) DO NOTHING RETURNING k, id, upper(v), n + 1 AS n1$$, true);
SELECT table_diff('kv');
-- duplicates within the source: the first in the SELECT's order wins
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT a % 5, 2000 + b % 7, t FROM src WHERE b IS NOT NULL ORDER BY b ON CONFLICT (id, k) DO NOTHING RETURNING *$$, true);
SELECT table_diff('kv');

-- DO UPDATE with EXCLUDED, the target's alias, WHERE and RETURNING
SELECT check_query($$INSERT INTO kv AS t (k, id, v) SELECT a % 20, b, t FROM src WHERE b <= 200
	ON CONFLICT (k, id) DO UPDATE SET v = t.v || '+' || excluded.v, n = t.n + 100
	WHERE t.n % 2 = 0 RETURNING k, id, v, n$$, true);
SELECT table_diff('kv');
-- from a join and an aggregate
SELECT check_query($$INSERT INTO kv (k, id, v, n) SELECT o.k, s.b, o.v || s.t, o.id FROM other o JOIN src s ON s.b = o.id WHERE o.id <= 60
	ON CONFLICT (k, id) DO UPDATE SET n = excluded.n + kv.n RETURNING *$$, true);
SELECT check_query($$INSERT INTO kv (k, id, v, n) SELECT k, 3000 + k, string_agg(v, ',' ORDER BY id), count(*) FROM other GROUP BY k
	ON CONFLICT (k, id) DO UPDATE SET v = excluded.v, n = kv.n + excluded.n RETURNING k, id, n$$, true);
SELECT check_query($$INSERT INTO kv (k, id, v, n) SELECT k, 3000 + k, 'again', count(*) FROM other GROUP BY k
	ON CONFLICT (k, id) DO UPDATE SET v = excluded.v, n = kv.n + excluded.n RETURNING k, id, v, n$$, true);
-- from VALUES and generate_series
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT * FROM (VALUES (1, 1, 'one'), (2, 4000, 'new'), (3, 3, NULL)) AS x (k, id, v)
	ON CONFLICT (k, id) DO UPDATE SET v = excluded.v RETURNING *$$, true);
SELECT check_query($$INSERT INTO kv (k, id) SELECT i, i FROM generate_series(1, 40) i
	ON CONFLICT (k, id) DO UPDATE SET n = kv.n * 2 RETURNING k, id, n$$, true);
SELECT table_diff('kv');
-- ON CONSTRAINT (the local twin's constraint has another name)
INSERT INTO kv SELECT k, id, 'constraint', 1 FROM other WHERE id <= 40
	ON CONFLICT ON CONSTRAINT kv_pkey DO UPDATE SET n = kv.n + 1, v = DEFAULT;
INSERT INTO kv_local SELECT k, id, 'constraint', 1 FROM other_local WHERE id <= 40
	ON CONFLICT ON CONSTRAINT kv_local_pkey DO UPDATE SET n = kv_local.n + 1, v = DEFAULT;
SELECT table_diff('kv');
-- coordinator values and parameters in DO UPDATE
PREPARE upsert(int) AS INSERT INTO kv (k, id, v) SELECT a, b, t FROM src WHERE a = $1
	ON CONFLICT (k, id) DO UPDATE SET n = kv.n + $1, v = excluded.v || (now() = now())::text RETURNING *;
PREPARE upsert_local(int) AS INSERT INTO kv_local (k, id, v) SELECT a, b, t FROM src WHERE a = $1
	ON CONFLICT (k, id) DO UPDATE SET n = kv_local.n + $1, v = excluded.v || (now() = now())::text RETURNING *;
SELECT check_query('EXECUTE upsert(3)', true);
SELECT check_query('EXECUTE upsert(3)', true);
SELECT table_diff('kv');

-- a row affected twice fails as in PostgreSQL (21000) ...
SELECT sqlstate_of($$INSERT INTO kv (k, id, v) SELECT 1, 1, t FROM src WHERE b <= 2 ON CONFLICT (k, id) DO UPDATE SET v = excluded.v$$);
SELECT sqlstate_of($$INSERT INTO kv_local (k, id, v) SELECT 1, 1, t FROM src WHERE b <= 2 ON CONFLICT (k, id) DO UPDATE SET v = excluded.v$$);
SELECT sqlstate_of($$INSERT INTO kv (k, id, v) SELECT 1, 5000, t FROM src WHERE b <= 2 ON CONFLICT (k, id) DO UPDATE SET v = excluded.v$$);
-- ... but not when the first conflicting row does not update (its WHERE)
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT 5, 5, t FROM src WHERE b <= 2 ORDER BY b
	ON CONFLICT (k, id) DO UPDATE SET v = excluded.v WHERE excluded.v = 'src2' RETURNING *$$);
SELECT sqlstate_of($$INSERT INTO kv (k, id, v) SELECT 5, 5, t FROM src WHERE b <= 2 ORDER BY b
	ON CONFLICT (k, id) DO UPDATE SET v = excluded.v WHERE excluded.v = 'src1'$$);
SELECT table_diff('kv');

-- NULLs: a NULL key column never conflicts, unless NULLS NOT DISTINCT
CREATE TABLE nk (k int NOT NULL, u int, v text, UNIQUE (k, u));
CREATE TABLE nk_local (LIKE nk INCLUDING ALL);
SELECT distdb.create_distributed_table('nk', 'k', 4);
SELECT check_query($$INSERT INTO nk SELECT a % 3, NULL, t FROM src WHERE b <= 6 ON CONFLICT (k, u) DO UPDATE SET v = excluded.v RETURNING *$$, true);
CREATE TABLE nnd (k int NOT NULL, u int, v text, UNIQUE NULLS NOT DISTINCT (k, u));
CREATE TABLE nnd_local (LIKE nnd INCLUDING ALL);
SELECT distdb.create_distributed_table('nnd', 'k', 4);
SELECT check_query($$INSERT INTO nnd SELECT a % 3, NULL, t FROM src WHERE b <= 2 ON CONFLICT (k, u) DO UPDATE SET v = excluded.v RETURNING *$$, true);
SELECT sqlstate_of($$INSERT INTO nnd SELECT 1, NULL, t FROM src WHERE b <= 4 ON CONFLICT (k, u) DO UPDATE SET v = excluded.v$$);
SELECT table_diff('nk'), table_diff('nnd');

-- RETURNING without ON CONFLICT: defaults, expressions, whole rows
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT a + 100, b, t FROM src WHERE b <= 120 RETURNING *, kv, length(v) + n AS x$$, true);
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT id + 200, k, v FROM other WHERE id <= 30 RETURNING id, k$$, true);
SELECT table_diff('kv');

-- several batches per shard (the smallest batch size): duplicates far
-- apart still fail, DO NOTHING keeps the first, every shard gets rows
SET distdb.copy_batch_size = 1024;
SELECT check_query($$SELECT returned_digest('INSERT INTO kv (k, id, v) SELECT i % 97, i, md5(i::text) FROM generate_series(1, 6000) i ON CONFLICT (k, id) DO UPDATE SET v = excluded.v, n = kv.n + 1 RETURNING *')$$);
SELECT check_query($$SELECT returned_digest('INSERT INTO kv (k, id, v) SELECT i % 97, i + 3000, i::text FROM generate_series(1, 6000) i ON CONFLICT (k, id) DO UPDATE SET v = kv.v || excluded.v RETURNING k, id, v, n')$$);
SELECT check_query($$SELECT returned_digest('INSERT INTO kv (k, id, v) SELECT i % 11, i % 1500, i::text FROM generate_series(1, 6000) i ORDER BY i ON CONFLICT DO NOTHING RETURNING *')$$);
SELECT sqlstate_of($$INSERT INTO kv (k, id, v) SELECT CASE WHEN i IN (1, 6000) THEN 7 ELSE i % 97 END, CASE WHEN i IN (1, 6000) THEN 7007 ELSE i + 9000 END, i::text FROM generate_series(1, 6000) i ON CONFLICT (k, id) DO UPDATE SET v = excluded.v$$);
SELECT count(DISTINCT distdb.distdb_shard_index_for_value('kv', k::text)) AS shards FROM kv;
SELECT table_diff('kv');
-- a failure in a late batch leaves nothing of the statement
INSERT INTO kv (k, id, v) SELECT i % 97, i + 20000, (10 / (6000 - i))::text FROM generate_series(1, 6000) i
	ON CONFLICT (k, id) DO UPDATE SET v = excluded.v;
\set VERBOSITY sqlstate
INSERT INTO kv (k, id, v) SELECT i % 97, CASE WHEN i = 5999 THEN NULL ELSE i + 20000 END, 'x' FROM generate_series(1, 6000) i
	RETURNING k;
\set VERBOSITY default
INSERT INTO kv (k, id, v) SELECT CASE WHEN i = 5999 THEN NULL ELSE i % 97 END, i + 20000, 'x' FROM generate_series(1, 6000) i
	ON CONFLICT DO NOTHING;
SELECT count(*) FROM kv WHERE id > 20000;
SELECT table_diff('kv');
RESET distdb.copy_batch_size;

-- inside a transaction block, rolled back and committed
BEGIN;
INSERT INTO kv (k, id, v) SELECT a, b + 50000, t FROM src WHERE b <= 100 ON CONFLICT (k, id) DO NOTHING;
SELECT count(*) FROM kv WHERE id > 50000;
INSERT INTO kv (k, id, v) SELECT a, b + 50000, 'upd' FROM src WHERE b <= 50
	ON CONFLICT (k, id) DO UPDATE SET v = excluded.v;
SELECT count(*) FROM kv WHERE v = 'upd';
ROLLBACK;
SELECT count(*) FROM kv WHERE id > 50000;
BEGIN;
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT a, b + 60000, t FROM src WHERE b <= 80 ON CONFLICT (k, id) DO UPDATE SET v = 'u' RETURNING k, id$$, true);
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT k, id, 'second' FROM kv WHERE id > 60000 ON CONFLICT (k, id) DO UPDATE SET v = excluded.v RETURNING *$$, true);
COMMIT;
SELECT table_diff('kv');

-- reference tables as targets
CREATE TABLE ref (k int PRIMARY KEY, v text, n int DEFAULT 0);
CREATE TABLE ref_local (LIKE ref INCLUDING ALL);
SELECT distdb.create_reference_table('ref');
SELECT check_query($$INSERT INTO ref (k, v) SELECT b, t FROM src WHERE b <= 30 ON CONFLICT DO NOTHING RETURNING *$$, true);
SELECT check_query($$INSERT INTO ref (k, v) SELECT id, v FROM other WHERE id <= 60 ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = ref.n + 1 RETURNING *$$, true);
SELECT sqlstate_of($$INSERT INTO ref (k, v) SELECT 1, t FROM src WHERE b <= 2 ON CONFLICT (k) DO UPDATE SET v = excluded.v$$);
SET distdb.copy_batch_size = 1024;
SELECT check_query($$SELECT returned_digest('INSERT INTO ref (k, v) SELECT i % 1000, i::text FROM generate_series(1, 999) i ON CONFLICT (k) DO UPDATE SET n = ref.n + 1 RETURNING *')$$);
RESET distdb.copy_batch_size;
SELECT table_diff('ref');

-- refused and bad input
INSERT INTO kv (k, id, v) SELECT a, b, t FROM src ON CONFLICT (id) DO NOTHING;
INSERT INTO kv (k, id, v) SELECT a, b, t FROM src ON CONFLICT (k, id) DO UPDATE SET k = excluded.k + 1;
INSERT INTO kv (k, id, v) SELECT NULL, 1, 'x' ON CONFLICT DO NOTHING;
INSERT INTO kv (k, id, v) SELECT a, b, t FROM src WHERE b <= 3 ON CONFLICT (k, id) DO UPDATE SET v = (SELECT 'x');
\set VERBOSITY terse
INSERT INTO kv (k, id, v) SELECT a, b, t FROM src ON CONFLICT (k, v) DO UPDATE SET n = 1;
\set VERBOSITY default
-- an expression in the conflict target: DO NOTHING works, DO UPDATE is refused
CREATE TABLE lv (k int, v text);
CREATE UNIQUE INDEX lv_k_lower_v ON lv (k, lower(v));
CREATE TABLE lv_local (LIKE lv INCLUDING ALL);
SELECT distdb.create_distributed_table('lv', 'k', 4);
SELECT check_query($$INSERT INTO lv SELECT a % 3, upper(t) FROM src WHERE b <= 3 UNION ALL SELECT a % 3, t FROM src WHERE b <= 4
	ON CONFLICT (k, lower(v)) DO NOTHING RETURNING *$$, true);
INSERT INTO lv SELECT a, t FROM src WHERE b <= 3 ON CONFLICT (k, lower(v)) DO UPDATE SET v = excluded.v;
SELECT table_diff('lv');

DROP SCHEMA insert_select_coordinator CASCADE;
