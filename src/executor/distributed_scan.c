/*-------------------------------------------------------------------------
 *
 * distributed_scan.c
 *	  The distributed custom scan: turns a DistributedPlan into tasks when
 *	  execution starts, runs them (task_execution.c) and returns their rows.
 *
 * Tasks are built at executor start, because only then are parameter
 * values known: a generic plan picks its shard from a parameter, and
 * INSERT ... VALUES evaluates its rows (defaults, sequences, functions)
 * here, once, on the coordinator.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/explain.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "distdb/connection_cache.h"
#include "distdb/deparse.h"
#include "distdb/remote_command.h"
#include "distdb/distributed_scan.h"
#include "distdb/metadata_cache.h"
#include "distdb/shard_pruning.h"
#include "distdb/task_execution.h"

typedef struct DistributedScanState
{
	CustomScanState css;
	DistributedPlan *plan;
	List	   *tasks;			/* DistTask */
	bool		tasksBuilt;
	TaskExecution *execution;
	bool		countedRows;

	/*
	 * Once a read-only scan is rescanned (the inner side of a nested loop,
	 * a correlated subquery), its rows are kept: the shard queries do not
	 * change between rescans, so replaying them saves a round of queries
	 * to every shard per rescan -- and every rescan sees the same rows, as
	 * a single statement should.
	 */
	Tuplestorestate *cache;		/* rows read since caching started */
	TupleTableSlot *cacheSlot;	/* a slot for reading the cache */
	bool		cacheComplete;	/* the execution behind the cache ended */
} DistributedScanState;

static Node *CreateDistributedScanState(CustomScan *scan);
static void BeginDistributedScan(CustomScanState *node, EState *estate,
								 int eflags);
static TupleTableSlot *ExecDistributedScan(CustomScanState *node);
static void EndDistributedScan(CustomScanState *node);
static void ReScanDistributedScan(CustomScanState *node);
static void ExplainDistributedScan(CustomScanState *node, List *ancestors,
								   ExplainState *es);

CustomScanMethods DistributedScanMethods = {
	.CustomName = DISTRIBUTED_SCAN_NAME,
	.CreateCustomScanState = CreateDistributedScanState,
};

static CustomExecMethods DistributedExecMethods = {
	.CustomName = DISTRIBUTED_SCAN_NAME,
	.BeginCustomScan = BeginDistributedScan,
	.ExecCustomScan = ExecDistributedScan,
	.EndCustomScan = EndDistributedScan,
	.ReScanCustomScan = ReScanDistributedScan,
	.ExplainCustomScan = ExplainDistributedScan,
};

/*
 * RegisterDistributedScanMethods makes the scan known by name, so plans
 * containing it can be read back; called from _PG_init.
 */
void
RegisterDistributedScanMethods(void)
{
	RegisterCustomScanMethods(&DistributedScanMethods);
}

/*
 * MakeDistributedScan builds the custom scan node for a plan.  The scan
 * tuple has the columns of scanTargetList; targetList projects from it.
 */
CustomScan *
MakeDistributedScan(DistributedPlan *plan, List *targetList,
					List *scanTargetList)
{
	CustomScan *scan = makeNode(CustomScan);

	scan->scan.plan.targetlist = targetList;
	scan->scan.plan.qual = NIL;
	scan->scan.plan.startup_cost = 0;
	scan->scan.plan.total_cost = 100;
	scan->scan.plan.plan_rows = 100;
	scan->scan.plan.plan_width = 32;
	scan->scan.scanrelid = 0;
	scan->flags = 0;
	scan->custom_plans = NIL;
	scan->custom_exprs = NIL;
	scan->custom_private = SerializeDistributedPlan(plan);
	scan->custom_scan_tlist = scanTargetList;
	scan->custom_relids = NULL;
	scan->methods = &DistributedScanMethods;
	return scan;
}

static Node *
CreateDistributedScanState(CustomScan *scan)
{
	DistributedScanState *state = palloc0(sizeof(DistributedScanState));

	NodeSetTag(state, T_CustomScanState);
	state->css.methods = &DistributedExecMethods;
	state->plan = DeserializeDistributedPlan(scan->custom_private);
	return (Node *) state;
}

/*
 * ParamText prints a parameter value the way the nodes read it back.
 */
static char *
ParamText(Oid type, Datum value)
{
	Oid			outputFunction;
	bool		isVarlena;

	getTypeOutputInfo(type, &outputFunction, &isVarlena);
	return OidOutputFunctionCall(outputFunction, value);
}

/*
 * BuildRemoteParams converts the parameters a shipped query uses into
 * text, to be sent along with it: the statement's own parameters, then the
 * values the planner turned into parameters, evaluated now, once for the
 * statement.  Values are printed under the deparse settings, so the nodes
 * read them back the same; the settings are switched only when a value's
 * text depends on them or an expression is to be evaluated.
 */
RemoteParams *
BuildRemoteParams(DistributedPlan *plan, EState *estate)
{
	ParamListInfo paramList = estate->es_param_list_info;
	ExprContext *econtext = GetPerTupleExprContext(estate);
	RemoteParams *params;
	int			userParams = plan->valueParams != NIL ?
		plan->firstValueParam - 1 : MaxExternParamId((Node *) plan->query);
	int			count = userParams;
	int			nestLevel = -1;
	int			i;
	ListCell   *lc;

	if (plan->valueParams != NIL)
		count = plan->firstValueParam - 1 + list_length(plan->valueParams);
	if (count == 0)
		return NULL;

	params = palloc0(sizeof(RemoteParams));
	params->count = count;
	params->types = palloc0(sizeof(Oid) * count);
	params->values = palloc0(sizeof(char *) * count);
	for (i = 0; i < Min(userParams, count); i++)
	{
		ParamExternData workspace;
		ParamExternData *param = NULL;

		if (paramList != NULL && i < paramList->numParams)
		{
			if (paramList->paramFetch != NULL)
				param = paramList->paramFetch(paramList, i + 1, false,
											  &workspace);
			else
				param = &paramList->params[i];
		}
		if (param == NULL || !OidIsValid(param->ptype))
		{
			/* unused by the query: any type will do */
			params->types[i] = TEXTOID;
			params->values[i] = NULL;
			continue;
		}
		params->types[i] = param->ptype;
		if (param->isnull)
			continue;
		if (nestLevel < 0 && TypeTextNeedsDeparseSettings(param->ptype))
			nestLevel = PushDeparseSettings();
		params->values[i] = ParamText(param->ptype, param->value);
	}
	for (; i < plan->firstValueParam - 1; i++)
		params->types[i] = TEXTOID;

	foreach(lc, plan->valueParams)
	{
		Expr	   *expr = lfirst(lc);
		Oid			type = exprType((Node *) expr);
		bool		isNull;
		Datum		value;

		if (nestLevel < 0 &&
			(!IsA(expr, Const) || TypeTextNeedsDeparseSettings(type)))
			nestLevel = PushDeparseSettings();
		if (IsA(expr, Const))
		{
			value = ((Const *) expr)->constvalue;
			isNull = ((Const *) expr)->constisnull;
		}
		else if (IsA(expr, Param) &&
				 ((Param *) expr)->paramkind == PARAM_EXEC)
			value = ComputeSubqueryValue(plan, ((Param *) expr)->paramid,
										 estate, &isNull);
		else
			value = ExecEvalExprSwitchContext(ExecInitExpr(expr, NULL),
											  econtext, &isNull);
		params->types[i] = type;
		params->values[i] = isNull ? NULL : ParamText(type, value);
		i++;
	}
	if (nestLevel >= 0)
		PopDeparseSettings(nestLevel);
	return params;
}

/*
 * ReadPlacementIndex chooses the copy of a shard a read uses.  A copy on a
 * node where the transaction already has a remote transaction comes first:
 * a write to a reference table goes to every copy, so the transaction
 * reads its own writes there, and it needs no other connection.
 * Otherwise sessions are spread over the copies by process id, so that
 * reads of reference tables do not all load the first node.
 */
static int
ReadPlacementIndex(ShardInterval *shard)
{
	int			placementIndex;

	if (shard->placementCount == 1)
		return 0;
	for (placementIndex = 0; placementIndex < shard->placementCount;
		 placementIndex++)
	{
		if (NodeHasRemoteTransaction(shard->placements[placementIndex].nodeId))
			return placementIndex;
	}
	return MyProcPid % shard->placementCount;
}

/*
 * ShardTasks returns the tasks that run a command on a shard.  A read
 * runs on one placement (ReadPlacementIndex); a write (or a row lock) on
 * every placement, so that all copies of a reference table stay the same.
 * The first of a write's tasks returns the command's rows and row count;
 * the others (replicaOf pointing to it) run once it has finished, so that
 * concurrent writers of a row queue on its first copy instead of
 * deadlocking on two.
 */
List *
ShardTasks(DistTableCacheEntry *entry, int shardIndex, char *queryString,
		   RemoteParams *params, bool prepare, bool isWrite)
{
	ShardInterval *shard = &entry->shards[shardIndex];
	int			taskCount = isWrite ? shard->placementCount : 1;
	DistTask   *primary = NULL;
	List	   *tasks = NIL;
	int			placementIndex;

	if (shard->placementCount < 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("shard " INT64_FORMAT " has no placement", shard->shardId)));
	for (placementIndex = 0; placementIndex < taskCount; placementIndex++)
	{
		DistTask   *task = palloc0(sizeof(DistTask));

		task->shardIndex = shardIndex;
		task->shardId = shard->shardId;
		task->nodeId = shard->placements[isWrite ? placementIndex :
										 ReadPlacementIndex(shard)].nodeId;
		task->queryString = queryString;
		task->params = params;
		task->prepare = prepare;
		task->replicaOf = primary;
		if (primary == NULL)
			primary = task;
		tasks = lappend(tasks, task);
	}
	return tasks;
}

/*
 * ShardNameForTask returns the name of the shard of a relation of a
 * shipped query for the task on shard index shardIndex of anchor (the
 * plan's table): co-located tables use their shard with the same index,
 * reference tables their only shard, which must have a copy on the node
 * the task runs on.
 */
static char *
ShardNameForTask(DistTableCacheEntry *relationEntry,
				 DistTableCacheEntry *anchor, int shardIndex, int32 nodeId)
{
	ShardInterval *shard;

	if (relationEntry == NULL ||
		(!IsReferenceTableEntry(relationEntry) &&
		 relationEntry->shardCount != anchor->shardCount))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the tables of this query are no longer co-located")));
	if (!IsReferenceTableEntry(relationEntry))
		return relationEntry->shards[shardIndex].shardName;

	shard = &relationEntry->shards[0];
	if (ShardPlacementOnNode(shard, nodeId) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("reference table \"%s\" has no copy on node %d",
						get_rel_name(relationEntry->relid), nodeId)));
	return shard->shardName;
}

/*
 * BuildShipQueryTasks deparses the plan's query for each target shard.
 */
static List *
BuildShipQueryTasks(DistributedPlan *plan, DistTableCacheEntry *entry,
					EState *estate)
{
	List	   *shardIndexes = plan->shardIndexes;
	List	   *tasks = NIL;
	DeparsedShardQuery deparsed;
	char	  **relationNames;
	RemoteParams *params;
	ListCell   *lc;

	if (plan->pruneValue != NULL)
	{
		ExprContext *econtext = GetPerTupleExprContext(estate);
		ExprState  *exprState = ExecInitExpr(plan->pruneValue, NULL);
		bool		isNull;
		Datum		value = ExecEvalExprSwitchContext(exprState, econtext,
													  &isNull);

		/*
		 * "column = NULL" matches nothing, on any shard; one shard still
		 * runs the statement so that e.g. aggregates return their row.
		 */
		shardIndexes = list_make1_int(isNull ? 0 :
									  ShardIndexForDatum(entry, value,
														 exprType((Node *) plan->pruneValue)));
	}

	deparsed.fragments = plan->queryFragments;
	deparsed.relationIndexes = plan->queryRelations;
	relationNames = palloc0(sizeof(char *) * list_length(plan->query->rtable));
	params = BuildRemoteParams(plan, estate);
	foreach(lc, shardIndexes)
	{
		int			shardIndex = lfirst_int(lc);
		List	   *shardTasks = ShardTasks(entry, shardIndex, NULL, params,
											plan->isRouter, plan->isWrite);
		ListCell   *tlc;

		/* the names are the same on every node the tasks run on */
		foreach(tlc, shardTasks)
		{
			DistTask   *task = lfirst(tlc);
			ListCell   *rlc;

			foreach(rlc, plan->queryRelations)
			{
				Index		rtindex = lfirst_int(rlc);

				relationNames[rtindex - 1] =
					ShardNameForTask(LookupDistTable(rt_fetch(rtindex,
															  plan->query->rtable)->relid),
									 entry, shardIndex, task->nodeId);
			}
			if (task->replicaOf == NULL)
				task->queryString = ShardQueryString(&deparsed, relationNames);
			else
				task->queryString = task->replicaOf->queryString;
		}
		tasks = list_concat(tasks, shardTasks);
	}
	return tasks;
}

/*
 * InsertRowExprs returns the expressions of each row an INSERT inserts,
 * in target list order: its target list, with the columns of a VALUES
 * list replaced by each row's values.
 */
static List *
InsertRowExprs(Query *query)
{
	List	   *targetExprs = NIL;
	List	   *rows = NIL;
	ListCell   *lc;
	Index		valuesIndex = 0;
	Index		rti = 0;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (!tle->resjunk)
			targetExprs = lappend(targetExprs, tle->expr);
	}
	foreach(lc, query->rtable)
	{
		rti++;
		if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_VALUES)
			valuesIndex = rti;
	}
	if (valuesIndex == 0)
		return list_make1(targetExprs);

	foreach(lc, rt_fetch(valuesIndex, query->rtable)->values_lists)
	{
		List	   *valuesTargetList = NIL;
		List	   *rowExprs = NIL;
		ListCell   *vlc;
		ListCell   *tlc;
		AttrNumber	column = 0;

		/* the row's values, as a target list the VALUES columns map to */
		foreach(vlc, (List *) lfirst(lc))
			valuesTargetList = lappend(valuesTargetList,
									   makeTargetEntry(lfirst(vlc), ++column,
													   NULL, false));
		foreach(tlc, targetExprs)
			rowExprs = lappend(rowExprs,
							   ReplaceVarsFromTargetList(copyObject(lfirst(tlc)),
														 valuesIndex, 0,
														 rt_fetch(valuesIndex,
																  query->rtable),
														 valuesTargetList,
														 REPLACEVARS_REPORT_ERROR,
														 0, NULL));
		rows = lappend(rows, rowExprs);
	}
	return rows;
}

/* one shard's rows of an INSERT, as text values */
typedef struct ShardRows
{
	int			rowCount;
	List	   *values;			/* char *, row after row */
	List	   *rowIndexes;		/* the statement row of each row */
} ShardRows;

/*
 * IntSublist returns count elements of an integer list starting at
 * position first.
 */
static List *
IntSublist(List *list, int first, int count)
{
	List	   *result = NIL;
	int			i;

	for (i = first; i < first + count; i++)
		result = lappend_int(result, list_nth_int(list, i));
	return result;
}

/*
 * ShardInsertTasks returns the tasks that insert rowCount rows into a shard
 * with one INSERT ... VALUES (DeparseShardInsert of the query).  Its
 * parameters are prefixParams (the values ON CONFLICT DO UPDATE uses, see
 * BuildRemoteParams; NULL if none), then the rows' values: the text values
 * (NULL for a null) of row firstRow on in the list values, one per entry of
 * columnTypes, row after row.
 */
List *
ShardInsertTasks(Query *query, DistTableCacheEntry *entry, int shardIndex,
				 RemoteParams *prefixParams, List *columnTypes, List *values,
				 int firstRow, int rowCount, bool prepare)
{
	int			prefixCount = prefixParams ? prefixParams->count : 0;
	int			columnCount = list_length(columnTypes);
	RemoteParams *params = palloc0(sizeof(RemoteParams));
	int			i;

	params->count = prefixCount + rowCount * columnCount;
	params->types = palloc(sizeof(Oid) * Max(params->count, 1));
	params->values = palloc(sizeof(char *) * Max(params->count, 1));
	for (i = 0; i < prefixCount; i++)
	{
		params->types[i] = prefixParams->types[i];
		params->values[i] = prefixParams->values[i];
	}
	for (i = 0; i < rowCount * columnCount; i++)
	{
		params->types[prefixCount + i] = list_nth_oid(columnTypes,
													  i % columnCount);
		params->values[prefixCount + i] =
			list_nth(values, firstRow * columnCount + i);
	}
	return ShardTasks(entry, shardIndex,
					  DeparseShardInsert(query,
										 entry->shards[shardIndex].shardName,
										 rowCount, prefixCount + 1),
					  params->count > 0 ? params : NULL, prepare, true);
}

/*
 * BuildInsertTasks evaluates the rows of an INSERT ... VALUES, routes each
 * to its shard and builds one INSERT per shard (or more, for very many
 * rows).
 */
static List *
BuildInsertTasks(DistributedPlan *plan, DistTableCacheEntry *entry,
				 EState *estate)
{
	Query	   *query = plan->query;
	ExprContext *econtext = GetPerTupleExprContext(estate);
	List	   *rows = InsertRowExprs(query);
	ShardRows  *shardRows = palloc0(sizeof(ShardRows) * entry->shardCount);
	List	   *columnTypes = NIL;
	int			columnCount = 0;
	int			distColumn = -1;
	List	   *tasks = NIL;
	ListCell   *lc;
	int			nestLevel;
	int			shardIndex;

	/* ON CONFLICT DO UPDATE's parameters come first, then the rows */
	RemoteParams *prefixParams = query->onConflict ?
		BuildRemoteParams(plan, estate) : NULL;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		if (tle->resno == entry->distAttnum)
			distColumn = columnCount;
		columnTypes = lappend_oid(columnTypes, exprType((Node *) tle->expr));
		columnCount++;
	}
	if (distColumn < 0 && !IsReferenceTableEntry(entry))
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("cannot insert a null value into distribution column \"%s\"",
						get_attname(entry->relid, entry->distAttnum, false))));

	nestLevel = PushDeparseSettings();
	foreach(lc, rows)
	{
		int			rowIndex = foreach_current_index(lc);
		List	   *rowExprs = lfirst(lc);
		ListCell   *elc;
		int			column = 0;
		List	   *values = NIL;
		int			rowShard = 0;	/* a reference table's only shard */

		foreach(elc, rowExprs)
		{
			Expr	   *expr = lfirst(elc);
			ExprState  *exprState = ExecInitExpr(expr, NULL);
			bool		isNull;
			Datum		value = ExecEvalExprSwitchContext(exprState, econtext,
														  &isNull);
			Oid			type = exprType((Node *) expr);

			if (column == distColumn)
			{
				if (isNull)
					ereport(ERROR,
							(errcode(ERRCODE_NOT_NULL_VIOLATION),
							 errmsg("cannot insert a null value into distribution column \"%s\"",
									get_attname(entry->relid, entry->distAttnum,
												false))));
				rowShard = ShardIndexForDatum(entry, value, type);
			}
			values = lappend(values, isNull ? NULL : ParamText(type, value));
			column++;
		}
		ResetExprContext(econtext);
		shardRows[rowShard].rowCount++;
		shardRows[rowShard].rowIndexes = lappend_int(shardRows[rowShard].rowIndexes,
													 rowIndex);
		shardRows[rowShard].values = list_concat(shardRows[rowShard].values,
												 values);
	}

	for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
	{
		ShardRows  *shard = &shardRows[shardIndex];
		int			rowsPerTask = Max(1, MAX_INSERT_PARAMS / Max(columnCount, 1));
		int			firstRow;

		for (firstRow = 0; firstRow < shard->rowCount; firstRow += rowsPerTask)
		{
			int			taskRows = Min(rowsPerTask, shard->rowCount - firstRow);
			List	   *shardTasks;
			ListCell   *tlc;

			shardTasks = ShardInsertTasks(query, entry, shardIndex,
										  prefixParams, columnTypes,
										  shard->values, firstRow, taskRows,
										  taskRows == 1);
			foreach(tlc, shardTasks)
				((DistTask *) lfirst(tlc))->rowIndexes =
					IntSublist(shard->rowIndexes, firstRow, taskRows);
			tasks = list_concat(tasks, shardTasks);
		}
	}
	PopDeparseSettings(nestLevel);
	return tasks;
}

/*
 * BuildTasks turns the plan into tasks, now that parameters are known.
 */
static List *
BuildTasks(DistributedPlan *plan, EState *estate)
{
	DistTableCacheEntry *entry = LookupDistTable(plan->relid);

	if (entry == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation %u is no longer distributed", plan->relid)));
	if (plan->kind == DIST_PLAN_INSERT_VALUES)
		return BuildInsertTasks(plan, entry, estate);
	if (plan->kind == DIST_PLAN_INSERT_SELECT)
		return NIL;				/* see insert_select.c */
	if (plan->kind == DIST_PLAN_MODIFY_VIA_COORDINATOR)
		return NIL;				/* see target_row_writes.c */
	return BuildShipQueryTasks(plan, entry, estate);
}

static void
BeginDistributedScan(CustomScanState *node, EState *estate, int eflags)
{
	DistributedScanState *state = (DistributedScanState *) node;

	/* EXPLAIN without ANALYZE must not evaluate INSERT rows (sequences) */
	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) &&
		state->plan->kind == DIST_PLAN_INSERT_VALUES)
		return;
	/* its tasks depend on the rows its SELECT finds */
	if (state->plan->kind == DIST_PLAN_MODIFY_VIA_COORDINATOR)
		return;
	state->tasks = BuildTasks(state->plan, estate);
	state->tasksBuilt = true;
}

/*
 * CachedScanNext returns the next row of a scan whose rows are kept: from
 * the cache while it has rows ahead, then from the execution, adding each
 * new row to the cache.
 */
static TupleTableSlot *
CachedScanNext(DistributedScanState *state, TupleTableSlot *slot)
{
	if (!tuplestore_ateof(state->cache) &&
		tuplestore_gettupleslot(state->cache, true, false, state->cacheSlot))
		return ExecCopySlot(slot, state->cacheSlot);
	if (state->cacheComplete)
		return NULL;
	if (TaskExecutionNextTuple(state->execution, slot))
	{
		tuplestore_puttupleslot(state->cache, slot);
		return slot;
	}
	state->cacheComplete = true;
	return NULL;
}

/* the ExecScan access method: the next row from the tasks */
static TupleTableSlot *
DistributedScanNext(ScanState *node)
{
	DistributedScanState *state = (DistributedScanState *) node;
	TupleTableSlot *slot = node->ss_ScanTupleSlot;
	EState	   *estate = node->ps.state;

	/*
	 * INSERT ... SELECT and modifications via the coordinator run whole,
	 * keeping their RETURNING rows to return
	 */
	if (state->plan->kind == DIST_PLAN_INSERT_SELECT ||
		state->plan->kind == DIST_PLAN_MODIFY_VIA_COORDINATOR)
	{
		if (!state->countedRows)
		{
			MemoryContext oldContext =
				MemoryContextSwitchTo(estate->es_query_cxt);

			if (state->plan->expectsRows)
			{
				state->cache = tuplestore_begin_heap(false, false, work_mem);
				state->cacheSlot =
					ExecAllocTableSlot(&estate->es_tupleTable,
									   slot->tts_tupleDescriptor,
									   &TTSOpsMinimalTuple);
				state->cacheComplete = true;
			}
			MemoryContextSwitchTo(oldContext);
			if (state->plan->kind == DIST_PLAN_INSERT_SELECT)
				estate->es_processed += ExecuteInsertSelect(state->plan, estate,
															slot, state->cache);
			else
				estate->es_processed +=
					ExecuteModifyViaCoordinator(state->plan, estate, slot,
												state->cache);
			state->countedRows = true;
		}
		if (state->cache != NULL)
			return CachedScanNext(state, slot);
		return NULL;
	}

	if (state->execution == NULL)
	{
		state->execution = CreateTaskExecution(state->tasks,
											   state->plan->isWrite,
											   state->plan->expectsRows,
											   slot->tts_tupleDescriptor);
		/*
		 * With ON CONFLICT a shard may return fewer rows than it was sent,
		 * and which ones is unknown: rows then come shard by shard.
		 */
		if (state->plan->kind == DIST_PLAN_INSERT_VALUES &&
			state->plan->expectsRows && list_length(state->tasks) > 1 &&
			state->plan->query->onConflict == NULL)
		{
			ListCell   *lc;
			int			rowCount = 0;

			/* only the first copy of each shard returns its rows */
			foreach(lc, state->tasks)
			{
				DistTask   *task = lfirst(lc);

				if (task->replicaOf == NULL)
					rowCount += list_length(task->rowIndexes);
			}
			ReturnRowsInStatementOrder(state->execution, rowCount);
		}
	}
	if (state->cache != NULL)
		return CachedScanNext(state, slot);
	if (TaskExecutionNextTuple(state->execution, slot))
		return slot;

	/* a modification's row count is what the shards reported */
	if (state->plan->isWrite && !state->countedRows &&
		estate->es_plannedstmt->commandType != CMD_SELECT)
	{
		estate->es_processed += state->execution->rowsProcessed;
		state->countedRows = true;
	}
	return NULL;
}

static bool
DistributedScanRecheck(ScanState *node, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
ExecDistributedScan(CustomScanState *node)
{
	return ExecScan(&node->ss, DistributedScanNext, DistributedScanRecheck);
}

static void
EndDistributedScan(CustomScanState *node)
{
	DistributedScanState *state = (DistributedScanState *) node;

	if (state->execution != NULL)
		FinishTaskExecution(state->execution);
	state->execution = NULL;
	if (state->cache != NULL)
		tuplestore_end(state->cache);
	state->cache = NULL;
}

/*
 * ReScanDistributedScan starts the scan again.  A read-only scan keeps its
 * rows from the first rescan on (see DistributedScanState) and replays
 * them; a modification runs its tasks again.
 */
static void
ReScanDistributedScan(CustomScanState *node)
{
	DistributedScanState *state = (DistributedScanState *) node;

	if (state->cache != NULL)
		tuplestore_rescan(state->cache);
	else
	{
		if (state->execution != NULL)
			FinishTaskExecution(state->execution);
		state->execution = NULL;
		if (state->plan->kind == DIST_PLAN_SHIP_QUERY && !state->plan->isWrite)
		{
			MemoryContext oldContext =
				MemoryContextSwitchTo(node->ss.ps.state->es_query_cxt);

			state->cache = tuplestore_begin_heap(false, false, work_mem);
			state->cacheSlot =
				ExecAllocTableSlot(&node->ss.ps.state->es_tupleTable,
								   node->ss.ss_ScanTupleSlot->tts_tupleDescriptor,
								   &TTSOpsMinimalTuple);
			MemoryContextSwitchTo(oldContext);
		}
	}
	ExecScanReScan(&node->ss);
}

/*
 * ExplainLines prints a list of lines under a label: indented lines in
 * text format, a list property otherwise.
 */
static void
ExplainLines(const char *label, List *lines, ExplainState *es)
{
	ListCell   *lc;

	if (es->format != EXPLAIN_FORMAT_TEXT)
	{
		ExplainPropertyList(label, lines, es);
		return;
	}
	appendStringInfoSpaces(es->str, es->indent * 2);
	appendStringInfo(es->str, "%s:\n", label);
	foreach(lc, lines)
	{
		appendStringInfoSpaces(es->str, es->indent * 2 + 4);
		appendStringInfo(es->str, "%s\n", (char *) lfirst(lc));
	}
}

/*
 * RemotePlan runs EXPLAIN of a task on its node and returns the plan's
 * lines.  Only EXPLAIN: a task is never run twice, not even for EXPLAIN
 * ANALYZE.
 */
static List *
RemotePlan(DistTask *task, ExplainState *es)
{
	NodeConnection *connection = ClaimNodeConnection(task->nodeId);
	char	   *command = psprintf("EXPLAIN (COSTS %s, VERBOSE %s) %s",
								   es->costs ? "TRUE" : "FALSE",
								   es->verbose ? "TRUE" : "FALSE",
								   task->queryString);
	List	   *lines = NIL;
	PGresult   *result;
	int			row;

	SyncSessionSettings(connection);
	SendRemoteQuery(connection, command, task->params, 0);
	result = WaitForRemoteResult(connection);
	if (result == NULL || PQresultStatus(result) != PGRES_TUPLES_OK)
	{
		DrainRemoteResults(connection);
		ThrowRemoteError(connection, result);
	}
	for (row = 0; row < PQntuples(result); row++)
		lines = lappend(lines, pstrdup(PQgetvalue(result, row, 0)));
	PQclear(result);
	DrainRemoteResults(connection);
	ReleaseNodeConnection(connection);
	return lines;
}

/*
 * ExplainDistributedScan shows where the statement runs: the kind of
 * plan, the number of tasks and, for one task, its node, shard, SQL (with
 * VERBOSE) and the plan its node makes for it.  EXPLAIN ANALYZE adds each
 * task's rows and time.
 */
static void
ExplainDistributedScan(CustomScanState *node, List *ancestors,
					   ExplainState *es)
{
	DistributedScanState *state = (DistributedScanState *) node;
	DistTask   *task;
	DistNode   *taskNode;
	ListCell   *lc;

	ExplainPropertyText("Distributed Plan",
						state->plan->isRouter ? "router" :
						state->plan->kind == DIST_PLAN_INSERT_VALUES ?
						"insert routed by value" :
						state->plan->kind == DIST_PLAN_INSERT_SELECT ?
						"insert of selected rows routed by value" :
						state->plan->kind == DIST_PLAN_MODIFY_VIA_COORDINATOR ?
						"rows selected on the coordinator, written by ctid" :
						"multi-shard", es);
	if (!state->tasksBuilt)
	{
		ExplainPropertyText("Task Count", "computed at execution", es);
		return;
	}
	ExplainPropertyInteger("Task Count", NULL, list_length(state->tasks), es);
	if (state->tasks == NIL)
		return;
	task = linitial(state->tasks);
	taskNode = LookupNode(task->nodeId, true);
	ExplainPropertyInteger("Task Node", NULL, task->nodeId, es);
	ExplainPropertyInteger("Task Shard", NULL, task->shardId, es);
	if (es->verbose)
	{
		if (taskNode != NULL)
			ExplainPropertyText("Task Node Address",
								psprintf("%s:%d", taskNode->nodeName,
										 taskNode->nodePort), es);
		ExplainPropertyText("Task Query", task->queryString, es);
	}
	if (state->plan->kind == DIST_PLAN_SHIP_QUERY)
		ExplainLines("Remote Plan", RemotePlan(task, es), es);

	if (es->analyze && state->execution != NULL)
	{
		List	   *lines = NIL;

		foreach(lc, state->tasks)
		{
			DistTask   *each = lfirst(lc);

			lines = lappend(lines,
							es->timing ?
							psprintf("shard " INT64_FORMAT " on node %d: rows=" UINT64_FORMAT " time=%.3f ms",
									 each->shardId, each->nodeId,
									 each->rowCount, each->elapsedMs) :
							psprintf("shard " INT64_FORMAT " on node %d: rows=" UINT64_FORMAT,
									 each->shardId, each->nodeId,
									 each->rowCount));
		}
		ExplainLines("Tasks", lines, es);
	}
}
