/* distdb--0.1.sql: catalog tables, views and SQL API of distdb 0.1 */

\echo Use "CREATE EXTENSION distdb" to load this file. \quit

/*
 * Catalog tables.  They are ordinary tables in schema distdb; the C code
 * reads them through their indexes (see src/metadata/catalog_read.c) and
 * keeps a per-backend cache that is invalidated whenever they change.  The
 * column order is mirrored by the Anum_* constants in
 * include/distdb/metadata_catalog.h.
 */
CREATE TABLE distdb.node (
	nodeid int NOT NULL,
	nodename text NOT NULL,
	nodeport int NOT NULL,
	CONSTRAINT node_pkey PRIMARY KEY (nodeid),
	CONSTRAINT node_name_port_key UNIQUE (nodename, nodeport)
);
CREATE SEQUENCE distdb.node_nodeid_seq AS int MINVALUE 1 OWNED BY distdb.node.nodeid;

CREATE TABLE distdb.colocation (
	colocationid int NOT NULL,
	shardcount int NOT NULL,
	distcoltype regtype NOT NULL,
	distcolcollation oid NOT NULL,
	isdefault bool NOT NULL,
	CONSTRAINT colocation_pkey PRIMARY KEY (colocationid)
);
CREATE SEQUENCE distdb.colocation_colocationid_seq AS int MINVALUE 1 OWNED BY distdb.colocation.colocationid;

/*
 * distmethod 'h': hash-distributed by column distattnum, in colocation
 * group colocationid; 'r': reference table, one shard with a placement on
 * every node, distattnum 0 and colocationid 0 (no group).
 */
CREATE TABLE distdb.dist_table (
	logicalrelid regclass NOT NULL,
	distmethod "char" NOT NULL,
	distattnum int2 NOT NULL,
	colocationid int NOT NULL,
	CONSTRAINT dist_table_pkey PRIMARY KEY (logicalrelid)
);

CREATE TABLE distdb.shard (
	shardid bigint NOT NULL,
	logicalrelid regclass NOT NULL,
	shardindex int NOT NULL,
	minvalue int NOT NULL,
	maxvalue int NOT NULL,
	CONSTRAINT shard_pkey PRIMARY KEY (shardid),
	CONSTRAINT shard_relid_index_key UNIQUE (logicalrelid, shardindex)
);
CREATE SEQUENCE distdb.shard_shardid_seq AS bigint MINVALUE 100000 OWNED BY distdb.shard.shardid;

CREATE TABLE distdb.placement (
	placementid bigint NOT NULL,
	shardid bigint NOT NULL,
	nodeid int NOT NULL,
	CONSTRAINT placement_pkey PRIMARY KEY (placementid),
	CONSTRAINT placement_shard_node_key UNIQUE (shardid, nodeid)
);
CREATE INDEX placement_nodeid_idx ON distdb.placement (nodeid);
CREATE SEQUENCE distdb.placement_placementid_seq AS bigint OWNED BY distdb.placement.placementid;

SELECT pg_catalog.pg_extension_config_dump('distdb.node', '');
SELECT pg_catalog.pg_extension_config_dump('distdb.colocation', '');
SELECT pg_catalog.pg_extension_config_dump('distdb.dist_table', '');
SELECT pg_catalog.pg_extension_config_dump('distdb.shard', '');
SELECT pg_catalog.pg_extension_config_dump('distdb.placement', '');

GRANT USAGE ON SCHEMA distdb TO PUBLIC;
GRANT SELECT ON distdb.node, distdb.colocation, distdb.dist_table,
	distdb.shard, distdb.placement TO PUBLIC;

/* Node management */
CREATE FUNCTION distdb.distdb_add_node(host text, port int)
	RETURNS int
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'distdb_add_node';
COMMENT ON FUNCTION distdb.distdb_add_node(text, int)
	IS 'add a worker node to the cluster and return its node id';
REVOKE ALL ON FUNCTION distdb.distdb_add_node(text, int) FROM PUBLIC;

CREATE FUNCTION distdb.distdb_remove_node(host text, port int)
	RETURNS void
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'distdb_remove_node';
COMMENT ON FUNCTION distdb.distdb_remove_node(text, int)
	IS 'remove a worker node that holds no shard placements';
REVOKE ALL ON FUNCTION distdb.distdb_remove_node(text, int) FROM PUBLIC;

/* Distributed tables */
CREATE FUNCTION distdb.create_distributed_table(
		"table" regclass,
		distribution_column text,
		shard_count int DEFAULT NULL,
		colocate_with text DEFAULT 'default')
	RETURNS void
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'create_distributed_table';
COMMENT ON FUNCTION distdb.create_distributed_table(regclass, text, int, text)
	IS 'hash-distribute a table over the worker nodes';

CREATE FUNCTION distdb.create_reference_table("table" regclass)
	RETURNS void
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'create_reference_table';
COMMENT ON FUNCTION distdb.create_reference_table(regclass)
	IS 'give a table one shard with a copy on every worker node';

/* Changing a table's distribution (src/operations/alter_distribution.c) */
CREATE FUNCTION distdb.undistribute_table("table" regclass)
	RETURNS void
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'undistribute_table';
COMMENT ON FUNCTION distdb.undistribute_table(regclass)
	IS 'turn a distributed table back into a local table with all its rows';

CREATE FUNCTION distdb.alter_distributed_table(
		"table" regclass,
		shard_count int DEFAULT NULL,
		distribution_column text DEFAULT NULL,
		colocate_with text DEFAULT 'default')
	RETURNS void
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'alter_distributed_table';
COMMENT ON FUNCTION distdb.alter_distributed_table(regclass, int, text, text)
	IS 'change the shard count or distribution column of a distributed table, rows kept';

/* Sizes of shards, read from the nodes that hold them */
CREATE FUNCTION distdb.distdb_shard_sizes(
		OUT shardid bigint, OUT nodeid int, OUT size bigint)
	RETURNS SETOF record
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'distdb_shard_sizes';

CREATE FUNCTION distdb.distdb_node_connections(
		OUT nodeid int, OUT open_connections int, OUT in_use int)
	RETURNS SETOF record
	LANGUAGE C STRICT VOLATILE
	AS 'MODULE_PATHNAME', 'distdb_node_connections';
COMMENT ON FUNCTION distdb.distdb_node_connections()
	IS 'connections this session keeps open to each node, and how many the running statement uses';

CREATE FUNCTION distdb.distdb_shard_name("table" regclass, shardid bigint)
	RETURNS text
	LANGUAGE C STRICT STABLE
	AS 'MODULE_PATHNAME', 'distdb_shard_name';

/* Testing aid: the shard index a value of the table's distribution column hashes to */
CREATE FUNCTION distdb.distdb_shard_index_for_value("table" regclass, value text)
	RETURNS int
	LANGUAGE C STRICT STABLE
	AS 'MODULE_PATHNAME', 'distdb_shard_index_for_value';

/* Testing aid: the commands that create the table's first shard (shard id 0 if not distributed) */
CREATE FUNCTION distdb.distdb_shard_ddl_commands("table" regclass)
	RETURNS SETOF text
	LANGUAGE C STRICT STABLE
	AS 'MODULE_PATHNAME', 'distdb_shard_ddl_commands';

/*
 * Placeholder for rows coming from shards in plans made by distdb's planner
 * (src/planner/pull_up_planner.c); it cannot be called.
 */
CREATE FUNCTION distdb.distributed_result(plan_index int)
	RETURNS SETOF record
	LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 1000
	AS 'MODULE_PATHNAME', 'distributed_result';

/*
 * Dropping a distributed table by other means than DROP TABLE (DROP SCHEMA
 * ... CASCADE, DROP OWNED) drops its shards and metadata too
 * (src/commands/dropped_tables.c).
 */
CREATE FUNCTION distdb.drop_trigger()
	RETURNS event_trigger
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'distdb_drop_trigger';
CREATE EVENT TRIGGER distdb_drop_trigger ON sql_drop
	EXECUTE FUNCTION distdb.drop_trigger();

/* Views */
CREATE VIEW distdb.distdb_nodes AS
	SELECT n.nodeid, n.nodename, n.nodeport,
		   (SELECT count(*) FROM distdb.placement p WHERE p.nodeid = n.nodeid)
			   AS placement_count
	FROM distdb.node n
	ORDER BY n.nodeid;

CREATE VIEW distdb.distdb_shards AS
	SELECT s.logicalrelid AS table_name,
		   s.shardid,
		   distdb.distdb_shard_name(s.logicalrelid, s.shardid) AS shard_name,
		   s.shardindex,
		   s.minvalue,
		   s.maxvalue,
		   p.nodeid,
		   n.nodename,
		   n.nodeport,
		   sz.size AS shard_size
	FROM distdb.shard s
	JOIN distdb.placement p ON p.shardid = s.shardid
	JOIN distdb.node n ON n.nodeid = p.nodeid
	LEFT JOIN distdb.distdb_shard_sizes() sz
		ON sz.shardid = s.shardid AND sz.nodeid = p.nodeid
	ORDER BY s.logicalrelid::oid, s.shardindex, p.nodeid;

CREATE VIEW distdb.distdb_tables AS
	SELECT t.logicalrelid AS table_name,
		   CASE t.distmethod WHEN 'h' THEN 'hash' WHEN 'r' THEN 'reference'
				ELSE t.distmethod::text END
			   AS distribution_method,
		   a.attname AS distribution_column,
		   t.colocationid,
		   (SELECT count(*)::int FROM distdb.shard s
			WHERE s.logicalrelid = t.logicalrelid) AS shard_count,
		   (SELECT sum(sz.size)::bigint
			FROM distdb.shard s
			JOIN distdb.distdb_shard_sizes() sz ON sz.shardid = s.shardid
			WHERE s.logicalrelid = t.logicalrelid) AS table_size
	FROM distdb.dist_table t
	LEFT JOIN pg_catalog.pg_attribute a
		ON a.attrelid = t.logicalrelid AND a.attnum = t.distattnum
	ORDER BY t.logicalrelid::oid;

GRANT SELECT ON distdb.distdb_nodes, distdb.distdb_shards, distdb.distdb_tables
	TO PUBLIC;

/*
 * Two-phase commit (src/transaction/two_phase_commit.c).  A transaction
 * that wrote on several nodes prepares its node transactions and, in the
 * same local transaction that commits, inserts one row per prepared
 * transaction here: the row exists exactly when the prepared transaction
 * must be committed.  Recovery (distdb_recover_prepared_transactions and
 * the maintenance daemon) finishes prepared transactions from it and
 * deletes rows that are no longer needed.  Not dumped: the gids name this
 * server.  Column order: Anum_transaction_record_* in
 * include/distdb/two_phase_commit.h.
 */
CREATE TABLE distdb.transaction_record (
	gid text COLLATE "C" NOT NULL,
	nodeid int NOT NULL,
	recorded_at timestamptz NOT NULL,
	CONSTRAINT transaction_record_pkey PRIMARY KEY (gid)
);

CREATE FUNCTION distdb.distdb_recover_prepared_transactions()
	RETURNS int
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'distdb_recover_prepared_transactions';
COMMENT ON FUNCTION distdb.distdb_recover_prepared_transactions()
	IS 'commit or roll back the prepared transactions left on the nodes by interrupted two-phase commits; returns how many';
REVOKE ALL ON FUNCTION distdb.distdb_recover_prepared_transactions() FROM PUBLIC;

/* Testing aid: fault points of the commit protocol (src/transaction/fault_points.c) */
CREATE FUNCTION distdb.distdb_set_fault(point text, action text, sleep_ms int DEFAULT 5000)
	RETURNS void
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'distdb_set_fault';
COMMENT ON FUNCTION distdb.distdb_set_fault(text, text, int)
	IS 'testing aid: make this session error, crash or sleep at a point of two-phase commit';
REVOKE ALL ON FUNCTION distdb.distdb_set_fault(text, text, int) FROM PUBLIC;

CREATE FUNCTION distdb.distdb_clear_faults()
	RETURNS void
	LANGUAGE C
	AS 'MODULE_PATHNAME', 'distdb_clear_faults';
REVOKE ALL ON FUNCTION distdb.distdb_clear_faults() FROM PUBLIC;

/*
 * Distributed deadlock detection (src/transaction/deadlock_detection.c):
 * which distributed transaction each backend of this server works for,
 * and the lock waits of this server that lasted at least min_wait_ms, with
 * the distributed transactions of the waiting and the blocking backend.
 */
CREATE FUNCTION distdb.distdb_backend_transactions(OUT pid int, OUT transaction_id text)
	RETURNS SETOF record
	LANGUAGE C STRICT VOLATILE
	AS 'MODULE_PATHNAME', 'distdb_backend_transactions';
COMMENT ON FUNCTION distdb.distdb_backend_transactions()
	IS 'backends of this server that work for a distributed transaction, with its id';

CREATE FUNCTION distdb.distdb_lock_waits(min_wait_ms int DEFAULT 0,
	OUT waiting_pid int, OUT waiting_transaction text,
	OUT blocking_pid int, OUT blocking_transaction text)
	RETURNS SETOF record
	LANGUAGE sql STRICT VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH transactions AS (SELECT * FROM distdb.distdb_backend_transactions())
	SELECT DISTINCT w.pid, wt.transaction_id, b.pid, bt.transaction_id
	FROM pg_locks w
	CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid)
	LEFT JOIN transactions wt ON wt.pid = w.pid
	LEFT JOIN transactions bt ON bt.pid = b.pid
	WHERE NOT w.granted
	  AND w.waitstart <= clock_timestamp() - min_wait_ms * interval '1 millisecond'
	$$;
COMMENT ON FUNCTION distdb.distdb_lock_waits(int)
	IS 'lock waits of this server that lasted at least min_wait_ms: waiting and blocking backend with their distributed transactions';

CREATE FUNCTION distdb.distdb_detect_distributed_deadlocks(min_wait_ms int DEFAULT 0)
	RETURNS int
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'distdb_detect_distributed_deadlocks';
COMMENT ON FUNCTION distdb.distdb_detect_distributed_deadlocks(int)
	IS 'cancel one transaction in every distributed deadlock among the waits that lasted at least min_wait_ms; returns how many (the maintenance daemon does it every distdb.distributed_deadlock_detection_interval)';
REVOKE ALL ON FUNCTION distdb.distdb_detect_distributed_deadlocks(int) FROM PUBLIC;

/*
 * Testing aid: the definition of a table (columns, constraints, indexes)
 * in a form that reads the same on every node; the workers have it too,
 * so distdb_shard_definitions can compare each shard with the
 * coordinator's table (src/operations/shard_definitions.c).  Defaults
 * taking values from a sequence are left out: shards never have them.
 */
CREATE FUNCTION distdb.distdb_relation_definition(rel regclass,
		OUT kind text, OUT name text, OUT definition text,
		OUT referenced regclass)
	RETURNS SETOF record
	LANGUAGE sql STABLE
	SET search_path = pg_catalog
	AS $$
	SELECT kind, name, definition, referenced FROM (
		SELECT 'column' AS kind, a.attname::text AS name,
			   format_type(a.atttypid, a.atttypmod)
			   || CASE WHEN a.attcollation <> t.typcollation
					   THEN ' COLLATE ' || a.attcollation::regcollation::text
					   ELSE '' END
			   || CASE WHEN a.attgenerated = 's'
					   THEN ' GENERATED ALWAYS AS ('
							|| pg_get_expr(d.adbin, d.adrelid) || ') STORED'
					   WHEN d.adbin IS NOT NULL
							AND pg_get_expr(d.adbin, d.adrelid) !~ '\mnextval\('
					   THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid)
					   ELSE '' END
			   || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
				   AS definition,
			   NULL::regclass AS referenced, 1 AS kind_order, a.attnum AS position
		FROM pg_attribute a
		JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
		UNION ALL
		SELECT 'constraint', c.conname::text,
			   CASE WHEN c.contype = 'f'
					THEN replace(pg_get_constraintdef(c.oid),
								 ' ' || c.confrelid::regclass::text || '(',
								 ' <referenced>(')
					ELSE pg_get_constraintdef(c.oid) END,
			   CASE WHEN c.contype = 'f' THEN c.confrelid::regclass END, 2, 0
		FROM pg_constraint c
		WHERE c.conrelid = rel
		UNION ALL
		SELECT 'index', ic.relname::text,
			   CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END
			   || 'USING ' || substring(pg_get_indexdef(i.indexrelid) FROM ' USING (.*)$')
			   || CASE WHEN i.indisvalid THEN '' ELSE ' (invalid)' END,
			   NULL, 3, 0
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		WHERE i.indrelid = rel
	) definitions
	ORDER BY kind_order, position, name
	$$;

/* Testing aid: every shard's definition on every node next to the coordinator's */
CREATE FUNCTION distdb.distdb_shard_definitions("table" regclass,
		OUT nodeid int, OUT shardid bigint, OUT kind text, OUT name text,
		OUT shard_definition text, OUT coordinator_definition text)
	RETURNS SETOF record
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'distdb_shard_definitions';

/*
 * Two-phase aggregation (see src/executor/aggregate_state_functions.c and
 * src/planner/aggregate_states.c).  partial_state runs on the shards and
 * returns an aggregate's transition state; combine_states merges the
 * shards' states on the coordinator, which then applies the aggregate's
 * final function.  The concatenating aggregates combine the shards'
 * array_agg, jsonb_agg and json_agg results.
 */
CREATE FUNCTION distdb.partial_state_transition(state anyelement,
		aggregate oid, state_type anyelement, VARIADIC arguments "any")
	RETURNS anyelement
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'distdb_partial_state_transition';
CREATE AGGREGATE distdb.partial_state(aggregate oid, state_type anyelement,
		VARIADIC arguments "any") (
	SFUNC = distdb.partial_state_transition,
	STYPE = anyelement,
	PARALLEL = SAFE
);
CREATE FUNCTION distdb.combine_state_transition(state anyelement,
		aggregate oid, partial anyelement)
	RETURNS anyelement
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'distdb_combine_state_transition';
CREATE AGGREGATE distdb.combine_states(aggregate oid, partial anyelement) (
	SFUNC = distdb.combine_state_transition,
	STYPE = anyelement,
	PARALLEL = SAFE
);
CREATE FUNCTION distdb.numeric_sqrt_rounded(numeric)
	RETURNS numeric
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'distdb_numeric_sqrt_rounded';
COMMENT ON FUNCTION distdb.numeric_sqrt_rounded(numeric)
	IS 'square root rounded to the scale of the argument, as numeric stddev computes it';
CREATE AGGREGATE distdb.array_concat_agg(anycompatiblearray) (
	SFUNC = pg_catalog.array_cat,
	STYPE = anycompatiblearray,
	PARALLEL = SAFE
);
CREATE AGGREGATE distdb.jsonb_concat_agg(jsonb) (
	SFUNC = pg_catalog.jsonb_concat,
	STYPE = jsonb,
	PARALLEL = SAFE
);
CREATE FUNCTION distdb.json_array_concat(json, json)
	RETURNS json
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'distdb_json_array_concat';
CREATE AGGREGATE distdb.json_concat_agg(json) (
	SFUNC = distdb.json_array_concat,
	STYPE = json,
	PARALLEL = SAFE
);
