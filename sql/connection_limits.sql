--
-- connection_limits: distdb.max_connections_per_node bounds the connections
-- a statement opens to each node; scans running at the same time (the two
-- sides of a join) share the limit, each with at least one connection.
-- distdb_node_connections() shows this session's connections.
--
CREATE SCHEMA connection_limits;
SET search_path TO connection_limits, regress;
CREATE TABLE t (id int, v int);
INSERT INTO t SELECT i, i % 10 FROM generate_series(1, 1000) i;
CREATE TABLE t_local AS SELECT * FROM t;
SELECT distdb.create_distributed_table('t', 'id', 16);
\c
SET search_path TO connection_limits, regress;
SET distdb.max_connections_per_node = 2;
SELECT check_query('SELECT v, count(*) FROM t GROUP BY v ORDER BY v');
SELECT nodeid, open_connections, in_use FROM distdb.distdb_node_connections() ORDER BY nodeid;
\c
SET search_path TO connection_limits, regress;
SET distdb.max_connections_per_node = 1;
SELECT check_query('SELECT count(*), sum(v) FROM t');
SELECT nodeid, open_connections, in_use FROM distdb.distdb_node_connections() ORDER BY nodeid;
SELECT check_query('SELECT a.id, b.id FROM t a JOIN t b ON b.id = a.v + 100 WHERE a.id < 5 ORDER BY 1');
SELECT nodeid, open_connections BETWEEN 1 AND 2 AS shared_limit, in_use FROM distdb.distdb_node_connections() ORDER BY nodeid;
\c
SET search_path TO connection_limits, regress;
SET distdb.max_connections_per_node = 4;
-- connections are kept for later statements and opened only when needed
SELECT count(*) FROM t;
SELECT nodeid, open_connections, in_use FROM distdb.distdb_node_connections() ORDER BY nodeid;
SELECT count(*) FROM t WHERE id = 5;
SELECT nodeid, open_connections, in_use FROM distdb.distdb_node_connections() ORDER BY nodeid;
SET distdb.max_connections_per_node = 0;
DROP TABLE t;
SET client_min_messages TO WARNING;
DROP SCHEMA connection_limits CASCADE;
