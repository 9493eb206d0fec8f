/*-------------------------------------------------------------------------
 *
 * planner_internal.h
 *	  Interfaces between the parts of distdb's planner.
 *
 * A statement that touches distributed tables is planned by the first of
 * these that applies (see planner_hook.c):
 *	1. INSERT ... VALUES or SELECT into a distributed table: rows are
 *	   evaluated on the coordinator at execution and routed
 *	   (router_planner.c, executor/insert_select.c);
 *	2. a single-table SELECT, UPDATE or DELETE the shards can run whole:
 *	   shipped to the shards its filters select -- one shard for a router
 *	   query (router_planner.c); an UPDATE or DELETE joining co-located
 *	   tables on the distribution columns (FROM, USING, EXISTS / IN) is
 *	   shipped the same way (modify_pushdown.c);
 *	3. a SELECT whose FROM clause joins co-located tables on their
 *	   distribution columns -- or subqueries of them that run on the shards,
 *	   CTEs inlined as such (subquery_pushdown.c) -- runs that join on the
 *	   shards, and its aggregation too where it splits (join_pushdown.c,
 *	   aggregate_pushdown.c);
 *	4. any other SELECT, or a statement on local tables reading distributed
 *	   ones: each distributed table becomes a scan of its filtered rows from
 *	   the shards, and PostgreSQL's planner plans the rest on the
 *	   coordinator (pull_up_planner.c) -- except where subqueries of a WHERE
 *	   clause that do not depend on its rows are computed first and sent to
 *	   the shards as values (computed_sublinks.c), and where the relations
 *	   joined with distributed tables that the shards cannot read are small
 *	   and are sent to the shards whole (broadcast_joins.c): the level then
 *	   takes path 3 or runs its aggregation on the shards.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_PLANNER_INTERNAL_H
#define DISTDB_PLANNER_INTERNAL_H

#include "nodes/bitmapset.h"
#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"

#include "distdb/distributed_plan.h"
#include "distdb/metadata_cache.h"

/* insert_as_select.c */
extern Query *RewriteInsertAsSelect(Query *parse);

/* router_planner.c */
extern PlannedStmt *PlanDistributedInsert(Query *parse, int cursorOptions,
										 ParamListInfo boundParams);
extern PlannedStmt *PlanShippedStatement(Query *parse, int cursorOptions,
										 ParamListInfo boundParams);
extern RangeTblEntry *MakeResultPlaceholderRte(const char *aliasName,
											   List *columnNames,
											   List *columnExprs, int planIndex);

/* pull_up_planner.c */
extern PlannedStmt *PlanWithPullUp(Query *parse, const char *queryString,
								   int cursorOptions,
								   ParamListInfo boundParams);
extern Oid	DistributedResultFunctionId(void);
extern bool IsNullableInJoinTree(Node *jtnode, Index rti, bool nullable);

/* aggregate_pushdown.c */
extern DistributedPlan *PushDownAggregation(Query *query, Index rti,
											DistTableCacheEntry *entry,
											ParamListInfo boundParams,
											int planIndex);

extern DistributedPlan *PushDownAggregationOverJoin(Query *query,
													DistributedPlan *joinPlan,
													int planIndex);

extern DistributedPlan *PushDownWindowsOverJoin(Query *query,
												DistributedPlan *joinPlan,
												int planIndex);
extern bool ShippableWithAggregates(Node *node);

/* aggregate_states.c */
extern bool AggregateStateSplittable(Aggref *aggref);
extern Aggref *MakePartialStateAggregate(Aggref *aggref);
extern Expr *MakeStateCombine(Aggref *aggref, Expr *states);
extern bool AggregateConcatenable(Aggref *aggref);
extern Expr *MakeConcatCombine(Aggref *aggref, Expr *partials);
extern Expr *MakeNumericSqrtRounded(Expr *value);

/* join_pushdown.c */
extern DistributedPlan *PushDownJoin(Query *query, ParamListInfo boundParams,
									 int planIndex);
extern void FlattenJoinAliasReferences(Query *query);
extern bool RelationsJoinedOnDistributionColumns(Query *query,
												 Bitmapset *relations,
												 bool allowReferenceTables,
												 Bitmapset **distributedOut);
extern Index DistributionColumnOf(Query *query, Bitmapset *relations,
								  Node *node);
extern Index OuterDistributionColumnOf(Query *query, Bitmapset *relations,
									   Node *node);
extern List *PruneColocatedShards(Query *query, Bitmapset *relations,
								  List *conditions, ParamListInfo boundParams,
								  Expr **pruneValue);

/* subquery_pushdown.c */
extern bool SubqueryRunsOnShards(RangeTblEntry *rte);
extern bool SubqueryOutputIsPartitionColumn(RangeTblEntry *rte,
											AttrNumber attno);
extern DistTableCacheEntry *ColocatedRelationEntry(RangeTblEntry *rte);
extern void PrepareSubqueriesForShards(Query *workerQuery);
extern void KeepSubqueryRelations(Query *query, Relids relations,
								  List *conditions);
extern bool NestedRelationsWalker(Node *node, List **relations);
extern bool IsPartitionColumn(Query *query, Node *expr);

/* sublink_pushdown.c */
extern bool IsShippableWithSubLinks(Query *query, Relids relations,
									Relids distributed, Node *clause);
extern List *TakeShippableOutputs(Query *query, Relids relations,
								  Relids distributed, List **exprs);
extern void RestoreShippedOutputs(List *entries, List *exprs);
extern void ReadShippedOutputs(List *entries, Index placeholderIndex,
							   AttrNumber firstColumn);
extern void InlineCommonTableExpressions(Query *query);

/* modify_pushdown.c */
extern DistributedPlan *PlanColocatedModify(Query *parse,
											ParamListInfo boundParams,
											List **permissionRtes,
											bool *refused);

/* modify_via_coordinator.c */
extern DistributedPlan *PlanModifyViaCoordinator(Query *parse,
												 ParamListInfo boundParams);
extern bool IsColumnOf(Node *expr, Index varno, AttrNumber attnum);

/* placeholder_columns.c */
typedef struct PlaceholderColumn
{
	Index		rtindex;
	AttrNumber	attno;
} PlaceholderColumn;

extern List *CollectPlaceholderColumns(Query *query, Bitmapset *relations,
									   int walkFlags, bool *unsupported);
extern void RenumberPlaceholderColumns(Query *query, Bitmapset *relations,
									   int walkFlags, List *columns,
									   Index placeholderIndex);
extern void ExpandWholeRowReferences(Query *query, Index rti, Oid relid,
									 AttrNumber presenceColumn);
extern Query *MakeWorkerQuery(List *rtable, List *fromlist, Node *quals);
extern Query *MakeSingleTableWorkerQuery(RangeTblEntry *rte, Node *quals);
extern RangeTblEntry *MakeSubqueryRte(Query *subquery, const char *aliasName,
									  List *columnNames, bool inFromCl);
extern void AddWorkerColumns(Query *workerQuery, Query *query, List *columns,
							 Index workerRelationIndex, List **names,
							 List **exprs);

/* shard_row_estimates.c */
extern double EstimateShardScanRows(PlannerInfo *root, DistributedPlan *plan);
extern double TableRowCount(Oid relid);

/* shippable.c */
extern bool ContainsSequenceFunctions(Node *node);
extern bool IsShippableFilter(Node *clause);
extern bool IsTransferableOutput(List *exprs);
extern bool IsShippableSubquery(Query *subquery);

/* modify_subqueries.c */
extern void PlanModifySubqueries(Query *statement, Bitmapset *distributed,
								 ParamListInfo boundParams,
								 List **subqueryPlans, List **subqueryKinds,
								 bool *refused);

/* broadcast_joins.c */
extern bool IsBroadcastRelation(RangeTblEntry *rte);
extern Query *BroadcastSmallRelations(Query *query, ParamListInfo boundParams,
									  List **subqueryPlans,
									  List **subqueryKinds);

/* computed_sublinks.c */
extern Node *ReplaceSubLinkParams(Node *node, List *targetList);
extern Node *ComputeSubLinkFirst(SubLink *subLink, ParamListInfo boundParams,
								 List **subqueryPlans, List **subqueryKinds);
extern bool ComputeQualSubLinksFirst(Query *query, ParamListInfo boundParams,
									 List **subqueryPlans,
									 List **subqueryKinds, List **subLinks);
extern List *RestoreComputedSubLinks(Query *query, List *subLinks);

#endif							/* DISTDB_PLANNER_INTERNAL_H */
