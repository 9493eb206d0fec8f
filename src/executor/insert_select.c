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
 * atomic.
 *
 * Batches go out while the SELECT still runs, and the shards see them at
 * once: a part of the SELECT that starts reading the target table only then
 * (the second branch of a UNION ALL, a subquery evaluated for some rows
 * only) would see rows of the statement itself, which PostgreSQL's SELECT
 * never does.  So when the SELECT reads the target table anywhere, its
 * rows are all computed into a tuplestore (spilling to disk) before the
 * first one is sent.
 *
 * With ON CONFLICT or RETURNING the rows go as batched multi-row INSERTs
 * instead (shard_insert_batches.c).  ON CONFLICT DO UPDATE must fail when
 * it would affect a row twice, which each shard detects only within one
 * statement: the rows are then sorted by their conflict key (in the
 * arbiter index's order, ties in the SELECT's order) and a batch ends only
 * where the key changes, so that all rows with equal keys -- which go to
 * the same shard, the key including the distribution column -- reach it in
 * the same statement, in the SELECT's order, and PostgreSQL's own check
 * applies there.  The sort spills to disk like any other, so memory stays
 * bounded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/table.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "executor/executor.h"
#include "executor/tstoreReceiver.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "tcop/dest.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/tuplesort.h"
#include "utils/tuplestore.h"

#include "distdb/connection_cache.h"
#include "distdb/deparse.h"
#include "distdb/distributed_scan.h"
#include "distdb/metadata_cache.h"
#include "distdb/remote_transaction.h"
#include "distdb/shard_copy.h"
#include "distdb/shard_insert_batches.h"
#include "distdb/shard_pruning.h"

/*
 * The order of rows by their ON CONFLICT DO UPDATE conflict key: the sort
 * keys (the arbiter index's columns, then the row's position in the
 * SELECT's output) over rows of the INSERT's values followed by that
 * position.
 */
typedef struct ConflictKeyOrder
{
	int			keyCount;		/* key columns, not counting the position */
	AttrNumber *sortColumns;	/* keyCount + 1, in the row */
	Oid		   *sortOperators;
	Oid		   *collations;
	bool	   *nullsFirst;
	FmgrInfo   *compareFunctions;	/* btree comparison of each key column */
	bool		nullsNotDistinct;	/* NULL keys conflict too */
} ConflictKeyOrder;

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

	/* ON CONFLICT or RETURNING: rows go as INSERTs, not COPY */
	ShardInsertBatches *batches;
	int			columnCount;	/* non-junk target list entries */
	AttrNumber *columnAttnos;	/* the attribute of each */
	int			distColumn;		/* index of the distribution column's, or
								 * -1 */
	Datum	   *columnValues;	/* columnCount + 1: the position last */
	bool	   *columnNulls;

	/* ON CONFLICT DO UPDATE: rows sorted by their conflict key first */
	ConflictKeyOrder *keyOrder;
	Tuplesortstate *sort;
	TupleTableSlot *sortSlot;	/* a row to sort */
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

/*
 * AddRowToBatches passes the row just computed to the INSERT batches: into
 * the sort first when rows are sent in conflict key order, else straight
 * into its shard's batch, flushing the batches when one is full.
 */
static void
AddRowToBatches(InsertSelectReceiver *receiver, int shardIndex)
{
	int			column;
	bool		full;

	for (column = 0; column < receiver->columnCount; column++)
	{
		AttrNumber	attno = receiver->columnAttnos[column];

		receiver->columnValues[column] = receiver->values[attno - 1];
		receiver->columnNulls[column] = receiver->nulls[attno - 1];
	}

	if (receiver->sort != NULL)
	{
		TupleTableSlot *slot = receiver->sortSlot;

		ExecClearTuple(slot);
		memcpy(slot->tts_values, receiver->columnValues,
			   sizeof(Datum) * receiver->columnCount);
		memcpy(slot->tts_isnull, receiver->columnNulls,
			   sizeof(bool) * receiver->columnCount);
		slot->tts_values[receiver->columnCount] =
			Int64GetDatum((int64) receiver->rowCount);
		slot->tts_isnull[receiver->columnCount] = false;
		ExecStoreVirtualTuple(slot);
		tuplesort_puttupleslot(receiver->sort, slot);
		return;
	}

	if (receiver->switchSettings)
	{
		int			nestLevel = PushDeparseSettings();

		full = AddShardInsertRow(receiver->batches, shardIndex,
								 receiver->columnValues,
								 receiver->columnNulls);
		PopDeparseSettings(nestLevel);
	}
	else
		full = AddShardInsertRow(receiver->batches, shardIndex,
								 receiver->columnValues,
								 receiver->columnNulls);
	if (full)
		FlushShardInsertBatches(receiver->batches, false);
}

/*
 * SameConflictKey: whether two sorted rows have equal conflict keys, by
 * the arbiter index's comparison (NULLs are distinct unless the index says
 * NULLS NOT DISTINCT).
 */
static bool
SameConflictKey(ConflictKeyOrder *order, TupleTableSlot *a, TupleTableSlot *b)
{
	int			key;

	for (key = 0; key < order->keyCount; key++)
	{
		int			column = order->sortColumns[key] - 1;
		bool		aNull = a->tts_isnull[column];
		bool		bNull = b->tts_isnull[column];

		if (aNull || bNull)
		{
			if (aNull && bNull && order->nullsNotDistinct)
				continue;
			return false;
		}
		if (DatumGetInt32(FunctionCall2Coll(&order->compareFunctions[key],
											order->collations[key],
											a->tts_values[column],
											b->tts_values[column])) != 0)
			return false;
	}
	return true;
}

/*
 * SendSortedRows sends the sorted rows to their shards in batches that end
 * only where the conflict key changes (see the file header).
 */
static void
SendSortedRows(InsertSelectReceiver *receiver)
{
	DistTableCacheEntry *entry = receiver->entry;
	TupleDesc	rowDesc = receiver->sortSlot->tts_tupleDescriptor;
	TupleTableSlot *slots[2];
	TupleTableSlot *previous = NULL;
	bool		batchFull = false;
	int			nestLevel = 0;
	int			next = 0;

	slots[0] = MakeSingleTupleTableSlot(rowDesc, &TTSOpsMinimalTuple);
	slots[1] = MakeSingleTupleTableSlot(rowDesc, &TTSOpsMinimalTuple);
	tuplesort_performsort(receiver->sort);
	if (receiver->switchSettings)
		nestLevel = PushDeparseSettings();
	for (;;)
	{
		TupleTableSlot *slot = slots[next];
		int			shardIndex = 0; /* a reference table's only shard */

		CHECK_FOR_INTERRUPTS();
		if (!tuplesort_gettupleslot(receiver->sort, true, true, slot, NULL))
			break;
		slot_getallattrs(slot);
		if (batchFull && !SameConflictKey(receiver->keyOrder, previous, slot))
		{
			FlushShardInsertBatches(receiver->batches, false);
			batchFull = false;
		}
		if (!IsReferenceTableEntry(entry))
			shardIndex = ShardIndexForDatum(entry,
											slot->tts_values[receiver->distColumn],
											entry->distType);
		if (AddShardInsertRow(receiver->batches, shardIndex,
							  slot->tts_values, slot->tts_isnull))
			batchFull = true;

		/* the row stays in its slot while the next one is read */
		previous = slot;
		next = 1 - next;
	}
	if (receiver->switchSettings)
		PopDeparseSettings(nestLevel);
	tuplesort_end(receiver->sort);
	receiver->sort = NULL;
	ExecDropSingleTupleTableSlot(slots[0]);
	ExecDropSingleTupleTableSlot(slots[1]);
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

	if (receiver->batches != NULL)
	{
		AddRowToBatches(receiver, shardIndex);
		receiver->rowCount++;
		return true;
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
 * IndexMatchesConflictTarget: whether a unique index on plain columns is
 * one ON CONFLICT (columns) may use as arbiter: the same set of columns,
 * and the operator classes and collations the conflict target names.
 */
static bool
IndexMatchesConflictTarget(Relation index, OnConflictExpr *onConflict,
						   Bitmapset *targetColumns)
{
	Form_pg_index form = index->rd_index;
	Bitmapset  *indexColumns = NULL;
	ListCell   *lc;
	int			key;

	for (key = 0; key < form->indnkeyatts; key++)
		indexColumns = bms_add_member(indexColumns, form->indkey.values[key]);
	if (!bms_equal(indexColumns, targetColumns))
		return false;
	foreach(lc, onConflict->arbiterElems)
	{
		InferenceElem *elem = lfirst(lc);
		AttrNumber	attno = ((Var *) elem->expr)->varattno;

		for (key = 0; key < form->indnkeyatts; key++)
		{
			if (form->indkey.values[key] != attno)
				continue;
			if (OidIsValid(elem->inferopclass) &&
				(get_opclass_family(elem->inferopclass) !=
				 index->rd_opfamily[key] ||
				 get_opclass_input_type(elem->inferopclass) !=
				 index->rd_opcintype[key]))
				return false;
			if (OidIsValid(elem->infercollid) &&
				elem->infercollid != index->rd_indcollation[key])
				return false;
		}
	}
	return true;
}

/*
 * BuildConflictKeyOrder returns the order in which the rows of an INSERT
 * ... ON CONFLICT DO UPDATE are sent so that rows with equal conflict keys
 * go together: by the key columns of the arbiter indexes, compared as
 * those indexes compare them.  columnAttnos[i] is the attribute of value i
 * of a row (columnCount of them, then the row's position).  Returns NULL
 * when no index matches (the shards then refuse the statement).
 */
static ConflictKeyOrder *
BuildConflictKeyOrder(Relation relation, OnConflictExpr *onConflict,
					  AttrNumber *columnAttnos, int columnCount)
{
	int			natts = RelationGetDescr(relation)->natts;
	Oid		   *families = palloc0(sizeof(Oid) * natts);
	Oid		   *inputTypes = palloc0(sizeof(Oid) * natts);
	Oid		   *collations = palloc0(sizeof(Oid) * natts);
	Bitmapset  *targetColumns = NULL;
	List	   *indexIds;
	ConflictKeyOrder *order;
	bool		found = false;
	bool		nullsNotDistinct = false;
	ListCell   *lc;
	int			column;
	int			key;

	if (OidIsValid(onConflict->constraint))
		indexIds = list_make1_oid(get_constraint_index(onConflict->constraint));
	else
	{
		foreach(lc, onConflict->arbiterElems)
		{
			InferenceElem *elem = lfirst(lc);
			Var		   *var = (Var *) elem->expr;

			if (!IsA(var, Var) || var->varlevelsup != 0 || var->varattno <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot use expressions in the conflict target of INSERT ... SELECT ... ON CONFLICT DO UPDATE on distributed table \"%s\"",
								RelationGetRelationName(relation)),
						 errdetail("Rows the coordinator sends must be grouped by their conflict key, which may consist of columns only.")));
			targetColumns = bms_add_member(targetColumns, var->varattno);
		}
		indexIds = RelationGetIndexList(relation);
	}

	foreach(lc, indexIds)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index form = index->rd_index;
		bool		matches = form->indisunique &&
			RelationGetIndexExpressions(index) == NIL;

		if (matches && !OidIsValid(onConflict->constraint))
			matches = IndexMatchesConflictTarget(index, onConflict,
												 targetColumns);
		for (key = 0; matches && key < form->indnkeyatts; key++)
		{
			int			attIndex = form->indkey.values[key] - 1;

			if (OidIsValid(families[attIndex]) &&
				(families[attIndex] != index->rd_opfamily[key] ||
				 collations[attIndex] != index->rd_indcollation[key]))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot use INSERT ... SELECT ... ON CONFLICT DO UPDATE on distributed table \"%s\" with arbiter indexes that compare their columns differently",
								RelationGetRelationName(relation)),
						 errhint("Name the operator class and collation in the conflict target, or ON CONSTRAINT.")));
			families[attIndex] = index->rd_opfamily[key];
			inputTypes[attIndex] = index->rd_opcintype[key];
			collations[attIndex] = index->rd_indcollation[key];
		}
		if (matches)
		{
			found = true;
			nullsNotDistinct |= form->indnullsnotdistinct;
		}
		index_close(index, AccessShareLock);
	}
	if (!found)
		return NULL;

	/* key columns the INSERT gives no value are NULL in every row: left out */
	order = palloc0(sizeof(ConflictKeyOrder));
	order->sortColumns = palloc0(sizeof(AttrNumber) * (columnCount + 1));
	order->sortOperators = palloc0(sizeof(Oid) * (columnCount + 1));
	order->collations = palloc0(sizeof(Oid) * (columnCount + 1));
	order->nullsFirst = palloc0(sizeof(bool) * (columnCount + 1));
	order->compareFunctions = palloc0(sizeof(FmgrInfo) * (columnCount + 1));
	order->nullsNotDistinct = nullsNotDistinct;
	for (column = 0; column < columnCount; column++)
	{
		int			attIndex = columnAttnos[column] - 1;
		Oid			type = inputTypes[attIndex];

		if (!OidIsValid(families[attIndex]))
			continue;
		key = order->keyCount++;
		order->sortColumns[key] = column + 1;
		order->sortOperators[key] =
			get_opfamily_member(families[attIndex], type, type,
								BTLessStrategyNumber);
		order->collations[key] = collations[attIndex];
		fmgr_info(get_opfamily_proc(families[attIndex], type, type,
									BTORDER_PROC),
				  &order->compareFunctions[key]);
		if (!OidIsValid(order->sortOperators[key]))
			elog(ERROR, "missing operator in operator family %u",
				 families[attIndex]);
	}

	/* ties in the SELECT's order */
	order->sortColumns[order->keyCount] = columnCount + 1;
	order->sortOperators[order->keyCount] = Int8LessOperator;
	return order;
}

/*
 * PrepareInsertBatches sets the receiver up for sending rows as INSERTs
 * (ON CONFLICT or RETURNING), in conflict key order for DO UPDATE.
 */
static void
PrepareInsertBatches(InsertSelectReceiver *receiver, DistributedPlan *plan,
					 EState *estate, Relation relation, TupleTableSlot *slot,
					 Tuplestorestate *returned)
{
	Query	   *query = plan->query;
	OnConflictExpr *onConflict = query->onConflict;
	ListCell   *lc;
	TupleDesc	rowDesc;
	int			column = 0;

	receiver->columnAttnos = palloc0(sizeof(AttrNumber) *
									 (list_length(query->targetList) + 1));
	receiver->distColumn = -1;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		if (tle->resno == receiver->entry->distAttnum &&
			!IsReferenceTableEntry(receiver->entry))
			receiver->distColumn = column;
		receiver->columnAttnos[column++] = tle->resno;
	}
	receiver->columnCount = column;
	receiver->columnValues = palloc0(sizeof(Datum) * (column + 1));
	receiver->columnNulls = palloc0(sizeof(bool) * (column + 1));
	receiver->batches = CreateShardInsertBatches(plan, receiver->entry, estate,
												 slot, returned);

	if (onConflict == NULL || onConflict->action != ONCONFLICT_UPDATE)
		return;
	receiver->keyOrder = BuildConflictKeyOrder(relation, onConflict,
											   receiver->columnAttnos,
											   receiver->columnCount);
	if (receiver->keyOrder == NULL)
		return;

	/* a row to sort: the INSERT's values, then the position */
	rowDesc = CreateTemplateTupleDesc(receiver->columnCount + 1);
	column = 0;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		column++;
		TupleDescInitEntry(rowDesc, column, NULL,
						   exprType((Node *) tle->expr),
						   exprTypmod((Node *) tle->expr), 0);
	}
	TupleDescInitEntry(rowDesc, column + 1, NULL, INT8OID, -1, 0);
	receiver->sortSlot = MakeSingleTupleTableSlot(rowDesc, &TTSOpsVirtual);
	receiver->sort = tuplesort_begin_heap(rowDesc,
										  receiver->keyOrder->keyCount + 1,
										  receiver->keyOrder->sortColumns,
										  receiver->keyOrder->sortOperators,
										  receiver->keyOrder->collations,
										  receiver->keyOrder->nullsFirst,
										  work_mem, NULL, TUPLESORT_NONE);
}

/*
 * RunSelect runs the INSERT's SELECT, sending its rows to dest, and
 * returns (a copy of) the descriptor of its rows.
 */
static TupleDesc
RunSelect(DistributedPlan *plan, EState *estate, DestReceiver *dest)
{
	TupleDesc	rowDesc;

	RunPlannedStatement(plan->selectPlan, "INSERT ... SELECT",
						GetActiveSnapshot(), estate, dest, 0, &rowDesc);
	return rowDesc;
}

/*
 * RunSelectFirst runs the SELECT to its end into a tuplestore, and only
 * then passes its rows to the receiver (see the file header).
 */
static void
RunSelectFirst(DistributedPlan *plan, EState *estate, DestReceiver *receiver)
{
	Tuplestorestate *rows = tuplestore_begin_heap(false, false, work_mem);
	DestReceiver *store = CreateDestReceiver(DestTuplestore);
	TupleDesc	rowDesc;
	TupleTableSlot *slot;

	SetTuplestoreDestReceiverParams(store, rows, CurrentMemoryContext, false,
									NULL, NULL);
	rowDesc = RunSelect(plan, estate, store);
	store->rDestroy(store);

	slot = MakeSingleTupleTableSlot(rowDesc, &TTSOpsMinimalTuple);
	while (tuplestore_gettupleslot(rows, true, false, slot))
		receiver->receiveSlot(slot, receiver);
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_end(rows);
}

/*
 * ExecuteInsertSelect runs an INSERT ... SELECT plan and returns the
 * number of rows inserted (or updated by ON CONFLICT DO UPDATE).  slot has
 * the descriptor of the RETURNING rows, which go to returned.
 */
uint64
ExecuteInsertSelect(DistributedPlan *plan, EState *estate,
					TupleTableSlot *slot, Tuplestorestate *returned)
{
	DistTableCacheEntry *entry = LookupDistTable(plan->relid);
	Relation	relation;
	InsertSelectReceiver receiver;
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
	if (plan->query->onConflict != NULL || plan->query->returningList != NIL)
		PrepareInsertBatches(&receiver, plan, estate, relation, slot,
							 returned);

	if (plan->selectReadsTarget)
		RunSelectFirst(plan, estate, (DestReceiver *) &receiver);
	else
		(void) RunSelect(plan, estate, (DestReceiver *) &receiver);

	if (receiver.buffers != NULL)
	{
		FlushAllShardCopyBuffers(receiver.buffers);
		ReleaseShardCopyDestinations(receiver.destinations, entry->shardCount);
	}
	if (receiver.batches != NULL)
	{
		if (receiver.sort != NULL)
			SendSortedRows(&receiver);
		FlushShardInsertBatches(receiver.batches, true);
		receiver.rowCount = ShardInsertBatchesRowCount(receiver.batches);
	}
	table_close(relation, NoLock);
	return receiver.rowCount;
}
