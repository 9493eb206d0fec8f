/*-------------------------------------------------------------------------
 *
 * planner_hook.c
 *	  distdb's planner hook: recognises statements on distributed tables
 *	  and hands them to the right distributed planner.
 *
 * A distributed table's coordinator copy holds no rows, so any statement
 * that touches one -- at any depth -- must be planned by distdb; the hook
 * therefore walks the whole query tree.  The order in which the planners
 * are tried is described in planner_internal.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "distdb/metadata_cache.h"
#include "distdb/planner.h"
#include "distdb/planner_internal.h"

planner_hook_type PrevPlannerHook = NULL;
set_rel_pathlist_hook_type PrevSetRelPathlistHook = NULL;

static bool FindDistributedTablesWalker(Node *node, bool *found);
static void CheckRowLevelSecurity(Oid relid);

/*
 * DistdbPlanner plans statements on distributed tables, and passes every
 * other statement on.
 */
PlannedStmt *
DistdbPlanner(Query *parse, const char *queryString, int cursorOptions,
			  ParamListInfo boundParams)
{
	bool		found = false;
	PlannedStmt *result = NULL;

	if (parse->commandType != CMD_UTILITY && DistdbMetadataAvailable())
		FindDistributedTablesWalker((Node *) parse, &found);

	if (!found)
	{
		if (PrevPlannerHook)
			return PrevPlannerHook(parse, queryString, cursorOptions,
								   boundParams);
		return standard_planner(parse, queryString, cursorOptions,
								boundParams);
	}

	if (parse->hasModifyingCTE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("data-modifying statements in WITH are not supported with distributed tables yet")));

	if (parse->resultRelation > 0 &&
		IsDistributedTable(rt_fetch(parse->resultRelation,
									parse->rtable)->relid))
	{
		if (parse->commandType == CMD_INSERT)
			return PlanDistributedInsert(parse, cursorOptions, boundParams);
		if (parse->commandType == CMD_MERGE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("MERGE into a distributed table is not supported yet")));
		return PlanShippedStatement(parse, cursorOptions, boundParams);
	}

	if (parse->commandType == CMD_SELECT)
		result = PlanShippedStatement(parse, cursorOptions, boundParams);
	if (result == NULL)
		result = PlanWithPullUp(parse, queryString, cursorOptions,
								boundParams);
	return result;
}

/*
 * FindDistributedTablesWalker sets *found when the query tree refers to a
 * distributed table anywhere, and refuses distributed tables with
 * row-level security, which distdb does not enforce yet.
 */
static bool
FindDistributedTablesWalker(Node *node, bool *found)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_RELATION && IsDistributedTable(rte->relid))
		{
			CheckRowLevelSecurity(rte->relid);
			*found = true;
		}
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, FindDistributedTablesWalker,
								 found, QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, FindDistributedTablesWalker, found);
}

/*
 * CheckRowLevelSecurity refuses a distributed table on which row-level
 * security is enabled: its policies would not be applied on the shards.
 */
static void
CheckRowLevelSecurity(Oid relid)
{
	if (check_enable_rls(relid, InvalidOid, true) != RLS_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("row-level security is not supported on distributed table \"%s\" yet",
						get_rel_name(relid)),
				 errhint("Disable row-level security on the table.")));
}
