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
#include "utils/memutils.h"
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
 * BeginCommandsFor returns the commands (one statement each) that bring a
 * connection's remote transaction to the local one's state: BEGIN with the
 * local isolation level and the distributed transaction id, and the
 * savepoints of the local subtransactions; NIL when it is there.
 */
static List *
BeginCommandsFor(NodeConnection *connection)
{
	int			localDepth = GetCurrentTransactionNestLevel();
	int			depth = connection->xactDepth;
	List	   *commands = NIL;

	if (RemoteTransactionBroken)
		ereport(ERROR,
				(errcode(ERRCODE_IN_FAILED_SQL_TRANSACTION),
				 errmsg("a remote savepoint of this transaction could not be rolled back"),
				 errhint("Roll back the transaction.")));

	if (connection->xactState == REMOTE_XACT_OPEN && depth >= localDepth)
		return NIL;

	if (connection->xactState == REMOTE_XACT_NONE)
	{
		commands = lappend(commands,
						   psprintf("BEGIN ISOLATION LEVEL %s%s",
									XactIsoLevel == XACT_SERIALIZABLE ?
									"SERIALIZABLE" :
									XactIsoLevel == XACT_REPEATABLE_READ ?
									"REPEATABLE READ" : "READ COMMITTED",
									XactReadOnly ? " READ ONLY" : ""));
		/* in the same round trip: deadlock detection needs the id */
		commands = lappend(commands,
						   psprintf("SET LOCAL %s = '%s'",
									DISTRIBUTED_TRANSACTION_ID_GUC,
									CurrentDistributedTransactionIdText()));
		depth = 1;
	}
	else if (connection->xactState == REMOTE_XACT_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_IN_FAILED_SQL_TRANSACTION),
				 errmsg("the remote transaction on node %s:%d has failed",
						connection->nodeName, connection->nodePort),
				 errhint("Roll back the transaction.")));

	while (depth < localDepth)
		commands = lappend(commands, psprintf("SAVEPOINT distdb_s%d", ++depth));
	return commands;
}

/*
 * JoinCommands joins single commands into one multi-command string.
 */
static char *
JoinCommands(List *commands)
{
	StringInfoData text;
	ListCell   *lc;

	initStringInfo(&text);
	foreach(lc, commands)
		appendStringInfo(&text, "%s;", (char *) lfirst(lc));
	return text.data;
}

/*
 * MarkRemoteTransactionOpen records that the connection's remote
 * transaction matches the local one's nesting level.
 */
static void
MarkRemoteTransactionOpen(NodeConnection *connection)
{
	connection->xactState = REMOTE_XACT_OPEN;
	connection->xactDepth = GetCurrentTransactionNestLevel();
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
		List	   *begin = BeginCommandsFor(connection);

		if (begin == NIL)
			continue;
		needed = lappend(needed, connection);
		commands = lappend(commands, JoinCommands(begin));
	}
	if (needed == NIL)
		return;

	ExecuteRemoteCommandOnEach(needed, commands);

	/* the state changes only once the nodes have acknowledged */
	foreach(lc, needed)
		MarkRemoteTransactionOpen(lfirst(lc));
}

/*
 * QueueRemoteTransactionBegins is BeginRemoteTransactions without the
 * round trip: each connection keeps the commands that open its remote
 * transaction, and sends them ahead of its next query (in libpq pipeline
 * mode, see SendRemoteQuery's REMOTE_WITH_QUEUED), so that the BEGIN costs
 * the node no extra round trip.  The remote transaction counts as open at
 * once; if the queued commands fail, the query that carries them fails with
 * their error, and the local transaction aborts.  Commands still queued
 * when anything else is sent on the connection go first
 * (SendQueuedCommands); at abort they are dropped
 * (DiscardQueuedCommands).
 */
void
QueueRemoteTransactionBegins(List *connections)
{
	ListCell   *lc;

	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);
		List	   *begin = BeginCommandsFor(connection);
		MemoryContext oldContext;
		ListCell   *clc;

		if (begin == NIL)
			continue;
		Assert(connection->queuedCommands == NIL);
		oldContext = MemoryContextSwitchTo(GetMemoryChunkContext(connection));
		foreach(clc, begin)
			connection->queuedCommands = lappend(connection->queuedCommands,
												 pstrdup(lfirst(clc)));
		MemoryContextSwitchTo(oldContext);
		connection->queuedFromState = connection->xactState;
		connection->queuedFromDepth = connection->xactDepth;
		MarkRemoteTransactionOpen(connection);
	}
}

/*
 * SendQueuedCommands runs the connection's queued transaction-start
 * commands now, in their own round trip.
 */
void
SendQueuedCommands(NodeConnection *connection)
{
	List	   *commands = connection->queuedCommands;

	if (commands == NIL)
		return;
	connection->queuedCommands = NIL;
	ExecuteRemoteCommand(connection, JoinCommands(commands));
	list_free_deep(commands);
}

/*
 * DiscardQueuedCommands drops queued transaction-start commands that never
 * left: the remote transaction is where it was before they were queued.
 */
static void
DiscardQueuedCommands(NodeConnection *connection)
{
	if (connection->queuedCommands == NIL)
		return;
	list_free_deep(connection->queuedCommands);
	connection->queuedCommands = NIL;
	connection->xactState = connection->queuedFromState;
	connection->xactDepth = connection->queuedFromDepth;
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
	bool		previousWasEnd = false;

	for (;;)
	{
		if (!NextResultQuietly(connection, deadline, &result))
			return false;
		if (result == NULL)
		{
			/* in a pipeline, the end of one command: read up to the Sync */
			if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF)
				return true;
			if (previousWasEnd)
				return false;	/* nothing more will come */
			previousWasEnd = true;
			continue;
		}
		previousWasEnd = false;
		if (PQresultStatus(result) == PGRES_PIPELINE_SYNC)
		{
			PQclear(result);
			if (!EndPipeline(connection))
				return false;
			continue;
		}
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
	/* a pipeline whose results were all read, or that never got its Sync */
	return EndPipeline(connection);
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
	bool		usable;

	DiscardQueuedCommands(connection);
	usable = StopRunningCommand(connection, deadline);

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
			/* the last commit's COMMIT PREPARED: those connections are busy */
			ReadFinishPreparedResults();
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

		/* savepoints still queued were never made */
		if (event == SUBXACT_EVENT_ABORT_SUB)
			DiscardQueuedCommands(connection);
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
