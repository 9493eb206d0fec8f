/*-------------------------------------------------------------------------
 *
 * shard_pruning.c
 *	  Finding the shards a statement's filters can match.
 *
 * The filters are the AND-ed conditions on the distributed table (its Vars
 * at range table index 1).  A condition "distribution column = value" with
 * an operator of the column type's hash operator family pins one shard;
 * "column IN (...)" / "= ANY (array constant)" pins several; conditions
 * are intersected.  A parameter compared for equality is recorded so that
 * the executor can pick the shard once the parameter's value is known
 * (generic plans of prepared statements).  An OR whose every branch pins
 * shards pins their union.  A reference table has one shard, always
 * selected.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/hash.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

#include "distdb/shard_pruning.h"

static Bitmapset *ShardsForCondition(DistTableCacheEntry *entry, Node *clause,
									 Expr **pruneValue, bool *pinned);
static bool IsDistributionColumn(DistTableCacheEntry *entry, Node *node);

/*
 * AllShardIndexes returns the list 0 .. shardCount-1.
 */
List *
AllShardIndexes(DistTableCacheEntry *entry)
{
	List	   *indexes = NIL;
	int			i;

	for (i = 0; i < entry->shardCount; i++)
		indexes = lappend_int(indexes, i);
	return indexes;
}

/*
 * ShardIndexForDatum returns the shard a non-null value of the given type
 * belongs to.  The type must be in the distribution column's hash operator
 * family, whose hash functions agree across types.
 */
int
ShardIndexForDatum(DistTableCacheEntry *entry, Datum value, Oid valueType)
{
	int32		hash;

	if (valueType == entry->distType)
		hash = HashDistributionValue(entry, value);
	else
	{
		Oid			function = get_opfamily_proc(entry->hashOpfamily, valueType,
												 valueType, HASHSTANDARD_PROC);

		if (!OidIsValid(function))
			elog(ERROR, "no hash function for type %u in operator family %u",
				 valueType, entry->hashOpfamily);
		hash = DatumGetInt32(OidFunctionCall1Coll(function,
												  entry->distCollation,
												  value));
	}
	return ShardIndexForHash(entry->shardCount, hash);
}

/* IsDistributionColumn: a Var of the distribution column, maybe relabeled */
static bool
IsDistributionColumn(DistTableCacheEntry *entry, Node *node)
{
	while (node != NULL && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node != NULL && IsA(node, Var) &&
		((Var *) node)->varno == 1 && ((Var *) node)->varlevelsup == 0 &&
		((Var *) node)->varattno == entry->distAttnum;
}

/*
 * ShardsForCondition returns the shards one condition allows, setting
 * *pinned; a condition that says nothing about the distribution column
 * leaves *pinned false.
 */
static Bitmapset *
ShardsForCondition(DistTableCacheEntry *entry, Node *clause,
				   Expr **pruneValue, bool *pinned)
{
	*pinned = false;

	/* a constant false or null condition matches nothing */
	if (IsA(clause, Const))
	{
		Const	   *constant = (Const *) clause;

		if (constant->constisnull || !DatumGetBool(constant->constvalue))
		{
			*pinned = true;
			return NULL;
		}
		return NULL;
	}

	if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) clause;
		Node	   *left = linitial(op->args);
		Node	   *right = lsecond(op->args);
		Node	   *value;

		if (IsDistributionColumn(entry, left))
			value = right;
		else if (IsDistributionColumn(entry, right))
			value = left;
		else
			return NULL;
		if (!op_in_opfamily(op->opno, entry->hashOpfamily))
			return NULL;

		if (IsA(value, Const))
		{
			Const	   *constant = (Const *) value;

			*pinned = true;
			if (constant->constisnull)
				return NULL;
			return bms_make_singleton(ShardIndexForDatum(entry,
														 constant->constvalue,
														 constant->consttype));
		}
		if (IsA(value, Param) && ((Param *) value)->paramkind == PARAM_EXTERN &&
			((Param *) value)->paramtype == entry->distType)
			*pruneValue = (Expr *) value;
		return NULL;
	}

	/* an OR of conditions that each pin shards pins their union */
	if (is_orclause(clause))
	{
		Bitmapset  *shards = NULL;
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) clause)->args)
		{
			List	   *conjuncts = make_ands_implicit(lfirst(lc));
			Bitmapset  *armShards = NULL;
			bool		armPinned = false;
			ListCell   *clc;

			/* an AND inside the OR pins the intersection of its parts */
			foreach(clc, conjuncts)
			{
				bool		partPinned;
				Expr	   *ignoredParam = NULL;
				Bitmapset  *part = ShardsForCondition(entry, lfirst(clc),
													  &ignoredParam,
													  &partPinned);

				if (!partPinned)
					continue;
				armShards = armPinned ? bms_intersect(armShards, part) : part;
				armPinned = true;
			}
			if (!armPinned)
				return NULL;
			shards = bms_union(shards, armShards);
		}
		*pinned = true;
		return shards;
	}

	if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *op = (ScalarArrayOpExpr *) clause;
		Node	   *arrayNode = lsecond(op->args);
		ArrayType  *array;
		Oid			elementType;
		int16		typlen;
		bool		typbyval;
		char		typalign;
		Datum	   *elements;
		bool	   *nulls;
		int			count;
		int			i;
		Bitmapset  *shards = NULL;

		if (!op->useOr || !IsDistributionColumn(entry, linitial(op->args)) ||
			!IsA(arrayNode, Const) || ((Const *) arrayNode)->constisnull ||
			!op_in_opfamily(op->opno, entry->hashOpfamily))
			return NULL;

		array = DatumGetArrayTypeP(((Const *) arrayNode)->constvalue);
		elementType = ARR_ELEMTYPE(array);
		get_typlenbyvalalign(elementType, &typlen, &typbyval, &typalign);
		deconstruct_array(array, elementType, typlen, typbyval, typalign,
						  &elements, &nulls, &count);
		for (i = 0; i < count; i++)
		{
			if (!nulls[i])
				shards = bms_add_member(shards,
										ShardIndexForDatum(entry, elements[i],
														   elementType));
		}
		*pinned = true;
		return shards;
	}

	return NULL;
}

/*
 * PruneShards returns the shards that the AND-ed conditions (on the table
 * at range table index 1) can match.  Parameters with values bound at
 * planning time (custom plans) are folded to constants first.
 */
PruningResult
PruneShards(DistTableCacheEntry *entry, List *conjuncts,
			ParamListInfo boundParams)
{
	PruningResult result = {NIL, NULL};
	PlannerGlobal glob;
	PlannerInfo root;
	Bitmapset  *shards = NULL;
	bool		anyPinned = false;
	Expr	   *pruneValue = NULL;
	ListCell   *lc;
	int			member = -1;

	/* a reference table's only shard holds every row */
	if (IsReferenceTableEntry(entry))
	{
		result.shardIndexes = list_make1_int(0);
		return result;
	}

	memset(&glob, 0, sizeof(glob));
	memset(&root, 0, sizeof(root));
	root.type = T_PlannerInfo;
	glob.type = T_PlannerGlobal;
	glob.boundParams = boundParams;
	root.glob = &glob;

	foreach(lc, conjuncts)
	{
		Node	   *clause = eval_const_expressions(&root,
													copyObject(lfirst(lc)));
		List	   *parts = make_ands_implicit((Expr *) clause);
		ListCell   *plc;

		foreach(plc, parts)
		{
			bool		pinned;
			Bitmapset  *allowed = ShardsForCondition(entry, lfirst(plc),
													 &pruneValue, &pinned);

			if (!pinned)
				continue;
			shards = anyPinned ? bms_intersect(shards, allowed) : allowed;
			anyPinned = true;
		}
	}

	if (anyPinned)
	{
		while ((member = bms_next_member(shards, member)) >= 0)
			result.shardIndexes = lappend_int(result.shardIndexes, member);
	}
	else if (pruneValue != NULL)
		result.pruneValue = pruneValue;
	else
		result.shardIndexes = AllShardIndexes(entry);
	return result;
}
