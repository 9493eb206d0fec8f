--
-- prepared_statements: prepared statements and PL/pgSQL functions with the
-- distribution column as a parameter, executed often enough to use generic
-- plans, checked against identical local tables.
--
CREATE SCHEMA prepared_statements;
SET search_path TO prepared_statements, regress;


CREATE TABLE ps_orders (
	id bigint NOT NULL,
	k int NOT NULL,
	status text,
	n int,
	UNIQUE (id, k)
);
INSERT INTO ps_orders
SELECT i % 30, i, (ARRAY['new', 'paid', 'shipped'])[i % 3 + 1], i % 17
FROM generate_series(1, 600) i;
CREATE TABLE ps_orders_local (LIKE ps_orders INCLUDING ALL);
INSERT INTO ps_orders_local SELECT * FROM ps_orders;
SELECT distdb.create_distributed_table('ps_orders', 'id');

CREATE TABLE ps_text (key text, v int);
INSERT INTO ps_text SELECT 'key' || (i % 20), i FROM generate_series(1, 200) i;
CREATE TABLE ps_text_local (LIKE ps_text INCLUDING ALL);
INSERT INTO ps_text_local SELECT * FROM ps_text;
SELECT distdb.create_distributed_table('ps_text', 'key');

CREATE VIEW ps_diff AS
SELECT 'only distributed' AS side, * FROM
	(SELECT * FROM ps_orders EXCEPT ALL SELECT * FROM ps_orders_local) a
UNION ALL
SELECT 'only local', * FROM
	(SELECT * FROM ps_orders_local EXCEPT ALL SELECT * FROM ps_orders) b;

--
-- the distribution column as a parameter: the first five executions use
-- custom plans, later ones a generic plan in which the shard is chosen at
-- execution
--
PREPARE by_id(bigint) AS
	SELECT k, status, n FROM ps_orders WHERE id = $1 ORDER BY k;
PREPARE by_id_local(bigint) AS
	SELECT k, status, n FROM ps_orders_local WHERE id = $1 ORDER BY k;
SELECT check_query('EXECUTE by_id(1)');
SELECT check_query('EXECUTE by_id(2)');
SELECT check_query('EXECUTE by_id(3)');
SELECT check_query('EXECUTE by_id(4)');
SELECT check_query('EXECUTE by_id(5)');
SELECT check_query('EXECUTE by_id(6)');
SELECT check_query('EXECUTE by_id(7)');
SELECT check_query('EXECUTE by_id(8)');
SELECT check_query('EXECUTE by_id(29)');
SELECT check_query('EXECUTE by_id(0)');
SELECT check_query('EXECUTE by_id(1000)');
SELECT check_query('EXECUTE by_id(1)');
SELECT check_query('EXECUTE by_id(NULL)');
SELECT check_query('EXECUTE by_id(2)');
SELECT generic_plans > 0 AS generic_plan_used FROM pg_prepared_statements WHERE name = 'by_id';
-- executed directly as well
EXECUTE by_id(9);
EXECUTE by_id_local(9);
EXECUTE by_id(10);
EXECUTE by_id_local(10);

-- aggregates, an int parameter for the bigint column, LIMIT as a parameter
PREPARE agg_by_id(int) AS
	SELECT count(*), sum(n), min(k), max(k), string_agg(status, ',' ORDER BY k) FROM ps_orders WHERE id = $1;
PREPARE agg_by_id_local(int) AS
	SELECT count(*), sum(n), min(k), max(k), string_agg(status, ',' ORDER BY k) FROM ps_orders_local WHERE id = $1;
SELECT check_query('EXECUTE agg_by_id(11)');
SELECT check_query('EXECUTE agg_by_id(12)');
SELECT check_query('EXECUTE agg_by_id(13)');
SELECT check_query('EXECUTE agg_by_id(14)');
SELECT check_query('EXECUTE agg_by_id(15)');
SELECT check_query('EXECUTE agg_by_id(16)');
SELECT check_query('EXECUTE agg_by_id(17)');
SELECT check_query('EXECUTE agg_by_id(11)');
SELECT check_query('EXECUTE agg_by_id(NULL)');
SELECT check_query('EXECUTE agg_by_id(-5)');

PREPARE top_n(bigint, int) AS
	SELECT k, n FROM ps_orders WHERE id = $1 ORDER BY n DESC, k LIMIT $2;
PREPARE top_n_local(bigint, int) AS
	SELECT k, n FROM ps_orders_local WHERE id = $1 ORDER BY n DESC, k LIMIT $2;
SELECT check_query('EXECUTE top_n(1, 3)');
SELECT check_query('EXECUTE top_n(2, 1)');
SELECT check_query('EXECUTE top_n(3, 0)');
SELECT check_query('EXECUTE top_n(4, 2)');
SELECT check_query('EXECUTE top_n(5, 5)');
SELECT check_query('EXECUTE top_n(6, 2)');
SELECT check_query('EXECUTE top_n(7, 2)');
SELECT check_query('EXECUTE top_n(8, NULL)');

-- the distribution column and another column as parameters
PREPARE by_id_status(bigint, text) AS
	SELECT k, n FROM ps_orders WHERE id = $1 AND status = $2 ORDER BY k;
PREPARE by_id_status_local(bigint, text) AS
	SELECT k, n FROM ps_orders_local WHERE id = $1 AND status = $2 ORDER BY k;
SELECT check_query('EXECUTE by_id_status(1, ''new'')');
SELECT check_query('EXECUTE by_id_status(2, ''paid'')');
SELECT check_query('EXECUTE by_id_status(3, ''shipped'')');
SELECT check_query('EXECUTE by_id_status(4, ''new'')');
SELECT check_query('EXECUTE by_id_status(5, ''paid'')');
SELECT check_query('EXECUTE by_id_status(6, ''shipped'')');
SELECT check_query('EXECUTE by_id_status(7, ''new'')');
SELECT check_query('EXECUTE by_id_status(7, NULL)');
SELECT check_query('EXECUTE by_id_status(8, ''none'')');

-- parameters only in filters on other columns: all shards
PREPARE by_n(int, text) AS
	SELECT id, count(*) FROM ps_orders WHERE n = $1 AND status <> $2 GROUP BY id ORDER BY id;
PREPARE by_n_local(int, text) AS
	SELECT id, count(*) FROM ps_orders_local WHERE n = $1 AND status <> $2 GROUP BY id ORDER BY id;
SELECT check_query('EXECUTE by_n(1, ''new'')');
SELECT check_query('EXECUTE by_n(2, ''paid'')');
SELECT check_query('EXECUTE by_n(3, ''new'')');
SELECT check_query('EXECUTE by_n(4, ''paid'')');
SELECT check_query('EXECUTE by_n(5, ''new'')');
SELECT check_query('EXECUTE by_n(6, ''paid'')');
SELECT check_query('EXECUTE by_n(7, ''new'')');
SELECT check_query('EXECUTE by_n(16, ''shipped'')');

-- a list of distribution values as an array parameter
PREPARE by_ids(bigint[]) AS
	SELECT id, count(*), sum(n) FROM ps_orders WHERE id = ANY ($1) GROUP BY id ORDER BY id;
PREPARE by_ids_local(bigint[]) AS
	SELECT id, count(*), sum(n) FROM ps_orders_local WHERE id = ANY ($1) GROUP BY id ORDER BY id;
SELECT check_query('EXECUTE by_ids(''{1,2}'')');
SELECT check_query('EXECUTE by_ids(''{3}'')');
SELECT check_query('EXECUTE by_ids(''{4,5,6,7}'')');
SELECT check_query('EXECUTE by_ids(''{}'')');
SELECT check_query('EXECUTE by_ids(''{8,NULL}'')');
SELECT check_query('EXECUTE by_ids(''{9,10}'')');
SELECT check_query('EXECUTE by_ids(''{11,12,1000}'')');
SELECT check_query('EXECUTE by_ids(NULL)');

-- a text distribution column
PREPARE by_key(text) AS SELECT v FROM ps_text WHERE key = $1 ORDER BY v;
PREPARE by_key_local(text) AS SELECT v FROM ps_text_local WHERE key = $1 ORDER BY v;
SELECT check_query('EXECUTE by_key(''key1'')');
SELECT check_query('EXECUTE by_key(''key2'')');
SELECT check_query('EXECUTE by_key(''key3'')');
SELECT check_query('EXECUTE by_key(''key4'')');
SELECT check_query('EXECUTE by_key(''key5'')');
SELECT check_query('EXECUTE by_key(''key6'')');
SELECT check_query('EXECUTE by_key(''key7'')');
SELECT check_query('EXECUTE by_key(''nokey'')');
SELECT check_query('EXECUTE by_key(NULL)');
SELECT check_query('EXECUTE by_key(''key19'')');

-- forced generic and custom plans
SET plan_cache_mode = force_generic_plan;
PREPARE generic_by_id(bigint) AS SELECT count(*), sum(n) FROM ps_orders WHERE id = $1;
PREPARE generic_by_id_local(bigint) AS SELECT count(*), sum(n) FROM ps_orders_local WHERE id = $1;
SELECT check_query('EXECUTE generic_by_id(21)');
SELECT check_query('EXECUTE generic_by_id(22)');
SELECT check_query('EXECUTE generic_by_id(NULL)');
SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'generic_by_id';
SET plan_cache_mode = force_custom_plan;
SELECT check_query('EXECUTE generic_by_id(23)');
SELECT check_query('EXECUTE by_id(24)');
RESET plan_cache_mode;

--
-- prepared modifications, run on both tables
--
\set QUIET off
PREPARE ins(bigint, int, text, int) AS INSERT INTO ps_orders VALUES ($1, $2, $3, $4);
PREPARE ins_local(bigint, int, text, int) AS INSERT INTO ps_orders_local VALUES ($1, $2, $3, $4);
EXECUTE ins(1, 1001, 'prepared', 1);
EXECUTE ins_local(1, 1001, 'prepared', 1);
EXECUTE ins(2, 1002, 'prepared', 2);
EXECUTE ins_local(2, 1002, 'prepared', 2);
EXECUTE ins(3, 1003, 'prepared', 3);
EXECUTE ins_local(3, 1003, 'prepared', 3);
EXECUTE ins(4, 1004, 'prepared', 4);
EXECUTE ins_local(4, 1004, 'prepared', 4);
EXECUTE ins(5, 1005, 'prepared', 5);
EXECUTE ins_local(5, 1005, 'prepared', 5);
EXECUTE ins(6, 1006, 'prepared', 6);
EXECUTE ins_local(6, 1006, 'prepared', 6);
EXECUTE ins(7, 1007, 'prepared', 7);
EXECUTE ins_local(7, 1007, 'prepared', 7);
EXECUTE ins(100, 1008, NULL, NULL);
EXECUTE ins_local(100, 1008, NULL, NULL);
EXECUTE ins(101, 1009, 'prepared', 9);
EXECUTE ins_local(101, 1009, 'prepared', 9);
\set VERBOSITY terse
EXECUTE ins(NULL, 1010, 'null id', 10);
\set VERBOSITY sqlstate
EXECUTE ins(1, 1001, 'duplicate', 1);
\set VERBOSITY terse
SELECT * FROM ps_diff;

PREPARE ins_ret(bigint, int) AS
	INSERT INTO ps_orders VALUES ($1, $2, 'returning', $2 % 5) RETURNING id, k, n * 2;
PREPARE ins_ret_local(bigint, int) AS
	INSERT INTO ps_orders_local VALUES ($1, $2, 'returning', $2 % 5) RETURNING id, k, n * 2;
SELECT check_query('EXECUTE ins_ret(10, 2001)');
SELECT check_query('EXECUTE ins_ret(11, 2002)');
SELECT check_query('EXECUTE ins_ret(12, 2003)');
SELECT check_query('EXECUTE ins_ret(13, 2004)');
SELECT check_query('EXECUTE ins_ret(14, 2005)');
SELECT check_query('EXECUTE ins_ret(15, 2006)');
SELECT check_query('EXECUTE ins_ret(16, 2007)');
SELECT check_query('EXECUTE ins_ret(17, 2008)');
SELECT * FROM ps_diff;

PREPARE upd(int, bigint) AS UPDATE ps_orders SET n = n + $1 WHERE id = $2;
PREPARE upd_local(int, bigint) AS UPDATE ps_orders_local SET n = n + $1 WHERE id = $2;
EXECUTE upd(1, 1);
EXECUTE upd_local(1, 1);
EXECUTE upd(2, 2);
EXECUTE upd_local(2, 2);
EXECUTE upd(3, 3);
EXECUTE upd_local(3, 3);
EXECUTE upd(4, 4);
EXECUTE upd_local(4, 4);
EXECUTE upd(5, 5);
EXECUTE upd_local(5, 5);
EXECUTE upd(6, 6);
EXECUTE upd_local(6, 6);
EXECUTE upd(7, 7);
EXECUTE upd_local(7, 7);
EXECUTE upd(8, 1000);
EXECUTE upd_local(8, 1000);
EXECUTE upd(9, NULL);
EXECUTE upd_local(9, NULL);
SELECT * FROM ps_diff;

PREPARE upd_ret(bigint, int) AS
	UPDATE ps_orders SET status = 'updated ' || $2 WHERE id = $1 AND k % 10 = $2 RETURNING id, k, status;
PREPARE upd_ret_local(bigint, int) AS
	UPDATE ps_orders_local SET status = 'updated ' || $2 WHERE id = $1 AND k % 10 = $2 RETURNING id, k, status;
SELECT check_query('EXECUTE upd_ret(1, 1)', sorted => true);
SELECT check_query('EXECUTE upd_ret(2, 2)', sorted => true);
SELECT check_query('EXECUTE upd_ret(3, 3)', sorted => true);
SELECT check_query('EXECUTE upd_ret(4, 4)', sorted => true);
SELECT check_query('EXECUTE upd_ret(5, 5)', sorted => true);
SELECT check_query('EXECUTE upd_ret(6, 6)', sorted => true);
SELECT check_query('EXECUTE upd_ret(7, 7)', sorted => true);
SELECT check_query('EXECUTE upd_ret(8, 8)', sorted => true);
SELECT * FROM ps_diff;

-- an UPDATE whose parameter is only in another column's filter: all shards
PREPARE upd_by_n(int) AS UPDATE ps_orders SET n = n + 100 WHERE n = $1;
PREPARE upd_by_n_local(int) AS UPDATE ps_orders_local SET n = n + 100 WHERE n = $1;
EXECUTE upd_by_n(1);
EXECUTE upd_by_n_local(1);
EXECUTE upd_by_n(2);
EXECUTE upd_by_n_local(2);
EXECUTE upd_by_n(3);
EXECUTE upd_by_n_local(3);
EXECUTE upd_by_n(4);
EXECUTE upd_by_n_local(4);
EXECUTE upd_by_n(5);
EXECUTE upd_by_n_local(5);
EXECUTE upd_by_n(6);
EXECUTE upd_by_n_local(6);
EXECUTE upd_by_n(7);
EXECUTE upd_by_n_local(7);
SELECT * FROM ps_diff;

PREPARE del(bigint, int) AS DELETE FROM ps_orders WHERE id = $1 AND k > $2;
PREPARE del_local(bigint, int) AS DELETE FROM ps_orders_local WHERE id = $1 AND k > $2;
EXECUTE del(20, 500);
EXECUTE del_local(20, 500);
EXECUTE del(21, 400);
EXECUTE del_local(21, 400);
EXECUTE del(22, 300);
EXECUTE del_local(22, 300);
EXECUTE del(23, 200);
EXECUTE del_local(23, 200);
EXECUTE del(24, 100);
EXECUTE del_local(24, 100);
EXECUTE del(25, 0);
EXECUTE del_local(25, 0);
EXECUTE del(26, 590);
EXECUTE del_local(26, 590);
EXECUTE del(NULL, 0);
EXECUTE del_local(NULL, 0);
SELECT * FROM ps_diff;
\set QUIET on
SELECT count(*) FROM ps_orders;
SELECT count(*) FROM ps_orders_local;

--
-- PL/pgSQL functions whose statements use their arguments; PL/pgSQL caches
-- the plans, so later calls use generic plans
--
CREATE FUNCTION ps_touch(p_id bigint, p_k int) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
	total bigint;
	cnt bigint;
BEGIN
	INSERT INTO ps_orders VALUES (p_id, p_k, 'from function', p_k % 7);
	UPDATE ps_orders SET n = n + 1 WHERE id = p_id AND k <> p_k;
	DELETE FROM ps_orders WHERE id = p_id AND k < p_id + 30;
	SELECT sum(n), count(*) INTO total, cnt FROM ps_orders WHERE id = p_id;
	RETURN format('id %s: %s rows, sum %s', p_id, cnt, total);
END
$fn$;
CREATE FUNCTION ps_touch_local(p_id bigint, p_k int) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
	total bigint;
	cnt bigint;
BEGIN
	INSERT INTO ps_orders_local VALUES (p_id, p_k, 'from function', p_k % 7);
	UPDATE ps_orders_local SET n = n + 1 WHERE id = p_id AND k <> p_k;
	DELETE FROM ps_orders_local WHERE id = p_id AND k < p_id + 30;
	SELECT sum(n), count(*) INTO total, cnt FROM ps_orders_local WHERE id = p_id;
	RETURN format('id %s: %s rows, sum %s', p_id, cnt, total);
END
$fn$;
SELECT check_query('SELECT ps_touch(i, 3000 + i) FROM generate_series(1, 12) i ORDER BY i');
SELECT * FROM ps_diff;
SELECT check_query('SELECT ps_touch(5, 3100)');
SELECT check_query('SELECT ps_touch(1000, 3101)');
SELECT * FROM ps_diff;

-- a function returning rows of a distributed table
CREATE FUNCTION ps_rows(p_id bigint, p_min_n int) RETURNS TABLE (k int, n int)
LANGUAGE plpgsql AS $fn$
BEGIN
	RETURN QUERY SELECT o.k, o.n FROM ps_orders o WHERE o.id = p_id AND o.n >= p_min_n ORDER BY o.k;
END
$fn$;
CREATE FUNCTION ps_rows_local(p_id bigint, p_min_n int) RETURNS TABLE (k int, n int)
LANGUAGE plpgsql AS $fn$
BEGIN
	RETURN QUERY SELECT o.k, o.n FROM ps_orders_local o WHERE o.id = p_id AND o.n >= p_min_n ORDER BY o.k;
END
$fn$;
SELECT check_query('SELECT i, r.* FROM generate_series(1, 9) i, LATERAL ps_rows(i, 104) r ORDER BY 1, 2');
SELECT check_query('SELECT * FROM ps_rows(NULL, 0)');

-- a SQL function, inlined or not
CREATE FUNCTION ps_count(p_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $fn$ SELECT count(*) FROM ps_orders WHERE id = p_id $fn$;
CREATE FUNCTION ps_count_local(p_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $fn$ SELECT count(*) FROM ps_orders_local WHERE id = p_id $fn$;
SELECT check_query('SELECT i, ps_count(i) FROM generate_series(0, 12) i ORDER BY i');

DROP VIEW ps_diff;
DROP TABLE ps_orders, ps_text;
DROP SCHEMA prepared_statements CASCADE;
