/*-------------------------------------------------------------------------
 *
 * modify_subqueries.c
 *	  The subqueries of an UPDATE or DELETE on a distributed or reference
 *	  table: shipped inside each shard's statement, computed first on the
 *	  coordinator, or refused.
 *
 * A subquery that reads only reference tables, or distributed tables
 * co-located with the target whose rows it restricts to those of the
 * outer row's shard, means the same on each shard as on the whole table:
 * reference tables have a whole copy on every node, and the rows of a
 * co-located table a target row can meet are in the shard with the same
 * index.  Such subqueries stay in the statement sent to each shard,
 * wherever they are (SET, WHERE, RETURNING), whatever they do
 * (aggregates, LIMIT, NOT EXISTS, NOT IN, scalar subqueries): each shard
 * evaluates them exactly as PostgreSQL would for its rows, NULLs included.
 *
 * A subquery's distributed tables are restricted to the outer row's shard
 * when they are joined among themselves on the distribution columns (as
 * join_pushdown.c checks for a query level) and one of them is equated,
 * in the subquery's WHERE clause, to the distribution column of a
 * distributed table of the enclosing query (itself restricted):
 *		SET total = (SELECT sum(amount) FROM items i
 *					 WHERE i.order_id = o.order_id)
 * An IN (or NOT IN) subquery that returns the distribution column of its
 * table and compares it with the distribution column of the outer one is
 * restricted too, when it is a plain join (no aggregates, grouping,
 * LIMIT): values from other shards hash elsewhere, so they could never
 * equal the outer value, and distribution columns hold no NULLs.
 *
 * On a reference table, every copy runs the statement, so its subqueries
 * must give every copy the same answer: only reference tables, and no
 * LIMIT, window functions, ARRAY() or aggregates other than count, min and
 * max, whose result could depend on the order in which a node reads rows.
 *
 * The deparser prints the subqueries as nested query levels of each
 * shard's statement, their relations named as the shards (see
 * deparse_shard_query.c); it accepts sublinks in SET, WHERE and
 * RETURNING, within AND, OR, NOT and binary operators, and refuses the
 * rest.
 *
 * Any other subquery that does not depend on the statement's rows (local
 * tables, distributed tables that are not co-located, whatever it
 * computes) is planned on its own and computed first on the coordinator,
 * as PostgreSQL computes an InitPlan; its value goes to every shard
 * statement as a parameter (see computed_subqueries.c): EXISTS (...) and
 * (SELECT ...) become $n, ARRAY(...) an array $n, and x op ANY / ALL
 * (SELECT y ...) becomes x op ANY / ALL ($n) with the array of the values
 * of y, which compares exactly as the subquery's rows do, NULLs included
 * -- so NOT IN is right too.  A subquery that depends on the statement's
 * rows and that the shards cannot evaluate is refused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"

#include "distdb/deparse.h"
#include "distdb/planner_internal.h"

typedef struct ModifySubqueryContext
{
	Query	   *statement;		/* the UPDATE or DELETE, rewritten in place */
	bool		referenceTarget;	/* its target is a reference table */
	Oid			targetRelid;
	int32		colocationId;	/* the target's co-location group (0: none) */
	Relids		distributed;	/* the statement's distributed tables */
	ParamListInfo boundParams;
	List	   *subqueryPlans;	/* PlannedStmt of each subquery computed first */
	List	   *subqueryKinds;	/* int: its SubLinkType */
	bool	   *refused;		/* not NULL: set instead of raising errors */
} ModifySubqueryContext;

/* a query level whose subqueries are being checked */
typedef struct SubqueryLevel
{
	ModifySubqueryContext *context;
	Query	   *query;
	Relids		distributed;	/* its distributed tables */
} SubqueryLevel;

static bool ShippableSubquery(Query *subquery, Query *outer,
							  Relids outerDistributed, SubLink *subLink,
							  ModifySubqueryContext *context);

/*
 * EquatesDistributionColumns: whether op is an equality of the hash
 * family of inner's distribution column between that column (a relation
 * of innerRelations in inner, at level 0) and the distribution column of
 * a relation of outerRelations in outer, one level up.
 */
static bool
EquatesDistributionColumns(OpExpr *op, Query *inner, Relids innerRelations,
						   Query *outer, Relids outerRelations)
{
	int			side;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2)
		return false;
	for (side = 0; side < 2; side++)
	{
		Index		innerIndex = DistributionColumnOf(inner, innerRelations,
													  list_nth(op->args, side));

		if (innerIndex > 0 &&
			OuterDistributionColumnOf(outer, outerRelations,
									list_nth(op->args, 1 - side)) > 0 &&
			op_in_opfamily(op->opno,
						   LookupDistTable(rt_fetch(innerIndex,
													inner->rtable)->relid)->hashOpfamily))
			return true;
	}
	return false;
}

/*
 * CorrelatedOnDistributionColumn: whether a WHERE condition of the
 * subquery equates one of its distributed tables' distribution column to
 * that of a distributed table of the enclosing query.
 */
static bool
CorrelatedOnDistributionColumn(Query *subquery, Relids distributed,
							   Query *outer, Relids outerDistributed)
{
	ListCell   *lc;

	if (subquery->jointree->quals == NULL)
		return false;
	foreach(lc, make_ands_implicit((Expr *) subquery->jointree->quals))
	{
		if (EquatesDistributionColumns(lfirst(lc), subquery, distributed,
									   outer, outerDistributed))
			return true;
	}
	return false;
}

/*
 * InOnDistributionColumn: whether subLink is "x IN (SELECT y ...)" with x
 * the distribution column of a distributed table of the enclosing query,
 * y that of a distributed table of the subquery, compared with their hash
 * family's equality, over a plain join (see the file header).
 */
static bool
InOnDistributionColumn(SubLink *subLink, Query *subquery, Relids distributed,
					   Query *outer, Relids outerDistributed)
{
	OpExpr	   *op;
	Node	   *param;
	Index		innerIndex;

	if (subLink == NULL || subLink->subLinkType != ANY_SUBLINK ||
		!IsA(subLink->testexpr, OpExpr) ||
		list_length(((OpExpr *) subLink->testexpr)->args) != 2 ||
		subquery->hasAggs || subquery->groupClause != NIL ||
		subquery->groupingSets != NIL || subquery->havingQual != NULL ||
		subquery->hasWindowFuncs || subquery->hasTargetSRFs ||
		subquery->limitCount != NULL || subquery->limitOffset != NULL ||
		subquery->hasDistinctOn || subquery->targetList == NIL)
		return false;
	op = (OpExpr *) subLink->testexpr;
	param = lsecond(op->args);
	while (IsA(param, RelabelType))
		param = (Node *) ((RelabelType *) param)->arg;
	if (!IsA(param, Param) || ((Param *) param)->paramkind != PARAM_SUBLINK ||
		((Param *) param)->paramid != 1 ||
		DistributionColumnOf(outer, outerDistributed,
							 linitial(op->args)) == 0)
		return false;
	innerIndex = DistributionColumnOf(subquery, distributed,
									  (Node *) ((TargetEntry *) linitial(subquery->targetList))->expr);
	return innerIndex > 0 &&
		op_in_opfamily(op->opno,
					   LookupDistTable(rt_fetch(innerIndex,
												subquery->rtable)->relid)->hashOpfamily);
}

/* walker for DeterministicSubquery: true for an order-dependent aggregate */
static bool
OrderDependentAggregateWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
	{
		Oid			function = ((Aggref *) node)->aggfnoid;
		char	   *name = get_func_name(function);

		if (get_func_namespace(function) != PG_CATALOG_NAMESPACE ||
			(strcmp(name, "count") != 0 && strcmp(name, "min") != 0 &&
			 strcmp(name, "max") != 0))
			return true;
	}
	if (IsA(node, Query))
		return false;			/* nested subqueries are checked on their own */
	return expression_tree_walker(node, OrderDependentAggregateWalker, context);
}

/*
 * DeterministicSubquery: whether a subquery of an UPDATE or DELETE on a
 * reference table gives every copy the same answer (see the file header).
 */
static bool
DeterministicSubquery(Query *subquery, SubLink *subLink)
{
	if (subLink->subLinkType == ARRAY_SUBLINK ||
		subquery->limitCount != NULL || subquery->limitOffset != NULL ||
		subquery->hasWindowFuncs || subquery->hasDistinctOn ||
		subquery->hasTargetSRFs)
		return false;
	return !subquery->hasAggs ||
		!(OrderDependentAggregateWalker((Node *) subquery->targetList, NULL) ||
		  OrderDependentAggregateWalker(subquery->havingQual, NULL));
}

/* walker checking the subqueries nested in a shippable subquery */
static bool
NestedSubqueryWalker(Node *node, SubqueryLevel *level)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
	{
		SubLink    *subLink = (SubLink *) node;

		if (!ShippableSubquery((Query *) subLink->subselect, level->query,
							   level->distributed, subLink, level->context))
			return true;
		return NestedSubqueryWalker(subLink->testexpr, level);
	}
	return expression_tree_walker(node, NestedSubqueryWalker, level);
}

/*
 * ShippableSubquery returns whether the shards can evaluate subLink's
 * subquery, inside query outer whose distributed tables outerDistributed
 * are restricted to one shard index (see the file header).
 */
static bool
ShippableSubquery(Query *subquery, Query *outer, Relids outerDistributed,
				  SubLink *subLink, ModifySubqueryContext *context)
{
	SubqueryLevel level;
	Relids		relations;
	ListCell   *lc;

	if (subLink->subLinkType == MULTIEXPR_SUBLINK ||
		subLink->subLinkType == CTE_SUBLINK ||
		subquery->commandType != CMD_SELECT || subquery->cteList != NIL ||
		subquery->rowMarks != NIL || subquery->setOperations != NULL ||
		subquery->utilityStmt != NULL || subquery->jointree->fromlist == NIL ||
		!IsShippableSubquery(subquery))
		return false;
	foreach(lc, subquery->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		DistTableCacheEntry *entry;

		if (rte->rtekind == RTE_JOIN)
			continue;
		if (rte->rtekind != RTE_RELATION)
			return false;
		entry = LookupDistTable(rte->relid);
		if (entry == NULL)
			return false;
		if (!IsReferenceTableEntry(entry) && entry->relid != context->targetRelid &&
			(context->referenceTarget || entry->colocationId == 0 ||
			 entry->colocationId != context->colocationId))
			return false;
	}

	level.context = context;
	level.query = subquery;
	level.distributed = NULL;
	relations = get_relids_in_jointree((Node *) subquery->jointree, false);
	if (!bms_is_empty(relations) &&
		!RelationsJoinedOnDistributionColumns(subquery, relations, true,
											  &level.distributed))
		return false;
	if (!bms_is_empty(level.distributed) &&
		!CorrelatedOnDistributionColumn(subquery, level.distributed, outer,
										outerDistributed) &&
		!InOnDistributionColumn(subLink, subquery, level.distributed, outer,
								outerDistributed))
		return false;
	if (context->referenceTarget && !DeterministicSubquery(subquery, subLink))
		return false;
	return !query_tree_walker(subquery, NestedSubqueryWalker, &level,
							  QTW_IGNORE_RANGE_TABLE);
}

/*
 * AddRootRelations prepares a shipped subquery and its own subqueries for
 * the deparser: each relation they
 * read gets an entry in the statement's range table (the first of the same
 * relation names the shard in every level, see deparse_shard_query.c),
 * and hasSubLinks is cleared once their sublinks are checked.
 */
static bool
AddRootRelations(Node *node, Query *statement)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);
			ListCell   *rootCell;
			bool		present = false;

			if (rte->rtekind != RTE_RELATION)
				continue;
			foreach(rootCell, statement->rtable)
			{
				RangeTblEntry *root = lfirst(rootCell);

				if (root->rtekind == RTE_RELATION && root->relid == rte->relid)
					present = true;
			}
			if (!present)
			{
				RangeTblEntry *root = copyObject(rte);

				root->inFromCl = false;
				statement->rtable = lappend(statement->rtable, root);
			}
		}
		query->hasSubLinks = false;
		return query_tree_walker(query, AddRootRelations, statement,
								 QTW_IGNORE_RANGE_TABLE);
	}
	return expression_tree_walker(node, AddRootRelations, statement);
}

/*
 * RefuseSubquery raises the error for a subquery the shards cannot
 * evaluate, or only notes it when the caller has another way to run the
 * statement (context->refused).
 */
static void
RefuseSubquery(ModifySubqueryContext *context, const char *detail)
{
	Query	   *statement = context->statement;

	if (context->refused != NULL)
	{
		*context->refused = true;
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot run this %s on %s table \"%s\" with its subquery",
					statement->commandType == CMD_UPDATE ? "UPDATE" : "DELETE",
					context->referenceTarget ? "reference" : "distributed",
					get_rel_name(rt_fetch(statement->resultRelation,
										  statement->rtable)->relid)),
			 detail != NULL ? errdetail("%s", detail) :
			 context->referenceTarget ?
			 errdetail("A subquery of a statement on a reference table that depends on its rows may read only reference tables, without LIMIT, window functions, ARRAY() or aggregates other than count, min and max.") :
			 errdetail("A subquery that depends on the statement's rows may read only reference tables and co-located tables restricted to the row's shard by an equality with the distribution column."),
			 detail != NULL ?
			 errhint("Compare one column at a time.") :
			 errhint("Make the subquery independent of the statement's rows, so that the coordinator computes it first.")));
}

/*
 * ModifySubLinkMutator keeps each subquery of the statement the shards can
 * evaluate, its relations rewritten into CTE references, replaces the
 * others that do not depend on the statement's rows by the value the
 * coordinator computes first, and refuses the rest.
 */
static Node *
ModifySubLinkMutator(Node *node, ModifySubqueryContext *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, SubLink))
	{
		SubLink    *subLink = (SubLink *) node;

		if (!ShippableSubquery((Query *) subLink->subselect,
							   context->statement, context->distributed,
							   subLink, context))
		{
			Node	   *computed;

			if (contain_vars_of_level(subLink->subselect, 1))
			{
				RefuseSubquery(context, NULL);
				return node;
			}
			computed = ComputeSubLinkFirst(subLink, context->boundParams,
										   &context->subqueryPlans,
										   &context->subqueryKinds);
			if (computed == NULL)
			{
				RefuseSubquery(context, "The coordinator computes a subquery that is independent of the statement's rows first only as EXISTS, a scalar subquery, ARRAY() or a single-column IN, ANY or ALL comparison with a value that is not an array.");
				return node;
			}
			return ModifySubLinkMutator(computed, context);
		}
		subLink->testexpr = ModifySubLinkMutator(subLink->testexpr, context);
		AddRootRelations(subLink->subselect, context->statement);
		return (Node *) subLink;
	}
	return expression_tree_mutator(node, ModifySubLinkMutator, context);
}

/*
 * PlanModifySubqueries prepares the subqueries of an UPDATE or DELETE (a
 * copy, rewritten in place) whose FROM clause runs shard by shard --
 * distributed are its distributed tables -- to be shipped with it, and
 * computes first those the shards cannot evaluate that do not depend on
 * the statement's rows: *subqueryPlans receives their plans, *subqueryKinds
 * their SubLinkTypes.  Others are refused -- or, when refused is not
 * NULL, *refused is set (the statement is then left half rewritten).
 */
void
PlanModifySubqueries(Query *statement, Relids distributed,
					 ParamListInfo boundParams, List **subqueryPlans,
					 List **subqueryKinds, bool *refused)
{
	ModifySubqueryContext context;
	DistTableCacheEntry *target =
		LookupDistTable(rt_fetch(statement->resultRelation,
								 statement->rtable)->relid);

	context.statement = statement;
	context.referenceTarget = IsReferenceTableEntry(target);
	context.targetRelid = target->relid;
	context.colocationId = target->colocationId;
	context.distributed = distributed;
	context.boundParams = boundParams;
	context.subqueryPlans = NIL;
	context.subqueryKinds = NIL;
	context.refused = refused;

	statement->targetList = (List *)
		ModifySubLinkMutator((Node *) statement->targetList, &context);
	statement->returningList = (List *)
		ModifySubLinkMutator((Node *) statement->returningList, &context);
	statement->jointree = (FromExpr *)
		ModifySubLinkMutator((Node *) statement->jointree, &context);
	/* the sublinks left are checked: the deparser may print them */
	statement->hasSubLinks = false;
	*subqueryPlans = context.subqueryPlans;
	*subqueryKinds = context.subqueryKinds;
}
