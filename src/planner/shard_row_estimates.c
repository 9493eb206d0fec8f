/*-------------------------------------------------------------------------
 *
 * shard_row_estimates.c
 *	  How many rows a scan of a distributed table's shards returns, for the
 *	  coordinator's planner.
 *
 * A distributed table pulled up to the coordinator becomes a function
 * scan (pull_up_planner.c), which PostgreSQL would estimate at the
 * function's ROWS.  Plans that join distributed and local tables need
 * better: the estimate is the table's pg_class.reltuples -- the sum over
 * its shards, copied to the coordinator by ANALYZE and VACUUM
 * (src/commands/vacuum_analyze.c) -- times the selectivity of the filters
 * sent to the shards, at most the fraction of shards that pruning left.
 * The filters are estimated the way PostgreSQL estimates them on the
 * coordinator's table: with its statistics where there are any, else with
 * the default selectivities.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "utils/syscache.h"

#include "distdb/planner_internal.h"

static Selectivity ShardFilterSelectivity(PlannerInfo *root,
										  DistributedPlan *plan,
										  double tableRows);


/*
 * EstimateShardScanRows returns the rows a single-table shard query of a
 * pull-up plan returns, or -1 when the table was never analyzed.
 */
double
EstimateShardScanRows(PlannerInfo *root, DistributedPlan *plan)
{
	DistTableCacheEntry *entry = LookupDistTable(plan->relid);
	double		tableRows = TableRowCount(plan->relid);
	double		shardFraction;
	Selectivity selectivity;

	if (tableRows < 0 || entry == NULL || entry->shardCount == 0)
		return -1;

	if (plan->pruneValue != NULL)
		shardFraction = 1.0 / entry->shardCount;
	else
		shardFraction = (double) list_length(plan->shardIndexes) /
			entry->shardCount;

	/*
	 * A filter that pruned shards is also in the selectivity, so the two are
	 * not multiplied: the smaller one wins.
	 */
	selectivity = ShardFilterSelectivity(root, plan, tableRows);

	return tableRows * Min(shardFraction, selectivity);
}


/*
 * TableRowCount returns a table's pg_class.reltuples (-1: never analyzed).
 */
double
TableRowCount(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	double		tuples;

	if (!HeapTupleIsValid(tuple))
		return -1;
	tuples = ((Form_pg_class) GETSTRUCT(tuple))->reltuples;
	ReleaseSysCache(tuple);

	return tuples;
}


/*
 * ShardFilterSelectivity estimates the filters of the shard query (the
 * table is at range table index 1) with a planner state of its own for the
 * shard query, in which the table has tableRows rows.
 */
static Selectivity
ShardFilterSelectivity(PlannerInfo *root, DistributedPlan *plan,
					   double tableRows)
{
	Query	   *query;
	RangeTblEntry *rte;
	PlannerInfo *subroot;
	RelOptInfo *rel;

	if (plan->query->jointree == NULL || plan->query->jointree->quals == NULL)
		return 1.0;

	/*
	 * The table as a plain relation, not an inheritance parent, so that its
	 * unique indexes (and ANALYZE's statistics, if any) are taken into
	 * account; the shard query itself is not changed.
	 */
	query = palloc(sizeof(Query));
	memcpy(query, plan->query, sizeof(Query));
	rte = copyObject(linitial_node(RangeTblEntry, query->rtable));
	rte->inh = false;
	query->rtable = list_make1(rte);

	subroot = makeNode(PlannerInfo);
	subroot->parse = query;
	subroot->glob = root->glob;
	subroot->query_level = 1;
	subroot->parent_root = NULL;
	subroot->planner_cxt = CurrentMemoryContext;
	subroot->wt_param_id = -1;
	setup_simple_rel_arrays(subroot);

	rel = build_simple_rel(subroot, 1, NULL);
	rel->tuples = tableRows;

	return clauselist_selectivity(subroot,
								  make_ands_implicit((Expr *) query->jointree->quals),
								  1, JOIN_INNER, NULL);
}
