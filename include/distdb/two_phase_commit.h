/*-------------------------------------------------------------------------
 *
 * two_phase_commit.h
 *	  Two-phase commit of transactions that wrote on several nodes, the
 *	  commit records that decide their outcome, and their global
 *	  transaction identifiers.
 *
 * A prepared transaction's gid is
 *
 *	  distdb_<coordinator system identifier>_<database oid>_<local xid>_<node id>_<n>
 *
 * where the xid is the coordinator transaction's full (64-bit) xid and n
 * numbers the transaction's participants (a node has two when two roles
 * wrote there).  The first three parts say which coordinator database owns
 * the prepared transaction, the xid says whether its local transaction may
 * still be running, and a row in distdb.transaction_record with the gid,
 * committed with the local transaction, says it must be committed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_TWO_PHASE_COMMIT_H
#define DISTDB_TWO_PHASE_COMMIT_H

#include "access/transam.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

/* distdb.transaction_record */
#define TRANSACTION_RECORD_TABLE "transaction_record"
#define TRANSACTION_RECORD_GID_INDEX "transaction_record_pkey"
#define Natts_transaction_record 3
#define Anum_transaction_record_gid 1
#define Anum_transaction_record_nodeid 2
#define Anum_transaction_record_recorded_at 3

/*
 * Called in the pre-commit phase with the connections that have an open
 * remote transaction.  When more than one of them wrote, prepares the
 * written ones, commits the others, writes the commit records and returns
 * true; otherwise does nothing and returns false (the caller commits them
 * all with COMMIT).
 */
extern bool PrepareRemoteTransactions(List *connections);

/*
 * Called when the local transaction has committed (commit = true) or
 * aborted: sends COMMIT PREPARED or ROLLBACK PREPARED for the transactions
 * prepared by PrepareRemoteTransactions; the results of COMMIT PREPARED
 * are read later, by ReadFinishPreparedResults.  Never raises an error;
 * failures are reported as warnings and left to recovery.
 */
extern void FinishPreparedRemoteTransactions(bool commit);

/*
 * Reads the results of the COMMIT PREPARED commands that a committed
 * transaction sent without waiting (see FinishPreparedRemoteTransactions);
 * called before any node connection of the session is used again.  Never
 * raises an error.
 */
extern void ReadFinishPreparedResults(void);

/* "distdb_<system identifier>_<database oid>_": this database's gids */
extern char *TwoPhaseGidPrefix(void);

/* split a gid of this database; false if it is not one */
extern bool ParseTwoPhaseGid(const char *gid, FullTransactionId *xid,
							 int32 *nodeId);

/*
 * Whether the commit record of a gid is visible in the snapshot; its
 * tuple's location is returned in tid when asked.
 */
extern bool TransactionRecordExists(Relation records, const char *gid,
									Snapshot snapshot, ItemPointer tid);

#endif							/* DISTDB_TWO_PHASE_COMMIT_H */
