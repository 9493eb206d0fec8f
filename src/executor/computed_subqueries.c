/*-------------------------------------------------------------------------
 *
 * computed_subqueries.c
 *	  Running the subqueries a distributed statement computes first on the
 *	  coordinator, and turning their results into parameter values.
 *
 * A subquery that does not depend on the statement's rows, over tables
 * the shards cannot read (local tables, distributed tables that are not
 * co-located), is computed once, as PostgreSQL computes an InitPlan: the
 * planner replaces it by an executor parameter (modify_subqueries.c),
 * which becomes one of the values the coordinator sends to every shard
 * statement.  It runs when the shard statements are built, before
 * anything is sent, as a query of its own (distributed or not) in the
 * statement's snapshot, so every shard sees exactly the values the
 * coordinator computed.  Its result is what the subquery stood for:
 *	- EXISTS: whether it returns a row;
 *	- a scalar subquery: its one value, NULL without rows, an error with
 *	  more than one;
 *	- ARRAY(...), and the right side of x op ANY / ALL (...), which the
 *	  planner turned into x op ANY / ALL ($n): an array of its values,
 *	  empty without rows.  An array compares with ANY / ALL exactly as the
 *	  subquery's rows do, NULLs included;
 *	- a relation broadcast to the shards (broadcast_joins.c): its rows, as
 *	  one array per column, which the shards read back with unnest().  The
 *	  rows are read once and all the arrays built together, so that the
 *	  n-th elements of the arrays form the n-th row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "nodes/primnodes.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"

#include "distdb/distributed_scan.h"

/* the receiver of a computed subquery's rows */
typedef struct SubqueryValueReceiver
{
	DestReceiver pub;
	SubLinkType kind;
	MemoryContext context;		/* where the result lives */
	Oid			columnType;		/* of the first column */
	uint64		rowCount;
	Datum		value;			/* EXPR_SUBLINK: the value */
	bool		isNull;
	ArrayBuildStateAny *array;	/* ARRAY_SUBLINK, ANY_SUBLINK, ALL_SUBLINK */
	int			columnCount;	/* COMPUTED_COLUMN_KIND: */
	ArrayBuildStateAny **columns;	/* an array per column */
} SubqueryValueReceiver;

static void
SubqueryValueStartup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	SubqueryValueReceiver *receiver = (SubqueryValueReceiver *) self;
	int			i;

	receiver->columnType = TupleDescAttr(typeinfo, 0)->atttypid;
	if (receiver->kind != COMPUTED_COLUMN_KIND)
		return;
	receiver->columnCount = typeinfo->natts;
	receiver->columns = MemoryContextAlloc(receiver->context,
										   sizeof(ArrayBuildStateAny *) *
										   typeinfo->natts);
	for (i = 0; i < typeinfo->natts; i++)
		receiver->columns[i] =
			initArrayResultAny(TupleDescAttr(typeinfo, i)->atttypid,
							   receiver->context, true);
}

static bool
SubqueryValueReceiveSlot(TupleTableSlot *slot, DestReceiver *self)
{
	SubqueryValueReceiver *receiver = (SubqueryValueReceiver *) self;
	MemoryContext oldContext;
	bool		isNull = true;
	Datum		value = 0;

	receiver->rowCount++;
	if (receiver->kind == EXISTS_SUBLINK)
		return false;			/* one row says it all */
	if (receiver->kind == COMPUTED_COLUMN_KIND)
	{
		int			i;

		slot_getallattrs(slot);
		for (i = 0; i < receiver->columnCount; i++)
			accumArrayResultAny(receiver->columns[i], slot->tts_values[i],
								slot->tts_isnull[i],
								TupleDescAttr(slot->tts_tupleDescriptor, i)->atttypid,
								receiver->context);
		return true;
	}
	if (receiver->kind == EXPR_SUBLINK && receiver->rowCount > 1)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("more than one row returned by a subquery used as an expression")));
	value = slot_getattr(slot, 1, &isNull);
	oldContext = MemoryContextSwitchTo(receiver->context);
	if (receiver->kind == EXPR_SUBLINK)
	{
		int16		typeLength;
		bool		typeByValue;

		get_typlenbyval(receiver->columnType, &typeLength, &typeByValue);
		receiver->isNull = isNull;
		receiver->value = isNull ? (Datum) 0 :
			datumCopy(value, typeByValue, typeLength);
	}
	else
		receiver->array = accumArrayResultAny(receiver->array, value, isNull,
											  receiver->columnType,
											  receiver->context);
	MemoryContextSwitchTo(oldContext);
	return true;
}

static void
SubqueryValueShutdown(DestReceiver *self)
{
}

static void
SubqueryValueDestroy(DestReceiver *self)
{
}

/*
 * RunComputedSubquery runs computed subquery number index of a plan, in
 * the statement's snapshot and with its parameters, into *receiver.
 */
static void
RunComputedSubquery(DistributedPlan *plan, int index, EState *estate,
					SubqueryValueReceiver *receiver)
{
	PlannedStmt *subqueryPlan = list_nth(plan->subqueryPlans, index);

	memset(receiver, 0, sizeof(*receiver));
	receiver->pub.receiveSlot = SubqueryValueReceiveSlot;
	receiver->pub.rStartup = SubqueryValueStartup;
	receiver->pub.rShutdown = SubqueryValueShutdown;
	receiver->pub.rDestroy = SubqueryValueDestroy;
	receiver->pub.mydest = DestNone;
	receiver->kind = Min(list_nth_int(plan->subqueryKinds, index),
						 COMPUTED_COLUMN_KIND);
	receiver->context = CurrentMemoryContext;
	receiver->isNull = true;

	/* EXISTS needs one row, a scalar subquery two to see it has more */
	RunPlannedStatement(subqueryPlan, "subquery computed first",
						estate->es_snapshot, estate,
						(DestReceiver *) receiver,
						receiver->kind == EXISTS_SUBLINK ? 1 :
						receiver->kind == EXPR_SUBLINK ? 2 : 0, NULL);
}

/*
 * ComputeColumnValue returns the array of column k of a relation computed
 * first (computed subquery index, of kind COMPUTED_COLUMN_KIND + k),
 * computing the arrays of all its columns the first time.
 */
static Datum
ComputeColumnValue(DistributedPlan *plan, int index, int column,
				   EState *estate, bool *isNull)
{
	int			first = index - column;
	int			count = list_length(plan->subqueryPlans);

	if (plan->computedColumns == NULL)
	{
		plan->computedColumns = palloc0(sizeof(Datum) * count);
		plan->computedColumnDone = palloc0(sizeof(bool) * count);
	}
	if (!plan->computedColumnDone[index])
	{
		SubqueryValueReceiver receiver;
		int			i;

		RunComputedSubquery(plan, first, estate, &receiver);
		for (i = 0; i < receiver.columnCount; i++)
		{
			plan->computedColumns[first + i] =
				makeArrayResultAny(receiver.columns[i], CurrentMemoryContext,
								   true);
			plan->computedColumnDone[first + i] = true;
		}
	}
	*isNull = false;
	return plan->computedColumns[index];
}

/*
 * ComputeSubqueryValue runs computed subquery number index of a plan and
 * returns the value that stands for it (see the file header).  EXPLAIN
 * without ANALYZE computes nothing: the value is NULL.
 */
Datum
ComputeSubqueryValue(DistributedPlan *plan, int index, EState *estate,
					 bool *isNull)
{
	SubqueryValueReceiver receiver;
	int			kind = list_nth_int(plan->subqueryKinds, index);

	*isNull = true;
	if (estate->es_top_eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return (Datum) 0;
	if (kind >= COMPUTED_COLUMN_KIND)
		return ComputeColumnValue(plan, index, kind - COMPUTED_COLUMN_KIND,
								  estate, isNull);

	RunComputedSubquery(plan, index, estate, &receiver);
	switch (receiver.kind)
	{
		case EXISTS_SUBLINK:
			*isNull = false;
			return BoolGetDatum(receiver.rowCount > 0);
		case EXPR_SUBLINK:
			*isNull = receiver.isNull;
			return receiver.value;
		default:
			if (receiver.array == NULL)
				receiver.array = initArrayResultAny(receiver.columnType,
													CurrentMemoryContext,
													true);
			*isNull = false;
			return makeArrayResultAny(receiver.array, CurrentMemoryContext,
									  true);
	}
}
