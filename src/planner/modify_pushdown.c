/*-------------------------------------------------------------------------
 *
 * modify_pushdown.c
 *	  UPDATE ... FROM and DELETE ... USING over co-located distributed
 *	  tables, run shard by shard.
 *
 * When every table of the FROM (USING) clause is co-located with the
 * target and joined to it on the distribution columns (the co-location
 * check of join_pushdown.c), each target row only meets rows of shards
 * with the same index, on the same node: the whole statement runs on each
 * set of shards, as a single-table UPDATE or DELETE does.  Any other form
 * is refused, never run with a partial view of the other tables.
 *
 * A WHERE condition EXISTS (SELECT ... FROM s WHERE ...) or x IN (SELECT
 * y FROM s ...) -- a semi-join -- becomes a join with s in the FROM
 * clause first: an UPDATE or DELETE touches each target row once however
 * many rows of s it joins, and SET and RETURNING cannot see s, so the
 * statement means the same.  The join is then checked like any other.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"

#include "distdb/deparse.h"
#include "distdb/planner_internal.h"

/*
 * RefuseModify raises the error for an UPDATE or DELETE whose other tables
 * distdb cannot join to the target shard by shard.
 */
static void
RefuseModify(Query *parse, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot run this %s on distributed table \"%s\" shard by shard",
					parse->commandType == CMD_UPDATE ? "UPDATE" : "DELETE",
					get_rel_name(rt_fetch(parse->resultRelation,
										  parse->rtable)->relid)),
			 errdetail("%s", detail),
			 errhint("Join only distributed tables co-located with the target, on their distribution columns.")));
}

/*
 * ReplaceSubLinkParams is the mutator replacing the PARAM_SUBLINK Params
 * of an IN's comparison by the subquery's output expressions.
 */
static Node *
ReplaceSubLinkParams(Node *node, List *targetList)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_SUBLINK)
	{
		TargetEntry *tle = list_nth(targetList,
									((Param *) node)->paramid - 1);

		return copyObject((Node *) tle->expr);
	}
	return expression_tree_mutator(node, ReplaceSubLinkParams, targetList);
}

/*
 * PullUpSemiJoin turns a WHERE condition that is an EXISTS or IN
 * subquery into a join with the subquery's tables (see the file header)
 * and returns the AND-ed conditions that replace it, setting *pulledUp;
 * it leaves the statement alone when the subquery is not a plain join of
 * tables (aggregates, LIMIT, set operations, ... would change its
 * meaning).
 */
static List *
PullUpSemiJoin(Query *query, SubLink *subLink, bool *pulledUp)
{
	Query	   *subquery = (Query *) subLink->subselect;
	int			offset = list_length(query->rtable);
	List	   *conditions = NIL;
	ListCell   *lc;

	*pulledUp = false;

	if ((subLink->subLinkType != EXISTS_SUBLINK &&
		 subLink->subLinkType != ANY_SUBLINK) ||
		subquery->commandType != CMD_SELECT || subquery->cteList != NIL ||
		subquery->setOperations != NULL || subquery->hasAggs ||
		subquery->hasWindowFuncs || subquery->hasTargetSRFs ||
		subquery->hasSubLinks || subquery->groupClause != NIL ||
		subquery->groupingSets != NIL || subquery->havingQual != NULL ||
		subquery->limitCount != NULL || subquery->limitOffset != NULL ||
		subquery->rowMarks != NIL || subquery->jointree->fromlist == NIL)
		return NIL;
	foreach(lc, subquery->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind != RTE_RELATION && rte->rtekind != RTE_JOIN)
			return NIL;
	}

	/* the subquery's level becomes the statement's */
	subquery = copyObject(subquery);
	OffsetVarNodes((Node *) subquery, offset, 0);
	IncrementVarSublevelsUp((Node *) subquery, -1, 1);
	if (subLink->subLinkType == ANY_SUBLINK)
		conditions = make_ands_implicit((Expr *)
										ReplaceSubLinkParams(copyObject(subLink->testexpr),
															 subquery->targetList));
	if (subquery->jointree->quals != NULL)
		conditions = list_concat(conditions,
								 make_ands_implicit((Expr *) subquery->jointree->quals));
	query->rtable = list_concat(query->rtable, subquery->rtable);
	query->jointree->fromlist = list_concat(query->jointree->fromlist,
											subquery->jointree->fromlist);
	*pulledUp = true;
	return conditions;
}

/*
 * PullUpSemiJoins pulls up every EXISTS and IN subquery that is an AND-ed
 * WHERE condition of the statement (see PullUpSemiJoin); other subqueries
 * (NOT EXISTS, scalar subqueries, subqueries in SET) stay, and are refused.
 */
static void
PullUpSemiJoins(Query *query)
{
	List	   *conditions;
	List	   *result = NIL;
	ListCell   *lc;

	if (!query->hasSubLinks || query->jointree->quals == NULL)
		return;
	conditions = make_ands_implicit((Expr *) query->jointree->quals);
	foreach(lc, conditions)
	{
		Node	   *condition = lfirst(lc);
		bool		pulledUp = false;

		if (IsA(condition, SubLink))
		{
			List	   *replacement = PullUpSemiJoin(query, (SubLink *) condition,
													 &pulledUp);

			if (pulledUp)
			{
				result = list_concat(result, replacement);
				continue;
			}
		}
		result = lappend(result, condition);
	}
	query->jointree->quals = result ? (Node *) make_ands_explicit(result) : NULL;
	query->hasSubLinks = checkExprHasSubLink((Node *) query);
}

/*
 * PlanColocatedModify plans an UPDATE ... FROM or DELETE ... USING (or
 * with EXISTS / IN subqueries) on a distributed table whose other tables
 * are co-located with it and joined to it on the distribution columns,
 * and refuses other forms.
 */
DistributedPlan *
PlanColocatedModify(Query *parse, ParamListInfo boundParams)
{
	Query	   *query = copyObject(parse);
	Relids		relations;
	RangeTblEntry *target = rt_fetch(query->resultRelation, query->rtable);
	List	   *conditions = NIL;
	Expr	   *pruneValue = NULL;
	List	   *shardIndexes;
	ListCell   *lc;

	PullUpSemiJoins(query);
	if (query->hasSubLinks)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("this form of %s on a distributed table is not supported yet",
						query->commandType == CMD_UPDATE ? "UPDATE" : "DELETE"),
				 errdetail("Subqueries are supported only as EXISTS or IN conditions of WHERE over tables joined on the distribution columns, without aggregates or LIMIT.")));
	relations = get_relids_in_jointree((Node *) query->jointree, false);

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && !IsDistributedTable(rte->relid))
			RefuseModify(query, psprintf("\"%s\" is not a distributed table.",
										 get_rel_name(rte->relid)));
		if (rte->rtekind != RTE_RELATION && rte->rtekind != RTE_JOIN)
			RefuseModify(query, "Only tables can be joined to the target.");
	}
	/*
	 * Reference tables are refused: a shard task would update the target
	 * once per node holding a copy.
	 */
	if (!RelationsJoinedOnDistributionColumns(query, relations, false, NULL))
		RefuseModify(query, "Every table must be co-located with the target and joined to it on the distribution columns.");

	/* join alias references become references to the tables' columns */
	query->targetList = (List *)
		flatten_join_alias_vars(query, (Node *) query->targetList);
	query->returningList = (List *)
		flatten_join_alias_vars(query, (Node *) query->returningList);
	query->jointree = (FromExpr *)
		flatten_join_alias_vars(query, (Node *) query->jointree);
	if (!QueryIsDeparsable(query))
		RefuseModify(query, "The statement uses a clause that cannot be sent to the shards.");

	if (query->jointree->quals != NULL)
		conditions = make_ands_implicit((Expr *) query->jointree->quals);
	shardIndexes = PruneColocatedShards(query, relations, conditions,
										boundParams, &pruneValue);
	return MakeShipQueryPlan(target->relid, query, shardIndexes, pruneValue,
							 true, query->returningList != NIL);
}
