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
	DistPrivateQueryFragments,
	DistPrivateQueryRelations,
	DistPrivateValueParams,
	DistPrivateFirstValueParam,
	DistPrivateSelectPlan,
	DistPrivateSubqueryPlans,
	DistPrivateSubqueryKinds,
	DistPrivateModifyColumns,
	DistPrivateCount
};

/* bits of the DistPrivateFlags element */
#define DIST_FLAG_IS_WRITE 1
#define DIST_FLAG_EXPECTS_ROWS 2
#define DIST_FLAG_IS_ROUTER 4
#define DIST_FLAG_SELECT_READS_TARGET 8
#define DIST_FLAG_MOVES_ROWS 16

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
	plan->queryFragments = deparsed->fragments;
	plan->queryRelations = deparsed->relationIndexes;
	return plan;
}

/* a list of strings as a list of String nodes */
static List *
StringNodes(List *strings)
{
	List	   *nodes = NIL;
	ListCell   *lc;

	foreach(lc, strings)
		nodes = lappend(nodes, makeString(lfirst(lc)));
	return nodes;
}

/* an integer list as a list of Integer nodes, and back */
static List *
IntegerNodes(List *integers)
{
	List	   *nodes = NIL;
	ListCell   *lc;

	foreach(lc, integers)
		nodes = lappend(nodes, makeInteger(lfirst_int(lc)));
	return nodes;
}

static List *
IntegersOfNodes(List *nodes)
{
	List	   *integers = NIL;
	ListCell   *lc;

	foreach(lc, nodes)
		integers = lappend_int(integers, intVal(lfirst(lc)));
	return integers;
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

	if (plan->isWrite)
		flags |= DIST_FLAG_IS_WRITE;
	if (plan->expectsRows)
		flags |= DIST_FLAG_EXPECTS_ROWS;
	if (plan->isRouter)
		flags |= DIST_FLAG_IS_ROUTER;
	if (plan->selectReadsTarget)
		flags |= DIST_FLAG_SELECT_READS_TARGET;
	if (plan->movesRows)
		flags |= DIST_FLAG_MOVES_ROWS;

	shardIndexes = IntegerNodes(plan->shardIndexes);

	private = lappend(private, makeInteger(plan->kind));
	private = lappend(private, makeInteger((int) plan->relid));
	private = lappend(private, plan->query);
	private = lappend(private, shardIndexes);
	private = lappend(private, plan->pruneValue);
	private = lappend(private, makeInteger(flags));
	private = lappend(private, StringNodes(plan->queryFragments));
	private = lappend(private, IntegerNodes(plan->queryRelations));
	private = lappend(private, plan->valueParams);
	private = lappend(private, makeInteger(plan->firstValueParam));
	private = lappend(private, plan->selectPlan);
	private = lappend(private, plan->subqueryPlans);
	private = lappend(private, IntegerNodes(plan->subqueryKinds));
	private = lappend(private, IntegerNodes(plan->modifyColumns));
	Assert(list_length(private) == DistPrivateCount);
	return private;
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
	plan->shardIndexes = IntegersOfNodes(list_nth(private,
												  DistPrivateShardIndexes));
	plan->pruneValue = list_nth(private, DistPrivatePruneValue);
	flags = intVal(list_nth(private, DistPrivateFlags));
	plan->isWrite = (flags & DIST_FLAG_IS_WRITE) != 0;
	plan->expectsRows = (flags & DIST_FLAG_EXPECTS_ROWS) != 0;
	plan->isRouter = (flags & DIST_FLAG_IS_ROUTER) != 0;
	plan->selectReadsTarget = (flags & DIST_FLAG_SELECT_READS_TARGET) != 0;
	plan->movesRows = (flags & DIST_FLAG_MOVES_ROWS) != 0;
	foreach(lc, (List *) list_nth(private, DistPrivateQueryFragments))
		plan->queryFragments = lappend(plan->queryFragments, strVal(lfirst(lc)));
	plan->queryRelations = IntegersOfNodes(list_nth(private,
													DistPrivateQueryRelations));
	plan->valueParams = list_nth(private, DistPrivateValueParams);
	plan->firstValueParam = intVal(list_nth(private, DistPrivateFirstValueParam));
	plan->selectPlan = list_nth(private, DistPrivateSelectPlan);
	plan->subqueryPlans = list_nth(private, DistPrivateSubqueryPlans);
	plan->subqueryKinds = IntegersOfNodes(list_nth(private,
												   DistPrivateSubqueryKinds));
	plan->modifyColumns = IntegersOfNodes(list_nth(private,
												   DistPrivateModifyColumns));
	return plan;
}
