--
-- insert_select: INSERT ... SELECT into a distributed table, from local
-- tables, from distributed tables (the same one too), with defaults and
-- sequences evaluated on the coordinator; checked against local copies.
--
CREATE SCHEMA insert_select;
SET search_path TO insert_select, regress;

CREATE FUNCTION explain_lines(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		RETURN NEXT line;
	END LOOP;
END
$fn$;

CREATE TABLE src_local_only (k int, v text, d date);
INSERT INTO src_local_only SELECT i, 'v' || i, date '2024-01-01' + i FROM generate_series(1, 500) i;

CREATE TABLE target (id bigserial, k int, v text, d date, created_by text DEFAULT current_user,
					 PRIMARY KEY (k, id));
CREATE TABLE target_local (id bigserial, k int, v text, d date, created_by text DEFAULT current_user,
						   PRIMARY KEY (k, id));
SELECT distdb.create_distributed_table('target', 'k', 8);

-- from a local table
INSERT INTO target (k, v, d) SELECT k, v, d FROM src_local_only WHERE k % 2 = 0;
INSERT INTO target_local (k, v, d) SELECT k, v, d FROM src_local_only WHERE k % 2 = 0;
SELECT check_query('SELECT count(*), count(DISTINCT id), min(id), max(id), sum(k), max(v), max(d), max(created_by) FROM target');

-- from a distributed table, with expressions and a filter
CREATE TABLE src (k int, v text, d date);
INSERT INTO src SELECT * FROM src_local_only;
CREATE TABLE src_local AS SELECT * FROM src;
SELECT distdb.create_distributed_table('src', 'k', 4);
INSERT INTO target (k, v, d) SELECT k + 1000, upper(v), d + 1 FROM src WHERE k < 100;
INSERT INTO target_local (k, v, d) SELECT k + 1000, upper(v), d + 1 FROM src_local WHERE k < 100;
SELECT check_query('SELECT k, v, d FROM target WHERE k > 1000 AND k % 10 = 3 ORDER BY k');
-- aggregated rows
INSERT INTO target (k, v) SELECT k % 10 + 5000, string_agg(v, ',' ORDER BY v) FROM src GROUP BY k % 10;
INSERT INTO target_local (k, v) SELECT k % 10 + 5000, string_agg(v, ',' ORDER BY v) FROM src_local GROUP BY k % 10;
SELECT check_query('SELECT k, v FROM target WHERE k >= 5000 ORDER BY k');
-- from the table itself: reads all before writing
INSERT INTO target (k, v, d) SELECT k + 10000, v, d FROM target WHERE k < 50;
INSERT INTO target_local (k, v, d) SELECT k + 10000, v, d FROM target_local WHERE k < 50;
SELECT check_query('SELECT count(*), sum(k) FROM target');
-- co-located source and target, distribution column kept: each shard
-- inserts into the target shard with the same index
CREATE TABLE archive (k int, v text, d date, note text DEFAULT 'archived');
CREATE TABLE archive_local (k int, v text, d date, note text DEFAULT 'archived');
SELECT distdb.create_distributed_table('archive', 'k', 8, colocate_with => 'target');
SELECT task_count FROM (SELECT regexp_replace(line, '.*: ', '') AS task_count
	FROM (SELECT unnest(ARRAY(SELECT * FROM explain_lines('INSERT INTO archive (k, v, d) SELECT k, v, d FROM target WHERE k < 100')))) l(line)
	WHERE line ~ 'Task Count|Distributed Plan') s;
INSERT INTO archive (k, v, d) SELECT k, lower(v), d FROM target WHERE k < 100;
INSERT INTO archive_local (k, v, d) SELECT k, lower(v), d FROM target_local WHERE k < 100;
INSERT INTO archive (k, v) SELECT k, v FROM target WHERE k = 42;
INSERT INTO archive_local (k, v) SELECT k, v FROM target_local WHERE k = 42;
SELECT check_query('SELECT k, v, d, note FROM archive WHERE k % 10 = 2 ORDER BY k, v, d NULLS FIRST');
-- not the distribution column, or not co-located: through the coordinator
INSERT INTO archive (k, v) SELECT k + 1, v FROM target WHERE k < 10;
INSERT INTO archive_local (k, v) SELECT k + 1, v FROM target_local WHERE k < 10;
SELECT check_query('SELECT count(*), sum(k) FROM archive');
-- RETURNING, pushed down with the INSERT
SELECT check_query($$INSERT INTO archive (k, v, d) SELECT k, v, d FROM target WHERE k < 30 RETURNING k, v, note, archive.*$$, true);
SELECT check_query($$INSERT INTO archive AS a (k, v) SELECT k, v FROM target WHERE k = 12 RETURNING a.k * 2, upper(a.v)$$, true);
SELECT check_query($$INSERT INTO archive (k, v, d) SELECT k, v, d FROM target WHERE false RETURNING *$$);
SELECT check_query('SELECT count(*), sum(k) FROM archive');
DROP TABLE archive;

-- nothing selected
INSERT INTO target (k, v) SELECT k, v FROM src WHERE false;

-- in a transaction: visible to later statements, gone after ROLLBACK
BEGIN;
INSERT INTO target (k, v) SELECT k + 20000, v FROM src WHERE k <= 10;
SELECT count(*) FROM target WHERE k > 20000;
ROLLBACK;
SELECT count(*) FROM target WHERE k > 20000;

-- bad input changes nothing
INSERT INTO target (k, v) SELECT NULL, 'x';
INSERT INTO target (k, v) SELECT k, (1 / (k - 7))::text FROM src WHERE k < 10;
SELECT check_query('SELECT count(*), sum(k) FROM target');
-- RETURNING (more in insert_select_coordinator)
SELECT check_query($$INSERT INTO target (k, v) SELECT 1, 'x' RETURNING k, v$$);

-- EXPLAIN
EXPLAIN (COSTS OFF) INSERT INTO target (k, v) SELECT k, v FROM src_local_only;

SET client_min_messages TO WARNING;
DROP TABLE target, src;
DROP SCHEMA insert_select CASCADE;
