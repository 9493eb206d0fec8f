--
-- transaction_start: the commands that open a node's transaction (BEGIN
-- with the distributed transaction id, savepoints) travel with the first
-- statement sent to that node, in one round trip.  Whatever fails -- that
-- first statement, a later one, a savepoint rolled back before anything
-- reached the node -- the transaction keeps PostgreSQL's semantics.
--
\getenv worker_1_port DISTDB_WORKER_1_PORT
\getenv worker_2_port DISTDB_WORKER_2_PORT
CREATE SCHEMA transaction_start;
SET search_path TO transaction_start;
\set VERBOSITY terse

CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
INSERT INTO accounts SELECT i, 100 FROM generate_series(1, 20) i;
SELECT distdb.create_distributed_table('accounts', 'id', 4);

-- an account on each worker
SELECT i AS a1 FROM regress.ids_on_node('accounts', :worker_1_port, 20) i LIMIT 1 \gset
SELECT i AS a2 FROM regress.ids_on_node('accounts', :worker_2_port, 20) i LIMIT 1 \gset

-- a transaction reads its own writes; ROLLBACK undoes them on every node
BEGIN;
UPDATE accounts SET balance = balance - 30 WHERE id = :a1;
SELECT balance FROM accounts WHERE id = :a1;
UPDATE accounts SET balance = balance + 30 WHERE id = :a2;
SELECT id = :a1 AS is_a1, balance FROM accounts WHERE id IN (:a1, :a2) ORDER BY 1;
SELECT sum(balance) FROM accounts;
ROLLBACK;
SELECT id = :a1 AS is_a1, balance FROM accounts WHERE id IN (:a1, :a2) ORDER BY 1;

-- the first statement of a transaction returns rows
BEGIN;
UPDATE accounts SET balance = balance + 1 WHERE id = 3 RETURNING id, balance;
SELECT balance FROM accounts WHERE id = 3;
COMMIT;
SELECT balance FROM accounts WHERE id = 3;

-- REPEATABLE READ opens node transactions for reads too, one row at a time
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT id, balance FROM accounts WHERE id = 4;
SELECT count(*), sum(balance) FROM accounts;
SELECT id, balance FROM accounts WHERE id <= 6 ORDER BY id;
COMMIT;

-- the first statement sent to a node fails there: the transaction is
-- aborted with the node's error
BEGIN;
UPDATE accounts SET balance = balance / 0 WHERE id = 5;
SELECT 1;
ROLLBACK;
SELECT balance FROM accounts WHERE id = 5;

-- the same on the second node of a transaction that wrote on the first
BEGIN;
UPDATE accounts SET balance = balance - 10 WHERE id = :a1;
UPDATE accounts SET balance = balance / 0 WHERE id = :a2;
COMMIT;
SELECT id = :a1 AS is_a1, balance FROM accounts WHERE id IN (:a1, :a2) ORDER BY 1;

-- a savepoint opened before the first statement, which fails: rolling back
-- to it keeps the transaction going
BEGIN;
SAVEPOINT s1;
UPDATE accounts SET balance = balance / 0 WHERE id = 5;
ROLLBACK TO SAVEPOINT s1;
UPDATE accounts SET balance = balance - 7 WHERE id = 5;
SAVEPOINT s2;
UPDATE accounts SET balance = balance - 1000 WHERE id = 6;
ROLLBACK TO SAVEPOINT s2;
SAVEPOINT s3;
UPDATE accounts SET balance = balance + 2 WHERE id = 6;
RELEASE SAVEPOINT s3;
SELECT id, balance FROM accounts WHERE id IN (5, 6) ORDER BY id;
COMMIT;
SELECT id, balance FROM accounts WHERE id IN (5, 6) ORDER BY id;

-- a savepoint rolled back before any statement reached a node
BEGIN;
SAVEPOINT s1;
SELECT 1;
ROLLBACK TO SAVEPOINT s1;
UPDATE accounts SET balance = balance + 7 WHERE id = 5;
COMMIT;
SELECT balance FROM accounts WHERE id = 5;

-- a PL/pgSQL exception block is a subtransaction: its first statement
-- fails on the node, and the block's caller goes on
DO $$
BEGIN
	BEGIN
		UPDATE transaction_start.accounts SET balance = balance / 0 WHERE id = 7;
	EXCEPTION WHEN division_by_zero THEN
		RAISE NOTICE 'caught: %', SQLERRM;
	END;
	UPDATE transaction_start.accounts SET balance = balance + 5 WHERE id = 7;
END
$$;
SELECT balance FROM accounts WHERE id = 7;

-- outside a transaction block a router statement runs in autocommit mode
-- on its node: when it fails there, nothing of it stays
UPDATE accounts SET balance = balance / 0 WHERE id = 8;
SELECT balance FROM accounts WHERE id = 8;

-- a transfer between the workers commits on both (two-phase commit)
BEGIN;
UPDATE accounts SET balance = balance - 25 WHERE id = :a1;
UPDATE accounts SET balance = balance + 25 WHERE id = :a2;
COMMIT;
SELECT id = :a1 AS is_a1, balance FROM accounts WHERE id IN (:a1, :a2) ORDER BY 1;
SELECT count(*), sum(balance) FROM accounts;

DROP SCHEMA transaction_start CASCADE;
