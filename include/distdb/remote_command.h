/*-------------------------------------------------------------------------
 *
 * remote_command.h
 *	  Sending commands to nodes and reading their results, with waits that
 *	  honour query cancel and statement_timeout, and worker errors turned
 *	  into local errors that keep the worker's SQLSTATE and name the node.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_REMOTE_COMMAND_H
#define DISTDB_REMOTE_COMMAND_H

#include "distdb/connection_cache.h"

/* parameters sent with a remote query, as text */
typedef struct RemoteParams
{
	int			count;
	Oid		   *types;
	const char **values;		/* NULL entries are SQL NULLs */
} RemoteParams;

/* flags of SendRemoteQuery and SendRemotePrepared */
#define REMOTE_SINGLE_ROW 1		/* rows one PGresult at a time */
#define REMOTE_BINARY_RESULTS 2 /* values in binary format */
#define REMOTE_WITH_QUEUED 4	/* sql is one statement: the connection's
								 * queued commands may go with it */

extern void SendRemoteQuery(NodeConnection *connection, const char *sql,
							const RemoteParams *params, int flags);
extern void SendRemotePrepared(NodeConnection *connection, const char *sql,
							   const RemoteParams *params, int flags);
extern PGresult *WaitForRemoteResult(NodeConnection *connection);

/* PQisBusy and PQgetResult that hide queued commands (remote_pipeline.c) */
extern bool RemoteResultBusy(NodeConnection *connection);
extern PGresult *NextRemoteResult(NodeConnection *connection);
extern void StartPipeline(NodeConnection *connection, bool singleRow);
extern void EndPipelineSend(NodeConnection *connection);
extern bool EndPipeline(NodeConnection *connection);
extern void WaitForConnectionFlush(NodeConnection *connection);

extern void ExecuteRemoteCommand(NodeConnection *connection, const char *sql);
extern PGresult *ExecuteRemoteQuery(NodeConnection *connection, const char *sql);
extern void ExecuteRemoteCommandOnEach(List *connections, List *commands);
extern List *ExecuteRemoteQueryOnEach(List *connections, List *queries);
extern void DrainRemoteResults(NodeConnection *connection);

extern bool IsResponseOK(PGresult *result);
extern void ThrowRemoteError(NodeConnection *connection, PGresult *result)
			pg_attribute_noreturn();
extern void ThrowConnectionError(NodeConnection *connection)
			pg_attribute_noreturn();
extern void LogRemoteCommand(NodeConnection *connection, const char *sql);

/* COPY FROM STDIN on a connection */
extern void StartRemoteCopy(NodeConnection *connection, const char *copyCommand);
extern void SendRemoteCopyData(NodeConnection *connection, const char *data, int len);
extern void EndRemoteCopyData(NodeConnection *connection);
extern int64 FinishRemoteCopy(NodeConnection *connection);

/*
 * Run one command on a connection from ConnectToNodeDirect, within
 * timeoutMs; returns its last result, raises an error if the connection
 * is lost.
 */
extern PGresult *RunCommandOnDirectConnection(PGconn *conn,
											  const char *nodeName,
											  int nodePort, const char *sql,
											  int timeoutMs);

#endif							/* DISTDB_REMOTE_COMMAND_H */
