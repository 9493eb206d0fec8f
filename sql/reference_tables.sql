--
-- reference_tables: tables with one shard and a copy on every node.  Reads
-- use one copy, joins with distributed tables run shard by shard on the
-- shards' nodes, writes go to every copy in the same distributed
-- transaction.  Every result is checked against local copies.
--
\getenv host DISTDB_HOST
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
\set coordinator_port :PORT
CREATE SCHEMA reference_tables;
SET search_path TO reference_tables, regress;

CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL,
						region int);
INSERT INTO countries VALUES ('fr', 'France', 1), ('de', 'Germany', 1),
	('jp', 'Japan', 2), ('br', 'Brazil', 3), ('ca', 'Canada', NULL);
CREATE TABLE countries_local AS SELECT * FROM countries;
CREATE TABLE regions (region int PRIMARY KEY, label text);
INSERT INTO regions VALUES (1, 'Europe'), (2, 'Asia'), (4, 'Oceania');
CREATE TABLE regions_local AS SELECT * FROM regions;
CREATE TABLE orders (order_id bigint PRIMARY KEY, country text, total numeric);
INSERT INTO orders SELECT i, (ARRAY['fr', 'de', 'jp', 'br', 'us'])[i % 5 + 1], i % 97
FROM generate_series(1, 500) i;
CREATE TABLE orders_local AS SELECT * FROM orders;

--
-- creating reference tables; the existing rows move into every copy
--
SELECT distdb.create_reference_table('countries');
SELECT distdb.create_reference_table('regions');
-- small batches: each shard's rows are sent in several COPYs while the
-- table is scanned
SET distdb.copy_batch_size = '1kB';
SELECT distdb.create_distributed_table('orders', 'order_id', 8);
RESET distdb.copy_batch_size;
SELECT table_name, distribution_method, distribution_column,
	   colocationid <> 0 AS in_group, shard_count
FROM distdb.distdb_tables
WHERE table_name::text IN ('countries', 'regions', 'orders') ORDER BY 1;
SELECT distmethod, distattnum, colocationid FROM distdb.dist_table
WHERE logicalrelid = 'countries'::regclass;
SELECT shardindex, minvalue, maxvalue, nodeid FROM distdb.distdb_shards
WHERE table_name = 'countries'::regclass ORDER BY nodeid;
-- the coordinator's table is empty; each node has all rows
SELECT pg_relation_size('countries') AS coordinator_size;
SELECT format('SELECT count(*) FROM %s', distdb.distdb_shard_name('countries', shardid)) AS count_copy
FROM distdb.shard WHERE logicalrelid = 'countries'::regclass \gset
\c regression - :host :worker_1_port
:count_copy;
\c regression - :host :worker_2_port
:count_copy;
\c regression - :host :coordinator_port
SET search_path TO reference_tables, regress;

-- bad input
SELECT distdb.create_reference_table('countries');
SELECT distdb.create_reference_table('orders');
SELECT distdb.create_distributed_table('countries', 'code');
SELECT distdb.create_reference_table(NULL);
SELECT distdb.create_reference_table('no_such_table');
CREATE VIEW country_names AS SELECT name FROM countries_local;
SELECT distdb.create_reference_table('country_names');
DROP VIEW country_names;
CREATE TEMP TABLE temp_codes (code text);
SELECT distdb.create_reference_table('temp_codes');
SELECT distdb.create_reference_table('pg_class');
SELECT distdb.create_reference_table('distdb.node');
CREATE TABLE fkey_parent (code text PRIMARY KEY);
CREATE TABLE with_fkey (code text REFERENCES fkey_parent (code));
SELECT distdb.create_reference_table('with_fkey');
SELECT distdb.create_reference_table('fkey_parent');
DROP TABLE with_fkey, fkey_parent;
CREATE TABLE colocated (region int);
SELECT distdb.create_distributed_table('colocated', 'region', colocate_with => 'regions');
DROP TABLE colocated;
SELECT distdb.distdb_shard_index_for_value('countries', 'fr');
-- not the owner
CREATE ROLE regress_ref_other;
CREATE TABLE owned (a int);
SELECT 'owned'::regclass::oid AS owned_oid \gset
SET ROLE regress_ref_other;
SELECT distdb.create_reference_table(:owned_oid);
RESET ROLE;
DROP TABLE owned;
DROP ROLE regress_ref_other;

--
-- reads: one copy runs a query on reference tables alone
--
SELECT plan_kind('SELECT * FROM countries WHERE code = ''fr''');
SELECT plan_kind('SELECT * FROM countries');
SELECT plan_kind('SELECT c.name, r.label FROM countries c JOIN regions r USING (region)');
SELECT check_query('SELECT * FROM countries ORDER BY code');
SELECT check_query('SELECT name FROM countries WHERE region = 1 ORDER BY name');
SELECT check_query('SELECT region, count(*), max(name) FROM countries GROUP BY region ORDER BY region NULLS FIRST');
SELECT check_query('SELECT c.name, r.label FROM countries c JOIN regions r USING (region) ORDER BY 1');
SELECT check_query('SELECT c.name, r.label FROM countries c LEFT JOIN regions r ON r.region = c.region ORDER BY 1');
SELECT check_query('SELECT c.name, r.label FROM countries c FULL JOIN regions r ON r.region = c.region ORDER BY 1, 2');
SELECT check_query('SELECT count(*) FROM countries c, regions r');
-- subqueries, CTEs, set operations: each table read from one copy
SELECT check_query('SELECT name FROM countries WHERE region IN (SELECT region FROM regions WHERE label <> ''Asia'') ORDER BY 1');
SELECT check_query('WITH r AS (SELECT * FROM regions) SELECT c.code, r.label FROM countries c JOIN r USING (region) ORDER BY 1');
SELECT check_query('SELECT region FROM countries UNION SELECT region FROM regions ORDER BY 1');
SELECT check_query('SELECT code, rank() OVER (PARTITION BY region ORDER BY code) FROM countries ORDER BY 1');
-- with local tables
SELECT check_query('SELECT c.code, l.label FROM countries c JOIN regions_local l USING (region) ORDER BY 1');
-- prepared statements
PREPARE country_name(text) AS SELECT name FROM countries WHERE code = $1;
PREPARE country_name_local(text) AS SELECT name FROM countries_local WHERE code = $1;
SELECT check_query('EXECUTE country_name(''jp'')');
SELECT check_query('EXECUTE country_name(''de'')');
SELECT check_query('EXECUTE country_name(''xx'')');
DEALLOCATE country_name;
DEALLOCATE country_name_local;

--
-- joins with distributed tables run on the shards, with the reference
-- table's copy on each shard's node
--
SELECT plan_kind('SELECT o.order_id, c.name FROM orders o JOIN countries c ON c.code = o.country');
SELECT plan_kind('SELECT c.name, count(*) FROM orders o JOIN countries c ON c.code = o.country GROUP BY c.name');
SELECT plan_kind('SELECT * FROM orders o JOIN countries c ON c.code = o.country WHERE o.order_id = 7');
SELECT check_query('SELECT o.order_id, c.name FROM orders o JOIN countries c ON c.code = o.country WHERE o.total > 90 ORDER BY 1');
SELECT check_query('SELECT c.name, count(*), sum(o.total) FROM orders o JOIN countries c ON c.code = o.country GROUP BY c.name ORDER BY 1');
SELECT check_query('SELECT r.label, count(*) FROM orders o JOIN countries c ON c.code = o.country JOIN regions r ON r.region = c.region GROUP BY r.label ORDER BY 1');
SELECT check_query('SELECT o.order_id, o.country, c.name FROM orders o LEFT JOIN countries c ON c.code = o.country WHERE o.order_id < 12 ORDER BY 1');
SELECT check_query('SELECT o.order_id, c.name FROM countries c RIGHT JOIN orders o ON c.code = o.country WHERE o.order_id < 12 ORDER BY 1');
SELECT check_query('SELECT o.order_id, c.name, r.label FROM orders o JOIN countries c ON c.code = o.country LEFT JOIN regions r ON r.region = c.region WHERE o.order_id < 30 ORDER BY 1');
SELECT check_query('SELECT * FROM orders o JOIN countries c ON c.code = o.country WHERE o.order_id = 7');
SELECT check_query('SELECT count(*) FROM orders o, countries c WHERE c.code = o.country AND c.region = 1');
-- a reference table on the preserved side of an outer join: computed on
-- the coordinator, never once per shard
SELECT plan_kind('SELECT c.code, count(o.order_id) FROM countries c LEFT JOIN orders o ON o.country = c.code GROUP BY c.code');
SELECT check_query('SELECT c.code, count(o.order_id) FROM countries c LEFT JOIN orders o ON o.country = c.code GROUP BY c.code ORDER BY 1');
SELECT check_query('SELECT c.code, o.order_id FROM countries c FULL JOIN orders o ON o.country = c.code WHERE o.order_id IS NULL OR o.order_id < 8 ORDER BY 1, 2');
SELECT check_query('SELECT count(*) FROM orders o LEFT JOIN countries c ON c.code = o.country WHERE c.code IS NULL');
SELECT check_query('SELECT code FROM countries WHERE code IN (SELECT country FROM orders WHERE total > 95) ORDER BY 1');

--
-- writes go to every copy
--
SELECT plan_kind('INSERT INTO countries VALUES (''it'', ''Italy'', 1)');
SELECT plan_kind('UPDATE countries SET name = name WHERE code = ''fr''');
SELECT plan_kind('DELETE FROM countries');
INSERT INTO countries VALUES ('it', 'Italy', 1);
INSERT INTO countries_local VALUES ('it', 'Italy', 1);
INSERT INTO countries VALUES ('es', 'Spain', 1), ('cn', 'China', 2) RETURNING *;
INSERT INTO countries_local VALUES ('es', 'Spain', 1), ('cn', 'China', 2);
UPDATE countries SET name = upper(name) WHERE region = 2 RETURNING code, name;
UPDATE countries_local SET name = upper(name) WHERE region = 2;
UPDATE countries SET region = 5 WHERE code = 'ca';
UPDATE countries_local SET region = 5 WHERE code = 'ca';
DELETE FROM countries WHERE code = 'es' RETURNING name;
DELETE FROM countries_local WHERE code = 'es';
SELECT check_query('SELECT * FROM countries ORDER BY code');
-- an error on a copy writes nothing anywhere (the messages name shards)
\set VERBOSITY sqlstate
INSERT INTO countries VALUES ('fr', 'France again', 1);
UPDATE countries SET name = NULL WHERE code = 'de';
\set VERBOSITY default
SELECT check_query('SELECT * FROM countries ORDER BY code');
-- row locks are taken on every copy
SELECT plan_kind('SELECT name FROM countries WHERE code = ''fr'' FOR UPDATE');
BEGIN;
SELECT name FROM countries WHERE code = 'fr' FOR UPDATE;
UPDATE countries SET name = 'France' WHERE code = 'fr';
COMMIT;
-- volatile functions would give the copies different values
UPDATE countries SET region = (random() * 10)::int;
DELETE FROM countries WHERE random() < 0.5;
-- INSERT ... SELECT and COPY
INSERT INTO regions SELECT region + 10, label || ' too' FROM regions;
INSERT INTO regions_local SELECT region + 10, label || ' too' FROM regions_local;
INSERT INTO regions SELECT DISTINCT region + 100, 'from orders' FROM orders o JOIN countries c ON c.code = o.country;
INSERT INTO regions_local SELECT DISTINCT region + 100, 'from orders' FROM orders_local o JOIN countries_local c ON c.code = o.country;
COPY regions FROM STDIN (FORMAT csv);
50,fifty
51,"fifty, one"
\.
COPY regions_local FROM STDIN (FORMAT csv);
50,fifty
51,"fifty, one"
\.
SELECT check_query('SELECT * FROM regions ORDER BY region');
\set VERBOSITY sqlstate
COPY regions FROM STDIN (FORMAT csv);
60,sixty
50,duplicate
\.
\set VERBOSITY default
SELECT check_query('SELECT count(*) FROM regions');
COPY (SELECT * FROM regions WHERE region < 3 ORDER BY 1) TO STDOUT;
-- the copies hold the same rows
SELECT format('SELECT count(*), sum(hashtext(r::text)) FROM %s r', distdb.distdb_shard_name('regions', shardid)) AS sum_copy
FROM distdb.shard WHERE logicalrelid = 'regions'::regclass \gset
\c regression - :host :worker_1_port
:sum_copy;
\c regression - :host :worker_2_port
:sum_copy;
\c regression - :host :coordinator_port
SET search_path TO reference_tables, regress;
SELECT count(*), sum(hashtext(r::text)) FROM regions r;

--
-- transactions: reference and distributed writes commit or roll back
-- together
--
BEGIN;
INSERT INTO countries VALUES ('us', 'United States', 6);
UPDATE orders SET total = total + 1 WHERE country = 'us';
SELECT name FROM countries WHERE code = 'us';
SELECT count(*) FROM orders o JOIN countries c ON c.code = o.country WHERE c.region = 6;
ROLLBACK;
SELECT check_query('SELECT * FROM countries ORDER BY code');
SELECT check_query('SELECT sum(total) FROM orders');
BEGIN;
INSERT INTO countries VALUES ('us', 'United States', 6);
UPDATE orders SET total = total + 1 WHERE country = 'us';
SELECT count(*) FROM orders o JOIN countries c ON c.code = o.country WHERE c.region = 6;
COMMIT;
INSERT INTO countries_local VALUES ('us', 'United States', 6);
UPDATE orders_local SET total = total + 1 WHERE country = 'us';
SELECT check_query('SELECT * FROM countries ORDER BY code');
SELECT check_query('SELECT c.region, sum(o.total) FROM orders o JOIN countries c ON c.code = o.country GROUP BY 1 ORDER BY 1');
-- savepoints
BEGIN;
DELETE FROM countries WHERE code = 'us';
SAVEPOINT s1;
DELETE FROM countries WHERE code = 'fr';
ROLLBACK TO SAVEPOINT s1;
SELECT code FROM countries WHERE code IN ('fr', 'us');
ROLLBACK;
SELECT check_query('SELECT * FROM countries ORDER BY code');

-- indexes reach every copy; a unique one needs no distribution column
CREATE UNIQUE INDEX countries_name_key ON countries (name);
\set VERBOSITY sqlstate
INSERT INTO countries VALUES ('zz', 'Brazil', 3);
\set VERBOSITY default
DROP INDEX countries_name_key;
INSERT INTO countries VALUES ('zz', 'Brazil', 3);
DELETE FROM countries WHERE code = 'zz';

-- ALTER TABLE reaches every copy
ALTER TABLE countries ADD COLUMN population bigint DEFAULT 0;
ALTER TABLE countries_local ADD COLUMN population bigint DEFAULT 0;
ALTER TABLE countries ALTER COLUMN name SET DEFAULT 'unknown';
SELECT check_shards('countries');
SELECT check_query('SELECT * FROM countries ORDER BY code');

-- ON CONFLICT on a reference table: any conflict target, on every copy
INSERT INTO countries (code, name) VALUES ('fr', 'France'), ('it', 'Italy')
ON CONFLICT (code) DO UPDATE SET population = countries.population + 1;
ALTER TABLE countries_local ADD PRIMARY KEY (code);
INSERT INTO countries_local (code, name) VALUES ('fr', 'France'), ('it', 'Italy')
ON CONFLICT (code) DO UPDATE SET population = countries_local.population + 1;
INSERT INTO countries (code, name) VALUES ('mx', 'Mexico'), ('it', 'Italia')
ON CONFLICT DO NOTHING RETURNING *;
INSERT INTO countries_local (code, name) VALUES ('mx', 'Mexico'), ('it', 'Italia')
ON CONFLICT DO NOTHING;
SELECT check_query('SELECT * FROM countries ORDER BY code');
-- each copy would draw its own random value
INSERT INTO countries (code, name) VALUES ('fr', 'France')
ON CONFLICT (code) DO UPDATE SET population = (random() * 10)::int;
DELETE FROM countries WHERE code = 'mx';
DELETE FROM countries_local WHERE code = 'mx';

-- UPDATE ... FROM a reference table runs shard by shard, joining the
-- reference table's copy on each shard's node (more in
-- modify_subqueries.sql); alter_distributed_table does not apply
SELECT check_query($$UPDATE orders SET total = total + 1 FROM countries
WHERE orders.country = countries.code AND countries.region = 2 AND orders.order_id < 60
RETURNING orders.*$$, true);
SELECT distdb.alter_distributed_table('countries', shard_count => 4);

-- a foreign key from a distributed table to a reference table: each shard
-- references the copy on its node; TRUNCATE ... CASCADE follows it
CREATE TABLE kinds (id int PRIMARY KEY, label text);
SELECT distdb.create_reference_table('kinds');
INSERT INTO kinds VALUES (1, 'one'), (2, 'two');
CREATE TABLE things (id int, kind int);
SELECT distdb.create_distributed_table('things', 'id', 4);
ALTER TABLE things ADD CONSTRAINT things_kind_fk FOREIGN KEY (kind) REFERENCES kinds (id);
SELECT check_shards('things');
INSERT INTO things VALUES (1, 1), (2, 2), (3, 1);
\set VERBOSITY sqlstate
INSERT INTO things VALUES (4, 3);
\set VERBOSITY default
TRUNCATE kinds CASCADE;
SELECT (SELECT count(*) FROM kinds) AS kinds, (SELECT count(*) FROM things) AS things;
DROP TABLE things, kinds;

-- a read uses the copy on a node the transaction already has a remote
-- transaction on (there it reads its own writes), otherwise a copy chosen
-- by the session's process id; the copy on worker 2 is made to differ to
-- show which copy is read
CREATE TABLE flags (id int PRIMARY KEY, val text);
INSERT INTO flags VALUES (1, 'same');
SELECT distdb.create_reference_table('flags');
SELECT format('UPDATE %s SET val = %L', distdb.distdb_shard_name('flags', shardid), 'worker 2 copy') AS mark_copy
FROM distdb.shard WHERE logicalrelid = 'flags'::regclass \gset
\c regression - :host :worker_2_port
:mark_copy;
\c regression - :host :coordinator_port
SET search_path TO reference_tables, regress;
SELECT order_id AS o1 FROM orders
WHERE distdb.distdb_shard_index_for_value('orders', order_id::text) IN
	(SELECT shardindex FROM distdb.distdb_shards
	 WHERE table_name = 'orders'::regclass AND nodeport = :worker_1_port)
ORDER BY 1 LIMIT 1 \gset
SELECT order_id AS o2 FROM orders
WHERE distdb.distdb_shard_index_for_value('orders', order_id::text) IN
	(SELECT shardindex FROM distdb.distdb_shards
	 WHERE table_name = 'orders'::regclass AND nodeport = :worker_2_port)
ORDER BY 1 LIMIT 1 \gset
BEGIN;
SELECT total FROM orders WHERE order_id = :o2 FOR UPDATE \gset
SELECT val FROM flags;
SELECT f.val, o.order_id = :o1 AS is_o1 FROM flags f, orders o WHERE o.order_id = :o1;
ROLLBACK;
BEGIN;
UPDATE orders SET total = total WHERE order_id = :o1;
SELECT val FROM flags;
SELECT val FROM flags WHERE id = 1;
ROLLBACK;
-- outside a transaction: one of the copies
SELECT val IN ('same', 'worker 2 copy') AS one_copy FROM flags;
-- after a write to every copy, any copy the transaction reads has it
BEGIN;
UPDATE flags SET val = 'written';
SELECT val FROM flags;
UPDATE orders SET total = total WHERE order_id = :o1;
SELECT val FROM flags;
ROLLBACK;
BEGIN;
SELECT total FROM orders WHERE order_id = :o2 FOR UPDATE \gset
INSERT INTO flags VALUES (2, 'inserted');
SELECT id, val FROM flags ORDER BY id;
ROLLBACK;
DROP TABLE flags;

-- TRUNCATE and DROP reach every copy
TRUNCATE regions;
TRUNCATE regions_local;
SELECT check_query('SELECT count(*) FROM regions');
DROP TABLE regions;
SELECT count(*) FROM distdb.dist_table WHERE logicalrelid::text = 'regions';
\c regression - :host :worker_1_port
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'reference_tables' AND c.relname LIKE 'regions%';
\c regression - :host :worker_2_port
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'reference_tables' AND c.relname LIKE 'regions%';
\c regression - :host :coordinator_port
SET search_path TO reference_tables, regress;

SET client_min_messages TO warning;
DROP TABLE countries, orders;
DROP SCHEMA reference_tables CASCADE;
