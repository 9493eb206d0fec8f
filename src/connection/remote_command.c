/*-------------------------------------------------------------------------
 *
 * remote_command.c
 *	  Sending commands to nodes and reading their results.
 *
 * Connections are non-blocking; every wait for a socket goes through
 * WaitLatchOrSocket so that query cancel, statement_timeout and postmaster
 * death are served while a node works.  An error reported by a node is
 * re-raised locally with the node's SQLSTATE, message, detail and hint,
 * and a context line naming the node.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "distdb/distdb.h"
#include "distdb/remote_command.h"
#include "distdb/remote_transaction.h"

static PGresult *CollectResults(NodeConnection *connection);
static bool BeginSend(NodeConnection *connection, int flags);
static void FinishSend(NodeConnection *connection, int flags);


/*
 * LogRemoteCommand reports a command about to be sent, when
 * distdb.log_remote_commands is on.
 */
void
LogRemoteCommand(NodeConnection *connection, const char *sql)
{
	if (!DistdbLogRemoteCommands)
		return;
	ereport(NOTICE,
			(errmsg("issuing %s", sql),
			 errdetail("on node %s:%d", connection->nodeName,
					   connection->nodePort)));
}

/*
 * WaitForConnectionFlush waits until libpq has sent everything queued on
 * the connection.
 */
void
WaitForConnectionFlush(NodeConnection *connection)
{
	for (;;)
	{
		int			rc = PQflush(connection->pgconn);

		if (rc == 0)
			return;
		if (rc < 0)
			ThrowConnectionError(connection);
		/* reading too: the node may wait for us to read its output */
		WaitForNodeSocket(connection, true, true);
		if (PQconsumeInput(connection->pgconn) == 0)
			ThrowConnectionError(connection);
	}
}

/*
 * BeginSend prepares the connection for a query: with REMOTE_WITH_QUEUED
 * the queued transaction-start commands go with it in one round trip
 * (remote_pipeline.c), otherwise they are run first.  Returns whether the
 * query goes into a pipeline.
 */
static bool
BeginSend(NodeConnection *connection, int flags)
{
	if (connection->queuedCommands == NIL)
		return false;
	if (!(flags & REMOTE_WITH_QUEUED))
	{
		SendQueuedCommands(connection);
		return false;
	}
	StartPipeline(connection, (flags & REMOTE_SINGLE_ROW) != 0);
	return true;
}

/*
 * SendRemoteQuery sends a query (with optional text parameters) without
 * waiting for its result.  With REMOTE_SINGLE_ROW, rows come one PGresult
 * at a time so that large results need not fit in memory; with
 * REMOTE_BINARY_RESULTS values come in binary format.  Without parameters,
 * binary results or REMOTE_WITH_QUEUED, sql may hold several commands.
 */
void
SendRemoteQuery(NodeConnection *connection, const char *sql,
				const RemoteParams *params, int flags)
{
	int			sent;
	int			paramCount = (params != NULL) ? params->count : 0;
	bool		pipelined = BeginSend(connection, flags);

	LogRemoteCommand(connection, sql);
	if (paramCount > 0 || (flags & REMOTE_BINARY_RESULTS) || pipelined)
		sent = PQsendQueryParams(connection->pgconn, sql, paramCount,
								 paramCount > 0 ? params->types : NULL,
								 paramCount > 0 ? params->values : NULL,
								 NULL, NULL,
								 (flags & REMOTE_BINARY_RESULTS) ? 1 : 0);
	else
		sent = PQsendQuery(connection->pgconn, sql);
	if (sent == 0)
		ThrowConnectionError(connection);
	FinishSend(connection, flags);
}

/*
 * FinishSend switches to single-row mode if asked (in a pipeline, that
 * waits for the queued commands' results: see RemoteResultBusy), ends a
 * pipeline, and flushes.
 */
static void
FinishSend(NodeConnection *connection, int flags)
{
	if (connection->pipelined)
		EndPipelineSend(connection);
	else if ((flags & REMOTE_SINGLE_ROW) &&
			 PQsetSingleRowMode(connection->pgconn) == 0)
		elog(ERROR, "could not switch to single-row mode");
	WaitForConnectionFlush(connection);
}

/* statements prepared on one connection, by hash of text and types */
typedef struct PreparedStatementEntry
{
	uint64		key;
	char	   *text;			/* the statement and its parameter types */
	char		name[NAMEDATALEN];
} PreparedStatementEntry;

/* how many statements distdb prepares on one connection at most */
#define MAX_PREPARED_PER_CONNECTION 512

/*
 * SendRemotePrepared sends a parameterized query as a statement prepared
 * on the node, preparing it on first use, so that the node parses and
 * plans it only once per connection.  Past the per-connection limit (or on
 * a hash collision) the query is sent as is.
 */
void
SendRemotePrepared(NodeConnection *connection, const char *sql,
				   const RemoteParams *params, int flags)
{
	StringInfoData text;
	uint64		key;
	PreparedStatementEntry *entry;
	bool		found;
	int			i;

	initStringInfo(&text);
	appendStringInfoString(&text, sql);
	for (i = 0; i < params->count; i++)
		appendStringInfo(&text, " %u", params->types[i]);
	key = hash_bytes_extended((const unsigned char *) text.data, text.len, 0);

	if (connection->preparedStatements == NULL)
	{
		HASHCTL		info;

		memset(&info, 0, sizeof(info));
		info.keysize = sizeof(uint64);
		info.entrysize = sizeof(PreparedStatementEntry);
		info.hcxt = GetMemoryChunkContext(connection);
		connection->preparedStatements =
			hash_create("distdb prepared statements", 64, &info,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	entry = hash_search(connection->preparedStatements, &key, HASH_FIND, NULL);
	if (entry != NULL && strcmp(entry->text, text.data) != 0)
	{
		SendRemoteQuery(connection, sql, params, flags);
		return;
	}
	if (entry == NULL)
	{
		PGresult   *result;
		char		name[NAMEDATALEN];

		if (connection->preparedCount >= MAX_PREPARED_PER_CONNECTION)
		{
			SendRemoteQuery(connection, sql, params, flags);
			return;
		}
		snprintf(name, sizeof(name), "distdb_%d", connection->preparedCount);
		LogRemoteCommand(connection, sql);
		if (PQsendPrepare(connection->pgconn, name, sql, params->count,
						  params->types) == 0)
			ThrowConnectionError(connection);
		WaitForConnectionFlush(connection);
		result = CollectResults(connection);
		if (result != NULL)
			PQclear(result);

		entry = hash_search(connection->preparedStatements, &key, HASH_ENTER,
							&found);
		entry->text = MemoryContextStrdup(GetMemoryChunkContext(connection),
										  text.data);
		strlcpy(entry->name, name, NAMEDATALEN);
		connection->preparedCount++;
	}

	(void) BeginSend(connection, flags);
	if (PQsendQueryPrepared(connection->pgconn, entry->name, params->count,
							params->values, NULL, NULL,
							(flags & REMOTE_BINARY_RESULTS) ? 1 : 0) == 0)
		ThrowConnectionError(connection);
	FinishSend(connection, flags);
}

/*
 * WaitForRemoteResult waits for and returns the next result of the
 * command running on the connection, or NULL when it has no more.
 */
PGresult *
WaitForRemoteResult(NodeConnection *connection)
{
	while (RemoteResultBusy(connection))
	{
		WaitForNodeSocket(connection, true, false);
		if (PQconsumeInput(connection->pgconn) == 0)
			ThrowConnectionError(connection);
	}
	return NextRemoteResult(connection);
}

/*
 * IsResponseOK: whether a result reports success.
 */
bool
IsResponseOK(PGresult *result)
{
	ExecStatusType status = PQresultStatus(result);

	return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
		status == PGRES_SINGLE_TUPLE;
}

/*
 * DrainRemoteResults reads and discards whatever results the connection
 * still has; used before reporting an error so the connection stays in a
 * usable state.
 */
void
DrainRemoteResults(NodeConnection *connection)
{
	PGresult   *result;

	while ((result = WaitForRemoteResult(connection)) != NULL)
		PQclear(result);
}

/*
 * CollectResults reads every result of the running command, returning the
 * last one; on failure it drains the rest and raises the node's error.
 */
static PGresult *
CollectResults(NodeConnection *connection)
{
	PGresult   *last = NULL;
	PGresult   *result;
	PGresult   *failure = NULL;

	while ((result = WaitForRemoteResult(connection)) != NULL)
	{
		if (!IsResponseOK(result) && failure == NULL)
		{
			failure = result;
			continue;
		}
		if (last != NULL)
			PQclear(last);
		last = result;
	}
	if (failure != NULL)
	{
		if (last != NULL)
			PQclear(last);
		ThrowRemoteError(connection, failure);
	}
	return last;
}

/*
 * ExecuteRemoteCommand runs a command (or several, separated by
 * semicolons) and waits for it to complete, raising the node's error if it
 * fails.
 */
void
ExecuteRemoteCommand(NodeConnection *connection, const char *sql)
{
	PGresult   *result;

	SendRemoteQuery(connection, sql, NULL, false);
	result = CollectResults(connection);
	if (result != NULL)
		PQclear(result);
}

/*
 * ExecuteRemoteQuery runs a query and returns its (last) result, which the
 * caller must PQclear.
 */
PGresult *
ExecuteRemoteQuery(NodeConnection *connection, const char *sql)
{
	SendRemoteQuery(connection, sql, NULL, false);
	return CollectResults(connection);
}

/*
 * ExecuteRemoteQueryOnEach sends the i-th query to the i-th connection, all
 * before waiting for any, and returns the (last) result of each, in the
 * order of the connections; the caller must PQclear them.
 */
List *
ExecuteRemoteQueryOnEach(List *connections, List *queries)
{
	List	   *results = NIL;
	ListCell   *connectionCell;
	ListCell   *queryCell;

	Assert(list_length(connections) == list_length(queries));
	forboth(connectionCell, connections, queryCell, queries)
		SendRemoteQuery(lfirst(connectionCell), lfirst(queryCell), NULL,
						false);
	foreach(connectionCell, connections)
		results = lappend(results, CollectResults(lfirst(connectionCell)));
	return results;
}

/*
 * ExecuteRemoteCommandOnEach sends the i-th command to the i-th connection,
 * all before waiting for any, so that the nodes work in parallel.
 */
void
ExecuteRemoteCommandOnEach(List *connections, List *commands)
{
	ListCell   *connectionCell;
	ListCell   *commandCell;

	Assert(list_length(connections) == list_length(commands));
	forboth(connectionCell, connections, commandCell, commands)
		SendRemoteQuery(lfirst(connectionCell), lfirst(commandCell), NULL,
						false);
	foreach(connectionCell, connections)
	{
		PGresult   *result = CollectResults(lfirst(connectionCell));

		if (result != NULL)
			PQclear(result);
	}
}

/*
 * ThrowRemoteError raises a node's error locally: same SQLSTATE, message,
 * detail and hint, with the node named in the context.  Frees the result.
 */
void
ThrowRemoteError(NodeConnection *connection, PGresult *result)
{
	char	   *sqlstate;
	char	   *message;
	char	   *detail;
	char	   *hint;
	char	   *remoteContext;
	int			code = ERRCODE_CONNECTION_FAILURE;

	if (result == NULL)
		ThrowConnectionError(connection);

	sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
	message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
	detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
	hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT);
	remoteContext = PQresultErrorField(result, PG_DIAG_CONTEXT);

	if (sqlstate != NULL && strlen(sqlstate) == 5)
		code = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2],
							 sqlstate[3], sqlstate[4]);
	message = message ? pstrdup(message) :
		pchomp(PQerrorMessage(connection->pgconn));
	detail = detail ? pstrdup(detail) : NULL;
	hint = hint ? pstrdup(hint) : NULL;
	remoteContext = remoteContext ? pstrdup(remoteContext) : NULL;
	PQclear(result);

	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", message),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0,
			 remoteContext ? errcontext("%s", remoteContext) : 0,
			 errcontext("while executing command on node %s:%d",
						connection->nodeName, connection->nodePort)));
}

/*
 * ThrowConnectionError reports that talking to a node failed.
 */
void
ThrowConnectionError(NodeConnection *connection)
{
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("lost connection to node %s:%d",
					connection->nodeName, connection->nodePort),
			 errdetail_internal("%s",
								pchomp(PQerrorMessage(connection->pgconn)))));
}

/*
 * StartRemoteCopy starts a COPY ... FROM STDIN on the connection.
 */
void
StartRemoteCopy(NodeConnection *connection, const char *copyCommand)
{
	PGresult   *result;

	SendRemoteQuery(connection, copyCommand, NULL, false);
	result = WaitForRemoteResult(connection);
	if (result == NULL || PQresultStatus(result) != PGRES_COPY_IN)
	{
		DrainRemoteResults(connection);
		ThrowRemoteError(connection, result);
	}
	PQclear(result);
}

/*
 * SendRemoteCopyData sends a chunk of COPY data, waiting while libpq's
 * buffers are full.
 */
void
SendRemoteCopyData(NodeConnection *connection, const char *data, int len)
{
	for (;;)
	{
		int			rc = PQputCopyData(connection->pgconn, data, len);

		if (rc == 1)
			break;
		if (rc < 0)
			ThrowConnectionError(connection);
		WaitForNodeSocket(connection, true, true);
		if (PQconsumeInput(connection->pgconn) == 0 ||
			PQflush(connection->pgconn) < 0)
			ThrowConnectionError(connection);
	}
}

/*
 * EndRemoteCopyData ends the COPY data of a connection and sends it all,
 * without waiting for the node's answer.
 */
void
EndRemoteCopyData(NodeConnection *connection)
{
	for (;;)
	{
		int			rc = PQputCopyEnd(connection->pgconn, NULL);

		if (rc == 1)
			break;
		if (rc < 0)
			ThrowConnectionError(connection);
		WaitForNodeSocket(connection, true, true);
		if (PQconsumeInput(connection->pgconn) == 0)
			ThrowConnectionError(connection);
	}
	WaitForConnectionFlush(connection);
}

/*
 * FinishRemoteCopy ends the COPY and returns the number of rows the node
 * reports having copied.
 */
int64
FinishRemoteCopy(NodeConnection *connection)
{
	PGresult   *result;
	int64		rows;

	EndRemoteCopyData(connection);
	result = CollectResults(connection);
	rows = (result != NULL) ? strtoi64(PQcmdTuples(result), NULL, 10) : 0;
	if (result != NULL)
		PQclear(result);
	return rows;
}

/*
 * RunCommandOnDirectConnection runs one command on a non-blocking
 * connection outside the cache (ConnectToNodeDirect: recovery, deadlock
 * detection) and returns its last result (the caller checks its status
 * and clears it).  Waits serve interrupts; a lost connection or a node
 * that does not answer within timeoutMs raises an error.
 */
PGresult *
RunCommandOnDirectConnection(PGconn *conn, const char *nodeName,
							 int nodePort, const char *sql, int timeoutMs)
{
	TimestampTz deadline =
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeoutMs);
	PGresult   *last = NULL;
	PGresult   *result;
	bool		sending = true;

	if (DistdbLogRemoteCommands)
		ereport(NOTICE,
				(errmsg("issuing %s", sql),
				 errdetail("on node %s:%d", nodeName, nodePort)));
	if (PQsendQuery(conn, sql) == 0)
		goto lost;

	for (;;)
	{
		long		timeout;
		int			events;
		int			rc;

		CHECK_FOR_INTERRUPTS();
		if (sending)
		{
			rc = PQflush(conn);
			if (rc < 0)
				goto lost;
			sending = (rc == 1);
		}
		if (PQconsumeInput(conn) == 0)
			goto lost;
		if (!sending && !PQisBusy(conn))
		{
			result = PQgetResult(conn);
			if (result == NULL)
				break;
			if (last != NULL)
				PQclear(last);
			last = result;
			continue;
		}

		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
												  deadline);
		if (timeout <= 0)
		{
			if (last != NULL)
				PQclear(last);
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("node %s:%d did not answer within %d ms",
							nodeName, nodePort, timeoutMs)));
		}
		events = WL_LATCH_SET | WL_SOCKET_READABLE | WL_TIMEOUT |
			WL_EXIT_ON_PM_DEATH;
		if (sending)
			events |= WL_SOCKET_WRITEABLE;
		rc = WaitLatchOrSocket(MyLatch, events, PQsocket(conn), timeout,
							   PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
			ResetLatch(MyLatch);
	}
	if (last == NULL)
		goto lost;
	return last;

lost:
	if (last != NULL)
		PQclear(last);
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("lost connection to node %s:%d",
					nodeName, nodePort),
			 errdetail_internal("%s", pchomp(PQerrorMessage(conn)))));
	pg_unreachable();
}
