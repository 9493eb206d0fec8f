/*-------------------------------------------------------------------------
 *
 * insert_select.c
 *	  INSERT ... SELECT into a distributed table through the coordinator.
 *
 * The SELECT runs as a query of its own (it may itself be distributed) and
 * sends its rows to a receiver that computes the INSERT's values from each
 * (the target list: SELECT columns, defaults, sequences -- evaluated on the
 * coordinator, once per row) and streams the row to the shard its
 * distribution value hashes to, with COPY in batches (shard_copy.c).  The
 * shards' writes are part of the remote transactions, so the statement is
 * atomic, and the SELECT reads everything it reads before the rows it
 * produces become visible, as in PostgreSQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "tcop/dest.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "distdb/connection_cache.h"
#include "distdb/deparse.h"
#include "distdb/distributed_scan.h"
#include "distdb/metadata_cache.h"
#include "distdb/remote_transaction.h"
#include "distdb/shard_copy.h"
#include "distdb/shard_pruning.h"

/* the receiver of the SELECT's rows */
typedef struct InsertSelectReceiver
{
	DestReceiver pub;
	DistTableCacheEntry *entry;
	TupleDesc	tupleDesc;		/* the target table's */
	ExprState **columnStates;	/* per target attribute; NULL: no value */
	ExprContext *econtext;
	ShardCopyDestination *destinations; /* claimed with the first row */
	ShardCopyBuffers *buffers;
	MemoryContext context;		/* the statement's */
	Datum	   *values;
	bool	   *nulls;
	bool		switchSettings; /* values print differently here */
	uint64		rowCount;
} InsertSelectReceiver;

/*
 * ClaimShardCopyDestinations claims one connection to every node holding
 * shards of the table, opens remote transactions on them and returns the
 * destination of each shard index.
 */
ShardCopyDestination *
ClaimShardCopyDestinations(DistTableCacheEntry *entry)
{
	ShardCopyDestination *destinations =
		palloc0(sizeof(ShardCopyDestination) * entry->shardCount);
	List	   *connections = NIL;
	int			shardIndex;
	ListCell   *lc;

	for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
	{
		ShardInterval *shard = &entry->shards[shardIndex];
		int			p;

		destinations[shardIndex].shardName = shard->shardName;
		for (p = 0; p < shard->placementCount; p++)
		{
			int32		nodeId = shard->placements[p].nodeId;
			NodeConnection *connection = NULL;

			foreach(lc, connections)
			{
				if (((NodeConnection *) lfirst(lc))->nodeId == nodeId)
					connection = lfirst(lc);
			}
			if (connection == NULL)
			{
				connection = linitial(ClaimNodeConnections(nodeId, 1));
				connections = lappend(connections, connection);
			}
			destinations[shardIndex].connections =
				lappend(destinations[shardIndex].connections, connection);
		}
	}
	FinishConnectionEstablishment(connections);
	BeginRemoteTransactions(connections);
	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);

		SyncSessionSettings(connection);
		connection->wroteData = true;
	}
	return destinations;
}

/*
 * ReleaseShardCopyDestinations releases the connections of the
 * destinations; their remote transactions stay open until the local
 * transaction ends.
 */
void
ReleaseShardCopyDestinations(ShardCopyDestination *destinations,
							 int shardCount)
{
	int			shardIndex;
	ListCell   *lc;

	for (shardIndex = 0; shardIndex < shardCount; shardIndex++)
	{
		foreach(lc, destinations[shardIndex].connections)
			ReleaseNodeConnection(lfirst(lc));
	}
}

/*
 * PrintsValuesExactly: whether the session already prints values the way
 * every node reads them back (ISO dates, postgres intervals, shortest exact
 * floats), so no settings need switching per row.
 */
static bool
PrintsValuesExactly(void)
{
	const char *dateStyle = GetConfigOption("DateStyle", false, false);
	const char *intervalStyle = GetConfigOption("IntervalStyle", false, false);
	const char *floatDigits = GetConfigOption("extra_float_digits", false,
											  false);

	return strncmp(dateStyle, "ISO", 3) == 0 &&
		strcmp(intervalStyle, "postgres") == 0 && atoi(floatDigits) >= 1;
}

/* receiveSlot: compute the row to insert and route it */
static bool
InsertSelectReceiveSlot(TupleTableSlot *slot, DestReceiver *self)
{
	InsertSelectReceiver *receiver = (InsertSelectReceiver *) self;
	DistTableCacheEntry *entry = receiver->entry;
	ExprContext *econtext = receiver->econtext;
	int			natts = receiver->tupleDesc->natts;
	int			distIndex = entry->distAttnum - 1;
	int			shardIndex = 0; /* a reference table's only shard */
	int			i;

	CHECK_FOR_INTERRUPTS();
	ResetExprContext(econtext);
	slot_getallattrs(slot);
	econtext->ecxt_scantuple = slot;
	for (i = 0; i < natts; i++)
	{
		if (receiver->columnStates[i] == NULL)
		{
			receiver->values[i] = (Datum) 0;
			receiver->nulls[i] = true;
			continue;
		}
		receiver->values[i] =
			ExecEvalExprSwitchContext(receiver->columnStates[i], econtext,
									  &receiver->nulls[i]);
	}

	if (!IsReferenceTableEntry(entry))
	{
		if (receiver->nulls[distIndex])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("cannot insert a null value into distribution column \"%s\"",
							NameStr(TupleDescAttr(receiver->tupleDesc,
												  distIndex)->attname))));
		shardIndex = ShardIndexForDatum(entry, receiver->values[distIndex],
										entry->distType);
	}

	/*
	 * The destinations are claimed with the first row: by then the SELECT's
	 * own scans have either read everything (when they share a remote
	 * transaction's connection) or hold other connections.
	 */
	if (receiver->buffers == NULL)
	{
		MemoryContext oldContext = MemoryContextSwitchTo(receiver->context);

		receiver->destinations = ClaimShardCopyDestinations(entry);
		receiver->buffers = CreateShardCopyBuffers(receiver->tupleDesc,
												   entry->shardCount,
												   receiver->destinations);
		MemoryContextSwitchTo(oldContext);
	}

	if (receiver->switchSettings)
	{
		int			nestLevel = PushDeparseSettings();

		if (AppendShardCopyRow(receiver->buffers, shardIndex,
							   receiver->values, receiver->nulls))
			FlushShardCopyBuffer(receiver->buffers, shardIndex);
		PopDeparseSettings(nestLevel);
	}
	else if (AppendShardCopyRow(receiver->buffers, shardIndex,
								receiver->values, receiver->nulls))
		FlushShardCopyBuffer(receiver->buffers, shardIndex);
	receiver->rowCount++;
	return true;
}

static void
InsertSelectStartup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
InsertSelectShutdown(DestReceiver *self)
{
}

static void
InsertSelectDestroy(DestReceiver *self)
{
}

/*
 * ExecuteInsertSelect runs an INSERT ... SELECT plan and returns the
 * number of rows inserted.
 */
uint64
ExecuteInsertSelect(DistributedPlan *plan, EState *estate)
{
	DistTableCacheEntry *entry = LookupDistTable(plan->relid);
	Relation	relation;
	InsertSelectReceiver receiver;
	QueryDesc  *queryDesc;
	ListCell   *lc;

	if (entry == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation %u is no longer distributed", plan->relid)));

	/* the executor locked the table when it started */
	relation = table_open(plan->relid, NoLock);

	memset(&receiver, 0, sizeof(receiver));
	receiver.pub.receiveSlot = InsertSelectReceiveSlot;
	receiver.pub.rStartup = InsertSelectStartup;
	receiver.pub.rShutdown = InsertSelectShutdown;
	receiver.pub.rDestroy = InsertSelectDestroy;
	receiver.pub.mydest = DestNone;
	receiver.entry = entry;
	receiver.tupleDesc = RelationGetDescr(relation);
	receiver.econtext = CreateExprContext(estate);
	receiver.columnStates = palloc0(sizeof(ExprState *) *
									receiver.tupleDesc->natts);
	receiver.values = palloc0(sizeof(Datum) * receiver.tupleDesc->natts);
	receiver.nulls = palloc0(sizeof(bool) * receiver.tupleDesc->natts);
	receiver.switchSettings = !PrintsValuesExactly();

	/* the INSERT's target list, over the SELECT's row as scan tuple */
	foreach(lc, plan->query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		receiver.columnStates[tle->resno - 1] = ExecInitExpr(tle->expr, NULL);
	}

	receiver.context = CurrentMemoryContext;

	queryDesc = CreateQueryDesc(plan->selectPlan, "INSERT ... SELECT",
								GetActiveSnapshot(), InvalidSnapshot,
								(DestReceiver *) &receiver,
								estate->es_param_list_info,
								estate->es_queryEnv, 0);
	ExecutorStart(queryDesc, 0);
	ExecutorRun(queryDesc, ForwardScanDirection, 0, true);
	ExecutorFinish(queryDesc);
	ExecutorEnd(queryDesc);
	FreeQueryDesc(queryDesc);

	if (receiver.buffers != NULL)
	{
		FlushAllShardCopyBuffers(receiver.buffers);
		ReleaseShardCopyDestinations(receiver.destinations, entry->shardCount);
	}
	table_close(relation, NoLock);
	return receiver.rowCount;
}
