/*-------------------------------------------------------------------------
 *
 * two_phase_commit.c
 *	  Atomic commit of a transaction that wrote on several nodes.
 *
 * When the local transaction wrote on more than one node, its remote
 * transactions are not simply committed one after another (a node failing
 * in the middle would leave the others committed).  Instead:
 *
 * 1. In the pre-commit phase, every written node's transaction is prepared
 *	  (PREPARE TRANSACTION '<gid>', sent to all nodes before waiting for
 *	  any).  Remote transactions that only read are committed at the same
 *	  time: whether they commit does not matter to the others.
 * 2. Still in the pre-commit phase, one commit record per gid is inserted
 *	  into distdb.transaction_record, in the local transaction.
 * 3. The local commit is the commit point: the records become durable and
 *	  visible with it, or vanish if it aborts.
 * 4. Once it has committed, COMMIT PREPARED is sent to every prepared node
 *	  (in parallel); if it aborted, ROLLBACK PREPARED.
 *
 * A failure before step 3 aborts the local transaction, and the abort path
 * rolls back what was prepared.  A failure in step 4 (a node or the
 * connection going away) and a crash of the coordinator at any point leave
 * prepared transactions behind; transaction_recovery.c finishes them from
 * the gid alone: a gid whose local transaction is still running is left
 * alone, one with a visible commit record is committed, any other rolled
 * back.  The local transaction's xid, part of the gid, is assigned before
 * the first PREPARE but need not be durable then: if a crash loses it, the
 * restarted coordinator's xid counter may lie below it, and recovery reads
 * such a "future" xid as ended (no transaction can hold it); if a new
 * transaction is given that xid again, its gids differ from the leftovers'
 * or its PREPARE fails on the duplicate, and a leftover never has a commit
 * record (a commit would have made the xid durable).  The local commit
 * itself is forced to be synchronous.
 *
 * A transaction that wrote on one node keeps the plain COMMIT, which is
 * atomic by itself.  Whether a node was written is known from
 * NodeConnection.wroteData; remote transactions opened by other paths
 * (DDL, moving rows) are asked whether they have an xid.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/twophase.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "distdb/distdb.h"
#include "distdb/fault_points.h"
#include "distdb/maintenance_daemon.h"
#include "distdb/metadata_catalog.h"
#include "distdb/remote_command.h"
#include "distdb/remote_transaction.h"
#include "distdb/two_phase_commit.h"

/* how long COMMIT / ROLLBACK PREPARED may take before we leave it to recovery */
#define FINISH_PREPARED_TIMEOUT_MS 30000

/* where one participant of a two-phase commit stands */
typedef enum ParticipantState
{
	PARTICIPANT_PREPARE_SENT,	/* PREPARE sent, outcome not known */
	PARTICIPANT_PREPARED,		/* the node acknowledged PREPARE */
	PARTICIPANT_FAILED			/* PREPARE failed: nothing to finish */
} ParticipantState;

/* a node transaction being prepared or prepared */
typedef struct TwoPhaseParticipant
{
	NodeConnection *connection;
	char		gid[GIDSIZE];
	ParticipantState state;
} TwoPhaseParticipant;

/*
 * The participants of the two-phase commit in progress, from the
 * pre-commit phase until the local transaction has ended; allocated in
 * TopMemoryContext.
 */
static List *Participants = NIL;

/* connections with a COMMIT / ROLLBACK PREPARED whose result is unread */
static int	FinishingConnections = 0;

static List *WrittenConnections(List *connections);
static void SendPrepares(List *connections);
static void CollectPrepares(List *connections);
static TwoPhaseParticipant *FindParticipant(NodeConnection *connection);
static void InsertTransactionRecords(void);
static void ForgetParticipants(void);
static void ReportUnfinishedPrepared(NodeConnection *connection,
									 const char *gid, bool commit,
									 const char *detail);

/*
 * TwoPhaseGidPrefix returns the beginning shared by the gids of this
 * coordinator's database.
 */
char *
TwoPhaseGidPrefix(void)
{
	return psprintf("distdb_" UINT64_FORMAT "_%u_", GetSystemIdentifier(),
					MyDatabaseId);
}

/*
 * ParseTwoPhaseGid splits a gid made by this database (see
 * two_phase_commit.h) into the local transaction's xid and the node id.
 */
bool
ParseTwoPhaseGid(const char *gid, FullTransactionId *xid, int32 *nodeId)
{
	char	   *prefix = TwoPhaseGidPrefix();
	size_t		prefixLength = strlen(prefix);
	const char *p;
	char	   *end;
	uint64		xidValue;
	long		nodeValue;

	if (strncmp(gid, prefix, prefixLength) != 0)
		return false;
	p = gid + prefixLength;
	if (!isdigit((unsigned char) *p))
		return false;
	errno = 0;
	xidValue = strtou64(p, &end, 10);
	if (errno != 0 || *end != '_' || !isdigit((unsigned char) end[1]))
		return false;
	nodeValue = strtol(end + 1, &end, 10);
	if (errno != 0 || *end != '_' || nodeValue <= 0 || nodeValue > PG_INT32_MAX)
		return false;
	*xid = FullTransactionIdFromU64(xidValue);
	*nodeId = (int32) nodeValue;
	return true;
}

/*
 * PrepareRemoteTransactions: see two_phase_commit.h.  Runs in the
 * pre-commit phase; any error aborts the local transaction, whose abort
 * path then rolls back what was prepared.
 */
bool
PrepareRemoteTransactions(List *connections)
{
	List	   *written = WrittenConnections(connections);
	FullTransactionId xid;
	char	   *prefix;
	MemoryContext oldContext;
	ListCell   *lc;
	int			number = 0;

	if (list_length(written) < 2)
		return false;

	/* the xid is part of the gids (see the file header) */
	xid = GetTopFullTransactionId();
	prefix = TwoPhaseGidPrefix();

	/*
	 * The commit record must be durable before COMMIT PREPARED goes out,
	 * even under synchronous_commit = off: a commit lost in a crash after
	 * a node committed would make recovery roll back the others.
	 */
	ForceSyncCommit();
	EnsureMaintenanceDaemon();

	Assert(Participants == NIL);
	oldContext = MemoryContextSwitchTo(TopMemoryContext);
	foreach(lc, written)
	{
		NodeConnection *connection = lfirst(lc);
		TwoPhaseParticipant *participant = palloc0(sizeof(TwoPhaseParticipant));

		participant->connection = connection;
		snprintf(participant->gid, GIDSIZE, "%s" UINT64_FORMAT "_%d_%d",
				 prefix, U64FromFullTransactionId(xid), connection->nodeId,
				 number++);
		participant->state = PARTICIPANT_FAILED;
		Participants = lappend(Participants, participant);
	}
	MemoryContextSwitchTo(oldContext);

	HitFaultPoint(FAULT_BEFORE_PREPARE);

	SendPrepares(connections);
	CollectPrepares(connections);

	HitFaultPoint(FAULT_AFTER_PREPARE);

	InsertTransactionRecords();

	HitFaultPoint(FAULT_AFTER_COMMIT_RECORD);
	return true;
}

/*
 * WrittenConnections returns the connections whose remote transaction
 * wrote.  When at least two remote transactions are open, those not known
 * to have written (opened for reads, or by paths that do not set
 * wroteData) are asked whether they have an xid, in parallel.
 */
static List *
WrittenConnections(List *connections)
{
	List	   *written = NIL;
	List	   *unknown = NIL;
	ListCell   *lc;

	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);

		if (connection->wroteData)
			written = lappend(written, connection);
		else
			unknown = lappend(unknown, connection);
	}
	if (unknown == NIL || list_length(connections) < 2)
		return written;

	foreach(lc, unknown)
		SendRemoteQuery(lfirst(lc),
						"SELECT pg_catalog.pg_current_xact_id_if_assigned() IS NOT NULL",
						NULL, 0);
	foreach(lc, unknown)
	{
		NodeConnection *connection = lfirst(lc);
		PGresult   *result;
		bool		hasXid = false;

		while ((result = WaitForRemoteResult(connection)) != NULL)
		{
			if (!IsResponseOK(result))
				ThrowRemoteError(connection, result);
			if (PQntuples(result) == 1 &&
				strcmp(PQgetvalue(result, 0, 0), "t") == 0)
				hasXid = true;
			PQclear(result);
		}
		if (hasXid)
		{
			connection->wroteData = true;
			written = lappend(written, connection);
		}
	}
	return written;
}

/*
 * SendPrepares sends PREPARE TRANSACTION to every participant and COMMIT
 * to the other connections, without waiting.
 */
static void
SendPrepares(List *connections)
{
	ListCell   *lc;

	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);
		TwoPhaseParticipant *participant = FindParticipant(connection);

		if (participant != NULL)
		{
			char	   *command = psprintf("PREPARE TRANSACTION %s",
										   quote_literal_cstr(participant->gid));

			participant->state = PARTICIPANT_PREPARE_SENT;
			SendRemoteQuery(connection, command, NULL, 0);
		}
		else
			SendRemoteQuery(connection, "COMMIT", NULL, 0);
	}
}

/*
 * CollectPrepares reads the answers to SendPrepares from every connection,
 * then reports the first failure.  A failed PREPARE leaves nothing behind
 * on its node (the node rolls the transaction back).
 */
static void
CollectPrepares(List *connections)
{
	NodeConnection *failedConnection = NULL;
	PGresult   *failure = NULL;
	bool		failedPrepare = false;
	ListCell   *lc;

	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);
		TwoPhaseParticipant *participant = FindParticipant(connection);
		PGresult   *result;
		bool		ok = true;

		while ((result = WaitForRemoteResult(connection)) != NULL)
		{
			if (IsResponseOK(result))
			{
				PQclear(result);
				continue;
			}
			ok = false;
			if (failure == NULL)
			{
				failure = result;
				failedConnection = connection;
				failedPrepare = (participant != NULL);
			}
			else
				PQclear(result);
		}
		if (participant != NULL)
			participant->state = ok ? PARTICIPANT_PREPARED : PARTICIPANT_FAILED;
	}

	if (failure == NULL)
		return;
	if (!failedPrepare)
		ThrowRemoteError(failedConnection, failure);
	else
	{
		char	   *sqlstate = PQresultErrorField(failure, PG_DIAG_SQLSTATE);
		char	   *message = PQresultErrorField(failure,
												 PG_DIAG_MESSAGE_PRIMARY);
		char	   *hint = PQresultErrorField(failure, PG_DIAG_MESSAGE_HINT);
		int			code = ERRCODE_CONNECTION_FAILURE;

		if (sqlstate != NULL && strlen(sqlstate) == 5)
			code = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2],
								 sqlstate[3], sqlstate[4]);
		message = pstrdup(message ? message :
						  PQerrorMessage(failedConnection->pgconn));
		hint = hint ? pstrdup(hint) : NULL;
		PQclear(failure);
		ereport(ERROR,
				(errcode(code),
				 errmsg("could not prepare the transaction on node %s:%d for two-phase commit",
						failedConnection->nodeName, failedConnection->nodePort),
				 errdetail_internal("%s", pchomp(message)),
				 hint ? errhint("%s", hint) : 0));
	}
}

/* FindParticipant returns the connection's participant, if it is one */
static TwoPhaseParticipant *
FindParticipant(NodeConnection *connection)
{
	ListCell   *lc;

	foreach(lc, Participants)
	{
		TwoPhaseParticipant *participant = lfirst(lc);

		if (participant->connection == connection)
			return participant;
	}
	return NULL;
}

/*
 * InsertTransactionRecords writes one commit record per prepared gid into
 * distdb.transaction_record, in the local transaction.  The rows are
 * inserted directly (heap and index), not through SPI or the executor:
 * this runs inside commit processing, and no user-visible trigger or
 * privilege applies to distdb's own bookkeeping.
 */
static void
InsertTransactionRecords(void)
{
	Relation	records;
	TimestampTz now = GetCurrentTimestamp();
	ListCell   *lc;

	records = table_open(DistdbCatalogRelid(TRANSACTION_RECORD_TABLE),
						 RowExclusiveLock);
	foreach(lc, Participants)
	{
		TwoPhaseParticipant *participant = lfirst(lc);
		Datum		values[Natts_transaction_record];
		bool		nulls[Natts_transaction_record];
		HeapTuple	tuple;

		memset(nulls, false, sizeof(nulls));
		values[Anum_transaction_record_gid - 1] =
			CStringGetTextDatum(participant->gid);
		values[Anum_transaction_record_nodeid - 1] =
			Int32GetDatum(participant->connection->nodeId);
		values[Anum_transaction_record_recorded_at - 1] =
			TimestampTzGetDatum(now);
		tuple = heap_form_tuple(RelationGetDescr(records), values, nulls);
		CatalogTupleInsert(records, tuple);
		heap_freetuple(tuple);
	}
	table_close(records, NoLock);
}

/*
 * TransactionRecordExists: see two_phase_commit.h.
 */
bool
TransactionRecordExists(Relation records, const char *gid, Snapshot snapshot,
						ItemPointer tid)
{
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found = false;

	ScanKeyInit(&key, Anum_transaction_record_gid, BTEqualStrategyNumber,
				F_TEXTEQ, CStringGetTextDatum(gid));
	scan = systable_beginscan(records,
							  DistdbCatalogRelid(TRANSACTION_RECORD_GID_INDEX),
							  true, snapshot, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		found = true;
		if (tid != NULL)
			*tid = tuple->t_self;
	}
	systable_endscan(scan);
	return found;
}

/*
 * SendQuietly sends a command without raising errors; false if it could
 * not be sent within the deadline.
 */
static bool
SendQuietly(NodeConnection *connection, const char *sql, TimestampTz deadline)
{
	PGconn	   *conn = connection->pgconn;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return false;
	LogRemoteCommand(connection, sql);
	return PQsendQuery(conn, sql) != 0 && FlushQuietly(connection, deadline);
}

/*
 * CollectQuietly waits for the result of a command sent with SendQuietly.
 * Returns false if the connection failed or the deadline passed; otherwise
 * true, with *sqlstate and *message set when the node reported an error
 * ("" when it succeeded).
 */
static bool
CollectQuietly(NodeConnection *connection, TimestampTz deadline,
			   char **sqlstate, char **message)
{
	PGconn	   *conn = connection->pgconn;

	*sqlstate = "";
	*message = "";
	for (;;)
	{
		PGresult   *result;

		if (!NextResultQuietly(connection, deadline, &result))
			return false;
		if (result == NULL)
			return true;
		if (PQresultStatus(result) != PGRES_COMMAND_OK && **sqlstate == '\0')
		{
			char	   *state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
			char	   *text = PQresultErrorField(result,
												  PG_DIAG_MESSAGE_PRIMARY);

			*sqlstate = pstrdup(state ? state : "XX000");
			*message = pstrdup(text ? text : pchomp(PQerrorMessage(conn)));
		}
		PQclear(result);
	}
}

/*
 * FinishPreparedRemoteTransactions: see two_phase_commit.h.  After a
 * commit every prepared participant gets COMMIT PREPARED; after an abort
 * every participant whose PREPARE was sent gets ROLLBACK PREPARED (its
 * outcome may be unknown; "does not exist" is then expected).  Commands go
 * to all nodes before any answer is awaited.
 *
 * After a commit the answers are not awaited here (unless
 * distdb.wait_for_commit_prepared is on): the transaction is decided and
 * durable once the local commit is, and the client need not wait for the
 * nodes.  Each connection remembers the gid it finishes, and
 * ReadFinishPreparedResults reads the answers before any connection of
 * the session is used again, so the session's next statement runs after
 * the nodes committed and sees its writes.  A failure then is what it is
 * here: a warning, and the prepared transaction is left to recovery.
 */
void
FinishPreparedRemoteTransactions(bool commit)
{
	TimestampTz deadline;
	ListCell   *lc;

	if (Participants == NIL)
		return;

	if (commit && HitFaultPointNoError(FAULT_BEFORE_COMMIT_PREPARED))
	{
		ForgetParticipants();
		return;
	}

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   FINISH_PREPARED_TIMEOUT_MS);
	foreach(lc, Participants)
	{
		TwoPhaseParticipant *participant = lfirst(lc);
		NodeConnection *connection = participant->connection;
		bool		prepared = (participant->state == PARTICIPANT_PREPARED);
		char		command[GIDSIZE + 64];

		if (participant->state == PARTICIPANT_FAILED ||
			(commit && !prepared))
			continue;

		/* after an error the PREPARE may still be running */
		if (!commit && !StopRunningCommand(connection, deadline))
			continue;
		snprintf(command, sizeof(command), "%s PREPARED '%s'",
				 commit ? "COMMIT" : "ROLLBACK", participant->gid);
		if (SendQuietly(connection, command, deadline))
		{
			Assert(connection->finishingGid == NULL);
			connection->finishingGid =
				MemoryContextStrdup(GetMemoryChunkContext(connection),
									participant->gid);
			connection->finishingCommit = commit;
			connection->finishingPrepared = prepared;
			FinishingConnections++;
		}
		else
		{
			if (prepared)
				ReportUnfinishedPrepared(connection, participant->gid, commit,
										 "The connection to the node was lost.");
			/* the abort path rolls back and closes it */
			if (commit)
				CloseNodeConnection(connection);
		}
	}
	ForgetParticipants();

	if (!commit || DistdbWaitForCommitPrepared)
		ReadFinishPreparedResults();
}

/*
 * ReadFinishPreparedResults: see two_phase_commit.h.  Never raises an
 * error: a node that does not answer within the deadline keeps its
 * prepared transaction for recovery, and its connection is closed.
 */
void
ReadFinishPreparedResults(void)
{
	TimestampTz deadline;
	List	   *connections;
	ListCell   *lc;

	if (FinishingConnections == 0)
		return;
	FinishingConnections = 0;

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   FINISH_PREPARED_TIMEOUT_MS);
	connections = AllNodeConnections();
	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);
		char	   *gid = connection->finishingGid;
		char	   *sqlstate;
		char	   *message;

		if (gid == NULL)
			continue;
		connection->finishingGid = NULL;

		/*
		 * Read what has arrived first: usually the whole answer, which then
		 * needs no wait for the socket.
		 */
		if (!PQconsumeInput(connection->pgconn) ||
			!CollectQuietly(connection, deadline, &sqlstate, &message))
		{
			sqlstate = "08006";
			message = "The connection to the node was lost or timed out.";
		}

		/*
		 * "does not exist" or "is busy": recovery finished it or is
		 * finishing it, with the same outcome; or our PREPARE never took
		 * effect.
		 */
		if (connection->finishingPrepared && *sqlstate != '\0' &&
			strcmp(sqlstate, "42704") != 0 && strcmp(sqlstate, "55000") != 0)
			ReportUnfinishedPrepared(connection, gid,
									 connection->finishingCommit, message);
		pfree(gid);

		/* a connection that is not idle now cannot be trusted */
		if (connection->pgconn == NULL ||
			PQstatus(connection->pgconn) != CONNECTION_OK ||
			PQtransactionStatus(connection->pgconn) != PQTRANS_IDLE)
			CloseNodeConnection(connection);
	}
	list_free(connections);
}

/*
 * ReportUnfinishedPrepared warns that a prepared transaction could not be
 * finished and is left to recovery.
 */
static void
ReportUnfinishedPrepared(NodeConnection *connection, const char *gid,
						 bool commit, const char *detail)
{
	ereport(WARNING,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("could not %s prepared transaction \"%s\" on node %s:%d",
					commit ? "commit" : "roll back", gid,
					connection->nodeName, connection->nodePort),
			 errdetail_internal("%s", detail),
			 errhint("distdb's maintenance daemon or distdb_recover_prepared_transactions() will finish it.")));
}

/* ForgetParticipants ends the two-phase commit's bookkeeping */
static void
ForgetParticipants(void)
{
	list_free_deep(Participants);
	Participants = NIL;
}
