/*-------------------------------------------------------------------------
 *
 * computed_sublinks.c
 *	  Replacing subqueries that do not depend on a statement's rows by the
 *	  values the coordinator computes first, as PostgreSQL computes an
 *	  InitPlan.
 *
 * A subquery that does not depend on the rows of the statement it is in,
 * over tables the shards cannot read (local tables, distributed tables
 * that are not co-located), is planned on its own; the executor runs it
 * before the shard queries are sent (computed_subqueries.c) and sends its
 * value to every shard as a parameter: EXISTS (...) and (SELECT ...)
 * become $n, ARRAY(...) an array $n, and x op ANY / ALL (SELECT y ...)
 * becomes x op ANY / ALL ($n) with the array of the values of y, which
 * compares exactly as the subquery's rows do, NULLs included -- so NOT IN
 * is right too, and an empty subquery gives an empty array, for which
 * x = ANY is false and x <> ALL true even when x is NULL, as with the
 * subquery.
 *
 * UPDATE and DELETE use this for the subqueries the shards cannot
 * evaluate (modify_subqueries.c).  The pull-up path (pull_up_planner.c)
 * uses it for the WHERE clause of a SELECT query level over distributed
 * tables: the filter then goes to the shards with the rest of the level
 * (aggregation, grouping, ORDER BY ... LIMIT) instead of the table's rows
 * coming to the coordinator.  A scalar subquery is computed first there
 * only when it cannot return more than one row (an aggregate without
 * GROUP BY, LIMIT 1): PostgreSQL raises its "more than one row" error
 * only when a row needs the value, which a value computed before the
 * shard queries cannot match.  A computed filter that stays on the
 * coordinator (a condition on several pulled tables) gets its subquery
 * back.
 *
 * XXX A value computed first is computed even when no row of the
 * statement needs it, like an InitPlan PostgreSQL evaluates at the start;
 * an error raised by the subquery itself (division by zero) is then
 * raised where PostgreSQL, having no row to evaluate, might not.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"

#include "distdb/planner_internal.h"

/* what ComputeQualSubLinksFirst works with */
typedef struct ComputeFirstContext
{
	ParamListInfo boundParams;
	List	  **subqueryPlans;
	List	  **subqueryKinds;
	List	  **subLinks;		/* SubLink replaced by each computed value */
	bool		replaced;
} ComputeFirstContext;

/*
 * ReplaceSubLinkParams is the mutator replacing the PARAM_SUBLINK Params
 * of an IN's comparison by the subquery's output expressions.
 */
Node *
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

/* walker collecting the PARAM_SUBLINK Params' numbers */
static bool
SubLinkParamsWalker(Node *node, Bitmapset **numbers)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_SUBLINK)
		*numbers = bms_add_member(*numbers, ((Param *) node)->paramid);
	return expression_tree_walker(node, SubLinkParamsWalker, numbers);
}

/*
 * ComputeSubLinkFirst plans an uncorrelated subquery to be computed first
 * on the coordinator (see the file header), appending its plan and kind
 * to *subqueryPlans and *subqueryKinds, and returns the expression
 * replacing subLink, or NULL for forms that are not supported: row
 * comparisons, and ANY / ALL over arrays (an array of arrays would
 * compare elements).
 */
Node *
ComputeSubLinkFirst(SubLink *subLink, ParamListInfo boundParams,
					List **subqueryPlans, List **subqueryKinds)
{
	Query	   *subquery = copyObject((Query *) subLink->subselect);
	Expr	   *first = NULL;
	OpExpr	   *test = NULL;
	Oid			resultType = InvalidOid;
	Param	   *param;
	ScalarArrayOpExpr *arrayTest;
	ListCell   *lc;

	foreach(lc, subquery->targetList)
	{
		if (!((TargetEntry *) lfirst(lc))->resjunk)
		{
			first = ((TargetEntry *) lfirst(lc))->expr;
			break;
		}
	}
	if (subLink->subLinkType == EXISTS_SUBLINK)
		resultType = BOOLOID;
	else if (first == NULL)
		return NULL;
	else if (subLink->subLinkType == EXPR_SUBLINK)
		resultType = exprType((Node *) first);
	else if (subLink->subLinkType == ARRAY_SUBLINK)
		resultType = get_promoted_array_type(exprType((Node *) first));
	else if (subLink->subLinkType == ANY_SUBLINK ||
			 subLink->subLinkType == ALL_SUBLINK)
	{
		Bitmapset  *leftParams = NULL;
		Bitmapset  *rightParams = NULL;
		Node	   *right;

		if (!IsA(subLink->testexpr, OpExpr) ||
			list_length(((OpExpr *) subLink->testexpr)->args) != 2)
			return NULL;
		test = (OpExpr *) subLink->testexpr;
		right = lsecond(test->args);
		SubLinkParamsWalker(linitial(test->args), &leftParams);
		SubLinkParamsWalker(right, &rightParams);
		if (leftParams != NULL || !bms_equal(rightParams, bms_make_singleton(1)) ||
			contain_var_clause(right))
			return NULL;
		/* the subquery computes the comparison's right side (casts) */
		first = (Expr *) ReplaceSubLinkParams(right, subquery->targetList);
		((TargetEntry *) linitial(subquery->targetList))->expr = first;
		if (type_is_array(exprType((Node *) first)))
			return NULL;
		resultType = get_array_type(exprType((Node *) first));
	}
	if (!OidIsValid(resultType))
		return NULL;

	*subqueryPlans = lappend(*subqueryPlans,
							 planner(subquery, NULL, 0, boundParams));
	*subqueryKinds = lappend_int(*subqueryKinds, subLink->subLinkType);
	param = makeNode(Param);
	param->paramkind = PARAM_EXEC;
	param->paramid = list_length(*subqueryPlans) - 1;
	param->paramtype = resultType;
	param->paramtypmod = -1;
	param->paramcollid = first != NULL ? exprCollation((Node *) first) :
		InvalidOid;
	param->location = -1;
	if (test == NULL)
		return (Node *) param;

	arrayTest = makeNode(ScalarArrayOpExpr);
	arrayTest->opno = test->opno;
	arrayTest->opfuncid = test->opfuncid;
	arrayTest->hashfuncid = InvalidOid;
	arrayTest->negfuncid = InvalidOid;
	arrayTest->useOr = (subLink->subLinkType == ANY_SUBLINK);
	arrayTest->inputcollid = test->inputcollid;
	arrayTest->args = list_make2(copyObject(linitial(test->args)), param);
	arrayTest->location = -1;
	return (Node *) arrayTest;
}


/* walker for ReferencesOuterLevels; *depth counts the levels entered */
static bool
OuterReferenceWalker(Node *node, int *depth)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varlevelsup > *depth;
	if (IsA(node, Aggref))
	{
		if (((Aggref *) node)->agglevelsup > *depth)
			return true;
	}
	if (IsA(node, GroupingFunc))
	{
		if (((GroupingFunc *) node)->agglevelsup > *depth)
			return true;
	}
	if (IsA(node, PlaceHolderVar))
	{
		if (((PlaceHolderVar *) node)->phlevelsup > *depth)
			return true;
	}
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		/* a CTE of an enclosing level */
		return rte->rtekind == RTE_CTE && rte->ctelevelsup > *depth;
	}
	if (IsA(node, Query))
	{
		bool		result;

		(*depth)++;
		result = query_tree_walker((Query *) node, OuterReferenceWalker,
								   depth, QTW_EXAMINE_RTES_BEFORE);
		(*depth)--;
		return result;
	}
	return expression_tree_walker(node, OuterReferenceWalker, depth);
}

/*
 * ReferencesOuterLevels: whether a subquery uses anything of the query
 * levels around it, at any distance.
 */
static bool
ReferencesOuterLevels(Query *subquery)
{
	int			depth = 0;

	return query_tree_walker(subquery, OuterReferenceWalker, &depth,
							 QTW_EXAMINE_RTES_BEFORE);
}

/*
 * ReturnsAtMostOneRow: whether a query can return no more than one row:
 * aggregation without grouping, or LIMIT 0 or 1.
 */
static bool
ReturnsAtMostOneRow(Query *query)
{
	Const	   *limit = (Const *) query->limitCount;

	if (query->setOperations == NULL && query->hasAggs &&
		query->groupClause == NIL && query->groupingSets == NIL &&
		!query->hasTargetSRFs)
		return true;
	if (limit == NULL || !IsA(limit, Const) || limit->constisnull ||
		limit->consttype != INT8OID ||
		query->limitOption != LIMIT_OPTION_COUNT)
		return false;
	return DatumGetInt64(limit->constvalue) <= 1;
}

/*
 * QualSubLinkMutator replaces each subquery of a WHERE clause that does
 * not depend on the query's rows by its value computed first (see the
 * file header); other subqueries stay as they are.
 */
static Node *
QualSubLinkMutator(Node *node, ComputeFirstContext *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, SubLink))
	{
		SubLink    *subLink = (SubLink *) node;
		Query	   *subquery = (Query *) subLink->subselect;
		Node	   *computed;

		if ((subLink->subLinkType != EXISTS_SUBLINK &&
			 subLink->subLinkType != EXPR_SUBLINK &&
			 subLink->subLinkType != ARRAY_SUBLINK &&
			 subLink->subLinkType != ANY_SUBLINK &&
			 subLink->subLinkType != ALL_SUBLINK) ||
			subquery->commandType != CMD_SELECT ||
			subquery->hasModifyingCTE || subquery->rowMarks != NIL ||
			(subLink->subLinkType == EXPR_SUBLINK &&
			 !ReturnsAtMostOneRow(subquery)) ||
			ReferencesOuterLevels(subquery))
			return node;
		computed = ComputeSubLinkFirst(subLink, context->boundParams,
									   context->subqueryPlans,
									   context->subqueryKinds);
		if (computed == NULL)
			return node;
		/* the subquery of value i, to give it back if it stays here */
		while (list_length(*context->subLinks) < list_length(*context->subqueryPlans) - 1)
			*context->subLinks = lappend(*context->subLinks, NULL);
		*context->subLinks = lappend(*context->subLinks, subLink);
		context->replaced = true;
		return computed;
	}
	if (IsA(node, Query))
		return node;
	return expression_tree_mutator(node, QualSubLinkMutator, context);
}

/*
 * ComputeQualSubLinksFirst replaces the subqueries of a SELECT query
 * level's WHERE clause that do not depend on its rows by values computed
 * first (see the file header), appending their plans and kinds to
 * *subqueryPlans and *subqueryKinds, and the replaced SubLinks, at the
 * same positions, to *subLinks.  Returns whether it replaced any.
 */
bool
ComputeQualSubLinksFirst(Query *query, ParamListInfo boundParams,
						 List **subqueryPlans, List **subqueryKinds,
						 List **subLinks)
{
	ComputeFirstContext context;

	if (query->commandType != CMD_SELECT || !query->hasSubLinks ||
		query->jointree->quals == NULL || query->rowMarks != NIL)
		return false;
	context.boundParams = boundParams;
	context.subqueryPlans = subqueryPlans;
	context.subqueryKinds = subqueryKinds;
	context.subLinks = subLinks;
	context.replaced = false;
	query->jointree->quals = QualSubLinkMutator(query->jointree->quals,
												&context);
	if (context.replaced)
		query->hasSubLinks = checkExprHasSubLink((Node *) query);
	return context.replaced;
}

/* what RestoreComputedSubLinks works with */
typedef struct RestoreContext
{
	List	   *subLinks;
	List	   *restored;
} RestoreContext;

/* the SubLink a computed value stands for */
static SubLink *
ComputedSubLink(Node *node, RestoreContext *context)
{
	Param	   *param = (Param *) node;

	if (!IsA(param, Param) || param->paramkind != PARAM_EXEC ||
		param->paramid >= list_length(context->subLinks) ||
		list_nth(context->subLinks, param->paramid) == NULL)
		return NULL;
	return copyObject(list_nth(context->subLinks, param->paramid));
}

/* the mutator for RestoreComputedSubLinks */
static Node *
RestoreMutator(Node *node, RestoreContext *context)
{
	SubLink    *subLink;

	if (node == NULL)
		return NULL;
	if (IsA(node, ScalarArrayOpExpr) &&
		(subLink = ComputedSubLink(lsecond(((ScalarArrayOpExpr *) node)->args),
								   context)) != NULL)
	{
		/* its compared value as it is now (columns may be renumbered) */
		OpExpr	   *test = (OpExpr *) subLink->testexpr;

		linitial(test->args) =
			RestoreMutator(linitial(((ScalarArrayOpExpr *) node)->args),
						   context);
		context->restored = lappend(context->restored, subLink);
		return (Node *) subLink;
	}
	if ((subLink = ComputedSubLink(node, context)) != NULL)
	{
		context->restored = lappend(context->restored, subLink);
		return (Node *) subLink;
	}
	if (IsA(node, Query))
		return node;
	return expression_tree_mutator(node, RestoreMutator, context);
}

/*
 * RestoreComputedSubLinks gives the subqueries back to the values computed
 * first that a query level's WHERE clause or joins still hold (the
 * coordinator evaluates them: PostgreSQL's planner must see subqueries),
 * and returns the restored SubLinks, whose subqueries the caller plans.
 */
List *
RestoreComputedSubLinks(Query *query, List *subLinks)
{
	RestoreContext context;

	context.subLinks = subLinks;
	context.restored = NIL;
	query->jointree = (FromExpr *) RestoreMutator((Node *) query->jointree,
												  &context);
	query->targetList = (List *) RestoreMutator((Node *) query->targetList,
												&context);
	query->havingQual = RestoreMutator(query->havingQual, &context);
	if (context.restored != NIL)
		query->hasSubLinks = true;
	return context.restored;
}
