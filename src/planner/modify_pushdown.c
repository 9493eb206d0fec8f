/*-------------------------------------------------------------------------
 *
 * modify_pushdown.c
 *	  UPDATE ... FROM and DELETE ... USING over co-located distributed
 *	  tables and reference tables, run shard by shard.
 *
 * When every table of the FROM (USING) clause is co-located with the
 * target and joined to it on the distribution columns (the co-location
 * check of join_pushdown.c), or is a reference table, each target row only
 * meets rows of shards with the same index, or of the reference tables'
 * copies, on the same node: the whole statement runs on each set of
 * shards, as a single-table UPDATE or DELETE does.  A reference table
 * target runs the statement on each of its copies, with reference tables
 * only.  Any other form is refused, never run with a partial view of the
 * other tables.
 *
 * A WHERE condition EXISTS (SELECT ... FROM s WHERE ...) or x IN (SELECT
 * y FROM s ...) -- a semi-join -- becomes a join with s in the FROM
 * clause first when the join then qualifies: an UPDATE or DELETE touches
 * each target row once however many rows of s it joins, and SET and
 * RETURNING cannot see s, so the statement means the same.  Other
 * subqueries stay in the statement, or are computed first on the
 * coordinator (modify_subqueries.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"

#include "distdb/deparse.h"
#include "distdb/planner_internal.h"

/*
 * RefuseModify raises the error for an UPDATE or DELETE whose other tables
 * distdb cannot join to the target shard by shard (or, for a reference
 * table, on each of its copies).
 */
static void
RefuseModify(Query *parse, const char *detail)
{
	Oid			relid = rt_fetch(parse->resultRelation, parse->rtable)->relid;
	bool		reference = IsReferenceTable(relid);

	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot run this %s on %s table \"%s\" shard by shard",
					parse->commandType == CMD_UPDATE ? "UPDATE" : "DELETE",
					reference ? "reference" : "distributed",
					get_rel_name(relid)),
			 errdetail("%s", detail),
			 reference ?
			 errhint("Join only reference tables to a reference table.") :
			 errhint("Join only reference tables and distributed tables co-located with the target, on their distribution columns.")));
}

/*
 * PullUpSemiJoin turns a WHERE condition that is an EXISTS or IN
 * subquery into a join with the subquery's tables (see the file header)
 * and returns the AND-ed conditions that replace it, setting *pulledUp;
 * it leaves the statement alone when the subquery is not a plain join of
 * tables (aggregates, LIMIT, set operations, ... would change its
 * meaning).
 */
static List *
PullUpSemiJoin(Query *query, SubLink *subLink, bool *pulledUp)
{
	Query	   *subquery = (Query *) subLink->subselect;
	int			offset = list_length(query->rtable);
	List	   *conditions = NIL;
	ListCell   *lc;

	*pulledUp = false;

	if ((subLink->subLinkType != EXISTS_SUBLINK &&
		 subLink->subLinkType != ANY_SUBLINK) ||
		subquery->commandType != CMD_SELECT || subquery->cteList != NIL ||
		subquery->setOperations != NULL || subquery->hasAggs ||
		subquery->hasWindowFuncs || subquery->hasTargetSRFs ||
		subquery->hasSubLinks || subquery->groupClause != NIL ||
		subquery->groupingSets != NIL || subquery->havingQual != NULL ||
		subquery->limitCount != NULL || subquery->limitOffset != NULL ||
		subquery->rowMarks != NIL || subquery->jointree->fromlist == NIL)
		return NIL;
	foreach(lc, subquery->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind != RTE_RELATION && rte->rtekind != RTE_JOIN)
			return NIL;
	}

	/* the subquery's level becomes the statement's */
	subquery = copyObject(subquery);
	OffsetVarNodes((Node *) subquery, offset, 0);
	IncrementVarSublevelsUp((Node *) subquery, -1, 1);
	if (subLink->subLinkType == ANY_SUBLINK)
		conditions = make_ands_implicit((Expr *)
										ReplaceSubLinkParams(copyObject(subLink->testexpr),
															 subquery->targetList));
	if (subquery->jointree->quals != NULL)
		conditions = list_concat(conditions,
								 make_ands_implicit((Expr *) subquery->jointree->quals));
	query->rtable = list_concat(query->rtable, subquery->rtable);
	query->jointree->fromlist = list_concat(query->jointree->fromlist,
											subquery->jointree->fromlist);
	*pulledUp = true;
	return conditions;
}

/*
 * PullUpSemiJoins pulls up every EXISTS and IN subquery that is an AND-ed
 * WHERE condition of the statement (see PullUpSemiJoin); other subqueries
 * (NOT EXISTS, scalar subqueries, subqueries in SET) stay, and are refused.
 */
static void
PullUpSemiJoins(Query *query)
{
	List	   *conditions;
	List	   *result = NIL;
	ListCell   *lc;

	if (!query->hasSubLinks || query->jointree->quals == NULL)
		return;
	conditions = make_ands_implicit((Expr *) query->jointree->quals);
	foreach(lc, conditions)
	{
		Node	   *condition = lfirst(lc);
		bool		pulledUp = false;

		if (IsA(condition, SubLink))
		{
			List	   *replacement = PullUpSemiJoin(query, (SubLink *) condition,
													 &pulledUp);

			if (pulledUp)
			{
				result = list_concat(result, replacement);
				continue;
			}
		}
		result = lappend(result, condition);
	}
	query->jointree->quals = result ? (Node *) make_ands_explicit(result) : NULL;
	query->hasSubLinks = checkExprHasSubLink((Node *) query);
}


/*
 * EquatedToDetermined returns whether one of the AND-ed conditions equates
 * column attno of relation rti, with an equality operator of opfamily,
 * to an expression over the relations of determined only.
 */
static bool
EquatedToDetermined(List *conditions, Index rti, AttrNumber attno,
					Oid opfamily, Relids determined)
{
	ListCell   *lc;

	foreach(lc, conditions)
	{
		OpExpr	   *op = lfirst(lc);
		int			side;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2 ||
			!op_in_opfamily(op->opno, opfamily) ||
			get_op_opfamily_strategy(op->opno, opfamily) != BTEqualStrategyNumber)
			continue;
		for (side = 0; side < 2; side++)
		{
			Node	   *column = list_nth(op->args, side);
			Node	   *other = list_nth(op->args, 1 - side);

			while (IsA(column, RelabelType))
				column = (Node *) ((RelabelType *) column)->arg;
			if (IsA(column, Var) && ((Var *) column)->varno == rti &&
				((Var *) column)->varattno == attno &&
				((Var *) column)->varlevelsup == 0 &&
				!contain_volatile_functions(other) &&
				bms_is_subset(pull_varnos(NULL, other), determined))
				return true;
		}
	}
	return false;
}

/*
 * UniquelyJoined returns whether every row of the relations in determined
 * joins at most one row of relation rti: the conditions equate all the
 * columns of one of its unique indexes (immediate, valid, without
 * predicate or expressions) to expressions over determined.
 */
static bool
UniquelyJoined(Query *query, Index rti, List *conditions, Relids determined)
{
	Relation	relation = relation_open(rt_fetch(rti, query->rtable)->relid,
										 NoLock);
	List	   *indexes = RelationGetIndexList(relation);
	bool		unique = false;
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index form = index->rd_index;
		int			column;

		if (form->indisunique && form->indimmediate && form->indisvalid &&
			RelationGetIndexExpressions(index) == NIL &&
			RelationGetIndexPredicate(index) == NIL)
		{
			unique = true;
			for (column = 0;
				 column < IndexRelationGetNumberOfKeyAttributes(index);
				 column++)
			{
				if (!EquatedToDetermined(conditions, rti,
										 form->indkey.values[column],
										 index->rd_opfamily[column],
										 determined))
					unique = false;
			}
		}
		index_close(index, AccessShareLock);
		if (unique)
			break;
	}
	relation_close(relation, NoLock);
	return unique;
}

/*
 * InnerJoinConditions returns the AND-ed conditions of the WHERE clause
 * and of the inner joins of a FROM item.
 */
static List *
InnerJoinConditions(Node *node)
{
	List	   *conditions = NIL;

	if (IsA(node, FromExpr))
	{
		FromExpr   *from = (FromExpr *) node;
		ListCell   *lc;

		if (from->quals != NULL)
			conditions = make_ands_implicit((Expr *) from->quals);
		foreach(lc, from->fromlist)
			conditions = list_concat(conditions,
									 InnerJoinConditions(lfirst(lc)));
	}
	else if (IsA(node, JoinExpr) &&
			 ((JoinExpr *) node)->jointype == JOIN_INNER)
	{
		JoinExpr   *join = (JoinExpr *) node;

		if (join->quals != NULL)
			conditions = make_ands_implicit((Expr *) join->quals);
		conditions = list_concat(conditions, InnerJoinConditions(join->larg));
		conditions = list_concat(conditions, InnerJoinConditions(join->rarg));
	}
	return conditions;
}

/*
 * CheckReferenceModifyDeterministic refuses an UPDATE of a reference table
 * whose new values could differ between its copies.  Every copy runs the
 * same statement, but when a target row joins several rows of the FROM
 * clause, PostgreSQL updates it once with the values of whichever row its
 * plan meets first -- and each node makes its own plan, so two copies
 * could pick different rows and stop being copies.  The SET clause may
 * therefore use columns of a FROM relation only when each target row
 * joins at most one of its rows: its unique key is equated to columns of
 * the target (or of relations themselves determined so).  DELETE, and an
 * UPDATE whose SET uses the target's columns only, give the same result
 * whichever row is met first.
 */
static void
CheckReferenceModifyDeterministic(Query *query)
{
	Relids		used;
	Relids		determined = bms_make_singleton(query->resultRelation);
	Relids		relations = get_relids_in_jointree((Node *) query->jointree,
												   false);
	List	   *conditions = InnerJoinConditions((Node *) query->jointree);
	bool		changed = true;

	if (query->commandType != CMD_UPDATE)
		return;
	used = pull_varnos(NULL, (Node *) query->targetList);
	while (changed && !bms_is_subset(used, determined))
	{
		int			member = -1;

		changed = false;
		while ((member = bms_next_member(relations, member)) >= 0)
		{
			if (!bms_is_member(member, determined) &&
				rt_fetch(member, query->rtable)->rtekind == RTE_RELATION &&
				UniquelyJoined(query, member, conditions, determined))
			{
				determined = bms_add_member(determined, member);
				changed = true;
			}
		}
	}
	if (!bms_is_subset(used, determined))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot run this UPDATE on reference table \"%s\": a row could join several rows of the FROM clause",
						get_rel_name(rt_fetch(query->resultRelation,
											  query->rtable)->relid)),
				 errdetail("Each copy of the table would pick its own row to take the new values from."),
				 errhint("Join the tables the SET clause reads on all columns of a unique index or primary key.")));
}

/*
 * SubqueryRelations returns copies of the range table entries of the
 * relations the statement's subqueries read (at any depth): the executor
 * checks the user's privileges on them, with the statement's own, before
 * anything is sent to a node.
 */
static List *
SubqueryRelations(Query *parse)
{
	List	   *relations = NIL;
	List	   *copies = NIL;
	ListCell   *lc;

	query_tree_walker(parse, NestedRelationsWalker, &relations, 0);
	foreach(lc, relations)
		copies = lappend(copies, copyObject(lfirst(lc)));
	return copies;
}

/*
 * CheckFromClause returns whether the statement's FROM clause (with the
 * target) can run shard by shard: reference tables and distributed tables
 * co-located with a distributed target, joined to it on the distribution
 * columns, or reference tables only with a reference target; *distributed
 * receives its distributed tables.  With refuse, it raises the error
 * saying why not instead of returning false.
 */
static bool
CheckFromClause(Query *query, bool referenceTarget, Relids *distributed,
				bool refuse)
{
	Relids		relations = get_relids_in_jointree((Node *) query->jointree,
												   false);
	const char *detail = NULL;
	ListCell   *lc;

	*distributed = NULL;
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && !IsDistributedTable(rte->relid))
			detail = psprintf("\"%s\" is not a distributed table.",
							  get_rel_name(rte->relid));
		else if (rte->rtekind != RTE_RELATION && rte->rtekind != RTE_JOIN)
			detail = "Only tables can be joined to the target.";

		/*
		 * Every copy of a reference table joins the same rows only with
		 * other reference tables, which are whole on every node.
		 */
		else if (referenceTarget && rte->rtekind == RTE_RELATION &&
				 !IsReferenceTable(rte->relid))
			detail = psprintf("\"%s\" is a distributed table: each copy of the target would see only the shards on its node.",
							  get_rel_name(rte->relid));
		if (detail != NULL)
			break;
	}

	/*
	 * A distributed target joins co-located tables on the distribution
	 * columns, and reference tables, whose copy on the shard's node is
	 * whole: each target row is in one shard, updated once.
	 */
	if (detail == NULL && !referenceTarget &&
		!RelationsJoinedOnDistributionColumns(query, relations, true,
											  distributed))
		detail = "Every distributed table must be co-located with the target and joined to it on the distribution columns.";
	if (detail != NULL && refuse)
		RefuseModify(query, detail);
	return detail == NULL;
}

/*
 * PlanColocatedModify plans an UPDATE ... FROM or DELETE ... USING (or
 * with subqueries) on a distributed or reference table, and refuses the
 * forms it cannot run shard by shard.  *permissionRtes receives the
 * relations of the statement's subqueries, whose privileges the executor
 * must check too.  When refused is not NULL, a form that cannot run shard
 * by shard sets *refused and returns NULL instead of raising an error (the
 * caller runs it through the coordinator: modify_via_coordinator.c).
 */
DistributedPlan *
PlanColocatedModify(Query *parse, ParamListInfo boundParams,
					List **permissionRtes, bool *refused)
{
	Query	   *query = copyObject(parse);
	Query	   *pulledUp = copyObject(parse);
	Relids		distributed = NULL;
	RangeTblEntry *target = rt_fetch(query->resultRelation, query->rtable);
	bool		referenceTarget = IsReferenceTable(target->relid);
	List	   *conditions = NIL;
	Expr	   *pruneValue = NULL;
	List	   *shardIndexes;
	List	   *subqueryPlans = NIL;
	List	   *subqueryKinds = NIL;
	DistributedPlan *plan;

	*permissionRtes = SubqueryRelations(parse);

	/*
	 * EXISTS and IN subqueries become joins when the joined tables can run
	 * shard by shard (then filters on them prune shards too); otherwise
	 * they stay subqueries.
	 */
	PullUpSemiJoins(pulledUp);
	if (CheckFromClause(pulledUp, referenceTarget, &distributed, false))
		query = pulledUp;
	else if (!CheckFromClause(query, referenceTarget, &distributed,
							  refused == NULL))
	{
		*refused = true;
		return NULL;
	}
	if (referenceTarget)
		CheckReferenceModifyDeterministic(query);

	/* join alias references become references to the tables' columns */
	query->targetList = (List *)
		flatten_join_alias_vars(query, (Node *) query->targetList);
	query->returningList = (List *)
		flatten_join_alias_vars(query, (Node *) query->returningList);
	query->jointree = (FromExpr *)
		flatten_join_alias_vars(query, (Node *) query->jointree);

	if (query->hasSubLinks)
	{
		PlanModifySubqueries(query, distributed, boundParams, &subqueryPlans,
							 &subqueryKinds, refused);
		if (refused != NULL && *refused)
			return NULL;
	}
	if (!QueryIsDeparsable(query))
	{
		if (refused != NULL)
		{
			*refused = true;
			return NULL;
		}
		RefuseModify(query, "The statement uses a clause that cannot be sent to the shards.");
	}

	if (referenceTarget)
		shardIndexes = list_make1_int(0);
	else
	{
		if (query->jointree->quals != NULL)
			conditions = make_ands_implicit((Expr *) query->jointree->quals);
		shardIndexes = PruneColocatedShards(query, distributed, conditions,
											boundParams, &pruneValue);
	}
	plan = MakeShipQueryPlan(target->relid, query, shardIndexes, pruneValue,
							 true, query->returningList != NIL);
	plan->subqueryPlans = subqueryPlans;
	plan->subqueryKinds = subqueryKinds;
	return plan;
}
