--
-- grants: GRANT and REVOKE on distributed tables (and on schemas holding
-- them) reach the shards, and shards created by create_distributed_table
-- get the privileges the table already had, so that connections to the
-- workers, which run as the current user, are allowed what the
-- coordinator allows.
--
\getenv host DISTDB_HOST
\getenv coordinator_port DISTDB_COORDINATOR_PORT
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT

-- The ACLs of the tables (or shards) of schema grants and of their columns,
-- and of the schema: shard ids are masked, so on a worker the shards with
-- the same ACL make one row with their count; the superuser running the
-- tests is shown as <super>.
\set acls 'SELECT regexp_replace(object, ''_[0-9]{6,}(?=$|[.])'', ''_<id>'') AS object, regexp_replace(acl::text, ''(?<=[{,/])'' || current_user || ''(?=[=/,}"])'', ''<super>'', ''g'') AS acl, count(*) FROM (SELECT c.relname::text AS object, c.relacl AS acl FROM pg_class c WHERE c.relnamespace = ''grants''::regnamespace AND c.relkind = ''r'' UNION ALL SELECT c.relname || ''.'' || a.attname, a.attacl FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid WHERE c.relnamespace = ''grants''::regnamespace AND c.relkind = ''r'' AND a.attacl IS NOT NULL UNION ALL SELECT ''schema '' || nspname, nspacl FROM pg_namespace WHERE nspname = ''grants'') t GROUP BY 1, 2 ORDER BY 1, 2'

--
-- The roles exist on every node (distdb does not create roles).
--
CREATE ROLE regress_grant_reader LOGIN;
CREATE ROLE regress_grant_writer LOGIN;
CREATE ROLE regress_grant_columns LOGIN;
CREATE ROLE regress_grant_delegate LOGIN;
CREATE ROLE "regress_grant Other" LOGIN;
CREATE ROLE regress_grant_owner LOGIN;
\c regression - :host :worker_1_port
CREATE ROLE regress_grant_reader LOGIN;
CREATE ROLE regress_grant_writer LOGIN;
CREATE ROLE regress_grant_columns LOGIN;
CREATE ROLE regress_grant_delegate LOGIN;
CREATE ROLE "regress_grant Other" LOGIN;
CREATE ROLE regress_grant_owner LOGIN;
\c regression - :host :worker_2_port
CREATE ROLE regress_grant_reader LOGIN;
CREATE ROLE regress_grant_writer LOGIN;
CREATE ROLE regress_grant_columns LOGIN;
CREATE ROLE regress_grant_delegate LOGIN;
CREATE ROLE "regress_grant Other" LOGIN;
CREATE ROLE regress_grant_owner LOGIN;
\c regression - :host :coordinator_port

--
-- 1. Grants made before the table is distributed: on the table, on
-- columns, with grant option and by a grantee holding the grant option
-- (grantor kept); the schema's privileges come along when distdb creates
-- the schema on the workers.
--
CREATE SCHEMA grants;
GRANT USAGE ON SCHEMA grants TO regress_grant_reader, regress_grant_writer,
	regress_grant_columns, regress_grant_delegate, "regress_grant Other";
GRANT USAGE, CREATE ON SCHEMA grants TO regress_grant_owner;
SET search_path TO grants;
CREATE TABLE g_pre (id bigint NOT NULL, secret text, note text, n int);
INSERT INTO g_pre SELECT i % 10, 'secret ' || i, 'note ' || i, i FROM generate_series(1, 40) i;
GRANT SELECT ON g_pre TO regress_grant_reader;
GRANT SELECT (id, note), UPDATE (note) ON g_pre TO regress_grant_columns;
GRANT SELECT, INSERT ON g_pre TO regress_grant_delegate WITH GRANT OPTION;
SET ROLE regress_grant_delegate;
GRANT SELECT ON g_pre TO "regress_grant Other";
RESET ROLE;
-- the commands that give a shard those privileges
SELECT regexp_replace(regexp_replace(c, '_[0-9]{6,}\M', '_<id>', 'g'),
					  '\m' || current_user || '\M', '<super>', 'g') AS command
FROM distdb.distdb_shard_ddl_commands('g_pre') c;
SELECT distdb.create_distributed_table('g_pre', 'id', 4);
:acls;
\c regression - :host :worker_1_port
:acls;
\c regression - :host :worker_2_port
:acls;
\c regression - :host :coordinator_port
SET search_path TO grants;

-- the grantees can use what they were granted
SET ROLE regress_grant_reader;
SELECT count(*), sum(n) FROM g_pre;
SELECT n, secret FROM g_pre WHERE id = 3 ORDER BY n;
RESET ROLE;
SET ROLE "regress_grant Other";
SELECT count(*) FROM g_pre WHERE id = 4;
RESET ROLE;
SET ROLE regress_grant_columns;
SELECT id, note FROM g_pre WHERE id = 5 ORDER BY note;
UPDATE g_pre SET note = upper(note) WHERE id = 5 RETURNING id, note;
\set VERBOSITY terse
SELECT secret FROM g_pre WHERE id = 5;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
RESET ROLE;
SET ROLE regress_grant_delegate;
INSERT INTO g_pre VALUES (11, 'by delegate', 'x', 100);
SELECT n, secret FROM g_pre WHERE id = 11;
RESET ROLE;

--
-- 2. GRANT and REVOKE on a distributed table reach its shards.
--
CREATE TABLE g_orders (id bigint NOT NULL, secret text, note text, n int);
INSERT INTO g_orders SELECT i % 10, 'secret ' || i, 'note ' || i, i FROM generate_series(1, 40) i;
SELECT distdb.create_distributed_table('g_orders', 'id', 4);
CREATE TABLE g_local (id bigint);
\set VERBOSITY terse
-- before any grant: refused on the coordinator
SET ROLE regress_grant_reader;
SELECT count(*) FROM g_orders;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- one statement naming a local and a distributed table, quoted names
GRANT SELECT ON TABLE g_local, g_orders TO regress_grant_reader, "regress_grant Other";
GRANT SELECT, INSERT, UPDATE (note, n), DELETE ON g_orders TO regress_grant_writer;
GRANT ALL (note) ON g_orders TO regress_grant_columns;
GRANT ALL ON g_orders TO regress_grant_delegate WITH GRANT OPTION;
:acls;
\c regression - :host :worker_1_port
:acls;
\c regression - :host :worker_2_port
:acls;
\c regression - :host :coordinator_port
SET search_path TO grants;
\set VERBOSITY terse

SET ROLE regress_grant_reader;
SELECT count(*), sum(n) FROM g_orders;
SELECT n FROM g_orders WHERE id = 2 ORDER BY n;
INSERT INTO g_orders VALUES (1, 'x', 'y', 1);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_grant_writer;
INSERT INTO g_orders VALUES (12, 'by writer', 'w', 200), (13, 'by writer', 'w', 201);
UPDATE g_orders SET note = 'updated', n = n + 1 WHERE id = 12;
UPDATE g_orders SET n = n + 1 WHERE n = 201;
UPDATE g_orders SET secret = 'no' WHERE id = 12;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM g_orders WHERE id = 13;
RESET ROLE;
SET ROLE regress_grant_columns;
SELECT note FROM g_orders WHERE note = 'updated';
SELECT count(note) FROM g_orders;
INSERT INTO g_orders (id, note) VALUES (1, 'x');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_grant_delegate;
SELECT id, secret, note, n FROM g_orders WHERE id = 12;
RESET ROLE;

-- REVOKE: refused again, and gone from the shards
REVOKE SELECT ON g_orders FROM regress_grant_reader;
REVOKE UPDATE (n) ON g_orders FROM regress_grant_writer RESTRICT;
SET ROLE regress_grant_reader;
SELECT count(*) FROM g_orders;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM g_local;
RESET ROLE;
SET ROLE regress_grant_writer;
UPDATE g_orders SET n = 0 WHERE id = 12;
\echo :LAST_ERROR_SQLSTATE
UPDATE g_orders SET note = 'again' WHERE id = 12;
RESET ROLE;

--
-- 3. Grant options: a grantee grants further (GRANTED BY CURRENT_ROLE is
-- resolved to its name), then REVOKE GRANT OPTION FOR ... CASCADE takes
-- the option and what was granted through it.
--
SET ROLE regress_grant_delegate;
GRANT SELECT, UPDATE ON g_orders TO regress_grant_reader GRANTED BY CURRENT_ROLE;
RESET ROLE;
SET ROLE regress_grant_reader;
SELECT count(*) FROM g_orders WHERE id = 12;
RESET ROLE;
REVOKE GRANT OPTION FOR SELECT ON g_orders FROM regress_grant_delegate RESTRICT;
\echo :LAST_ERROR_SQLSTATE
REVOKE GRANT OPTION FOR SELECT ON g_orders FROM regress_grant_delegate CASCADE;
SET ROLE regress_grant_reader;
SELECT count(*) FROM g_orders WHERE id = 12;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- PUBLIC, and SESSION_USER resolved on the coordinator (on the workers,
-- the session user would be the current user, regress_grant_delegate)
GRANT SELECT (id) ON g_orders TO PUBLIC;
SET ROLE regress_grant_delegate;
GRANT TRIGGER ON g_orders TO SESSION_USER;
RESET ROLE;
:acls;
\c regression - :host :worker_1_port
:acls;
\c regression - :host :worker_2_port
:acls;
\c regression - :host :coordinator_port
SET search_path TO grants;
\set VERBOSITY terse
-- a privilege on one column is enough for count(*)
SET ROLE regress_grant_reader;
SELECT count(*) FROM g_orders;
SELECT count(id) FROM g_orders;
RESET ROLE;
REVOKE SELECT (id) ON g_orders FROM PUBLIC;

--
-- 4. ON ALL TABLES IN SCHEMA, and GRANT / REVOKE on the schema.
--
GRANT SELECT, TRUNCATE ON ALL TABLES IN SCHEMA grants TO "regress_grant Other";
SET ROLE "regress_grant Other";
SELECT count(*) FROM g_orders;
SELECT count(*) FROM g_pre;
RESET ROLE;
REVOKE USAGE ON SCHEMA grants FROM "regress_grant Other";
SET ROLE "regress_grant Other";
SELECT count(*) FROM grants.g_orders;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
:acls;
\c regression - :host :worker_1_port
:acls;
\c regression - :host :worker_2_port
:acls;
\c regression - :host :coordinator_port
SET search_path TO grants;
\set VERBOSITY terse
GRANT USAGE ON SCHEMA grants TO "regress_grant Other";
REVOKE ALL ON ALL TABLES IN SCHEMA grants FROM "regress_grant Other";
SET ROLE "regress_grant Other";
SELECT count(*) FROM g_orders;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

--
-- 5. A GRANT rolled back leaves the shards unchanged, also when it ran in
-- a subtransaction; a GRANT a worker refuses rolls back on the coordinator.
--
BEGIN;
GRANT DELETE ON g_orders TO regress_grant_reader;
REVOKE ALL ON g_orders FROM regress_grant_writer;
ROLLBACK;
BEGIN;
SAVEPOINT before_grant;
GRANT INSERT ON g_orders TO regress_grant_reader;
ROLLBACK TO SAVEPOINT before_grant;
GRANT TRUNCATE ON g_orders TO regress_grant_reader;
COMMIT;
CREATE ROLE regress_grant_coordinator_only;
GRANT SELECT ON g_orders TO regress_grant_coordinator_only;
\echo :LAST_ERROR_SQLSTATE
SELECT relacl::text LIKE '%coordinator_only%' AS granted FROM pg_class WHERE oid = 'g_orders'::regclass;
DROP ROLE regress_grant_coordinator_only;
:acls;
\c regression - :host :worker_1_port
:acls;
\c regression - :host :worker_2_port
:acls;
\c regression - :host :coordinator_port
SET search_path TO grants;
\set VERBOSITY terse

--
-- 6. A table owned by a non-superuser, distributed and granted by its
-- owner; privileges granted through a grant option cannot be given to the
-- shards when the owner cannot act as the grantor.
--
SET ROLE regress_grant_owner;
CREATE TABLE g_owned (id int, v text);
INSERT INTO g_owned VALUES (1, 'one'), (2, 'two');
GRANT SELECT (id) ON g_owned TO regress_grant_reader;
SELECT distdb.create_distributed_table('g_owned', 'id', 2);
GRANT SELECT ON g_owned TO regress_grant_writer;
GRANT UPDATE ON g_owned TO regress_grant_delegate WITH GRANT OPTION;
RESET ROLE;
SET ROLE regress_grant_reader;
SELECT id FROM g_owned ORDER BY id;
RESET ROLE;
SET ROLE regress_grant_writer;
SELECT * FROM g_owned ORDER BY id;
RESET ROLE;
SET ROLE regress_grant_owner;
CREATE TABLE g_owned_delegated (id int);
GRANT SELECT ON g_owned_delegated TO regress_grant_delegate WITH GRANT OPTION;
RESET ROLE;
SET ROLE regress_grant_delegate;
GRANT SELECT ON g_owned_delegated TO regress_grant_reader;
RESET ROLE;
SET ROLE regress_grant_owner;
SELECT distdb.create_distributed_table('g_owned_delegated', 'id', 2);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- a superuser can
SELECT distdb.create_distributed_table('g_owned_delegated', 'id', 2);
:acls;
\c regression - :host :worker_1_port
:acls;
\c regression - :host :worker_2_port
:acls;
\c regression - :host :coordinator_port
SET search_path TO grants;

--
-- 7. A schema distdb creates on the workers gets the coordinator schema's
-- privileges and, when a superuser distributes, its owner.
--
CREATE SCHEMA grants_owned AUTHORIZATION regress_grant_owner;
GRANT USAGE ON SCHEMA grants_owned TO regress_grant_reader;
CREATE TABLE grants_owned.g_in_owned (id int);
SELECT distdb.create_distributed_table('grants_owned.g_in_owned', 'id', 2);
\set schema_acl 'SELECT nspname, pg_get_userbyid(nspowner) AS owner, nspacl FROM pg_namespace WHERE nspname = ''grants_owned'''
:schema_acl;
\c regression - :host :worker_1_port
:schema_acl;
\c regression - :host :worker_2_port
:schema_acl;
\c regression - :host :coordinator_port
SET search_path TO grants;

-- clean up, on the coordinator and on the workers
DROP TABLE g_pre, g_orders, g_local, g_owned, g_owned_delegated,
	grants_owned.g_in_owned;
DROP SCHEMA grants, grants_owned;
DROP ROLE regress_grant_reader, regress_grant_writer, regress_grant_columns,
	regress_grant_delegate, "regress_grant Other", regress_grant_owner;
\c regression - :host :worker_1_port
DROP SCHEMA grants, grants_owned;
DROP ROLE regress_grant_reader, regress_grant_writer, regress_grant_columns,
	regress_grant_delegate, "regress_grant Other", regress_grant_owner;
\c regression - :host :worker_2_port
DROP SCHEMA grants, grants_owned;
DROP ROLE regress_grant_reader, regress_grant_writer, regress_grant_columns,
	regress_grant_delegate, "regress_grant Other", regress_grant_owner;
\c regression - :host :coordinator_port
