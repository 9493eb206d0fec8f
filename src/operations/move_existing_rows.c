/*-------------------------------------------------------------------------
 *
 * move_existing_rows.c
 *	  Moves the rows a table holds when it is distributed into its new
 *	  shards, then empties the coordinator's table.
 *
 * The table is scanned once.  Each row is hashed by its distribution value
 * and handed to the shard copy buffers (shard_copy.c), which send it with
 * COPY ... FROM STDIN over the remote transaction of each node holding the
 * shard, in batches, so memory stays bounded whatever the table's size.
 * The rows are then removed from the coordinator with TRUNCATE in the same
 * transaction, so a rollback brings them back and discards the shards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/tableam.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "distdb/deparse.h"
#include "distdb/metadata_cache.h"
#include "distdb/move_existing_rows.h"
#include "distdb/shard_copy.h"

static void TruncateLocalTable(Oid relid);


/*
 * MoveExistingRows copies every row of relid into the shard its
 * distribution value hashes to (destinations[i] for shard index i) and
 * then truncates relid.  It returns the number of rows moved.  Without a
 * distribution column (distAttnum InvalidAttrNumber: a reference table)
 * every row goes to the only shard.
 *
 * The caller holds an AccessExclusiveLock on relid, has not yet recorded
 * it as distributed (so that the TRUNCATE is a local one) and must not
 * keep the relation open (TRUNCATE refuses tables in use).
 */
uint64
MoveExistingRows(Oid relid, AttrNumber distAttnum, int shardCount,
				 ShardCopyDestination *destinations)
{
	Relation	rel = relation_open(relid, NoLock);
	Form_pg_attribute distAttr = NULL;
	ShardCopyBuffers *buffers;
	TableScanDesc scan;
	TupleTableSlot *slot;
	MemoryContext rowContext;
	MemoryContext oldContext;
	FmgrInfo	hashFunction;
	Oid			hashFunctionId;
	uint64		rowCount = 0;
	int			gucNestLevel;

	/*
	 * Print values in formats every server reads back the same way,
	 * whatever its own DateStyle and IntervalStyle.
	 */
	gucNestLevel = PushDeparseSettings();

	/* the table is not distributed yet: no metadata cache entry */
	if (distAttnum != InvalidAttrNumber)
	{
		distAttr = TupleDescAttr(RelationGetDescr(rel), distAttnum - 1);
		hashFunctionId = LookupHashSupportFunction(distAttr->atttypid);
		if (!OidIsValid(hashFunctionId))
			elog(ERROR, "data type %u has no hash function",
				 distAttr->atttypid);
		fmgr_info(hashFunctionId, &hashFunction);
	}

	buffers = CreateShardCopyBuffers(RelationGetDescr(rel), shardCount,
									 destinations);

	rowContext = AllocSetContextCreate(CurrentMemoryContext,
									   "distdb row move",
									   ALLOCSET_DEFAULT_SIZES);

	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		int			shardIndex = 0;	/* without a distribution column */

		CHECK_FOR_INTERRUPTS();

		MemoryContextReset(rowContext);
		oldContext = MemoryContextSwitchTo(rowContext);

		slot_getallattrs(slot);
		if (distAttr != NULL)
		{
			if (slot->tts_isnull[distAttnum - 1])
				ereport(ERROR,
						(errcode(ERRCODE_NOT_NULL_VIOLATION),
						 errmsg("cannot distribute a row with a null value in the distribution column"),
						 errdetail("Table \"%s\" has a row where column \"%s\" is null.",
								   RelationGetRelationName(rel),
								   get_attname(relid, distAttnum, false))));
			shardIndex = ShardIndexForHash(shardCount,
										   HashValueWithFunction(&hashFunction,
																 distAttr->attcollation,
																 slot->tts_values[distAttnum - 1]));
		}

		/* the text goes to the buffer, the garbage to the row context */
		if (AppendShardCopyRow(buffers, shardIndex, slot->tts_values,
							   slot->tts_isnull))
			FlushShardCopyBuffer(buffers, shardIndex);

		MemoryContextSwitchTo(oldContext);

		rowCount++;
	}

	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(rowContext);

	FlushAllShardCopyBuffers(buffers);

	PopDeparseSettings(gucNestLevel);

	relation_close(rel, NoLock);

	if (rowCount > 0)
		TruncateLocalTable(relid);

	ereport(DEBUG1,
			(errmsg("moved " UINT64_FORMAT " rows of table \"%s\" into its shards",
					rowCount, get_rel_name(relid))));

	return rowCount;
}


/*
 * TruncateLocalTable removes the rows of the coordinator's table.  It runs
 * before the table is recorded as distributed, so the utility hook treats
 * it as a local table; the truncation is undone if the transaction aborts.
 */
static void
TruncateLocalTable(Oid relid)
{
	char	   *command;
	int			rc;

	command = psprintf("TRUNCATE ONLY %s",
					   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												  get_rel_name(relid)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to the SPI manager");

	rc = SPI_execute(command, false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "could not run \"%s\": %s", command,
			 SPI_result_code_string(rc));

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "could not disconnect from the SPI manager");

	pfree(command);
}
