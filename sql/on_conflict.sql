--
-- on_conflict: INSERT ... ON CONFLICT DO NOTHING / DO UPDATE into
-- distributed tables, routed per row and pushed down from co-located
-- tables, compared with local copies; the distribution column cannot move.
--
CREATE SCHEMA on_conflict;
SET search_path TO on_conflict, regress;

CREATE TABLE kv (k int, id int, v text, n int DEFAULT 0, PRIMARY KEY (k, id));
CREATE UNIQUE INDEX kv_k_lower_v ON kv (k, lower(v)) WHERE n >= 0;
CREATE TABLE kv_local (LIKE kv INCLUDING ALL);
SELECT distdb.create_distributed_table('kv', 'k', 4);
INSERT INTO kv SELECT i % 20, i, 'v' || i, i FROM generate_series(1, 100) i;
INSERT INTO kv_local SELECT * FROM kv;

-- DO NOTHING, with and without a conflict target, single and multi-row
SELECT check_query($$INSERT INTO kv VALUES (1, 1, 'dup'), (1, 1001, 'new'), (2, 2, 'dup') ON CONFLICT DO NOTHING RETURNING *$$, true);
SELECT check_query($$INSERT INTO kv VALUES (3, 3, 'dup') ON CONFLICT (k, id) DO NOTHING RETURNING k, id, v$$);
SELECT check_query($$INSERT INTO kv VALUES (3, 1003, 'x'), (3, 1003, 'y') ON CONFLICT (id, k) DO NOTHING RETURNING v$$);
-- ON CONSTRAINT (the local copy's constraint has another name)
INSERT INTO kv VALUES (4, 4, 'dup'), (4, 1004, 'new') ON CONFLICT ON CONSTRAINT kv_pkey DO NOTHING RETURNING *;
INSERT INTO kv_local VALUES (4, 4, 'dup'), (4, 1004, 'new') ON CONFLICT ON CONSTRAINT kv_local_pkey DO NOTHING RETURNING *;
SELECT check_query($$SELECT count(*), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM kv$$);

-- DO UPDATE with EXCLUDED, the target's own columns, WHERE and RETURNING
SELECT check_query($$INSERT INTO kv AS t VALUES (5, 5, 'five'), (6, 6, 'six'), (7, 2007, 'new')
	ON CONFLICT (k, id) DO UPDATE SET v = t.v || '+' || excluded.v, n = t.n + 100
	RETURNING k, id, v, n$$, true);
SELECT check_query($$INSERT INTO kv VALUES (8, 8, 'eight'), (9, 9, 'nine')
	ON CONFLICT (k, id) DO UPDATE SET v = excluded.v WHERE kv.n > 8 RETURNING *$$, true);
INSERT INTO kv VALUES (10, 10, 'ten') ON CONFLICT ON CONSTRAINT kv_pkey
	DO UPDATE SET n = excluded.n + kv.n, v = DEFAULT RETURNING *;
INSERT INTO kv_local VALUES (10, 10, 'ten') ON CONFLICT ON CONSTRAINT kv_local_pkey
	DO UPDATE SET n = excluded.n + kv_local.n, v = DEFAULT RETURNING *;
-- a partial unique index with an expression as the arbiter
SELECT check_query($$INSERT INTO kv VALUES (11, 5000, 'V11', 1) ON CONFLICT (k, lower(v)) WHERE n >= 0
	DO UPDATE SET n = kv.n - 1 RETURNING k, id, v, n$$);
-- the distribution column may be assigned its own value
SELECT check_query($$INSERT INTO kv VALUES (12, 12, 'twelve') ON CONFLICT (k, id)
	DO UPDATE SET k = excluded.k, v = excluded.v RETURNING *$$);
SELECT check_query($$INSERT INTO kv VALUES (13, 13, 'thirteen') ON CONFLICT (k, id)
	DO UPDATE SET k = kv.k, v = excluded.v RETURNING *$$);
-- coordinator values (now(), parameters) in DO UPDATE
CREATE TABLE stamp (k int PRIMARY KEY, t timestamptz, note text);
SELECT distdb.create_distributed_table('stamp', 'k', 4);
BEGIN;
INSERT INTO stamp VALUES (1, now() - interval '1 day'), (2, now() - interval '1 day');
INSERT INTO stamp VALUES (1), (2), (3) ON CONFLICT (k) DO UPDATE SET t = now(), note = 'updated';
SELECT k, t = now() AS now_on_coordinator, note FROM stamp ORDER BY k;
COMMIT;
PREPARE upsert(int, int, text) AS
	INSERT INTO kv VALUES ($1, $2, $3) ON CONFLICT (k, id) DO UPDATE SET v = $3 || '/' || excluded.v, n = $2 RETURNING *;
PREPARE upsert_local(int, int, text) AS
	INSERT INTO kv_local VALUES ($1, $2, $3) ON CONFLICT (k, id) DO UPDATE SET v = $3 || '/' || excluded.v, n = $2 RETURNING *;
SELECT check_query($$EXECUTE upsert(14, 14, 'p1')$$);
SELECT check_query($$EXECUTE upsert(14, 14, 'p2')$$);
SELECT check_query($$EXECUTE upsert(15, 15, 'p3')$$);
SELECT check_query($$EXECUTE upsert(15, 3015, 'p4')$$);
SELECT check_query($$EXECUTE upsert(16, 16, 'p5')$$);
SELECT check_query($$EXECUTE upsert(16, 16, 'p6')$$);
SELECT check_query($$EXECUTE upsert(17, 17, 'p7')$$);
SELECT check_query($$SELECT count(*), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM kv$$);

-- a row affected twice by one command: the same error as PostgreSQL
\set VERBOSITY terse
INSERT INTO kv VALUES (18, 18, 'a'), (18, 18, 'b') ON CONFLICT (k, id) DO UPDATE SET v = excluded.v;

\set VERBOSITY default
-- pushed down from a co-located table
CREATE TABLE src (k int, id int, v text);
CREATE TABLE src_local (k int, id int, v text);
SELECT distdb.create_distributed_table('src', 'k', 4, colocate_with => 'kv');
INSERT INTO src SELECT i % 25, i + 50, 's' || i FROM generate_series(1, 100) i;
INSERT INTO src_local SELECT * FROM src;
SELECT plan_kind($$INSERT INTO kv (k, id, v) SELECT k, id, v FROM src ON CONFLICT DO NOTHING$$);
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT k, id, v FROM src WHERE id < 100 ON CONFLICT DO NOTHING RETURNING *$$, true);
SELECT check_query($$INSERT INTO kv AS t (k, id, v) SELECT k, id, upper(v) FROM src
	ON CONFLICT (k, id) DO UPDATE SET v = excluded.v || t.v, n = t.n + 1 WHERE t.n < 90 RETURNING k, id, v, n$$, true);
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT k, id, v FROM src WHERE k = 3
	ON CONFLICT (k, id) DO UPDATE SET v = kv.v || '-pinned' RETURNING *$$, true);
SELECT check_query($$SELECT count(*), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM kv$$);
-- through the coordinator (more in insert_select_coordinator)
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT k + 1, id, v FROM src WHERE id < 60 ON CONFLICT DO NOTHING RETURNING *$$, true);
SELECT check_query($$INSERT INTO kv (k, id, v) SELECT k, id + 1, v FROM src_local WHERE id < 60
	ON CONFLICT (k, id) DO UPDATE SET v = excluded.v RETURNING *$$, true);

-- a table called excluded
CREATE TABLE excluded (k int PRIMARY KEY, v text);
SELECT distdb.create_distributed_table('excluded', 'k', 4);
INSERT INTO excluded VALUES (1, 'a'), (2, 'b');
-- (check_query would rename EXCLUDED too)
SELECT * FROM regress.sorted_rows($$INSERT INTO excluded AS e VALUES (1, 'c'), (3, 'd') ON CONFLICT (k) DO UPDATE SET v = excluded.v || e.v RETURNING *$$);
SELECT * FROM regress.sorted_rows($$INSERT INTO excluded AS e SELECT k, 'x' FROM excluded ON CONFLICT (k) DO UPDATE SET v = excluded.v || e.v RETURNING *$$);
SELECT * FROM excluded ORDER BY k;

-- refused: conflict target without the distribution column, moving rows,
-- subqueries and sequences in DO UPDATE
CREATE TABLE uniq (k int, u int, v text, UNIQUE (k, u));
SELECT distdb.create_distributed_table('uniq', 'k', 4);
INSERT INTO kv VALUES (1, 1, 'x') ON CONFLICT (id) DO NOTHING;
INSERT INTO kv VALUES (1, 1, 'x') ON CONFLICT (k, id) DO UPDATE SET k = 2;
INSERT INTO kv VALUES (1, 1, 'x') ON CONFLICT (k, id) DO UPDATE SET k = excluded.id;
INSERT INTO kv VALUES (1, 1, 'x') ON CONFLICT (k, id) DO UPDATE SET v = (SELECT 'y');
CREATE SEQUENCE seq;
INSERT INTO kv VALUES (1, 1, 'x') ON CONFLICT (k, id) DO UPDATE SET n = nextval('seq');
INSERT INTO kv VALUES (1, 1, 'x') ON CONFLICT (v) DO NOTHING;
-- errors from the shards
\set VERBOSITY terse
INSERT INTO kv VALUES (1, 1, 'x') ON CONFLICT (k, v) DO NOTHING;
INSERT INTO kv VALUES (1, 1, 'x') ON CONFLICT (k, id) DO UPDATE SET n = 1 / 0;
SELECT check_query($$SELECT count(*), md5(string_agg(concat_ws(':', k, id, v, n), ',' ORDER BY k, id)) FROM kv$$);

SET client_min_messages TO WARNING;
DROP TABLE kv, src, stamp, excluded, uniq;
DROP SCHEMA on_conflict CASCADE;
