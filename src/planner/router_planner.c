/*-------------------------------------------------------------------------
 *
 * router_planner.c
 *	  Plans for statements the shards run whole: single-table SELECT,
 *	  UPDATE and DELETE, and INSERT ... VALUES.
 *
 * These plans skip PostgreSQL's planner: the PlannedStmt is a single
 * distributed custom scan returning the statement's output (rows or
 * RETURNING), which keeps the coordinator's overhead for router queries
 * small.  The statement's own range table stays in the PlannedStmt, so the
 * executor checks the user's privileges on the distributed table before
 * the scan sends anything to a node.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/heap.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/planmain.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"
#include "catalog/pg_constraint.h"

#include "distdb/deparse.h"
#include "distdb/distributed_scan.h"
#include "distdb/planner_internal.h"
#include "distdb/shard_pruning.h"

static PlannedStmt *BuildDirectPlannedStmt(Query *parse, DistributedPlan *plan,
										   List *outputList, int cursorOptions,
										   List *permissionRtes);

/*
 * MakeResultPlaceholderRte builds the range table entry that stands for
 * rows coming from shards: a call of distdb.distributed_result() with a
 * column definition list matching the rows.  planIndex identifies the
 * distributed plan while PostgreSQL's planner runs (pull_up_planner.c).
 */
RangeTblEntry *
MakeResultPlaceholderRte(const char *aliasName, List *columnNames,
						 List *columnExprs, int planIndex)
{
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	RangeTblFunction *rtfunc = makeNode(RangeTblFunction);
	FuncExpr   *call;
	ListCell   *lc;

	call = makeFuncExpr(DistributedResultFunctionId(), RECORDOID,
						list_make1(makeConst(INT4OID, -1, InvalidOid,
											 sizeof(int32),
											 Int32GetDatum(planIndex),
											 false, true)),
						InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	call->funcretset = true;

	rtfunc->funcexpr = (Node *) call;
	rtfunc->funccolcount = list_length(columnExprs);
	rtfunc->funccolnames = NIL;
	foreach(lc, columnNames)
		rtfunc->funccolnames = lappend(rtfunc->funccolnames,
									   makeString(pstrdup(lfirst(lc))));
	foreach(lc, columnExprs)
	{
		Node	   *expr = lfirst(lc);

		rtfunc->funccoltypes = lappend_oid(rtfunc->funccoltypes,
										   exprType(expr));
		rtfunc->funccoltypmods = lappend_int(rtfunc->funccoltypmods,
											 exprTypmod(expr));
		rtfunc->funccolcollations = lappend_oid(rtfunc->funccolcollations,
												exprCollation(expr));
	}

	rte->rtekind = RTE_FUNCTION;
	rte->functions = list_make1(rtfunc);
	rte->alias = makeAlias(aliasName, NIL);
	rte->eref = makeAlias(aliasName, rtfunc->funccolnames);
	rte->inFromCl = true;
	rte->requiredPerms = 0;
	return rte;
}

/*
 * OutputColumnNames names the columns of a target list.
 */
static List *
OutputColumnNames(List *outputList, List **exprs)
{
	List	   *names = NIL;
	ListCell   *lc;
	int			position = 0;

	*exprs = NIL;
	foreach(lc, outputList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		position++;
		names = lappend(names, tle->resname ? tle->resname :
						psprintf("column%d", position));
		*exprs = lappend(*exprs, tle->expr);
	}
	return names;
}

/*
 * BuildDirectPlannedStmt wraps a distributed plan into a PlannedStmt whose
 * plan is one custom scan producing the non-junk entries of outputList.
 */
static PlannedStmt *
BuildDirectPlannedStmt(Query *parse, DistributedPlan *plan, List *outputList,
					   int cursorOptions, List *permissionRtes)
{
	PlannedStmt *result = makeNode(PlannedStmt);
	List	   *rtable = list_concat(list_copy(parse->rtable), permissionRtes);
	List	   *exprs;
	List	   *names = OutputColumnNames(outputList, &exprs);
	RangeTblEntry *placeholder;
	Index		placeholderIndex;
	List	   *targetList = NIL;
	List	   *scanTargetList = NIL;
	ListCell   *nameCell;
	ListCell   *exprCell;
	ListCell   *tleCell;
	AttrNumber	attno = 0;
	CustomScan *scan;
	Plan	   *topPlan;
	RangeTblEntry *distRte = rt_fetch(1, parse->rtable);

	placeholder = MakeResultPlaceholderRte(distRte->eref->aliasname, names,
										   exprs, -1);
	rtable = lappend(rtable, placeholder);
	placeholderIndex = list_length(rtable);

	tleCell = list_head(outputList);
	forboth(nameCell, names, exprCell, exprs)
	{
		Node	   *expr = lfirst(exprCell);
		TargetEntry *original;
		TargetEntry *tle;
		Var		   *scanVar;

		/* the next non-junk output entry, for its origin columns */
		while (((TargetEntry *) lfirst(tleCell))->resjunk)
			tleCell = lnext(outputList, tleCell);
		original = lfirst(tleCell);
		tleCell = lnext(outputList, tleCell);

		attno++;
		scanVar = makeVar(placeholderIndex, attno, exprType(expr),
						  exprTypmod(expr), exprCollation(expr), 0);
		scanTargetList = lappend(scanTargetList,
								 makeTargetEntry((Expr *) scanVar, attno,
												 pstrdup(lfirst(nameCell)),
												 false));
		tle = makeTargetEntry((Expr *) makeVar(INDEX_VAR, attno,
											   exprType(expr),
											   exprTypmod(expr),
											   exprCollation(expr), 0),
							  attno, original->resname, false);
		tle->resorigtbl = original->resorigtbl;
		tle->resorigcol = original->resorigcol;
		targetList = lappend(targetList, tle);
	}

	scan = MakeDistributedScan(plan, targetList, scanTargetList);
	topPlan = &scan->scan.plan;
	if (cursorOptions & CURSOR_OPT_SCROLL)
		topPlan = materialize_finished_plan(topPlan);

	result->commandType = parse->commandType;
	result->queryId = parse->queryId;
	result->hasReturning = (parse->returningList != NIL);
	result->hasModifyingCTE = false;
	result->canSetTag = parse->canSetTag;
	result->transientPlan = false;
	result->dependsOnRole = false;
	result->parallelModeNeeded = false;
	result->jitFlags = 0;
	result->planTree = topPlan;
	result->rtable = rtable;
	result->resultRelations = NIL;
	result->appendRelations = NIL;
	result->subplans = NIL;
	result->rewindPlanIDs = NULL;
	result->rowMarks = NIL;
	result->relationOids = list_make1_oid(plan->relid);
	foreach(tleCell, rtable)
	{
		RangeTblEntry *rte = lfirst(tleCell);

		if (rte->rtekind == RTE_RELATION)
			result->relationOids = list_append_unique_oid(result->relationOids,
														  rte->relid);
	}
	result->invalItems = NIL;
	result->paramExecTypes = NIL;
	result->utilityStmt = NULL;
	result->stmt_location = parse->stmt_location;
	result->stmt_len = parse->stmt_len;
	return result;
}

/*
 * AddSelectPlanDependencies makes a statement's plan depend on what the
 * plan of the SELECT it runs first depends on, so that both are replanned
 * together.
 */
static void
AddSelectPlanDependencies(PlannedStmt *result, PlannedStmt *selectPlan)
{
	result->relationOids = list_concat(result->relationOids,
									   selectPlan->relationOids);
	result->invalItems = list_concat(result->invalItems,
									 list_copy(selectPlan->invalItems));
}

/*
 * PlanViaCoordinator plans an UPDATE or DELETE on a distributed table
 * that the shards cannot run shard by shard: the coordinator selects the
 * target rows first (modify_via_coordinator.c).
 */
static PlannedStmt *
PlanViaCoordinator(Query *parse, int cursorOptions, ParamListInfo boundParams)
{
	DistributedPlan *plan = PlanModifyViaCoordinator(parse, boundParams);
	PlannedStmt *result = BuildDirectPlannedStmt(parse, plan,
												 parse->returningList,
												 cursorOptions, NIL);

	AddSelectPlanDependencies(result, plan->selectPlan);
	return result;
}

/*
 * IsColumnOf: whether an expression is the column attnum of
 * range table entry varno (perhaps relabelled), at the current level.
 */
bool
IsColumnOf(Node *expr, Index varno, AttrNumber attnum)
{
	while (expr != NULL && IsA(expr, RelabelType))
		expr = (Node *) ((RelabelType *) expr)->arg;
	return expr != NULL && IsA(expr, Var) && ((Var *) expr)->varno == varno &&
		((Var *) expr)->varattno == attnum &&
		((Var *) expr)->varlevelsup == 0;
}

/*
 * WhereConjuncts returns the statement's WHERE clause as a list of AND-ed
 * conditions.
 */
static List *
WhereConjuncts(Query *parse)
{
	Node	   *quals = parse->jointree->quals;

	if (quals == NULL)
		return NIL;
	return make_ands_implicit((Expr *) quals);
}

/*
 * DistributionColumnKept returns whether assignments (of an UPDATE or of
 * ON CONFLICT DO UPDATE) give the distribution column nothing but the
 * row's own value -- the target's column, or EXCLUDED's, which is equal
 * since the conflict target includes it; otherwise the row may have to
 * move to another shard.
 */
static bool
DistributionColumnKept(List *targetList, DistTableCacheEntry *entry,
					   Index resultRelation, Index excludedRelation)
{
	ListCell   *lc;

	foreach(lc, targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk || tle->resno != entry->distAttnum ||
			IsColumnOf((Node *) tle->expr, resultRelation,
					   entry->distAttnum) ||
			(excludedRelation > 0 &&
			 IsColumnOf((Node *) tle->expr, excludedRelation,
						entry->distAttnum)))
			continue;
		return false;
	}
	return true;
}

/*
 * CheckReferenceTableWrite refuses an UPDATE or DELETE on a reference table
 * that calls volatile functions: every copy would compute its own values
 * (or pick its own rows), and the copies would differ.  Stable values
 * without columns, such as now(), are computed once on the coordinator
 * (parameterize_constants.c) and are fine.
 */
static void
CheckReferenceTableWrite(Query *parse, DistTableCacheEntry *entry)
{
	if (contain_volatile_functions((Node *) parse->targetList) ||
		contain_volatile_functions((Node *) parse->jointree))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot call volatile functions in %s on reference table \"%s\"",
						parse->commandType == CMD_UPDATE ? "UPDATE" : "DELETE",
						get_rel_name(entry->relid)),
				 errdetail("Each copy of the table would compute its own values.")));
}

/*
 * PlanReferenceTableSelect plans a SELECT whose relations are all
 * reference tables, joined in any way the shard deparser can print: one
 * copy runs it whole, as a router query.  Returns NULL when the statement
 * does not qualify; it is then planned like any other (pull_up_planner.c
 * reads each reference table from one copy).
 */
static PlannedStmt *
PlanReferenceTableSelect(Query *parse, int cursorOptions)
{
	Oid			firstRelid = InvalidOid;
	Query	   *query;
	ListCell   *lc;
	DistributedPlan *plan;

	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_JOIN)
			continue;
		if (rte->rtekind != RTE_RELATION || !IsReferenceTable(rte->relid))
			return NULL;
		if (!OidIsValid(firstRelid))
			firstRelid = rte->relid;
	}
	if (!OidIsValid(firstRelid) || ContainsSequenceFunctions((Node *) parse))
		return NULL;

	/* join alias references become references to the tables' columns */
	query = copyObject(parse);
	FlattenJoinAliasReferences(query);
	if (!QueryIsDeparsable(query))
		return NULL;

	plan = MakeShipQueryPlan(firstRelid, query, list_make1_int(0), NULL,
							 query->rowMarks != NIL, true);
	return BuildDirectPlannedStmt(parse, plan, parse->targetList,
								  cursorOptions, NIL);
}

/*
 * CheckOnConflict checks an INSERT's ON CONFLICT clause for a distributed
 * table: its conflict target, when given, must include the distribution
 * column (a conflicting row is then in the shard the new row goes to), and
 * DO UPDATE must keep the distribution column and evaluate nothing the
 * shards cannot (subqueries, sequences).
 */
static void
CheckOnConflict(Query *parse, DistTableCacheEntry *entry)
{
	OnConflictExpr *onConflict = parse->onConflict;
	const char *distColumn;
	bool		targetsDistColumn = false;
	ListCell   *lc;

	if (onConflict == NULL)
		return;

	/*
	 * Every copy of a reference table holds every row: any conflict target
	 * works, but each copy must compute the same update.
	 */
	if (IsReferenceTableEntry(entry))
	{
		if (contain_volatile_functions((Node *) onConflict))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot call volatile functions in ON CONFLICT on reference table \"%s\"",
							get_rel_name(entry->relid)),
					 errdetail("Each copy of the table would compute its own values.")));
		return;
	}

	distColumn = get_attname(entry->relid, entry->distAttnum, false);
	foreach(lc, onConflict->arbiterElems)
	{
		InferenceElem *elem = lfirst(lc);

		if (IsColumnOf(elem->expr, parse->resultRelation, entry->distAttnum))
			targetsDistColumn = true;
	}
	if (OidIsValid(onConflict->constraint))
	{
		Bitmapset  *columns = NULL;
		Oid			indexId = InvalidOid;

		columns = get_relation_constraint_attnos(entry->relid,
												 get_constraint_name(onConflict->constraint),
												 false, &indexId);
		targetsDistColumn = bms_is_member(entry->distAttnum -
										  FirstLowInvalidHeapAttributeNumber,
										  columns);
	}
	if ((onConflict->arbiterElems != NIL ||
		 OidIsValid(onConflict->constraint)) && !targetsDistColumn)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot use ON CONFLICT on distributed table \"%s\" without the distribution column \"%s\" in the conflict target",
						get_rel_name(entry->relid), distColumn),
				 errdetail("Conflicts are detected in each shard, so the conflict target must include the distribution column.")));
	if (onConflict->action != ONCONFLICT_UPDATE)
		return;

	if (!DistributionColumnKept(onConflict->onConflictSet, entry,
								parse->resultRelation, onConflict->exclRelIndex))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot modify the distribution column \"%s\" of table \"%s\"",
						distColumn, get_rel_name(entry->relid)),
				 errdetail("Rows cannot move between shards yet."),
				 errhint("Delete the row and insert it with the new value.")));
	if (contain_subplans((Node *) onConflict) ||
		ContainsSequenceFunctions((Node *) onConflict))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ON CONFLICT DO UPDATE on a distributed table cannot use subqueries or sequence functions")));
}

/*
 * PlanShippedStatement plans a single-table SELECT, UPDATE or DELETE that
 * the shards can run whole.  For a SELECT it returns NULL when that is not
 * possible (or when the filters do not pin a single shard) and the caller
 * plans it otherwise; UPDATE and DELETE it ships to every shard their
 * filters allow, or refuses clearly.
 */
PlannedStmt *
PlanShippedStatement(Query *parse, int cursorOptions, ParamListInfo boundParams)
{
	bool		isSelect = (parse->commandType == CMD_SELECT);
	DistTableCacheEntry *entry = NULL;
	DistributedPlan *plan;
	PruningResult pruning;
	RangeTblEntry *rte;

	if (isSelect && !IsTransferableOutput(parse->targetList))
		return NULL;

	/* joins of reference tables only run on one copy */
	if (isSelect && list_length(parse->rtable) > 1)
		return PlanReferenceTableSelect(parse, cursorOptions);

	if (!isSelect)
	{
		entry = LookupDistTable(rt_fetch(1, parse->rtable)->relid);
		if (IsReferenceTableEntry(entry))
			CheckReferenceTableWrite(parse, entry);
		else if (!DistributionColumnKept(parse->targetList, entry,
										 parse->resultRelation, 0))
			return PlanViaCoordinator(parse, cursorOptions, boundParams);
	}

	/* UPDATE ... FROM, DELETE ... USING: see modify_pushdown.c */
	if (!isSelect && (list_length(parse->rtable) > 1 || parse->hasSubLinks) &&
		parse->cteList == NIL && !ContainsSequenceFunctions((Node *) parse))
	{
		List	   *permissionRtes;
		bool		refused = false;

		plan = PlanColocatedModify(parse, boundParams, &permissionRtes,
								   IsReferenceTableEntry(entry) ? NULL :
								   &refused);
		if (refused)
			return PlanViaCoordinator(parse, cursorOptions, boundParams);
		return BuildDirectPlannedStmt(parse, plan, parse->returningList,
									  cursorOptions, permissionRtes);
	}

	/* other joins go through join_pushdown.c, which checks co-location */
	if (!QueryIsDeparsable(parse) || list_length(parse->rtable) != 1 ||
		ContainsSequenceFunctions((Node *) parse))
	{
		if (isSelect)
			return NULL;
		if (!IsReferenceTableEntry(entry))
			return PlanViaCoordinator(parse, cursorOptions, boundParams);
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("this form of %s on a distributed table is not supported yet",
						parse->commandType == CMD_UPDATE ? "UPDATE" : "DELETE"),
				 errdetail("UPDATE and DELETE on distributed tables cannot yet use subqueries, CTEs or sequence functions.")));
	}

	rte = rt_fetch(1, parse->rtable);
	entry = LookupDistTable(rte->relid);
	if (entry == NULL)
		return NULL;

	pruning = PruneShards(entry, WhereConjuncts(parse), boundParams);

	/* a SELECT goes whole only to a single shard */
	if (isSelect && pruning.pruneValue == NULL &&
		list_length(pruning.shardIndexes) != 1)
		return NULL;

	plan = MakeShipQueryPlan(rte->relid, copyObject(parse),
							 pruning.shardIndexes, pruning.pruneValue,
							 !isSelect || parse->rowMarks != NIL,
							 isSelect || parse->returningList != NIL);

	return BuildDirectPlannedStmt(parse, plan,
								  isSelect ? parse->targetList :
								  parse->returningList,
								  cursorOptions, NIL);
}

/*
 * PlanColocatedInsertSelect plans INSERT INTO t SELECT ... FROM s, where s
 * is co-located with t and the SELECT gives t's distribution column s's
 * distribution column: every row stays in the same shard index, so each
 * shard of s inserts into the shard of t with the same index, on its node.
 * Returns NULL when the statement does not qualify.
 */
static DistributedPlan *
PlanColocatedInsertSelect(Query *parse, RangeTblEntry *selectRte,
						  ParamListInfo boundParams)
{
	Query	   *select = selectRte->subquery;
	Index		selectIndex = 0;
	DistTableCacheEntry *target = LookupDistTable(rt_fetch(1, parse->rtable)->relid);
	DistTableCacheEntry *source;
	RangeTblEntry *sourceRte;
	Index		sourceIndex;
	Query	   *shifted;
	Query	   *insert;
	ListCell   *lc;
	bool		distributionColumnKept = false;
	PruningResult pruning;

	if (select->commandType != CMD_SELECT || select->cteList != NIL ||
		select->setOperations != NULL || select->hasSubLinks ||
		select->hasAggs || select->hasWindowFuncs || select->hasTargetSRFs ||
		select->groupClause != NIL || select->groupingSets != NIL ||
		select->havingQual != NULL || select->distinctClause != NIL ||
		select->sortClause != NIL || select->limitCount != NULL ||
		select->limitOffset != NULL || select->rowMarks != NIL ||
		list_length(select->jointree->fromlist) != 1 ||
		!IsA(linitial(select->jointree->fromlist), RangeTblRef))
		return NULL;
	sourceIndex = ((RangeTblRef *) linitial(select->jointree->fromlist))->rtindex;
	sourceRte = rt_fetch(sourceIndex, select->rtable);
	if (sourceRte->rtekind != RTE_RELATION || sourceRte->tablesample != NULL)
		return NULL;
	source = LookupDistTable(sourceRte->relid);
	if (source == NULL || target == NULL ||
		IsReferenceTableEntry(source) || IsReferenceTableEntry(target) ||
		source->colocationId != target->colocationId ||
		(select->jointree->quals != NULL &&
		 !IsShippableFilter(select->jointree->quals)))
		return NULL;

	foreach(lc, parse->rtable)
	{
		if (lfirst(lc) == selectRte)
			selectIndex = foreach_current_index(lc) + 1;
	}

	/* the SELECT's tables come after the target in the shard statement */
	shifted = copyObject(select);
	OffsetVarNodes((Node *) shifted, 1, 0);

	insert = makeNode(Query);
	insert->commandType = CMD_INSERT;
	insert->querySource = QSRC_ORIGINAL;
	insert->canSetTag = true;
	insert->resultRelation = 1;
	insert->rtable = lcons(copyObject(rt_fetch(1, parse->rtable)),
						   shifted->rtable);
	insert->jointree = shifted->jointree;
	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = flatCopyTargetEntry(lfirst(lc));
		Node	   *expr;

		if (tle->resjunk)
			continue;
		expr = ReplaceVarsFromTargetList(copyObject((Node *) tle->expr),
										 selectIndex, 0, selectRte,
										 shifted->targetList,
										 REPLACEVARS_REPORT_ERROR, 0, NULL);
		if (!IsShippableFilter(expr))
			return NULL;
		tle->expr = (Expr *) expr;
		if (tle->resno == target->distAttnum)
		{
			Node	   *value = expr;

			while (IsA(value, RelabelType))
				value = (Node *) ((RelabelType *) value)->arg;
			distributionColumnKept = IsA(value, Var) &&
				((Var *) value)->varno == sourceIndex + 1 &&
				((Var *) value)->varlevelsup == 0 &&
				((Var *) value)->varattno == source->distAttnum;
		}
		insert->targetList = lappend(insert->targetList, tle);
	}
	if (!distributionColumnKept)
		return NULL;

	/* ON CONFLICT's EXCLUDED and RETURNING come along, EXCLUDED last */
	insert->returningList = copyObject(parse->returningList);
	if (parse->onConflict != NULL && parse->onConflict->exclRelIndex > 0)
	{
		OnConflictExpr *onConflict = copyObject(parse->onConflict);
		Index		exclRelIndex = list_length(insert->rtable) + 1;

		insert->rtable = lappend(insert->rtable,
								 copyObject(rt_fetch(onConflict->exclRelIndex,
													 parse->rtable)));
		ChangeVarNodes((Node *) onConflict, onConflict->exclRelIndex,
					   exclRelIndex, 0);
		onConflict->exclRelIndex = exclRelIndex;
		insert->onConflict = onConflict;
	}
	else
		insert->onConflict = copyObject(parse->onConflict);
	if (!QueryIsDeparsable(insert))
		return NULL;

	/* the source's conditions prune the shards of both */
	{
		List	   *conditions = NIL;

		if (select->jointree->quals != NULL)
			conditions = make_ands_implicit((Expr *) copyObject(select->jointree->quals));
		foreach(lc, conditions)
			ChangeVarNodes(lfirst(lc), sourceIndex, 1, 0);
		pruning = PruneShards(source, conditions, boundParams);
	}
	return MakeShipQueryPlan(target->relid, insert, pruning.shardIndexes,
							 pruning.pruneValue, true,
							 insert->returningList != NIL);
}

/*
 * QueryReadsRelation: whether the query reads the relation anywhere: in
 * its FROM clause, a subquery, a CTE or a view (views are expanded by
 * now).
 */
static bool
QueryReadsRelation(Query *query, Oid relid)
{
	List	   *relations = NIL;
	ListCell   *lc;
	bool		found = false;

	NestedRelationsWalker((Node *) query, &relations);
	foreach(lc, relations)
	{
		if (((RangeTblEntry *) lfirst(lc))->relid == relid)
			found = true;
	}
	list_free(relations);
	return found;
}

/*
 * PlanDistributedInsert plans INSERT ... VALUES (one row or many), INSERT
 * ... DEFAULT VALUES and INSERT ... SELECT into a distributed table.  The
 * rows are evaluated on the coordinator when the statement runs -- so
 * defaults, sequences and volatile functions are computed once, there --
 * and each is sent to the shard its distribution value hashes to.
 */
PlannedStmt *
PlanDistributedInsert(Query *parse, int cursorOptions,
					  ParamListInfo boundParams)
{
	DistributedPlan *plan;
	RangeTblEntry *selectRte = NULL;
	ListCell   *lc;
	PlannedStmt *result;

	DistTableCacheEntry *entry = LookupDistTable(rt_fetch(1, parse->rtable)->relid);
	Index		exclRelIndex;

	if (parse->resultRelation != 1)
		elog(ERROR, "unexpected result relation %d in INSERT",
			 parse->resultRelation);

	/* rows computed with subqueries or CTEs: an INSERT ... SELECT */
	if (parse->cteList != NIL || parse->hasSubLinks)
		parse = RewriteInsertAsSelect(parse);
	exclRelIndex = parse->onConflict ? parse->onConflict->exclRelIndex : 0;
	CheckOnConflict(parse, entry);
	if (parse->hasSubLinks)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot use subqueries in RETURNING of an INSERT into distributed table \"%s\"",
						get_rel_name(entry->relid)),
				 errdetail("RETURNING is computed by the shards.")));

	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (foreach_current_index(lc) == 0 || rte->rtekind == RTE_VALUES ||
			foreach_current_index(lc) + 1 == exclRelIndex)
			continue;
		if (rte->rtekind == RTE_SUBQUERY && selectRte == NULL)
			selectRte = rte;
		else
			elog(ERROR, "unexpected range table entry in INSERT");
	}

	plan = palloc0(sizeof(DistributedPlan));
	plan->kind = DIST_PLAN_INSERT_VALUES;
	plan->relid = rt_fetch(1, parse->rtable)->relid;
	plan->query = copyObject(parse);
	plan->isWrite = true;
	plan->expectsRows = (parse->returningList != NIL);
	plan->isRouter = false;

	/*
	 * DO UPDATE runs on the shards; the values in it the coordinator decides
	 * (now(), the statement's parameters) are sent as parameters, numbered
	 * before the rows' values.
	 */
	if (parse->onConflict != NULL)
	{
		plan->firstValueParam = MaxExternParamId((Node *) parse) + 1;
		plan->query->onConflict = (OnConflictExpr *)
			ParameterizeExpression((Node *) plan->query->onConflict,
								   plan->firstValueParam, false,
								   &plan->valueParams);
	}

	if (selectRte != NULL)
	{
		/*
		 * INSERT ... SELECT: the SELECT is planned on its own (distributed
		 * or not) and its rows are streamed into the shards (with COPY, or
		 * as INSERTs for ON CONFLICT and RETURNING: insert_select.c).
		 */
		DistributedPlan *colocatedPlan;

		colocatedPlan = PlanColocatedInsertSelect(parse, selectRte,
												  boundParams);
		if (colocatedPlan != NULL)
			return BuildDirectPlannedStmt(parse, colocatedPlan,
										  parse->returningList,
										  cursorOptions,
										  copyObject(selectRte->subquery->rtable));
		plan->kind = DIST_PLAN_INSERT_SELECT;
		plan->selectPlan = planner(copyObject(selectRte->subquery), NULL, 0,
								   boundParams);
		plan->selectReadsTarget = QueryReadsRelation(selectRte->subquery,
													 plan->relid);
	}

	result = BuildDirectPlannedStmt(parse, plan, parse->returningList,
									cursorOptions, NIL);
	if (plan->selectPlan != NULL)
		AddSelectPlanDependencies(result, plan->selectPlan);
	return result;
}
