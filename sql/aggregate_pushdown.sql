--
-- aggregate_pushdown: aggregation over one distributed table runs on the
-- shards -- wholly when grouped by the distribution column, as partial
-- aggregates combined on the coordinator otherwise.  Every result is
-- checked against a local copy; shard_query() shows what a shard runs.
--
CREATE SCHEMA aggregate_pushdown;
SET search_path TO aggregate_pushdown, regress;


CREATE TABLE sales (id bigint, shop int, amount numeric(10,2), qty int,
					price float8, ok bool, flags int, note text);
INSERT INTO sales
SELECT i, i % 7, (i * 37 % 1000) / 10.0, i % 13, i / 8.0, i % 5 <> 0,
	   i % 16, CASE WHEN i % 9 = 0 THEN NULL ELSE 'n' || (i % 11) END
FROM generate_series(1, 2000) i;
INSERT INTO sales VALUES (5000, 8, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE sales_local AS SELECT * FROM sales;
SELECT distdb.create_distributed_table('sales', 'id', 8);
CREATE TABLE empty_sales (LIKE sales);
CREATE TABLE empty_sales_local (LIKE sales);
SELECT distdb.create_distributed_table('empty_sales', 'id', 4);

-- partial aggregates, combined on the coordinator
SELECT * FROM shard_query('SELECT count(*), sum(amount) FROM sales') q WHERE q ~ 'Task Query';
SELECT check_query('SELECT count(*), count(amount), sum(amount), sum(qty), min(amount), max(note), avg(qty), avg(amount) FROM sales');
SELECT check_query('SELECT bool_and(ok), bool_or(ok), every(ok), bit_and(flags), bit_or(flags) FROM sales');
SELECT check_query('SELECT shop, count(*), sum(qty), avg(qty), min(note), max(amount) FROM sales GROUP BY shop ORDER BY shop');
SELECT check_query('SELECT shop % 2 AS parity, count(*) * 2, sum(qty) + 1 FROM sales GROUP BY shop % 2 ORDER BY 1');
SELECT check_query('SELECT shop, count(*) FROM sales GROUP BY shop HAVING sum(qty) > 1700 ORDER BY shop');
SELECT check_query('SELECT shop, qty, count(*) FROM sales WHERE qty < 3 GROUP BY shop, qty ORDER BY count(*) DESC, shop, qty LIMIT 5');
SELECT check_query('SELECT count(*) FILTER (WHERE ok), avg(qty) FILTER (WHERE shop = 3) FROM sales');
SELECT check_query('SELECT note, count(*) FROM sales GROUP BY note ORDER BY note NULLS FIRST');
SELECT check_query('SELECT avg(qty) FROM sales WHERE shop = 8');
SELECT check_query('SELECT sum(qty), avg(amount), count(*) FROM sales WHERE id < 0');
SELECT check_query('SELECT count(*), sum(qty) FROM empty_sales');
SELECT check_query('SELECT shop, count(*) FROM empty_sales GROUP BY shop');
SELECT check_query('SELECT DISTINCT count(*) > 0 FROM sales GROUP BY shop');
SELECT check_query('SELECT shop FROM sales GROUP BY shop ORDER BY shop');
-- sums of int keep their type: bigint, without overflow
SELECT check_query('SELECT pg_typeof(sum(qty))::text, pg_typeof(count(*))::text, pg_typeof(avg(qty))::text FROM sales');
-- float averages: compare rounded
SELECT check_query('SELECT round(avg(price)::numeric, 6) FROM sales');

-- grouped by the distribution column: the shards do the whole grouping
SELECT * FROM shard_query('SELECT id, count(*) FROM sales GROUP BY id HAVING count(*) > 0') q WHERE q ~ 'Task Query';
SELECT check_query('SELECT id, count(*), sum(qty) FROM sales GROUP BY id ORDER BY sum(qty) DESC, id LIMIT 5');
SELECT check_query('SELECT id, string_agg(note, '','' ORDER BY note), count(DISTINCT qty) FROM sales WHERE id < 20 GROUP BY id ORDER BY id');
SELECT check_query('SELECT id, shop, max(amount) FROM sales GROUP BY id, shop HAVING max(amount) > 99 ORDER BY id');

-- grouped by the distribution column with ORDER BY ... LIMIT: each shard
-- returns only its first groups
SELECT * FROM shard_query('SELECT id, sum(qty) FROM sales GROUP BY id ORDER BY 2 DESC, 1 LIMIT 3 OFFSET 1') q WHERE q ~ 'Task Query';
SELECT check_query('SELECT id, sum(qty) FROM sales GROUP BY id ORDER BY 2 DESC, 1 LIMIT 3 OFFSET 1');

-- DISTINCT aggregates over one expression: the shards return the distinct
-- values of each group
SELECT * FROM shard_query('SELECT shop, count(DISTINCT qty) FROM sales GROUP BY shop') q WHERE q ~ 'Task Query';
SELECT check_query('SELECT count(DISTINCT qty) FROM sales');
SELECT check_query('SELECT shop, count(DISTINCT qty), sum(DISTINCT qty), string_agg(DISTINCT qty::text, ''/'') IS NOT NULL FROM sales GROUP BY shop ORDER BY shop');
SELECT check_query('SELECT count(DISTINCT note) FROM sales WHERE shop < 3');
SELECT check_query('SELECT shop FROM sales GROUP BY shop HAVING count(DISTINCT qty % 3) = 3 ORDER BY shop');
-- the DISTINCT argument is also the grouping expression: one shard column
SELECT check_query('SELECT qty, count(DISTINCT qty), sum(DISTINCT qty) FROM sales GROUP BY qty ORDER BY qty');
SELECT check_query('SELECT count(DISTINCT shop) FROM sales GROUP BY shop, qty ORDER BY 1 LIMIT 3');

-- aggregates that do not split are computed from the rows
SELECT check_query('SELECT count(DISTINCT shop), string_agg(DISTINCT note, '','' ORDER BY note) FROM sales');
SELECT check_query('SELECT shop, array_agg(qty ORDER BY id) FILTER (WHERE id < 40) FROM sales GROUP BY shop ORDER BY shop');
SELECT check_query('SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) FROM sales');
SELECT check_query('SELECT round(stddev(qty), 10), round(variance(amount), 10) FROM sales');
SELECT check_query('SELECT shop, rank() OVER (ORDER BY count(*) DESC, shop) FROM sales GROUP BY shop ORDER BY shop');
SELECT check_query('SELECT grouping(shop), shop, count(*) FROM sales GROUP BY ROLLUP (shop) ORDER BY 2 NULLS LAST');

SET client_min_messages TO WARNING;
DROP TABLE sales, empty_sales;
DROP SCHEMA aggregate_pushdown CASCADE;
