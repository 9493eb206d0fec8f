--
-- session_semantics: results depend on the coordinator session as in
-- PostgreSQL -- its DateStyle, IntervalStyle and TimeZone, its now() --
-- RETURNING rows come in statement order, and statement_timeout stops
-- work on the nodes.  Results are checked against a local copy.
--
CREATE SCHEMA session_semantics;
SET search_path TO session_semantics, regress;

CREATE TABLE ev (id bigint, created date, ts timestamptz, iv interval, f float8);
INSERT INTO ev VALUES
	(1, '2024-01-07', '2024-01-01 01:42-08', '-3 mons', 0.1 + 0.2),
	(2, '2024-01-08', '2024-01-02 23:42-08', '1 day -02:00', 1.0 / 3),
	(3, '2024-02-29', '2024-03-10 02:30+00', '1 year 2 mons 3 days', 1e-300);
CREATE TABLE ev_local AS SELECT * FROM ev;
SELECT distdb.create_distributed_table('ev', 'id', 4);

-- casts to text run on the shards, with the session's styles
SET datestyle = 'Postgres, MDY';
SET intervalstyle = iso_8601;
SET timezone = 'America/Los_Angeles';
SELECT check_query('SELECT created::text, ts::text, iv::text FROM ev WHERE id = 1');
SELECT check_query('SELECT count(*) FROM ev WHERE created::text = ''01-07-2024''');
SELECT check_query('SELECT id FROM ev WHERE ts::text LIKE ''Mon%'' ORDER BY id');
SELECT check_query('SELECT * FROM ev ORDER BY id');
SET datestyle = 'SQL, DMY';
SET intervalstyle = sql_standard;
SET timezone = 'Asia/Kolkata';
SELECT check_query('SELECT * FROM ev ORDER BY id');
SELECT check_query('SELECT id, iv::text, date_trunc(''day'', ts)::text FROM ev WHERE id = 2');
SELECT check_query('SELECT id FROM ev WHERE created = ''08/01/2024''');
SELECT check_query('SELECT id, extract(hour FROM ts) FROM ev ORDER BY id');
-- floats travel exactly
SELECT check_query('SELECT f = 0.1::float8 + 0.2::float8, f * 3 = 1.0 FROM ev WHERE id IN (1, 2) ORDER BY id');
SET extra_float_digits = 0;
SELECT check_query('SELECT sum(f), f::text FROM ev GROUP BY f ORDER BY f');
RESET extra_float_digits;
-- a SET undone by a rollback is undone on the nodes too
BEGIN;
SET LOCAL datestyle = 'ISO';
SELECT check_query('SELECT created::text FROM ev WHERE id = 1');
ROLLBACK;
SELECT check_query('SELECT created::text FROM ev WHERE id = 1');
RESET datestyle;
RESET intervalstyle;
RESET timezone;

-- now() is the coordinator's transaction time, on every shard
BEGIN;
SELECT pg_sleep(0.05);
UPDATE ev SET ts = now() WHERE id = 1;
UPDATE ev SET ts = now() WHERE id IN (2, 3);
SELECT count(*) AS same_time FROM ev WHERE ts = now();
SELECT id, ts = now() AS is_now, ts = statement_timestamp() AS is_statement_time
FROM ev WHERE id = 2;
SELECT current_user = (SELECT current_user FROM ev WHERE id = 3) AS same_user;
COMMIT;

-- INSERT ... RETURNING returns the rows in the order of the VALUES list
CREATE TABLE seq_t (id int, v text);
SELECT distdb.create_distributed_table('seq_t', 'id', 8);
INSERT INTO seq_t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e'),
	(6, 'f'), (7, 'g'), (8, 'h') RETURNING id, v;
BEGIN;
INSERT INTO seq_t VALUES (18, 'x'), (11, 'y'), (15, 'z'), (12, 'w') RETURNING *;
ROLLBACK;
SELECT count(*) FROM seq_t;

-- statement_timeout cancels the work on the nodes
SET statement_timeout = '200ms';
SELECT pg_sleep(5) FROM ev WHERE id = 1;
SELECT count(*) FROM (SELECT pg_sleep(1) FROM ev) s;
RESET statement_timeout;
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
SELECT pg_sleep(0.2);
\c - - 127.0.0.1 :worker_1_port
SELECT count(*) AS sleeping_on_worker_1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND pid <> pg_backend_pid();
\c - - 127.0.0.1 :worker_2_port
SELECT count(*) AS sleeping_on_worker_2 FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND pid <> pg_backend_pid();
\getenv coordinator_port DISTDB_COORDINATOR_PORT
\c - - 127.0.0.1 :coordinator_port

SET client_min_messages TO WARNING;
DROP TABLE session_semantics.ev, session_semantics.seq_t;
DROP SCHEMA session_semantics CASCADE;
