/*-------------------------------------------------------------------------
 *
 * aggregate_pushdown.c
 *	  Running the aggregation of a multi-shard query on the shards.
 *
 * A query level that aggregates over one distributed table alone (all its
 * WHERE conditions shippable) does not need the table's rows on the
 * coordinator:
 *
 * - grouped by the distribution column, every group lies in one shard, so
 *   each shard runs the whole grouping (with HAVING) and the coordinator
 *   only concatenates, sorts and limits the groups;
 * - likewise, when every window function's PARTITION BY includes the
 *   distribution column (with no aggregation, or grouped by that column),
 *   every window partition lies in one shard, and the shards compute the
 *   window functions too (over joins of co-located tables as well, when
 *   the column is a distribution column of a table no outer join nulls);
 * - otherwise each shard computes partial aggregates per group -- count,
 *   sum, min, max, avg (as sum and count), bool_and/or, every, bit_and/or,
 *   the variances and standard deviations of integers and numerics (as
 *   counts, sums and sums of squares), and by transition state or by
 *   concatenation the statistical float aggregates, array_agg, string_agg
 *   and json(b)_agg (aggregate_states.c) -- and the coordinator groups
 *   again and combines them: counts and sums are summed, minimums take the
 *   minimum, and so on;
 * - when every aggregate is DISTINCT over the same expression (count(DISTINCT
 *   x), string_agg(DISTINCT x, ',')), the shards return each group's
 *   distinct values of it and the coordinator aggregates those.
 *
 * The query level is rewritten in place: the distributed table becomes a
 * placeholder scan of the shards' output (see pull_up_planner.c) and the
 * aggregates become their combining expressions.  Queries using anything
 * else (other aggregates, DISTINCT or ordered aggregates, grouping sets,
 * other window functions, ...) are left to the general pull-up, which is slower
 * but handles everything.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_aggregate.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "distdb/deparse.h"
#include "distdb/planner_internal.h"
#include "distdb/shard_pruning.h"

/* how an aggregate is split into a shard part and a coordinator part */
typedef enum AggregateSplit
{
	SPLIT_NONE,					/* cannot be split */
	SPLIT_COUNT,				/* count: sum of the counts */
	SPLIT_SAME,					/* min, max, bool_and, ...: the same again */
	SPLIT_SUM,					/* sum: sum of the sums, cast back */
	SPLIT_AVG,					/* avg: sum of sums / sum of counts */
	SPLIT_VAR_SAMP,				/* var_samp, variance of integers and
								 * numerics: from counts, sums and sums of
								 * squares */
	SPLIT_VAR_POP,				/* var_pop of integers and numerics: same */
	SPLIT_STDDEV_SAMP,			/* stddev_samp, stddev of integers and
								 * numerics: square root of the variance */
	SPLIT_STDDEV_POP,			/* stddev_pop of integers and numerics */
	SPLIT_STATE,				/* others with a combine function: by
								 * transition state (aggregate_states.c) */
	SPLIT_CONCAT				/* array_agg, string_agg, jsonb_agg:
								 * shards' results concatenated */
} AggregateSplit;

/* state of the rewrite of one query level */
typedef struct PushdownContext
{
	Index		rti;			/* the distributed table */
	Index		placeholderRti;
	List	   *workerExprs;	/* expressions the shards return */
	List	   *groupExprs;		/* the grouping expressions (worker form) */
	Expr	   *distinctArgument;	/* DISTINCT aggregates' argument, or NULL */
	List	   *sourceTargetList;	/* over a placeholder: its shard query's
									 * target list, else NIL */
	RangeTblEntry *sourceRte;	/* the placeholder */
	bool		failed;			/* something cannot be split */
} PushdownContext;

static AggregateSplit ClassifyAggregate(Aggref *aggref);
static bool CanPushDownAggregation(Query *query, Index rti,
								   DistTableCacheEntry *entry,
								   bool *groupsByDistColumn,
								   Expr **distinctArgument);
static Node *CombineMutator(Node *node, PushdownContext *context);

/*
 * CatalogFunctionName: pg_catalog.name, for lookups that must not find
 * a user's function of the same name.
 */
static List *
CatalogFunctionName(const char *name)
{
	return list_make2(makeString("pg_catalog"), makeString(pstrdup(name)));
}

/*
 * ClassifyAggregate says how a built-in aggregate splits, if it does.
 */
static AggregateSplit
ClassifyAggregate(Aggref *aggref)
{
	char	   *name;
	Oid			argType;

	if (aggref->aggdistinct != NIL || aggref->aggorder != NIL ||
		aggref->aggdirectargs != NIL || aggref->aggkind != AGGKIND_NORMAL ||
		aggref->agglevelsup != 0 || aggref->aggvariadic ||
		get_func_namespace(aggref->aggfnoid) != PG_CATALOG_NAMESPACE)
		return SPLIT_NONE;

	name = get_func_name(aggref->aggfnoid);
	if (strcmp(name, "count") == 0)
		return SPLIT_COUNT;
	argType = list_length(aggref->aggargtypes) == 1 ?
		linitial_oid(aggref->aggargtypes) : InvalidOid;
	if (OidIsValid(argType) &&
		(strcmp(name, "min") == 0 || strcmp(name, "max") == 0 ||
		 strcmp(name, "bool_and") == 0 || strcmp(name, "bool_or") == 0 ||
		 strcmp(name, "every") == 0 || strcmp(name, "bit_and") == 0 ||
		 strcmp(name, "bit_or") == 0))
		return SPLIT_SAME;
	if (OidIsValid(argType) && strcmp(name, "sum") == 0)
		return SPLIT_SUM;
	if (strcmp(name, "avg") == 0 &&
		(argType == INT2OID || argType == INT4OID || argType == INT8OID ||
		 argType == NUMERICOID || argType == FLOAT8OID))
		return SPLIT_AVG;
	if (argType == INT2OID || argType == INT4OID || argType == INT8OID ||
		argType == NUMERICOID)
	{
		if (strcmp(name, "var_samp") == 0 || strcmp(name, "variance") == 0)
			return SPLIT_VAR_SAMP;
		if (strcmp(name, "var_pop") == 0)
			return SPLIT_VAR_POP;
		if (strcmp(name, "stddev_samp") == 0 || strcmp(name, "stddev") == 0)
			return SPLIT_STDDEV_SAMP;
		if (strcmp(name, "stddev_pop") == 0)
			return SPLIT_STDDEV_POP;
	}
	if (AggregateConcatenable(aggref))
		return SPLIT_CONCAT;
	if (AggregateStateSplittable(aggref))
		return SPLIT_STATE;
	return SPLIT_NONE;
}

/*
 * AllAggregatesSplittable: every aggregate in the expression splits and
 * has arguments (and FILTER) the shards can evaluate.
 */
static bool
AllAggregatesSplittable(Node *node)
{
	List	   *items = pull_var_clause(node, PVC_INCLUDE_AGGREGATES |
										PVC_RECURSE_PLACEHOLDERS |
										PVC_RECURSE_WINDOWFUNCS);
	ListCell   *lc;

	foreach(lc, items)
	{
		Aggref	   *aggref = lfirst(lc);
		ListCell   *alc;

		if (!IsA(aggref, Aggref))
			continue;
		if (ClassifyAggregate(aggref) == SPLIT_NONE)
			return false;
		foreach(alc, aggref->args)
		{
			if (!IsShippableFilter((Node *) ((TargetEntry *) lfirst(alc))->expr))
				return false;
		}
		if (aggref->aggfilter != NULL &&
			!IsShippableFilter((Node *) aggref->aggfilter))
			return false;
	}
	return true;
}

/* walker for ShippableWithAggregates: true means "not shippable" */
static bool
UnshippableAggregateWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
	{
		Aggref	   *aggref = (Aggref *) node;

		return aggref->agglevelsup != 0 ||
			expression_tree_walker(node, UnshippableAggregateWalker, context);
	}
	if (IsA(node, Var) || IsA(node, Const) || IsA(node, Param))
		return !IsShippableFilter(node);
	if (IsA(node, SubLink) || IsA(node, GroupingFunc) ||
		IsA(node, PlaceHolderVar) || IsA(node, Query))
		return true;
	return expression_tree_walker(node, UnshippableAggregateWalker, context);
}

/*
 * ShippableWithAggregates: the shards can evaluate the expression, which
 * may contain aggregates and window functions of this query level.
 */
bool
ShippableWithAggregates(Node *node)
{
	return !UnshippableAggregateWalker(node, NULL) &&
		!contain_volatile_functions(node) && !ContainsSequenceFunctions(node);
}

/*
 * DistinctArgument returns the expression every aggregate of the query
 * level applies DISTINCT to, when all of them do so to the same one (with
 * only constants as other arguments, no FILTER or ORDER BY), else NULL.
 * Such aggregates only need the distinct values of each group, which the
 * shards can produce by grouping on them too.
 */
static Expr *
DistinctArgument(Query *query)
{
	List	   *items = list_concat(pull_var_clause((Node *) query->targetList,
												  PVC_INCLUDE_AGGREGATES |
												  PVC_RECURSE_PLACEHOLDERS |
												  PVC_RECURSE_WINDOWFUNCS),
									pull_var_clause(query->havingQual,
													PVC_INCLUDE_AGGREGATES |
													PVC_RECURSE_PLACEHOLDERS |
													PVC_RECURSE_WINDOWFUNCS));
	Expr	   *argument = NULL;
	ListCell   *lc;

	foreach(lc, items)
	{
		Aggref	   *aggref = lfirst(lc);
		SortGroupClause *distinct;
		Expr	   *expr;
		ListCell   *alc;

		if (!IsA(aggref, Aggref))
			continue;
		if (list_length(aggref->aggdistinct) != 1 || aggref->aggorder != NIL ||
			aggref->aggfilter != NULL || aggref->agglevelsup != 0 ||
			aggref->aggkind != AGGKIND_NORMAL)
			return NULL;
		distinct = linitial(aggref->aggdistinct);
		expr = (Expr *) get_sortgroupclause_expr(distinct, aggref->args);
		foreach(alc, aggref->args)
		{
			TargetEntry *tle = lfirst(alc);

			if (tle->ressortgroupref != distinct->tleSortGroupRef &&
				!IsA(tle->expr, Const))
				return NULL;
		}
		if (!IsShippableFilter((Node *) expr))
			return NULL;
		if (argument == NULL)
			argument = expr;
		else if (!equal(argument, expr))
			return NULL;
	}
	return argument;
}

/*
 * WindowsPartitionedByColumn: every window of the query level partitions by
 * (at least) the given column of the table at rti, so that all rows of a
 * window partition have the same value of it.
 */
static bool
WindowsPartitionedByColumn(Query *query, Index rti, AttrNumber attnum)
{
	ListCell   *lc;

	foreach(lc, query->windowClause)
	{
		WindowClause *window = lfirst(lc);
		ListCell   *plc;
		bool		found = false;

		foreach(plc, window->partitionClause)
		{
			Node	   *expr = get_sortgroupclause_expr(lfirst(plc),
														query->targetList);

			if (IsA(expr, Var) && ((Var *) expr)->varno == rti &&
				((Var *) expr)->varlevelsup == 0 &&
				((Var *) expr)->varattno == attnum)
				found = true;
		}
		if (!found)
			return false;
	}
	return true;
}

/*
 * CanPushDownAggregation: the query level aggregates over the distributed
 * table at rti alone, with conditions the shards can evaluate.
 */
static bool
CanPushDownAggregation(Query *query, Index rti, DistTableCacheEntry *entry,
					   bool *groupsByDistColumn, Expr **distinctArgument)
{
	RangeTblEntry *rte = rt_fetch(rti, query->rtable);
	ListCell   *lc;

	*groupsByDistColumn = false;
	*distinctArgument = NULL;
	if ((!query->hasAggs && query->groupClause == NIL &&
		 !query->hasWindowFuncs) ||
		(query->hasWindowFuncs &&
		 !WindowsPartitionedByColumn(query, rti, entry->distAttnum)) ||
		query->groupingSets != NIL ||
		query->hasTargetSRFs || query->hasSubLinks || query->rowMarks != NIL ||
		query->setOperations != NULL || query->groupDistinct ||
		rte->tablesample != NULL || rte->securityQuals != NIL ||
		list_length(query->jointree->fromlist) != 1 ||
		!IsA(linitial(query->jointree->fromlist), RangeTblRef) ||
		((RangeTblRef *) linitial(query->jointree->fromlist))->rtindex != (int) rti)
		return false;

	/* every reference must be to this table, at this level */
	if (!bms_is_subset(pull_varnos(NULL, (Node *) query->targetList),
					   bms_make_singleton(rti)) ||
		contain_vars_of_level((Node *) query->targetList, 1) ||
		contain_vars_of_level(query->havingQual, 1))
		return false;
	if (query->jointree->quals != NULL &&
		(!IsShippableFilter(query->jointree->quals) ||
		 !bms_equal(pull_varnos(NULL, query->jointree->quals),
					bms_make_singleton(rti))))
		return false;

	foreach(lc, query->groupClause)
	{
		Node	   *expr = get_sortgroupclause_expr(lfirst(lc), query->targetList);

		if (!IsShippableFilter(expr))
			return false;
		if (IsA(expr, Var) && ((Var *) expr)->varno == rti &&
			((Var *) expr)->varattno == entry->distAttnum)
			*groupsByDistColumn = true;
	}

	/* whole-row and system columns would need the row type of the shard */
	foreach(lc, pull_var_clause((Node *) query->targetList,
								PVC_RECURSE_AGGREGATES |
								PVC_RECURSE_WINDOWFUNCS))
	{
		if (IsA(lfirst(lc), Var) && ((Var *) lfirst(lc))->varattno <= 0)
			return false;
	}

	/* rows of a window partition all lie in one shard, like groups */
	if (query->hasWindowFuncs && !query->hasAggs && query->groupClause == NIL)
		*groupsByDistColumn = true;

	if (*groupsByDistColumn)
		return ShippableWithAggregates((Node *) query->targetList) &&
			ShippableWithAggregates(query->havingQual);
	if (query->hasWindowFuncs)
		return false;

	if (AllAggregatesSplittable((Node *) query->targetList) &&
		AllAggregatesSplittable(query->havingQual))
		return true;
	*distinctArgument = DistinctArgument(query);
	return *distinctArgument != NULL;
}

/*
 * WorkerColumn returns a Var of the placeholder for a worker expression,
 * adding it to the shard query's output if it is not there yet.
 */
static Var *
WorkerColumn(PushdownContext *context, Expr *workerExpr)
{
	ListCell   *lc;
	int			position = 0;

	foreach(lc, context->workerExprs)
	{
		position++;
		if (equal(lfirst(lc), workerExpr))
			break;
	}
	if (lc == NULL)
	{
		context->workerExprs = lappend(context->workerExprs, workerExpr);
		position = list_length(context->workerExprs);
	}
	return makeVar(context->placeholderRti, position,
				   exprType((Node *) workerExpr),
				   exprTypmod((Node *) workerExpr),
				   exprCollation((Node *) workerExpr), 0);
}

/* an aggregate of pg_catalog over one argument, applied on the coordinator */
static Expr *
MakeAggregate(const char *name, Expr *argument, Oid collation)
{
	Oid			argType = exprType((Node *) argument);
	Oid			function;
	Aggref	   *aggref = makeNode(Aggref);

	/* count(x) is declared on "any" */
	if (strcmp(name, "count") == 0)
		function = F_COUNT_ANY;
	else
		function = LookupFuncName(CatalogFunctionName(name), 1, &argType,
								  false);

	aggref->aggfnoid = function;
	aggref->aggtype = get_func_rettype(function);
	aggref->aggcollid = collation;
	aggref->inputcollid = exprCollation((Node *) argument);
	aggref->aggtranstype = InvalidOid;
	aggref->aggargtypes = list_make1_oid(argType);
	aggref->args = list_make1(makeTargetEntry(argument, 1, NULL, false));
	aggref->aggkind = AGGKIND_NORMAL;
	aggref->aggsplit = AGGSPLIT_SIMPLE;
	aggref->aggno = -1;
	aggref->aggtransno = -1;
	aggref->location = -1;
	return (Expr *) aggref;
}

/* COALESCE(expr, 0) for a bigint expression: a count of no rows is 0 */
static Expr *
MakeCoalesceZero(Expr *expr)
{
	CoalesceExpr *coalesce = makeNode(CoalesceExpr);

	coalesce->coalescetype = INT8OID;
	coalesce->coalescecollid = InvalidOid;
	coalesce->args = list_make2(expr,
								makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
										  Int64GetDatum(0), false,
										  FLOAT8PASSBYVAL));
	coalesce->location = -1;
	return (Expr *) coalesce;
}

/* a cast the parser would apply, or an error if there is none */
static Expr *
CastTo(Expr *expr, Oid type)
{
	Node	   *result = coerce_to_target_type(NULL, (Node *) expr,
											   exprType((Node *) expr), type,
											   -1, COERCION_EXPLICIT,
											   COERCE_EXPLICIT_CAST, -1);

	if (result == NULL)
		elog(ERROR, "no cast from type %u to type %u",
			 exprType((Node *) expr), type);
	return (Expr *) result;
}

/*
 * WorkerForm returns the shard-side copy of an expression: the table moves
 * to index 1 there, or the placeholder's columns become the expressions the
 * placeholder's shard query returns.
 */
static Expr *
WorkerForm(Expr *expr, PushdownContext *context)
{
	Node	   *copy = copyObject((Node *) expr);

	if (context->sourceTargetList == NIL)
	{
		ChangeVarNodes(copy, context->rti, 1, 0);
		return (Expr *) copy;
	}
	return (Expr *) ReplaceVarsFromTargetList(copy, context->rti, 0,
											  context->sourceRte,
											  context->sourceTargetList,
											  REPLACEVARS_REPORT_ERROR, 0,
											  NULL);
}

/*
 * SumOfPartials has the shards compute name(argument) FILTER (filter) and
 * returns the coordinator's sum of their results.
 */
static Expr *
SumOfPartials(PushdownContext *context, const char *name, Expr *argument,
			  Expr *filter)
{
	Aggref	   *partial = (Aggref *) MakeAggregate(name, argument, InvalidOid);

	partial->aggfilter = copyObject(filter);
	return MakeAggregate("sum",
						 (Expr *) WorkerColumn(context,
											   WorkerForm((Expr *) partial,
														  context)),
						 InvalidOid);
}

/* a numeric constant */
static Expr *
NumericConst(int64 value)
{
	return (Expr *) makeConst(NUMERICOID, -1, InvalidOid, -1,
							  NumericGetDatum(int64_to_numeric(value)), false,
							  false);
}

/* a call of a built-in numeric function of two arguments */
static Expr *
NumericCall(Oid function, Oid resultType, Expr *left, Expr *right)
{
	return (Expr *) makeFuncExpr(function, resultType, list_make2(left, right),
								 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

/*
 * CombineVariance returns the coordinator expression for var_samp (or
 * variance), var_pop, stddev_samp (or stddev) or stddev_pop of integers or
 * numerics from the shards' counts, sums and sums of squares, all exact.
 * It computes what PostgreSQL's own final function does, with the same
 * numeric operations and scales: NULL without rows (or with one row, for
 * the sample statistics), 0 when n * sum(x^2) - sum(x)^2 is not positive,
 * else that divided by n * (n - 1) (sample) or n * n (population) -- NaN
 * when an input is NaN or infinite -- and for the standard deviations the
 * square root of that, rounded to its scale.
 */
static Expr *
CombineVariance(Aggref *aggref, PushdownContext *context, bool sample,
				bool root)
{
	Expr	   *argument = ((TargetEntry *) linitial(aggref->args))->expr;
	Expr	   *value = CastTo(argument, NUMERICOID);
	Expr	   *n;
	Expr	   *sum;
	Expr	   *squares;
	Expr	   *numerator;
	Expr	   *denominator;
	CaseExpr   *caseExpr = makeNode(CaseExpr);
	CaseWhen   *tooFew = makeNode(CaseWhen);
	CaseWhen   *notPositive = makeNode(CaseWhen);

	n = CastTo(SumOfPartials(context, "count", argument, aggref->aggfilter),
			   NUMERICOID);
	sum = SumOfPartials(context, "sum", value, aggref->aggfilter);
	squares = SumOfPartials(context, "sum",
							NumericCall(F_NUMERIC_MUL, NUMERICOID, value,
										copyObject(value)),
							aggref->aggfilter);
	numerator = NumericCall(F_NUMERIC_SUB, NUMERICOID,
							NumericCall(F_NUMERIC_MUL, NUMERICOID, n, squares),
							NumericCall(F_NUMERIC_MUL, NUMERICOID, sum,
										copyObject(sum)));
	denominator = NumericCall(F_NUMERIC_MUL, NUMERICOID, copyObject(n),
							  sample ?
							  NumericCall(F_NUMERIC_SUB, NUMERICOID,
										  copyObject(n), NumericConst(1)) :
							  copyObject(n));

	tooFew->expr = NumericCall(F_NUMERIC_LT, BOOLOID, copyObject(n),
							   NumericConst(sample ? 2 : 1));
	tooFew->result = (Expr *) makeNullConst(NUMERICOID, -1, InvalidOid);
	tooFew->location = -1;
	notPositive->expr = NumericCall(F_NUMERIC_LE, BOOLOID, numerator,
									NumericConst(0));
	notPositive->result = NumericConst(0);
	notPositive->location = -1;
	caseExpr->casetype = NUMERICOID;
	caseExpr->casecollid = InvalidOid;
	caseExpr->args = list_make2(tooFew, notPositive);
	caseExpr->defresult = NumericCall(F_NUMERIC_DIV, NUMERICOID,
									  copyObject(numerator), denominator);
	if (root)
		caseExpr->defresult = MakeNumericSqrtRounded(caseExpr->defresult);
	caseExpr->location = -1;
	return (Expr *) caseExpr;
}

/*
 * CombineAggregate returns the coordinator expression that combines the
 * shards' partial results of an aggregate.
 */
static Expr *
CombineAggregate(Aggref *aggref, PushdownContext *context)
{
	Expr	   *combined;

	switch (ClassifyAggregate(aggref))
	{
		case SPLIT_COUNT:
			{
				Var		   *counts = WorkerColumn(context,
												  WorkerForm((Expr *) aggref, context));

				combined = CastTo(MakeAggregate("sum", (Expr *) counts,
												InvalidOid), INT8OID);
				return MakeCoalesceZero(combined);
			}
		case SPLIT_SAME:
			{
				Var		   *partials = WorkerColumn(context,
													WorkerForm((Expr *) aggref, context));
				char	   *name = get_func_name(aggref->aggfnoid);

				if (strcmp(name, "every") == 0)
					name = "bool_and";
				return MakeAggregate(name, (Expr *) partials, aggref->aggcollid);
			}
		case SPLIT_SUM:
			{
				Var		   *sums = WorkerColumn(context,
												WorkerForm((Expr *) aggref, context));

				combined = MakeAggregate("sum", (Expr *) sums, aggref->aggcollid);
				if (exprType((Node *) combined) != aggref->aggtype)
					combined = CastTo(combined, aggref->aggtype);
				return combined;
			}
		case SPLIT_AVG:
			{
				Expr	   *argument = ((TargetEntry *) linitial(aggref->args))->expr;
				Oid			argType = exprType((Node *) argument);
				Expr	   *sum;
				Expr	   *count;
				Oid			resultType = aggref->aggtype;

				sum = SumOfPartials(context, "sum", argument,
									aggref->aggfilter);
				count = SumOfPartials(context, "count", argument,
									  aggref->aggfilter);
				if (argType == FLOAT8OID)
					return (Expr *) makeFuncExpr(F_FLOAT8DIV, FLOAT8OID,
												 list_make2(CastTo(sum, FLOAT8OID),
															CastTo(count, FLOAT8OID)),
												 InvalidOid, InvalidOid,
												 COERCE_EXPLICIT_CALL);
				Assert(resultType == NUMERICOID);
				return (Expr *) makeFuncExpr(F_NUMERIC_DIV, resultType,
											 list_make2(CastTo(sum, NUMERICOID),
														CastTo(count, NUMERICOID)),
											 InvalidOid, InvalidOid,
											 COERCE_EXPLICIT_CALL);
			}
		case SPLIT_VAR_SAMP:
			return CombineVariance(aggref, context, true, false);
		case SPLIT_VAR_POP:
			return CombineVariance(aggref, context, false, false);
		case SPLIT_STDDEV_SAMP:
			return CombineVariance(aggref, context, true, true);
		case SPLIT_STDDEV_POP:
			return CombineVariance(aggref, context, false, true);
		case SPLIT_STATE:
			return MakeStateCombine(aggref,
									(Expr *) WorkerColumn(context,
														  WorkerForm((Expr *) MakePartialStateAggregate(aggref),
																	 context)));
		case SPLIT_CONCAT:
			return MakeConcatCombine(aggref,
									 (Expr *) WorkerColumn(context,
														   WorkerForm((Expr *) aggref,
																	  context)));
		case SPLIT_NONE:
			break;
	}
	context->failed = true;
	return (Expr *) aggref;
}

/*
 * CombineMutator rewrites a target or HAVING expression for the
 * coordinator: grouping expressions become placeholder columns and
 * aggregates their combining expressions.  A column reference left over
 * (not inside a grouping expression or aggregate) makes the rewrite fail.
 */
static Node *
CombineMutator(Node *node, PushdownContext *context)
{
	ListCell   *lc;

	if (node == NULL)
		return NULL;
	foreach(lc, context->groupExprs)
	{
		if (equal(node, lfirst(lc)))
			return (Node *) WorkerColumn(context,
										 WorkerForm(lfirst(lc), context));
	}
	if (IsA(node, Aggref) && context->distinctArgument != NULL)
	{
		/* a DISTINCT aggregate runs here, over the shards' distinct values */
		Aggref	   *aggref = (Aggref *) copyObject(node);
		ListCell   *alc;

		foreach(alc, aggref->args)
		{
			TargetEntry *tle = lfirst(alc);

			if (equal(tle->expr, context->distinctArgument))
				tle->expr = (Expr *) WorkerColumn(context,
												  WorkerForm(tle->expr,
															 context));
		}
		return (Node *) aggref;
	}
	if (IsA(node, Aggref))
		return (Node *) CombineAggregate((Aggref *) node, context);
	if (IsA(node, Var))
	{
		context->failed = true;
		return node;
	}
	return expression_tree_mutator(node, CombineMutator, context);
}

/*
 * PushDownGroupLimit: when each shard holds whole groups, ORDER BY ... LIMIT
 * n [OFFSET m] lets each shard return only its first n + m groups.
 */
static void
PushDownGroupLimit(Query *query, Query *workerQuery)
{
	Node	   *limitCount = query->limitCount ?
		eval_const_expressions(NULL, query->limitCount) : NULL;
	Node	   *limitOffset = query->limitOffset ?
		eval_const_expressions(NULL, query->limitOffset) : NULL;

	if (query->sortClause != NIL && limitCount != NULL &&
		query->distinctClause == NIL && IsA(limitCount, Const) &&
		(limitOffset == NULL || IsA(limitOffset, Const)))
	{
		Const	   *count = (Const *) limitCount;
		Const	   *offset = (Const *) limitOffset;
		int64		total;

		if (!count->constisnull &&
			!(offset != NULL && offset->constisnull) &&
			!pg_add_s64_overflow(DatumGetInt64(count->constvalue),
								 offset ? DatumGetInt64(offset->constvalue) : 0,
								 &total))
		{
			workerQuery->sortClause = copyObject(query->sortClause);
			workerQuery->limitCount = (Node *)
				makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
						  Int64GetDatum(total), false, FLOAT8PASSBYVAL);
			workerQuery->limitOption = query->limitOption;
		}
	}
}

/*
 * ShipWholeLevel makes the shard query compute the query level's rows
 * whole -- grouping, HAVING and window functions, for a level whose groups
 * and window partitions each lie in one set of shards -- with one output
 * column per target entry, and returns the coordinator's target list,
 * which reads those columns.
 */
static List *
ShipWholeLevel(Query *query, PushdownContext *context, Query *workerQuery)
{
	List	   *newTargetList = NIL;
	ListCell   *lc;
	int			position = 0;

	workerQuery->hasAggs = query->hasAggs;
	workerQuery->hasWindowFuncs = query->hasWindowFuncs;
	workerQuery->windowClause = copyObject(query->windowClause);
	workerQuery->groupClause = copyObject(query->groupClause);
	workerQuery->havingQual = query->havingQual ?
		(Node *) WorkerForm((Expr *) query->havingQual, context) : NULL;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		TargetEntry *workerTle = flatCopyTargetEntry(tle);
		TargetEntry *newTle = flatCopyTargetEntry(tle);

		workerTle->expr = WorkerForm(tle->expr, context);
		workerTle->resjunk = false;
		workerQuery->targetList = lappend(workerQuery->targetList, workerTle);
		newTle->expr = (Expr *) makeVar(context->placeholderRti, ++position,
										exprType((Node *) tle->expr),
										exprTypmod((Node *) tle->expr),
										exprCollation((Node *) tle->expr),
										0);
		newTargetList = lappend(newTargetList, newTle);
		context->workerExprs = lappend(context->workerExprs, workerTle->expr);
	}
	PushDownGroupLimit(query, workerQuery);
	return newTargetList;
}

/*
 * SplitAggregation fills the shard query with partial aggregates per group
 * (or, for DISTINCT aggregates, the distinct values per group) and computes
 * the coordinator's target list and HAVING that combine them; false when
 * something cannot be split.
 */
static bool
SplitAggregation(Query *query, PushdownContext *context, Query *workerQuery,
				 Expr *distinctArgument, List **newTargetList,
				 Node **newHaving)
{
	ListCell   *lc;
	int			position = 0;
	int			groupRef = 0;

	foreach(lc, query->groupClause)
		context->groupExprs = lappend(context->groupExprs,
									 get_sortgroupclause_expr(lfirst(lc),
															  query->targetList));
	/* the shards group by the same expressions, output first */
	foreach(lc, query->groupClause)
	{
		SortGroupClause *clause = copyObject(lfirst(lc));
		Expr	   *workerExpr = WorkerForm(list_nth(context->groupExprs,
													 foreach_current_index(lc)),
											context);
		TargetEntry *tle;

		/* an expression the shards already group by adds no column */
		if (WorkerColumn(context, workerExpr)->varattno <= position)
			continue;
		tle = makeTargetEntry(workerExpr, ++position, NULL, false);
		tle->ressortgroupref = ++groupRef;
		clause->tleSortGroupRef = groupRef;
		workerQuery->targetList = lappend(workerQuery->targetList, tle);
		workerQuery->groupClause = lappend(workerQuery->groupClause, clause);
	}
	if (distinctArgument != NULL)
	{
		/* the shards also group by the DISTINCT argument: its values */
		Aggref	   *anyAggref = NULL;
		SortGroupClause *clause;
		TargetEntry *tle;
		Expr	   *workerExpr = WorkerForm(distinctArgument, context);

		foreach(lc, pull_var_clause((Node *) query->targetList,
									PVC_INCLUDE_AGGREGATES |
									PVC_RECURSE_PLACEHOLDERS |
									PVC_RECURSE_WINDOWFUNCS))
		{
			if (IsA(lfirst(lc), Aggref))
				anyAggref = lfirst(lc);
		}
		if (anyAggref == NULL)
			return false;
		clause = copyObject(linitial(anyAggref->aggdistinct));
		context->distinctArgument = distinctArgument;
		/* unless it is a grouping expression too (GROUP BY x ... DISTINCT x) */
		if (WorkerColumn(context, workerExpr)->varattno > position)
		{
			tle = makeTargetEntry(workerExpr, ++position, NULL, false);
			tle->ressortgroupref = ++groupRef;
			clause->tleSortGroupRef = groupRef;
			workerQuery->targetList = lappend(workerQuery->targetList, tle);
			workerQuery->groupClause = lappend(workerQuery->groupClause,
											   clause);
		}
	}
	foreach(lc, query->targetList)
	{
		TargetEntry *newTle = flatCopyTargetEntry(lfirst(lc));

		newTle->expr = (Expr *) CombineMutator((Node *) newTle->expr,
											   context);
		*newTargetList = lappend(*newTargetList, newTle);
	}
	*newHaving = CombineMutator(query->havingQual, context);
	if (context->failed)
		return false;

	/* the partial aggregates the combining expressions refer to */
	for (position = list_length(workerQuery->targetList);
		 position < list_length(context->workerExprs); position++)
		workerQuery->targetList =
			lappend(workerQuery->targetList,
					makeTargetEntry(list_nth(context->workerExprs, position),
									position + 1, NULL, false));
	workerQuery->hasAggs = (distinctArgument == NULL);
	return true;
}

/* WorkerColumnNames names the placeholder's columns column1, column2, ... */
static List *
WorkerColumnNames(List *workerExprs)
{
	List	   *names = NIL;
	int			i;

	for (i = 1; i <= list_length(workerExprs); i++)
		names = lappend(names, psprintf("column%d", i));
	return names;
}

/*
 * PushDownAggregation rewrites a query level whose aggregation the shards
 * can do (see the file header) and returns the placeholder's plan, or NULL
 * when the query level does not qualify and is left unchanged.
 */
DistributedPlan *
PushDownAggregation(Query *query, Index rti, DistTableCacheEntry *entry,
					ParamListInfo boundParams, int planIndex)
{
	RangeTblEntry *rte = rt_fetch(rti, query->rtable);
	bool		groupsByDistColumn;
	PushdownContext context;
	Query	   *workerQuery;
	List	   *newTargetList = NIL;
	Node	   *newHaving;
	RangeTblEntry *placeholder;
	PruningResult pruning;
	Expr	   *distinctArgument;

	if (!CanPushDownAggregation(query, rti, entry, &groupsByDistColumn,
								&distinctArgument))
		return NULL;

	memset(&context, 0, sizeof(context));
	context.rti = rti;
	context.placeholderRti = rti;

	workerQuery = MakeSingleTableWorkerQuery(rte,
											 query->jointree->quals ?
											 (Node *) WorkerForm((Expr *) query->jointree->quals, &context) :
											 NULL);

	if (groupsByDistColumn)
	{
		newTargetList = ShipWholeLevel(query, &context, workerQuery);
		newHaving = NULL;
	}
	else if (!SplitAggregation(query, &context, workerQuery, distinctArgument,
							   &newTargetList, &newHaving))
		return NULL;

	if (context.workerExprs == NIL ||
		!IsTransferableOutput(context.workerExprs) ||
		!QueryIsDeparsable(workerQuery))
		return NULL;

	/* the rewrite succeeded: change the query */
	if (groupsByDistColumn)
	{
		query->groupClause = NIL;
		query->hasAggs = false;
		query->hasWindowFuncs = false;
		query->windowClause = NIL;
	}
	query->targetList = newTargetList;
	query->havingQual = newHaving;
	query->jointree->quals = NULL;

	placeholder = MakeResultPlaceholderRte(rte->eref->aliasname,
										   WorkerColumnNames(context.workerExprs),
										   context.workerExprs, planIndex);
	rte->inFromCl = false;
	query->rtable = lappend(query->rtable, rte);
	list_nth_cell(query->rtable, rti - 1)->ptr_value = placeholder;

	pruning = PruneShards(entry,
						  workerQuery->jointree->quals ?
						  make_ands_implicit((Expr *) workerQuery->jointree->quals) :
						  NIL,
						  boundParams);
	{
		DistributedPlan *plan = MakeShipQueryPlan(rte->relid, workerQuery,
												  pruning.shardIndexes,
												  pruning.pruneValue,
												  false, true);

		plan->isRouter = false;
		return plan;
	}
}

/*
 * StartJoinLevelPushdown prepares moving work of a query level whose FROM
 * clause is the placeholder of a join pushed down by join_pushdown.c into
 * the join's shard query: it sets up the context and returns a copy of
 * the shard query without output columns.
 */
static Query *
StartJoinLevelPushdown(Query *query, Index placeholderIndex,
					   DistributedPlan *joinPlan, PushdownContext *context)
{
	Query	   *workerQuery = copyObject(joinPlan->query);

	memset(context, 0, sizeof(PushdownContext));
	context->rti = placeholderIndex;
	context->placeholderRti = placeholderIndex;
	context->sourceTargetList = joinPlan->query->targetList;
	context->sourceRte = rt_fetch(placeholderIndex, query->rtable);
	workerQuery->targetList = NIL;
	return workerQuery;
}

/*
 * FinishJoinLevelPushdown makes the query level read the output of the
 * extended shard query through a new placeholder and returns its plan.
 */
static DistributedPlan *
FinishJoinLevelPushdown(Query *query, Index placeholderIndex,
						PushdownContext *context, Query *workerQuery,
						DistributedPlan *joinPlan, int planIndex)
{
	DistributedPlan *plan;

	list_nth_cell(query->rtable, placeholderIndex - 1)->ptr_value =
		MakeResultPlaceholderRte("joined",
								 WorkerColumnNames(context->workerExprs),
								 context->workerExprs, planIndex);
	plan = MakeShipQueryPlan(joinPlan->relid, workerQuery,
							 joinPlan->shardIndexes, joinPlan->pruneValue,
							 false, true);
	plan->isRouter = false;
	return plan;
}

/*
 * PushDownAggregationOverJoin moves the aggregation of a query level whose
 * FROM clause join_pushdown.c has turned into a placeholder scan of joined
 * shards into the shards' join query: each set of shards returns partial
 * aggregates (or distinct values) per group instead of its joined rows.
 * Returns the new plan for the placeholder, or NULL when the query level
 * does not qualify and is left unchanged.
 */
DistributedPlan *
PushDownAggregationOverJoin(Query *query, DistributedPlan *joinPlan,
							int planIndex)
{
	Index		placeholderIndex;
	PushdownContext context;
	Query	   *workerQuery;
	List	   *newTargetList = NIL;
	Node	   *newHaving = NULL;
	Expr	   *distinctArgument = NULL;
	ListCell   *lc;

	if ((!query->hasAggs && query->groupClause == NIL) ||
		query->hasWindowFuncs || query->groupingSets != NIL ||
		query->hasTargetSRFs || query->hasSubLinks || query->rowMarks != NIL ||
		query->setOperations != NULL || query->groupDistinct ||
		query->jointree->quals != NULL ||
		list_length(query->jointree->fromlist) != 1)
		return NULL;
	placeholderIndex = ((RangeTblRef *) linitial(query->jointree->fromlist))->rtindex;
	if (!bms_is_subset(pull_varnos(NULL, (Node *) query->targetList),
					   bms_make_singleton(placeholderIndex)) ||
		contain_vars_of_level((Node *) query->targetList, 1) ||
		contain_vars_of_level(query->havingQual, 1))
		return NULL;
	foreach(lc, query->groupClause)
	{
		if (!IsShippableFilter(get_sortgroupclause_expr(lfirst(lc),
														query->targetList)))
			return NULL;
	}
	if (!AllAggregatesSplittable((Node *) query->targetList) ||
		!AllAggregatesSplittable(query->havingQual))
	{
		distinctArgument = DistinctArgument(query);
		if (distinctArgument == NULL)
			return NULL;
	}

	/* the join's shard query, now returning groups */
	workerQuery = StartJoinLevelPushdown(query, placeholderIndex, joinPlan,
										 &context);
	if (!SplitAggregation(query, &context, workerQuery, distinctArgument,
						  &newTargetList, &newHaving) ||
		context.workerExprs == NIL ||
		!IsTransferableOutput(context.workerExprs) ||
		!QueryIsDeparsable(workerQuery))
		return NULL;

	query->targetList = newTargetList;
	query->havingQual = newHaving;
	return FinishJoinLevelPushdown(query, placeholderIndex, &context,
								   workerQuery, joinPlan, planIndex);
}

/*
 * JoinPartitionColumn: the placeholder column (a Var of the join's
 * placeholder) is the distribution column of one of the joined tables, on
 * no outer join's nullable side -- so all rows with one value of it come
 * from one set of co-located shards.
 */
static bool
JoinPartitionColumn(Node *expr, Index placeholderIndex, Query *joinQuery)
{
	Var		   *var;
	Var		   *source;
	DistTableCacheEntry *entry;

	if (!IsA(expr, Var) || ((Var *) expr)->varno != placeholderIndex ||
		((Var *) expr)->varlevelsup != 0)
		return false;
	var = (Var *) expr;
	if (var->varattno < 1 || var->varattno > list_length(joinQuery->targetList))
		return false;
	source = (Var *) ((TargetEntry *) list_nth(joinQuery->targetList,
											   var->varattno - 1))->expr;
	if (!IsA(source, Var) || source->varlevelsup != 0)
		return false;
	entry = LookupDistTable(rt_fetch(source->varno, joinQuery->rtable)->relid);
	return entry != NULL && source->varattno == entry->distAttnum &&
		!IsNullableInJoinTree((Node *) joinQuery->jointree, source->varno,
							  false);
}

/*
 * PushDownWindowsOverJoin moves the window functions of a query level whose
 * FROM clause join_pushdown.c has turned into a placeholder scan of joined
 * co-located shards into the shards' join query, when every window
 * partitions by a distribution column (see JoinPartitionColumn): each set
 * of shards then holds whole window partitions.  Returns the new plan for
 * the placeholder, or NULL when the query level does not qualify and is
 * left unchanged.
 */
DistributedPlan *
PushDownWindowsOverJoin(Query *query, DistributedPlan *joinPlan, int planIndex)
{
	Index		placeholderIndex;
	PushdownContext context;
	Query	   *workerQuery;
	List	   *newTargetList;
	ListCell   *lc;

	if (!query->hasWindowFuncs || query->hasAggs ||
		query->groupClause != NIL || query->groupingSets != NIL ||
		query->havingQual != NULL || query->hasTargetSRFs ||
		query->hasSubLinks || query->rowMarks != NIL ||
		query->setOperations != NULL || query->jointree->quals != NULL ||
		list_length(query->jointree->fromlist) != 1)
		return NULL;
	placeholderIndex = ((RangeTblRef *) linitial(query->jointree->fromlist))->rtindex;
	if (!bms_is_subset(pull_varnos(NULL, (Node *) query->targetList),
					   bms_make_singleton(placeholderIndex)) ||
		contain_vars_of_level((Node *) query->targetList, 1) ||
		!ShippableWithAggregates((Node *) query->targetList))
		return NULL;
	foreach(lc, query->windowClause)
	{
		WindowClause *window = lfirst(lc);
		ListCell   *plc;
		bool		found = false;

		foreach(plc, window->partitionClause)
		{
			if (JoinPartitionColumn(get_sortgroupclause_expr(lfirst(plc),
															 query->targetList),
									placeholderIndex, joinPlan->query))
				found = true;
		}
		if (!found)
			return NULL;
	}

	workerQuery = StartJoinLevelPushdown(query, placeholderIndex, joinPlan,
										 &context);
	newTargetList = ShipWholeLevel(query, &context, workerQuery);
	if (!IsTransferableOutput(context.workerExprs) ||
		!QueryIsDeparsable(workerQuery))
		return NULL;

	query->targetList = newTargetList;
	query->hasWindowFuncs = false;
	query->windowClause = NIL;
	return FinishJoinLevelPushdown(query, placeholderIndex, &context,
								   workerQuery, joinPlan, planIndex);
}
