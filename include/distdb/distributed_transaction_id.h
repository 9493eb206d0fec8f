/*-------------------------------------------------------------------------
 *
 * distributed_transaction_id.h
 *	  Distributed transaction ids: which coordinator transaction a backend
 *	  works for, on the coordinator and on the nodes, kept in shared memory
 *	  so that distributed deadlock detection can map lock waits on every
 *	  node to coordinator transactions; and cancelling such a transaction
 *	  with a deadlock error.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_DISTRIBUTED_TRANSACTION_ID_H
#define DISTDB_DISTRIBUTED_TRANSACTION_ID_H

#include "datatype/timestamp.h"

/* the internal setting that tags a node's backend with its transaction */
#define DISTRIBUTED_TRANSACTION_ID_GUC "distdb.distributed_transaction_id"

/*
 * A coordinator transaction that opened remote transactions.  Its text
 * form, "coordinator:pid:number:start", is what the nodes are sent.
 */
typedef struct DistributedTransactionId
{
	uint64		coordinatorId;	/* system identifier of the coordinator */
	int32		coordinatorPid; /* the coordinator backend */
	uint64		number;			/* per-backend transaction counter */
	TimestampTz startTime;		/* start of the coordinator transaction */
} DistributedTransactionId;

/* from _PG_init: shared memory, the internal GUC, callbacks, log hook */
extern void InitializeDistributedTransactionIds(void);

/*
 * The current transaction's id, assigned at its first remote transaction,
 * as text for the node's SET LOCAL.
 */
extern const char *CurrentDistributedTransactionIdText(void);

extern bool ParseDistributedTransactionId(const char *text,
										  DistributedTransactionId *id);
extern char *FormatDistributedTransactionId(const DistributedTransactionId *id);

/* whether the id was assigned by a backend of this server */
extern bool IsLocalDistributedTransaction(const DistributedTransactionId *id);

/*
 * Whether a backend of the database runs a distributed transaction that
 * started at least minAgeMs ago and now waits for a node or a lock: the
 * cheap test before the wait-for graph is collected.
 */
extern bool DistributedTransactionsWaiting(Oid databaseId, int minAgeMs);

/*
 * Asks the coordinator backend running the transaction to abort it with a
 * deadlock error; false when the transaction is over.
 */
extern bool CancelDistributedTransaction(const DistributedTransactionId *id);

/*
 * Called by waits for nodes: raises the deadlock error when the current
 * transaction was chosen as the victim of a distributed deadlock.
 */
extern void CheckForDistributedDeadlockCancel(void);

#endif							/* DISTDB_DISTRIBUTED_TRANSACTION_ID_H */
