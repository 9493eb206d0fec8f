--
-- distributed_deadlock: the settings and functions of distributed deadlock
-- detection.  (Deadlocks themselves are tested with concurrent sessions in
-- test/t/005_distributed_deadlock.pl.)
--
CREATE SCHEMA distributed_deadlock;
SET search_path TO distributed_deadlock;
\set VERBOSITY terse

SHOW distdb.distributed_deadlock_detection_interval;
-- set in postgresql.conf only
SET distdb.distributed_deadlock_detection_interval = '1s';

CREATE TABLE items (id int PRIMARY KEY, tag text);
SELECT distdb.create_distributed_table('items', 'id', 4);

-- a transaction gets a distributed transaction id with its first remote
-- transaction, and loses it when it ends
BEGIN;
SELECT count(*) FROM distdb.distdb_backend_transactions() WHERE pid = pg_backend_pid();
INSERT INTO items VALUES (1, 'a');
SELECT count(*) FROM distdb.distdb_backend_transactions() WHERE pid = pg_backend_pid();
SELECT transaction_id ~ '^[0-9]+:[0-9]+:[0-9]+:-?[0-9]+$' AS well_formed
FROM distdb.distdb_backend_transactions() WHERE pid = pg_backend_pid();
COMMIT;
SELECT count(*) FROM distdb.distdb_backend_transactions() WHERE pid = pg_backend_pid();

-- each transaction gets a new id
BEGIN;
INSERT INTO items VALUES (2, 'b');
SELECT transaction_id AS first_id FROM distdb.distdb_backend_transactions()
WHERE pid = pg_backend_pid() \gset
ROLLBACK;
BEGIN;
INSERT INTO items VALUES (3, 'c');
SELECT transaction_id <> :'first_id' AS new_id FROM distdb.distdb_backend_transactions()
WHERE pid = pg_backend_pid();
ROLLBACK;
SELECT id, tag FROM items ORDER BY id;

-- the setting the coordinator sends to the nodes: ids only, local to the
-- transaction
SET distdb.distributed_transaction_id = 'not an id';
SET distdb.distributed_transaction_id = '1:0:1:0';
BEGIN;
SET LOCAL distdb.distributed_transaction_id = '12345:678:9:1000';
SELECT transaction_id FROM distdb.distdb_backend_transactions() WHERE pid = pg_backend_pid();
COMMIT;
SELECT count(*) FROM distdb.distdb_backend_transactions() WHERE pid = pg_backend_pid();

-- nothing waits, nothing is cancelled
SELECT count(*) FROM distdb.distdb_lock_waits();
SELECT distdb.distdb_detect_distributed_deadlocks();
SELECT distdb.distdb_detect_distributed_deadlocks(-1);

DROP TABLE items;
DROP SCHEMA distributed_deadlock;
