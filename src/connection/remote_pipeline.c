/*-------------------------------------------------------------------------
 *
 * remote_pipeline.c
 *	  Sending a query together with the commands queued ahead of it, in one
 *	  round trip, and reading its results as if it had been sent alone.
 *
 * The commands that open a remote transaction (BEGIN, the distributed
 * transaction id, savepoints; see QueueRemoteTransactionBegins) would cost
 * a round trip of their own before the first query of a transaction on a
 * node.  Instead they are sent with that query in libpq pipeline mode:
 * each queued command and the query go as extended-protocol messages,
 * followed by one Sync, and the node answers all of them at once.
 *
 * Readers of the query's results (RemoteResultBusy / NextRemoteResult in
 * place of PQisBusy / PQgetResult) never see the queued commands' results:
 * they are skipped, and when one failed, its error is returned as the
 * query's only result (the node then skips the query, which libpq reports
 * as "pipeline aborted").  After the query's last result the Sync's result
 * is read and the connection leaves pipeline mode, so that it is ready for
 * the next command as soon as the caller has seen the query end.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "distdb/remote_command.h"

static void ReadPipelineSync(NodeConnection *connection);

/*
 * StartPipeline enters pipeline mode and sends the connection's queued
 * commands, so that the query sent next travels with them; the query's
 * sender then calls EndPipelineSend.  singleRow: the query's rows are to
 * come one PGresult at a time (set once the queued results are read,
 * since libpq applies the mode to the query whose results come next).
 */
void
StartPipeline(NodeConnection *connection, bool singleRow)
{
	PGconn	   *conn = connection->pgconn;
	List	   *commands = connection->queuedCommands;
	ListCell   *lc;

	Assert(commands != NIL && !connection->pipelined);
	connection->queuedCommands = NIL;
	if (PQenterPipelineMode(conn) == 0)
		ThrowConnectionError(connection);
	connection->pipelined = true;
	connection->pipelineSingleRow = singleRow;
	foreach(lc, commands)
	{
		LogRemoteCommand(connection, lfirst(lc));
		if (PQsendQueryParams(conn, lfirst(lc), 0, NULL, NULL, NULL, NULL,
							  0) == 0)
			ThrowConnectionError(connection);
		connection->pipelineSkip++;
	}
	list_free_deep(commands);
}

/*
 * EndPipelineSend ends what StartPipeline began with a Sync, which makes
 * the node run and answer everything; the caller flushes.
 */
void
EndPipelineSend(NodeConnection *connection)
{
	if (PQpipelineSync(connection->pgconn) == 0)
		ThrowConnectionError(connection);
}

/*
 * EndPipeline leaves pipeline mode once the Sync's result has been read,
 * and forgets the pipeline's bookkeeping; false if libpq still has
 * results pending.
 */
bool
EndPipeline(NodeConnection *connection)
{
	if (connection->pipelineFailure != NULL)
		PQclear(connection->pipelineFailure);
	connection->pipelineFailure = NULL;
	connection->pipelineSkip = 0;
	connection->pipelined = false;
	return PQexitPipelineMode(connection->pgconn) == 1;
}

/*
 * RemoteResultBusy is PQisBusy for a query that may have been sent behind
 * queued commands: it first reads (without waiting) and skips the queued
 * commands' results, and after a failure among them everything up to the
 * Sync.  Returns true while the next result of the query needs more input.
 */
bool
RemoteResultBusy(NodeConnection *connection)
{
	PGconn	   *conn = connection->pgconn;

	while (connection->pipelined &&
		   (connection->pipelineSkip > 0 ||
			connection->pipelineFailure != NULL))
	{
		PGresult   *result;

		if (PQisBusy(conn))
			return true;
		result = PQgetResult(conn);
		if (result == NULL)
		{
			/* the end of a command's results: the query's may come next */
			if (connection->pipelineSkip > 0 &&
				--connection->pipelineSkip == 0 &&
				connection->pipelineFailure == NULL &&
				connection->pipelineSingleRow &&
				PQsetSingleRowMode(conn) == 0)
				elog(ERROR, "could not switch to single-row mode");
			continue;
		}
		if (PQresultStatus(result) == PGRES_PIPELINE_SYNC)
		{
			/* after a failure: keep it for NextRemoteResult */
			PGresult   *failure = connection->pipelineFailure;

			PQclear(result);
			connection->pipelineFailure = NULL;
			if (!EndPipeline(connection))
				elog(ERROR, "could not leave pipeline mode on node %s:%d",
					 connection->nodeName, connection->nodePort);
			connection->pipelineFailure = failure;
			break;
		}
		if (connection->pipelineFailure == NULL && !IsResponseOK(result))
			connection->pipelineFailure = result;
		else
			PQclear(result);
	}
	if (connection->pipelineFailure != NULL)
		return false;
	return PQisBusy(conn);
}

/*
 * NextRemoteResult is PQgetResult for a query that may have been sent
 * behind queued commands; call it once RemoteResultBusy returned false.
 * The failure of a queued command comes as the query's only result.  When
 * the query has no more results, the pipeline's end is read (it comes with
 * them) so that the connection can take the next command.
 */
PGresult *
NextRemoteResult(NodeConnection *connection)
{
	PGresult   *result;

	if (connection->pipelineFailure != NULL)
	{
		result = connection->pipelineFailure;
		connection->pipelineFailure = NULL;
		return result;
	}
	result = PQgetResult(connection->pgconn);
	if (result == NULL && connection->pipelined)
		ReadPipelineSync(connection);
	return result;
}

/*
 * ReadPipelineSync waits for the Sync's result that ends a pipeline and
 * leaves pipeline mode.
 */
static void
ReadPipelineSync(NodeConnection *connection)
{
	PGconn	   *conn = connection->pgconn;

	for (;;)
	{
		PGresult   *result;
		bool		isSync;

		while (PQisBusy(conn))
		{
			WaitForNodeSocket(connection, true, false);
			if (PQconsumeInput(conn) == 0)
				ThrowConnectionError(connection);
		}
		result = PQgetResult(conn);
		if (result == NULL)
			continue;
		isSync = (PQresultStatus(result) == PGRES_PIPELINE_SYNC);
		PQclear(result);
		if (isSync)
			break;
	}
	if (!EndPipeline(connection))
		elog(ERROR, "could not leave pipeline mode on node %s:%d",
			 connection->nodeName, connection->nodePort);
}
