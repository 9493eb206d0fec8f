--
-- modifications: INSERT, UPDATE and DELETE on distributed tables.  Every
-- statement also runs on an identical local table, and the two tables are
-- compared after each step.
--
CREATE SCHEMA modifications;
SET search_path TO modifications;
\set VERBOSITY terse

-- show_error(q) runs q and returns its SQLSTATE and message (shard name
-- suffixes removed), or 'no error'
CREATE FUNCTION show_error(query text) RETURNS text
LANGUAGE plpgsql AS $fn$
BEGIN
	EXECUTE query;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '_[0-9]{6,}', '', 'g');
END
$fn$;

CREATE TABLE mod_t (
	id bigint NOT NULL,
	k int NOT NULL,
	v text,
	n int CHECK (n >= 0),
	UNIQUE (id, k)
);
INSERT INTO mod_t SELECT i % 40, i, 'v' || i, i % 13 FROM generate_series(1, 400) i;
CREATE TABLE mod_t_local (LIKE mod_t INCLUDING ALL);
INSERT INTO mod_t_local SELECT * FROM mod_t;
SELECT distdb.create_distributed_table('mod_t', 'id');

-- rows of one table that the other does not have (none, when all is well)
CREATE VIEW mod_diff AS
SELECT 'only distributed' AS side, * FROM
	(SELECT * FROM mod_t EXCEPT ALL SELECT * FROM mod_t_local) a
UNION ALL
SELECT 'only local', * FROM
	(SELECT * FROM mod_t_local EXCEPT ALL SELECT * FROM mod_t) b;
SELECT * FROM mod_diff;
SELECT count(*) FROM mod_t;

-- from here on psql prints the command tags, with their row counts
\set QUIET off

-- a single row
INSERT INTO mod_t VALUES (1, 1001, 'single', 1);
INSERT INTO mod_t_local VALUES (1, 1001, 'single', 1);
INSERT INTO mod_t (k, id, n) VALUES (1002, 2, 2);
INSERT INTO mod_t_local (k, id, n) VALUES (1002, 2, 2);
INSERT INTO mod_t VALUES (3, 1003, 'returning', 3) RETURNING id, k, v || '!' AS loud, n * 10 AS n10;
INSERT INTO mod_t_local VALUES (3, 1003, 'returning', 3) RETURNING id, k, v || '!' AS loud, n * 10 AS n10;
INSERT INTO mod_t VALUES (4, 1004, NULL, NULL) RETURNING *;
INSERT INTO mod_t_local VALUES (4, 1004, NULL, NULL) RETURNING *;
INSERT INTO mod_t VALUES (5::int, 1005, 'cast', '5') RETURNING id, pg_typeof(id), n;
INSERT INTO mod_t_local VALUES (5::int, 1005, 'cast', '5') RETURNING id, pg_typeof(id), n;
INSERT INTO mod_t VALUES (-6, 1006, 'expressions' || 1, 2 + 3 * 4);
INSERT INTO mod_t_local VALUES (-6, 1006, 'expressions' || 1, 2 + 3 * 4);
SELECT * FROM mod_diff;

-- many rows in one statement, over many shards
INSERT INTO mod_t VALUES
	(100, 2001, 'multi', 1), (101, 2002, 'multi', 2), (102, 2003, 'multi', 3),
	(103, 2004, 'multi', 4), (104, 2005, 'multi', 5), (105, 2006, 'multi', 6),
	(106, 2007, 'multi', 7), (107, 2008, 'multi', 8), (108, 2009, 'multi', 9),
	(109, 2010, 'multi', 10), (110, 2011, 'multi', 11), (111, 2012, 'multi', 12),
	(100, 2013, 'multi', 13), (100, 2014, NULL, NULL), (-1, 2015, '', 0);
INSERT INTO mod_t_local VALUES
	(100, 2001, 'multi', 1), (101, 2002, 'multi', 2), (102, 2003, 'multi', 3),
	(103, 2004, 'multi', 4), (104, 2005, 'multi', 5), (105, 2006, 'multi', 6),
	(106, 2007, 'multi', 7), (107, 2008, 'multi', 8), (108, 2009, 'multi', 9),
	(109, 2010, 'multi', 10), (110, 2011, 'multi', 11), (111, 2012, 'multi', 12),
	(100, 2013, 'multi', 13), (100, 2014, NULL, NULL), (-1, 2015, '', 0);
SELECT regress.sorted_rows('INSERT INTO mod_t VALUES (120, 3001, ''r'', 1), (121, 3002, ''r'', 2), (122, 3003, ''r'', 3), (120, 3004, ''r'', 4) RETURNING id, k, n + 100');
SELECT regress.sorted_rows('INSERT INTO mod_t_local VALUES (120, 3001, ''r'', 1), (121, 3002, ''r'', 2), (122, 3003, ''r'', 3), (120, 3004, ''r'', 4) RETURNING id, k, n + 100');
SELECT * FROM mod_diff;
SELECT count(*) FROM mod_t;
SELECT count(*) FROM mod_t_local;

-- UPDATE and DELETE of one distribution value
UPDATE mod_t SET n = n + 1 WHERE id = 7;
UPDATE mod_t_local SET n = n + 1 WHERE id = 7;
UPDATE mod_t SET v = upper(v), n = 0 WHERE id = 8 AND k < 100 RETURNING id, k, v, n;
UPDATE mod_t_local SET v = upper(v), n = 0 WHERE id = 8 AND k < 100 RETURNING id, k, v, n;
UPDATE mod_t SET v = NULL WHERE id = 9 AND k = 9 RETURNING *;
UPDATE mod_t_local SET v = NULL WHERE id = 9 AND k = 9 RETURNING *;
UPDATE mod_t SET n = 5 WHERE id = 9999;
UPDATE mod_t_local SET n = 5 WHERE id = 9999;
UPDATE mod_t SET n = 5 WHERE id = 10 AND id = 11;
UPDATE mod_t_local SET n = 5 WHERE id = 10 AND id = 11;
DELETE FROM mod_t WHERE id = 12;
DELETE FROM mod_t_local WHERE id = 12;
DELETE FROM mod_t WHERE id = 13 AND n > 6 RETURNING id, k, n;
DELETE FROM mod_t_local WHERE id = 13 AND n > 6 RETURNING id, k, n;
DELETE FROM mod_t WHERE id = 9999;
DELETE FROM mod_t_local WHERE id = 9999;
SELECT * FROM mod_diff;

-- UPDATE and DELETE on all shards
UPDATE mod_t SET n = n * 2 WHERE n = 3;
UPDATE mod_t_local SET n = n * 2 WHERE n = 3;
UPDATE mod_t SET v = v || '+' WHERE k BETWEEN 200 AND 260 AND v IS NOT NULL;
UPDATE mod_t_local SET v = v || '+' WHERE k BETWEEN 200 AND 260 AND v IS NOT NULL;
UPDATE mod_t SET n = n + 1 WHERE k = 333 RETURNING id, k, n;
UPDATE mod_t_local SET n = n + 1 WHERE k = 333 RETURNING id, k, n;
SELECT regress.sorted_rows('UPDATE mod_t SET n = 12 WHERE k IN (50, 150, 250, 351) RETURNING id, k, n, v');
SELECT regress.sorted_rows('UPDATE mod_t_local SET n = 12 WHERE k IN (50, 150, 250, 351) RETURNING id, k, n, v');
UPDATE mod_t SET n = CASE WHEN n > 5 THEN n - 5 ELSE n END;
UPDATE mod_t_local SET n = CASE WHEN n > 5 THEN n - 5 ELSE n END;
UPDATE mod_t SET n = 1 WHERE id IN (20, 21, 22);
UPDATE mod_t_local SET n = 1 WHERE id IN (20, 21, 22);
DELETE FROM mod_t WHERE v LIKE '%5';
DELETE FROM mod_t_local WHERE v LIKE '%5';
DELETE FROM mod_t WHERE k = 377 RETURNING *;
DELETE FROM mod_t_local WHERE k = 377 RETURNING *;
SELECT regress.sorted_rows('DELETE FROM mod_t WHERE k > 390 AND k <= 400 RETURNING k, id');
SELECT regress.sorted_rows('DELETE FROM mod_t_local WHERE k > 390 AND k <= 400 RETURNING k, id');
DELETE FROM mod_t WHERE id = ANY (ARRAY[30, 31]);
DELETE FROM mod_t_local WHERE id = ANY (ARRAY[30, 31]);
DELETE FROM mod_t WHERE false;
DELETE FROM mod_t_local WHERE false;
SELECT * FROM mod_diff;
SELECT count(*) FROM mod_t;
SELECT count(*) FROM mod_t_local;

-- transactions: committed writes stay, rolled-back writes are gone on every shard
BEGIN;
INSERT INTO mod_t VALUES (200, 4001, 'tx', 1);
INSERT INTO mod_t VALUES (201, 4002, 'tx', 2), (202, 4003, 'tx', 3);
UPDATE mod_t SET n = n + 10 WHERE id = 1;
DELETE FROM mod_t WHERE id = 2;
UPDATE mod_t SET v = 'tx-all' WHERE k % 50 = 0;
COMMIT;
BEGIN;
INSERT INTO mod_t_local VALUES (200, 4001, 'tx', 1);
INSERT INTO mod_t_local VALUES (201, 4002, 'tx', 2), (202, 4003, 'tx', 3);
UPDATE mod_t_local SET n = n + 10 WHERE id = 1;
DELETE FROM mod_t_local WHERE id = 2;
UPDATE mod_t_local SET v = 'tx-all' WHERE k % 50 = 0;
COMMIT;
SELECT * FROM mod_diff;

BEGIN;
INSERT INTO mod_t VALUES (300, 5001, 'rolled back', 1);
INSERT INTO mod_t VALUES (301, 5002, 'rolled back', 1), (302, 5003, 'rolled back', 1), (303, 5004, 'rolled back', 1);
UPDATE mod_t SET n = n + 100 WHERE id = 3;
UPDATE mod_t SET v = 'rolled back' WHERE n = 1;
DELETE FROM mod_t WHERE id = 4;
DELETE FROM mod_t WHERE k % 7 = 0;
-- read your writes
SELECT * FROM mod_t WHERE id = 300;
SELECT id, k FROM mod_t WHERE v = 'rolled back' AND k > 5000 ORDER BY k;
SELECT count(*) FROM mod_t WHERE id = 4;
SELECT count(*) FROM mod_t WHERE k % 7 = 0;
SELECT n FROM mod_t WHERE id = 3 ORDER BY k LIMIT 3;
ROLLBACK;
SELECT count(*) FROM mod_t WHERE v = 'rolled back';
SELECT count(*) FROM mod_t WHERE id IN (300, 301, 302, 303);
SELECT * FROM mod_diff;

-- an error rolls back the whole transaction
BEGIN;
INSERT INTO mod_t VALUES (310, 5101, 'aborted', 1);
UPDATE mod_t SET v = 'aborted' WHERE k % 3 = 0;
INSERT INTO mod_t VALUES (NULL, 5102, 'null id', 1);
SELECT 1;
ROLLBACK;
SELECT count(*) FROM mod_t WHERE v = 'aborted';
SELECT * FROM mod_diff;

-- savepoints
BEGIN;
INSERT INTO mod_t VALUES (400, 6001, 'before savepoint', 1);
UPDATE mod_t SET n = 11 WHERE id = 5;
SAVEPOINT s1;
INSERT INTO mod_t VALUES (401, 6002, 'after s1', 1);
UPDATE mod_t SET n = 12 WHERE id = 5;
DELETE FROM mod_t WHERE id = 6;
UPDATE mod_t SET v = 'after s1' WHERE k % 11 = 0;
SELECT count(*) FROM mod_t WHERE v = 'after s1';
ROLLBACK TO SAVEPOINT s1;
SELECT count(*) FROM mod_t WHERE v = 'after s1';
SAVEPOINT s2;
INSERT INTO mod_t VALUES (402, 6003, 'after s2', 1);
RELEASE SAVEPOINT s2;
SAVEPOINT s3;
\set VERBOSITY sqlstate
INSERT INTO mod_t VALUES (5, 1005, 'duplicate', 1);
\set VERBOSITY terse
ROLLBACK TO SAVEPOINT s3;
UPDATE mod_t SET v = 'after s3' WHERE id = 7;
COMMIT;
BEGIN;
INSERT INTO mod_t_local VALUES (400, 6001, 'before savepoint', 1);
UPDATE mod_t_local SET n = 11 WHERE id = 5;
INSERT INTO mod_t_local VALUES (402, 6003, 'after s2', 1);
UPDATE mod_t_local SET v = 'after s3' WHERE id = 7;
COMMIT;
SELECT * FROM mod_diff;
SELECT id, k, v, n FROM mod_t WHERE id IN (5, 400, 401, 402) ORDER BY id, k;

--
-- bad input: each is refused, and nothing changes
--
-- NULL distribution value
INSERT INTO mod_t VALUES (NULL, 7001, 'null', 1);
INSERT INTO mod_t (k, v) VALUES (7002, 'no id');
INSERT INTO mod_t VALUES (50, 7003, 'ok', 1), (NULL, 7004, 'null', 1);
-- changing the distribution column moves rows (done on the local copy
-- too; more in modify_via_coordinator.sql); to NULL is refused
UPDATE mod_t SET id = 51 WHERE id = 50;
UPDATE mod_t SET id = id + 1 WHERE k = 10;
UPDATE mod_t_local SET id = id + 1 WHERE k = 10;
UPDATE mod_t SET id = NULL WHERE k = 11;
-- INSERT ... SELECT works (done on the local copy too); a duplicate key a
-- shard reports aborts all of it
INSERT INTO mod_t SELECT 52, 7005, 'select', 1;
INSERT INTO mod_t_local SELECT 52, 7005, 'select', 1;
INSERT INTO mod_t SELECT * FROM mod_t_local WHERE id = 1;
-- ON CONFLICT (more in on_conflict.sql)
INSERT INTO mod_t VALUES (1, 1001, 'conflict', 1) ON CONFLICT DO NOTHING;
INSERT INTO mod_t_local VALUES (1, 1001, 'conflict', 1) ON CONFLICT DO NOTHING;
INSERT INTO mod_t VALUES (1, 1001, 'conflict', 1) ON CONFLICT (id, k) DO UPDATE SET v = 'updated';
INSERT INTO mod_t_local VALUES (1, 1001, 'conflict', 1) ON CONFLICT (id, k) DO UPDATE SET v = 'updated';
-- not joined shard by shard: through the coordinator (done on the local
-- copy too; more in update_from.sql and modify_via_coordinator.sql)
UPDATE mod_t SET v = l.v || '+' FROM mod_t_local l WHERE mod_t.id = l.id AND mod_t.k = l.k AND mod_t.id = 1;
UPDATE mod_t_local SET v = v || '+' WHERE id = 1;
UPDATE mod_t SET v = 'from' FROM (VALUES (1)) x(a) WHERE id = x.a AND k < 100;
UPDATE mod_t_local SET v = 'from' FROM (VALUES (1)) x(a) WHERE id = x.a AND k < 100;
DELETE FROM mod_t USING mod_t_local l WHERE mod_t.id = l.id AND mod_t.k = l.k AND l.id = 2 AND l.k > 300;
DELETE FROM mod_t_local WHERE id = 2 AND k > 300;
SELECT * FROM mod_diff;

-- errors raised by the shards keep their SQLSTATE
\set VERBOSITY sqlstate
-- unique violation: 23505
INSERT INTO mod_t VALUES (1, 1001, 'duplicate', 1);
INSERT INTO mod_t VALUES (60, 7101, 'dup', 1), (61, 7102, 'dup', 1), (1, 1001, 'duplicate', 1);
-- check violation: 23514
INSERT INTO mod_t VALUES (62, 7103, 'negative', -1);
UPDATE mod_t SET n = -1 WHERE id = 1;
UPDATE mod_t SET n = n - 5 WHERE k > 100;
-- division by zero: 22012 (the rows with k = 222 and k = 357 exist)
SELECT id, k FROM mod_t_local WHERE k IN (222, 357) ORDER BY k;
UPDATE mod_t SET n = 1 / (n - n) WHERE id = 1;
UPDATE mod_t SET n = 100 / abs(k - 357) WHERE k > 100;
DELETE FROM mod_t WHERE 1 / (k - 222) > 0;
SELECT count(*) FROM mod_t WHERE 10 / (k - k) > 1;
SELECT count(*) FROM mod_t WHERE id = 1 AND 10 / (k - k) > 1;
\set VERBOSITY terse
-- the same, with the messages
SELECT show_error($$INSERT INTO mod_t VALUES (1, 1001, 'duplicate', 1)$$);
SELECT show_error($$INSERT INTO mod_t VALUES (60, 7101, 'dup', 1), (61, 7102, 'dup', 1), (1, 1001, 'duplicate', 1)$$);
SELECT show_error($$INSERT INTO mod_t VALUES (62, 7103, 'negative', -1)$$);
SELECT show_error($$UPDATE mod_t SET n = n - 5 WHERE k > 100$$);
SELECT show_error($$UPDATE mod_t SET n = 100 / abs(k - 357) WHERE k > 100$$);
SELECT show_error($$DELETE FROM mod_t WHERE 1 / (k - 222) > 0$$);
SELECT * FROM mod_diff;
SELECT count(*) FROM mod_t;
SELECT count(*) FROM mod_t_local;

-- inside a transaction, a shard's error aborts it
BEGIN;
INSERT INTO mod_t VALUES (70, 7201, 'in tx', 1);
\set VERBOSITY sqlstate
UPDATE mod_t SET n = 100 / abs(k - 357) WHERE k > 100;
\set VERBOSITY terse
COMMIT;
SELECT count(*) FROM mod_t WHERE id = 70;
SELECT * FROM mod_diff;

\set QUIET on

--
-- defaults: serial, identity, constant and now() defaults are evaluated on
-- the coordinator, so a serial column gets unique values from its sequence
--
CREATE TABLE mod_defaults (
	id int NOT NULL,
	s serial,
	big bigserial,
	ident int GENERATED ALWAYS AS IDENTITY,
	ident2 bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 10),
	v text DEFAULT 'default v',
	d date DEFAULT date '2024-02-29',
	ts timestamptz DEFAULT now(),
	doubled int GENERATED ALWAYS AS (id * 2) STORED
);
SELECT distdb.create_distributed_table('mod_defaults', 'id');
CREATE TABLE mod_defaults_local (
	id int NOT NULL,
	s serial,
	big bigserial,
	ident int GENERATED ALWAYS AS IDENTITY,
	ident2 bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 10),
	v text DEFAULT 'default v',
	d date DEFAULT date '2024-02-29',
	ts timestamptz DEFAULT now(),
	doubled int GENERATED ALWAYS AS (id * 2) STORED
);
INSERT INTO mod_defaults (id) VALUES (1);
INSERT INTO mod_defaults_local (id) VALUES (1);
INSERT INTO mod_defaults (id, v) VALUES (2, 'two'), (3, DEFAULT), (4, NULL), (5, 'five');
INSERT INTO mod_defaults_local (id, v) VALUES (2, 'two'), (3, DEFAULT), (4, NULL), (5, 'five');
INSERT INTO mod_defaults VALUES (6, DEFAULT, DEFAULT, DEFAULT, 7, 'explicit', '2024-03-01');
INSERT INTO mod_defaults_local VALUES (6, DEFAULT, DEFAULT, DEFAULT, 7, 'explicit', '2024-03-01');
INSERT INTO mod_defaults (id, s, big) VALUES (7, 1000, 2000);
INSERT INTO mod_defaults_local (id, s, big) VALUES (7, 1000, 2000);
INSERT INTO mod_defaults (id, ident) OVERRIDING SYSTEM VALUE VALUES (8, 500);
INSERT INTO mod_defaults_local (id, ident) OVERRIDING SYSTEM VALUE VALUES (8, 500);
INSERT INTO mod_defaults (id) VALUES (9), (10), (11), (12), (13), (14), (15), (16);
INSERT INTO mod_defaults_local (id) VALUES (9), (10), (11), (12), (13), (14), (15), (16);
INSERT INTO mod_defaults DEFAULT VALUES;
INSERT INTO mod_defaults (ident, id) VALUES (1, 17);
SELECT id, s, big, ident, ident2, v, d, doubled FROM mod_defaults ORDER BY id;
SELECT id, s, big, ident, ident2, v, d, doubled FROM mod_defaults_local ORDER BY id;
SELECT count(*) FROM (
	SELECT id, s, big, ident, ident2, v, d, doubled FROM mod_defaults
	EXCEPT ALL
	SELECT id, s, big, ident, ident2, v, d, doubled FROM mod_defaults_local) a;
SELECT count(DISTINCT s) = count(*) AS serials_unique, count(DISTINCT ident) = count(*) AS identities_unique FROM mod_defaults;
SELECT currval('mod_defaults_s_seq'), currval('mod_defaults_big_seq');
-- now() as a default is the transaction's timestamp, as in PostgreSQL
BEGIN;
INSERT INTO mod_defaults (id) VALUES (20);
INSERT INTO mod_defaults (id) VALUES (21), (22);
CREATE TEMP TABLE mod_defaults_ts AS SELECT id, ts FROM mod_defaults WHERE id >= 20;
SELECT id, ts = now() AS ts_is_now FROM mod_defaults_ts ORDER BY id;
COMMIT;

DROP VIEW mod_diff;
DROP TABLE mod_t, mod_defaults;
DROP SCHEMA modifications CASCADE;
