--
-- router_queries: SELECTs whose filters pin the distribution column to one
-- value, so that they run on a single shard.  Every result is checked
-- against an identical local table.
--
CREATE SCHEMA router_queries;
SET search_path TO router_queries, regress;

-- the main table: distribution column first, many column types, NULLs
CREATE TABLE rt_orders (
	id bigint NOT NULL,
	customer int,
	status text,
	amount numeric(10,2),
	created date,
	ts timestamptz,
	flag bool,
	uid uuid,
	note text,
	PRIMARY KEY (id, customer)
);
INSERT INTO rt_orders
SELECT i % 47 + 1,
	   i,
	   (ARRAY['new', 'paid', 'shipped', 'cancelled'])[i % 4 + 1],
	   CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 13 % 1000) / 4.0 END,
	   date '2024-01-01' + (i % 60),
	   timestamptz '2024-01-01 00:00:00+00' + i * interval '97 minutes',
	   CASE i % 3 WHEN 0 THEN true WHEN 1 THEN false END,
	   md5(i::text)::uuid,
	   CASE WHEN i % 5 = 0 THEN NULL ELSE 'note ' || (i % 11) || ' for ' || i END
FROM generate_series(1, 1000) i;
CREATE TABLE rt_orders_local (LIKE rt_orders INCLUDING ALL);
INSERT INTO rt_orders_local SELECT * FROM rt_orders;
SELECT distdb.create_distributed_table('rt_orders', 'id');

-- the plans are router plans
SELECT plan_kind('SELECT * FROM rt_orders WHERE id = 7');
SELECT plan_kind('SELECT count(*) FROM rt_orders WHERE id = 7 AND status = ''paid''');
SELECT plan_kind('SELECT * FROM rt_orders WHERE 7 = id ORDER BY customer LIMIT 2');

-- whole rows of one distribution value, printed directly
SELECT * FROM rt_orders WHERE id = 7 ORDER BY customer;
SELECT * FROM rt_orders_local WHERE id = 7 ORDER BY customer;

-- the same checked against the local table
SELECT check_query('SELECT * FROM rt_orders WHERE id = 7 ORDER BY customer');
SELECT check_query('SELECT * FROM rt_orders WHERE 12 = id ORDER BY customer');
SELECT check_query('SELECT * FROM rt_orders WHERE id = 1000 ORDER BY customer');

-- extra filters
SELECT check_query('SELECT customer, status, amount FROM rt_orders WHERE id = 3 AND status = ''paid'' ORDER BY customer');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 3 AND (amount > 100 OR flag) ORDER BY customer');
SELECT check_query('SELECT customer, amount FROM rt_orders WHERE id = 3 AND amount BETWEEN 50 AND 200 ORDER BY amount, customer');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 3 AND created >= date ''2024-02-01'' ORDER BY customer');
SELECT check_query('SELECT customer, ts FROM rt_orders WHERE id = 3 AND ts < timestamptz ''2024-02-15 12:00:00+01'' ORDER BY ts');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 3 AND uid = md5(''152'')::uuid');
SELECT check_query('SELECT customer, flag FROM rt_orders WHERE id = 3 AND flag IS NOT TRUE ORDER BY customer');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 3 AND NOT flag ORDER BY customer');

-- NULLs
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 7 AND amount IS NULL ORDER BY customer');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 7 AND note IS NULL ORDER BY customer');
SELECT check_query('SELECT customer, flag IS NULL AS flag_null FROM rt_orders WHERE id = 7 ORDER BY customer');
SELECT check_query('SELECT customer, coalesce(note, ''(none)'') FROM rt_orders WHERE id = 7 ORDER BY customer');
SELECT check_query('SELECT count(amount), count(*), count(note) FROM rt_orders WHERE id = 7');
SELECT check_query('SELECT customer, amount FROM rt_orders WHERE id = 7 ORDER BY amount NULLS FIRST, customer');
SELECT check_query('SELECT customer, amount FROM rt_orders WHERE id = 7 ORDER BY amount DESC NULLS LAST, customer');
SELECT check_query('SELECT customer, nullif(status, ''paid'') FROM rt_orders WHERE id = 7 ORDER BY customer');

-- LIKE and IN lists, regular expressions
SELECT check_query('SELECT customer, note FROM rt_orders WHERE id = 9 AND note LIKE ''note 1%'' ORDER BY customer');
SELECT check_query('SELECT customer, note FROM rt_orders WHERE id = 9 AND note ILIKE ''NOTE _ for%'' ORDER BY customer');
SELECT check_query('SELECT customer, note FROM rt_orders WHERE id = 9 AND note NOT LIKE ''%5%'' ORDER BY customer');
SELECT check_query('SELECT customer, status FROM rt_orders WHERE id = 9 AND status IN (''new'', ''cancelled'') ORDER BY customer');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 9 AND customer IN (8, 58, 108, 9999) ORDER BY customer');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 9 AND customer NOT IN (8, 58, 108) ORDER BY customer');
SELECT check_query('SELECT customer, note FROM rt_orders WHERE id = 9 AND note ~ ''for [0-9]{3}$'' ORDER BY customer');

-- ORDER BY, LIMIT, OFFSET
SELECT check_query('SELECT customer, amount FROM rt_orders WHERE id = 11 ORDER BY amount DESC NULLS LAST, customer LIMIT 5');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 11 ORDER BY customer LIMIT 3 OFFSET 4');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 11 ORDER BY customer OFFSET 18');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 11 ORDER BY customer LIMIT 0');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 11 ORDER BY customer DESC FETCH FIRST 2 ROWS ONLY');
SELECT check_query('SELECT status, customer FROM rt_orders WHERE id = 11 ORDER BY status, customer DESC');
SELECT check_query('SELECT customer, note FROM rt_orders WHERE id = 11 ORDER BY note COLLATE "C" NULLS FIRST, customer');
SELECT check_query('SELECT customer % 7 AS m, customer FROM rt_orders WHERE id = 11 ORDER BY 1, 2');

-- aggregates, GROUP BY, HAVING
SELECT check_query('SELECT count(*), sum(amount), avg(amount), min(amount), max(amount) FROM rt_orders WHERE id = 13');
SELECT check_query('SELECT min(created), max(ts), min(note), bool_or(flag), bool_and(flag) FROM rt_orders WHERE id = 13');
SELECT check_query('SELECT count(DISTINCT status), count(DISTINCT created) FROM rt_orders WHERE id = 13');
SELECT check_query('SELECT string_agg(customer::text, '','' ORDER BY customer), array_agg(status ORDER BY customer DESC) FROM rt_orders WHERE id = 13');
SELECT check_query('SELECT status, count(*), sum(amount) FROM rt_orders WHERE id = 13 GROUP BY status ORDER BY status');
SELECT check_query('SELECT status, count(*) FROM rt_orders WHERE id = 13 GROUP BY status HAVING count(*) > 4 ORDER BY status');
SELECT check_query('SELECT status, sum(amount) FROM rt_orders WHERE id = 13 GROUP BY status HAVING sum(amount) > 500 ORDER BY 2 DESC');
SELECT check_query('SELECT flag, status, count(*) FROM rt_orders WHERE id = 13 GROUP BY ROLLUP (flag, status) ORDER BY flag NULLS LAST, status NULLS LAST');
SELECT check_query('SELECT id, count(*) FROM rt_orders WHERE id = 13 GROUP BY id');
SELECT check_query('SELECT count(*) FROM rt_orders WHERE id = 13 HAVING count(*) > 1000');
SELECT check_query('SELECT count(*), sum(amount), max(note) FROM rt_orders WHERE id = 51');
SELECT check_query('SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY amount) FROM rt_orders WHERE id = 13');

-- DISTINCT, DISTINCT ON
SELECT check_query('SELECT DISTINCT status FROM rt_orders WHERE id = 15 ORDER BY status');
SELECT check_query('SELECT DISTINCT status, flag FROM rt_orders WHERE id = 15 ORDER BY status, flag');
SELECT check_query('SELECT DISTINCT ON (status) status, customer, amount FROM rt_orders WHERE id = 15 ORDER BY status, amount DESC NULLS LAST, customer');

-- expressions, CASE, casts, aliases
SELECT check_query('SELECT customer, amount * 2 + 1 AS x, round(amount / 3, 3) AS y, -customer AS neg FROM rt_orders WHERE id = 17 ORDER BY customer');
SELECT check_query('SELECT customer, CASE WHEN amount > 150 THEN ''big'' WHEN amount > 50 THEN ''medium'' ELSE ''small'' END AS size FROM rt_orders WHERE id = 17 ORDER BY customer');
SELECT check_query('SELECT customer::text || ''-'' || status AS label, amount::int, amount::float8 / 8, customer::numeric / 3 FROM rt_orders WHERE id = 17 ORDER BY customer');
SELECT check_query('SELECT upper(status), length(note), substr(note, 6, 3), left(uid::text, 8) FROM rt_orders WHERE id = 17 ORDER BY customer');
SELECT check_query('SELECT created + 30, created - date ''2024-01-01'', date_trunc(''month'', created)::date, extract(dow FROM created) FROM rt_orders WHERE id = 17 ORDER BY customer');
SELECT check_query('SELECT ts, ts + interval ''1 day'', date_trunc(''hour'', ts), ts::date FROM rt_orders WHERE id = 17 ORDER BY customer');
SELECT check_query('SELECT customer AS c, status AS "Status Column", amount AS "AMOUNT" FROM rt_orders o WHERE o.id = 17 ORDER BY c');
SELECT check_query('SELECT o.customer, (o.amount > 100) IS TRUE, greatest(o.amount, 100), least(o.customer, 500) FROM rt_orders AS o WHERE o.id = 17 ORDER BY 1');
SELECT check_query('SELECT customer, row_number() OVER (ORDER BY customer), sum(amount) OVER (ORDER BY customer) FROM rt_orders WHERE id = 17 ORDER BY customer');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 17 AND customer = (SELECT max(customer) FROM rt_orders WHERE id = 17)');

-- subqueries on other distribution values, and redundant filters
SELECT check_query('SELECT max(customer) FROM rt_orders WHERE id = 7 AND customer < (SELECT max(customer) - 300 FROM rt_orders WHERE id = 8)');
SELECT check_query('SELECT customer FROM rt_orders a WHERE a.id = 7 AND EXISTS (SELECT 1 FROM rt_orders b WHERE b.id = 8 AND b.customer = a.customer + 1) ORDER BY customer');
SELECT check_query('SELECT count(*) FROM rt_orders WHERE id = 7 AND id = 7');
SELECT check_query('SELECT count(*) FROM rt_orders WHERE id = 7 AND id IN (7, 8)');
SELECT check_query('SELECT count(*) FROM rt_orders WHERE id IN (7)');
SELECT check_query('SELECT count(*) FROM rt_orders WHERE id = abs(-7)');
SELECT plan_kind('SELECT count(*) FROM rt_orders WHERE id IN (7)');

-- column names and types as seen by the client
SELECT customer AS c, status AS "Status", amount::int AS amt, flag FROM rt_orders WHERE id = 17 ORDER BY c LIMIT 3;
SELECT customer AS c, status AS "Status", amount::int AS amt, flag FROM rt_orders_local WHERE id = 17 ORDER BY c LIMIT 3;
SELECT pg_typeof(amount), pg_typeof(created), pg_typeof(ts), pg_typeof(uid), pg_typeof(id) FROM rt_orders WHERE id = 17 LIMIT 1;

-- text renderings that depend on the session's DateStyle and TimeZone
SELECT current_setting('DateStyle'), current_setting('TimeZone');
SELECT check_query('SELECT customer, created, ts FROM rt_orders WHERE id = 19 ORDER BY customer');
SELECT check_query('SELECT customer, extract(hour FROM ts), ts::time FROM rt_orders WHERE id = 19 ORDER BY customer');

-- cross-type comparison: the bigint column against int and numeric constants
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 21::int ORDER BY customer');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 21::smallint ORDER BY customer');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 21::numeric ORDER BY customer');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 21.0 ORDER BY customer');
SELECT check_query('SELECT count(*) FROM rt_orders WHERE id = 21.5');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = ''21'' ORDER BY customer');
SELECT plan_kind('SELECT customer FROM rt_orders WHERE id = 21::int');

-- a filter that contradicts itself returns nothing (count is 0), like PostgreSQL
SELECT count(*) FROM rt_orders WHERE id = 1 AND id = 2;
SELECT count(*) FROM rt_orders_local WHERE id = 1 AND id = 2;
SELECT check_query('SELECT count(*), sum(amount) FROM rt_orders WHERE id = 1 AND id = 2');
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 1 AND id = 2');
SELECT check_query('SELECT count(*) FROM rt_orders WHERE id = 1 AND false');
SELECT check_query('SELECT count(*) FROM rt_orders WHERE id = NULL');
SELECT check_query('SELECT count(*) FROM rt_orders WHERE id = 1 AND customer = 1 AND customer = 2');

-- SELECT ... FOR UPDATE of one shard inside a transaction
BEGIN;
SELECT customer, status FROM rt_orders WHERE id = 23 AND customer < 200 ORDER BY customer FOR UPDATE;
SELECT customer, status FROM rt_orders WHERE id = 23 AND customer < 200 ORDER BY customer FOR SHARE;
SELECT check_query('SELECT customer FROM rt_orders WHERE id = 23 ORDER BY customer FOR NO KEY UPDATE');
COMMIT;
SELECT customer, status FROM rt_orders_local WHERE id = 23 AND customer < 200 ORDER BY customer;

-- SELECT ... FOR UPDATE / SHARE over several shards: each shard locks the
-- rows it returns (the remote plan has a LockRows node)
BEGIN;
SELECT check_query('SELECT id, customer FROM rt_orders WHERE customer < 5 ORDER BY id FOR UPDATE');
SELECT check_query('SELECT id, customer FROM rt_orders WHERE id IN (1, 2, 3, 40) AND customer < 30 ORDER BY id, customer FOR SHARE NOWAIT');
SELECT check_query('SELECT count(*) FROM (SELECT 1 FROM rt_orders WHERE customer = 7) s');
SELECT check_query('SELECT id, status FROM rt_orders WHERE customer = 7 ORDER BY id FOR NO KEY UPDATE SKIP LOCKED');
SELECT plan_kind('SELECT id FROM rt_orders WHERE customer < 5 FOR UPDATE');
DO $$
DECLARE
	line text;
BEGIN
	-- the remote plan of one task (which one varies): it locks rows
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT id FROM rt_orders WHERE customer < 5 ORDER BY id FOR KEY SHARE' LOOP
		IF line ~ 'LockRows|Remote Plan|Custom Scan' THEN
			RAISE NOTICE '%', line;
		END IF;
	END LOOP;
END $$;
COMMIT;
-- forms where the shards would lock more rows than PostgreSQL: refused
SELECT id FROM rt_orders WHERE customer < 5 ORDER BY id LIMIT 2 FOR UPDATE;
SELECT id FROM rt_orders WHERE customer < 5 AND id::text = ANY (SELECT '1') FOR UPDATE;
SELECT o.id FROM rt_orders o JOIN rt_orders_local l ON l.id = o.id WHERE o.customer < 5 FOR UPDATE OF o;
SELECT * FROM (SELECT id FROM rt_orders WHERE customer < 5 FOR UPDATE) s;

--
-- other distribution column types, each in its own table; the
-- distribution column is not always the first column
--
CREATE TABLE rt_int (v text, k int, w numeric);
INSERT INTO rt_int SELECT 'v' || i, i % 40 - 20, i / 7.0 FROM generate_series(1, 400) i;
INSERT INTO rt_int VALUES ('max', 2147483647, 1), ('min', -2147483648, 2);
CREATE TABLE rt_int_local (LIKE rt_int INCLUDING ALL);
INSERT INTO rt_int_local SELECT * FROM rt_int;
SELECT distdb.create_distributed_table('rt_int', 'k');

CREATE TABLE rt_text (k text, v int);
INSERT INTO rt_text SELECT 'key' || (i % 30), i FROM generate_series(1, 300) i;
INSERT INTO rt_text VALUES ('', 1), ('Ünïcödé ключ', 2), ('it''s', 3), ('KEY1', 4);
CREATE TABLE rt_text_local (LIKE rt_text INCLUDING ALL);
INSERT INTO rt_text_local SELECT * FROM rt_text;
SELECT distdb.create_distributed_table('rt_text', 'k');

CREATE TABLE rt_uuid (v int, k uuid);
INSERT INTO rt_uuid SELECT i, md5((i % 20)::text)::uuid FROM generate_series(1, 200) i;
CREATE TABLE rt_uuid_local (LIKE rt_uuid INCLUDING ALL);
INSERT INTO rt_uuid_local SELECT * FROM rt_uuid;
SELECT distdb.create_distributed_table('rt_uuid', 'k');

CREATE TABLE rt_numeric (k numeric, v int);
INSERT INTO rt_numeric SELECT (i % 25) / 4.0, i FROM generate_series(1, 200) i;
INSERT INTO rt_numeric VALUES (1.50, 1001), (1.5000, 1002), (-0.0, 1003);
CREATE TABLE rt_numeric_local (LIKE rt_numeric INCLUDING ALL);
INSERT INTO rt_numeric_local SELECT * FROM rt_numeric;
SELECT distdb.create_distributed_table('rt_numeric', 'k');

CREATE TABLE rt_date (k date, v int, ts timestamp);
INSERT INTO rt_date SELECT date '2023-12-25' + i % 20, i, timestamp '2023-12-25 10:00' + i * interval '5 hours' FROM generate_series(1, 200) i;
CREATE TABLE rt_date_local (LIKE rt_date INCLUDING ALL);
INSERT INTO rt_date_local SELECT * FROM rt_date;
SELECT distdb.create_distributed_table('rt_date', 'k');

SELECT plan_kind('SELECT * FROM rt_int WHERE k = 5');
SELECT plan_kind('SELECT * FROM rt_text WHERE k = ''key5''');
SELECT plan_kind('SELECT * FROM rt_uuid WHERE k = md5(''5'')::uuid');
SELECT plan_kind('SELECT * FROM rt_numeric WHERE k = 1.5');
SELECT plan_kind('SELECT * FROM rt_date WHERE k = ''2024-01-01''');

-- int
SELECT * FROM rt_int WHERE k = -3 ORDER BY v;
SELECT check_query('SELECT * FROM rt_int WHERE k = -3 ORDER BY v');
SELECT check_query('SELECT * FROM rt_int WHERE k = 0 ORDER BY v');
SELECT check_query('SELECT * FROM rt_int WHERE k = 2147483647');
SELECT check_query('SELECT * FROM rt_int WHERE k = -2147483648');
SELECT check_query('SELECT k, count(*), sum(w) FROM rt_int WHERE k = 7 GROUP BY k');
-- the int column against bigint and numeric constants
SELECT check_query('SELECT v FROM rt_int WHERE k = 5::bigint ORDER BY v');
SELECT check_query('SELECT v FROM rt_int WHERE k = 5000000000::bigint ORDER BY v');
SELECT check_query('SELECT v FROM rt_int WHERE k = 2147483647::bigint ORDER BY v');
SELECT check_query('SELECT v FROM rt_int WHERE k = 5.0 ORDER BY v');
SELECT check_query('SELECT v FROM rt_int WHERE k = -7::smallint ORDER BY v');
-- text
SELECT * FROM rt_text WHERE k = 'key7' ORDER BY v;
SELECT check_query('SELECT * FROM rt_text WHERE k = ''key7'' ORDER BY v');
SELECT check_query('SELECT * FROM rt_text WHERE k = ''''');
SELECT check_query('SELECT * FROM rt_text WHERE k = ''Ünïcödé ключ''');
SELECT check_query('SELECT * FROM rt_text WHERE k = ''it''''s''');
SELECT check_query('SELECT * FROM rt_text WHERE k = ''KEY1''');
SELECT check_query('SELECT * FROM rt_text WHERE k = ''KEY1'' COLLATE "C"');
SELECT check_query('SELECT * FROM rt_text WHERE k = ''key1'' AND k < ''key2'' ORDER BY v LIMIT 3');
SELECT check_query('SELECT * FROM rt_text WHERE k = ''key1'' AND v > 200 ORDER BY v');
SELECT check_query('SELECT * FROM rt_text WHERE k = ''key1''::varchar ORDER BY v');
SELECT check_query('SELECT count(*) FROM rt_text WHERE k = ''no such key''');
SELECT check_query('SELECT k, sum(v) FROM rt_text WHERE k = ''key29'' GROUP BY k');
-- uuid
SELECT check_query('SELECT * FROM rt_uuid WHERE k = md5(''3'')::uuid ORDER BY v');
SELECT check_query('SELECT v, k FROM rt_uuid WHERE k = ''eccbc87e-4b5c-e2fe-2830-8fd9f2a7baf3'' ORDER BY v');
SELECT check_query('SELECT count(*) FROM rt_uuid WHERE k = ''00000000-0000-0000-0000-000000000000''');
-- numeric: equal values with different scales are one value
SELECT check_query('SELECT * FROM rt_numeric WHERE k = 1.5 ORDER BY v');
SELECT check_query('SELECT * FROM rt_numeric WHERE k = 1.500 ORDER BY v');
SELECT check_query('SELECT * FROM rt_numeric WHERE k = 0 ORDER BY v');
SELECT check_query('SELECT * FROM rt_numeric WHERE k = 3 ORDER BY v');
SELECT check_query('SELECT * FROM rt_numeric WHERE k = 3::int ORDER BY v');
SELECT check_query('SELECT * FROM rt_numeric WHERE k = 2.25::float8 ORDER BY v');
-- date
SELECT * FROM rt_date WHERE k = '2024-01-01' ORDER BY v;
SELECT check_query('SELECT * FROM rt_date WHERE k = ''2024-01-01'' ORDER BY v');
SELECT check_query('SELECT * FROM rt_date WHERE k = date ''2023-12-31'' ORDER BY v');
SELECT check_query('SELECT v, ts FROM rt_date WHERE k = ''01/02/2024'' ORDER BY v');
SELECT check_query('SELECT v FROM rt_date WHERE k = timestamp ''2024-01-03 00:00'' ORDER BY v');
SELECT check_query('SELECT k, count(*), min(ts), max(ts) FROM rt_date WHERE k = date ''2024-01-05'' GROUP BY k');

--
-- a table with a dropped column: the coordinator's and the shards'
-- column numbers differ; SELECT * must still match
--
CREATE TABLE rt_dropped (a int, gone text, k bigint, b text);
ALTER TABLE rt_dropped DROP COLUMN gone;
INSERT INTO rt_dropped SELECT i, i % 10, 'b' || i FROM generate_series(1, 100) i;
CREATE TABLE rt_dropped_local (LIKE rt_dropped INCLUDING ALL);
INSERT INTO rt_dropped_local SELECT * FROM rt_dropped;
SELECT distdb.create_distributed_table('rt_dropped', 'k');
SELECT * FROM rt_dropped WHERE k = 4 ORDER BY a;
SELECT check_query('SELECT * FROM rt_dropped WHERE k = 4 ORDER BY a');
SELECT check_query('SELECT b, k, a FROM rt_dropped WHERE k = 4 ORDER BY a DESC');

DROP TABLE rt_orders, rt_int, rt_text, rt_uuid, rt_numeric, rt_date, rt_dropped;
DROP SCHEMA router_queries CASCADE;
