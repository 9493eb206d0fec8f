/*-------------------------------------------------------------------------
 *
 * sublink_pushdown.c
 *	  WHERE conditions with subqueries (EXISTS, IN, NOT IN, scalar) that
 *	  the shards can evaluate with the join of their query level.
 *
 * A sublink is evaluated for each row of its query level.  When that
 * level's FROM clause runs on each set of co-located shards
 * (join_pushdown.c), a shard can also evaluate a sublink, provided the
 * sublink sees there exactly the rows it would see over all shards:
 *
 *	- correlated on the distribution column: its WHERE clause has a
 *	  condition "inner distribution column = outer distribution column"
 *	  and its distributed tables are all co-located and joined to that
 *	  inner table on the distribution columns.  For an outer row from
 *	  shard i, every row the subquery can see then has the outer row's
 *	  distribution value, and so lies in shard i (and when that value is
 *	  NULL, the subquery sees no row anywhere).  Anything may follow:
 *	  aggregates, LIMIT, other correlations; EXISTS, NOT EXISTS, IN,
 *	  scalar subqueries all keep their meaning.
 *	- x IN (SELECT col ...), and NOT IN, uncorrelated: x is a distribution
 *	  column of the outer level, never NULL (not on an outer join's
 *	  nullable side), compared by equality with the subquery's output col,
 *	  a distribution column of the subquery that can never be NULL either,
 *	  and the subquery runs on the shards as a FROM subquery would
 *	  (subquery_pushdown.c).  A value equal to x then only comes from x's
 *	  shard, and with no NULL on either side IN is exactly true or false,
 *	  so NOT IN is exact too.
 *
 * Output expressions with such sublinks (a correlated scalar subquery in
 * the SELECT list) are computed by the shards too, as columns of the
 * join's shard query.  Other sublinks stay on the coordinator, over rows
 * pulled from the shards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"

#include "distdb/planner_internal.h"

/* what SubLinkWalker needs to know about the sublinks' query level */
typedef struct SubLinkCheckContext
{
	Query	   *query;			/* the query level (its FROM clause intact) */
	Relids		relations;		/* its FROM items */
	int32		colocationId;	/* of its distributed tables */
	bool		unshippable;	/* a sublink that cannot go to the shards */
} SubLinkCheckContext;

/*
 * UnshippableSubselectWalker returns true for what a subquery shipped to
 * the shards must not contain: further sublinks, references beyond the
 * enclosing level, aggregates of enclosing levels, non-external
 * parameters.  levelsUp counts the query levels entered below the
 * subquery.
 */
static bool
UnshippableSubselectWalker(Node *node, int *levelsUp)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		bool		result;

		(*levelsUp)++;
		result = query_tree_walker((Query *) node, UnshippableSubselectWalker,
								   levelsUp, 0);
		(*levelsUp)--;
		return result;
	}
	switch (nodeTag(node))
	{
		case T_Var:
			return ((Var *) node)->varlevelsup > *levelsUp + 1 ||
				((Var *) node)->varattno <= 0;
		case T_Aggref:
			if (((Aggref *) node)->agglevelsup > *levelsUp)
				return true;
			break;
		case T_Param:
			return ((Param *) node)->paramkind != PARAM_EXTERN;
		case T_SubLink:
		case T_SubPlan:
		case T_AlternativeSubPlan:
		case T_GroupingFunc:
		case T_PlaceHolderVar:
		case T_NextValueExpr:
		case T_CurrentOfExpr:
			return true;
		default:
			break;
	}
	return expression_tree_walker(node, UnshippableSubselectWalker, levelsUp);
}

/*
 * SubselectIsShippable: the subquery of a sublink holds nothing the
 * shards could not evaluate (see UnshippableSubselectWalker): only
 * co-located tables, checked by the callers, and expressions over them and
 * the enclosing level's row.
 */
static bool
SubselectIsShippable(Query *subselect)
{
	int			levelsUp = 0;

	return subselect->commandType == CMD_SELECT &&
		subselect->utilityStmt == NULL && subselect->setOperations == NULL &&
		subselect->cteList == NIL && !subselect->hasSubLinks &&
		subselect->rowMarks == NIL && subselect->jointree->fromlist != NIL &&
		!query_tree_walker(subselect, UnshippableSubselectWalker, &levelsUp,
						   0) &&
		!contain_volatile_functions((Node *) subselect) &&
		!ContainsSequenceFunctions((Node *) subselect) &&
		ShippableWithAggregates((Node *) subselect->targetList);
}

/*
 * IsCorrelatedOnDistributionColumn: the subquery's WHERE clause equates a
 * distribution column of its join with one of the enclosing level (see
 * the file header).
 */
static bool
IsCorrelatedOnDistributionColumn(SubLinkCheckContext *context,
								 Query *subselect, Relids subDistributed)
{
	ListCell   *lc;

	if (subselect->jointree->quals == NULL)
		return false;
	foreach(lc, make_ands_implicit((Expr *) subselect->jointree->quals))
	{
		OpExpr	   *op = lfirst(lc);
		Index		inner;
		DistTableCacheEntry *entry;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2)
			continue;
		inner = DistributionColumnOf(subselect, subDistributed,
									 linitial(op->args));
		if (inner == 0 ||
			OuterDistributionColumnOf(context->query, context->relations,
									  lsecond(op->args)) == 0)
		{
			inner = DistributionColumnOf(subselect, subDistributed,
										 lsecond(op->args));
			if (inner == 0 ||
				OuterDistributionColumnOf(context->query, context->relations,
										  linitial(op->args)) == 0)
				continue;
		}
		entry = ColocatedRelationEntry(rt_fetch(inner, subselect->rtable));
		if (op_in_opfamily(op->opno, entry->hashOpfamily))
			return true;
	}
	return false;
}

/*
 * IsColocatedIn: x IN (SELECT col ...) over a subquery that runs on the
 * shards, x and col never-NULL distribution columns (see the file header).
 */
static bool
IsColocatedIn(SubLinkCheckContext *context, SubLink *subLink)
{
	Query	   *subselect = (Query *) subLink->subselect;
	OpExpr	   *op = (OpExpr *) subLink->testexpr;
	Param	   *param;
	RangeTblEntry *subqueryRte;
	DistTableCacheEntry *entry;

	if (subLink->subLinkType != ANY_SUBLINK || op == NULL ||
		!IsA(op, OpExpr) || list_length(op->args) != 2)
		return false;
	param = (Param *) lsecond(op->args);
	if (!IsA(param, Param) || param->paramkind != PARAM_SUBLINK ||
		param->paramid != 1 || !IsPartitionColumn(context->query,
												  linitial(op->args)))
		return false;

	/* the subquery as a FROM item: runs on the shards, col its partition */
	subqueryRte = makeNode(RangeTblEntry);
	subqueryRte->rtekind = RTE_SUBQUERY;
	subqueryRte->subquery = subselect;
	if (!SubqueryOutputIsPartitionColumn(subqueryRte, param->paramid))
		return false;
	entry = ColocatedRelationEntry(subqueryRte);
	return entry->colocationId == context->colocationId &&
		op_in_opfamily(op->opno, entry->hashOpfamily);
}

/*
 * SubLinkRunsOnShards: whether the shards evaluate the sublink as the
 * coordinator would (see the file header).
 */
static bool
SubLinkRunsOnShards(SubLinkCheckContext *context, SubLink *subLink)
{
	Query	   *subselect = (Query *) subLink->subselect;
	Relids		subRelations;
	Relids		subDistributed = NULL;
	DistTableCacheEntry *entry;

	if (subLink->subLinkType != EXISTS_SUBLINK &&
		subLink->subLinkType != ANY_SUBLINK &&
		subLink->subLinkType != ALL_SUBLINK &&
		subLink->subLinkType != EXPR_SUBLINK)
		return false;
	if (!SubselectIsShippable(subselect))
		return false;
	subRelations = get_relids_in_jointree((Node *) subselect->jointree, false);
	if (!RelationsJoinedOnDistributionColumns(subselect, subRelations, true,
											  &subDistributed) ||
		bms_is_empty(subDistributed))
		return false;
	entry = ColocatedRelationEntry(rt_fetch(bms_next_member(subDistributed, -1),
											subselect->rtable));
	if (entry->colocationId != context->colocationId)
		return false;
	return IsCorrelatedOnDistributionColumn(context, subselect,
											subDistributed) ||
		IsColocatedIn(context, subLink);
}

/*
 * SubLinkReplacer replaces the sublinks the shards can evaluate by NULL
 * constants of their type, so that what is left of the condition can be
 * checked like any other; it notes the others.  The testexpr of IN / ANY
 * is checked in its place, with the subquery's values as NULLs too.
 */
static Node *
SubLinkReplacer(Node *node, SubLinkCheckContext *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, SubLink))
	{
		SubLink    *subLink = (SubLink *) node;

		if (!SubLinkRunsOnShards(context, subLink))
		{
			context->unshippable = true;
			return node;
		}
		if (subLink->testexpr != NULL)
		{
			Node	   *testexpr = SubLinkReplacer(subLink->testexpr, context);

			if (!IsShippableFilter(testexpr))
				context->unshippable = true;
		}
		return (Node *) makeNullConst(exprType(node), exprTypmod(node),
									  exprCollation(node));
	}
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_SUBLINK)
		return (Node *) makeNullConst(exprType(node), exprTypmod(node),
									  exprCollation(node));
	return expression_tree_mutator(node, SubLinkReplacer, context);
}

/*
 * IsShippableWithSubLinks: whether a WHERE condition or output expression
 * of a query level whose FROM clause runs on the shards contains
 * sublinks, all of which the shards evaluate as the coordinator would, in
 * an expression they can evaluate row by row.  distributed holds the
 * level's co-located distributed FROM items.
 */
bool
IsShippableWithSubLinks(Query *query, Relids relations,
							Relids distributed, Node *clause)
{
	SubLinkCheckContext context;
	Node	   *rest;

	if (bms_is_empty(distributed) || !checkExprHasSubLink(clause))
		return false;
	memset(&context, 0, sizeof(context));
	context.query = query;
	context.relations = relations;
	context.colocationId =
		ColocatedRelationEntry(rt_fetch(bms_next_member(distributed, -1),
										query->rtable))->colocationId;
	rest = SubLinkReplacer(copyObject(clause), &context);
	return !context.unshippable && IsShippableFilter(rest);
}

/*
 * TakeShippableOutputs finds the output expressions of a query level
 * without aggregation or window functions whose sublinks the shards
 * evaluate (see IsShippableWithSubLinks): it returns their target
 * entries, with *exprs their expressions, which it replaces by NULL
 * constants until the shard query computes them (see
 * ReadShippedOutputs); RestoreShippedOutputs undoes it.
 */
List *
TakeShippableOutputs(Query *query, Relids relations, Relids distributed,
					 List **exprs)
{
	List	   *entries = NIL;
	ListCell   *lc;

	*exprs = NIL;
	/* grouped rows take their values from the groups, not from rows */
	if (query->hasAggs || query->groupClause != NIL ||
		query->groupingSets != NIL || query->hasWindowFuncs ||
		query->hasTargetSRFs)
		return NIL;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = (Node *) tle->expr;

		if (!checkExprHasSubLink(expr) || contain_agg_clause(expr) ||
			contain_window_function(expr) ||
			!IsTransferableOutput(list_make1(expr)) ||
			!IsShippableWithSubLinks(query, relations, distributed, expr))
			continue;
		entries = lappend(entries, tle);
		*exprs = lappend(*exprs, expr);
		tle->expr = (Expr *) makeNullConst(exprType(expr), exprTypmod(expr),
										   exprCollation(expr));
	}
	return entries;
}

/* RestoreShippedOutputs gives the entries their expressions back */
void
RestoreShippedOutputs(List *entries, List *exprs)
{
	ListCell   *entryCell;
	ListCell   *exprCell;

	forboth(entryCell, entries, exprCell, exprs)
		((TargetEntry *) lfirst(entryCell))->expr = lfirst(exprCell);
}

/*
 * ReadShippedOutputs makes the entries read their expressions from the
 * placeholder's columns, from firstColumn on, in order.
 */
void
ReadShippedOutputs(List *entries, Index placeholderIndex,
				   AttrNumber firstColumn)
{
	ListCell   *lc;
	AttrNumber	column = firstColumn;

	foreach(lc, entries)
	{
		TargetEntry *tle = lfirst(lc);
		Node	   *expr = (Node *) tle->expr;

		tle->expr = (Expr *) makeVar(placeholderIndex, column++,
									 exprType(expr), exprTypmod(expr),
									 exprCollation(expr), 0);
	}
}
