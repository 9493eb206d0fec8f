/*-------------------------------------------------------------------------
 *
 * parameterize_constants.c
 *	  Turning the constants of a shard query into parameters.
 *
 * A router query with constants ("WHERE id = 42") has a different text
 * for every value, so each one would be parsed and planned again on its
 * node.  Sent with its constants as parameters, the text is the same for
 * every value and the node runs it as a statement prepared once per
 * connection (see SendRemotePrepared).  Only constants whose value fully
 * describes them are replaced: not NULLs (whose type may matter to
 * operator resolution on the node) and not those with a type modifier
 * (a parameter has none).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/lsyscache.h"

#include "distdb/deparse.h"

typedef struct ParameterizeContext
{
	int			nextParamId;
	List	   *constants;		/* Const, in parameter order */
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

/* the mutator replacing constants by parameters */
static Node *
ParameterizeMutator(Node *node, ParameterizeContext *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Const))
	{
		Const	   *constant = (Const *) node;
		Param	   *param;

		if (constant->constisnull || constant->consttypmod != -1 ||
			constant->consttype == UNKNOWNOID ||
			get_typtype(constant->consttype) == TYPTYPE_PSEUDO)
			return node;

		param = makeNode(Param);
		param->paramkind = PARAM_EXTERN;
		param->paramid = context->nextParamId++;
		param->paramtype = constant->consttype;
		param->paramtypmod = -1;
		param->paramcollid = constant->constcollid;
		param->location = -1;
		context->constants = lappend(context->constants, constant);
		return (Node *) param;
	}
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, ParameterizeMutator,
										   context, 0);
	return expression_tree_mutator(node, ParameterizeMutator, context);
}

/*
 * ParameterizeConstants returns a copy of the query whose constants are
 * parameters numbered from firstParamId on, and their values in
 * *constants.
 */
Query *
ParameterizeConstants(Query *query, int firstParamId, List **constants)
{
	ParameterizeContext context;
	Query	   *result;

	context.nextParamId = firstParamId;
	context.constants = NIL;
	result = query_tree_mutator(query, ParameterizeMutator, &context, 0);
	*constants = context.constants;
	return result;
}
