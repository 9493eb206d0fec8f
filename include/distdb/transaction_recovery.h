/*-------------------------------------------------------------------------
 *
 * transaction_recovery.h
 *	  Finishing the prepared transactions that two-phase commits left on
 *	  the nodes (after a crash or a lost connection), from their commit
 *	  records.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_TRANSACTION_RECOVERY_H
#define DISTDB_TRANSACTION_RECOVERY_H

/*
 * Commits or rolls back every prepared transaction of this database that
 * is not in progress, on every node, and deletes the commit records that
 * are no longer needed; returns how many prepared transactions it
 * finished.  With waitForLock false, returns -1 at once when another
 * recovery is running.  Must run in a transaction.
 */
extern int	RecoverDistributedTransactions(bool waitForLock);

#endif							/* DISTDB_TRANSACTION_RECOVERY_H */
