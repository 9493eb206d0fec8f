/*-------------------------------------------------------------------------
 *
 * shard_insert_batches.c
 *	  Sends rows to their shards as batched multi-row INSERT ... VALUES
 *	  statements, for INSERT ... SELECT through the coordinator with ON
 *	  CONFLICT or RETURNING, which COPY cannot do.
 *
 * Each row's values (the INSERT's target list, evaluated on the
 * coordinator) are printed as text parameters into the batch of the shard
 * the row goes to.  When a batch is full -- distdb.copy_batch_size bytes of
 * values or MAX_INSERT_PARAMS parameters -- the caller flushes: every shard
 * with rows gets one INSERT INTO shard ... VALUES ($1, ...), ... with the
 * statement's ON CONFLICT and RETURNING clauses (DeparseShardInsert, as for
 * INSERT ... VALUES), all shards in parallel, and the RETURNING rows go to
 * a tuplestore.  Memory stays bounded by shard count x batch size.
 *
 * Every batch after the first is a separate command on its node, so the
 * remote transactions are opened before the first of several flushes: the
 * statement stays all or nothing.  A single flush is one task execution,
 * which decides itself (a single-shard write may autocommit).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "distdb/deparse.h"
#include "distdb/distdb.h"
#include "distdb/distributed_scan.h"
#include "distdb/remote_command.h"
#include "distdb/shard_copy.h"
#include "distdb/shard_insert_batches.h"
#include "distdb/task_execution.h"

/* the libpq protocol's limit on the parameters of one statement */
#define MAX_STATEMENT_PARAMS 65535

struct ShardInsertBatches
{
	DistributedPlan *plan;
	DistTableCacheEntry *entry;
	MemoryContext batchContext; /* the pending rows' values, reset per
								 * flush */
	List	   *columnTypes;	/* Oid of each value of a row */
	FmgrInfo   *outputFunctions;	/* per value of a row */
	int			columnCount;
	RemoteParams *prefixParams;	/* ON CONFLICT's, or NULL */
	int			prefixCount;
	List	  **shardValues;	/* per shard: char *, row after row */
	int		   *shardRows;		/* per shard: rows pending */
	Size	   *shardBytes;		/* per shard: bytes of values pending */
	bool		transactionsOpen;	/* remote transactions opened */
	TupleTableSlot *returnSlot; /* of the RETURNING rows */
	Tuplestorestate *returned;	/* where RETURNING rows go, or NULL */
	uint64		rowCount;		/* rows the shards inserted or updated */
};

/*
 * CreateShardInsertBatches prepares batches for the rows of an INSERT
 * (plan->query) into the table of entry.  RETURNING rows are stored into
 * returned, through returnSlot (whose descriptor they have).
 */
ShardInsertBatches *
CreateShardInsertBatches(DistributedPlan *plan, DistTableCacheEntry *entry,
						 EState *estate, TupleTableSlot *returnSlot,
						 Tuplestorestate *returned)
{
	ShardInsertBatches *batches = palloc0(sizeof(ShardInsertBatches));
	ListCell   *lc;
	int			column = 0;

	batches->plan = plan;
	batches->entry = entry;
	batches->batchContext = AllocSetContextCreate(CurrentMemoryContext,
												  "distdb shard insert batches",
												  ALLOCSET_DEFAULT_SIZES);
	foreach(lc, plan->query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (!tle->resjunk)
			batches->columnTypes = lappend_oid(batches->columnTypes,
											   exprType((Node *) tle->expr));
	}
	batches->columnCount = list_length(batches->columnTypes);
	batches->outputFunctions = palloc0(sizeof(FmgrInfo) *
									   Max(batches->columnCount, 1));
	foreach(lc, batches->columnTypes)
	{
		Oid			outputFunction;
		bool		isVarlena;

		getTypeOutputInfo(lfirst_oid(lc), &outputFunction, &isVarlena);
		fmgr_info(outputFunction, &batches->outputFunctions[column++]);
	}

	/* DO UPDATE's coordinator values, evaluated once for the statement */
	if (plan->query->onConflict != NULL)
		batches->prefixParams = BuildRemoteParams(plan, estate);
	batches->prefixCount = batches->prefixParams ?
		batches->prefixParams->count : 0;

	batches->shardValues = palloc0(sizeof(List *) * entry->shardCount);
	batches->shardRows = palloc0(sizeof(int) * entry->shardCount);
	batches->shardBytes = palloc0(sizeof(Size) * entry->shardCount);
	batches->returnSlot = returnSlot;
	batches->returned = returned;
	return batches;
}

/*
 * AddShardInsertRow adds a row (values and nulls of each non-junk target
 * list entry, in order) to the batch of a shard and returns true when that
 * batch is full: the caller should then flush before adding more rows
 * (the caller may add rows past that; up to the protocol's limit on
 * parameters, past which it raises an error).  Values are printed under
 * the caller's settings (see PushDeparseSettings).
 */
bool
AddShardInsertRow(ShardInsertBatches *batches, int shardIndex,
				  Datum *values, bool *nulls)
{
	MemoryContext oldContext;
	int			column;

	Assert(shardIndex >= 0 && shardIndex < batches->entry->shardCount);
	if (batches->prefixCount +
		(batches->shardRows[shardIndex] + 1) * batches->columnCount >
		MAX_STATEMENT_PARAMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many rows with the same conflict key in INSERT ... SELECT ... ON CONFLICT DO UPDATE on table \"%s\"",
						get_rel_name(batches->entry->relid)),
				 errdetail("Rows with equal conflict keys are sent to their shard in one statement of at most %d values.",
						   MAX_STATEMENT_PARAMS)));

	/* the values and the output functions' garbage live until the flush */
	oldContext = MemoryContextSwitchTo(batches->batchContext);
	for (column = 0; column < batches->columnCount; column++)
	{
		char	   *text = NULL;

		if (!nulls[column])
		{
			text = OutputFunctionCall(&batches->outputFunctions[column],
									  values[column]);
			batches->shardBytes[shardIndex] += strlen(text);
		}
		batches->shardValues[shardIndex] =
			lappend(batches->shardValues[shardIndex], text);
	}
	MemoryContextSwitchTo(oldContext);
	batches->shardRows[shardIndex]++;

	return batches->shardBytes[shardIndex] >= DistdbCopyBatchBytes ||
		batches->prefixCount +
		(batches->shardRows[shardIndex] + 1) * batches->columnCount >
		MAX_INSERT_PARAMS;
}

/*
 * FlushShardInsertBatches sends every shard's pending rows as one INSERT
 * each, all shards in parallel, waits for them and keeps their RETURNING
 * rows.  last says no rows follow: a single flush of the statement then
 * needs no remote transaction opened beforehand.
 */
void
FlushShardInsertBatches(ShardInsertBatches *batches, bool last)
{
	DistTableCacheEntry *entry = batches->entry;
	MemoryContext oldContext;
	TaskExecution *execution;
	List	   *tasks = NIL;
	int			shardIndex;
	int			nestLevel;

	CHECK_FOR_INTERRUPTS();
	if (!last && !batches->transactionsOpen)
	{
		/* this is one of several commands on each node: all or nothing */
		ReleaseShardCopyDestinations(ClaimShardCopyDestinations(entry),
									 entry->shardCount);
		batches->transactionsOpen = true;
	}

	oldContext = MemoryContextSwitchTo(batches->batchContext);
	nestLevel = PushDeparseSettings();
	for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
	{
		if (batches->shardRows[shardIndex] == 0)
			continue;
		tasks = list_concat(tasks,
							ShardInsertTasks(batches->plan->query, entry,
											 shardIndex, batches->prefixParams,
											 batches->columnTypes,
											 batches->shardValues[shardIndex],
											 0, batches->shardRows[shardIndex],
											 false));
	}
	PopDeparseSettings(nestLevel);

	if (tasks != NIL)
	{
		execution = CreateTaskExecution(tasks, true,
										batches->plan->expectsRows,
										batches->returnSlot->tts_tupleDescriptor);
		while (TaskExecutionNextTuple(execution, batches->returnSlot))
		{
			if (batches->returned != NULL)
				tuplestore_puttupleslot(batches->returned,
										batches->returnSlot);
		}
		batches->rowCount += execution->rowsProcessed;
		FinishTaskExecution(execution);
	}
	MemoryContextSwitchTo(oldContext);

	MemoryContextReset(batches->batchContext);
	for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
	{
		batches->shardValues[shardIndex] = NIL;
		batches->shardRows[shardIndex] = 0;
		batches->shardBytes[shardIndex] = 0;
	}
}

/* ShardInsertBatchesRowCount: the rows inserted or updated so far */
uint64
ShardInsertBatchesRowCount(ShardInsertBatches *batches)
{
	return batches->rowCount;
}
