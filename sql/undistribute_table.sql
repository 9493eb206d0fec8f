--
-- undistribute_table: a distributed table becomes a local table of the
-- coordinator again, with all its rows; its shards and metadata go
--
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
\set coordinator_port :PORT
CREATE SCHEMA undistribute;
-- (the role exists on every node: shards get the schema's privileges)
CREATE ROLE regress_undistribute_user;
\c - - - :worker_1_port
CREATE ROLE regress_undistribute_user;
\c - - - :worker_2_port
CREATE ROLE regress_undistribute_user;
\c - - - :coordinator_port
GRANT USAGE ON SCHEMA undistribute TO regress_undistribute_user;
SET search_path TO undistribute, public;

CREATE TABLE events (id bigint, kind text NOT NULL, amount numeric CHECK (amount >= 0),
	created date DEFAULT '2024-01-01', doubled numeric GENERATED ALWAYS AS (amount * 2) STORED,
	PRIMARY KEY (id, kind));
CREATE INDEX events_kind ON events (kind);
INSERT INTO events (id, kind, amount)
SELECT g, 'kind ' || (g % 5), g / 10.0 FROM generate_series(1, 500) g;
ALTER TABLE events DROP COLUMN created;
SELECT distdb.create_distributed_table('events', 'id', 6);
INSERT INTO events (id, kind, amount) VALUES (501, 'late', 1), (502, 'late', NULL);
CREATE TABLE events_local AS SELECT * FROM events;
SELECT count(*) AS shards FROM distdb.distdb_shards WHERE table_name = 'events'::regclass;

-- a rollback keeps it distributed
BEGIN;
SELECT distdb.undistribute_table('events');
SELECT count(*) FROM events;
ROLLBACK;
SELECT count(*) AS shards FROM distdb.distdb_shards WHERE table_name = 'events'::regclass;
SELECT * FROM regress.check_query('SELECT kind, count(*), sum(amount), sum(doubled) FROM events GROUP BY kind ORDER BY kind');

SELECT distdb.undistribute_table('events');
SELECT count(*) AS shards FROM distdb.distdb_shards WHERE table_name = 'events'::regclass;
SELECT count(*) AS dist_table_rows FROM distdb.dist_table WHERE logicalrelid = 'events'::regclass;
-- the rows are in the coordinator's table now
SELECT count(*), sum(amount), sum(doubled) FROM ONLY events;
SELECT count(*) FROM events e JOIN events_local l USING (id, kind)
WHERE e.amount IS NOT DISTINCT FROM l.amount AND e.doubled IS NOT DISTINCT FROM l.doubled;
-- constraints and indexes hold as for any local table
INSERT INTO events (id, kind, amount) VALUES (1, 'kind 1', 3);
INSERT INTO events (id, kind, amount) VALUES (1000, 'x', -1);
EXPLAIN (COSTS OFF) SELECT * FROM events WHERE kind = 'late';
-- and it can be distributed again
SELECT distdb.create_distributed_table('events', 'id', 2);
SELECT count(*) FROM events;

-- bad input
SELECT distdb.undistribute_table('events_local');
SELECT distdb.undistribute_table(NULL);
SELECT distdb.undistribute_table('no_such_table');
SELECT distdb.undistribute_table('pg_class');
-- only the owner
SET ROLE regress_undistribute_user;
SELECT distdb.undistribute_table('undistribute.events');
RESET ROLE;
SELECT count(*) AS shards FROM distdb.distdb_shards WHERE table_name = 'events'::regclass;

DROP SCHEMA undistribute CASCADE;
DROP ROLE regress_undistribute_user;
\c - - - :worker_1_port
DROP ROLE regress_undistribute_user;
\c - - - :worker_2_port
DROP ROLE regress_undistribute_user;
