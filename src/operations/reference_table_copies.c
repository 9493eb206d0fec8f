/*-------------------------------------------------------------------------
 *
 * reference_table_copies.c
 *	  Giving a node that joins the cluster a copy of every reference table,
 *	  and dropping the copies of a node that leaves it.
 *
 * A reference table has a copy on every node, which is what lets it join
 * any shard of a distributed table where that shard lives.  When
 * distdb_add_node adds a node, each reference table's shard is created
 * there (with the table's privileges), filled with the rows of an existing
 * copy and recorded as a placement, all inside the caller's transaction:
 * the node's copies are written in a remote transaction that commits (with
 * two-phase commit when other nodes are written too) or rolls back with
 * the node's row in distdb.node.
 *
 * distdb_remove_node, symmetrically, drops the copies of a node that holds
 * nothing else, as long as every table keeps a copy elsewhere.
 *
 * While a table's copies change it is locked in EXCLUSIVE mode on the
 * coordinator, which lets it be read but waits for, and then holds off,
 * every writer: all writes to a reference table take at least a ROW
 * EXCLUSIVE lock on it, so no write can reach the old copies and miss the
 * new one, or reach a copy being dropped.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "distdb/connection_cache.h"
#include "distdb/ddl_propagation.h"
#include "distdb/deparse.h"
#include "distdb/metadata_cache.h"
#include "distdb/metadata_catalog.h"
#include "distdb/reference_table_copies.h"
#include "distdb/remote_command.h"
#include "distdb/shard_copy.h"
#include "distdb/shard_ddl.h"
#include "distdb/task_execution.h"

static void CopyReferenceTableToNode(Oid relid, int32 nodeId);
static bool LockReferenceTable(Oid relid);
static TupleDesc CopiedColumnsDesc(Relation rel, StringInfo columnList);
static uint64 CopyRowsFromPlacement(TupleDesc tupleDesc, const char *columnList,
									ShardInterval *shard, int32 sourceNodeId,
									NodeConnection *destination);


/*
 * ReplicateReferenceTablesToNode creates and fills a copy of every
 * reference table on a node that was just recorded in distdb.node.
 */
void
ReplicateReferenceTablesToNode(int32 nodeId)
{
	List	   *tables = ReferenceTableList();
	ListCell   *cell;

	foreach(cell, tables)
	{
		Oid			relid = lfirst_oid(cell);

		CHECK_FOR_INTERRUPTS();
		if (LockReferenceTable(relid))
			CopyReferenceTableToNode(relid, nodeId);
	}
}


/*
 * DropReferenceTableCopiesOnNode drops the copies of every reference table
 * on a node about to be removed and deletes their placements.  A table
 * whose only copy is there is refused.
 */
void
DropReferenceTableCopiesOnNode(int32 nodeId)
{
	List	   *tables = ReferenceTableList();
	ShardCommandBatch *batch = NewShardCommandBatch();
	ListCell   *cell;

	foreach(cell, tables)
	{
		Oid			relid = lfirst_oid(cell);
		DistTableCacheEntry *entry;
		ShardInterval *shard;

		CHECK_FOR_INTERRUPTS();
		if (!LockReferenceTable(relid))
			continue;
		entry = LookupDistTable(relid);
		shard = &entry->shards[0];
		if (ShardPlacementOnNode(shard, nodeId) == NULL)
			continue;
		if (shard->placementCount < 2)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot remove node %d because it holds the only copy of reference table \"%s\"",
							nodeId, get_rel_name(relid)),
					 errhint("Drop the table, or add another node first.")));

		AddNodeCommand(batch, nodeId,
					   psprintf("DROP TABLE IF EXISTS %s", shard->shardName));
		/* this invalidates the cache entry, and shard with it */
		DeletePlacementRow(shard->shardId, nodeId);
	}

	ExecuteShardCommandBatch(batch);
}


/*
 * CountReferenceTableCopies returns how many reference tables have a copy
 * on a node.
 */
int64
CountReferenceTableCopies(int32 nodeId)
{
	List	   *tables = ReferenceTableList();
	ListCell   *cell;
	int64		count = 0;

	foreach(cell, tables)
	{
		DistTableCacheEntry *entry = LookupDistTable(lfirst_oid(cell));

		if (entry != NULL && IsReferenceTableEntry(entry) &&
			ShardPlacementOnNode(&entry->shards[0], nodeId) != NULL)
			count++;
	}
	return count;
}


/*
 * LockReferenceTable locks a reference table against writers (see the file
 * header) and returns whether it still is one: it may have been dropped
 * while we waited for the lock.
 */
static bool
LockReferenceTable(Oid relid)
{
	LockRelationOid(relid, ExclusiveLock);
	return IsReferenceTable(relid);
}


/*
 * CopyReferenceTableToNode creates the shard of one reference table on a
 * node, copies the rows of its first copy into it and records the new
 * placement.
 */
static void
CopyReferenceTableToNode(Oid relid, int32 nodeId)
{
	DistTableCacheEntry *entry = LookupDistTable(relid);
	ShardInterval *shard;
	int64		shardId;
	int32		sourceNodeId;
	Relation	rel;
	TupleDesc	tupleDesc;
	StringInfoData columnList;
	List	   *connections;
	NodeConnection *destination;
	char	   *aclCommand;
	uint64		rowCount;

	if (entry == NULL || !IsReferenceTableEntry(entry) ||
		entry->shardCount != 1)
		elog(ERROR, "relation %u is not a reference table", relid);
	shard = &entry->shards[0];
	if (ShardPlacementOnNode(shard, nodeId) != NULL)
		return;
	if (shard->placementCount < 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("reference table \"%s\" has no copy to copy from",
						get_rel_name(relid))));
	shardId = shard->shardId;
	sourceNodeId = shard->placements[0].nodeId;

	rel = relation_open(relid, NoLock);
	initStringInfo(&columnList);
	tupleDesc = CopiedColumnsDesc(rel, &columnList);
	relation_close(rel, NoLock);

	connections = StartNodeTransactions(list_make1_int(nodeId));
	destination = linitial(connections);
	destination->wroteData = true;
	ExecuteRemoteCommand(destination, ShardCreateCommandString(relid, shardId));

	rowCount = CopyRowsFromPlacement(tupleDesc, columnList.data, shard,
									 sourceNodeId, destination);

	/* the privileges come after the rows, as in create_distributed_table */
	aclCommand = ShardAclCommandString(relid, shardId);
	if (aclCommand != NULL)
		ExecuteRemoteCommand(destination, aclCommand);
	ReleaseNodeConnectionList(connections);

	/* this invalidates the cache entry, and shard with it */
	InsertPlacementRow(shardId, nodeId);

	ereport(DEBUG1,
			(errmsg("copied " UINT64_FORMAT " rows of reference table \"%s\" to node %d",
					rowCount, get_rel_name(relid), nodeId)));
}


/*
 * CopiedColumnsDesc returns a descriptor of the columns of a table that
 * are copied between shards (IsShardCopyColumn), in attribute order, and
 * appends their quoted names, separated by commas, to columnList.
 */
static TupleDesc
CopiedColumnsDesc(Relation rel, StringInfo columnList)
{
	TupleDesc	relationDesc = RelationGetDescr(rel);
	TupleDesc	tupleDesc;
	int			count = 0;
	int			attrIndex;

	for (attrIndex = 0; attrIndex < relationDesc->natts; attrIndex++)
	{
		if (IsShardCopyColumn(TupleDescAttr(relationDesc, attrIndex)))
			count++;
	}

	tupleDesc = CreateTemplateTupleDesc(count);
	count = 0;
	for (attrIndex = 0; attrIndex < relationDesc->natts; attrIndex++)
	{
		Form_pg_attribute attr = TupleDescAttr(relationDesc, attrIndex);

		if (!IsShardCopyColumn(attr))
			continue;
		count++;
		TupleDescInitEntry(tupleDesc, count, NameStr(attr->attname),
						   attr->atttypid, attr->atttypmod, 0);
		TupleDescInitEntryCollation(tupleDesc, count, attr->attcollation);
		if (count > 1)
			appendStringInfoString(columnList, ", ");
		appendStringInfoString(columnList,
							   quote_identifier(NameStr(attr->attname)));
	}
	return tupleDesc;
}


/*
 * CopyRowsFromPlacement reads the rows of a shard's copy on one node, as a
 * distributed scan reads a shard, and streams them into the same shard on
 * the destination connection with COPY (shard_copy.c).  Returns the number
 * of rows copied.
 */
static uint64
CopyRowsFromPlacement(TupleDesc tupleDesc, const char *columnList,
					  ShardInterval *shard, int32 sourceNodeId,
					  NodeConnection *destination)
{
	DistTask   *task = palloc0(sizeof(DistTask));
	ShardCopyDestination copyDestination;
	ShardCopyBuffers *buffers;
	TaskExecution *execution;
	TupleTableSlot *slot;
	MemoryContext rowContext;
	uint64		rowCount = 0;
	int			nestLevel;

	task->shardId = shard->shardId;
	task->nodeId = sourceNodeId;
	task->queryString = psprintf("SELECT %s FROM ONLY %s", columnList,
								 shard->shardName);

	copyDestination.shardName = pstrdup(shard->shardName);
	copyDestination.connections = list_make1(destination);

	/* print values the way every node reads them back */
	nestLevel = PushDeparseSettings();
	buffers = CreateShardCopyBuffers(tupleDesc, 1, &copyDestination);
	rowContext = AllocSetContextCreate(CurrentMemoryContext,
									   "distdb reference table copy",
									   ALLOCSET_DEFAULT_SIZES);

	slot = MakeSingleTupleTableSlot(tupleDesc, &TTSOpsVirtual);
	execution = CreateTaskExecution(list_make1(task), false, true, tupleDesc);
	while (TaskExecutionNextTuple(execution, slot))
	{
		MemoryContext oldContext = MemoryContextSwitchTo(rowContext);

		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		if (AppendShardCopyRow(buffers, 0, slot->tts_values, slot->tts_isnull))
			FlushShardCopyBuffer(buffers, 0);
		MemoryContextSwitchTo(oldContext);
		MemoryContextReset(rowContext);
		rowCount++;
	}
	FinishTaskExecution(execution);
	ExecDropSingleTupleTableSlot(slot);

	FlushAllShardCopyBuffers(buffers);
	PopDeparseSettings(nestLevel);
	MemoryContextDelete(rowContext);

	return rowCount;
}
