--
-- node_management: distdb_add_node() and distdb_remove_node()
--
-- Runs after setup, which installed distdb and added the two workers.
-- Port numbers change from run to run, so they are never printed: errors
-- go through node_test_error(), which masks them.
--
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
\set coordinator_port :PORT

-- SQLSTATE, message, detail and hint of the error a command raises
CREATE FUNCTION node_test_error(command text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
	detail text;
	hint text;
BEGIN
	EXECUTE command;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN regexp_replace(state || ': ' || message
		|| CASE WHEN detail <> '' THEN E'\nDETAIL: ' || detail ELSE '' END
		|| CASE WHEN hint <> '' THEN E'\nHINT: ' || hint ELSE '' END,
		':[0-9]{4,5}\M', ':<port>', 'g');
END $$;

-- the workers setup added, in order
SELECT nodeid, nodename,
	   nodeport = :worker_1_port AS is_worker_1,
	   nodeport = :worker_2_port AS is_worker_2
FROM distdb.node ORDER BY nodeid;

-- setup installed distdb on the workers when it added them
\c - - - :worker_1_port
SELECT extname FROM pg_extension WHERE extname = 'distdb';
\c - - - :worker_2_port
SELECT extname FROM pg_extension WHERE extname = 'distdb';
\c - - - :coordinator_port

-- adding a node that is there already returns its id and changes nothing
SELECT distdb.distdb_add_node('127.0.0.1', :worker_1_port) =
	   (SELECT nodeid FROM distdb.node WHERE nodeport = :worker_1_port) AS same_id;
SELECT distdb.distdb_add_node('127.0.0.1', :worker_2_port) =
	   (SELECT nodeid FROM distdb.node WHERE nodeport = :worker_2_port) AS same_id;
SELECT count(*) FROM distdb.node;

-- bad addresses
SELECT node_test_error($$SELECT distdb.distdb_add_node('', 5432)$$);
SELECT node_test_error($$SELECT distdb.distdb_add_node('127.0.0.1', 0)$$);
SELECT node_test_error($$SELECT distdb.distdb_add_node('127.0.0.1', -1)$$);
SELECT node_test_error($$SELECT distdb.distdb_add_node('127.0.0.1', 65536)$$);
-- the functions are strict
SELECT distdb.distdb_add_node(NULL, 5432) IS NULL AS null_result;
SELECT distdb.distdb_add_node('127.0.0.1', NULL) IS NULL AS null_result;

-- a node nobody listens on
SELECT node_test_error($$SELECT distdb.distdb_add_node('127.0.0.1', 1)$$);

-- the coordinator itself
SELECT node_test_error(format('SELECT distdb.distdb_add_node(%L, %s)',
							  '127.0.0.1', :coordinator_port));

-- none of that added anything
SELECT count(*) FROM distdb.node;

-- removing a node that does not exist
SELECT node_test_error($$SELECT distdb.distdb_remove_node('127.0.0.1', 1)$$);
SELECT node_test_error($$SELECT distdb.distdb_remove_node('no-such-host', 5432)$$);

-- only superusers manage nodes
CREATE ROLE regress_node_user;
SET ROLE regress_node_user;
SELECT node_test_error($$SELECT distdb.distdb_add_node('127.0.0.1', 1)$$);
SELECT node_test_error($$SELECT distdb.distdb_remove_node('127.0.0.1', 1)$$);
-- nor write the catalog directly
SELECT node_test_error($$INSERT INTO distdb.node VALUES (100, 'x', 1)$$);
SELECT node_test_error($$DELETE FROM distdb.node$$);
-- but anyone may read it
SELECT count(*) FROM distdb.node;
RESET ROLE;
DROP ROLE regress_node_user;

-- without nodes, tables cannot be distributed (rolled back below)
CREATE TABLE node_test_table (id int);
BEGIN;
SELECT distdb.distdb_remove_node('127.0.0.1', :worker_1_port);
SELECT distdb.distdb_remove_node('127.0.0.1', :worker_2_port);
SELECT count(*) FROM distdb.node;
SELECT node_test_error($$SELECT distdb.create_distributed_table('node_test_table', 'id')$$);
ROLLBACK;
SELECT count(*) FROM distdb.node;

-- A third node: worker 1 once more under another name.  With three nodes
-- and three shards, each node gets one shard.
SELECT distdb.distdb_add_node('localhost', :worker_1_port) AS third_node \gset
SELECT :third_node > (SELECT nodeid FROM distdb.node WHERE nodeport = :worker_2_port) AS new_id;
SELECT nodename, nodeport = :worker_1_port AS is_worker_1, placement_count
FROM distdb.distdb_nodes ORDER BY nodeid;

SELECT distdb.create_distributed_table('node_test_table', 'id', 3);
SELECT shardindex, nodeid = :third_node AS on_third_node
FROM distdb.distdb_shards WHERE table_name = 'node_test_table'::regclass
ORDER BY shardindex;
SELECT nodename, placement_count FROM distdb.distdb_nodes ORDER BY nodeid;

-- a node that holds placements cannot be removed
SELECT node_test_error(format('SELECT distdb.distdb_remove_node(%L, %s)',
							  'localhost', :worker_1_port));
SELECT node_test_error(format('SELECT distdb.distdb_remove_node(%L, %s)',
							  '127.0.0.1', :worker_2_port));
SELECT count(*) FROM distdb.node;

-- once the table is gone, it can
DROP TABLE node_test_table;
\c - - - :worker_1_port
SELECT count(*) AS shards_left FROM pg_class WHERE relname LIKE 'node\_test\_table\_%';
\c - - - :worker_2_port
SELECT count(*) AS shards_left FROM pg_class WHERE relname LIKE 'node\_test\_table\_%';
\c - - - :coordinator_port
SELECT nodename, placement_count FROM distdb.distdb_nodes ORDER BY nodeid;
SELECT distdb.distdb_remove_node('localhost', :worker_1_port);
SELECT nodename, nodeport IN (:worker_1_port, :worker_2_port) AS is_worker
FROM distdb.node ORDER BY nodeid;

-- removing it again fails
SELECT node_test_error(format('SELECT distdb.distdb_remove_node(%L, %s)',
							  'localhost', :worker_1_port));

DROP FUNCTION node_test_error(text);
