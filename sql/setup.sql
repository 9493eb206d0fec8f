--
-- setup: install distdb on the coordinator and add the two workers
--
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
CREATE EXTENSION distdb;
SELECT distdb.distdb_add_node('127.0.0.1', :worker_1_port) AS node1;
SELECT distdb.distdb_add_node('127.0.0.1', :worker_2_port) AS node2;
-- adding a node again is a no-op that returns its id
SELECT distdb.distdb_add_node('127.0.0.1', :worker_1_port) AS node1_again;
SELECT nodeid, nodename, placement_count FROM distdb.distdb_nodes;
