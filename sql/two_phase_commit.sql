--
-- two_phase_commit: transactions that write on both workers commit with
-- two-phase commit and are all-or-nothing; commit records are cleaned up
-- by recovery; a transaction that writes on one node keeps the plain
-- COMMIT.  (Crashes at each step are tested in test/t/003_two_phase_commit.pl.)
--
\getenv host DISTDB_HOST
\getenv coordinator_port DISTDB_COORDINATOR_PORT
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
CREATE SCHEMA two_phase_commit;
SET search_path TO two_phase_commit;
\set VERBOSITY terse

CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
INSERT INTO accounts SELECT i, 100 FROM generate_series(1, 20) i;
SELECT distdb.create_distributed_table('accounts', 'id', 4);

-- two accounts on each worker
SELECT i AS a1 FROM regress.ids_on_node('accounts', :worker_1_port, 20) i LIMIT 1 \gset
SELECT i AS b1 FROM regress.ids_on_node('accounts', :worker_1_port, 20) i OFFSET 1 LIMIT 1 \gset
SELECT i AS a2 FROM regress.ids_on_node('accounts', :worker_2_port, 20) i LIMIT 1 \gset

-- nothing is pending: recovery has nothing to do and clears old records
SELECT distdb.distdb_recover_prepared_transactions();
SELECT count(*) FROM distdb.transaction_record;

-- a transfer between the workers commits on both
BEGIN;
UPDATE accounts SET balance = balance - 10 WHERE id = :a1;
UPDATE accounts SET balance = balance + 10 WHERE id = :a2;
COMMIT;
SELECT id = :a1 AS is_a1, balance FROM accounts WHERE id IN (:a1, :a2) ORDER BY id = :a1;
SELECT sum(balance) FROM accounts;

-- a multi-shard UPDATE outside a transaction block writes on both workers
UPDATE accounts SET balance = balance + 1;
SELECT sum(balance), count(*) FROM accounts;
UPDATE accounts SET balance = balance - 1;

-- inserts on both workers with a savepoint rolled back in between
BEGIN;
INSERT INTO accounts VALUES (101, 1), (102, 2), (103, 3), (104, 4);
SAVEPOINT s;
INSERT INTO accounts VALUES (105, 5), (106, 6), (107, 7), (108, 8);
ROLLBACK TO SAVEPOINT s;
INSERT INTO accounts VALUES (109, 9), (110, 10), (111, 11), (112, 12);
COMMIT;
SELECT id, balance FROM accounts WHERE id > 100 ORDER BY id;

-- with distdb.wait_for_commit_prepared off, COMMIT does not wait for the
-- nodes to acknowledge COMMIT PREPARED; the session's next statements still
-- see the writes, through the connection that wrote and through other
-- connections to the same node (the scan of two shards per worker may use
-- two connections), and can lock the rows
SET distdb.wait_for_commit_prepared = off;
BEGIN;
INSERT INTO accounts VALUES (121, 1), (122, 2), (123, 3), (124, 4);
UPDATE accounts SET balance = balance + 1000 WHERE id IN (:a1, :a2);
COMMIT;
SELECT balance FROM accounts WHERE id = :a2;
SELECT count(*), sum(balance) FROM accounts WHERE id > 120 OR balance > 1000;
BEGIN;
SELECT id = :a1 AS is_a1 FROM accounts WHERE id IN (:a1, :a2) ORDER BY 1 FOR UPDATE NOWAIT;
UPDATE accounts SET balance = balance - 1000 WHERE id IN (:a1, :a2);
DELETE FROM accounts WHERE id > 120;
COMMIT;
SELECT count(*), sum(balance) FROM accounts WHERE id > 120 OR balance > 1000;
-- with distdb.wait_for_commit_prepared on (the default), COMMIT returns once
-- the nodes have committed: a new session on a worker finds nothing prepared
RESET distdb.wait_for_commit_prepared;
BEGIN;
UPDATE accounts SET balance = balance + 1 WHERE id IN (:a1, :a2);
COMMIT;
\c regression - :host :worker_1_port
SELECT count(*) AS prepared_on_worker_1 FROM pg_prepared_xacts;
\c regression - :host :worker_2_port
SELECT count(*) AS prepared_on_worker_2 FROM pg_prepared_xacts;
\c regression - :host :coordinator_port
SET search_path TO two_phase_commit;
\set VERBOSITY terse
UPDATE accounts SET balance = balance - 1 WHERE id IN (:a1, :a2);

-- committed transactions leave no prepared transaction behind, and
-- recovery then deletes their commit records
SELECT distdb.distdb_recover_prepared_transactions();
SELECT count(*) FROM distdb.transaction_record;

-- a transaction that writes on one worker only commits without records
BEGIN;
UPDATE accounts SET balance = balance - 5 WHERE id = :a1;
UPDATE accounts SET balance = balance + 5 WHERE id = :b1;
COMMIT;
SELECT count(*) FROM distdb.transaction_record;
-- so does one that reads both workers in REPEATABLE READ but writes one
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT sum(balance) FROM accounts WHERE id <= 20;
UPDATE accounts SET balance = balance + 5 WHERE id = :a1;
UPDATE accounts SET balance = balance - 5 WHERE id = :b1;
COMMIT;
SELECT count(*) FROM distdb.transaction_record;
SELECT sum(balance) FROM accounts WHERE id <= 20;

-- ROLLBACK after writes on both workers leaves nothing
BEGIN;
UPDATE accounts SET balance = 0 WHERE id = :a1;
UPDATE accounts SET balance = 0 WHERE id = :a2;
INSERT INTO accounts VALUES (201, 1), (202, 2), (203, 3), (204, 4);
ROLLBACK;
SELECT count(*) FROM accounts WHERE id > 200 OR balance = 0;

-- an error on one worker after a write on the other: COMMIT rolls back
BEGIN;
INSERT INTO accounts VALUES (301, 1), (302, 2), (303, 3), (304, 4);
\set VERBOSITY sqlstate
INSERT INTO accounts VALUES (:a2, 0);
\set VERBOSITY terse
COMMIT;
SELECT count(*) FROM accounts WHERE id > 300;

-- a fault before PREPARE aborts the commit; one after PREPARE rolls back
-- the prepared transactions; nothing is left on the workers
SELECT distdb.distdb_set_fault('before_prepare', 'error');
BEGIN;
INSERT INTO accounts VALUES (401, 1), (402, 2), (403, 3), (404, 4);
COMMIT;
SELECT distdb.distdb_set_fault('before_prepare', 'off');
SELECT distdb.distdb_set_fault('after_commit_record', 'error');
BEGIN;
INSERT INTO accounts VALUES (401, 1), (402, 2), (403, 3), (404, 4);
COMMIT;
SELECT distdb.distdb_clear_faults();
SELECT count(*) FROM accounts WHERE id > 400;
SELECT distdb.distdb_set_fault('nowhere', 'error');
SELECT distdb.distdb_set_fault('after_prepare', 'explode');

\c regression - :host :worker_1_port
SELECT count(*) AS prepared_on_worker_1 FROM pg_prepared_xacts;
\c regression - :host :worker_2_port
SELECT count(*) AS prepared_on_worker_2 FROM pg_prepared_xacts;
\c regression - :host :coordinator_port
SET search_path TO two_phase_commit;

SELECT sum(balance), count(*) FROM accounts;
SELECT distdb.distdb_recover_prepared_transactions();
SELECT count(*) FROM distdb.transaction_record;

DROP TABLE accounts;
DROP SCHEMA two_phase_commit;
