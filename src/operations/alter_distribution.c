/*-------------------------------------------------------------------------
 *
 * alter_distribution.c
 *	  undistribute_table() and alter_distributed_table(): turning a
 *	  distributed table back into a local one, and changing its shard
 *	  count or distribution column, rows kept.
 *
 * undistribute_table reads the table's rows from its shards through
 * distdb's own distributed scan and inserts them into the coordinator's
 * table (with its constraints and indexes, as logical replication applies
 * rows), then deletes the metadata and drops the shards inside the remote
 * transactions.  alter_distributed_table undistributes the table and
 * distributes it again with the new shard count or column, which creates
 * new shards and moves the rows into them with the same code as
 * create_distributed_table.  Everything happens in the caller's
 * transaction, so a failure anywhere leaves the table as it was.
 *
 * The table leaves its colocation group: with colocate_with 'default' it
 * joins the default group of its new shard count and column type.
 *
 * XXX: the rows pass through the coordinator's table, so it needs room
 * for all of them, and alter_distributed_table copies every row twice;
 * moving rows from shard to shard on the nodes would avoid both.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "distdb/create_distributed_table.h"
#include "distdb/ddl_propagation.h"
#include "distdb/metadata_cache.h"
#include "distdb/metadata_catalog.h"

/* rows fetched from the shard scan at a time */
#define UNDISTRIBUTE_FETCH_ROWS 1000

PG_FUNCTION_INFO_V1(undistribute_table);
PG_FUNCTION_INFO_V1(alter_distributed_table);

static void UndistributeTable(Oid relid, const char *action);
static DistTableCacheEntry *LockDistributedTable(Oid relid,
												 const char *action);
static char *DropShardCommand(Oid relid, ShardInterval *shard, void *context);
static void CopyShardRowsToCoordinator(Oid relid);
static char *SelectAllColumnsCommand(Relation rel, AttrNumber **attnums,
									 int *columnCount);


/*
 * undistribute_table turns a distributed table back into a local table of
 * the coordinator with all its rows.
 */
Datum
undistribute_table(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));

	UndistributeTable(PG_GETARG_OID(0), "undistribute");

	PG_RETURN_VOID();
}


/*
 * alter_distributed_table changes the shard count and/or the distribution
 * column of a distributed table, rows kept.  Arguments: the table, the
 * shard count (NULL: unchanged), the distribution column (NULL:
 * unchanged) and colocate_with, as for create_distributed_table.
 */
Datum
alter_distributed_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	DistTableCacheEntry *entry;
	int			shardCount;
	char	   *columnName;
	char	   *colocateWith;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	relid = PG_GETARG_OID(0);

	if (PG_ARGISNULL(1) && PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nothing to change for table \"%s\"",
						get_rel_name(relid)),
				 errhint("Give a new shard_count or distribution_column.")));

	entry = LockDistributedTable(relid, "alter");
	if (IsReferenceTableEntry(entry))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot alter reference table \"%s\"",
						get_rel_name(relid)),
				 errdetail("A reference table has one shard with a copy on every node."),
				 errhint("Use undistribute_table() and then create_distributed_table().")));

	/* check the new distribution before any row moves */
	shardCount = PG_ARGISNULL(1) ? entry->shardCount : PG_GETARG_INT32(1);
	EnsureValidShardCount(shardCount);

	if (PG_ARGISNULL(2))
		columnName = get_attname(relid, entry->distAttnum, false);
	else
	{
		AttrNumber	attnum;

		columnName = text_to_cstring(PG_GETARG_TEXT_PP(2));
		attnum = get_attnum(relid, columnName);
		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist",
							columnName, get_rel_name(relid))));
	}

	colocateWith = PG_ARGISNULL(3) ? "default" :
		text_to_cstring(PG_GETARG_TEXT_PP(3));

	UndistributeTable(relid, "alter");

	/* the row mover scans the table: with a snapshot that sees the rows */
	CommandCounterIncrement();
	PushCopiedSnapshot(GetActiveSnapshot());
	UpdateActiveSnapshotCommandId();
	DistributeTableByColumn(relid, columnName, shardCount, true, colocateWith);
	PopActiveSnapshot();

	PG_RETURN_VOID();
}


/*
 * UndistributeTable copies the rows of a distributed table from its shards
 * into the coordinator's table, deletes its metadata and drops its shards.
 * action ("undistribute", "alter") names the operation in errors.
 */
static void
UndistributeTable(Oid relid, const char *action)
{
	ShardCommandBatch *dropBatch = NewShardCommandBatch();

	(void) LockDistributedTable(relid, action);

	/* the commands that drop the shards, built before the metadata goes */
	AddShardCommands(dropBatch, relid, DropShardCommand, NULL);

	CopyShardRowsToCoordinator(relid);

	DeleteDistTableMetadata(relid);
	ExecuteShardCommandBatch(dropBatch);
}


/*
 * DropShardCommand builds the command that drops one shard.
 */
static char *
DropShardCommand(Oid relid, ShardInterval *shard, void *context)
{
	return psprintf("DROP TABLE IF EXISTS %s", shard->shardName);
}


/*
 * LockDistributedTable checks that the current user owns the table (before
 * and after taking the lock, so that nobody queues an exclusive lock on a
 * table they do not own), locks it against every other access and
 * returns its metadata.  Tables tied to others by foreign keys are
 * refused: the keys would have to move with the rows.
 */
static DistTableCacheEntry *
LockDistributedTable(Oid relid, const char *action)
{
	DistTableCacheEntry *entry;
	char	   *relname;
	char	   *constraintName;

	relname = get_rel_name(relid);

	/* checked before the lock too: never lock a catalog or another's table */
	EnsureTableOwner(relid);
	if (!IsDistributedTable(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot %s table \"%s\" because it is not distributed",
						action, relname)));
	LockRelationOid(relid, AccessExclusiveLock);
	EnsureTableOwner(relid);

	/* it may have been undistributed or dropped while we waited */
	entry = LookupDistTable(relid);
	if (entry == NULL || !entry->isDistributed)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot %s table \"%s\" because it is not distributed",
						action, relname)));

	constraintName = FindForeignKey(relid, true);
	if (constraintName == NULL)
		constraintName = FindForeignKey(relid, false);
	if (constraintName != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s table \"%s\" because of foreign key \"%s\"",
						action, relname, constraintName),
				 errhint("Drop the foreign keys of the table and those referencing it first.")));

	return entry;
}


/*
 * CopyShardRowsToCoordinator reads every row of a distributed table from
 * its shards (a distributed scan through SPI, in batches) and inserts it
 * into the coordinator's table, checking its constraints and filling its
 * indexes and stored generated columns as an INSERT would.
 */
static void
CopyShardRowsToCoordinator(Oid relid)
{
	Relation	rel = table_open(relid, NoLock);
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	EState	   *estate = CreateExecutorState();
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	ResultRelInfo *resultRelInfo = makeNode(ResultRelInfo);
	TupleTableSlot *slot;
	AttrNumber *attnums;
	int			columnCount;
	char	   *command;
	SPIPlanPtr	plan;
	Portal		portal;

	command = SelectAllColumnsCommand(rel, &attnums, &columnCount);

	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = AccessExclusiveLock;
	ExecInitRangeTable(estate, list_make1(rte));
	InitResultRelInfo(resultRelInfo, rel, 1, NULL, 0);
	estate->es_output_cid = GetCurrentCommandId(true);
	ExecOpenIndices(resultRelInfo, false);
	AfterTriggerBeginQuery();

	slot = table_slot_create(rel, NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to the SPI manager");

	plan = SPI_prepare(command, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", command,
			 SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);

	for (;;)
	{
		uint64		rowIndex;

		SPI_cursor_fetch(portal, true, UNDISTRIBUTE_FETCH_ROWS);
		if (SPI_processed == 0)
			break;

		for (rowIndex = 0; rowIndex < SPI_processed; rowIndex++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[rowIndex];
			int			column;

			CHECK_FOR_INTERRUPTS();

			ExecClearTuple(slot);
			memset(slot->tts_isnull, true, tupleDesc->natts * sizeof(bool));
			for (column = 0; column < columnCount; column++)
			{
				int			attrIndex = attnums[column] - 1;

				slot->tts_values[attrIndex] =
					heap_getattr(tuple, column + 1, SPI_tuptable->tupdesc,
								 &slot->tts_isnull[attrIndex]);
			}
			ExecStoreVirtualTuple(slot);

			ExecSimpleRelationInsert(resultRelInfo, estate, slot);
			ResetPerTupleExprContext(estate);
		}

		SPI_freetuptable(SPI_tuptable);
	}

	SPI_cursor_close(portal);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "could not disconnect from the SPI manager");

	ExecDropSingleTupleTableSlot(slot);
	AfterTriggerEndQuery(estate);
	ExecCloseIndices(resultRelInfo);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);

	table_close(rel, NoLock);
}


/*
 * SelectAllColumnsCommand returns "SELECT columns FROM table" naming every
 * column of the table (not the dropped ones), and the attribute number of
 * each selected column.
 */
static char *
SelectAllColumnsCommand(Relation rel, AttrNumber **attnums, int *columnCount)
{
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	StringInfoData buf;
	int			attrIndex;

	*attnums = palloc(sizeof(AttrNumber) * Max(tupleDesc->natts, 1));
	*columnCount = 0;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT ");
	for (attrIndex = 0; attrIndex < tupleDesc->natts; attrIndex++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, attrIndex);

		if (attr->attisdropped)
			continue;
		if (*columnCount > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, quote_identifier(NameStr(attr->attname)));
		(*attnums)[(*columnCount)++] = attr->attnum;
	}

	/* a table without columns still has rows */
	if (*columnCount == 0)
		appendStringInfoString(&buf, "NULL");

	appendStringInfo(&buf, " FROM %s",
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												RelationGetRelationName(rel)));
	return buf.data;
}
