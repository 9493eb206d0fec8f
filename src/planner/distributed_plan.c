/*-------------------------------------------------------------------------
 *
 * distributed_plan.c
 *	  Storing a DistributedPlan in a CustomScan's custom_private list.
 *
 * Plans are copied (plan cache) and may be printed, so custom_private must
 * hold only node types PostgreSQL can copy and print: the plan is flattened
 * into a list with one element per field, at fixed positions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/value.h"

#include "distdb/distributed_plan.h"

/* positions of the fields in custom_private */
enum DistributedPlanPrivateIndex
{
	DistPrivateKind,
	DistPrivateRelid,
	DistPrivateQuery,
	DistPrivateShardIndexes,
	DistPrivatePruneValue,
	DistPrivateFlags,
	DistPrivateCount
};

/* bits of the DistPrivateFlags element */
#define DIST_FLAG_IS_WRITE 1
#define DIST_FLAG_EXPECTS_ROWS 2
#define DIST_FLAG_IS_ROUTER 4

/*
 * SerializeDistributedPlan flattens a plan into a list for custom_private.
 */
List *
SerializeDistributedPlan(DistributedPlan *plan)
{
	int			flags = 0;
	List	   *shardIndexes = NIL;
	ListCell   *lc;

	if (plan->isWrite)
		flags |= DIST_FLAG_IS_WRITE;
	if (plan->expectsRows)
		flags |= DIST_FLAG_EXPECTS_ROWS;
	if (plan->isRouter)
		flags |= DIST_FLAG_IS_ROUTER;

	foreach(lc, plan->shardIndexes)
		shardIndexes = lappend(shardIndexes, makeInteger(lfirst_int(lc)));

	return lappend(list_make5(makeInteger(plan->kind),
							  makeInteger((int) plan->relid),
							  plan->query,
							  shardIndexes,
							  plan->pruneValue),
				   makeInteger(flags));
}

/*
 * DeserializeDistributedPlan rebuilds the plan from custom_private.
 */
DistributedPlan *
DeserializeDistributedPlan(List *private)
{
	DistributedPlan *plan = palloc0(sizeof(DistributedPlan));
	int			flags;
	ListCell   *lc;

	Assert(list_length(private) == DistPrivateCount);
	plan->kind = intVal(list_nth(private, DistPrivateKind));
	plan->relid = (Oid) intVal(list_nth(private, DistPrivateRelid));
	plan->query = list_nth(private, DistPrivateQuery);
	foreach(lc, (List *) list_nth(private, DistPrivateShardIndexes))
		plan->shardIndexes = lappend_int(plan->shardIndexes, intVal(lfirst(lc)));
	plan->pruneValue = list_nth(private, DistPrivatePruneValue);
	flags = intVal(list_nth(private, DistPrivateFlags));
	plan->isWrite = (flags & DIST_FLAG_IS_WRITE) != 0;
	plan->expectsRows = (flags & DIST_FLAG_EXPECTS_ROWS) != 0;
	plan->isRouter = (flags & DIST_FLAG_IS_ROUTER) != 0;
	return plan;
}
