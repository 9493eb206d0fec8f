/*-------------------------------------------------------------------------
 *
 * shippable.c
 *	  Which expressions may be evaluated on the shards instead of the
 *	  coordinator.
 *
 * Expressions are printed and evaluated on the nodes by name, so they
 * must mean the same there.  Sequence functions do not: sequences live on
 * the coordinator only; nor do distdb's own functions, which read the
 * coordinator's metadata; nor do tables' row types, which the nodes
 * do not have.  Filters pushed below the coordinator's plan must
 * also be free of anything bound to the coordinator's execution:
 * subqueries, executor parameters, references to outer queries, and
 * volatile functions (whose number of calls would change).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

#include "distdb/metadata_catalog.h"

#include "distdb/planner_internal.h"

/* walker for ContainsSequenceFunctions */
static bool
SequenceFunctionWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncExpr))
	{
		Oid			funcid = ((FuncExpr *) node)->funcid;

		if (funcid == F_NEXTVAL || funcid == F_CURRVAL ||
			funcid == F_SETVAL_REGCLASS_INT8 ||
			funcid == F_SETVAL_REGCLASS_INT8_BOOL || funcid == F_LASTVAL)
			return true;
	}
	if (IsA(node, NextValueExpr))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, SequenceFunctionWalker,
								 context, 0);
	return expression_tree_walker(node, SequenceFunctionWalker, context);
}

/*
 * ContainsSequenceFunctions: whether the expression or query calls a
 * sequence function.
 */
bool
ContainsSequenceFunctions(Node *node)
{
	return SequenceFunctionWalker(node, NULL);
}

/*
 * IsDistdbFunction: a function of distdb itself, which answers about the
 * coordinator's metadata and means nothing on a node.
 */
static bool
IsDistdbFunction(Oid functionId, void *context)
{
	return get_func_namespace(functionId) == DistdbSchemaId();
}

/*
 * IsTableRowType: a table's row type, which the nodes do not have (a shard
 * has its own).
 */
static bool
IsTableRowType(Oid type)
{
	return OidIsValid(get_typ_typrelid(type));
}

/*
 * HasTableRowType: whether the node computes a value of a table's row
 * type (ROW(...)::t, a whole-row reference, a cast or function result).
 */
static bool
HasTableRowType(Node *node)
{
	switch (nodeTag(node))
	{
		case T_Var:
		case T_Const:
		case T_Param:
		case T_RowExpr:
		case T_FuncExpr:
		case T_CoerceViaIO:
		case T_RelabelType:
		case T_ConvertRowtypeExpr:
		case T_FieldStore:
		case T_CaseExpr:
		case T_CoalesceExpr:
			return IsTableRowType(exprType(node));
		default:
			return false;
	}
}

/*
 * walker for IsShippableFilter and IsShippableSubquery: true means "not
 * shippable"; *inSubquery tells whether a subquery is being checked, where
 * outer columns, aggregates and nested subqueries are fine.
 */
static bool
UnshippableWalker(Node *node, bool *inSubquery)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, IsDistdbFunction, NULL) ||
		HasTableRowType(node))
		return true;
	switch (nodeTag(node))
	{
		case T_Var:
			return !*inSubquery && ((Var *) node)->varlevelsup != 0;
		case T_Param:
			/* PARAM_EXEC: a value computed first (computed_sublinks.c) */
			return ((Param *) node)->paramkind == PARAM_SUBLINK ||
				((Param *) node)->paramkind == PARAM_MULTIEXPR;
		case T_Query:
			return query_tree_walker((Query *) node, UnshippableWalker,
									 inSubquery, 0);
		case T_SubLink:
		case T_Aggref:
		case T_WindowFunc:
		case T_GroupingFunc:
			if (*inSubquery)
				break;
			return true;
		case T_SubPlan:
		case T_AlternativeSubPlan:
		case T_PlaceHolderVar:
		case T_NextValueExpr:
		case T_CurrentOfExpr:
			return true;
		default:
			break;
	}
	return expression_tree_walker(node, UnshippableWalker, inSubquery);
}

/*
 * IsShippableFilter: whether a condition on one table may be evaluated by
 * the shards instead of the coordinator.
 */
bool
IsShippableFilter(Node *clause)
{
	bool		inSubquery = false;

	return !UnshippableWalker(clause, &inSubquery) &&
		!contain_volatile_functions(clause) &&
		!ContainsSequenceFunctions(clause);
}

/*
 * IsTransferableOutput: whether the shards can return the values of every
 * expression in the list (expressions or target entries) to the
 * coordinator.  Values of anonymous record types (ROW(...), or arrays of
 * them) cannot be read back: their text form carries no column types.
 * Such expressions are computed on the coordinator instead.
 */
bool
IsTransferableOutput(List *exprs)
{
	ListCell   *lc;

	foreach(lc, exprs)
	{
		Node	   *expr = lfirst(lc);
		Oid			type;

		if (IsA(expr, TargetEntry))
			expr = (Node *) ((TargetEntry *) expr)->expr;
		type = exprType(expr);
		if (type == RECORDOID || type == RECORDARRAYOID)
			return false;
	}
	return true;
}

/*
 * IsShippableSubquery: whether a subquery may be evaluated by the shards
 * as part of the statement it is in (which decides about its tables):
 * unlike a pushed-down filter it may use aggregates, subqueries and the
 * outer statement's columns, since the shard evaluates it where the
 * coordinator would, but not what means something else on a node.
 */
bool
IsShippableSubquery(Query *subquery)
{
	bool		inSubquery = true;

	return !UnshippableWalker((Node *) subquery, &inSubquery) &&
		!ContainsSequenceFunctions((Node *) subquery);
}
