/*-------------------------------------------------------------------------
 *
 * transaction_recovery.c
 *	  Finishing the prepared transactions left on the nodes by two-phase
 *	  commits that were interrupted (coordinator crash, lost connection,
 *	  node restart), and removing commit records that are no longer needed.
 *
 * For every node, the prepared transactions whose gid starts with this
 * database's prefix (see two_phase_commit.h) are listed; for each:
 *
 * - its local transaction still running (TransactionIdIsInProgress on the
 *	 xid in the gid, unless the xid counter has not reached it, which
 *	 happens when a crash lost the xid): left alone, the committing backend
 *	 finishes it;
 * - otherwise its commit record is looked up with a snapshot taken after
 *	 that check, so a transaction that committed is seen as committed:
 *	 found, COMMIT PREPARED; not found, ROLLBACK PREPARED.
 *
 * A commit record can go once its gid is no longer prepared.  Records are
 * read with a snapshot taken before the nodes are listed; such a record's
 * PREPARE happened before it was committed, hence before the listing, so
 * a record whose gid is missing from the listing was finished already.
 * Records of nodes that were removed from distdb.node go too.
 *
 * Two recoveries are serialized with a self-conflicting lock on
 * distdb.transaction_record (SHARE UPDATE EXCLUSIVE, which the inserting
 * transactions' ROW EXCLUSIVE does not conflict with).  Each node is
 * handled in a subtransaction: a node that cannot be reached is reported
 * as a warning and retried at the next recovery.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "distdb/connection_cache.h"
#include "distdb/distdb.h"
#include "distdb/metadata_catalog.h"
#include "distdb/remote_command.h"
#include "distdb/subtransaction_call.h"
#include "distdb/transaction_recovery.h"
#include "distdb/two_phase_commit.h"

/* how long one command of the recovery may take on a node */
#define RECOVERY_COMMAND_TIMEOUT_MS 30000

/* a commit record as read at the start of the recovery */
typedef struct CommitRecord
{
	char	   *gid;
	int32		nodeId;
	ItemPointerData tid;
} CommitRecord;

static List *ReadCommitRecords(Relation records, Snapshot snapshot);
static void RecoverNodeInSubtransaction(DistNode *node, Relation records,
										List *commitRecords, int *finished);
static void RecoverNode(DistNode *node, Relation records, List *commitRecords,
						int *finished);

PG_FUNCTION_INFO_V1(distdb_recover_prepared_transactions);

/*
 * distdb_recover_prepared_transactions() finishes the prepared
 * transactions left on the nodes and returns how many it finished.
 */
Datum
distdb_recover_prepared_transactions(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(RecoverDistributedTransactions(true));
}

/*
 * RecoverDistributedTransactions: see transaction_recovery.h and the file
 * header.
 */
int
RecoverDistributedTransactions(bool waitForLock)
{
	Oid			recordsId = DistdbCatalogRelid(TRANSACTION_RECORD_TABLE);
	Relation	records;
	Snapshot	snapshot;
	List	   *commitRecords;
	List	   *nodes;
	ListCell   *lc;
	int			finished = 0;

	/* this session's own commits are not left to recovery */
	ReadFinishPreparedResults();

	if (waitForLock)
		LockRelationOid(recordsId, ShareUpdateExclusiveLock);
	else if (!ConditionalLockRelationOid(recordsId, ShareUpdateExclusiveLock))
		return -1;
	records = table_open(recordsId, NoLock);

	/* the records committed so far, before any node is listed */
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	commitRecords = ReadCommitRecords(records, snapshot);
	UnregisterSnapshot(snapshot);

	nodes = ReadNodeRows();
	foreach(lc, nodes)
		RecoverNodeInSubtransaction(lfirst(lc), records, commitRecords,
									&finished);

	/* records of removed nodes: nothing can be finished there any more */
	foreach(lc, commitRecords)
	{
		CommitRecord *record = lfirst(lc);
		ListCell   *nlc;
		bool		nodeExists = false;

		foreach(nlc, nodes)
		{
			if (((DistNode *) lfirst(nlc))->nodeId == record->nodeId)
			{
				nodeExists = true;
				break;
			}
		}
		if (!nodeExists)
			CatalogTupleDelete(records, &record->tid);
	}

	table_close(records, NoLock);
	return finished;
}

/*
 * ReadCommitRecords returns every commit record visible in the snapshot.
 */
static List *
ReadCommitRecords(Relation records, Snapshot snapshot)
{
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *result = NIL;

	scan = systable_beginscan(records, InvalidOid, false, snapshot, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		CommitRecord *record = palloc0(sizeof(CommitRecord));
		bool		isNull;
		Datum		value;

		value = heap_getattr(tuple, Anum_transaction_record_gid,
							 RelationGetDescr(records), &isNull);
		if (isNull)
			continue;
		record->gid = TextDatumGetCString(value);
		value = heap_getattr(tuple, Anum_transaction_record_nodeid,
							 RelationGetDescr(records), &isNull);
		record->nodeId = isNull ? 0 : DatumGetInt32(value);
		record->tid = tuple->t_self;
		result = lappend(result, record);
	}
	systable_endscan(scan);
	return result;
}

/* arguments of RecoverNode, for CallInSubtransaction */
typedef struct RecoverNodeArgs
{
	DistNode   *node;
	Relation	records;
	List	   *commitRecords;
	int		   *finished;
} RecoverNodeArgs;

static void
RecoverNodeStep(void *arg)
{
	RecoverNodeArgs *args = arg;

	RecoverNode(args->node, args->records, args->commitRecords,
				args->finished);
}

/*
 * RecoverNodeInSubtransaction runs RecoverNode in a subtransaction, so
 * that an error (the node is down, say) becomes a warning and undoes only
 * this node's record deletions.
 */
static void
RecoverNodeInSubtransaction(DistNode *node, Relation records,
							List *commitRecords, int *finished)
{
	RecoverNodeArgs args = {node, records, commitRecords, finished};
	ErrorData  *error = CallInSubtransaction(RecoverNodeStep, &args);

	if (error != NULL)
	{
		ereport(WARNING,
				(errcode(error->sqlerrcode),
				 errmsg("could not recover prepared transactions on node %s:%d",
						node->nodeName, node->nodePort),
				 errdetail_internal("%s", error->message),
				 errhint("The recovery is retried by distdb's maintenance daemon.")));
		FreeErrorData(error);
	}
}

/*
 * RecoverNode finishes the prepared transactions of this database on one
 * node (see the file header) and deletes the node's commit records that
 * are no longer needed.  Counts what it finished in *finished.
 */
static void
RecoverNode(DistNode *node, Relation records, List *commitRecords,
			int *finished)
{
	PGconn	   *conn = ConnectToNodeDirect(node->nodeName, node->nodePort);

	PG_TRY();
	{
		char	   *query;
		PGresult   *result;
		List	   *prepared = NIL;
		ListCell   *lc;

		if (PQsetnonblocking(conn, 1) != 0)
			elog(ERROR, "could not set the connection to node %s:%d non-blocking",
				 node->nodeName, node->nodePort);

		query = psprintf("SELECT gid FROM pg_catalog.pg_prepared_xacts "
						 "WHERE database = pg_catalog.current_database() "
						 "AND pg_catalog.starts_with(gid, %s)",
						 quote_literal_cstr(TwoPhaseGidPrefix()));
		result = RunCommandOnDirectConnection(conn, node->nodeName,
											  node->nodePort, query,
											  RECOVERY_COMMAND_TIMEOUT_MS);
		if (PQresultStatus(result) != PGRES_TUPLES_OK)
		{
			char	   *message = pstrdup(PQresultErrorMessage(result));

			PQclear(result);
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not list the prepared transactions of node %s:%d",
							node->nodeName, node->nodePort),
					 errdetail_internal("%s", pchomp(message))));
		}
		for (int row = 0; row < PQntuples(result); row++)
			prepared = lappend(prepared, pstrdup(PQgetvalue(result, row, 0)));
		PQclear(result);

		foreach(lc, prepared)
		{
			char	   *gid = lfirst(lc);
			FullTransactionId xid;
			int32		nodeId;
			Snapshot	snapshot;
			ItemPointerData tid;
			bool		committed;
			char	   *command;

			CHECK_FOR_INTERRUPTS();
			if (!ParseTwoPhaseGid(gid, &xid, &nodeId))
				continue;

			/*
			 * An xid the counter has not reached was lost in a crash (see
			 * two_phase_commit.c): no transaction holds it, nor committed
			 * with it.  TransactionIdIsInProgress would call it running.
			 */
			if (FullTransactionIdPrecedes(xid, ReadNextFullTransactionId()) &&
				TransactionIdIsInProgress(XidFromFullTransactionId(xid)))
				continue;

			/* taken after the check: a committed transaction is visible */
			snapshot = RegisterSnapshot(GetLatestSnapshot());
			committed = TransactionRecordExists(records, gid, snapshot, &tid);
			UnregisterSnapshot(snapshot);

			command = psprintf("%s PREPARED %s",
							   committed ? "COMMIT" : "ROLLBACK",
							   quote_literal_cstr(gid));
			result = RunCommandOnDirectConnection(conn, node->nodeName,
												  node->nodePort, command,
												  RECOVERY_COMMAND_TIMEOUT_MS);
			if (PQresultStatus(result) == PGRES_COMMAND_OK)
			{
				(*finished)++;
				if (committed)
					CatalogTupleDelete(records, &tid);
				ereport(DEBUG1,
						(errmsg("%s prepared transaction \"%s\" on node %s:%d",
								committed ? "committed" : "rolled back", gid,
								node->nodeName, node->nodePort)));
			}
			else
			{
				char	   *sqlstate = PQresultErrorField(result,
														  PG_DIAG_SQLSTATE);

				/*
				 * "does not exist" or "is busy": its own backend finished
				 * it meanwhile, or is finishing it
				 */
				if (sqlstate == NULL ||
					(strcmp(sqlstate, "42704") != 0 &&
					 strcmp(sqlstate, "55000") != 0))
					ereport(WARNING,
							(errmsg("could not %s prepared transaction \"%s\" on node %s:%d",
									committed ? "commit" : "roll back", gid,
									node->nodeName, node->nodePort),
							 errdetail_internal("%s",
												pchomp(PQresultErrorMessage(result)))));
			}
			PQclear(result);
		}

		/* records of this node whose gid was not prepared any more */
		foreach(lc, commitRecords)
		{
			CommitRecord *record = lfirst(lc);
			ListCell   *plc;
			bool		stillPrepared = false;

			if (record->nodeId != node->nodeId)
				continue;
			foreach(plc, prepared)
			{
				if (strcmp(lfirst(plc), record->gid) == 0)
				{
					stillPrepared = true;
					break;
				}
			}
			if (!stillPrepared)
				CatalogTupleDelete(records, &record->tid);
		}
	}
	PG_FINALLY();
	{
		PQfinish(conn);
	}
	PG_END_TRY();
}
