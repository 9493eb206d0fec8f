/*-------------------------------------------------------------------------
 *
 * distributed_plan.h
 *	  What a distributed custom scan runs: the statement to send to shards
 *	  and which shards to send it to.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_DISTRIBUTED_PLAN_H
#define DISTDB_DISTRIBUTED_PLAN_H

#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "nodes/pg_list.h"

typedef enum DistPlanKind
{
	DIST_PLAN_SHIP_QUERY,		/* deparse the query for each target shard */
	DIST_PLAN_INSERT_VALUES,	/* evaluate the VALUES rows locally, route
								 * each to its shard */
	DIST_PLAN_INSERT_SELECT,	/* run the SELECT, stream its rows into the
								 * shards with COPY */
	DIST_PLAN_MODIFY_VIA_COORDINATOR	/* run the SELECT of the target rows,
										 * then write them by ctid */
} DistPlanKind;

typedef struct DistributedPlan
{
	DistPlanKind kind;
	Oid			relid;			/* the distributed table */
	Query	   *query;			/* the statement; relid is at index 1 */

	/*
	 * Target shards: when pruneValue is set, it is evaluated at execution and
	 * picks the one shard; otherwise shardIndexes lists them (possibly none).
	 */
	List	   *shardIndexes;	/* IntList */
	Expr	   *pruneValue;

	/* DIST_PLAN_SHIP_QUERY: the query's text around its relations' names */
	List	   *queryFragments; /* char * */
	List	   *queryRelations; /* int: range table index of each name */

	/*
	 * Values the coordinator sends as parameters $firstValueParam, ...:
	 * stable expressions without columns (now(), current_user), evaluated
	 * when the statement starts, and in router queries the constants too,
	 * so that nodes run them as prepared statements.
	 */
	List	   *valueParams;	/* Expr */
	int			firstValueParam;

	/* DIST_PLAN_INSERT_SELECT, DIST_PLAN_MODIFY_VIA_COORDINATOR: its SELECT */
	PlannedStmt *selectPlan;
	bool		selectReadsTarget;	/* it reads the table (at any depth) */

	/*
	 * DIST_PLAN_MODIFY_VIA_COORDINATOR: the target's columns whose new
	 * values the SELECT returns, after the distribution column and ctid
	 * (see modify_via_coordinator.c); movesRows when rows may change shard.
	 */
	List	   *modifyColumns;	/* IntList of attribute numbers */
	bool		movesRows;

	/*
	 * Subqueries computed first on the coordinator (computed_subqueries.c):
	 * the value of number i is executor parameter i among valueParams.
	 */
	List	   *subqueryPlans;	/* PlannedStmt */
	List	   *subqueryKinds;	/* int: the SubLinkType of each, or
								 * COMPUTED_COLUMN_KIND + column number */

	/*
	 * At execution (not serialized): the column arrays of the relations
	 * computed first, by subquery index, once computed.
	 */
	Datum	   *computedColumns;
	bool	   *computedColumnDone;

	bool		isWrite;		/* modifies or locks rows */
	bool		expectsRows;	/* returns rows (SELECT or RETURNING) */
	bool		isRouter;		/* the whole user statement goes to one shard */
} DistributedPlan;

/*
 * A relation computed first (broadcast_joins.c) stands for its rows: one
 * array per column, computed subquery i + k being column k of the rows of
 * the subquery planned at position i, with kind COMPUTED_COLUMN_KIND + k
 * (its plan is NULL for k > 0).
 */
#define COMPUTED_COLUMN_KIND 1000

extern DistributedPlan *MakeShipQueryPlan(Oid relid, Query *query,
										  List *shardIndexes, Expr *pruneValue,
										  bool isWrite, bool expectsRows);
extern List *SerializeDistributedPlan(DistributedPlan *plan);
extern DistributedPlan *DeserializeDistributedPlan(List *private);

#endif							/* DISTDB_DISTRIBUTED_PLAN_H */
