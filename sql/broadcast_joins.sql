--
-- broadcast_joins: joins of distributed tables with small relations the
-- shards cannot read (local tables, distributed tables that are not
-- co-located or not joined on the distribution columns): the small side
-- is computed first and sent to every shard as arrays, so that the join
-- and what is above it run on the shards; compared with local copies
-- (check_query).
--
\getenv host DISTDB_HOST
\getenv coordinator_port DISTDB_COORDINATOR_PORT
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
CREATE ROLE broadcast_user;
\c regression - :host :worker_1_port
CREATE ROLE broadcast_user;
\c regression - :host :worker_2_port
CREATE ROLE broadcast_user;
\c regression - :host :coordinator_port
CREATE SCHEMA broadcast_joins;
SET search_path TO broadcast_joins, regress;

CREATE TABLE big (id int PRIMARY KEY, x int, amount numeric, tag text);
CREATE TABLE small_dist (k int, y int, amount numeric, label text);
CREATE TABLE lk (y int, note text, dropme int, extra numeric);	-- local
ALTER TABLE lk DROP COLUMN dropme;
CREATE TABLE lk2 (x int, label text);							-- local
CREATE TABLE ref (code int PRIMARY KEY, name text);
CREATE TABLE big_local (LIKE big INCLUDING ALL);
CREATE TABLE small_dist_local (LIKE small_dist INCLUDING ALL);
CREATE TABLE ref_local (LIKE ref INCLUDING ALL);
SELECT distdb.create_distributed_table('big', 'id', 4);
SELECT distdb.create_distributed_table('small_dist', 'k', 3, colocate_with => 'none');
SELECT distdb.create_reference_table('ref');
INSERT INTO big SELECT i, CASE WHEN i % 17 = 0 THEN NULL ELSE i % 10 END,
	CASE WHEN i % 13 = 0 THEN NULL ELSE i END, 't' || (i % 4)
	FROM generate_series(1, 300) i;
INSERT INTO small_dist SELECT i, i % 6, i * 3, CASE WHEN i % 5 = 0 THEN NULL ELSE 'l' || i END
	FROM generate_series(1, 30) i;
INSERT INTO lk VALUES (1, 'one', 1.5), (3, 'a,b', NULL), (5, 'x"y', 2), (3, '', 3), (NULL, 'null key', 4),
	(7, NULL, 5), (9, '{braces}', 6);
INSERT INTO lk2 VALUES (1, 'uno'), (2, 'dos'), (2, 'deux'), (NULL, 'nada');
INSERT INTO ref VALUES (1, 'r1'), (3, 'r3'), (8, 'r8');
INSERT INTO big_local SELECT * FROM big;
INSERT INTO small_dist_local SELECT * FROM small_dist;
INSERT INTO ref_local SELECT * FROM ref;
ANALYZE big, small_dist, lk, lk2, ref;

-- a local table joined with a distributed one: the join and the grouping
-- run on the shards
SELECT check_query('SELECT l.note, count(*), sum(b.amount) FROM big b JOIN lk l ON b.x = l.y GROUP BY l.note ORDER BY 1 NULLS FIRST');
SELECT shard_plan('SELECT l.note, count(*), sum(b.amount) FROM big b JOIN lk l ON b.x = l.y GROUP BY l.note');
SELECT check_query('SELECT b.id, l.note, l.extra FROM big b, lk l WHERE b.x = l.y AND b.id < 40 ORDER BY b.id, l.note');
-- the small relation's own filters are applied when it is computed
SELECT check_query('SELECT count(*), sum(l.extra) FROM big b JOIN lk l ON b.x = l.y WHERE l.extra > 1.5 AND b.tag <> ''t0''');
SELECT shard_plan('SELECT count(*) FROM big b JOIN lk l ON b.x = l.y WHERE l.extra > 1.5');
-- ORDER BY ... LIMIT
SELECT check_query('SELECT b.id, l.note FROM big b JOIN lk l ON b.x = l.y ORDER BY b.amount DESC NULLS LAST, b.id, l.note LIMIT 5');
-- an empty small side
SELECT check_query('SELECT count(*), max(b.id) FROM big b JOIN lk l ON b.x = l.y WHERE l.y > 100');
-- USING, and join aliases
SELECT check_query('SELECT x, count(*), string_agg(DISTINCT label, '','' ORDER BY label) FROM big JOIN lk2 USING (x) GROUP BY x ORDER BY 1');
SELECT check_query('SELECT j.id, j.label FROM (big b JOIN lk2 l ON b.x = l.x) j WHERE j.id < 25 ORDER BY j.id, j.label');
SELECT check_query('SELECT j.id, j.name FROM (big b JOIN ref r ON b.x = r.code) j WHERE j.id < 25 ORDER BY j.id');
-- a distributed table that is not co-located, on a column that is not its
-- distribution column
SELECT check_query('SELECT s.y, count(*), sum(b.amount), max(s.label) FROM big b JOIN small_dist s ON b.x = s.y WHERE s.amount > 20 GROUP BY s.y ORDER BY 1');
SELECT shard_plan('SELECT s.y, count(*) FROM big b JOIN small_dist s ON b.x = s.y WHERE s.amount > 20 GROUP BY s.y');
-- written the other way round: the larger table stays
SELECT check_query('SELECT s.y, count(*) FROM small_dist s JOIN big b ON b.x = s.y GROUP BY s.y ORDER BY 1');
-- three relations, one of them a reference table
SELECT check_query('SELECT l.note, r.name, count(*) FROM big b JOIN lk l ON b.x = l.y JOIN small_dist s ON s.y = b.x JOIN ref r ON r.code = b.x GROUP BY 1, 2 ORDER BY 1, 2');
-- outer joins preserving the distributed side
SELECT check_query('SELECT b.id, l.note FROM big b LEFT JOIN lk l ON l.y = b.x WHERE b.id <= 20 ORDER BY b.id, l.note');
SELECT check_query('SELECT count(*), count(l.note) FROM big b LEFT JOIN lk l ON l.y = b.x AND l.extra > 2');
-- a WHERE condition on the nullable side is not applied before the join
SELECT check_query('SELECT count(*) FROM big b LEFT JOIN lk l ON l.y = b.x WHERE l.note IS NULL');
SELECT check_query('SELECT count(*) FROM lk l RIGHT JOIN big b ON l.y = b.x WHERE l.y IS NULL OR l.extra < 2');
SELECT shard_plan('SELECT count(*) FROM big b LEFT JOIN lk l ON l.y = b.x WHERE l.note IS NULL');
-- the small side preserved: its rows would come from every shard, so the
-- tables are pulled to the coordinator
SELECT check_query('SELECT l.y, l.note, count(b.id) FROM lk l LEFT JOIN big b ON b.x = l.y GROUP BY 1, 2 ORDER BY 1, 2');
SELECT check_query('SELECT count(*), count(l.y), count(b.id) FROM big b FULL JOIN lk l ON l.y = b.x');
SELECT shard_plan('SELECT count(*), count(l.y), count(b.id) FROM big b FULL JOIN lk l ON l.y = b.x');
-- whole-row references of the small side: pulled up
SELECT check_query('SELECT l, count(*) FROM big b JOIN lk l ON b.x = l.y GROUP BY l ORDER BY 1');
-- a parameter in the small side's filter
PREPARE bj(int) AS SELECT count(*), sum(b.amount) FROM big b JOIN lk l ON b.x = l.y WHERE l.y > $1;
PREPARE bj_local(int) AS SELECT count(*), sum(b.amount) FROM big_local b JOIN lk l ON b.x = l.y WHERE l.y > $1;
SELECT check_query('EXECUTE bj(0)');
SELECT check_query('EXECUTE bj(3)');
SELECT check_query('EXECUTE bj(4)');
SELECT check_query('EXECUTE bj(5)');
SELECT check_query('EXECUTE bj(7)');
SELECT check_query('EXECUTE bj(9)');
-- distdb.broadcast_join_max_rows: 0 disables, small values keep larger
-- relations on the coordinator
SET distdb.broadcast_join_max_rows = 0;
SELECT shard_plan('SELECT l.note, count(*) FROM big b JOIN lk l ON b.x = l.y GROUP BY l.note');
SELECT check_query('SELECT l.note, count(*) FROM big b JOIN lk l ON b.x = l.y GROUP BY l.note ORDER BY 1 NULLS FIRST');
SET distdb.broadcast_join_max_rows = 5;
SELECT shard_plan('SELECT l.note, count(*) FROM big b JOIN lk l ON b.x = l.y GROUP BY l.note');
SELECT shard_plan('SELECT l.note, count(*) FROM big b JOIN lk l ON b.x = l.y WHERE l.y > 4 GROUP BY l.note');
-- a plan made for a small relation that has grown since still answers right
PREPARE grown AS SELECT count(*), sum(b.amount), count(DISTINCT l.label) FROM big b JOIN lk2 l ON b.x = l.x;
PREPARE grown_local AS SELECT count(*), sum(b.amount), count(DISTINCT l.label) FROM big_local b JOIN lk2 l ON b.x = l.x;
SELECT check_query('EXECUTE grown');
INSERT INTO lk2 SELECT i % 12, 'more ' || i FROM generate_series(1, 200) i;
SELECT check_query('EXECUTE grown');
SELECT shard_plan('EXECUTE grown');
RESET distdb.broadcast_join_max_rows;
-- privileges of the small relation are checked
GRANT USAGE ON SCHEMA broadcast_joins TO broadcast_user;
GRANT SELECT ON big TO broadcast_user;
SET ROLE broadcast_user;
SELECT count(*) FROM big b JOIN lk l ON b.x = l.y;
RESET ROLE;

DROP SCHEMA broadcast_joins CASCADE;
DROP ROLE broadcast_user;
\c regression - :host :worker_1_port
DROP OWNED BY broadcast_user;
DROP ROLE broadcast_user;
\c regression - :host :worker_2_port
DROP OWNED BY broadcast_user;
DROP ROLE broadcast_user;
\c regression - :host :coordinator_port
