--
-- permissions: privileges on distributed tables are checked on the
-- coordinator before anything is sent to a node, with PostgreSQL's errors
-- (SQLSTATE 42501); row-level security is refused.
--
\getenv host DISTDB_HOST
\getenv coordinator_port DISTDB_COORDINATOR_PORT
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT

--
-- The roles must exist on the workers too, since connections to the
-- workers run as the current user; distdb carries the privileges to the
-- shards (see grants.sql): the schema's when it creates the schema on the
-- workers, the table's when they are granted.
--
CREATE ROLE regress_perm_none LOGIN;
CREATE ROLE regress_perm_reader LOGIN;
CREATE ROLE regress_perm_writer LOGIN;
CREATE ROLE regress_perm_columns LOGIN;
\c regression - :host :worker_1_port
CREATE ROLE regress_perm_none LOGIN;
CREATE ROLE regress_perm_reader LOGIN;
CREATE ROLE regress_perm_writer LOGIN;
CREATE ROLE regress_perm_columns LOGIN;
\c regression - :host :worker_2_port
CREATE ROLE regress_perm_none LOGIN;
CREATE ROLE regress_perm_reader LOGIN;
CREATE ROLE regress_perm_writer LOGIN;
CREATE ROLE regress_perm_columns LOGIN;
\c regression - :host :coordinator_port

CREATE SCHEMA permissions;
SET search_path TO permissions;
GRANT USAGE ON SCHEMA permissions TO regress_perm_none, regress_perm_reader,
	regress_perm_writer, regress_perm_columns;

CREATE TABLE perm_orders (id bigint NOT NULL, secret text, public_note text, n int);
INSERT INTO perm_orders SELECT i % 20, 'secret ' || i, 'note ' || i, i FROM generate_series(1, 100) i;
CREATE TABLE perm_orders_local (LIKE perm_orders INCLUDING ALL);
INSERT INTO perm_orders_local SELECT * FROM perm_orders;
SELECT distdb.create_distributed_table('perm_orders', 'id');
GRANT SELECT ON perm_orders, perm_orders_local TO regress_perm_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON perm_orders, perm_orders_local TO regress_perm_writer;
GRANT SELECT (id, public_note), UPDATE (public_note)
	ON perm_orders, perm_orders_local TO regress_perm_columns;

-- the rows of the two tables (none differ)
CREATE VIEW perm_diff AS
SELECT 'only distributed' AS side, * FROM
	(SELECT * FROM perm_orders EXCEPT ALL SELECT * FROM perm_orders_local) a
UNION ALL
SELECT 'only local', * FROM
	(SELECT * FROM perm_orders_local EXCEPT ALL SELECT * FROM perm_orders) b;
SELECT * FROM perm_diff;

-- messages without the node in their DETAIL; remote commands are logged, so
-- a refused statement shows that nothing was sent
\set VERBOSITY terse
SET distdb.log_remote_commands = on;

--
-- no privileges at all: everything is refused on the coordinator
--
SET ROLE regress_perm_none;
SELECT * FROM perm_orders WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM perm_orders;
\echo :LAST_ERROR_SQLSTATE
SELECT o.id FROM perm_orders o JOIN (VALUES (1::bigint)) v(id) USING (id);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO perm_orders VALUES (1, 'x', 'y', 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO perm_orders VALUES (1, 'x', 'y', 1), (2, 'x', 'y', 2);
\echo :LAST_ERROR_SQLSTATE
UPDATE perm_orders SET n = 0 WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
UPDATE perm_orders SET n = 0;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM perm_orders WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM perm_orders;
\echo :LAST_ERROR_SQLSTATE
COPY perm_orders TO STDOUT;
\echo :LAST_ERROR_SQLSTATE
PREPARE perm_p(bigint) AS SELECT n FROM perm_orders WHERE id = $1;
EXECUTE perm_p(1);
\echo :LAST_ERROR_SQLSTATE
-- the same on the local table, for comparison
SELECT * FROM perm_orders_local WHERE id = 1;
DELETE FROM perm_orders_local WHERE id = 1;
RESET ROLE;

--
-- read-only access
--
SET ROLE regress_perm_reader;
SET distdb.log_remote_commands = off;
SELECT count(*), sum(n), max(secret) FROM perm_orders;
SELECT count(*), sum(n), max(secret) FROM perm_orders_local;
SELECT n, secret FROM perm_orders WHERE id = 3 ORDER BY n;
SELECT n, secret FROM perm_orders_local WHERE id = 3 ORDER BY n;
SET distdb.log_remote_commands = on;
INSERT INTO perm_orders VALUES (1, 'x', 'y', 1);
\echo :LAST_ERROR_SQLSTATE
UPDATE perm_orders SET n = 0 WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM perm_orders WHERE n > 50;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET distdb.log_remote_commands = off;
SELECT * FROM perm_diff;

--
-- read-write access: the same statements on both tables
--
SET ROLE regress_perm_writer;
INSERT INTO perm_orders VALUES (1, 'new secret', 'new note', 1000), (21, 'other', NULL, 1001);
INSERT INTO perm_orders_local VALUES (1, 'new secret', 'new note', 1000), (21, 'other', NULL, 1001);
UPDATE perm_orders SET n = n + 1 WHERE id = 2;
UPDATE perm_orders_local SET n = n + 1 WHERE id = 2;
UPDATE perm_orders SET public_note = 'changed' WHERE n % 10 = 0;
UPDATE perm_orders_local SET public_note = 'changed' WHERE n % 10 = 0;
DELETE FROM perm_orders WHERE id = 3;
DELETE FROM perm_orders_local WHERE id = 3;
DELETE FROM perm_orders WHERE n BETWEEN 40 AND 45;
DELETE FROM perm_orders_local WHERE n BETWEEN 40 AND 45;
SELECT count(*), sum(n) FROM perm_orders;
SELECT count(*), sum(n) FROM perm_orders_local;
RESET ROLE;
SELECT * FROM perm_diff;

--
-- column privileges: SELECT (id, public_note) and UPDATE (public_note)
--
SET ROLE regress_perm_columns;
SET distdb.log_remote_commands = on;
-- refused: columns without privileges, anywhere in the statement
SELECT secret FROM perm_orders WHERE id = 4;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM perm_orders WHERE id = 4;
\echo :LAST_ERROR_SQLSTATE
SELECT public_note FROM perm_orders WHERE n = 4;
\echo :LAST_ERROR_SQLSTATE
SELECT id, count(*) FROM perm_orders GROUP BY id ORDER BY max(secret);
\echo :LAST_ERROR_SQLSTATE
UPDATE perm_orders SET secret = 'x' WHERE id = 4;
\echo :LAST_ERROR_SQLSTATE
UPDATE perm_orders SET public_note = 'x' WHERE n = 4;
\echo :LAST_ERROR_SQLSTATE
UPDATE perm_orders SET public_note = 'x' WHERE id = 4 RETURNING n;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO perm_orders (id, public_note) VALUES (4, 'x');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM perm_orders WHERE id = 4;
\echo :LAST_ERROR_SQLSTATE
COPY perm_orders TO STDOUT;
\echo :LAST_ERROR_SQLSTATE
SET distdb.log_remote_commands = off;
-- allowed: only the granted columns
SELECT id, public_note FROM perm_orders WHERE id = 4 ORDER BY public_note;
SELECT id, public_note FROM perm_orders_local WHERE id = 4 ORDER BY public_note;
SELECT id, count(*), max(public_note) FROM perm_orders WHERE id IN (5, 6) GROUP BY id ORDER BY id;
SELECT id, count(*), max(public_note) FROM perm_orders_local WHERE id IN (5, 6) GROUP BY id ORDER BY id;
SELECT count(*) FROM perm_orders;
SELECT count(*) FROM perm_orders_local;
COPY (SELECT id, public_note FROM perm_orders WHERE id IN (9, 10) ORDER BY id, public_note) TO STDOUT WITH (FORMAT csv);
COPY (SELECT id, public_note FROM perm_orders_local WHERE id IN (9, 10) ORDER BY id, public_note) TO STDOUT WITH (FORMAT csv);
UPDATE perm_orders SET public_note = 'by columns role' WHERE id = 7;
UPDATE perm_orders_local SET public_note = 'by columns role' WHERE id = 7;
UPDATE perm_orders SET public_note = upper(public_note) WHERE id = 8 RETURNING id, public_note;
UPDATE perm_orders_local SET public_note = upper(public_note) WHERE id = 8 RETURNING id, public_note;
RESET ROLE;
SELECT * FROM perm_diff;

--
-- row-level security is not enforced on shards, so it is refused
--
CREATE TABLE perm_rls (id int, owner_name text);
ALTER TABLE perm_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY perm_rls_owner ON perm_rls USING (owner_name = current_user);
SELECT distdb.create_distributed_table('perm_rls', 'id');
SELECT count(*) FROM distdb.dist_table WHERE logicalrelid = 'perm_rls'::regclass;
ALTER TABLE perm_rls DISABLE ROW LEVEL SECURITY;
SELECT distdb.create_distributed_table('perm_rls', 'id');
ALTER TABLE perm_rls ENABLE ROW LEVEL SECURITY;
ALTER TABLE perm_rls FORCE ROW LEVEL SECURITY;
CREATE POLICY perm_rls_other ON perm_rls USING (id > 0);
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'perm_rls'::regclass;

-- clean up, on the coordinator and on the workers
DROP VIEW perm_diff;
DROP TABLE perm_orders, perm_rls;
DROP SCHEMA permissions CASCADE;
DROP ROLE regress_perm_none, regress_perm_reader, regress_perm_writer, regress_perm_columns;
\c regression - :host :worker_1_port
DROP OWNED BY regress_perm_none, regress_perm_reader, regress_perm_writer, regress_perm_columns;
DROP ROLE regress_perm_none, regress_perm_reader, regress_perm_writer, regress_perm_columns;
\c regression - :host :worker_2_port
DROP OWNED BY regress_perm_none, regress_perm_reader, regress_perm_writer, regress_perm_columns;
DROP ROLE regress_perm_none, regress_perm_reader, regress_perm_writer, regress_perm_columns;
\c regression - :host :coordinator_port
