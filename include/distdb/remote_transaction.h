/*-------------------------------------------------------------------------
 *
 * remote_transaction.h
 *	  Remote transactions on worker connections, driven by the local
 *	  transaction's callbacks: BEGIN on first use, savepoints mirroring
 *	  local subtransactions, COMMIT/ROLLBACK when the local transaction ends.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_REMOTE_TRANSACTION_H
#define DISTDB_REMOTE_TRANSACTION_H

#include "datatype/timestamp.h"

#include "distdb/connection_cache.h"

extern void InitializeRemoteTransactions(void);

/*
 * Make sure the connection has a remote transaction matching the local one
 * (isolation level, savepoints) before a command that is part of it.
 */
extern void BeginRemoteTransactionIfNeeded(NodeConnection *connection);

/* the same for several connections, with the BEGINs sent in parallel */
extern void BeginRemoteTransactions(List *connections);

/* the same, with the commands sent ahead of each connection's next query */
extern void QueueRemoteTransactionBegins(List *connections);
extern void SendQueuedCommands(NodeConnection *connection);

/*
 * Whether a statement may run on a connection in autocommit mode, without
 * a remote transaction block: true only for a top-level statement outside
 * any transaction block whose remote work is a single command.
 */
extern bool StatementMayAutocommit(void);

/*
 * Helpers for the phases of a transaction where errors must not be raised
 * (abort, after commit): they neither throw nor serve interrupts, and give
 * up at the deadline.  They return false on any failure.
 */
extern bool WaitQuietly(NodeConnection *connection, TimestampTz deadline);
extern bool FlushQuietly(NodeConnection *connection, TimestampTz deadline);
extern bool NextResultQuietly(NodeConnection *connection,
							  TimestampTz deadline, PGresult **result);
extern bool StopRunningCommand(NodeConnection *connection,
							   TimestampTz deadline);

/* executor nesting, to know whether a statement is top-level */
extern int	DistdbExecutorLevel;

#endif							/* DISTDB_REMOTE_TRANSACTION_H */
