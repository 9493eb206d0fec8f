/*-------------------------------------------------------------------------
 *
 * parameterize_constants.c
 *	  Turning constants and coordinator-evaluated expressions of a shard
 *	  query into parameters.
 *
 * Two reasons to send values as parameters:
 *
 * - Stable expressions that use no column, such as now(), current_user or
 *   current_date, must have the coordinator's value, as in PostgreSQL: one
 *   value for the whole statement (now(): for the whole transaction), not
 *   one per node.  They are evaluated once on the coordinator when the
 *   statement starts and sent as parameters.
 * - A router query with constants ("WHERE id = 42") has a different text
 *   for every value, so each one would be parsed and planned again on its
 *   node.  Sent with its constants as parameters, the text is the same for
 *   every value and the node runs it as a statement prepared once per
 *   connection (see SendRemotePrepared).
 *
 * - A subquery the coordinator computes first stands in the query as an
 *   executor parameter (see computed_subqueries.c): its value is sent too.
 *
 * Only values a parameter fully describes are replaced: not NULLs (whose
 * type may matter to operator resolution on the node) and not values with
 * a type modifier (a parameter has none).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/lsyscache.h"

#include "distdb/deparse.h"

typedef struct ParameterizeContext
{
	int			nextParamId;
	bool		constants;		/* replace constants too */
	List	   *values;			/* Expr, in parameter order */
} ParameterizeContext;

/* walker for MaxExternParamId */
static bool
MaxParamWalker(Node *node, int *maxParam)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
		*maxParam = Max(*maxParam, ((Param *) node)->paramid);
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, MaxParamWalker, maxParam, 0);
	return expression_tree_walker(node, MaxParamWalker, maxParam);
}

/*
 * MaxExternParamId returns the highest external parameter number the
 * query or expression uses, 0 if none.
 */
int
MaxExternParamId(Node *node)
{
	int			maxParam = 0;

	MaxParamWalker(node, &maxParam);
	return maxParam;
}

/* walker for EvaluableOnCoordinator: true when not evaluable */
static bool
NotEvaluableWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_Var:
		case T_Aggref:
		case T_WindowFunc:
		case T_GroupingFunc:
		case T_SubLink:
		case T_SubPlan:
		case T_PlaceHolderVar:
		case T_CurrentOfExpr:
		case T_NextValueExpr:
			return true;
		case T_Param:
			return ((Param *) node)->paramkind != PARAM_EXTERN;
		default:
			break;
	}
	return expression_tree_walker(node, NotEvaluableWalker, context);
}

/*
 * EvaluableOnCoordinator: an expression without columns, aggregates or
 * subqueries that is stable (not volatile) and returns one value, so it
 * can be computed once for the statement.
 */
static bool
EvaluableOnCoordinator(Node *node)
{
	return !NotEvaluableWalker(node, NULL) &&
		!contain_volatile_functions(node) &&
		!expression_returns_set(node);
}

/* the replacement of a value by the next parameter */
static Node *
MakeValueParam(Node *value, ParameterizeContext *context)
{
	Param	   *param = makeNode(Param);

	param->paramkind = PARAM_EXTERN;
	param->paramid = context->nextParamId++;
	param->paramtype = exprType(value);
	param->paramtypmod = -1;
	param->paramcollid = exprCollation(value);
	param->location = -1;
	context->values = lappend(context->values, value);
	return (Node *) param;
}

/* the mutator replacing values by parameters */
static Node *
ParameterizeMutator(Node *node, ParameterizeContext *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		return MakeValueParam(node, context);
	if (IsA(node, Const))
	{
		Const	   *constant = (Const *) node;

		if (!context->constants || constant->constisnull ||
			constant->consttypmod != -1 ||
			constant->consttype == UNKNOWNOID ||
			get_typtype(constant->consttype) == TYPTYPE_PSEUDO)
			return node;
		return MakeValueParam(node, context);
	}
	if (IsA(node, FuncExpr) || IsA(node, OpExpr) || IsA(node, SQLValueFunction) ||
		IsA(node, CoerceViaIO) || IsA(node, CaseExpr) || IsA(node, CoalesceExpr))
	{
		/* a stable computation on no column: the coordinator's value */
		if (contain_mutable_functions(node) && EvaluableOnCoordinator(node) &&
			exprTypmod(node) == -1 &&
			get_typtype(exprType(node)) != TYPTYPE_PSEUDO)
			return MakeValueParam(node, context);
	}
	if (IsA(node, FuncExpr) &&
		((FuncExpr *) node)->funcformat == COERCE_SQL_SYNTAX)
	{
		/*
		 * Functions printed in SQL syntax, like EXTRACT(field FROM x), are
		 * printed from their constant arguments: keep those.
		 */
		FuncExpr   *func = (FuncExpr *) copyObject(node);
		ListCell   *lc;

		foreach(lc, func->args)
		{
			if (!IsA(lfirst(lc), Const))
				lfirst(lc) = ParameterizeMutator(lfirst(lc), context);
		}
		return (Node *) func;
	}
	if (IsA(node, OnConflictExpr))
	{
		/*
		 * The conflict target must match the unique index's columns,
		 * expressions and predicate as written: only the DO UPDATE part
		 * takes parameters.
		 */
		OnConflictExpr *onConflict = (OnConflictExpr *) copyObject(node);

		onConflict->onConflictSet = (List *)
			ParameterizeMutator((Node *) onConflict->onConflictSet, context);
		onConflict->onConflictWhere =
			ParameterizeMutator(onConflict->onConflictWhere, context);
		return (Node *) onConflict;
	}
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, ParameterizeMutator,
										   context, 0);
	return expression_tree_mutator(node, ParameterizeMutator, context);
}

/*
 * ParameterizeExpression does what ParameterizeQuery does for any
 * expression, clause or query.
 */
Node *
ParameterizeExpression(Node *node, int firstParamId, bool withConstants,
					   List **values)
{
	ParameterizeContext context;
	Node	   *result;

	context.nextParamId = firstParamId;
	context.constants = withConstants;
	context.values = NIL;
	result = ParameterizeMutator(node, &context);
	*values = context.values;
	return result;
}

/*
 * ParameterizeQuery returns a copy of the query whose coordinator-evaluated
 * expressions -- and constants too, when withConstants -- are parameters
 * numbered from firstParamId on; *values receives the replaced expressions.
 */
Query *
ParameterizeQuery(Query *query, int firstParamId, bool withConstants,
				  List **values)
{
	return (Query *) ParameterizeExpression((Node *) query, firstParamId,
											withConstants, values);
}
