--
-- random_modifications: INSERT / UPDATE / DELETE statements drawn at random
-- (fixed seed) from the forms distdb runs shard by shard, computes first or
-- routes through the coordinator: subqueries over co-located, non-co-located,
-- reference and local tables, UPDATE ... FROM, DELETE ... USING, row-valued
-- SET, changes of the distribution column, INSERT ... SELECT and VALUES with
-- subqueries.  Each runs on the distributed tables and on local copies
-- (regress.check_query compares RETURNING), some inside a subtransaction
-- that is then rolled back; after each one every table must still equal its
-- copy.  Only the summary is expected: a difference or an error is reported
-- with its statement.
--
CREATE SCHEMA random_modifications;
SET search_path TO random_modifications, regress;

SELECT create_mixed_tables();

CREATE FUNCTION a_filter() RETURNS text
LANGUAGE sql AS $$
	SELECT pick('a.id < ' || random_int(0, 400), 'a.g = ' || random_int(0, 6), 'a.v IS NULL',
				'a.v > ' || random_int(0, 100), 'a.id % ' || random_int(2, 9) || ' = 0',
				'a.s = ''s' || random_int(0, 9) || '''', 'true') $$;

-- a statement; offset keeps inserted and moved keys new
CREATE FUNCTION random_modification(step int) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
	offs text := (step * 1000)::text;
BEGIN
	RETURN pick(
		'UPDATE a SET v = coalesce(v, 0) + ' || random_int(1, 5) || ' WHERE ' || a_filter() || ' RETURNING id, v',
		'UPDATE a SET s = (SELECT max(name) FROM r WHERE r.g = a.g) WHERE ' || a_filter() || ' RETURNING id, s',
		'UPDATE a SET v = c.v FROM c WHERE c.k = a.id AND ' || a_filter() || ' RETURNING a.id, a.v',
		'UPDATE b SET w = w * 2 FROM a WHERE a.id = b.a_id AND a.g = ' || random_int(0, 6) || ' RETURNING b.bid, b.w',
		'DELETE FROM b WHERE a_id IN (SELECT id FROM a WHERE ' || a_filter() || ') AND bid % ' || random_int(3, 9) || ' = 0 RETURNING bid',
		'DELETE FROM a USING loc WHERE loc.g = a.g AND a.id % ' || random_int(5, 20) || ' = 0 RETURNING a.id, loc.label',
		'INSERT INTO a SELECT id + ' || offs || ', g, v, s FROM a WHERE ' || a_filter() || ' AND id < 400 RETURNING id',
		'UPDATE a SET id = id + ' || offs || ' WHERE ' || a_filter() || ' AND id % 7 = 1 RETURNING id, g',
		'UPDATE a SET (g, v) = (SELECT g, v FROM c WHERE c.k = a.id) WHERE ' || a_filter() || ' RETURNING id, g, v',
		'UPDATE r SET name = name || ''x'' WHERE g = ' || random_int(0, 7) || ' RETURNING g, name',
		'DELETE FROM a WHERE v = (SELECT min(v) FROM c WHERE c.g = a.g) RETURNING id',
		'UPDATE a SET v = (SELECT count(*) FROM b WHERE b.a_id = a.id) WHERE ' || a_filter() || ' RETURNING id, v',
		'UPDATE c SET v = v + 1 WHERE k IN (SELECT v FROM a WHERE ' || a_filter() || ') RETURNING k, v',
		'DELETE FROM c WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.v = c.k) AND k % ' || random_int(5, 15) || ' = 0 RETURNING k',
		'INSERT INTO c SELECT k + ' || offs || ', v, g FROM c WHERE k % ' || random_int(3, 9) || ' = 0 RETURNING k',
		'UPDATE a SET v = a.v + l.g FROM loc l WHERE l.g = a.g AND ' || a_filter() || ' RETURNING a.id, a.v',
		'INSERT INTO b (bid, a_id, w, t) VALUES (' || offs || ', ' || random_int(0, 400) || ', (SELECT max(v) FROM c), ''ins'') RETURNING bid, w',
		'UPDATE a SET v = v - 1 WHERE (g, v) IN (SELECT g, v FROM c) RETURNING id',
		'DELETE FROM b WHERE w > (SELECT avg(v) FROM c) / 10 AND bid % 11 = ' || random_int(0, 10) || ' RETURNING bid',
		'UPDATE b SET a_id = a_id + 1 WHERE bid % ' || random_int(20, 40) || ' = 0 RETURNING bid, a_id');
END
$fn$;

DO $$
DECLARE
	statement text;
	failures int := 0;
	rolled_back int := 0;
	returned bigint := 0;
	cnt bigint;
	tab text;
BEGIN
	PERFORM setseed(0.1717);
	FOR step IN 1 .. 120 LOOP
		statement := random_modification(step);
		BEGIN
			IF random() < 0.2 THEN
				-- in a subtransaction that is then rolled back
				BEGIN
					PERFORM count(*) FROM check_query(statement, true);
					RAISE EXCEPTION USING ERRCODE = 'P0004', MESSAGE = 'undo';
				EXCEPTION WHEN assert_failure THEN
					rolled_back := rolled_back + 1;
				END;
			ELSE
				SELECT count(*) INTO cnt FROM check_query(statement, true);
				returned := returned + cnt;
			END IF;
			FOREACH tab IN ARRAY ARRAY['a', 'b', 'c', 'r'] LOOP
				PERFORM count(*) FROM check_query('SELECT * FROM ' || tab, true);
			END LOOP;
		EXCEPTION WHEN OTHERS THEN
			failures := failures + 1;
			RAISE WARNING 'statement % failed: %: %', step, SQLERRM, statement;
		END;
	END LOOP;
	RAISE NOTICE '120 random statements, % rolled back, % failed, % rows returned',
		rolled_back, failures, returned;
END
$$;
SELECT count(*) AS a_rows FROM a;
SELECT * FROM check_shards('a');

RESET search_path;
DROP SCHEMA random_modifications CASCADE;
