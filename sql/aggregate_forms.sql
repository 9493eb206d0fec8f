--
-- aggregate_forms: aggregates beyond the ones aggregate_pushdown splits
-- (statistics, array/string/json aggregates, DISTINCT and ordered-set
-- aggregates, FILTER, grouping sets) and the clauses around aggregation
-- (HAVING, expressions over aggregates, DISTINCT, DISTINCT ON, LIMIT /
-- OFFSET), each checked against a local copy.  Floating-point results
-- are rounded: summing floats in another order changes the last digits,
-- in a single PostgreSQL as well (parallel query).
--
CREATE SCHEMA aggregate_forms;
SET search_path TO aggregate_forms, regress;

CREATE TABLE t (id int, grp int, v int, x numeric, f float8, s text, b bool, j jsonb);
INSERT INTO t SELECT i, i % 7, (i * 37) % 101, (i * 13 % 50) / 3.0, i / 4.0, 's' || (i % 13),
	i % 3 = 0, jsonb_build_object('k', i % 5)
FROM generate_series(1, 500) i;
INSERT INTO t VALUES (501, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE t_local AS SELECT * FROM t;
SELECT distdb.create_distributed_table('t', 'id', 8);

-- statistics
SELECT check_query('SELECT stddev(v), stddev_samp(x), stddev_pop(v), variance(x), var_pop(v), var_samp(v) FROM t');
SELECT check_query('SELECT grp, stddev(v), variance(x), round(stddev_pop(f)::numeric, 10) FROM t GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT grp, var_samp(v::int8), var_pop(v::int2), stddev(x) FROM t WHERE id > 400 GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT id, stddev(v), variance(x) FROM t WHERE id < 10 GROUP BY id ORDER BY id');
SELECT check_query('SELECT round(corr(v, x)::numeric, 10), round(covar_pop(v, x)::numeric, 10), round(regr_slope(v, x)::numeric, 10), regr_count(v, x) FROM t');
SELECT check_query('SELECT round(avg(f)::numeric, 10), round(sum(f)::numeric, 10), round(stddev(f)::numeric, 10) FROM t WHERE id < 100');
SELECT check_query('SELECT avg(v::int2), avg(v::int8), sum(v::int2), round(avg(v::real)::numeric, 3), sum(v::real) FROM t');
-- variances of integers and numerics: the shards return exact counts, sums
-- and sums of squares, the coordinator computes what PostgreSQL would
SELECT check_query('SELECT var_samp(v), var_pop(v), variance(x), var_pop(x), var_samp(v::int8 * 1000003), var_pop(v::int2) FROM t WHERE id <= 500');
SELECT check_query('SELECT grp, var_samp(v), var_pop(v), variance(x), var_pop(x / 7), var_samp(x * 1000000), count(*) FROM t GROUP BY grp ORDER BY grp NULLS FIRST');
SELECT check_query('SELECT var_samp(v) FILTER (WHERE grp = 3), var_pop(x) FILTER (WHERE b) FROM t');
SELECT check_query('SELECT var_samp(v), var_pop(v) FROM t WHERE id = 1');
SELECT check_query('SELECT var_samp(v), var_pop(v) FROM t WHERE id < 0');
SELECT check_query('SELECT grp, var_samp(v) * 2, round(variance(v), 2) FROM t GROUP BY grp HAVING var_pop(v) > 800 ORDER BY 1');
SELECT check_query('SELECT variance(x) FROM (SELECT x FROM t UNION ALL SELECT ''NaN''::numeric) s');

-- array, string, json and xml aggregates
SELECT check_query('SELECT grp, array_agg(v ORDER BY v, id), string_agg(s, '','' ORDER BY id) FROM t GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT grp, json_agg(v ORDER BY id), jsonb_agg(j ORDER BY id), json_object_agg(id, v ORDER BY id) FROM t WHERE id < 30 GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT grp, xmlagg(xmlelement(name a, v) ORDER BY id)::text FROM t WHERE id < 20 GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT array_length(array_agg(id), 1), length(string_agg(s, '''')) FROM t');

-- DISTINCT aggregates
SELECT check_query('SELECT count(DISTINCT v), sum(DISTINCT v), avg(DISTINCT x) FROM t');
SELECT check_query('SELECT grp, count(DISTINCT v), count(DISTINCT s) FROM t GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT string_agg(DISTINCT s, '','' ORDER BY s), array_agg(DISTINCT grp ORDER BY grp) FROM t');
SELECT check_query('SELECT count(DISTINCT v) FILTER (WHERE b), count(DISTINCT s) FROM t');
-- row values cannot come back from the shards: computed on the coordinator
SELECT check_query('SELECT count(DISTINCT (grp, b)) FROM t');
SELECT check_query('SELECT grp, array_agg((id, v) ORDER BY id) FROM t WHERE id < 10 GROUP BY grp ORDER BY 1');
SELECT check_query('SELECT id, (id, v) FROM t GROUP BY id, v ORDER BY id LIMIT 2');
SELECT check_query('SELECT id, (id, v) FROM t WHERE id = 3');

-- ordered-set and hypothetical-set aggregates
SELECT check_query('SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v), percentile_disc(0.3) WITHIN GROUP (ORDER BY x), mode() WITHIN GROUP (ORDER BY s) FROM t');
SELECT check_query('SELECT grp, percentile_cont(ARRAY[0.25, 0.75]) WITHIN GROUP (ORDER BY v) FROM t GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT grp, rank(50) WITHIN GROUP (ORDER BY v), dense_rank(50) WITHIN GROUP (ORDER BY v), cume_dist(50) WITHIN GROUP (ORDER BY v) FROM t GROUP BY grp ORDER BY grp');
-- grouped by the distribution column, they run whole on the shards (the
-- plan's top node is the distributed scan, with no aggregation above it)
SELECT check_query('SELECT id, percentile_cont(0.5) WITHIN GROUP (ORDER BY v), mode() WITHIN GROUP (ORDER BY s), string_agg(s, '','' ORDER BY s DESC) FROM t GROUP BY id ORDER BY id LIMIT 12');
CREATE FUNCTION top_plan_node(query text) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		RETURN btrim(line);
	END LOOP;
END
$fn$;
SELECT top_plan_node('SELECT id, percentile_cont(0.5) WITHIN GROUP (ORDER BY v), array_agg(s ORDER BY s) FROM t GROUP BY id');
SELECT top_plan_node('SELECT grp, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM t GROUP BY grp');

-- FILTER, bool and bit aggregates
SELECT check_query('SELECT count(*) FILTER (WHERE b), sum(v) FILTER (WHERE grp > 3), max(s) FILTER (WHERE v < 10), stddev(v) FILTER (WHERE b) FROM t');
SELECT check_query('SELECT bool_and(b), bool_or(b), bit_and(v), bit_or(v), bit_xor(v) FROM t');

-- expressions over aggregates, HAVING
SELECT check_query('SELECT grp, sum(v) * 2 + count(*), max(v) - min(v), round(avg(x), 3) FROM t GROUP BY grp HAVING count(*) > 5 AND sum(v) > 100 ORDER BY 2 DESC');
SELECT check_query('SELECT grp, CASE WHEN sum(v) > 3700 THEN ''big'' ELSE ''small'' END, coalesce(max(s), ''-'') FROM t GROUP BY grp ORDER BY grp NULLS FIRST');
SELECT check_query('SELECT grp FROM t GROUP BY grp HAVING stddev(v) > 28 ORDER BY grp');
SELECT check_query('SELECT sum(v) FROM t HAVING sum(v) > 0');
SELECT check_query('SELECT count(*) FROM t HAVING count(*) > 100000');

-- grouping sets
SELECT check_query('SELECT grp, count(*) FROM t GROUP BY ROLLUP (grp) ORDER BY 1 NULLS FIRST');
SELECT check_query('SELECT grp, b, count(*), grouping(grp, b) FROM t GROUP BY GROUPING SETS ((grp), (b), ()) ORDER BY 1 NULLS FIRST, 2 NULLS FIRST');
SELECT check_query('SELECT grp % 2, b, sum(v) FROM t GROUP BY CUBE (grp % 2, b) ORDER BY 1 NULLS FIRST, 2 NULLS FIRST');

-- DISTINCT, DISTINCT ON, LIMIT / OFFSET
SELECT check_query('SELECT DISTINCT grp FROM t ORDER BY 1');
SELECT check_query('SELECT DISTINCT grp, b FROM t ORDER BY 1, 2');
SELECT check_query('SELECT DISTINCT ON (grp) grp, id, v FROM t ORDER BY grp, v DESC, id');
SELECT check_query('SELECT DISTINCT ON (s) s, count(*) OVER (PARTITION BY s) FROM t ORDER BY s');
SELECT check_query('SELECT id, v FROM t ORDER BY v DESC, id LIMIT 5 OFFSET 3');
SELECT check_query('SELECT id FROM t ORDER BY id OFFSET 495');
SELECT check_query('SELECT grp, count(*) FROM t GROUP BY grp ORDER BY count(*) DESC, grp LIMIT 3 OFFSET 1');
SELECT check_query('SELECT id, v FROM t ORDER BY v, id FETCH FIRST 3 ROWS WITH TIES');

DROP TABLE t;
SET client_min_messages TO WARNING;
DROP SCHEMA aggregate_forms CASCADE;
