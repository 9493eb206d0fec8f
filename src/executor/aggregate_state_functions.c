/*-------------------------------------------------------------------------
 *
 * aggregate_state_functions.c
 *	  SQL-callable aggregate support for two-phase aggregation: partial
 *	  transition states computed on the shards, combined on the coordinator.
 *
 * PostgreSQL's parallel aggregation splits an aggregate into a partial
 * step, which runs the aggregate's transition function and returns its
 * state, and a final step, which merges states with the combine function
 * and applies the final function.  SQL has no syntax for either step, so
 * distdb provides two generic aggregates that do them for any built-in
 * aggregate whose state is an ordinary SQL type (float8[] for the
 * statistical float aggregates, int8 for regr_count, ...):
 *
 *	distdb.partial_state(aggregate oid, state anyelement, VARIADIC "any")
 *		runs on a shard: feeds the arguments to the transition function of
 *		the aggregate with that oid, starting from its initial condition,
 *		and returns the state; the second argument, a typed NULL, only
 *		gives the result type;
 *	distdb.combine_states(aggregate oid, states anyelement)
 *		runs on the coordinator: merges the shards' states with the
 *		aggregate's combine function.
 *
 * The coordinator then applies the aggregate's final function to the
 * combined state (see planner/aggregate_states.c).  Also here: the
 * square root numeric standard deviations take, and the concatenation of
 * json_agg results.  Both aggregates check
 * that the argument and state types are exactly the ones the aggregate
 * declares, since its support functions trust their input types.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/syscache.h"

/* what the support functions need to know about the aggregate they run */
typedef struct AggregateStateInfo
{
	Oid			aggregate;		/* pg_proc oid of the aggregate */
	FmgrInfo	function;		/* transition or combine function */
	FunctionCallInfo callInfo;	/* reused for each call of it */
	Oid			stateType;
	int16		stateTypeLength;
	bool		stateTypeByValue;
	bool		initValueIsNull;
	Datum		initValue;		/* in fn_mcxt, never handed out */
	int			argumentCount;	/* arguments of the aggregate */
} AggregateStateInfo;

PG_FUNCTION_INFO_V1(distdb_partial_state_transition);
PG_FUNCTION_INFO_V1(distdb_combine_state_transition);

/*
 * LookupAggregateState checks that the aggregate can run through the
 * generic support functions with the given state and argument types
 * (argumentTypes == NULL: the combine step, which only takes states) and
 * returns what they need, cached in flinfo->fn_extra.
 */
static AggregateStateInfo *
LookupAggregateState(FunctionCallInfo fcinfo, Oid aggregate, Oid stateType,
					 int argumentCount, Oid *argumentTypes)
{
	AggregateStateInfo *info = fcinfo->flinfo->fn_extra;
	HeapTuple	aggTuple;
	HeapTuple	procTuple;
	Form_pg_aggregate aggForm;
	Form_pg_proc procForm;
	Oid			function;
	Datum		initText;
	bool		initIsNull;
	AclResult	aclResult;
	int			i;

	if (info != NULL && info->aggregate == aggregate)
		return info;

	aggTuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggregate));
	procTuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggregate));
	if (!HeapTupleIsValid(aggTuple) || !HeapTupleIsValid(procTuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("aggregate with oid %u does not exist", aggregate)));
	aggForm = (Form_pg_aggregate) GETSTRUCT(aggTuple);
	procForm = (Form_pg_proc) GETSTRUCT(procTuple);

	aclResult = pg_proc_aclcheck(aggregate, GetUserId(), ACL_EXECUTE);
	if (aclResult != ACLCHECK_OK)
		aclcheck_error(aclResult, OBJECT_AGGREGATE, NameStr(procForm->proname));

	function = argumentTypes != NULL ? aggForm->aggtransfn : aggForm->aggcombinefn;
	if (aggForm->aggtranstype != stateType)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("state of aggregate %s is of type %s, not %s",
						NameStr(procForm->proname),
						format_type_be(aggForm->aggtranstype),
						format_type_be(stateType))));
	if (aggForm->aggkind != AGGKIND_NORMAL || !OidIsValid(function) ||
		stateType == INTERNALOID ||
		(argumentTypes != NULL && procForm->pronargs != argumentCount) ||
		(argumentTypes == NULL && !func_strict(function)) ||
		func_volatile(function) != PROVOLATILE_IMMUTABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate %s cannot be split into partial states",
						NameStr(procForm->proname))));
	for (i = 0; argumentTypes != NULL && i < argumentCount; i++)
	{
		if (procForm->proargtypes.values[i] != argumentTypes[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("argument %d of aggregate %s is of type %s, not %s",
							i + 1, NameStr(procForm->proname),
							format_type_be(procForm->proargtypes.values[i]),
							format_type_be(argumentTypes[i]))));
	}

	initText = SysCacheGetAttr(AGGFNOID, aggTuple, Anum_pg_aggregate_agginitval,
							   &initIsNull);

	/*
	 * A strict transition function without an initial condition takes the
	 * first input as its state, which must then be of the state type.
	 */
	if (argumentTypes != NULL && initIsNull && func_strict(function) &&
		(argumentCount < 1 || argumentTypes[0] != stateType))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate %s cannot be split into partial states",
						NameStr(procForm->proname))));

	if (info == NULL)
		info = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
									  sizeof(AggregateStateInfo));
	else
		memset(info, 0, sizeof(AggregateStateInfo));
	info->stateType = stateType;
	get_typlenbyval(stateType, &info->stateTypeLength, &info->stateTypeByValue);
	info->initValueIsNull = initIsNull;
	if (!initIsNull)
	{
		Oid			inputFunction;
		Oid			ioParam;
		MemoryContext oldContext = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		getTypeInputInfo(stateType, &inputFunction, &ioParam);
		info->initValue = OidInputFunctionCall(inputFunction,
											   TextDatumGetCString(initText),
											   ioParam, -1);
		MemoryContextSwitchTo(oldContext);
	}
	info->argumentCount = argumentCount;
	fmgr_info_cxt(function, &info->function, fcinfo->flinfo->fn_mcxt);
	info->callInfo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
											SizeForFunctionCallInfo(argumentTypes != NULL ?
																	argumentCount + 1 : 2));
	info->aggregate = aggregate;
	fcinfo->flinfo->fn_extra = info;

	ReleaseSysCache(procTuple);
	ReleaseSysCache(aggTuple);
	return info;
}

/* a copy of the aggregate's initial state, in the current memory context */
static Datum
CopyInitValue(AggregateStateInfo *info)
{
	return datumCopy(info->initValue, info->stateTypeByValue,
					 info->stateTypeLength);
}

/*
 * CallStateFunction calls the transition or combine function with the
 * state and the given arguments, passing the aggregate's call context on
 * (so that the function may update the state in place, as it does under
 * nodeAgg.c), and returns its result.
 */
static Datum
CallStateFunction(FunctionCallInfo fcinfo, AggregateStateInfo *info,
				  Datum state, bool stateIsNull, int firstArgument,
				  int argumentCount, bool *isNull)
{
	FunctionCallInfo call = info->callInfo;
	Datum		result;
	int			i;

	InitFunctionCallInfoData(*call, &info->function, argumentCount + 1,
							 fcinfo->fncollation, fcinfo->context, NULL);
	call->args[0].value = state;
	call->args[0].isnull = stateIsNull;
	for (i = 0; i < argumentCount; i++)
	{
		call->args[i + 1].value = PG_GETARG_DATUM(firstArgument + i);
		call->args[i + 1].isnull = PG_ARGISNULL(firstArgument + i);
	}
	result = FunctionCallInvoke(call);
	*isNull = call->isnull;
	return result;
}

/*
 * distdb_partial_state_transition is the transition function of
 * distdb.partial_state(aggregate, state, VARIADIC arguments): it runs the
 * aggregate's own transition function the way nodeAgg.c does, with the
 * aggregate's initial condition and strictness rules.
 */
Datum
distdb_partial_state_transition(PG_FUNCTION_ARGS)
{
	MemoryContext aggContext;
	AggregateStateInfo *info;
	Oid			argumentTypes[FUNC_MAX_ARGS];
	int			argumentCount = PG_NARGS() - 3;
	Datum		state = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	bool		stateIsNull = PG_ARGISNULL(0);
	Datum		result;
	bool		resultIsNull;
	int			i;

	if (!AggCheckCallContext(fcinfo, &aggContext))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("partial_state can only be called as an aggregate")));
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	for (i = 0; i < argumentCount; i++)
		argumentTypes[i] = get_fn_expr_argtype(fcinfo->flinfo, i + 3);
	info = LookupAggregateState(fcinfo, PG_GETARG_OID(1),
								get_fn_expr_argtype(fcinfo->flinfo, 2),
								argumentCount, argumentTypes);

	if (info->function.fn_strict)
	{
		for (i = 0; i < argumentCount; i++)
		{
			if (PG_ARGISNULL(i + 3))
			{
				if (stateIsNull)
					PG_RETURN_NULL();
				PG_RETURN_DATUM(state);
			}
		}
	}
	if (stateIsNull)
	{
		MemoryContext oldContext = MemoryContextSwitchTo(aggContext);

		if (!info->initValueIsNull)
		{
			state = CopyInitValue(info);
			stateIsNull = false;
		}
		else if (info->function.fn_strict)
		{
			/* the first input becomes the state, as in nodeAgg.c */
			state = datumCopy(PG_GETARG_DATUM(3), info->stateTypeByValue,
							  info->stateTypeLength);
			MemoryContextSwitchTo(oldContext);
			PG_RETURN_DATUM(state);
		}
		MemoryContextSwitchTo(oldContext);
	}

	result = CallStateFunction(fcinfo, info, state, stateIsNull, 3,
							   argumentCount, &resultIsNull);
	if (resultIsNull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * distdb_combine_state_transition is the transition function of
 * distdb.combine_states(aggregate, states): it merges one shard's state
 * into the running one with the aggregate's (strict) combine function,
 * starting from the aggregate's initial condition like the final step of
 * PostgreSQL's parallel aggregation.
 */
Datum
distdb_combine_state_transition(PG_FUNCTION_ARGS)
{
	MemoryContext aggContext;
	AggregateStateInfo *info;
	Datum		state;
	Datum		result;
	bool		resultIsNull;

	if (!AggCheckCallContext(fcinfo, &aggContext))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("combine_states can only be called as an aggregate")));
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	info = LookupAggregateState(fcinfo, PG_GETARG_OID(1),
								get_fn_expr_argtype(fcinfo->flinfo, 2),
								0, NULL);

	/* a shard without input rows returns no state */
	if (PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (PG_ARGISNULL(0))
	{
		MemoryContext oldContext = MemoryContextSwitchTo(aggContext);

		if (info->initValueIsNull)
		{
			state = datumCopy(PG_GETARG_DATUM(2), info->stateTypeByValue,
							  info->stateTypeLength);
			MemoryContextSwitchTo(oldContext);
			PG_RETURN_DATUM(state);
		}
		state = CopyInitValue(info);
		MemoryContextSwitchTo(oldContext);
	}
	else
		state = PG_GETARG_DATUM(0);

	result = CallStateFunction(fcinfo, info, state, false, 2, 1,
							   &resultIsNull);
	if (resultIsNull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(distdb_numeric_sqrt_rounded);

/* numeric 10^exponent, exact */
static Datum
NumericPowerOfTen(int exponent)
{
	return DirectFunctionCall3(numeric_in,
							   CStringGetDatum(psprintf("1e%d", exponent)),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/*
 * distdb_numeric_sqrt_rounded returns the square root of a non-negative
 * numeric rounded (half up) to the argument's display scale: what
 * numeric_stddev_samp / numeric_stddev_pop compute from the variance (see
 * sqrt_var in numeric.c, which truncates the root one digit beyond the
 * scale and rounds that).  sqrt() picks its own, often larger, scale, and
 * rounding its result again could round twice, so the root is computed
 * exactly here: the integer square root of the value times 10^(2s + 2),
 * from sqrt()'s estimate corrected until its square brackets the value.
 */
Datum
distdb_numeric_sqrt_rounded(PG_FUNCTION_ARGS)
{
	Numeric		value = PG_GETARG_NUMERIC(0);
	int32		scale;
	Datum		one = NumericGetDatum(int64_to_numeric(1));
	Datum		scaled;
	Datum		root;
	Datum		next;

	if (numeric_is_nan(value) || numeric_is_inf(value))
		PG_RETURN_DATUM(DirectFunctionCall1(numeric_sqrt,
											NumericGetDatum(value)));
	scale = DatumGetInt32(DirectFunctionCall1(numeric_scale,
											  NumericGetDatum(value)));
	scaled = DirectFunctionCall2(numeric_trunc,
								 DirectFunctionCall2(numeric_mul,
													 NumericGetDatum(value),
													 NumericPowerOfTen(2 * scale + 2)),
								 Int32GetDatum(0));
	root = DirectFunctionCall2(numeric_trunc,
							   DirectFunctionCall1(numeric_sqrt, scaled),
							   Int32GetDatum(0));
	while (DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											 DirectFunctionCall2(numeric_mul, root, root),
											 scaled)) > 0)
		root = DirectFunctionCall2(numeric_sub, root, one);
	for (;;)
	{
		next = DirectFunctionCall2(numeric_add, root, one);
		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											  DirectFunctionCall2(numeric_mul, next, next),
											  scaled)) > 0)
			break;
		root = next;
	}
	PG_RETURN_DATUM(DirectFunctionCall2(numeric_round,
										DirectFunctionCall2(numeric_mul, root,
															NumericPowerOfTen(-(scale + 1))),
										Int32GetDatum(scale)));
}

PG_FUNCTION_INFO_V1(distdb_json_array_concat);

/*
 * JsonArrayBounds finds the brackets of a json array in text (leading and
 * trailing white space allowed) and returns whether it is one, with the
 * positions of its brackets and whether it has no elements.
 */
static bool
JsonArrayBounds(const char *data, int length, int *open, int *close,
				bool *empty)
{
	int			i;

	*open = 0;
	while (*open < length && isspace((unsigned char) data[*open]))
		(*open)++;
	*close = length - 1;
	while (*close > *open && isspace((unsigned char) data[*close]))
		(*close)--;
	if (*open >= *close || data[*open] != '[' || data[*close] != ']')
		return false;
	*empty = true;
	for (i = *open + 1; i < *close; i++)
	{
		if (!isspace((unsigned char) data[i]))
			*empty = false;
	}
	return true;
}

/*
 * distdb_json_array_concat appends the elements of one json array to
 * another, in json_agg's format ("[a, b]" and "[c]" give "[a, b, c]"): the
 * transition function of distdb.json_concat_agg, which concatenates the
 * shards' json_agg results.
 */
Datum
distdb_json_array_concat(PG_FUNCTION_ARGS)
{
	text	   *first = PG_GETARG_TEXT_PP(0);
	text	   *second = PG_GETARG_TEXT_PP(1);
	const char *firstData = VARDATA_ANY(first);
	const char *secondData = VARDATA_ANY(second);
	int			firstOpen,
				firstClose,
				secondOpen,
				secondClose;
	bool		firstEmpty,
				secondEmpty;
	StringInfoData result;

	if (!JsonArrayBounds(firstData, VARSIZE_ANY_EXHDR(first), &firstOpen,
						 &firstClose, &firstEmpty) ||
		!JsonArrayBounds(secondData, VARSIZE_ANY_EXHDR(second), &secondOpen,
						 &secondClose, &secondEmpty))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("json_array_concat can only concatenate json arrays")));
	if (secondEmpty)
		PG_RETURN_TEXT_P(first);
	if (firstEmpty)
		PG_RETURN_TEXT_P(second);

	initStringInfo(&result);
	appendBinaryStringInfo(&result, firstData, firstClose);
	appendStringInfoString(&result, ", ");
	appendBinaryStringInfo(&result, secondData + secondOpen + 1,
						   VARSIZE_ANY_EXHDR(second) - secondOpen - 1);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(result.data, result.len));
}
