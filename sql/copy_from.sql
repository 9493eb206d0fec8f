--
-- copy_from: COPY ... FROM into distributed tables.  Every COPY also runs
-- into a local twin table with the same data; the two must end up equal.
-- Bad rows fail with PostgreSQL's message and line number, and nothing of
-- a failed COPY stays on any node.
--
\getenv host DISTDB_HOST
\getenv coordinator_port DISTDB_COORDINATOR_PORT
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
-- server-side files, one set per cluster (concurrent runs use other ports)
\set csvfile '/tmp/distdb_copy_test_' :coordinator_port '.csv'
\set binfile '/tmp/distdb_copy_test_' :coordinator_port '.bin'
\set badfile '/tmp/distdb_copy_test_' :coordinator_port '_bad.txt'

CREATE SCHEMA copy_from;
SET search_path TO copy_from;

CREATE TABLE items (
	id bigint NOT NULL,
	name text,
	price numeric(10,2) CHECK (price >= 0),
	weight float8,
	tags text[],
	added date DEFAULT '2024-01-01',
	note text DEFAULT 'none'
);
CREATE TABLE items_local (LIKE items INCLUDING ALL);
SELECT distdb.create_distributed_table('items', 'id');

-- the rows that differ between the two tables
CREATE VIEW items_diff AS
SELECT 'only distributed' AS side, * FROM
	(SELECT * FROM items EXCEPT ALL SELECT * FROM items_local) a
UNION ALL
SELECT 'only local', * FROM
	(SELECT * FROM items_local EXCEPT ALL SELECT * FROM items) b;

--
-- text format: escapes, NULLs, arrays, a column list (defaults for the rest)
--
COPY items (id, name, price, weight, tags) FROM STDIN;
1	apple	1.50	0.1	{red,green}
2	banana	\N	\N	{}
3	tab\there	0	3.141592653589793	\N
4	back\\slash	2	-0	{"a b","c\\"d"}
5	new\nline	10.25	1e-300	{NULL}
\.
COPY items_local (id, name, price, weight, tags) FROM STDIN;
1	apple	1.50	0.1	{red,green}
2	banana	\N	\N	{}
3	tab\there	0	3.141592653589793	\N
4	back\\slash	2	-0	{"a b","c\\"d"}
5	new\nline	10.25	1e-300	{NULL}
\.
SELECT * FROM items ORDER BY id;
SELECT * FROM items_diff;

-- text format with another delimiter and NULL string, all columns
COPY items FROM STDIN (DELIMITER '|', NULL 'nil');
6|pipe|1|2|{x}|2023-05-06|nil
7|nil|nil|nil|nil|nil|explicit
\.
COPY items_local FROM STDIN (DELIMITER '|', NULL 'nil');
6|pipe|1|2|{x}|2023-05-06|nil
7|nil|nil|nil|nil|nil|explicit
\.
SELECT * FROM items WHERE id IN (6, 7) ORDER BY id;

--
-- csv: header, quoting, empty strings vs NULL, FORCE_NULL, FORCE_NOT_NULL
--
COPY items (id, name, note, price) FROM STDIN (FORMAT csv, HEADER, FORCE_NULL (note), FORCE_NOT_NULL (name));
id,name,note,price
10,"comma, inside","",3
11,,"""quoted""",
12,"multi
line",plain,4.5
\.
COPY items_local (id, name, note, price) FROM STDIN (FORMAT csv, HEADER, FORCE_NULL (note), FORCE_NOT_NULL (name));
id,name,note,price
10,"comma, inside","",3
11,,"""quoted""",
12,"multi
line",plain,4.5
\.
SELECT id, name, name IS NULL AS name_null, note, note IS NULL AS note_null, price
FROM items WHERE id BETWEEN 10 AND 12 ORDER BY id;

-- csv with another quote and escape character and a NULL string
COPY items (id, name, note) FROM STDIN (FORMAT csv, QUOTE '''', ESCAPE '\', NULL 'NULL');
13,'it\'s',NULL
14,'NULL',x
\.
COPY items_local (id, name, note) FROM STDIN (FORMAT csv, QUOTE '''', ESCAPE '\', NULL 'NULL');
13,'it\'s',NULL
14,'NULL',x
\.
SELECT id, name, note FROM items WHERE id IN (13, 14) ORDER BY id;

-- a WHERE clause: only the rows it accepts are copied (COPY 2)
COPY items (id, name, price) FROM STDIN WITH (FORMAT csv) WHERE price > 5 AND name <> 'skip';
20,cheap,1
21,dear,100
22,skip,100
23,dearer,200
\.
COPY items_local (id, name, price) FROM STDIN WITH (FORMAT csv) WHERE price > 5 AND name <> 'skip';
20,cheap,1
21,dear,100
22,skip,100
23,dearer,200
\.
SELECT id, name, price FROM items WHERE id BETWEEN 20 AND 23 ORDER BY id;

-- values are parsed with the session's DateStyle and stored exactly,
-- whatever extra_float_digits says
SET DateStyle = 'SQL, DMY';
SET extra_float_digits = 0;
COPY items (id, added, weight) FROM STDIN;
30	02/01/2024	0.30000000000000004
\.
COPY items_local (id, added, weight) FROM STDIN;
30	02/01/2024	0.30000000000000004
\.
RESET DateStyle;
RESET extra_float_digits;
SELECT id, added, weight FROM items WHERE id = 30;

-- ENCODING: the data is LATIN1 (the UTF-8 bytes of 'é' read as two letters)
COPY items (id, name) FROM STDIN (ENCODING 'LATIN1');
31	café
\.
COPY items_local (id, name) FROM STDIN (ENCODING 'LATIN1');
31	café
\.
SELECT id, name FROM items WHERE id = 31;

-- FROM PROGRAM
COPY items (id, name) FROM PROGRAM 'printf ''32\tfrom a program\n33\tagain\n''';
COPY items_local (id, name) FROM PROGRAM 'printf ''32\tfrom a program\n33\tagain\n''';
SELECT id, name FROM items WHERE id IN (32, 33) ORDER BY id;
SELECT * FROM items_diff;

--
-- rows for every shard, from a server-side file, with small batches so
-- that each shard gets several COPY commands
--
COPY (SELECT 1000 + i, 'item ' || i, i % 100, i / 7.0, ARRAY['t' || (i % 3)],
			 DATE '2020-01-01' + i, CASE WHEN i % 5 = 0 THEN NULL ELSE 'n' || i END
	  FROM generate_series(1, 3000) i) TO :'csvfile' (FORMAT csv);
SET distdb.copy_batch_size = '1kB';
COPY items FROM :'csvfile' (FORMAT csv);
RESET distdb.copy_batch_size;
COPY items_local FROM :'csvfile' (FORMAT csv);
SELECT count(DISTINCT distdb.distdb_shard_index_for_value('items', id::text)) AS shards
FROM items;
SELECT count(*), sum(id), sum(price), round(sum(weight)::numeric, 6) FROM items;
SELECT * FROM items_diff;

--
-- binary format, written by the coordinator
--
COPY (SELECT (5000 + i)::bigint, 'binary ' || i, (i * 1.25)::numeric(10,2),
			 (i * 0.5)::float8, ARRAY['b', NULL], DATE '2001-02-03' + i,
			 NULL::text
	  FROM generate_series(1, 200) i) TO :'binfile' (FORMAT binary);
COPY items FROM :'binfile' (FORMAT binary);
COPY items_local FROM :'binfile' (FORMAT binary);
SELECT count(*), sum(id), min(name), max(price) FROM items WHERE id > 5000;
SELECT * FROM items_diff;

--
-- bad rows: the whole COPY fails with PostgreSQL's error and line number
-- and nothing of it stays, on any node
--
SELECT count(*), sum(id) FROM items;
-- a wrong type on line 2000, after several batches were sent to the nodes
COPY (SELECT CASE WHEN i = 2000 THEN 'oops' ELSE (10000 + i)::text END, 'bad ' || i
	  FROM generate_series(1, 3000) i) TO :'badfile';
SET distdb.copy_batch_size = '1kB';
COPY items (id, name) FROM :'badfile';
RESET distdb.copy_batch_size;
COPY items_local (id, name) FROM :'badfile';
SELECT count(*), sum(id) FROM items;
-- a NULL distribution value
COPY items (id, name) FROM STDIN;
40	fine
\N	no id
\.
SELECT count(*), sum(id) FROM items;
-- a CHECK constraint and a short line, as PostgreSQL reports them
COPY items (id, name, price) FROM STDIN;
41	fine	1
42	negative	-1
\.
COPY items_local (id, name, price) FROM STDIN;
41	fine	1
42	negative	-1
\.
COPY items (id, name, price) FROM STDIN (FORMAT csv);
43,missing columns
\.
COPY items_local (id, name, price) FROM STDIN (FORMAT csv);
43,missing columns
\.
SELECT count(*), sum(id) FROM items;
-- refused before anything is read (psql then skips the data up to \.)
COPY items FROM STDIN (FREEZE);
\.
COPY items (id, nosuchcolumn) FROM STDIN;
\.
SELECT * FROM items_diff;

--
-- transactions
--
BEGIN;
COPY items (id, name) FROM STDIN;
50	rolled back
51	rolled back
\.
-- the transaction reads its own rows
SELECT id, name FROM items WHERE id IN (50, 51) ORDER BY id;
SELECT count(*) FROM items WHERE name = 'rolled back';
ROLLBACK;
SELECT count(*) FROM items WHERE name = 'rolled back';

BEGIN;
INSERT INTO items (id, name) VALUES (52, 'inserted');
COPY items (id, name) FROM STDIN;
53	copied
54	copied
\.
UPDATE items SET note = 'updated' WHERE id IN (52, 53);
COMMIT;
INSERT INTO items_local (id, name) VALUES (52, 'inserted'), (53, 'copied'), (54, 'copied');
UPDATE items_local SET note = 'updated' WHERE id IN (52, 53);
SELECT id, name, note FROM items WHERE id BETWEEN 52 AND 54 ORDER BY id;

-- a failed COPY in a savepoint, then a good one
BEGIN;
SAVEPOINT s1;
COPY items (id, name) FROM STDIN;
55	first
x	bad
\.
ROLLBACK TO SAVEPOINT s1;
COPY items (id, name) FROM STDIN;
56	after the savepoint
\.
COMMIT;
INSERT INTO items_local (id, name) VALUES (56, 'after the savepoint');
SELECT id, name FROM items WHERE id IN (55, 56) ORDER BY id;
SELECT * FROM items_diff;

--
-- a serial column and a default: evaluated on the coordinator,
-- so the values are unique and come from the coordinator's sequence; a
-- stored generated column is computed by the shards
--
CREATE TABLE events (
	event_id bigserial,
	tenant int NOT NULL,
	payload text,
	qty int DEFAULT 1,
	doubled int GENERATED ALWAYS AS (qty * 2) STORED,
	CHECK (doubled < 1000)
);
SELECT distdb.create_distributed_table('events', 'tenant');
COPY events (tenant, payload) FROM STDIN;
1	a
2	b
3	c
1	d
\.
COPY (SELECT i % 50, 'p' || i, i % 7 FROM generate_series(1, 500) i) TO :'csvfile' (FORMAT csv);
COPY events (tenant, payload, qty) FROM :'csvfile' (FORMAT csv);
SELECT count(*), count(DISTINCT event_id), min(event_id), max(event_id),
	   sum(doubled) = 2 * sum(qty) AS generated_ok
FROM events;
SELECT last_value FROM events_event_id_seq;
SELECT event_id, tenant, payload, qty, doubled FROM events WHERE event_id <= 4 ORDER BY event_id;
-- a generated column cannot be listed or used in WHERE, as in PostgreSQL
COPY events (tenant, doubled) FROM STDIN;
\.
COPY events (tenant) FROM STDIN WHERE doubled > 2;
\.
-- the CHECK on the generated column is checked on the coordinator, with the line
COPY events (tenant, qty) FROM STDIN;
7	1
8	600
\.
SELECT count(*) FROM events;

-- a duplicate key, which only the shard can see: the node's error
-- (SQLSTATE only: the message names the shard) aborts the whole COPY
CREATE TABLE keyed (id int PRIMARY KEY, v text);
SELECT distdb.create_distributed_table('keyed', 'id');
COPY (SELECT CASE WHEN i = 3000 THEN 7 ELSE i END, 'v' || i
	  FROM generate_series(1, 3000) i) TO :'csvfile' (FORMAT csv);
SET distdb.copy_batch_size = '1kB';
\set VERBOSITY sqlstate
COPY keyed FROM :'csvfile' (FORMAT csv);
\set VERBOSITY default
RESET distdb.copy_batch_size;
SELECT count(*) FROM keyed;

--
-- privileges: INSERT on the table or the listed columns, checked on the
-- coordinator before anything is read or sent
--
CREATE ROLE regress_copy_reader LOGIN;
CREATE ROLE regress_copy_columns LOGIN;
\c regression - :host :worker_1_port
CREATE ROLE regress_copy_reader LOGIN;
CREATE ROLE regress_copy_columns LOGIN;
\c regression - :host :worker_2_port
CREATE ROLE regress_copy_reader LOGIN;
CREATE ROLE regress_copy_columns LOGIN;
\c regression - :host :coordinator_port
SET search_path TO copy_from;
\set csvfile '/tmp/distdb_copy_test_' :coordinator_port '.csv'
GRANT USAGE ON SCHEMA copy_from TO regress_copy_reader, regress_copy_columns;
GRANT SELECT ON items TO regress_copy_reader;
-- a column grantee needs INSERT on the columns with defaults too: their
-- values are computed on the coordinator and sent, as for INSERT
GRANT SELECT (id, name), INSERT (id, name, added, note) ON items TO regress_copy_columns;

SET distdb.log_remote_commands = on;
SET ROLE regress_copy_reader;
COPY items FROM STDIN;
\.
\echo :LAST_ERROR_SQLSTATE
COPY items (id) FROM STDIN;
\.
\echo :LAST_ERROR_SQLSTATE
-- server files need pg_read_server_files
COPY items FROM :'csvfile';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_copy_columns;
COPY items (id, name, price) FROM STDIN;
\.
\echo :LAST_ERROR_SQLSTATE
COPY items FROM STDIN;
\.
\echo :LAST_ERROR_SQLSTATE
SET distdb.log_remote_commands = off;
COPY items (id, name) FROM STDIN;
60	by a column grantee
\.
SELECT id, name FROM items WHERE id = 60;
RESET ROLE;
INSERT INTO items_local (id, name) VALUES (60, 'by a column grantee');

-- the final comparison
SELECT count(*), sum(id) FROM items;
SELECT count(*), sum(id) FROM items_local;
SELECT * FROM items_diff;

-- clean up, on the coordinator and on the workers
\set rmcommand 'rm -f ' :csvfile ' ' :binfile ' ' :badfile
COPY (SELECT WHERE false) TO PROGRAM :'rmcommand';
DROP VIEW items_diff;
DROP TABLE items, events, keyed;
DROP SCHEMA copy_from CASCADE;
DROP ROLE regress_copy_reader, regress_copy_columns;
\c regression - :host :worker_1_port
DROP OWNED BY regress_copy_reader, regress_copy_columns;
DROP ROLE regress_copy_reader, regress_copy_columns;
\c regression - :host :worker_2_port
DROP OWNED BY regress_copy_reader, regress_copy_columns;
DROP ROLE regress_copy_reader, regress_copy_columns;
\c regression - :host :coordinator_port
