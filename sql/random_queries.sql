--
-- random_queries: several hundred SELECTs assembled at random (with a fixed
-- seed, so every run checks the same ones) from joins of co-located,
-- non-co-located, reference and local tables, filters with NULLs,
-- groupings, aggregates of every kind, sublinks, LATERAL, window functions,
-- set operations and CTEs.  Each runs through the coordinator and on local
-- copies (regress.check_query); a difference or an error is reported
-- with the query, so the expected output is only the summary.
--
CREATE SCHEMA random_queries;
SET search_path TO random_queries, regress;

SELECT create_mixed_tables();
ANALYZE a, b, c, r, loc;


-- cols(t): a table's columns, numeric ones first
CREATE FUNCTION cols(t text) RETURNS text[]
LANGUAGE sql AS $$
	SELECT CASE t WHEN 'a' THEN '{id,g,v,s}' WHEN 'b' THEN '{bid,a_id,w,t}'
		WHEN 'c' THEN '{k,v,g}' WHEN 'r' THEN '{g,name}' WHEN 'loc' THEN '{g,label}'
		WHEN 's1' THEN '{a_id,cnt}' ELSE '{k,v}' END::text[] $$;
CREATE FUNCTION numcols(t text) RETURNS text[]
LANGUAGE sql AS $$
	SELECT CASE t WHEN 'a' THEN '{id,g,v}' WHEN 'b' THEN '{bid,a_id,w}'
		WHEN 'c' THEN '{k,v,g}' WHEN 'r' THEN '{g}' WHEN 'loc' THEN '{g}'
		WHEN 's1' THEN '{a_id,cnt}' ELSE '{k,v}' END::text[] $$;

-- a condition on one column of the relation with alias al, of table t
CREATE FUNCTION random_filter(al text, t text) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
	col text := al || '.' || pick(VARIADIC cols(t));
	textual bool := col ~ '\.(s|t|name|label)$';
BEGIN
	CASE floor(random() * 7)::int
		WHEN 0 THEN RETURN col || ' IS NULL';
		WHEN 1 THEN RETURN col || ' IS NOT NULL';
		ELSE
			IF textual THEN
				RETURN col || ' ' || pick('=', '<>', '<', '>=') || ' '
					|| quote_literal(pick('s1', 's5', 't2', 'n3', 'l4'));
			END IF;
			RETURN pick(col || ' IN (' || random_int(0, 9) || ', ' || random_int(0, 120) || ', NULL)',
						col || ' BETWEEN ' || random_int(0, 50) || ' AND ' || random_int(50, 300),
						'(' || col || ' < ' || random_int(0, 100) || ' OR ' || col || ' = ' || random_int(0, 5) || ')',
						col || ' ' || pick('<', '>', '=', '<>') || ' ' || random_int(0, 120));
	END CASE;
END
$fn$;

-- an aggregate over a column of the relation al (table t)
CREATE FUNCTION random_aggregate(al text, t text) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
	x text := al || '.' || pick(VARIADIC cols(t));
	v text := al || '.' || pick(VARIADIC numcols(t));
BEGIN
	RETURN pick('count(*)', 'count(' || x || ')', 'sum(' || v || ')', 'avg(' || v || ')',
				'min(' || x || ')', 'max(' || x || ')', 'count(DISTINCT ' || x || ')',
				'sum(DISTINCT ' || v || ')', 'bool_or(' || v || ' > 40)',
				'string_agg(' || x || '::text, '','' ORDER BY ' || x || '::text)',
				'array_agg(' || v || ' ORDER BY ' || v || ')', 'stddev(' || v || ')',
				'variance(' || v || ')',
				'count(*) FILTER (WHERE ' || random_filter(al, t) || ')',
				'percentile_disc(0.5) WITHIN GROUP (ORDER BY ' || v || ')',
				'max(' || v || ') - min(' || v || ')');
END
$fn$;

-- random_query(): a query and whether its row order is undefined
CREATE FUNCTION random_query(OUT query text, OUT unordered bool)
LANGUAGE plpgsql AS $fn$
DECLARE
	joins text[] := ARRAY[
		'a|b|b.a_id = a.id', 'a|c|c.k = a.v', 'a|c|c.g = a.g', 'a|r|r.g = a.g',
		'a|loc|loc.g = a.g', 'b|c|c.k = b.bid', 'b|r|r.g = b.a_id % 8',
		'a|s1|s.a_id = a.id', 'a|s2|s.k = a.id', 'a|a2|a2.id = a.v'];
	j text[];
	rels text[];				-- alias:table of each relation
	fromclause text;
	filters text[] := '{}';
	rel text[];
	rel2 text[];
	g text;
	shape int := floor(random() * 12)::int;
BEGIN
	unordered := true;
	IF random() < 0.25 THEN
		rel := ARRAY[pick('a', 'b', 'c')];
		rel := rel || rel;
		rels := ARRAY[array_to_string(rel, ':')];
		fromclause := rel[1];
	ELSE
		j := string_to_array(joins[1 + floor(random() * cardinality(joins))::int], '|');
		fromclause := j[1] || ' ' || pick('JOIN', 'JOIN', 'LEFT JOIN', 'RIGHT JOIN', 'FULL JOIN')
			|| ' ' || CASE j[2]
				WHEN 's1' THEN '(SELECT a_id, count(*) AS cnt FROM b GROUP BY a_id) s'
				WHEN 's2' THEN '(SELECT k, v FROM c WHERE v < 50) s'
				WHEN 'a2' THEN 'a AS a2'
				ELSE j[2] END
			|| ' ON ' || j[3];
		rels := ARRAY[j[1] || ':' || j[1],
					  CASE j[2] WHEN 's1' THEN 's:s1' WHEN 's2' THEN 's:s2'
						  WHEN 'a2' THEN 'a2:a' ELSE j[2] || ':' || j[2] END];
	END IF;
	FOR i IN 1 .. floor(random() * 3)::int LOOP
		rel := string_to_array(rels[1 + floor(random() * cardinality(rels))::int], ':');
		filters := filters || random_filter(rel[1], rel[2]);
	END LOOP;
	IF rels[1] = 'a:a' AND random() < 0.3 THEN
		filters := filters || pick(
			'a.id IN (SELECT a_id FROM b WHERE b.w > 5)',
			'EXISTS (SELECT 1 FROM b WHERE b.a_id = a.id AND b.t = ''t1'')',
			'NOT EXISTS (SELECT 1 FROM b WHERE b.a_id = a.id)',
			'a.v NOT IN (SELECT v FROM c WHERE c.k < 50)',
			'a.v > (SELECT avg(v) FROM c)',
			'a.g IN (SELECT g FROM loc)',
			'a.v = ANY (SELECT k FROM c WHERE g = 3)',
			'a.id NOT IN (SELECT a_id FROM b)');
	END IF;
	IF cardinality(filters) > 0 THEN
		fromclause := fromclause || ' WHERE ' || array_to_string(filters, ' AND ');
	END IF;
	rel := string_to_array(rels[1 + floor(random() * cardinality(rels))::int], ':');
	rel2 := string_to_array(rels[1 + floor(random() * cardinality(rels))::int], ':');
	g := rel[1] || '.' || pick(VARIADIC cols(rel[2]));
	CASE
		WHEN shape <= 2 THEN
			query := 'SELECT ' || g || ', ' || random_aggregate(rel[1], rel[2]) || ', '
				|| random_aggregate(rel2[1], rel2[2]) || ' FROM ' || fromclause
				|| ' GROUP BY ' || g;
			IF random() < 0.3 THEN
				query := query || ' HAVING count(*) > ' || random_int(0, 3);
			END IF;
			IF random() < 0.4 THEN
				query := query || ' ORDER BY 1 NULLS FIRST LIMIT ' || random_int(1, 10);
				unordered := false;
			END IF;
		WHEN shape = 3 THEN
			query := 'SELECT ' || random_aggregate(rel[1], rel[2]) || ', '
				|| random_aggregate(rel2[1], rel2[2]) || ' FROM ' || fromclause;
		WHEN shape <= 5 THEN
			query := 'SELECT ' || pick('', 'DISTINCT ') || g || ', ' || rel2[1] || '.'
				|| pick(VARIADIC cols(rel2[2])) || ' FROM ' || fromclause;
			IF random() < 0.5 THEN
				query := query || ' ORDER BY 1 NULLS FIRST, 2 NULLS FIRST LIMIT '
					|| random_int(1, 20) || ' OFFSET ' || random_int(0, 3);
				unordered := false;
			END IF;
		WHEN shape = 6 THEN
			query := 'SELECT ' || g || ', ' || pick(
				'row_number() OVER (PARTITION BY ' || g || ' ORDER BY ' || g || ')',
				'sum(' || rel[1] || '.' || pick(VARIADIC numcols(rel[2])) || ') OVER (PARTITION BY ' || g || ')',
				'count(*) OVER ()',
				'rank() OVER (ORDER BY ' || g || ')') || ' FROM ' || fromclause;
		WHEN shape = 7 THEN
			query := 'SELECT ' || g || ', ' || random_aggregate(rel2[1], rel2[2])
				|| ', grouping(' || g || ') FROM ' || fromclause || ' GROUP BY '
				|| pick('ROLLUP', 'CUBE') || ' (' || g || ')';
		WHEN shape = 8 THEN
			query := 'SELECT ' || rel[1] || '.' || pick(VARIADIC numcols(rel[2])) || ' % 3 AS e, '
				|| random_aggregate(rel2[1], rel2[2]) || ' FROM ' || fromclause
				|| ' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 3';
			unordered := false;
		ELSE
			query := pick(
				'SELECT a.id, (SELECT count(*) FROM c WHERE c.g = a.g) FROM a WHERE a.id < ' || random_int(0, 60),
				'SELECT a.id, (SELECT max(w) FROM b WHERE b.a_id = a.id) FROM a WHERE a.v > ' || random_int(0, 60),
				'SELECT a.id, x.k FROM a, LATERAL (SELECT k FROM c WHERE c.v = a.v ORDER BY k LIMIT 1) x WHERE a.id < ' || random_int(0, 60),
				'SELECT a.id, x.cnt FROM a LEFT JOIN LATERAL (SELECT count(*) AS cnt FROM b WHERE b.a_id = a.id) x ON true WHERE a.g = ' || random_int(0, 6),
				'SELECT * FROM (SELECT id, v FROM a ORDER BY v NULLS FIRST, id LIMIT ' || random_int(1, 30) || ') s JOIN c ON c.k = s.v',
				'SELECT g, sum(v), rank() OVER (ORDER BY sum(v) DESC NULLS LAST, g NULLS FIRST) FROM a GROUP BY g',
				'SELECT a.g, count(*), sum(count(*)) OVER () FROM a JOIN c ON c.k = a.id GROUP BY a.g',
				'SELECT id, lag(v) OVER (ORDER BY id), lead(s, 2) OVER (PARTITION BY g ORDER BY id) FROM a WHERE id % ' || random_int(2, 9) || ' = 0',
				'SELECT x.x, count(a.id) FROM (VALUES (1), (2), (NULL::int), (' || random_int(0, 9) || ')) x(x) LEFT JOIN a ON a.g = x.x GROUP BY x.x',
				'SELECT gs, (SELECT count(*) FROM a WHERE a.g = gs) FROM generate_series(0, 7) gs',
				'SELECT CASE WHEN v > ' || random_int(0, 60) || ' THEN ''hi'' WHEN v IS NULL THEN ''null'' ELSE ''lo'' END AS k, count(*), avg(id) FROM a GROUP BY 1',
				'SELECT a.id FROM a WHERE a.v IN (SELECT c.v FROM c JOIN b ON b.bid = c.k WHERE b.w > ' || random_int(0, 10) || ')',
				'WITH t AS MATERIALIZED (SELECT a_id, w FROM b WHERE w > ' || random_int(0, 10) || ') SELECT a.g, count(*) FROM a JOIN t ON t.a_id = a.id GROUP BY a.g',
				'WITH RECURSIVE q(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM q WHERE x < 5) SELECT q.x, count(a.id) FROM q LEFT JOIN a ON a.g = q.x GROUP BY q.x',
				'SELECT a.id, b.bid, c.k FROM a JOIN b ON b.a_id = a.id LEFT JOIN c ON c.k = b.bid AND c.v > ' || random_int(0, 60) || ' WHERE a.id < ' || random_int(0, 60),
				'SELECT a.g, array_agg(DISTINCT c.g ORDER BY c.g) FROM a JOIN c ON c.v = a.v GROUP BY a.g',
				'SELECT a.id, r.name FROM a LEFT JOIN r ON r.g = a.g WHERE r.g IS NULL',
				'SELECT s, count(*) FROM a GROUP BY s HAVING count(*) > (SELECT count(*) / 20 FROM c)',
				'SELECT a.id FROM a WHERE a.v > ALL (SELECT v FROM c WHERE k < ' || random_int(1, 10) || ')',
				'SELECT id, v FROM a WHERE (g, v) IN (SELECT g, v FROM c)',
				'SELECT a.id FROM a WHERE a.v = (SELECT min(v) FROM c WHERE c.g = a.g)',
				'SELECT c.g, count(*) FROM c WHERE c.k IN (SELECT a.v FROM a WHERE a.g = c.g) GROUP BY c.g',
				'SELECT a.g, count(*) FROM a GROUP BY a.g UNION ALL SELECT c.g, count(*) FROM c GROUP BY c.g',
				'SELECT v FROM a INTERSECT SELECT v FROM c EXCEPT SELECT a_id FROM b',
				'SELECT g FROM a WHERE ' || random_filter('a', 'a') || ' ' || pick('UNION', 'EXCEPT ALL', 'INTERSECT') || ' SELECT g FROM c',
				'SELECT a.id, sum(b.w) OVER (PARTITION BY a.id) FROM a JOIN b ON b.a_id = a.id WHERE a.id < ' || random_int(0, 60),
				'SELECT a.id, c.k FROM a FULL JOIN c ON c.k = a.v AND a.g = c.g WHERE a.id IS NULL OR c.k IS NULL',
				'SELECT a.id, x FROM a CROSS JOIN LATERAL unnest(ARRAY[a.g, a.v]) x WHERE a.id < ' || random_int(1, 20),
				'SELECT count(*) FROM (SELECT DISTINCT g, s FROM a) d',
				'SELECT sum(x.cnt) FROM (SELECT a.g, count(*) AS cnt FROM a JOIN b ON b.a_id = a.id GROUP BY a.g) x',
				'SELECT s.a_id, s.total, a.g FROM (SELECT a_id, sum(w) AS total FROM b GROUP BY a_id) s JOIN a ON a.id = s.a_id',
				'SELECT DISTINCT ON (a.g) a.g, a.id FROM a ORDER BY a.g NULLS FIRST, a.id');
	END CASE;
END
$fn$;

-- run them all; report each difference (check_query warns) or error
DO $$
DECLARE
	q record;
	failures int := 0;
	rows_seen bigint := 0;
	cnt bigint;
BEGIN
	PERFORM setseed(0.4242);
	FOR i IN 1 .. 500 LOOP
		SELECT * INTO q FROM random_query();
		BEGIN
			SELECT count(*) INTO cnt FROM check_query(q.query, q.unordered);
			rows_seen := rows_seen + cnt;
		EXCEPTION WHEN OTHERS THEN
			failures := failures + 1;
			RAISE WARNING 'query % failed: %: %', i, SQLERRM, q.query;
		END;
	END LOOP;
	RAISE NOTICE '500 random queries checked, % failed, % rows returned in all',
		failures, rows_seen;
END
$$;

RESET search_path;
DROP SCHEMA random_queries CASCADE;
