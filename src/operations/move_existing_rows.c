/*-------------------------------------------------------------------------
 *
 * move_existing_rows.c
 *	  Moves the rows a table holds when it is distributed into its new
 *	  shards, then empties the coordinator's table.
 *
 * The table is scanned once.  Each row is hashed by its distribution value
 * and written in COPY text format into its shard's buffer; a buffer larger
 * than distdb.copy_batch_size is sent with COPY ... FROM STDIN over the
 * remote transaction of each node holding the shard, so memory stays
 * bounded by shard count x batch size whatever the table's size.  The rows
 * are then removed from the coordinator with TRUNCATE in the same
 * transaction, so a rollback brings them back and discards the shards.
 *
 * Stored generated columns are left out of the COPY: the shards compute
 * them again from the same expressions.
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
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "distdb/connection_cache.h"
#include "distdb/distdb.h"
#include "distdb/metadata_cache.h"
#include "distdb/move_existing_rows.h"
#include "distdb/remote_command.h"

/* state of one move */
typedef struct RowMoveState
{
	Relation	rel;
	AttrNumber	distAttnum;
	int			shardCount;
	ShardCopyDestination *destinations;
	StringInfo *buffers;		/* per shard, created on first use */
	bool	   *copiedColumns;	/* per attribute: part of the COPY */
	FmgrInfo   *outputFunctions;	/* per attribute */
	FmgrInfo	hashFunction;
	Oid			distCollation;
	char	   *columnList;		/* "(a, b, c)" */
} RowMoveState;

static void InitRowMoveState(RowMoveState *state, Relation rel,
							 AttrNumber distAttnum, int shardCount,
							 ShardCopyDestination *destinations);
static void AppendRow(RowMoveState *state, TupleTableSlot *slot,
					  StringInfo buffer);
static void AppendCopyText(StringInfo buffer, const char *value);
static void FlushShardBuffer(RowMoveState *state, int shardIndex);
static void TruncateLocalTable(Oid relid);


/*
 * MoveExistingRows copies every row of relid into the shard its
 * distribution value hashes to (destinations[i] for shard index i) and
 * then truncates relid.  It returns the number of rows moved.
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
	RowMoveState state;
	TableScanDesc scan;
	TupleTableSlot *slot;
	MemoryContext rowContext;
	MemoryContext oldContext;
	uint64		rowCount = 0;
	int			gucNestLevel;
	int			shardIndex;

	/*
	 * Print values in formats every server reads back the same way,
	 * whatever its own DateStyle and IntervalStyle.
	 */
	gucNestLevel = NewGUCNestLevel();
	(void) set_config_option("datestyle", "ISO", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("intervalstyle", "postgres", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "3", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);

	InitRowMoveState(&state, rel, distAttnum, shardCount, destinations);

	rowContext = AllocSetContextCreate(CurrentMemoryContext,
									   "distdb row move",
									   ALLOCSET_DEFAULT_SIZES);

	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		Datum		distValue;
		bool		distIsNull;
		int32		hashValue;
		StringInfo	buffer;

		CHECK_FOR_INTERRUPTS();

		MemoryContextReset(rowContext);
		oldContext = MemoryContextSwitchTo(rowContext);

		slot_getallattrs(slot);
		distValue = slot->tts_values[distAttnum - 1];
		distIsNull = slot->tts_isnull[distAttnum - 1];
		if (distIsNull)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("cannot distribute a row with a null value in the distribution column"),
					 errdetail("Table \"%s\" has a row where column \"%s\" is null.",
							   RelationGetRelationName(rel),
							   get_attname(relid, distAttnum, false))));

		hashValue = HashValueWithFunction(&state.hashFunction,
										  state.distCollation, distValue);
		shardIndex = ShardIndexForHash(shardCount, hashValue);

		MemoryContextSwitchTo(oldContext);

		if (state.buffers[shardIndex] == NULL)
			state.buffers[shardIndex] = makeStringInfo();
		buffer = state.buffers[shardIndex];

		/* the text goes to the buffer, the garbage to the row context */
		oldContext = MemoryContextSwitchTo(rowContext);
		AppendRow(&state, slot, buffer);
		MemoryContextSwitchTo(oldContext);

		rowCount++;

		if (buffer->len >= DistdbCopyBatchBytes)
			FlushShardBuffer(&state, shardIndex);
	}

	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(rowContext);

	for (shardIndex = 0; shardIndex < shardCount; shardIndex++)
	{
		CHECK_FOR_INTERRUPTS();
		if (state.buffers[shardIndex] != NULL &&
			state.buffers[shardIndex]->len > 0)
			FlushShardBuffer(&state, shardIndex);
	}

	AtEOXact_GUC(true, gucNestLevel);

	relation_close(rel, NoLock);

	if (rowCount > 0)
		TruncateLocalTable(relid);

	ereport(DEBUG1,
			(errmsg("moved " UINT64_FORMAT " rows of table \"%s\" into its shards",
					rowCount, get_rel_name(relid))));

	return rowCount;
}


/*
 * InitRowMoveState looks up what formatting and hashing the rows need:
 * the output function of each copied column, the COPY column list and the
 * distribution column's hash function.
 */
static void
InitRowMoveState(RowMoveState *state, Relation rel, AttrNumber distAttnum,
				 int shardCount, ShardCopyDestination *destinations)
{
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	Form_pg_attribute distAttr = TupleDescAttr(tupleDesc, distAttnum - 1);
	StringInfoData columnList;
	Oid			hashFunctionId;
	int			attrIndex;
	bool		firstColumn = true;

	state->rel = rel;
	state->distAttnum = distAttnum;
	state->shardCount = shardCount;
	state->destinations = destinations;
	state->buffers = palloc0(sizeof(StringInfo) * shardCount);
	state->copiedColumns = palloc0(sizeof(bool) * tupleDesc->natts);
	state->outputFunctions = palloc0(sizeof(FmgrInfo) * tupleDesc->natts);

	initStringInfo(&columnList);
	appendStringInfoChar(&columnList, '(');

	for (attrIndex = 0; attrIndex < tupleDesc->natts; attrIndex++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, attrIndex);
		Oid			outputFunctionId;
		bool		isVarlena;

		if (attr->attisdropped || attr->attgenerated != '\0')
			continue;

		state->copiedColumns[attrIndex] = true;
		getTypeOutputInfo(attr->atttypid, &outputFunctionId, &isVarlena);
		fmgr_info(outputFunctionId, &state->outputFunctions[attrIndex]);

		if (!firstColumn)
			appendStringInfoString(&columnList, ", ");
		firstColumn = false;
		appendStringInfoString(&columnList,
							   quote_identifier(NameStr(attr->attname)));
	}

	appendStringInfoChar(&columnList, ')');
	state->columnList = columnList.data;

	hashFunctionId = LookupHashSupportFunction(distAttr->atttypid);
	if (!OidIsValid(hashFunctionId))
		elog(ERROR, "data type %u has no hash function", distAttr->atttypid);
	fmgr_info(hashFunctionId, &state->hashFunction);
	state->distCollation = distAttr->attcollation;
}


/*
 * AppendRow appends one row in COPY text format: the copied columns,
 * separated by tabs, \N for NULL, ended by a newline.
 */
static void
AppendRow(RowMoveState *state, TupleTableSlot *slot, StringInfo buffer)
{
	TupleDesc	tupleDesc = RelationGetDescr(state->rel);
	bool		firstColumn = true;
	int			attrIndex;

	for (attrIndex = 0; attrIndex < tupleDesc->natts; attrIndex++)
	{
		if (!state->copiedColumns[attrIndex])
			continue;

		if (!firstColumn)
			appendStringInfoChar(buffer, '\t');
		firstColumn = false;

		if (slot->tts_isnull[attrIndex])
			appendStringInfoString(buffer, "\\N");
		else
			AppendCopyText(buffer,
						   OutputFunctionCall(&state->outputFunctions[attrIndex],
											  slot->tts_values[attrIndex]));
	}

	appendStringInfoChar(buffer, '\n');
}


/*
 * AppendCopyText appends a value escaped for COPY text format: backslash,
 * tab, newline and carriage return get a backslash escape.
 */
static void
AppendCopyText(StringInfo buffer, const char *value)
{
	const char *start = value;
	const char *cursor;

	for (cursor = value; *cursor != '\0'; cursor++)
	{
		char		escaped;

		switch (*cursor)
		{
			case '\\':
				escaped = '\\';
				break;
			case '\t':
				escaped = 't';
				break;
			case '\n':
				escaped = 'n';
				break;
			case '\r':
				escaped = 'r';
				break;
			default:
				continue;
		}

		appendBinaryStringInfo(buffer, start, cursor - start);
		appendStringInfoChar(buffer, '\\');
		appendStringInfoChar(buffer, escaped);
		start = cursor + 1;
	}

	appendBinaryStringInfo(buffer, start, cursor - start);
}


/*
 * FlushShardBuffer sends the buffered rows of one shard to every node
 * that holds a placement of it and empties the buffer.
 */
static void
FlushShardBuffer(RowMoveState *state, int shardIndex)
{
	ShardCopyDestination *destination = &state->destinations[shardIndex];
	StringInfo	buffer = state->buffers[shardIndex];
	char	   *copyCommand;
	ListCell   *cell;

	copyCommand = psprintf("COPY %s %s FROM STDIN", destination->shardName,
						   state->columnList);

	foreach(cell, destination->connections)
	{
		NodeConnection *connection = (NodeConnection *) lfirst(cell);

		StartRemoteCopy(connection, copyCommand);
		SendRemoteCopyData(connection, buffer->data, buffer->len);
		(void) FinishRemoteCopy(connection);
	}

	pfree(copyCommand);
	resetStringInfo(buffer);
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
		elog(ERROR, "SPI_connect failed");

	rc = SPI_execute(command, false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "could not run \"%s\": %s", command,
			 SPI_result_code_string(rc));

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");

	pfree(command);
}
