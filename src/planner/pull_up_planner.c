/*-------------------------------------------------------------------------
 *
 * pull_up_planner.c
 *	  Planning statements the shards cannot run whole: every distributed
 *	  table becomes a scan of its rows from the shards, and PostgreSQL's
 *	  planner plans everything else on the coordinator.
 *
 * Each distributed table in the statement (at any level: subqueries, CTEs,
 * sublinks) is replaced by a placeholder range table entry, a call of
 * distdb.distributed_result(planIndex) whose columns are the table columns
 * the statement uses.  The table's own filters that the shards can evaluate
 * go into the shard query with it, and decide which shards are scanned;
 * with a single-table ORDER BY ... LIMIT, the shards also return only their
 * first rows.  PostgreSQL's planner then plans the rewritten statement --
 * joins, aggregates, sorting, window functions, everything -- and
 * distdb's set_rel_pathlist hook gives each placeholder a single path: the
 * distributed custom scan that runs its shard query.
 *
 * This is always correct but moves the table's filtered rows to the
 * coordinator; later planner stages push more work down.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "jit/jit.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planner.h"
#include "optimizer/restrictinfo.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "distdb/deparse.h"
#include "distdb/distdb.h"
#include "distdb/distributed_scan.h"
#include "distdb/planner.h"
#include "distdb/planner_internal.h"
#include "distdb/shard_pruning.h"

/* the distributed plans of the statement being planned */
typedef struct PullUpState
{
	List	   *plans;			/* DistributedPlan *, by plan index */
	Bitmapset  *tableScans;		/* indexes of the plans that scan one table
								 * (their row counts are estimated from the
								 * table's statistics) */
	ParamListInfo boundParams;
	Query	   *topQuery;		/* the statement's own query level */

	/*
	 * Subqueries computed first on the coordinator (computed_sublinks.c),
	 * shared by all the plans: executor parameter i is value i.
	 */
	List	   *subqueryPlans;	/* PlannedStmt */
	List	   *subqueryKinds;	/* int: SubLinkType */
	List	   *subLinks;		/* the SubLink each value replaced */
} PullUpState;

static PullUpState *CurrentPullUp = NULL;

static CustomPathMethods DistributedPathMethods;

static void TransformQuery(Query *query, PullUpState *state);
static void TransformQueryLevel(Query *query, PullUpState *state);
static bool ReadsDistributedTables(Query *query);
static bool TransformWalker(Node *node, PullUpState *state);
static bool PushDownJoinLevel(Query *query, PullUpState *state);
static bool PushDownBroadcastJoin(Query *query, PullUpState *state);
static bool PushDownFromSubqueries(Query *query, PullUpState *state);
static void ReplaceDistributedTable(Query *query, Index rti,
									DistTableCacheEntry *entry,
									PullUpState *state);
static RowMarkClause *ShardRowMark(Query *query, Index rti,
								   PullUpState *state);
static void PushDownSortAndLimit(Query *query, Index rti, Query *workerQuery);
static Plan *PlanDistributedPath(PlannerInfo *root, RelOptInfo *rel,
								 CustomPath *best_path, List *tlist,
								 List *clauses, List *custom_plans);

/*
 * DistributedResultFunctionId returns the oid of the placeholder function
 * distdb.distributed_result(int).
 */
Oid
DistributedResultFunctionId(void)
{
	static Oid	functionId = InvalidOid;
	Oid			argTypes[1] = {INT4OID};

	if (OidIsValid(functionId) &&
		SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(functionId)))
		return functionId;
	functionId = LookupFuncName(list_make2(makeString(DISTDB_SCHEMA_NAME),
										   makeString("distributed_result")),
								1, argTypes, false);
	return functionId;
}

/*
 * PlanWithPullUp plans a statement by pulling the rows of its distributed
 * tables to the coordinator (see the file header).
 */
PlannedStmt *
PlanWithPullUp(Query *parse, const char *queryString, int cursorOptions,
			   ParamListInfo boundParams)
{
	PullUpState state;
	PullUpState *previous = CurrentPullUp;
	PlannedStmt *result;
	Query	   *query = copyObject(parse);
	ListCell   *lc;

	memset(&state, 0, sizeof(state));
	state.boundParams = boundParams;
	InlineCommonTableExpressions(query);
	state.topQuery = query;
	TransformQuery(query, &state);
	foreach(lc, state.plans)
	{
		DistributedPlan *plan = lfirst(lc);

		plan->subqueryPlans = state.subqueryPlans;
		plan->subqueryKinds = state.subqueryKinds;
	}

	CurrentPullUp = &state;
	PG_TRY();
	{
		result = standard_planner(query, queryString, cursorOptions,
								  boundParams);
	}
	PG_FINALLY();
	{
		CurrentPullUp = previous;
	}
	PG_END_TRY();

	/*
	 * No JIT compilation: the coordinator's copies of distributed tables
	 * are empty, so the costs of the rows coming from the shards are
	 * guesses, and with several tables they easily pass jit_above_cost.
	 * Compiling then takes seconds, far more than the coordinator spends
	 * on the (filtered, often aggregated) rows it gets.
	 */
	result->jitFlags = PGJIT_NONE;
	return result;
}

/*
 * TransformQuery replaces the distributed tables of a query and of every
 * query nested in it.
 */
static void
TransformQuery(Query *query, PullUpState *state)
{
	List	   *restored;
	ListCell   *lc;
	bool		computed;

	/*
	 * Subqueries in FROM that run on the shards with the tables they join
	 * (subquery_pushdown.c) go whole into the join's shard query; the rest
	 * of the query level is transformed as usual after that.
	 */
	if (PushDownFromSubqueries(query, state))
		return;

	/*
	 * Subqueries of the WHERE clause that do not depend on the level's
	 * rows are computed first, so that the filters using their values go
	 * to the shards with the rest of the level (computed_sublinks.c);
	 * those whose filter stays on the coordinator get their subquery back.
	 */
	computed = ReadsDistributedTables(query) &&
		ComputeQualSubLinksFirst(query, state->boundParams,
								 &state->subqueryPlans,
								 &state->subqueryKinds, &state->subLinks);
	TransformQueryLevel(query, state);
	if (!computed)
		return;
	restored = RestoreComputedSubLinks(query, state->subLinks);
	foreach(lc, restored)
		TransformQuery((Query *) ((SubLink *) lfirst(lc))->subselect, state);
}

/*
 * ReadsDistributedTables: whether a query level's range table has a
 * distributed or reference table.
 */
static bool
ReadsDistributedTables(Query *query)
{
	ListCell   *lc;

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && LookupDistTable(rte->relid) != NULL)
			return true;
	}
	return false;
}

/*
 * TransformQueryLevel replaces the distributed tables of a query level,
 * once the subqueries that go to the shards with it are set aside.
 */
static void
TransformQueryLevel(Query *query, PullUpState *state)
{
	ListCell   *lc;
	Index		rti = 0;
	int			originalLength = list_length(query->rtable);

	query_tree_walker(query, TransformWalker, state, 0);

	/* aggregation over one distributed table runs on the shards */
	if (list_length(query->jointree->fromlist) == 1 &&
		IsA(linitial(query->jointree->fromlist), RangeTblRef))
	{
		Index		onlyRti = ((RangeTblRef *) linitial(query->jointree->fromlist))->rtindex;
		RangeTblEntry *onlyRte = rt_fetch(onlyRti, query->rtable);
		DistTableCacheEntry *entry = (onlyRte->rtekind == RTE_RELATION) ?
		LookupDistTable(onlyRte->relid) : NULL;

		if (entry != NULL)
		{
			DistributedPlan *plan =
				PushDownAggregation(query, onlyRti, entry, state->boundParams,
									list_length(state->plans));

			if (plan != NULL)
			{
				state->plans = lappend(state->plans, plan);
				return;
			}
		}
	}

	/* a join of co-located tables runs on the shards */
	if (PushDownJoinLevel(query, state))
		return;

	/* so does a join with small relations, sent to the shards */
	if (PushDownBroadcastJoin(query, state))
		return;

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		DistTableCacheEntry *entry;

		rti++;
		if (rti > originalLength)
			break;
		if (rte->rtekind != RTE_RELATION)
			continue;
		entry = LookupDistTable(rte->relid);
		if (entry != NULL)
			ReplaceDistributedTable(query, rti, entry, state);
	}
}

/*
 * PushDownJoinLevel runs the FROM clause of a query level on the shards
 * when it joins co-located tables (or subqueries that run on the shards)
 * on their distribution columns, with the level's aggregation or window
 * functions where they split; returns whether it did.
 */
static bool
PushDownJoinLevel(Query *query, PullUpState *state)
{
	DistributedPlan *plan = PushDownJoin(query, state->boundParams,
										 list_length(state->plans));
	DistributedPlan *aggregationPlan;

	if (plan == NULL)
		return false;

	/* and the aggregation over the join, if it splits */
	aggregationPlan = PushDownAggregationOverJoin(query, plan,
												  list_length(state->plans));
	/* or its window functions */
	if (aggregationPlan == NULL)
		aggregationPlan = PushDownWindowsOverJoin(query, plan,
												  list_length(state->plans));
	state->plans = lappend(state->plans,
						   aggregationPlan ? aggregationPlan : plan);
	return true;
}

/*
 * PushDownBroadcastJoin runs the FROM clause of a query level on the
 * shards, as PushDownJoinLevel does, once the small relations the shards
 * cannot read are replaced by their rows computed first
 * (broadcast_joins.c); returns whether it did.  The level is left as it
 * was otherwise.
 */
static bool
PushDownBroadcastJoin(Query *query, PullUpState *state)
{
	int			computedCount = list_length(state->subqueryPlans);
	Query	   *attempt = BroadcastSmallRelations(query, state->boundParams,
												  &state->subqueryPlans,
												  &state->subqueryKinds);

	if (attempt != NULL && PushDownJoinLevel(attempt, state))
	{
		*query = *attempt;
		return true;
	}
	state->subqueryPlans = list_truncate(state->subqueryPlans, computedCount);
	state->subqueryKinds = list_truncate(state->subqueryKinds, computedCount);
	return false;
}

/*
 * PushDownFromSubqueries tries PushDownJoinLevel on a query level with
 * subqueries in FROM or sublinks in WHERE or its output before anything
 * else: the subqueries must still hold their tables.  When their join went to the shards, the queries left in
 * the level (sublinks in its output, CTEs) are transformed; the moved
 * subqueries stay, unplanned, in the range table for privilege checks.
 */
static bool
PushDownFromSubqueries(Query *query, PullUpState *state)
{
	ListCell   *lc;
	bool		hasSubquery = false;

	foreach(lc, query->rtable)
	{
		if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_SUBQUERY)
			hasSubquery = true;
	}
	if (query->commandType != CMD_SELECT ||
		(!hasSubquery && !checkExprHasSubLink(query->jointree->quals) &&
		 !checkExprHasSubLink((Node *) query->targetList)) ||
		!PushDownJoinLevel(query, state))
		return false;
	query_tree_walker(query, TransformWalker, state,
					  QTW_IGNORE_RT_SUBQUERIES);
	return true;
}

/* TransformWalker finds the queries nested in a query */
static bool
TransformWalker(Node *node, PullUpState *state)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		TransformQuery((Query *) node, state);
		return false;
	}
	return expression_tree_walker(node, TransformWalker, state);
}

/*
 * IsNullableInJoinTree: whether the entry is on the nullable side of an
 * outer join, where a WHERE condition on it must not be applied before the
 * join.
 */
bool
IsNullableInJoinTree(Node *jtnode, Index rti, bool nullable)
{
	if (jtnode == NULL)
		return false;
	if (IsA(jtnode, RangeTblRef))
		return nullable && ((RangeTblRef *) jtnode)->rtindex == rti;
	if (IsA(jtnode, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) jtnode)->fromlist)
		{
			if (IsNullableInJoinTree(lfirst(lc), rti, nullable))
				return true;
		}
		return false;
	}
	if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) jtnode;
		bool		leftNullable = nullable || join->jointype == JOIN_RIGHT ||
			join->jointype == JOIN_FULL;
		bool		rightNullable = nullable || join->jointype == JOIN_LEFT ||
			join->jointype == JOIN_FULL;

		return IsNullableInJoinTree(join->larg, rti, leftNullable) ||
			IsNullableInJoinTree(join->rarg, rti, rightNullable);
	}
	return false;
}

/*
 * ReplaceDistributedTable turns one distributed table of a query into a
 * placeholder scan of its rows from the shards.
 */
static void
ReplaceDistributedTable(Query *query, Index rti, DistTableCacheEntry *entry,
						PullUpState *state)
{
	RangeTblEntry *rte = rt_fetch(rti, query->rtable);
	RangeTblEntry *placeholder;
	List	   *columns;
	bool		unsupported;
	List	   *pushed = NIL;
	List	   *kept = NIL;
	List	   *columnNames = NIL;
	List	   *columnVars = NIL;
	Query	   *workerQuery;
	DistributedPlan *plan;
	PruningResult pruning;
	ListCell   *lc;
	int			planIndex = list_length(state->plans);
	Relids		onlyThis = bms_make_singleton(rti);
	RowMarkClause *rowMark;

	if (rte->tablesample != NULL && !TableSampleIsDeparsable(rte->tablesample))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("TABLESAMPLE method %s cannot be used on distributed table \"%s\"",
						get_func_name(rte->tablesample->tsmhandler),
						get_rel_name(rte->relid)),
				 errdetail("The shards run only the built-in methods SYSTEM and BERNOULLI.")));
	if (rte->securityQuals != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("row-level security on distributed tables is not supported yet")));
	rowMark = ShardRowMark(query, rti, state);
	if (query->resultRelation == (int) rti)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("this form of modification of a distributed table is not supported yet")));

	/*
	 * Whole-row references become ROW(...) of the table's columns; the
	 * distribution column, never NULL in a distributed table, tells
	 * null-extended rows of outer joins apart.
	 */
	ExpandWholeRowReferences(query, rti, rte->relid,
							 IsNullableInJoinTree((Node *) query->jointree,
												  rti, false) ?
							 entry->distAttnum : InvalidAttrNumber);

	/* the WHERE conditions on this table alone go to the shards */
	if (query->jointree->quals != NULL &&
		!IsNullableInJoinTree((Node *) query->jointree, rti, false))
	{
		foreach(lc, make_ands_implicit((Expr *) query->jointree->quals))
		{
			Node	   *clause = lfirst(lc);
			Relids		varnos = pull_varnos(NULL, clause);

			if (bms_equal(varnos, onlyThis) && IsShippableFilter(clause))
				pushed = lappend(pushed, clause);
			else
				kept = lappend(kept, clause);
		}
		query->jointree->quals = (Node *) make_ands_explicit(kept);
		if (kept == NIL)
			query->jointree->quals = NULL;
	}
	if (rowMark != NULL && query->jointree->quals != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("SELECT ... FOR UPDATE/SHARE on several shards of distributed table \"%s\" is only supported with filters the shards can evaluate",
						get_rel_name(rte->relid)),
				 errdetail("The shards would lock rows that the coordinator's filters then discard.")));

	/* the columns the rest of the query uses */
	columns = CollectPlaceholderColumns(query, onlyThis, 0, &unsupported);
	if (unsupported)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("whole-row and system column references to distributed tables are not supported in this query yet")));

	/* the shard query: SELECT <columns> FROM table WHERE <pushed> */
	workerQuery = MakeSingleTableWorkerQuery(rte, NULL);
	if (pushed != NIL)
	{
		Node	   *quals = (Node *) make_ands_explicit(copyObject(pushed));

		ChangeVarNodes(quals, rti, 1, 0);
		workerQuery->jointree->quals = quals;
	}
	AddWorkerColumns(workerQuery, query, columns, 1, &columnNames,
					 &columnVars);

	PushDownSortAndLimit(query, rti, workerQuery);

	/* the shards lock the rows they return; the coordinator locks nothing */
	if (rowMark != NULL)
	{
		RowMarkClause *shardMark = copyObject(rowMark);

		shardMark->rti = 1;
		workerQuery->rowMarks = list_make1(shardMark);
		query->rowMarks = list_delete_ptr(query->rowMarks, rowMark);
	}

	pruning = PruneShards(entry,
						  workerQuery->jointree->quals ?
						  make_ands_implicit((Expr *) workerQuery->jointree->quals) :
						  NIL,
						  state->boundParams);

	plan = MakeShipQueryPlan(rte->relid, workerQuery, pruning.shardIndexes,
							 pruning.pruneValue, rowMark != NULL, true);
	plan->isRouter = false;
	state->tableScans = bms_add_member(state->tableScans, planIndex);
	state->plans = lappend(state->plans, plan);

	/* the query reads the placeholder's columns; it takes the entry's place */
	RenumberPlaceholderColumns(query, onlyThis, 0, columns, rti);

	placeholder = MakeResultPlaceholderRte(rte->eref->aliasname, columnNames,
										   columnVars, planIndex);
	placeholder->inFromCl = rte->inFromCl;
	placeholder->lateral = false;

	/* the table stays in the range table, unreferenced, for privileges */
	rte->inFromCl = false;
	query->rtable = lappend(query->rtable, rte);
	list_nth_cell(query->rtable, rti - 1)->ptr_value = placeholder;
}

/*
 * ShardRowMark returns the FOR UPDATE / FOR SHARE clause of a distributed
 * table that the shards can apply themselves, or NULL when the table is
 * not locked.  Each shard locks the rows its query returns, which are the
 * rows PostgreSQL would lock only when the statement returns every row the
 * table's scan produces: a single-table statement level with no LIMIT (the
 * shards would each lock their first rows) and no filter left for the
 * coordinator (checked by the caller).  Other forms are refused rather
 * than locking more rows than PostgreSQL does.
 */
static RowMarkClause *
ShardRowMark(Query *query, Index rti, PullUpState *state)
{
	RowMarkClause *rowMark = get_parse_rowmark(query, rti);

	if (rowMark == NULL)
		return NULL;
	if (query != state->topQuery ||
		list_length(query->jointree->fromlist) != 1 ||
		!IsA(linitial(query->jointree->fromlist), RangeTblRef) ||
		((RangeTblRef *) linitial(query->jointree->fromlist))->rtindex != (int) rti ||
		query->limitCount != NULL || query->limitOffset != NULL ||
		query->setOperations != NULL || query->hasTargetSRFs)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("SELECT ... FOR UPDATE/SHARE on several shards of distributed table \"%s\" is only supported at the top level of a single-table query without LIMIT",
						get_rel_name(rt_fetch(rti, query->rtable)->relid)),
				 errhint("Filter on the distribution column so that one shard is selected, or lock the rows with UPDATE.")));
	return rowMark;
}

/*
 * PushDownSortAndLimit lets every shard return only its first rows when
 * the query is a plain ORDER BY ... LIMIT over this table alone: the
 * coordinator still sorts and limits, but over few rows.
 */
static void
PushDownSortAndLimit(Query *query, Index rti, Query *workerQuery)
{
	Node	   *limit = query->limitCount ?
		eval_const_expressions(NULL, query->limitCount) : NULL;
	Node	   *limitOffset = query->limitOffset ?
		eval_const_expressions(NULL, query->limitOffset) : NULL;
	ListCell   *lc;
	int			ref = 0;

	if (limit == NULL || query->sortClause == NIL ||
		query->hasAggs || query->groupClause != NIL ||
		query->groupingSets != NIL || query->havingQual != NULL ||
		query->hasWindowFuncs || query->distinctClause != NIL ||
		query->hasTargetSRFs || query->setOperations != NULL ||
		query->jointree->quals != NULL || query->rowMarks != NIL ||
		list_length(query->jointree->fromlist) != 1 ||
		!IsA(linitial(query->jointree->fromlist), RangeTblRef) ||
		((RangeTblRef *) linitial(query->jointree->fromlist))->rtindex != (int) rti)
		return;

	/* LIMIT n OFFSET m: each shard returns its first n + m rows */
	if (limitOffset != NULL)
	{
		Const	   *count = (Const *) limit;
		Const	   *offset = (Const *) limitOffset;
		int64		total;

		if (!IsA(limit, Const) || !IsA(limitOffset, Const) ||
			count->constisnull || offset->constisnull ||
			pg_add_s64_overflow(DatumGetInt64(count->constvalue),
								DatumGetInt64(offset->constvalue), &total))
			return;
		limit = (Node *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
								   Int64GetDatum(total), false,
								   FLOAT8PASSBYVAL);
	}
	else if (!IsShippableFilter(limit))
		return;

	foreach(lc, query->sortClause)
	{
		SortGroupClause *clause = lfirst(lc);
		Node	   *expr = get_sortgroupclause_expr(clause, query->targetList);

		if (!bms_equal(pull_varnos(NULL, expr), bms_make_singleton(rti)) ||
			!IsShippableFilter(expr))
			return;
	}

	foreach(lc, query->sortClause)
	{
		SortGroupClause *clause = copyObject(lfirst(lc));
		Node	   *expr = copyObject(get_sortgroupclause_expr(clause,
															   query->targetList));
		TargetEntry *tle;

		ChangeVarNodes(expr, rti, 1, 0);
		ref++;
		tle = makeTargetEntry((Expr *) expr,
							  list_length(workerQuery->targetList) + 1,
							  NULL, true);
		tle->ressortgroupref = ref;
		clause->tleSortGroupRef = ref;
		workerQuery->targetList = lappend(workerQuery->targetList, tle);
		workerQuery->sortClause = lappend(workerQuery->sortClause, clause);
	}
	workerQuery->limitCount = copyObject(limit);
	workerQuery->limitOption = query->limitOption;
}

/*
 * PlaceholderPlanIndex returns the plan index of a placeholder entry, or
 * -1 for any other range table entry.
 */
static int
PlaceholderPlanIndex(RangeTblEntry *rte)
{
	RangeTblFunction *rtfunc;
	FuncExpr   *call;
	Const	   *index;

	if (rte->rtekind != RTE_FUNCTION || list_length(rte->functions) != 1)
		return -1;
	rtfunc = linitial(rte->functions);
	if (!IsA(rtfunc->funcexpr, FuncExpr))
		return -1;
	call = (FuncExpr *) rtfunc->funcexpr;
	if (call->funcid != DistributedResultFunctionId() ||
		list_length(call->args) != 1 || !IsA(linitial(call->args), Const))
		return -1;
	index = linitial(call->args);
	return DatumGetInt32(index->constvalue);
}

/*
 * DistdbSetRelPathlist gives a placeholder entry its only path: the
 * distributed scan.
 */
void
DistdbSetRelPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
					 RangeTblEntry *rte)
{
	CustomPath *path;
	int			planIndex;
	DistributedPlan *plan;

	if (PrevSetRelPathlistHook)
		PrevSetRelPathlistHook(root, rel, rti, rte);

	if (CurrentPullUp == NULL || rte->rtekind != RTE_FUNCTION)
		return;
	planIndex = PlaceholderPlanIndex(rte);
	if (planIndex < 0 || planIndex >= list_length(CurrentPullUp->plans))
		return;
	plan = list_nth(CurrentPullUp->plans, planIndex);

	/* the table's rows, rather than the placeholder function's ROWS */
	if (bms_is_member(planIndex, CurrentPullUp->tableScans))
	{
		double		tableRows = EstimateShardScanRows(root, plan);

		if (tableRows >= 0)
		{
			rel->tuples = clamp_row_est(tableRows);
			rel->rows = clamp_row_est(tableRows *
									  clauselist_selectivity(root,
															 rel->baserestrictinfo,
															 0, JOIN_INNER,
															 NULL));
		}
	}

	path = makeNode(CustomPath);
	path->path.pathtype = T_CustomScan;
	path->path.parent = rel;
	path->path.pathtarget = rel->reltarget;
	path->path.param_info = NULL;
	path->path.parallel_aware = false;
	path->path.parallel_safe = false;
	path->path.parallel_workers = 0;
	path->path.rows = rel->rows;
	path->path.startup_cost = 100.0;
	path->path.total_cost = 100.0 + rel->rows * 0.05 *
		Max(list_length(plan->shardIndexes), 1);
	path->path.pathkeys = NIL;
	path->flags = 0;
	path->custom_paths = NIL;
	path->custom_private = list_make1(makeInteger(planIndex));
	path->methods = &DistributedPathMethods;

	rel->pathlist = NIL;
	rel->partial_pathlist = NIL;
	add_path(rel, &path->path);
}

/*
 * PlanDistributedPath turns the path into the distributed custom scan,
 * whose scan tuple has the placeholder's columns.
 */
static Plan *
PlanDistributedPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
					List *tlist, List *clauses, List *custom_plans)
{
	int			planIndex = intVal(linitial(best_path->custom_private));
	DistributedPlan *plan = list_nth(CurrentPullUp->plans, planIndex);
	RangeTblEntry *rte = planner_rt_fetch(rel->relid, root);
	RangeTblFunction *rtfunc = linitial(rte->functions);
	List	   *scanTargetList = NIL;
	ListCell   *typeCell;
	ListCell   *typmodCell;
	ListCell   *collationCell;
	AttrNumber	attno = 0;
	CustomScan *scan;

	forthree(typeCell, rtfunc->funccoltypes,
			 typmodCell, rtfunc->funccoltypmods,
			 collationCell, rtfunc->funccolcollations)
	{
		Var		   *var = makeVar(rel->relid, ++attno, lfirst_oid(typeCell),
								  lfirst_int(typmodCell),
								  lfirst_oid(collationCell), 0);

		scanTargetList = lappend(scanTargetList,
								 makeTargetEntry((Expr *) var, attno,
												 strVal(list_nth(rtfunc->funccolnames,
																 attno - 1)),
												 false));
	}

	scan = MakeDistributedScan(plan, tlist, scanTargetList);
	scan->scan.plan.qual = extract_actual_clauses(clauses, false);
	return &scan->scan.plan;
}

static CustomPathMethods DistributedPathMethods = {
	.CustomName = DISTRIBUTED_SCAN_NAME,
	.PlanCustomPath = PlanDistributedPath,
};

PG_FUNCTION_INFO_V1(distributed_result);

/*
 * distributed_result is the function the placeholder entries call.  The
 * planner always replaces its scan with the distributed scan; reaching it
 * means a placeholder escaped distdb's planner.
 */
Datum
distributed_result(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("distdb.distributed_result() stands for rows from shards and cannot be called directly")));
	PG_RETURN_NULL();
}
