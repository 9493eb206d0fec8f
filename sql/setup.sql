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

-- helpers shared by the tests, in schema regress
CREATE SCHEMA regress;
-- check_query(q) runs q, then q with every distributed table of the current
-- schema,
-- and every prepared statement and function that has a twin named
-- <name>_local, replaced by that twin; it prints the distributed rows and
-- warns if they differ from the local ones (same rows in the same order;
-- with sorted => true, rows of both are sorted first: for statements whose
-- row order is not defined, like UPDATE ... RETURNING).
CREATE FUNCTION regress.check_query(query text, sorted bool DEFAULT false) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
	local_query text := query;
	tab text;
	dist_rows text[] := '{}';
	local_rows text[] := '{}';
	r record;
BEGIN
	FOR tab IN
		SELECT c.relname FROM distdb.dist_table d
		JOIN pg_class c ON c.oid = d.logicalrelid
		WHERE c.relnamespace = current_schema()::regnamespace
		UNION
		SELECT name FROM pg_prepared_statements p
		WHERE EXISTS (SELECT 1 FROM pg_prepared_statements l WHERE l.name = p.name || '_local')
		UNION
		SELECT proname FROM pg_proc p
		WHERE pronamespace = current_schema()::regnamespace
		  AND EXISTS (SELECT 1 FROM pg_proc l WHERE l.proname = p.proname || '_local'
					  AND l.pronamespace = p.pronamespace)
	LOOP
		local_query := regexp_replace(local_query, '\m' || tab || '\M',
									  tab || '_local', 'g');
	END LOOP;
	IF local_query = query THEN
		RAISE EXCEPTION 'query uses no distributed table: %', query;
	END IF;
	FOR r IN EXECUTE query LOOP
		dist_rows := dist_rows || r::text;
	END LOOP;
	FOR r IN EXECUTE local_query LOOP
		local_rows := local_rows || r::text;
	END LOOP;
	IF sorted THEN
		dist_rows := ARRAY(SELECT x FROM unnest(dist_rows) x ORDER BY x COLLATE "C");
		local_rows := ARRAY(SELECT x FROM unnest(local_rows) x ORDER BY x COLLATE "C");
	END IF;
	IF dist_rows IS DISTINCT FROM local_rows THEN
		RAISE WARNING 'wrong result: distributed % local %', dist_rows, local_rows;
	END IF;
	RETURN QUERY SELECT unnest(dist_rows);
END
$fn$;

-- plan_kind(q) prints the distributed plan type and task count of q
CREATE FUNCTION regress.plan_kind(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		IF line ~ 'Distributed Plan|Task Count' THEN
			RETURN NEXT btrim(line);
		END IF;
	END LOOP;
END
$fn$;

-- table_diff(t) counts the rows that differ between table t and its local
-- twin t_local, both ways (for statements that change them)
CREATE FUNCTION regress.table_diff(t text) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
	result bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM ((TABLE %1$I EXCEPT ALL TABLE %2$I) UNION ALL (TABLE %2$I EXCEPT ALL TABLE %1$I)) d',
				   t, t || '_local') INTO result;
	RETURN result;
END
$fn$;

-- sqlstate_of(q) runs q and returns 'ok', or the SQLSTATE and message of
-- its error
CREATE FUNCTION regress.sqlstate_of(query text) RETURNS text
LANGUAGE plpgsql AS $fn$
BEGIN
	EXECUTE query;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$fn$;

-- sorted_rows(q) runs q (e.g. a statement with RETURNING on several shards,
-- whose rows come in no particular order) and returns its rows sorted
CREATE FUNCTION regress.sorted_rows(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
	r record;
	result text[] := '{}';
BEGIN
	FOR r IN EXECUTE query LOOP
		result := result || r::text;
	END LOOP;
	RETURN QUERY SELECT x FROM unnest(result) x ORDER BY x COLLATE "C";
END
$fn$;

-- ids_on_node(t, port, max): the values 1 .. max of t's (integer)
-- distribution column whose shard is on the node at port, in order
CREATE FUNCTION regress.ids_on_node(t regclass, port int, max int) RETURNS SETOF int
LANGUAGE sql AS $$
	SELECT i FROM generate_series(1, max) i
	WHERE distdb.distdb_shard_index_for_value(t, i::text) IN
		(SELECT shardindex FROM distdb.distdb_shards
		 WHERE table_name = t AND nodeport = port)
	ORDER BY i $$;

-- shard_query(q) prints the distributed plan type, task count and the SQL
-- one task of q sends to its shard (shard ids masked)
CREATE FUNCTION regress.shard_query(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
		IF line ~ 'Distributed Plan|Task Count|Task Query' THEN
			RETURN NEXT regexp_replace(btrim(line), '_[0-9]{6,}\M', '_xxx', 'g');
		END IF;
	END LOOP;
END
$fn$;

-- pick(options): one of the options, drawn with random();
-- random_int(lo, hi): an integer between lo and hi, as text
CREATE FUNCTION regress.pick(VARIADIC options text[]) RETURNS text
LANGUAGE sql AS $$ SELECT options[1 + floor(random() * cardinality(options))::int] $$;
CREATE FUNCTION regress.random_int(lo int, hi int) RETURNS text
LANGUAGE sql AS $$ SELECT (lo + floor(random() * (hi - lo + 1)))::int::text $$;

-- shard_plan(q) prints the coordinator's plan of q and the SQL of one task
-- (shard names masked)
CREATE FUNCTION regress.shard_plan(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
		EXIT WHEN line ~ 'Remote Plan';
		CONTINUE WHEN line ~ 'Task Node|Task Shard';
		RETURN NEXT regexp_replace(line, '_[0-9]+ ', '_xxx ', 'g');
	END LOOP;
END
$fn$;
-- check_shards(t) compares every shard of t on every node with the
-- coordinator's table (distdb_shard_definitions: columns, constraints,
-- indexes) and prints how many shard placements match, or each difference
CREATE FUNCTION regress.check_shards(t regclass) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
	r record;
	differences int := 0;
BEGIN
	FOR r IN
		SELECT s.shardindex, d.nodeid, d.kind, d.name, d.shard_definition,
			   d.coordinator_definition
		FROM distdb.distdb_shard_definitions(t) d
		JOIN distdb.shard s ON s.shardid = d.shardid
		WHERE d.shard_definition IS DISTINCT FROM d.coordinator_definition
		ORDER BY s.shardindex, d.nodeid, d.kind, d.name
	LOOP
		differences := differences + 1;
		RETURN NEXT format('shard %s on node %s: %s %s is %s, on the coordinator %s',
						   r.shardindex, r.nodeid, r.kind, r.name,
						   coalesce(r.shard_definition, 'missing'),
						   coalesce(r.coordinator_definition, 'missing'));
	END LOOP;
	IF differences = 0 THEN
		RETURN NEXT format('%s: %s shard placements match', t,
						   (SELECT count(*) FROM distdb.placement p
							JOIN distdb.shard s ON s.shardid = p.shardid
							WHERE s.logicalrelid = t));
	END IF;
END
$fn$;

-- create_mixed_tables() creates in the current schema the tables that the
-- random_* tests draw statements over, with NULLs here and there: a and b
-- co-located (b.a_id), c distributed with another shard count, r a
-- reference table, loc a local table; a, b, c and r with local twins
-- (T_local) holding the same rows
CREATE FUNCTION regress.create_mixed_tables() RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
	CREATE TABLE a (id int, g int, v int, s text);
	INSERT INTO a SELECT i, CASE WHEN i % 11 = 0 THEN NULL ELSE i % 6 END,
		CASE WHEN i % 13 = 0 THEN NULL ELSE (i * 37) % 101 END,
		CASE WHEN i % 17 = 0 THEN NULL ELSE 's' || (i % 9) END
	FROM generate_series(1, 400) i;
	CREATE TABLE b (bid int, a_id int NOT NULL, w numeric, t text);
	INSERT INTO b SELECT i, (i * 7) % 450,
		CASE WHEN i % 23 = 0 THEN NULL ELSE (i % 50) * 0.25 END, 't' || (i % 5)
	FROM generate_series(1, 900) i;
	CREATE TABLE c (k int, v int, g int);
	INSERT INTO c SELECT i, (i * 13) % 101, i % 8 FROM generate_series(1, 300) i;
	CREATE TABLE r (g int, name text);
	INSERT INTO r SELECT g, 'n' || g FROM generate_series(0, 7) g;
	INSERT INTO r VALUES (NULL, 'nullg');
	CREATE TABLE loc (g int, label text);
	INSERT INTO loc SELECT g, 'l' || g FROM generate_series(1, 9) g;
	CREATE TABLE a_local AS SELECT * FROM a;
	CREATE TABLE b_local AS SELECT * FROM b;
	CREATE TABLE c_local AS SELECT * FROM c;
	CREATE TABLE r_local AS SELECT * FROM r;
	PERFORM distdb.create_distributed_table('a', 'id', 8);
	PERFORM distdb.create_distributed_table('b', 'a_id', 8);
	PERFORM distdb.create_distributed_table('c', 'k', 4);
	PERFORM distdb.create_reference_table('r');
END
$fn$;
