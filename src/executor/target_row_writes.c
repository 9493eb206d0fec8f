/*-------------------------------------------------------------------------
 *
 * target_row_writes.c
 *	  Running an UPDATE or DELETE on a distributed table through the
 *	  coordinator: its SELECT of the target rows, then the writes by ctid.
 *	  (Not named after planner/modify_via_coordinator.c: PGXS keeps one
 *	  dependency file per file name.)
 *
 * The SELECT (see planner/modify_via_coordinator.c) returns each target
 * row's distribution value, ctid and new values.  A row the SELECT returns
 * several times (a joined UPDATE row matching several FROM rows) is
 * written once, with the values of its first match, as PostgreSQL does.
 * The rows are gathered per shard into arrays, and each shard gets one
 * statement, all shards in parallel, in the statement's distributed
 * transaction (two-phase commit when several nodes are written):
 *
 *	UPDATE shard AS t SET a = v.c1, ... FROM unnest($1, $2, $3, ...)
 *		AS v(ctid, n, c1, ...) WHERE t.ctid = v.ctid ... [RETURNING v.n, t.*]
 *	DELETE FROM shard AS t USING unnest($1, $2) AS v(ctid, n)
 *		WHERE t.ctid = v.ctid ... [RETURNING v.n, t.*]
 *
 * A row whose distribution column changes to a value of another shard is
 * deleted from its shard and, once every shard has run its statement,
 * inserted whole into its new shard (INSERT ... SELECT * FROM unnest(...)).
 *
 * Between the SELECT and the write, a concurrent transaction may have
 * updated or deleted a row: its ctid then matches no row the shard's
 * statement can see (or, after waiting for the other transaction, its
 * recheck fails), so the shards write fewer rows than they were sent.  The
 * statement then fails with a serialization failure (40001), which rolls
 * back everything it wrote: never a partial write.
 *
 * XXX: the target rows are kept in memory (their ctids and new values)
 * until they are sent.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "tcop/dest.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "distdb/deparse.h"
#include "distdb/distributed_scan.h"
#include "distdb/metadata_cache.h"
#include "distdb/remote_command.h"
#include "distdb/shard_pruning.h"
#include "distdb/task_execution.h"

/*
 * The condition matching a shard's row with the ctid the SELECT found.  A
 * TID scan implements "t.ctid = v.ctid" but does not recheck it when the
 * row was updated concurrently and the statement goes on with the row's
 * new version (EvalPlanQual); the same comparison as text is an ordinary
 * filter, rechecked on the new version, whose ctid differs: the row is
 * then not written, and the row count shows it.
 */
#define CTID_MATCH \
	"t.ctid = v.ctid AND t.ctid::pg_catalog.text = v.ctid::pg_catalog.text"

/* the rows to write in one shard, as arrays of each column's values */
typedef struct ShardWrites
{
	int			updateCount;	/* rows updated in place */
	ArrayBuildState *updateCtids;
	ArrayBuildState *updateOrdinals;
	ArrayBuildState **updateValues; /* per written column */
	int			deleteCount;	/* rows deleted (DELETE, or moved away) */
	ArrayBuildState *deleteCtids;
	ArrayBuildState *deleteOrdinals;
	int			insertCount;	/* rows moved here */
	ArrayBuildState **insertValues; /* per written column */
} ShardWrites;

/* a target row already seen: its shard and ctid */
typedef struct SeenRowKey
{
	int32		shardIndex;
	ItemPointerData ctid;
} SeenRowKey;

/* the receiver of the SELECT's rows */
typedef struct TargetRowReceiver
{
	DestReceiver pub;
	DistributedPlan *plan;
	DistTableCacheEntry *entry;
	TupleDesc	relationDesc;	/* the target's */
	int			columnCount;	/* written columns (plan->modifyColumns) */
	int			distColumn;		/* index of the distribution column among
								 * them, or -1 */
	HTAB	   *seen;			/* SeenRowKey of every row taken */
	ShardWrites *shards;		/* per shard index */
	MemoryContext context;		/* the statement's */
	TupleDesc	selectDesc;		/* the SELECT's rows */
	bool		keepRows;		/* RETURNING needs the SELECT's rows */
	MinimalTuple *rows;			/* the SELECT row of each ordinal */
	bool	   *moved;			/* whether each changed shard */
	int			rowSpace;
	int			rowCount;		/* target rows taken */
} TargetRowReceiver;

/* appends a value to an array being built in the receiver's context */
static ArrayBuildState *
Accumulate(ArrayBuildState *state, Datum value, bool isNull, Oid type,
		   TargetRowReceiver *receiver)
{
	return accumArrayResult(state, value, isNull, type, receiver->context);
}

/* adds the written columns' values of the SELECT's row to arrays */
static void
AccumulateValues(ArrayBuildState **states, TupleTableSlot *slot,
				 TargetRowReceiver *receiver)
{
	int			i;

	for (i = 0; i < receiver->columnCount; i++)
	{
		AttrNumber	attno = list_nth_int(receiver->plan->modifyColumns, i);

		states[i] = Accumulate(states[i], slot->tts_values[2 + i],
							   slot->tts_isnull[2 + i],
							   TupleDescAttr(receiver->relationDesc,
											 attno - 1)->atttypid,
							   receiver);
	}
}

/*
 * TargetRowReceiveSlot takes a row of the SELECT: the target row's shard,
 * ctid and new values go to the arrays of the shards it is written in.
 */
static bool
TargetRowReceiveSlot(TupleTableSlot *slot, DestReceiver *self)
{
	TargetRowReceiver *receiver = (TargetRowReceiver *) self;
	DistTableCacheEntry *entry = receiver->entry;
	Oid			distType = TupleDescAttr(receiver->relationDesc,
										 entry->distAttnum - 1)->atttypid;
	SeenRowKey	key;
	bool		found;
	int			shardIndex;
	int			newShardIndex;
	int			ordinal;
	ShardWrites *shard;
	MemoryContext oldContext;

	CHECK_FOR_INTERRUPTS();
	slot_getallattrs(slot);
	if (slot->tts_isnull[0] || slot->tts_isnull[1])
		elog(ERROR, "target row without distribution value or ctid");
	shardIndex = ShardIndexForDatum(entry, slot->tts_values[0], distType);

	/* a row joined several times is written once, with its first match */
	memset(&key, 0, sizeof(key));
	key.shardIndex = shardIndex;
	ItemPointerCopy((ItemPointer) DatumGetPointer(slot->tts_values[1]), &key.ctid);
	hash_search(receiver->seen, &key, HASH_ENTER, &found);
	if (found)
		return true;

	newShardIndex = shardIndex;
	if (receiver->plan->movesRows)
	{
		int			column = 2 + receiver->distColumn;

		if (slot->tts_isnull[column])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("cannot set distribution column \"%s\" to null",
							NameStr(TupleDescAttr(receiver->relationDesc,
												  entry->distAttnum - 1)->attname))));
		newShardIndex = ShardIndexForDatum(entry, slot->tts_values[column],
										   distType);
	}

	oldContext = MemoryContextSwitchTo(receiver->context);
	ordinal = receiver->rowCount++;
	shard = &receiver->shards[shardIndex];
	if (receiver->plan->query->commandType == CMD_DELETE ||
		newShardIndex != shardIndex)
	{
		shard->deleteCount++;
		shard->deleteCtids = Accumulate(shard->deleteCtids,
										slot->tts_values[1], false, TIDOID,
										receiver);
		shard->deleteOrdinals = Accumulate(shard->deleteOrdinals,
										   Int32GetDatum(ordinal), false,
										   INT4OID, receiver);
	}
	else
	{
		shard->updateCount++;
		shard->updateCtids = Accumulate(shard->updateCtids,
										slot->tts_values[1], false, TIDOID,
										receiver);
		shard->updateOrdinals = Accumulate(shard->updateOrdinals,
										   Int32GetDatum(ordinal), false,
										   INT4OID, receiver);
		if (shard->updateValues == NULL)
			shard->updateValues = palloc0(sizeof(ArrayBuildState *) *
										  receiver->columnCount);
		AccumulateValues(shard->updateValues, slot, receiver);
	}
	if (newShardIndex != shardIndex)
	{
		ShardWrites *newShard = &receiver->shards[newShardIndex];

		newShard->insertCount++;
		if (newShard->insertValues == NULL)
			newShard->insertValues = palloc0(sizeof(ArrayBuildState *) *
											 receiver->columnCount);
		AccumulateValues(newShard->insertValues, slot, receiver);
	}

	if (receiver->keepRows)
	{
		if (receiver->rowCount > receiver->rowSpace)
		{
			receiver->rowSpace = Max(64, receiver->rowSpace * 2);
			receiver->rows = receiver->rows == NULL ?
				palloc(sizeof(MinimalTuple) * receiver->rowSpace) :
				repalloc(receiver->rows,
						 sizeof(MinimalTuple) * receiver->rowSpace);
			receiver->moved = receiver->moved == NULL ?
				palloc(sizeof(bool) * receiver->rowSpace) :
				repalloc(receiver->moved, sizeof(bool) * receiver->rowSpace);
		}
		receiver->rows[ordinal] = ExecCopySlotMinimalTuple(slot);
		receiver->moved[ordinal] = (newShardIndex != shardIndex);
	}
	MemoryContextSwitchTo(oldContext);
	return true;
}

static void
TargetRowStartup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	TargetRowReceiver *receiver = (TargetRowReceiver *) self;
	MemoryContext oldContext = MemoryContextSwitchTo(receiver->context);

	receiver->selectDesc = CreateTupleDescCopy(typeinfo);
	MemoryContextSwitchTo(oldContext);
}

static void
TargetRowShutdown(DestReceiver *self)
{
}

static void
TargetRowDestroy(DestReceiver *self)
{
}

/*
 * ArrayParam prints an array being built as a parameter value (an empty
 * array when no value was added), and its cast in the shard statement.
 */
static void
AddArrayParam(RemoteParams *params, ArrayBuildState *state, Oid elementType,
			  StringInfo sql)
{
	Oid			arrayType = get_array_type(elementType);
	Datum		array;
	Oid			outputFunction;
	bool		isVarlena;

	array = state != NULL ? makeArrayResult(state, CurrentMemoryContext) :
		PointerGetDatum(construct_empty_array(elementType));
	getTypeOutputInfo(arrayType, &outputFunction, &isVarlena);
	params->types[params->count] = InvalidOid;
	params->values[params->count] = OidOutputFunctionCall(outputFunction,
														  array);
	params->count++;
	appendStringInfo(sql, "%s$%d::%s", params->count > 1 ? ", " : "",
					 params->count, format_type_be_qualified(arrayType));
}

/* a RemoteParams with room for count values */
static RemoteParams *
MakeRemoteParams(int count)
{
	RemoteParams *params = palloc0(sizeof(RemoteParams));

	params->types = palloc0(sizeof(Oid) * count);
	params->values = palloc0(sizeof(char *) * count);
	return params;
}

/* appends ", t.col, ..." for every live column of the target */
static void
AppendTargetColumns(StringInfo sql, TupleDesc relationDesc,
					const char *prefix)
{
	int			i;

	for (i = 0; i < relationDesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(relationDesc, i);

		if (!attr->attisdropped)
			appendStringInfo(sql, ", %s%s", prefix,
							 quote_identifier(NameStr(attr->attname)));
	}
}

/*
 * ShardWriteTasks returns the tasks of one shard's UPDATE and DELETE
 * (first phase), or of its INSERT of the rows moved there (second phase).
 */
static List *
ShardWriteTasks(TargetRowReceiver *receiver, int shardIndex, bool inserts,
				bool returning)
{
	ShardWrites *shard = &receiver->shards[shardIndex];
	char	   *shardName = receiver->entry->shards[shardIndex].shardName;
	TupleDesc	relationDesc = receiver->relationDesc;
	List	   *columns = receiver->plan->modifyColumns;
	List	   *tasks = NIL;
	StringInfoData sql;
	RemoteParams *params;
	ListCell   *lc;

	if (inserts && shard->insertCount > 0)
	{
		initStringInfo(&sql);
		appendStringInfo(&sql, "INSERT INTO %s (", shardName);
		foreach(lc, columns)
			appendStringInfo(&sql, "%s%s",
							 foreach_current_index(lc) > 0 ? ", " : "",
							 quote_identifier(NameStr(TupleDescAttr(relationDesc,
																	lfirst_int(lc) - 1)->attname)));
		appendStringInfoString(&sql, ") SELECT * FROM unnest(");
		params = MakeRemoteParams(receiver->columnCount);
		foreach(lc, columns)
			AddArrayParam(params, shard->insertValues[foreach_current_index(lc)],
						  TupleDescAttr(relationDesc, lfirst_int(lc) - 1)->atttypid,
						  &sql);
		appendStringInfoChar(&sql, ')');
		tasks = ShardTasks(receiver->entry, shardIndex, sql.data, params,
						   false, true);
	}
	if (!inserts && shard->updateCount > 0)
	{
		initStringInfo(&sql);
		appendStringInfo(&sql, "UPDATE %s AS t SET ", shardName);
		foreach(lc, columns)
			appendStringInfo(&sql, "%s%s = v.c%d",
							 foreach_current_index(lc) > 0 ? ", " : "",
							 quote_identifier(NameStr(TupleDescAttr(relationDesc,
																	lfirst_int(lc) - 1)->attname)),
							 foreach_current_index(lc) + 1);
		appendStringInfoString(&sql, " FROM unnest(");
		params = MakeRemoteParams(2 + receiver->columnCount);
		AddArrayParam(params, shard->updateCtids, TIDOID, &sql);
		AddArrayParam(params, shard->updateOrdinals, INT4OID, &sql);
		foreach(lc, columns)
			AddArrayParam(params, shard->updateValues[foreach_current_index(lc)],
						  TupleDescAttr(relationDesc, lfirst_int(lc) - 1)->atttypid,
						  &sql);
		appendStringInfoString(&sql, ") AS v(ctid, n");
		foreach(lc, columns)
			appendStringInfo(&sql, ", c%d", foreach_current_index(lc) + 1);
		appendStringInfo(&sql, ") WHERE %s", CTID_MATCH);
		if (returning)
		{
			appendStringInfoString(&sql, " RETURNING v.n");
			AppendTargetColumns(&sql, relationDesc, "t.");
		}
		tasks = list_concat(tasks,
							ShardTasks(receiver->entry, shardIndex, sql.data,
									   params, false, true));
	}
	if (!inserts && shard->deleteCount > 0)
	{
		initStringInfo(&sql);
		appendStringInfo(&sql, "DELETE FROM %s AS t USING unnest(", shardName);
		params = MakeRemoteParams(2);
		AddArrayParam(params, shard->deleteCtids, TIDOID, &sql);
		AddArrayParam(params, shard->deleteOrdinals, INT4OID, &sql);
		appendStringInfo(&sql, ") AS v(ctid, n) WHERE %s", CTID_MATCH);
		if (returning && receiver->plan->query->commandType == CMD_DELETE)
		{
			appendStringInfoString(&sql, " RETURNING v.n");
			AppendTargetColumns(&sql, relationDesc, "t.");
		}
		tasks = list_concat(tasks,
							ShardTasks(receiver->entry, shardIndex, sql.data,
									   params, false, true));
	}
	return tasks;
}

/*
 * ReturnedRowDesc is the descriptor of the rows the shards return: the
 * ordinal, then the target's live columns.
 */
static TupleDesc
ReturnedRowDesc(TupleDesc relationDesc)
{
	int			live = 0;
	int			i;
	TupleDesc	desc;

	for (i = 0; i < relationDesc->natts; i++)
		live += TupleDescAttr(relationDesc, i)->attisdropped ? 0 : 1;
	desc = CreateTemplateTupleDesc(1 + live);
	TupleDescInitEntry(desc, 1, "n", INT4OID, -1, 0);
	live = 1;
	for (i = 0; i < relationDesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(relationDesc, i);

		if (attr->attisdropped)
			continue;
		live++;
		TupleDescInitEntry(desc, live, NameStr(attr->attname), attr->atttypid,
						   attr->atttypmod, 0);
		TupleDescInitEntryCollation(desc, live, attr->attcollation);
	}
	return desc;
}

/* computes RETURNING over the written rows and their SELECT rows */
typedef struct ReturningState
{
	TupleTableSlot *rowSlot;	/* target attributes, then other columns */
	TupleTableSlot *selectSlot; /* a row of the SELECT */
	ExprContext *econtext;
	List	   *exprStates;
	int			targetColumns;
} ReturningState;

/*
 * ReturnRow computes the RETURNING row of target row ordinal, whose new
 * (or deleted) attributes are in the row slot's first columns, and adds
 * it to returned.
 */
static void
ReturnRow(ReturningState *state, TargetRowReceiver *receiver, int ordinal,
		  TupleTableSlot *outputSlot, Tuplestorestate *returned)
{
	TupleTableSlot *rowSlot = state->rowSlot;
	int			firstOther = 2 + receiver->columnCount;
	int			i;
	ListCell   *lc;

	ExecStoreMinimalTuple(receiver->rows[ordinal], state->selectSlot, false);
	slot_getallattrs(state->selectSlot);
	for (i = firstOther; i < receiver->selectDesc->natts; i++)
	{
		rowSlot->tts_values[state->targetColumns + i - firstOther] =
			state->selectSlot->tts_values[i];
		rowSlot->tts_isnull[state->targetColumns + i - firstOther] =
			state->selectSlot->tts_isnull[i];
	}
	ExecStoreVirtualTuple(rowSlot);

	ExecClearTuple(outputSlot);
	state->econtext->ecxt_scantuple = rowSlot;
	foreach(lc, state->exprStates)
	{
		int			column = foreach_current_index(lc);

		outputSlot->tts_values[column] =
			ExecEvalExpr(lfirst(lc), state->econtext,
						 &outputSlot->tts_isnull[column]);
	}
	ExecStoreVirtualTuple(outputSlot);
	tuplestore_puttupleslot(returned, outputSlot);
	ResetExprContext(state->econtext);
}

/* the target attributes of a moved row: its new values from the SELECT */
static void
StoreMovedRow(ReturningState *state, TargetRowReceiver *receiver,
			  int ordinal)
{
	ListCell   *lc;

	ExecStoreMinimalTuple(receiver->rows[ordinal], state->selectSlot, false);
	slot_getallattrs(state->selectSlot);
	ExecClearTuple(state->rowSlot);
	memset(state->rowSlot->tts_isnull, true,
		   sizeof(bool) * state->rowSlot->tts_tupleDescriptor->natts);
	foreach(lc, receiver->plan->modifyColumns)
	{
		int			attno = lfirst_int(lc);

		state->rowSlot->tts_values[attno - 1] =
			state->selectSlot->tts_values[2 + foreach_current_index(lc)];
		state->rowSlot->tts_isnull[attno - 1] =
			state->selectSlot->tts_isnull[2 + foreach_current_index(lc)];
	}
}

/*
 * RunWrites runs write tasks in the distributed transaction, computes
 * RETURNING for the rows they return, and fails with a serialization
 * failure when they wrote fewer rows than they were sent.
 */
static void
RunWrites(List *tasks, uint64 expected, TargetRowReceiver *receiver,
		  ReturningState *returning, TupleTableSlot *outputSlot,
		  Tuplestorestate *returned, EState *estate)
{
	TupleDesc	returnedDesc = returning != NULL ?
		ReturnedRowDesc(receiver->relationDesc) : CreateTemplateTupleDesc(0);
	TaskExecution *execution;
	TupleTableSlot *slot;

	if (tasks == NIL)
		return;
	execution = CreateTaskExecution(tasks, true, returning != NULL,
									returnedDesc);
	execution->inTransaction = true;
	slot = MakeSingleTupleTableSlot(returnedDesc, &TTSOpsVirtual);
	while (TaskExecutionNextTuple(execution, slot))
	{
		int			ordinal;
		int			i;
		int			live = 1;

		if (returning == NULL)
			continue;
		slot_getallattrs(slot);
		ordinal = DatumGetInt32(slot->tts_values[0]);
		ExecClearTuple(returning->rowSlot);
		for (i = 0; i < receiver->relationDesc->natts; i++)
		{
			if (TupleDescAttr(receiver->relationDesc, i)->attisdropped)
			{
				returning->rowSlot->tts_isnull[i] = true;
				continue;
			}
			returning->rowSlot->tts_values[i] = slot->tts_values[live];
			returning->rowSlot->tts_isnull[i] = slot->tts_isnull[live];
			live++;
		}
		ReturnRow(returning, receiver, ordinal, outputSlot, returned);
	}
	if (execution->rowsProcessed < expected)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update"),
				 errdetail("A row this %s selected on the coordinator changed on its shard before it was written.",
						   receiver->plan->query->commandType == CMD_UPDATE ?
						   "UPDATE" : "DELETE")));
	FinishTaskExecution(execution);
	ExecDropSingleTupleTableSlot(slot);
}

/*
 * ExecuteModifyViaCoordinator runs an UPDATE or DELETE planned by
 * PlanModifyViaCoordinator and returns the number of rows it changed;
 * RETURNING rows (slot has their descriptor) go to returned.
 */
uint64
ExecuteModifyViaCoordinator(DistributedPlan *plan, EState *estate,
							TupleTableSlot *slot, Tuplestorestate *returned)
{
	DistTableCacheEntry *entry = LookupDistTable(plan->relid);
	Relation	relation;
	TargetRowReceiver receiver;
	HASHCTL		hashControl;
	ReturningState returningState;
	ReturningState *returning = NULL;
	List	   *tasks = NIL;
	uint64		expected = 0;
	uint64		inserted = 0;
	int			shardIndex;
	int			nestLevel;
	ListCell   *lc;

	if (entry == NULL || IsReferenceTableEntry(entry))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation %u is no longer distributed", plan->relid)));

	/*
	 * A row that moves to another shard is deleted from its shard and
	 * inserted into the other, which the nodes allow only with the DELETE
	 * and INSERT privileges: check them first, so that nothing is sent.
	 */
	if (plan->movesRows &&
		pg_class_aclmask(plan->relid, GetUserId(), ACL_INSERT | ACL_DELETE,
						 ACLMASK_ALL) != (ACL_INSERT | ACL_DELETE))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s",
						get_rel_name(plan->relid)),
				 errdetail("Changing the distribution column moves rows to other shards, which needs the DELETE and INSERT privileges on the table too.")));

	/* the executor locked the table when it started */
	relation = relation_open(plan->relid, NoLock);

	memset(&receiver, 0, sizeof(receiver));
	receiver.pub.receiveSlot = TargetRowReceiveSlot;
	receiver.pub.rStartup = TargetRowStartup;
	receiver.pub.rShutdown = TargetRowShutdown;
	receiver.pub.rDestroy = TargetRowDestroy;
	receiver.pub.mydest = DestNone;
	receiver.plan = plan;
	receiver.entry = entry;
	receiver.relationDesc = RelationGetDescr(relation);
	receiver.columnCount = list_length(plan->modifyColumns);
	receiver.distColumn = -1;
	foreach(lc, plan->modifyColumns)
	{
		if (lfirst_int(lc) == entry->distAttnum)
			receiver.distColumn = foreach_current_index(lc);
	}
	receiver.shards = palloc0(sizeof(ShardWrites) * entry->shardCount);
	receiver.context = CurrentMemoryContext;
	receiver.keepRows = plan->expectsRows;
	memset(&hashControl, 0, sizeof(hashControl));
	hashControl.keysize = sizeof(SeenRowKey);
	hashControl.entrysize = sizeof(SeenRowKey);
	hashControl.hcxt = CurrentMemoryContext;
	receiver.seen = hash_create("distdb target rows", 1024, &hashControl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	/* 1. the target rows, in the statement's snapshot */
	RunPlannedStatement(plan->selectPlan, "target rows", estate->es_snapshot,
						estate, (DestReceiver *) &receiver, 0, NULL);

	if (plan->expectsRows)
	{
		int			columnCount = receiver.relationDesc->natts +
			receiver.selectDesc->natts - 2 - receiver.columnCount;
		TupleDesc	rowDesc = CreateTemplateTupleDesc(columnCount);
		int			i;

		for (i = 0; i < receiver.relationDesc->natts; i++)
			TupleDescCopyEntry(rowDesc, i + 1, receiver.relationDesc, i + 1);
		for (; i < columnCount; i++)
			TupleDescCopyEntry(rowDesc, i + 1, receiver.selectDesc,
							   i - receiver.relationDesc->natts + 3 +
							   receiver.columnCount);
		returning = &returningState;
		returning->targetColumns = receiver.relationDesc->natts;
		returning->rowSlot = MakeSingleTupleTableSlot(rowDesc, &TTSOpsVirtual);
		returning->selectSlot = MakeSingleTupleTableSlot(receiver.selectDesc,
														 &TTSOpsMinimalTuple);
		returning->econtext = CreateExprContext(estate);
		returning->exprStates = NIL;
		foreach(lc, plan->query->returningList)
		{
			TargetEntry *tle = lfirst(lc);

			if (!tle->resjunk)
				returning->exprStates = lappend(returning->exprStates,
												ExecInitExpr(tle->expr, NULL));
		}
	}

	/* 2. each shard's UPDATE and DELETE, in parallel */
	nestLevel = PushDeparseSettings();
	for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
	{
		ShardWrites *shard = &receiver.shards[shardIndex];

		expected += shard->updateCount + shard->deleteCount;
		inserted += shard->insertCount;
		tasks = list_concat(tasks, ShardWriteTasks(&receiver, shardIndex,
												   false, returning != NULL));
	}
	PopDeparseSettings(nestLevel);
	RunWrites(tasks, expected, &receiver, returning, slot, returned, estate);

	/* 3. the rows that changed shard, into their new shards */
	if (inserted > 0)
	{
		tasks = NIL;
		nestLevel = PushDeparseSettings();
		for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
			tasks = list_concat(tasks, ShardWriteTasks(&receiver, shardIndex,
													   true, false));
		PopDeparseSettings(nestLevel);
		RunWrites(tasks, inserted, &receiver, NULL, slot, returned, estate);
	}

	/* moved rows return the values they were inserted with */
	if (returning != NULL && inserted > 0)
	{
		int			ordinal;

		for (ordinal = 0; ordinal < receiver.rowCount; ordinal++)
		{
			if (!receiver.moved[ordinal])
				continue;
			StoreMovedRow(returning, &receiver, ordinal);
			ReturnRow(returning, &receiver, ordinal, slot, returned);
		}
	}
	relation_close(relation, NoLock);
	return receiver.rowCount;
}
