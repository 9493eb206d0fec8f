/*-------------------------------------------------------------------------
 *
 * aggregate_states.c
 *	  Splitting aggregates into a shard part and a coordinator part by
 *	  their transition states, or by concatenating their results.
 *
 * aggregate_pushdown.c splits the common aggregates (count, sum, avg, ...)
 * into simple partial aggregates.  This file splits two more kinds:
 *
 * - state split: a built-in aggregate whose transition state is an
 *   ordinary SQL type and that has a combine function -- the stddev and
 *   variance family of floats, covar_*, corr, regr_*, bit_xor, avg of
 *   float4 and intervals, ... -- is split as PostgreSQL's own parallel
 *   aggregation splits it: each shard returns its transition state
 *   (distdb.partial_state, running the aggregate's transition function),
 *   the coordinator merges them with the combine function
 *   (distdb.combine_states) and applies the final function.  Everything
 *   comes from pg_aggregate, so no aggregate needs a case of its own; the
 *   float states combine exactly as in a parallel plan of PostgreSQL.
 *
 * - concatenation: array_agg of a non-array value, string_agg with a
 *   constant delimiter, jsonb_agg, json_agg (all without ORDER BY or
 *   DISTINCT, so the element order is unspecified, as in PostgreSQL): each
 *   shard aggregates its rows, the coordinator concatenates the shards'
 *   results (array_cat, string_agg with the same delimiter, jsonb ||, json
 *   arrays joined in json_agg's format), which gives the same text as one
 *   aggregate over all rows in that order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "distdb/planner_internal.h"

/* a function of schema distdb, by name and argument types */
static Oid
DistdbFunction(const char *name, int argumentCount, Oid *argumentTypes)
{
	return LookupFuncName(list_make2(makeString("distdb"),
									 makeString(pstrdup(name))),
						  argumentCount, argumentTypes, false);
}

/*
 * MakeAggregateCall returns a call of an aggregate with the given
 * arguments (expressions), result type and input collation.
 */
static Aggref *
MakeAggregateCall(Oid aggregate, List *arguments, Oid resultType,
				  Oid inputCollation)
{
	Aggref	   *aggref = makeNode(Aggref);
	ListCell   *lc;

	aggref->aggfnoid = aggregate;
	aggref->aggtype = resultType;
	aggref->aggcollid = get_typcollation(resultType);
	aggref->inputcollid = inputCollation;
	aggref->aggtranstype = InvalidOid;
	foreach(lc, arguments)
	{
		aggref->aggargtypes = lappend_oid(aggref->aggargtypes,
										  exprType(lfirst(lc)));
		aggref->args = lappend(aggref->args,
							   makeTargetEntry(lfirst(lc),
											   foreach_current_index(lc) + 1,
											   NULL, false));
	}
	aggref->aggkind = AGGKIND_NORMAL;
	aggref->aggsplit = AGGSPLIT_SIMPLE;
	aggref->aggno = -1;
	aggref->aggtransno = -1;
	aggref->location = -1;
	return aggref;
}

/* an oid constant */
static Expr *
OidConst(Oid value)
{
	return (Expr *) makeConst(OIDOID, -1, InvalidOid, sizeof(Oid),
							  ObjectIdGetDatum(value), false, true);
}

/* the transition state type of an aggregate */
static Oid
AggregateStateType(Oid aggregate)
{
	HeapTuple	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggregate));
	Oid			stateType;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for aggregate %u", aggregate);
	stateType = ((Form_pg_aggregate) GETSTRUCT(tuple))->aggtranstype;
	ReleaseSysCache(tuple);
	return stateType;
}

/*
 * AggregateStateSplittable: the aggregate can be split by its transition
 * state -- a built-in aggregate with a combine function, a state of an
 * ordinary SQL type the shards can send back, fixed argument types, no
 * extra arguments to its final function, and immutable support functions.
 * The caller has checked that the call has no DISTINCT, ORDER BY or
 * direct arguments.
 */
bool
AggregateStateSplittable(Aggref *aggref)
{
	HeapTuple	tuple;
	Form_pg_aggregate aggForm;
	bool		splittable;
	Oid		   *declaredTypes;
	int			declaredCount;
	Oid			resultType;
	ListCell   *lc;

	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(tuple))
		return false;
	aggForm = (Form_pg_aggregate) GETSTRUCT(tuple);
	splittable = aggForm->aggkind == AGGKIND_NORMAL &&
		aggForm->aggnumdirectargs == 0 &&
		OidIsValid(aggForm->aggcombinefn) &&
		func_strict(aggForm->aggcombinefn) &&
		!aggForm->aggfinalextra &&
		aggForm->aggtranstype != INTERNALOID &&
		aggForm->aggtranstype != RECORDOID &&
		aggForm->aggtranstype != RECORDARRAYOID &&
		!IsPolymorphicType(aggForm->aggtranstype) &&
		get_typtype(aggForm->aggtranstype) != TYPTYPE_PSEUDO &&
		func_volatile(aggForm->aggtransfn) == PROVOLATILE_IMMUTABLE &&
		func_volatile(aggForm->aggcombinefn) == PROVOLATILE_IMMUTABLE &&
		(!OidIsValid(aggForm->aggfinalfn) ||
		 func_volatile(aggForm->aggfinalfn) == PROVOLATILE_IMMUTABLE);

	/*
	 * A strict transition function without an initial condition starts
	 * from its first input, which must then be of the state type.
	 */
	if (splittable && func_strict(aggForm->aggtransfn))
	{
		bool		initIsNull;

		(void) SysCacheGetAttr(AGGFNOID, tuple, Anum_pg_aggregate_agginitval,
							   &initIsNull);
		if (initIsNull &&
			(aggref->aggargtypes == NIL ||
			 linitial_oid(aggref->aggargtypes) != aggForm->aggtranstype))
			splittable = false;
	}
	ReleaseSysCache(tuple);
	if (!splittable)
		return false;

	/* the arguments must have exactly the declared types */
	resultType = get_func_signature(aggref->aggfnoid, &declaredTypes,
									&declaredCount);
	if (IsPolymorphicType(resultType) ||
		declaredCount != list_length(aggref->args))
		return false;
	foreach(lc, aggref->args)
	{
		Expr	   *argument = ((TargetEntry *) lfirst(lc))->expr;

		if (exprType((Node *) argument) !=
			declaredTypes[foreach_current_index(lc)])
			return false;
	}
	return true;
}

/*
 * MakePartialStateAggregate returns the shard part of a state split:
 * distdb.partial_state(aggregate, NULL::state type, arguments...) with the
 * aggregate's FILTER.
 */
Aggref *
MakePartialStateAggregate(Aggref *aggref)
{
	Oid			stateType = AggregateStateType(aggref->aggfnoid);
	Oid			signature[3] = {OIDOID, ANYELEMENTOID, ANYOID};
	List	   *arguments;
	Aggref	   *partial;
	ListCell   *lc;

	arguments = list_make2(OidConst(aggref->aggfnoid),
						   makeNullConst(stateType, -1,
										 get_typcollation(stateType)));
	foreach(lc, aggref->args)
		arguments = lappend(arguments,
							copyObject(((TargetEntry *) lfirst(lc))->expr));
	partial = MakeAggregateCall(DistdbFunction("partial_state", 3, signature),
								arguments, stateType, aggref->inputcollid);
	partial->aggfilter = copyObject(aggref->aggfilter);
	return partial;
}

/*
 * GetAggregateInitValue returns the aggregate's initial condition as a
 * constant of its state type, or NULL when it has none.
 */
static Expr *
GetAggregateInitValue(Oid aggregate, Oid stateType)
{
	HeapTuple	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggregate));
	Datum		initText;
	bool		isNull;
	Oid			inputFunction;
	Oid			ioParam;
	int16		length;
	bool		byValue;
	Datum		value;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for aggregate %u", aggregate);
	initText = SysCacheGetAttr(AGGFNOID, tuple, Anum_pg_aggregate_agginitval,
							   &isNull);
	if (isNull)
	{
		ReleaseSysCache(tuple);
		return NULL;
	}
	getTypeInputInfo(stateType, &inputFunction, &ioParam);
	value = OidInputFunctionCall(inputFunction, TextDatumGetCString(initText),
								 ioParam, -1);
	ReleaseSysCache(tuple);
	get_typlenbyval(stateType, &length, &byValue);
	return (Expr *) makeConst(stateType, -1, get_typcollation(stateType),
							  length, value, false, byValue);
}

/*
 * MakeStateCombine returns the coordinator part of a state split over
 * the shards' states: finalfn(COALESCE(distdb.combine_states(aggregate,
 * states), initial condition)).  Without input rows at all (no shard
 * returned a state) the final function gets the initial condition, as in
 * PostgreSQL.
 */
Expr *
MakeStateCombine(Aggref *aggref, Expr *states)
{
	HeapTuple	tuple = SearchSysCache1(AGGFNOID,
										ObjectIdGetDatum(aggref->aggfnoid));
	Oid			finalFunction;
	Oid			stateType = exprType((Node *) states);
	Oid			signature[2] = {OIDOID, ANYELEMENTOID};
	Expr	   *initValue;
	Expr	   *result;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for aggregate %u", aggref->aggfnoid);
	finalFunction = ((Form_pg_aggregate) GETSTRUCT(tuple))->aggfinalfn;
	ReleaseSysCache(tuple);

	result = (Expr *) MakeAggregateCall(DistdbFunction("combine_states", 2,
													   signature),
										list_make2(OidConst(aggref->aggfnoid),
												   states),
										stateType, aggref->inputcollid);

	initValue = GetAggregateInitValue(aggref->aggfnoid, stateType);
	if (initValue != NULL)
	{
		CoalesceExpr *coalesce = makeNode(CoalesceExpr);

		coalesce->coalescetype = stateType;
		coalesce->coalescecollid = get_typcollation(stateType);
		coalesce->args = list_make2(result, initValue);
		coalesce->location = -1;
		result = (Expr *) coalesce;
	}
	if (OidIsValid(finalFunction))
		result = (Expr *) makeFuncExpr(finalFunction, aggref->aggtype,
									   list_make1(result), aggref->aggcollid,
									   aggref->inputcollid,
									   COERCE_EXPLICIT_CALL);
	return result;
}

/*
 * AggregateConcatenable: the aggregate's shard results can be
 * concatenated -- array_agg of a non-array value, string_agg with a
 * constant delimiter, jsonb_agg, json_agg.  The caller has checked that the call is
 * of a pg_catalog aggregate without DISTINCT or ORDER BY.
 */
bool
AggregateConcatenable(Aggref *aggref)
{
	switch (aggref->aggfnoid)
	{
		case F_ARRAY_AGG_ANYNONARRAY:
		case F_JSONB_AGG:
		case F_JSON_AGG:
			return true;
		case F_STRING_AGG_TEXT_TEXT:
		case F_STRING_AGG_BYTEA_BYTEA:
			return IsA(((TargetEntry *) lsecond(aggref->args))->expr, Const);
		default:
			return false;
	}
}

/*
 * MakeConcatCombine returns the coordinator's concatenation of the shards'
 * results of a concatenable aggregate.
 */
Expr *
MakeConcatCombine(Aggref *aggref, Expr *partials)
{
	const char *name;
	Oid			signature[1];
	Aggref	   *combine;

	switch (aggref->aggfnoid)
	{
		case F_ARRAY_AGG_ANYNONARRAY:
			name = "array_concat_agg";
			signature[0] = ANYCOMPATIBLEARRAYOID;
			break;
		case F_JSONB_AGG:
			name = "jsonb_concat_agg";
			signature[0] = JSONBOID;
			break;
		case F_JSON_AGG:
			name = "json_concat_agg";
			signature[0] = JSONOID;
			break;
		default:
			/* string_agg of the shards' strings, with the same delimiter */
			combine = MakeAggregateCall(aggref->aggfnoid,
										list_make2(partials,
												   copyObject(((TargetEntry *) lsecond(aggref->args))->expr)),
										aggref->aggtype, aggref->inputcollid);
			combine->aggcollid = aggref->aggcollid;
			return (Expr *) combine;
	}
	combine = MakeAggregateCall(DistdbFunction(name, 1, signature),
								list_make1(partials), aggref->aggtype,
								aggref->inputcollid);
	combine->aggcollid = aggref->aggcollid;
	return (Expr *) combine;
}

/*
 * MakeNumericSqrtRounded returns distdb.numeric_sqrt_rounded(value): the
 * square root as numeric stddev_samp / stddev_pop compute it from the
 * variance.
 */
Expr *
MakeNumericSqrtRounded(Expr *value)
{
	Oid			signature[1] = {NUMERICOID};

	return (Expr *) makeFuncExpr(DistdbFunction("numeric_sqrt_rounded", 1,
												signature),
								 NUMERICOID, list_make1(value), InvalidOid,
								 InvalidOid, COERCE_EXPLICIT_CALL);
}
