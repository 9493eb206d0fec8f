/*-------------------------------------------------------------------------
 *
 * distributed_plan.c
 *	  Building DistributedPlans and storing them in a CustomScan's
 *	  custom_private list.
 *
 * Plans are copied (plan cache) and may be printed, so custom_private must
 * hold only node types PostgreSQL can copy and print: the plan is flattened
 * into a list with one element per field, at fixed positions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/value.h"

#include "distdb/deparse.h"
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
	DistPrivateQueryPrefix,
	DistPrivateQuerySuffix,
	DistPrivateValueParams,
	DistPrivateFirstValueParam,
	DistPrivateCount
};

/* bits of the DistPrivateFlags element */
#define DIST_FLAG_IS_WRITE 1
#define DIST_FLAG_EXPECTS_ROWS 2
#define DIST_FLAG_IS_ROUTER 4

/*
 * MakeShipQueryPlan builds the plan of a statement sent whole to shards,
 * deparsing it now: its text only needs the shard name at execution.
 */
DistributedPlan *
MakeShipQueryPlan(Oid relid, Query *query, List *shardIndexes,
				  Expr *pruneValue, bool isWrite, bool expectsRows)
{
	DistributedPlan *plan = palloc0(sizeof(DistributedPlan));
	DeparsedShardQuery *deparsed;
	int			nestLevel;

	plan->kind = DIST_PLAN_SHIP_QUERY;
	plan->relid = relid;
	plan->query = query;
	plan->shardIndexes = shardIndexes;
	plan->pruneValue = pruneValue;
	plan->isWrite = isWrite;
	plan->expectsRows = expectsRows;
	plan->isRouter = (pruneValue != NULL || list_length(shardIndexes) == 1);

	/* see parameterize_constants.c */
	plan->firstValueParam = MaxExternParamId((Node *) query) + 1;
	query = ParameterizeQuery(query, plan->firstValueParam, plan->isRouter,
							  &plan->valueParams);

	nestLevel = PushDeparseSettings();
	deparsed = DeparseShardQuery(query);
	PopDeparseSettings(nestLevel);
	plan->queryPrefix = deparsed->prefix;
	plan->querySuffix = deparsed->suffix;
	return plan;
}

/* a string field as a node, or NULL */
static Node *
StringOrNull(char *value)
{
	return value ? (Node *) makeString(value) : NULL;
}

/*
 * SerializeDistributedPlan flattens a plan into a list for custom_private.
 */
List *
SerializeDistributedPlan(DistributedPlan *plan)
{
	int			flags = 0;
	List	   *shardIndexes = NIL;
	List	   *private = NIL;
	ListCell   *lc;

	if (plan->isWrite)
		flags |= DIST_FLAG_IS_WRITE;
	if (plan->expectsRows)
		flags |= DIST_FLAG_EXPECTS_ROWS;
	if (plan->isRouter)
		flags |= DIST_FLAG_IS_ROUTER;

	foreach(lc, plan->shardIndexes)
		shardIndexes = lappend(shardIndexes, makeInteger(lfirst_int(lc)));

	private = lappend(private, makeInteger(plan->kind));
	private = lappend(private, makeInteger((int) plan->relid));
	private = lappend(private, plan->query);
	private = lappend(private, shardIndexes);
	private = lappend(private, plan->pruneValue);
	private = lappend(private, makeInteger(flags));
	private = lappend(private, StringOrNull(plan->queryPrefix));
	private = lappend(private, StringOrNull(plan->querySuffix));
	private = lappend(private, plan->valueParams);
	private = lappend(private, makeInteger(plan->firstValueParam));
	Assert(list_length(private) == DistPrivateCount);
	return private;
}

/* a string field from its node */
static char *
StringValueOrNull(Node *node)
{
	return node ? strVal(node) : NULL;
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
	plan->queryPrefix = StringValueOrNull(list_nth(private, DistPrivateQueryPrefix));
	plan->querySuffix = StringValueOrNull(list_nth(private, DistPrivateQuerySuffix));
	plan->valueParams = list_nth(private, DistPrivateValueParams);
	plan->firstValueParam = intVal(list_nth(private, DistPrivateFirstValueParam));
	return plan;
}
