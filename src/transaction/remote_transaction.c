/*-------------------------------------------------------------------------
 *
 * remote_transaction.c
 *	  Remote transactions on node connections, driven by the local
 *	  transaction.
 *
 * The first command of a local transaction that must be part of it on a
 * node opens a remote transaction there with the same isolation level;
 * local subtransactions (SAVEPOINT, PL/pgSQL exception blocks) are mirrored
 * by remote savepoints, created lazily; when the local transaction commits,
 * the remote ones are committed first (in the pre-commit phase, so a
 * failure still aborts the local transaction), and when it aborts they are
 * rolled back.
 *
 * A transaction that wrote on more than one node is committed with
 * two-phase commit instead (two_phase_commit.c): its remote transactions
 * are prepared in the pre-commit phase and committed once the local commit
 * is durable.  A transaction that wrote on a single node keeps the plain
 * COMMIT: that node's commit is then the commit point.
 *
 * Every remote transaction is tagged, in its BEGIN's round trip, with the
 * local transaction's distributed transaction id, which distributed
 * deadlock detection needs (distributed_transaction_id.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "distdb/connection_cache.h"
#include "distdb/distributed_transaction_id.h"
#include "distdb/remote_command.h"
#include "distdb/remote_transaction.h"
#include "distdb/two_phase_commit.h"

/* how long cleanup at abort may wait for a node, in milliseconds */
#define ABORT_CLEANUP_TIMEOUT_MS 5000

int			DistdbExecutorLevel = 0;

/* set when a remote savepoint could not be rolled back */
static bool RemoteTransactionBroken = false;

static void RemoteXactCallback(XactEvent event, void *arg);
static void RemoteSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
								  SubTransactionId parentSubid, void *arg);

/*
 * InitializeRemoteTransactions registers the transaction callbacks; called
 * from _PG_init.
 */
void
InitializeRemoteTransactions(void)
{
	RegisterXactCallback(RemoteXactCallback, NULL);
	RegisterSubXactCallback(RemoteSubXactCallback, NULL);
}

/*
 * BeginCommandFor builds the commands that bring a connection's remote
 * transaction to the local one's state, or returns NULL when it is there.
 */
static char *
BeginCommandFor(NodeConnection *connection)
{
	int			localDepth = GetCurrentTransactionNestLevel();
	StringInfoData command;

	if (RemoteTransactionBroken)
		ereport(ERROR,
				(errcode(ERRCODE_IN_FAILED_SQL_TRANSACTION),
				 errmsg("a remote savepoint of this transaction could not be rolled back"),
				 errhint("Roll back the transaction.")));

	if (connection->xactState == REMOTE_XACT_OPEN &&
		connection->xactDepth >= localDepth)
		return NULL;

	initStringInfo(&command);
	if (connection->xactState == REMOTE_XACT_NONE)
	{
		appendStringInfoString(&command, "BEGIN ISOLATION LEVEL ");
		if (XactIsoLevel == XACT_SERIALIZABLE)
			appendStringInfoString(&command, "SERIALIZABLE");
		else if (XactIsoLevel == XACT_REPEATABLE_READ)
			appendStringInfoString(&command, "REPEATABLE READ");
		else
			appendStringInfoString(&command, "READ COMMITTED");
		if (XactReadOnly)
			appendStringInfoString(&command, " READ ONLY");
		/* in the same round trip: deadlock detection needs the id */
		appendStringInfo(&command, ";SET LOCAL %s = '%s';",
						 DISTRIBUTED_TRANSACTION_ID_GUC,
						 CurrentDistributedTransactionIdText());
		connection->xactDepth = 1;
	}
	else if (connection->xactState == REMOTE_XACT_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_IN_FAILED_SQL_TRANSACTION),
				 errmsg("the remote transaction on node %s:%d has failed",
						connection->nodeName, connection->nodePort),
				 errhint("Roll back the transaction.")));

	while (connection->xactDepth < localDepth)
	{
		connection->xactDepth++;
		appendStringInfo(&command, "SAVEPOINT distdb_s%d;",
						 connection->xactDepth);
	}
	return command.data;
}

/*
 * BeginRemoteTransactionIfNeeded opens the remote transaction (and
 * savepoints) on one connection.
 */
void
BeginRemoteTransactionIfNeeded(NodeConnection *connection)
{
	BeginRemoteTransactions(list_make1(connection));
}

/*
 * BeginRemoteTransactions opens remote transactions on several connections,
 * with the commands sent to all nodes before waiting for any.
 */
void
BeginRemoteTransactions(List *connections)
{
	List	   *needed = NIL;
	List	   *commands = NIL;
	ListCell   *lc;

	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);
		RemoteXactState oldState = connection->xactState;
		int			oldDepth = connection->xactDepth;
		char	   *command = BeginCommandFor(connection);

		if (command == NULL)
			continue;
		/* the state changes only once the node has acknowledged */
		connection->xactState = oldState;
		connection->xactDepth = oldDepth;
		needed = lappend(needed, connection);
		commands = lappend(commands, command);
	}
	if (needed == NIL)
		return;

	ExecuteRemoteCommandOnEach(needed, commands);

	foreach(lc, needed)
	{
		NodeConnection *connection = lfirst(lc);

		if (connection->xactState == REMOTE_XACT_NONE)
			connection->xactDepth = 1;
		connection->xactState = REMOTE_XACT_OPEN;
		while (connection->xactDepth < GetCurrentTransactionNestLevel())
			connection->xactDepth++;
	}
}

/*
 * StatementMayAutocommit: see remote_transaction.h.
 */
bool
StatementMayAutocommit(void)
{
	return DistdbExecutorLevel <= 1 && !IsTransactionBlock() &&
		GetCurrentTransactionNestLevel() == 1 && !RemoteTransactionBroken;
}

/*
 * WaitQuietly waits for a connection's socket with a deadline, without
 * raising errors or serving interrupts; for cleanup during abort.  Returns
 * false when the deadline passed.
 */
bool
WaitQuietly(NodeConnection *connection, TimestampTz deadline)
{
	long		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
														  deadline);

	if (timeout <= 0)
		return false;
	(void) WaitForNodeSocketUntil(connection, true, false, timeout);
	return true;
}

/*
 * FlushQuietly sends what libpq has queued on the connection within a
 * deadline, without raising errors; false on failure.
 */
bool
FlushQuietly(NodeConnection *connection, TimestampTz deadline)
{
	PGconn	   *conn = connection->pgconn;

	for (;;)
	{
		int			rc = PQflush(conn);

		if (rc == 0)
			return true;
		if (rc < 0 || !WaitQuietly(connection, deadline) ||
			PQconsumeInput(conn) == 0)
			return false;
	}
}

/*
 * NextResultQuietly waits within a deadline for the next result of the
 * running command, without raising errors.  Returns false when the
 * connection failed or the deadline passed; otherwise true with *result
 * set (NULL once the command has no more results).
 */
bool
NextResultQuietly(NodeConnection *connection, TimestampTz deadline,
				  PGresult **result)
{
	PGconn	   *conn = connection->pgconn;

	while (PQisBusy(conn))
	{
		if (!WaitQuietly(connection, deadline) || PQconsumeInput(conn) == 0)
			return false;
	}
	*result = PQgetResult(conn);
	return true;
}

/*
 * DrainQuietly reads and discards the results of the running command
 * within a deadline; returns false if the connection is unusable after.
 */
static bool
DrainQuietly(NodeConnection *connection, TimestampTz deadline)
{
	PGconn	   *conn = connection->pgconn;
	PGresult   *result;

	for (;;)
	{
		if (!NextResultQuietly(connection, deadline, &result))
			return false;
		if (result == NULL)
			return true;
		if (PQresultStatus(result) == PGRES_COPY_IN)
			PQputCopyEnd(conn, "transaction aborted");
		else if (PQresultStatus(result) == PGRES_COPY_OUT)
		{
			PQclear(result);
			return false;
		}
		PQclear(result);
	}
}

/*
 * RunQuietly runs a command within a deadline, for cleanup; returns false
 * on any failure.
 */
static bool
RunQuietly(NodeConnection *connection, const char *sql, TimestampTz deadline)
{
	PGresult   *result;
	bool		ok = true;

	if (PQsendQuery(connection->pgconn, sql) == 0 ||
		!FlushQuietly(connection, deadline))
		return false;
	for (;;)
	{
		if (!NextResultQuietly(connection, deadline, &result))
			return false;
		if (result == NULL)
			return ok;
		if (PQresultStatus(result) != PGRES_COMMAND_OK)
			ok = false;
		PQclear(result);
	}
}

/*
 * StopRunningCommand cancels what a connection is running and discards its
 * results; returns false if the connection should be closed.
 */
bool
StopRunningCommand(NodeConnection *connection, TimestampTz deadline)
{
	PGconn	   *conn = connection->pgconn;

	if (PQstatus(conn) != CONNECTION_OK)
		return false;
	if (PQtransactionStatus(conn) == PQTRANS_ACTIVE)
	{
		PGcancel   *cancel = PQgetCancel(conn);
		char		errbuf[256];

		if (cancel == NULL)
			return false;
		if (!PQcancel(cancel, errbuf, sizeof(errbuf)))
		{
			PQfreeCancel(cancel);
			return false;
		}
		PQfreeCancel(cancel);
		if (!DrainQuietly(connection, deadline))
			return false;
	}
	return true;
}

/*
 * AbortRemoteWork brings a connection back to idle after the local
 * transaction aborted: cancel a running command, roll back the remote
 * transaction.  Connections that do not come back cleanly are closed.
 */
static void
AbortRemoteWork(NodeConnection *connection)
{
	TimestampTz deadline =
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
									ABORT_CLEANUP_TIMEOUT_MS);
	bool		usable = StopRunningCommand(connection, deadline);

	if (usable && PQtransactionStatus(connection->pgconn) != PQTRANS_IDLE)
		usable = RunQuietly(connection, "ROLLBACK", deadline);
	if (usable && PQtransactionStatus(connection->pgconn) != PQTRANS_IDLE)
		usable = false;

	connection->xactState = REMOTE_XACT_NONE;
	connection->xactDepth = 0;
	connection->wroteData = false;
	connection->claimed = false;
	ForgetSessionSettings(connection);
	if (!usable)
		CloseNodeConnection(connection);
}

/*
 * CommitRemoteTransactions ends every open remote transaction in the
 * pre-commit phase: with two-phase commit when the transaction wrote on
 * more than one node (see two_phase_commit.c), otherwise with COMMIT sent
 * to all nodes before waiting for any.  An error here aborts the local
 * transaction.
 */
static void
CommitRemoteTransactions(void)
{
	List	   *connections = AllNodeConnections();
	List	   *committing = NIL;
	List	   *commands = NIL;
	ListCell   *lc;

	if (RemoteTransactionBroken)
		ereport(ERROR,
				(errcode(ERRCODE_IN_FAILED_SQL_TRANSACTION),
				 errmsg("cannot commit: a remote savepoint of this transaction could not be rolled back")));

	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);

		if (connection->xactState == REMOTE_XACT_NONE)
			continue;
		if (connection->xactState == REMOTE_XACT_FAILED)
			ereport(ERROR,
					(errcode(ERRCODE_IN_FAILED_SQL_TRANSACTION),
					 errmsg("cannot commit: the remote transaction on node %s:%d has failed",
							connection->nodeName, connection->nodePort)));
		DrainRemoteResults(connection);
		committing = lappend(committing, connection);
		commands = lappend(commands, "COMMIT");
	}

	if (committing != NIL && !PrepareRemoteTransactions(committing))
		ExecuteRemoteCommandOnEach(committing, commands);

	foreach(lc, committing)
	{
		NodeConnection *connection = lfirst(lc);

		connection->xactState = REMOTE_XACT_NONE;
		connection->xactDepth = 0;
		connection->wroteData = false;
	}
	list_free(connections);
	list_free(committing);
}

/*
 * RemoteXactCallback ends remote transactions with the local one.
 */
static void
RemoteXactCallback(XactEvent event, void *arg)
{
	List	   *connections;
	ListCell   *lc;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			CommitRemoteTransactions();
			break;

		case XACT_EVENT_PRE_PREPARE:
			foreach(lc, (connections = AllNodeConnections()))
			{
				NodeConnection *connection = lfirst(lc);

				if (connection->xactState != REMOTE_XACT_NONE)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot PREPARE a transaction that has run commands on distdb nodes")));
			}
			break;

		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* prepared transactions first: their connections must stay */
			FinishPreparedRemoteTransactions(false);
			connections = AllNodeConnections();
			foreach(lc, connections)
			{
				NodeConnection *connection = lfirst(lc);

				if (connection->connecting)
				{
					CloseNodeConnection(connection);
					continue;
				}
				if (connection->claimed ||
					connection->xactState != REMOTE_XACT_NONE ||
					PQtransactionStatus(connection->pgconn) != PQTRANS_IDLE)
					AbortRemoteWork(connection);
			}
			list_free(connections);
			RemoteTransactionBroken = false;
			DistdbExecutorLevel = 0;
			break;

		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			FinishPreparedRemoteTransactions(true);
			ReleaseAllNodeConnections();
			RemoteTransactionBroken = false;
			DistdbExecutorLevel = 0;
			break;

		default:
			break;
	}
}

/*
 * RemoteSubXactCallback releases or rolls back the remote savepoint of a
 * subtransaction that ends.
 */
static void
RemoteSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					  SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	List	   *connections;
	ListCell   *lc;

	if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;

	connections = AllNodeConnections();
	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);
		char		command[128];

		if (connection->xactState != REMOTE_XACT_OPEN ||
			connection->xactDepth < level)
			continue;

		if (event == SUBXACT_EVENT_COMMIT_SUB)
		{
			snprintf(command, sizeof(command), "RELEASE SAVEPOINT distdb_s%d",
					 level);
			ExecuteRemoteCommand(connection, command);
		}
		else
		{
			TimestampTz deadline =
				TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											ABORT_CLEANUP_TIMEOUT_MS);

			snprintf(command, sizeof(command),
					 "ROLLBACK TO SAVEPOINT distdb_s%d; RELEASE SAVEPOINT distdb_s%d",
					 level, level);
			connection->claimed = false;
			ForgetSessionSettings(connection);
			if (!StopRunningCommand(connection, deadline) ||
				!RunQuietly(connection, command, deadline))
			{
				/* the remote transaction is lost: the local one must fail */
				RemoteTransactionBroken = true;
				connection->xactState = REMOTE_XACT_FAILED;
				continue;
			}
		}
		connection->xactDepth = level - 1;
	}
	list_free(connections);
}
