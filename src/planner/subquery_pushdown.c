/*-------------------------------------------------------------------------
 *
 * subquery_pushdown.c
 *	  Subqueries in FROM (and inlined CTEs) that run on the shards with the
 *	  join around them.
 *
 * A subquery whose own FROM clause is a join of co-located distributed
 * tables on their distribution columns (plus reference tables, as
 * join_pushdown.c allows them) produces each of its rows from one set of
 * shards with the same index -- provided it computes nothing across
 * shards: its groups, DISTINCT rows and window partitions must each lie
 * in one shard, i.e. be keyed by a distribution column that is NULL in no
 * row (see IsPartitionColumn), and it has no LIMIT, ORDER BY, set
 * operation other than UNION ALL of such subqueries, aggregate without
 * GROUP BY, or sublink.  Such a subquery
 * behaves like a co-located table whose distribution column is its output
 * column holding a distribution column: join_pushdown.c then joins it
 * with other co-located tables and subqueries on the shards, and the shard
 * query carries the subquery's text (deparse_shard_query.c).
 *
 * CTEs that PostgreSQL would inline (not recursive, SELECT without
 * volatile functions, referenced once and not MATERIALIZED, or NOT
 * MATERIALIZED) are inlined as FROM subqueries first, so that they take
 * the same path; the others are planned as before.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"

#include "distdb/deparse.h"
#include "distdb/planner_internal.h"

/*
 * IsPartitionColumn: whether an expression of a query level is a
 * distribution column of one of its co-located relations (a table, or a
 * subquery that runs on the shards), on no outer join's nullable side:
 * all rows with one value of it, and no NULLs, come from one set of
 * shards.
 */
bool
IsPartitionColumn(Query *query, Node *expr)
{
	Var		   *var;
	RangeTblEntry *rte;

	while (expr != NULL && IsA(expr, RelabelType))
		expr = (Node *) ((RelabelType *) expr)->arg;
	if (expr == NULL || !IsA(expr, Var) || ((Var *) expr)->varlevelsup != 0)
		return false;
	var = (Var *) expr;
	if (var->varattno <= 0 ||
		IsNullableInJoinTree((Node *) query->jointree, var->varno, false))
		return false;
	rte = rt_fetch(var->varno, query->rtable);
	if (rte->rtekind == RTE_RELATION)
	{
		DistTableCacheEntry *entry = LookupDistTable(rte->relid);

		return entry != NULL && !IsReferenceTableEntry(entry) &&
			var->varattno == entry->distAttnum;
	}
	return rte->rtekind == RTE_SUBQUERY &&
		SubqueryOutputIsPartitionColumn(rte, var->varattno);
}

/*
 * SubqueryOutputIsPartitionColumn: the output column attno of a FROM
 * subquery that runs on the shards is a partition column of it (see
 * IsPartitionColumn): a distribution column for the query level around it.
 */
bool
SubqueryOutputIsPartitionColumn(RangeTblEntry *rte, AttrNumber attno)
{
	TargetEntry *tle;

	if (rte->rtekind != RTE_SUBQUERY || !SubqueryRunsOnShards(rte))
		return false;
	/* UNION ALL: the column of every branch */
	if (rte->subquery->setOperations != NULL)
	{
		ListCell   *lc;

		foreach(lc, rte->subquery->rtable)
		{
			if (!SubqueryOutputIsPartitionColumn(lfirst(lc), attno))
				return false;
		}
		return true;
	}
	tle = get_tle_by_resno(rte->subquery->targetList, attno);
	return tle != NULL && !tle->resjunk &&
		IsPartitionColumn(rte->subquery, (Node *) tle->expr);
}

/* whether one of the sort/group clauses' expressions is a partition column */
static bool
KeyedByPartitionColumn(Query *query, List *clauses)
{
	ListCell   *lc;

	foreach(lc, clauses)
	{
		if (IsPartitionColumn(query,
							  get_sortgroupclause_expr(lfirst(lc),
													   query->targetList)))
			return true;
	}
	return false;
}

/*
 * UnionAllRunsOnShards: whether a set operation tree is UNION ALL of
 * subqueries that run on the shards, co-located with each other: each
 * row of the union comes from one set of shards, as each branch's does.
 */
static bool
UnionAllRunsOnShards(Query *query, Node *node, int32 *colocationId)
{
	if (IsA(node, RangeTblRef))
	{
		RangeTblEntry *rte = rt_fetch(((RangeTblRef *) node)->rtindex,
									  query->rtable);
		DistTableCacheEntry *entry;

		if (rte->rtekind != RTE_SUBQUERY || !SubqueryRunsOnShards(rte))
			return false;
		entry = ColocatedRelationEntry(rte);
		if (*colocationId == 0)
			*colocationId = entry->colocationId;
		return entry->colocationId == *colocationId;
	}
	if (IsA(node, SetOperationStmt))
	{
		SetOperationStmt *setop = (SetOperationStmt *) node;

		return setop->op == SETOP_UNION && setop->all &&
			UnionAllRunsOnShards(query, setop->larg, colocationId) &&
			UnionAllRunsOnShards(query, setop->rarg, colocationId);
	}
	return false;
}

/*
 * SubqueryRunsOnShards: whether a FROM subquery can run on each set of
 * co-located shards, every row of its result coming from one of them (see
 * the file header).
 */
bool
SubqueryRunsOnShards(RangeTblEntry *rte)
{
	Query	   *subquery = rte->subquery;
	Relids		relations;
	Relids		distributed = NULL;
	ListCell   *lc;

	if (rte->rtekind != RTE_SUBQUERY || rte->lateral ||
		rte->security_barrier || subquery->commandType != CMD_SELECT ||
		subquery->utilityStmt != NULL ||
		subquery->cteList != NIL || subquery->hasRecursive ||
		subquery->hasModifyingCTE || subquery->hasSubLinks ||
		subquery->hasTargetSRFs || subquery->groupingSets != NIL ||
		subquery->groupDistinct || subquery->limitCount != NULL ||
		subquery->limitOffset != NULL || subquery->rowMarks != NIL ||
		subquery->sortClause != NIL)
		return false;
	if (subquery->setOperations != NULL)
	{
		int32		colocationId = 0;

		return UnionAllRunsOnShards(subquery, subquery->setOperations,
									&colocationId);
	}
	if (subquery->jointree->fromlist == NIL)
		return false;

	/* co-located relations joined on their distribution columns */
	relations = get_relids_in_jointree((Node *) subquery->jointree, false);
	if (!RelationsJoinedOnDistributionColumns(subquery, relations, true,
											  &distributed) ||
		bms_is_empty(distributed))
		return false;

	/* everything it computes, the shards can compute */
	if ((subquery->jointree->quals != NULL &&
		 !IsShippableFilter(subquery->jointree->quals)) ||
		!ShippableWithAggregates((Node *) subquery->targetList) ||
		!ShippableWithAggregates(subquery->havingQual))
		return false;

	/* groups, DISTINCT rows and window partitions lie in one shard */
	if ((subquery->hasAggs || subquery->groupClause != NIL ||
		 subquery->havingQual != NULL) &&
		!KeyedByPartitionColumn(subquery, subquery->groupClause))
		return false;
	if (subquery->distinctClause != NIL &&
		!KeyedByPartitionColumn(subquery, subquery->distinctClause))
		return false;
	foreach(lc, subquery->windowClause)
	{
		WindowClause *window = lfirst(lc);

		if (!KeyedByPartitionColumn(subquery, window->partitionClause))
			return false;
	}
	return true;
}

/*
 * ColocatedRelationEntry returns the metadata of a distributed table of a
 * co-located FROM item: the table itself, or one inside a subquery that
 * runs on the shards (all share its shard ranges and nodes); NULL for
 * anything else.
 */
DistTableCacheEntry *
ColocatedRelationEntry(RangeTblEntry *rte)
{
	ListCell   *lc;

	if (rte->rtekind == RTE_RELATION)
		return LookupDistTable(rte->relid);
	if (rte->rtekind != RTE_SUBQUERY)
		return NULL;
	foreach(lc, rte->subquery->rtable)
	{
		DistTableCacheEntry *entry = ColocatedRelationEntry(lfirst(lc));

		if (entry != NULL && !IsReferenceTableEntry(entry))
			return entry;
	}
	return NULL;
}

/*
 * NestedRelationsWalker appends to *relations the range table entries of
 * the relations read by the queries in node (a Query given as node
 * included), at any depth.  Called with query_tree_walker on a query, it
 * collects those of its subqueries only.
 */
bool
NestedRelationsWalker(Node *node, List **relations)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_RELATION)
			*relations = lappend(*relations, rte);
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, NestedRelationsWalker,
								 relations, QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, NestedRelationsWalker, relations);
}

/*
 * UniqueColumnNames gives the output columns of a FROM subquery distinct
 * names, which the shard query's references to them use.
 */
static void
UniqueColumnNames(RangeTblEntry *rte)
{
	List	   *names = NIL;
	List	   *nameNodes = NIL;
	ListCell   *lc;

	foreach(lc, rte->eref->colnames)
	{
		char	   *unique = UniqueName(strVal(lfirst(lc)), names);

		names = lappend(names, unique);
		nameNodes = lappend(nameNodes, makeString(unique));
	}
	rte->eref = makeAlias(rte->eref->aliasname, nameNodes);
	rte->alias = makeAlias(rte->eref->aliasname, copyObject(nameNodes));
}

/*
 * PrepareLevelsWalker readies every query level nested in a shard query
 * for deparsing: join alias references become the joined columns (as at
 * the top level), and FROM subqueries' columns get distinct names.
 */
static bool
PrepareLevelsWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		query->targetList = (List *)
			flatten_join_alias_vars(query, (Node *) query->targetList);
		query->havingQual = flatten_join_alias_vars(query,
													query->havingQual);
		query->jointree = (FromExpr *)
			flatten_join_alias_vars(query, (Node *) query->jointree);
		foreach(lc, query->rtable)
		{
			if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_SUBQUERY)
				UniqueColumnNames(lfirst(lc));
		}
		return query_tree_walker(query, PrepareLevelsWalker, context, 0);
	}
	return expression_tree_walker(node, PrepareLevelsWalker, context);
}

/*
 * PrepareSubqueriesForShards readies the nested levels of a shard query
 * -- FROM subqueries and sublinks -- for deparsing (see
 * PrepareLevelsWalker) and adds to its range table an entry, outside its
 * FROM clause, for each relation they read that it does not have yet:
 * the executor names shards through the statement's own range table.
 */
void
PrepareSubqueriesForShards(Query *workerQuery)
{
	List	   *relations = NIL;
	ListCell   *lc;

	query_tree_walker(workerQuery, PrepareLevelsWalker, NULL, 0);
	query_tree_walker(workerQuery, NestedRelationsWalker, &relations, 0);
	foreach(lc, relations)
	{
		RangeTblEntry *nested = lfirst(lc);
		ListCell   *tlc;
		bool		found = false;

		foreach(tlc, workerQuery->rtable)
		{
			RangeTblEntry *rte = lfirst(tlc);

			if (rte->rtekind == RTE_RELATION && rte->relid == nested->relid)
				found = true;
		}
		if (!found)
		{
			RangeTblEntry *copy = copyObject(nested);

			copy->inFromCl = false;
			workerQuery->rtable = lappend(workerQuery->rtable, copy);
		}
	}
}

/*
 * KeepSubqueryRelations adds to a query level, outside its FROM clause, a
 * copy of the range table entry of every relation read by its subqueries
 * among relations, whose join went to the shards, and by the sublinks of
 * the conditions that went with it: PostgreSQL's executor
 * checks the privileges of the statement's relations, but not of those in
 * subqueries its planner never saw in a FROM clause.
 */
void
KeepSubqueryRelations(Query *query, Relids relations, List *conditions)
{
	List	   *nested = NIL;
	int			member = -1;
	ListCell   *lc;

	NestedRelationsWalker((Node *) conditions, &nested);

	while ((member = bms_next_member(relations, member)) >= 0)
	{
		RangeTblEntry *rte = rt_fetch(member, query->rtable);

		if (rte->rtekind == RTE_SUBQUERY)
			NestedRelationsWalker((Node *) rte->subquery, &nested);
	}
	foreach(lc, nested)
	{
		RangeTblEntry *copy = copyObject(lfirst(lc));

		copy->inFromCl = false;
		query->rtable = lappend(query->rtable, copy);
	}
}

/* what InlineCteWalker replaces */
typedef struct InlineCteContext
{
	CommonTableExpr *cte;
	int			levelsUp;		/* of the query level being walked, from
								 * the CTE's */
} InlineCteContext;

/*
 * InlineCteWalker turns the references to a CTE into subqueries holding
 * copies of its query, whose references to enclosing levels are adjusted
 * to the reference's depth.
 */
static bool
InlineCteWalker(Node *node, InlineCteContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		bool		result;

		context->levelsUp++;
		result = query_tree_walker((Query *) node, InlineCteWalker, context,
								   QTW_EXAMINE_RTES_AFTER);
		context->levelsUp--;
		return result;
	}
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;
		Query	   *subquery;

		if (rte->rtekind != RTE_CTE || rte->ctelevelsup != context->levelsUp ||
			strcmp(rte->ctename, context->cte->ctename) != 0)
			return false;
		subquery = copyObject((Query *) context->cte->ctequery);
		if (context->levelsUp > 0)
			IncrementVarSublevelsUp((Node *) subquery, context->levelsUp, 1);
		rte->rtekind = RTE_SUBQUERY;
		rte->subquery = subquery;
		rte->security_barrier = false;
		rte->ctename = NULL;
		rte->ctelevelsup = 0;
		rte->self_reference = false;
		rte->coltypes = NIL;
		rte->coltypmods = NIL;
		rte->colcollations = NIL;
		return false;
	}
	return expression_tree_walker(node, InlineCteWalker, context);
}

/*
 * CteIsInlinable: whether PostgreSQL's planner would inline the CTE as a
 * subquery (subquery_planner's rule); distdb then does so first.
 */
static bool
CteIsInlinable(Query *query, CommonTableExpr *cte)
{
	Query	   *cteQuery = (Query *) cte->ctequery;

	return (cte->ctematerialized == CTEMaterializeNever ||
			(cte->ctematerialized == CTEMaterializeDefault &&
			 cte->cterefcount == 1)) &&
		!cte->cterecursive && !query->hasRecursive &&
		cteQuery->commandType == CMD_SELECT && !cteQuery->hasModifyingCTE &&
		cte->cterefcount > 0 &&
		!contain_volatile_functions((Node *) cteQuery);
}

/* walker for InlineCommonTableExpressions: every query level */
static bool
InlineCtesWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		InlineCommonTableExpressions((Query *) node);
		return false;
	}
	return expression_tree_walker(node, InlineCtesWalker, context);
}

/*
 * InlineCommonTableExpressions inlines, at every level of the statement,
 * the CTEs PostgreSQL would inline (see the file header), so that the
 * co-location checks see them as FROM subqueries.
 */
void
InlineCommonTableExpressions(Query *query)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, query->cteList)
	{
		CommonTableExpr *cte = lfirst(lc);
		InlineCteContext context;

		if (!CteIsInlinable(query, cte))
		{
			kept = lappend(kept, cte);
			continue;
		}
		context.cte = cte;
		context.levelsUp = -1;
		InlineCteWalker((Node *) query, &context);
	}
	query->cteList = kept;
	query_tree_walker(query, InlineCtesWalker, NULL, 0);
}
