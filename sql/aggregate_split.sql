--
-- aggregate_split: the statistical aggregates, array_agg, string_agg and
-- jsonb_agg run on the shards too.  Float statistics ship their
-- transition state (distdb.partial_state) and the coordinator combines
-- the states as PostgreSQL's parallel aggregation does
-- (distdb.combine_states) before the final function; numeric and integer
-- standard deviations come from exact counts, sums and sums of squares;
-- array_agg, string_agg and jsonb_agg results are concatenated.  Every
-- result is checked against a local copy.
--
CREATE SCHEMA aggregate_split;
SET search_path TO aggregate_split, regress;

CREATE TABLE m (id int, grp int, f float8, r real, n numeric, i int, b bigint,
				s text, by bytea, iv interval, j jsonb, ok bool);
INSERT INTO m
SELECT g, g % 6, g * 1.5 + 0.1, g / 7.0, round(g * 0.37 - 90, g % 4), g % 97,
	   g::bigint * g, 's' || g, decode(lpad(to_hex(g), 4, '0'), 'hex'),
	   g * interval '1 minute', jsonb_build_object('k', g % 3), g % 4 <> 0
FROM generate_series(1, 1200) g;
INSERT INTO m (id, grp) VALUES (2000, 9), (2001, 9);
INSERT INTO m (id, grp, f, r, n, i, b) VALUES (2002, 10, 5, 5, 5, 5, 5);
CREATE TABLE m_local AS SELECT * FROM m;
SELECT distdb.create_distributed_table('m', 'id', 8);

-- other tables: co-located, empty, with special values
CREATE TABLE m_extra (id int, weight float8);
INSERT INTO m_extra SELECT g, g % 10 FROM generate_series(1, 1200, 2) g;
CREATE TABLE m_extra_local AS SELECT * FROM m_extra;
SELECT distdb.create_distributed_table('m_extra', 'id', 8, colocate_with => 'm');
CREATE TABLE m_empty (LIKE m);
CREATE TABLE m_empty_local (LIKE m);
SELECT distdb.create_distributed_table('m_empty', 'id', 4);
CREATE TABLE m_special (id int, grp int, f float8, n numeric);
INSERT INTO m_special VALUES
	(1, 1, 'NaN', 'NaN'), (2, 1, 1, 1), (3, 2, 'Infinity', 'Infinity'),
	(4, 2, 2, 2), (5, 3, '-Infinity', '-Infinity'), (6, 3, 'Infinity', 'Infinity'),
	(7, 4, 'NaN', 'NaN'), (8, 5, 'Infinity', 'Infinity'), (9, 6, 1e150, 1e20),
	(10, 6, -1e150, -1e20), (11, 7, 3, 3), (12, 8, 1e308, 1e30),
	(13, 8, -1e308, -1e30);
CREATE TABLE m_special_local AS SELECT * FROM m_special;
SELECT distdb.create_distributed_table('m_special', 'id', 4);

-- sorted(a): the elements of an array in order, to compare array_agg,
-- string_agg and jsonb_agg results whose element order PostgreSQL leaves
-- unspecified
CREATE FUNCTION sorted(anyarray) RETURNS anyarray LANGUAGE sql IMMUTABLE
AS 'SELECT array_agg(x ORDER BY x) FROM unnest($1) x';


-- the shards compute the aggregates' transition states
SELECT plan_kind('SELECT grp, stddev(f) FROM m GROUP BY grp');
SELECT shard_plan('SELECT grp, stddev(f), corr(f, i) FROM m GROUP BY grp');

-- Float statistics: the combined state is what a parallel plan of
-- PostgreSQL computes, which can differ from a serial scan in the last
-- digit or two (floating point addition is not associative), so the
-- results are compared rounded to 10 significant digits (r10), or to 10
-- decimals for values near 0 (r10d).
CREATE FUNCTION r10(float8) RETURNS text LANGUAGE sql IMMUTABLE
AS $$SELECT to_char($1, '9.999999999EEEE')$$;
CREATE FUNCTION r10d(float8) RETURNS numeric LANGUAGE sql IMMUTABLE
AS $$SELECT round($1::numeric, 10)$$;
SELECT check_query('SELECT grp, r10(stddev(f)), r10(stddev_samp(r)), r10(stddev_pop(f)), r10(variance(f)), r10(var_samp(r)), r10(var_pop(f)) FROM m GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT grp, r10(covar_pop(f, i)), r10(covar_samp(f, r)), r10(corr(f, i)), regr_count(f, i), r10(regr_slope(f, i)), r10(regr_intercept(f, i)) FROM m GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT r10(regr_r2(f, i)), r10(regr_sxx(f, i)), r10(regr_syy(f, i)), r10(regr_sxy(f, i)), r10(regr_avgx(f, i)), r10(regr_avgy(f, i)) FROM m');
SELECT check_query('SELECT grp, avg(iv), sum(iv), bit_xor(i), bit_xor(b), r10(avg(r)) FROM m GROUP BY grp ORDER BY grp');
-- grouped by a non-distribution expression, with HAVING, in expressions
SELECT check_query('SELECT i % 3, r10(stddev(f) * 2 + 1), r10d(corr(f, r) - 1) FROM m GROUP BY i % 3 HAVING stddev(f) > 100 ORDER BY 1');
SELECT check_query('SELECT grp FROM m GROUP BY grp HAVING regr_count(f, i) > 150 AND var_pop(r) < 10000 ORDER BY grp');
-- FILTER
SELECT check_query('SELECT grp, r10(stddev(f) FILTER (WHERE ok)), regr_count(f, i) FILTER (WHERE i > 50), r10(var_pop(f) FILTER (WHERE false)) FROM m GROUP BY grp ORDER BY grp');
-- one row, all NULL inputs, no rows
SELECT check_query('SELECT grp, stddev_samp(f), stddev_pop(f), var_samp(r), var_pop(r), corr(f, i), covar_pop(f, i), regr_count(f, i), regr_avgx(f, i), bit_xor(i) FROM m WHERE grp IN (9, 10) GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT stddev(f), var_pop(f), corr(f, i), regr_count(f, i), bit_xor(i), avg(iv) FROM m WHERE id > 1999');
SELECT check_query('SELECT stddev(f), var_pop(f), corr(f, i), regr_count(f, i), bit_xor(i), avg(iv) FROM m WHERE id < 0');
SELECT check_query('SELECT stddev(f), var_pop(f), corr(f, i), regr_count(f, i), bit_xor(i), avg(iv) FROM m_empty');
SELECT check_query('SELECT grp, stddev(f) FROM m_empty GROUP BY grp');
-- NaN and infinities
SELECT check_query('SELECT grp, stddev(f), var_pop(f), stddev_pop(f), avg(f), corr(f, f), regr_sxx(f, f) FROM m_special WHERE grp < 8 GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT stddev(f), var_samp(f), corr(f, id) FROM m_special WHERE grp < 8');
-- an overflow is an error, as in PostgreSQL
SELECT stddev(f) FROM m_special WHERE grp = 8;
SELECT stddev(f) FROM m_special_local WHERE grp = 8;
-- over a join of co-located tables
SELECT plan_kind('SELECT m.grp, stddev(m.f * e.weight) FROM m JOIN m_extra e USING (id) GROUP BY m.grp');
SELECT check_query('SELECT m.grp, r10(stddev(m.f * e.weight)), r10d(corr(m.f, e.weight)), regr_count(m.f, e.weight) FROM m JOIN m_extra e USING (id) GROUP BY m.grp ORDER BY 1');
SELECT check_query('SELECT e.weight, r10(var_samp(m.r)) FROM m LEFT JOIN m_extra e USING (id) GROUP BY e.weight ORDER BY 1 NULLS FIRST');

-- Standard deviations of integers and numerics: exact, from counts, sums
-- and sums of squares, with the square root rounded as PostgreSQL rounds
-- it (compared digit for digit)
SELECT plan_kind('SELECT grp, stddev(n) FROM m GROUP BY grp');
SELECT check_query('SELECT grp, stddev(n), stddev_samp(i), stddev_pop(n), stddev_pop(b), stddev(i::int2), variance(n) FROM m GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT id % 30, stddev(n), stddev_pop(n * n * 1.5), stddev(b) FROM m WHERE id <= 90 GROUP BY 1 ORDER BY 1');
SELECT check_query('SELECT i % 5, stddev(n / 1000000), stddev_pop(n * 100000000000) FROM m GROUP BY 1 HAVING stddev(n) > 1 ORDER BY 1');
SELECT check_query('SELECT stddev(n) * 2, stddev_pop(i) FILTER (WHERE ok), stddev(n) FILTER (WHERE grp = 10), stddev_pop(n) FILTER (WHERE grp = 10) FROM m');
SELECT check_query('SELECT stddev(n), stddev_pop(n), stddev(i), stddev_pop(i) FROM m WHERE id < 0');
SELECT check_query('SELECT grp, stddev(n), stddev_pop(n), var_samp(n), var_pop(n) FROM m_special GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT m.grp, stddev(m.n + e.weight::numeric), stddev_pop(m.i) FROM m JOIN m_extra e USING (id) GROUP BY m.grp ORDER BY 1');

-- array_agg, string_agg and jsonb_agg: concatenated on the coordinator
-- (compared sorted: their element order is unspecified)
SELECT plan_kind('SELECT grp, array_agg(i) FROM m GROUP BY grp');
SELECT shard_plan('SELECT grp, array_agg(i), string_agg(s, '','') FILTER (WHERE ok), jsonb_agg(j), json_agg(s) FROM m GROUP BY grp');
SELECT check_query('SELECT grp, md5(sorted(array_agg(i))::text), md5(sorted(string_to_array(string_agg(s, '',''), '',''))::text), md5(sorted(ARRAY(SELECT jsonb_array_elements(jsonb_agg(j))::text))::text) FROM m GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT grp, sorted(array_agg(s)), sorted(string_to_array(string_agg(s, ''; ''), ''; '')), length(string_agg(by, ''\x00''::bytea)), jsonb_array_length(jsonb_agg(f)) FROM m WHERE id % 50 = 1 GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT i % 2, array_length(array_agg(f), 1), length(string_agg(s, NULL)), length(string_agg(s, '''')) FROM m GROUP BY 1 ORDER BY 1');
-- json_agg: the same elements, in the same text format (", " between them)
SELECT check_query('SELECT grp, md5(sorted(ARRAY(SELECT json_array_elements_text(json_agg(j))))::text), length(json_agg(j)::text), length(json_agg(s)::text) FROM m GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT grp, json_agg(f), json_agg(j) FROM m WHERE grp IN (9, 10) GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT grp, array_agg(f), string_agg(s, '',''), jsonb_agg(f) FROM m WHERE grp IN (9, 10) GROUP BY grp ORDER BY grp');
SELECT check_query('SELECT array_agg(i), string_agg(s, '',''), jsonb_agg(j), json_agg(j) FROM m WHERE id < 0');
SELECT check_query('SELECT grp, sorted(array_agg(i) FILTER (WHERE i < 3)), string_agg(s, '','') FILTER (WHERE false) FROM m GROUP BY grp HAVING array_length(array_agg(i), 1) > 100 ORDER BY grp');
SELECT check_query('SELECT m.grp, sorted(array_agg(e.weight)), md5(sorted(string_to_array(string_agg(m.s, ''|''), ''|''))::text) FROM m JOIN m_extra e USING (id) GROUP BY m.grp ORDER BY 1');
-- with ORDER BY (or DISTINCT) inside the aggregate, the rows come to the
-- coordinator: the order must hold across shards
SELECT shard_plan('SELECT grp, array_agg(i ORDER BY id) FROM m GROUP BY grp');
SELECT check_query('SELECT grp, md5(array_agg(i ORDER BY id)::text), md5(string_agg(s, '','' ORDER BY s DESC)), md5(jsonb_agg(j ORDER BY id)::text) FROM m GROUP BY grp ORDER BY grp');
-- a delimiter that is not a constant: the rows come to the coordinator
SELECT shard_plan('SELECT grp, string_agg(s, lower('','')) FROM m GROUP BY grp');
SELECT check_query('SELECT grp, md5(sorted(string_to_array(string_agg(s, lower('','')), '',''))::text) FROM m GROUP BY grp ORDER BY grp');

-- the support aggregates check what they are called with
SELECT distdb.partial_state('pg_catalog.stddev(float8)'::regprocedure, NULL::float8[], 1::int) FROM m;
SELECT distdb.partial_state('pg_catalog.stddev(float8)'::regprocedure, NULL::int[], 1::float8) FROM m;
SELECT distdb.partial_state('pg_catalog.array_agg(anynonarray)'::regprocedure, NULL::int[], 1) FROM m;
SELECT distdb.combine_states('pg_catalog.count()'::regprocedure, 1::bigint) FROM m;
SELECT distdb.partial_state('pg_catalog.stddev(float8)'::regprocedure, NULL::float8[], f) FROM m WHERE id = 3;
SELECT distdb.partial_state_transition(NULL::float8[], 0, NULL::float8[], 1.0::float8);
SELECT distdb.json_array_concat('[1, 2]', '[3]'), distdb.json_array_concat('[]', '[3]'), distdb.json_array_concat('[1]', ' [ ] ');
SELECT distdb.json_array_concat('[1]', '{}');

DROP SCHEMA aggregate_split CASCADE;
