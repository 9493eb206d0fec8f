/*-------------------------------------------------------------------------
 *
 * join_pushdown.c
 *	  Running joins of co-located distributed tables on the shards.
 *
 * Co-located tables have the same hash ranges on the same nodes, so when
 * they are joined on their distribution columns every pair of joining rows
 * lies in shards with the same index, on the same node.  A query level
 * whose FROM clause consists of such tables -- inner or outer joins whose
 * join conditions equate the distribution columns -- therefore runs its
 * whole FROM and WHERE clause on each set of shards, and the coordinator
 * sees the joined rows only (and plans what the query does with them).
 *
 * Reference tables have a copy on every node, so they join any shard: a
 * shard query joins one shard of each distributed table with the whole of
 * each reference table, on the node of the distributed shards.  Each
 * joined row then comes from exactly one shard query, provided no
 * reference table is on the preserved side of an outer join whose other
 * side holds distributed tables (its unmatched rows would come back from
 * every shard).  A join of reference tables alone runs on one copy.
 * Small relations the shards cannot read, sent to every shard as values
 * (broadcast_joins.c), join the same way.
 *
 * The query level is rewritten in place: its FROM clause becomes a single
 * placeholder scan of the shards' join result (see pull_up_planner.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"

#include "distdb/deparse.h"
#include "distdb/planner_internal.h"
#include "distdb/shard_pruning.h"

/* union-find over range table indexes, for the co-location check */
static Index
FindRoot(Index *parent, Index i)
{
	while (parent[i] != i)
		i = parent[i];
	return i;
}

/*
 * DistributionColumnOf returns the range table index of a Var that is the
 * distribution column of one of the joined tables, or 0.
 */
Index
DistributionColumnOf(Query *query, Bitmapset *relations, Node *node)
{
	Var		   *var;
	RangeTblEntry *rte;
	DistTableCacheEntry *entry;

	while (node != NULL && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return 0;
	var = (Var *) node;
	if (var->varlevelsup != 0 || !bms_is_member(var->varno, relations))
		return 0;
	rte = rt_fetch(var->varno, query->rtable);
	if (rte->rtekind == RTE_SUBQUERY)
		return SubqueryOutputIsPartitionColumn(rte, var->varattno) ?
			var->varno : 0;
	entry = LookupDistTable(rte->relid);
	if (entry == NULL || IsReferenceTableEntry(entry) ||
		var->varattno != entry->distAttnum)
		return 0;
	return var->varno;
}

/*
 * OuterDistributionColumnOf is DistributionColumnOf for a reference from a
 * subquery to its enclosing level "query" (a Var one level up, possibly
 * under a binary-compatible cast): the range table index there of the
 * co-located entry whose distribution column it is, or 0.
 */
Index
OuterDistributionColumnOf(Query *query, Bitmapset *relations, Node *node)
{
	Var		   *var;

	while (node != NULL && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var) || ((Var *) node)->varlevelsup != 1)
		return 0;
	var = copyObject((Var *) node);
	var->varlevelsup = 0;
	return DistributionColumnOf(query, relations, (Node *) var);
}

/*
 * AddEquiJoins unites the tables whose distribution columns a list of
 * AND-ed conditions equates (with an operator of the columns' hash
 * family); returns whether it found an equality between tables of left
 * and right (when both are given).
 */
static bool
AddEquiJoins(Query *query, Bitmapset *relations, Index *parent, List *conditions,
			 Relids left, Relids right)
{
	ListCell   *lc;
	bool		connects = false;

	foreach(lc, conditions)
	{
		OpExpr	   *op = lfirst(lc);
		Index		a;
		Index		b;
		DistTableCacheEntry *entry;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2)
			continue;
		a = DistributionColumnOf(query, relations, linitial(op->args));
		b = DistributionColumnOf(query, relations, lsecond(op->args));
		if (a == 0 || b == 0)
			continue;
		entry = ColocatedRelationEntry(rt_fetch(a, query->rtable));
		if (!op_in_opfamily(op->opno, entry->hashOpfamily))
			continue;
		parent[FindRoot(parent, a)] = FindRoot(parent, b);
		if (left != NULL && right != NULL &&
			((bms_is_member(a, left) && bms_is_member(b, right)) ||
			 (bms_is_member(b, left) && bms_is_member(a, right))))
			connects = true;
	}
	return connects;
}

/*
 * CheckJoinTree checks a FROM item for join pushdown: relations and joins
 * only, and collects inner join conditions into the union-find.  An outer
 * join is allowed between distributed tables (the members of distributed)
 * joined on their distribution columns, with only reference tables on its
 * nullable side, or among reference tables alone (see the file header).
 */
static bool
CheckJoinTree(Query *query, Node *node, Bitmapset *relations,
			  Bitmapset *distributed, Index *parent)
{
	if (IsA(node, RangeTblRef))
		return true;
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;
		List	   *conditions = join->quals ?
			make_ands_implicit((Expr *) join->quals) : NIL;
		Relids		left = get_relids_in_jointree(join->larg, false);
		Relids		right = get_relids_in_jointree(join->rarg, false);
		bool		leftDistributed = bms_overlap(left, distributed);
		bool		rightDistributed = bms_overlap(right, distributed);
		bool		connects;

		if (join->jointype != JOIN_INNER && join->jointype != JOIN_LEFT &&
			join->jointype != JOIN_RIGHT && join->jointype != JOIN_FULL)
			return false;
		if (join->quals != NULL && !IsShippableFilter(join->quals))
			return false;
		if (!CheckJoinTree(query, join->larg, relations, distributed,
						   parent) ||
			!CheckJoinTree(query, join->rarg, relations, distributed,
						   parent))
			return false;
		connects = AddEquiJoins(query, relations, parent, conditions, left,
								right);
		if (join->jointype == JOIN_INNER ||
			(!leftDistributed && !rightDistributed))
			return true;

		/*
		 * An outer join must itself match rows of the same shard index, or
		 * preserve only distributed rows.
		 */
		if (leftDistributed && rightDistributed)
			return connects;
		return (join->jointype == JOIN_LEFT && leftDistributed) ||
			(join->jointype == JOIN_RIGHT && rightDistributed);
	}
	return false;
}

/* whether the range table has join entries (whose aliases may be used) */
static bool
HasJoinEntries(Query *query)
{
	ListCell   *lc;

	foreach(lc, query->rtable)
	{
		if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_JOIN)
			return true;
	}
	return false;
}

/*
 * ForgetSyntacticReferents makes each Var name its column by the table it
 * comes from: a flattened join alias reference keeps the alias as its
 * syntactic referent, which the deparser would print (j.id), while the
 * shard query has no such alias.
 */
static bool
ForgetSyntacticReferents(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		var->varnosyn = var->varno;
		var->varattnosyn = var->varattno;
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, ForgetSyntacticReferents,
								 context, 0);
	return expression_tree_walker(node, ForgetSyntacticReferents, context);
}

/*
 * FlattenJoinAliasReferences turns the references to join aliases in a
 * query level's output, HAVING and FROM / WHERE clauses into references to
 * the joined tables' columns, for rewrites that move the joins away.
 */
void
FlattenJoinAliasReferences(Query *query)
{
	query->targetList = (List *)
		flatten_join_alias_vars(query, (Node *) query->targetList);
	query->havingQual = flatten_join_alias_vars(query, query->havingQual);
	query->jointree = (FromExpr *)
		flatten_join_alias_vars(query, (Node *) query->jointree);
	ForgetSyntacticReferents((Node *) query->targetList, NULL);
	ForgetSyntacticReferents(query->havingQual, NULL);
	ForgetSyntacticReferents((Node *) query->jointree, NULL);
}

/*
 * RelationsJoinedOnDistributionColumns returns whether the relations of a
 * query level's FROM clause are co-located distributed tables, each joined
 * to the others on the distribution columns: by inner join or WHERE
 * conditions, or by an outer join's own condition.  Then every
 * combination of rows the FROM and WHERE clauses produce lies in shards
 * with the same index.  With allowReferenceTables, reference tables may
 * join in too (outer joins only as CheckJoinTree allows); the distributed
 * ones are returned in *distributedOut.
 */
bool
RelationsJoinedOnDistributionColumns(Query *query, Relids relations,
									 bool allowReferenceTables,
									 Relids *distributedOut)
{
	Index	   *parent;
	int32		colocationId = 0;
	Index		firstRelation = 0;	/* first distributed table */
	Relids		distributed = NULL;
	int			member = -1;
	ListCell   *lc;

	/* only co-located distributed tables (and reference tables if allowed) */
	while ((member = bms_next_member(relations, member)) >= 0)
	{
		RangeTblEntry *rte = rt_fetch(member, query->rtable);
		DistTableCacheEntry *entry;

		/* rows sent to every shard join like a reference table */
		if (IsBroadcastRelation(rte))
		{
			if (!allowReferenceTables)
				return false;
			continue;
		}
		if (rte->rtekind == RTE_SUBQUERY)
		{
			/* a subquery that runs on the shards: see subquery_pushdown.c */
			if (!SubqueryRunsOnShards(rte))
				return false;
		}
		else if (rte->rtekind != RTE_RELATION || rte->tablesample != NULL ||
				 rte->securityQuals != NIL)
			return false;
		entry = ColocatedRelationEntry(rte);
		if (entry == NULL)
			return false;
		if (IsReferenceTableEntry(entry))
		{
			if (!allowReferenceTables)
				return false;
			continue;
		}
		distributed = bms_add_member(distributed, member);
		if (firstRelation == 0)
		{
			firstRelation = member;
			colocationId = entry->colocationId;
		}
		else if (entry->colocationId != colocationId)
			return false;
	}

	/* every distributed table joined to the others on the distribution columns */
	parent = palloc(sizeof(Index) * (list_length(query->rtable) + 1));
	for (member = 0; member <= list_length(query->rtable); member++)
		parent[member] = member;
	foreach(lc, query->jointree->fromlist)
	{
		if (!CheckJoinTree(query, lfirst(lc), relations, distributed, parent))
			return false;
	}
	if (query->jointree->quals != NULL)
		AddEquiJoins(query, relations, parent,
					 make_ands_implicit((Expr *) query->jointree->quals),
					 NULL, NULL);
	member = -1;
	while ((member = bms_next_member(distributed, member)) >= 0)
	{
		if (FindRoot(parent, member) != FindRoot(parent, firstRelation))
			return false;
	}
	if (distributedOut != NULL)
		*distributedOut = distributed;
	return true;
}

/*
 * MemberShardPruning prunes the shards of one co-located FROM item by the
 * AND-ed conditions on it alone; a subquery that runs on the shards is
 * pruned by its own WHERE clause instead, unless it is on an outer join's
 * nullable side (rows of other shards then still count).  Returns false
 * when nothing restricts the shards.
 */
static bool
MemberShardPruning(Query *query, Index member, List *conditions,
				   ParamListInfo boundParams, PruningResult *pruning)
{
	RangeTblEntry *rte = rt_fetch(member, query->rtable);
	List	   *ownConditions = NIL;
	ListCell   *lc;

	if (rte->rtekind == RTE_SUBQUERY)
	{
		Query	   *subquery = rte->subquery;
		Relids		subDistributed = NULL;

		if (IsNullableInJoinTree((Node *) query->jointree, member, false) ||
			subquery->jointree->quals == NULL ||
			!RelationsJoinedOnDistributionColumns(subquery,
												  get_relids_in_jointree((Node *) subquery->jointree,
																		 false),
												  true, &subDistributed))
			return false;
		pruning->shardIndexes =
			PruneColocatedShards(subquery, subDistributed,
								 make_ands_implicit((Expr *) subquery->jointree->quals),
								 boundParams, &pruning->pruneValue);
		return true;
	}

	foreach(lc, conditions)
	{
		if (bms_equal(pull_varnos(NULL, lfirst(lc)),
					  bms_make_singleton(member)))
		{
			Node	   *condition = copyObject(lfirst(lc));

			ChangeVarNodes(condition, member, 1, 0);
			ownConditions = lappend(ownConditions, condition);
		}
	}
	if (ownConditions == NIL)
		return false;
	*pruning = PruneShards(LookupDistTable(rte->relid), ownConditions,
						   boundParams);
	return true;
}

/*
 * PruneColocatedShards returns the shard indexes a join of co-located
 * relations (see RelationsJoinedOnDistributionColumns) must run on, given
 * AND-ed conditions the shards evaluate: a condition pinning any table's
 * distribution value pins the shard index of all.  When a value decided
 * at execution pins it, *pruneValue is set and the list is empty.
 */
List *
PruneColocatedShards(Query *query, Relids relations, List *conditions,
					 ParamListInfo boundParams, Expr **pruneValue)
{
	DistTableCacheEntry *firstEntry;
	Bitmapset  *shardSet = NULL;
	bool		pinned = false;
	List	   *shardIndexes = NIL;
	int			member = -1;
	ListCell   *lc;

	*pruneValue = NULL;

	/* reference tables alone: their one shard */
	if (bms_is_empty(relations))
		return list_make1_int(0);
	firstEntry = ColocatedRelationEntry(rt_fetch(bms_next_member(relations, -1),
												 query->rtable));
	while ((member = bms_next_member(relations, member)) >= 0)
	{
		PruningResult pruning;

		memset(&pruning, 0, sizeof(pruning));
		if (!MemberShardPruning(query, member, conditions, boundParams,
								&pruning))
			continue;
		if (pruning.pruneValue != NULL)
		{
			*pruneValue = pruning.pruneValue;
			continue;
		}
		if (list_length(pruning.shardIndexes) < firstEntry->shardCount)
		{
			Bitmapset  *these = NULL;

			foreach(lc, pruning.shardIndexes)
				these = bms_add_member(these, lfirst_int(lc));
			shardSet = pinned ? bms_intersect(shardSet, these) : these;
			pinned = true;
		}
	}
	if (pinned)
	{
		member = -1;
		while ((member = bms_next_member(shardSet, member)) >= 0)
			shardIndexes = lappend_int(shardIndexes, member);
		*pruneValue = NULL;
	}
	else if (*pruneValue == NULL)
		shardIndexes = AllShardIndexes(firstEntry);
	return shardIndexes;
}

/* HasSubqueries: whether a query level's range table has a subquery */
static bool
HasSubqueries(Query *query)
{
	ListCell   *lc;

	foreach(lc, query->rtable)
	{
		if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_SUBQUERY)
			return true;
	}
	return false;
}

/*
 * PushDownJoin rewrites a query level whose FROM clause is a join of
 * co-located distributed tables on their distribution columns (see the
 * file header) and returns the placeholder's plan, or NULL when the query
 * level does not qualify and is left unchanged.
 */
DistributedPlan *
PushDownJoin(Query *query, ParamListInfo boundParams, int planIndex)
{
	Relids		relations = get_relids_in_jointree((Node *) query->jointree,
												   false);
	int			relationCount = bms_num_members(relations);
	Relids		distributed = NULL;
	Index		anchor;			/* the table whose shards the tasks follow */
	int			member = -1;
	List	   *pushed = NIL;
	List	   *kept = NIL;
	ListCell   *lc;
	Query	   *workerQuery;
	List	   *columns;
	bool		unsupported;
	Index		placeholderIndex;
	FromExpr   *joinTree;
	List	   *columnNames = NIL;
	List	   *columnVars = NIL;
	RangeTblEntry *placeholder;
	List	   *shardIndexes = NIL;
	Expr	   *pruneValue = NULL;
	DistributedPlan *plan;
	List	   *shippedEntries;
	List	   *shippedExprs;
	AttrNumber	firstShippedColumn;

	if (relationCount < 1 || query->rowMarks != NIL ||
		query->jointree->fromlist == NIL)
		return NULL;

	if (!RelationsJoinedOnDistributionColumns(query, relations, true,
											  &distributed))
		return NULL;
	/* the tasks follow the shards of the first distributed table */
	anchor = bms_next_member(bms_is_empty(distributed) ? relations : distributed,
							 -1);

	/* join alias references become references to the tables' columns */
	if (HasJoinEntries(query))
		FlattenJoinAliasReferences(query);

	/* WHERE conditions the shards can evaluate go with the join */
	if (query->jointree->quals != NULL)
	{
		foreach(lc, make_ands_implicit((Expr *) query->jointree->quals))
		{
			Node	   *clause = lfirst(lc);

			if ((IsShippableFilter(clause) ||
				 IsShippableWithSubLinks(query, relations, distributed,
											 clause)) &&
				bms_is_subset(pull_varnos(NULL, clause), relations))
				pushed = lappend(pushed, clause);
			else
				kept = lappend(kept, clause);
		}
	}

	/* output expressions with sublinks the shards evaluate go there too */
	shippedEntries = TakeShippableOutputs(query, relations, distributed,
										  &shippedExprs);

	/*
	 * One table alone is not a join (pull_up_planner.c reads it, with its
	 * aggregation), unless sublinks go to its shards with it; one subquery
	 * may run on the shards.
	 */
	if (relationCount < 2 && !HasSubqueries(query) &&
		!checkExprHasSubLink((Node *) pushed) && shippedEntries == NIL)
		return NULL;

	/*
	 * The columns the rest of the query uses: everything but the FROM
	 * clause, which goes to the shards, and the pushed conditions.
	 */
	joinTree = query->jointree;
	query->jointree = makeFromExpr(NIL, kept ? (Node *) make_ands_explicit(kept) : NULL);
	/* the range table is skipped: the joins and their aliases move away */
	columns = CollectPlaceholderColumns(query, relations,
										QTW_IGNORE_RANGE_TABLE, &unsupported);
	if (unsupported || !bms_is_member(1, relations))
	{
		query->jointree = joinTree;
		RestoreShippedOutputs(shippedEntries, shippedExprs);
		return NULL;
	}

	/* the shard query: SELECT <columns> FROM <join> WHERE <pushed> */
	workerQuery = MakeWorkerQuery(copyObject(query->rtable),
								  copyObject(joinTree->fromlist),
								  pushed ? (Node *) make_ands_explicit(copyObject(pushed)) : NULL);
	AddWorkerColumns(workerQuery, query, columns, 0, &columnNames,
					 &columnVars);
	firstShippedColumn = list_length(columnVars) + 1;
	foreach(lc, shippedExprs)
	{
		Expr	   *expr = copyObject(lfirst(lc));

		columnNames = lappend(columnNames,
							  psprintf("output%d", foreach_current_index(lc) + 1));
		columnVars = lappend(columnVars, expr);
		workerQuery->targetList =
			lappend(workerQuery->targetList,
					makeTargetEntry(expr,
									list_length(workerQuery->targetList) + 1,
									llast(columnNames), false));
	}
	PrepareSubqueriesForShards(workerQuery);

	/*
	 * shards: any distributed table's pinned distribution value pins the
	 * shard index (reference tables have only one)
	 */
	shardIndexes = PruneColocatedShards(workerQuery, distributed, pushed,
										boundParams, &pruneValue);

	if (!IsTransferableOutput(columnVars) || !QueryIsDeparsable(workerQuery))
	{
		query->jointree = joinTree;
		RestoreShippedOutputs(shippedEntries, shippedExprs);
		return NULL;
	}

	/* the rewrite is possible: the query reads the placeholder instead */
	placeholder = MakeResultPlaceholderRte("joined", columnNames, columnVars,
										   planIndex);
	query->rtable = lappend(query->rtable, placeholder);
	placeholderIndex = list_length(query->rtable);
	RenumberPlaceholderColumns(query, relations, QTW_IGNORE_RANGE_TABLE,
							   columns, placeholderIndex);
	ReadShippedOutputs(shippedEntries, placeholderIndex, firstShippedColumn);
	member = -1;
	while ((member = bms_next_member(relations, member)) >= 0)
		rt_fetch(member, query->rtable)->inFromCl = false;
	KeepSubqueryRelations(query, relations,
						  list_concat(list_copy(pushed), shippedExprs));
	query->hasSubLinks = checkExprHasSubLink((Node *) query);
	/*
	 * The joins left the query with its FROM clause: nothing refers to their
	 * entries anymore, and the planner must not look for outer joins.
	 */
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_JOIN)
			rte->jointype = JOIN_INNER;
	}
	query->jointree->fromlist = list_make1(makeNode(RangeTblRef));
	((RangeTblRef *) linitial(query->jointree->fromlist))->rtindex =
		placeholderIndex;

	plan = MakeShipQueryPlan(ColocatedRelationEntry(rt_fetch(anchor,
															 query->rtable))->relid,
							 workerQuery, shardIndexes, pruneValue, false,
							 true);
	plan->isRouter = false;
	return plan;
}
