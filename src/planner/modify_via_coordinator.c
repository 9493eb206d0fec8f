/*-------------------------------------------------------------------------
 *
 * modify_via_coordinator.c
 *	  Plans for the UPDATE and DELETE statements on a distributed table that
 *	  cannot run shard by shard: the coordinator selects the target rows
 *	  first, then writes them by ctid.
 *
 * An UPDATE or DELETE whose other tables or subqueries the shards cannot
 * evaluate for their own rows (local tables, distributed tables that are
 * not co-located, subqueries over them correlated with the statement's
 * rows, SET (a, b) = (SELECT ...), row comparisons with subqueries, CTEs,
 * sequence functions), or that gives the distribution column a new value,
 * runs in two steps:
 *
 *	1. a SELECT derived from the statement -- the same range table, FROM
 *	   and WHERE clauses -- planned like any other distributed SELECT (the
 *	   pull-up path reads each table's filtered rows from the shards, and
 *	   PostgreSQL plans the joins and subqueries on the coordinator)
 *	   returns for each target row its distribution column (which names
 *	   its shard), its ctid in that shard, the new values of the columns
 *	   SET assigns -- of every column when the distribution column changes,
 *	   since the row may move to another shard -- and the other tables'
 *	   columns RETURNING reads;
 *	2. the executor (executor/modify_via_coordinator.c) writes those rows
 *	   by ctid on their shards, all shards in parallel, in the distributed
 *	   transaction, and fails with a serialization error when a row changed
 *	   in between.
 *
 * SET (a, b) = (SELECT x, y ...) becomes a = (SELECT s.x FROM (SELECT x,
 * y ...) s), b = (SELECT s.y FROM ...) in the SELECT: the same values, the
 * subquery evaluated once per column.  RETURNING is computed on the coordinator, over the row each
 * shard returns (the new row of an UPDATE, the old row of a DELETE)
 * followed by the other tables' columns the SELECT returned; its
 * expressions are rewritten here to read such a row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/sysattr.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "distdb/planner_internal.h"

/* context of the RETURNING rewriter */
typedef struct ReturningContext
{
	Index		targetIndex;	/* the statement's target relation */
	Oid			targetRelid;
	int			targetColumns;	/* attributes of the target, dropped ones
								 * included */
	List	   *others;			/* Vars of other relations RETURNING reads */
} ReturningContext;

/*
 * RefuseViaCoordinator raises the error for a form this path does not
 * support.
 */
static void
RefuseViaCoordinator(Query *parse, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot run this %s on distributed table \"%s\"",
					parse->commandType == CMD_UPDATE ? "UPDATE" : "DELETE",
					get_rel_name(rt_fetch(parse->resultRelation,
										  parse->rtable)->relid)),
			 errdetail("%s", detail)));
}

/*
 * ReplaceMultiExprParams is the mutator replacing the PARAM_MULTIEXPR
 * Params of SET (a, b) = (SELECT x, y ...) -- which stand for a column of
 * the row of a MULTIEXPR sublink kept as a junk target entry -- by a
 * scalar subquery returning that column (see the file header).
 */
static Node *
ReplaceMultiExprParams(Node *node, List *multiSubLinks)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_MULTIEXPR)
	{
		Param	   *param = (Param *) node;
		int			subLinkId = param->paramid >> 16;
		AttrNumber	columnNumber = param->paramid & 0xFFFF;
		ListCell   *lc;

		foreach(lc, multiSubLinks)
		{
			SubLink    *multi = lfirst(lc);
			Query	   *subquery;
			Query	   *column;
			RangeTblEntry *rte;
			TargetEntry *tle;
			List	   *names = NIL;
			SubLink    *scalar;
			ListCell   *tlc;

			if (multi->subLinkId != subLinkId)
				continue;

			/*
			 * SELECT s.column FROM (the subquery) s: the subquery stays
			 * whole (marking its other outputs junk would drop them, and
			 * their aggregates, from the text sent to the shards), one
			 * level further down.
			 */
			subquery = copyObject((Query *) multi->subselect);
			IncrementVarSublevelsUp((Node *) subquery, 1, 1);
			foreach(tlc, subquery->targetList)
			{
				TargetEntry *each = lfirst(tlc);

				if (!each->resjunk)
					names = lappend(names,
									makeString(pstrdup(each->resname ?
													   each->resname :
													   "column")));
			}
			tle = get_tle_by_resno(subquery->targetList, columnNumber);
			if (tle == NULL)
				elog(ERROR, "multiple-assignment column %d not found",
					 columnNumber);

			rte = MakeSubqueryRte(subquery, "multiple_assignment", names, true);
			column = MakeSingleTableWorkerQuery(rte, NULL);
			column->targetList =
				list_make1(makeTargetEntry((Expr *) makeVar(1, columnNumber,
															exprType((Node *) tle->expr),
															exprTypmod((Node *) tle->expr),
															exprCollation((Node *) tle->expr),
															0),
										   1, pstrdup(strVal(list_nth(names, columnNumber - 1))),
										   false));

			scalar = makeNode(SubLink);
			scalar->subLinkType = EXPR_SUBLINK;
			scalar->subLinkId = 0;
			scalar->subselect = (Node *) column;
			scalar->location = -1;
			return (Node *) scalar;
		}
		elog(ERROR, "multiple-assignment subquery %d not found", subLinkId);
	}
	return expression_tree_mutator(node, ReplaceMultiExprParams,
								   multiSubLinks);
}

/*
 * RewriteReturningMutator rewrites the RETURNING expressions to read the
 * row the executor builds: the target's attributes, then the other
 * relations' columns (collected in context->others, which the SELECT
 * returns).
 */
static Node *
RewriteReturningMutator(Node *node, ReturningContext *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var) && ((Var *) node)->varlevelsup == 0)
	{
		Var		   *var = (Var *) node;
		Var		   *result;
		ListCell   *lc;
		int			position = 0;

		if (var->varno == context->targetIndex)
		{
			if (var->varattno <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot return whole-row or system columns of distributed table \"%s\" from this statement",
								get_rel_name(context->targetRelid)),
						 errhint("List the columns.")));
			result = copyObject(var);
			result->varno = 1;
			result->varnosyn = 0;
			result->varattnosyn = 0;
			return (Node *) result;
		}
		foreach(lc, context->others)
		{
			if (equal(lfirst(lc), var))
				position = foreach_current_index(lc) + 1;
		}
		if (position == 0)
		{
			context->others = lappend(context->others, copyObject(var));
			position = list_length(context->others);
		}
		return (Node *) makeVar(1, context->targetColumns + position,
								var->vartype, var->vartypmod,
								var->varcollid, 0);
	}
	return expression_tree_mutator(node, RewriteReturningMutator, context);
}

/* adds an output column to a SELECT's target list */
static void
AddOutput(List **targetList, Expr *expr, const char *name)
{
	*targetList = lappend(*targetList,
						  makeTargetEntry(expr, list_length(*targetList) + 1,
										  pstrdup(name), false));
}

/*
 * PlanModifyViaCoordinator plans an UPDATE or DELETE on a distributed table
 * through the coordinator (see the file header).
 */
DistributedPlan *
PlanModifyViaCoordinator(Query *parse, ParamListInfo boundParams)
{
	Query	   *select = copyObject(parse);
	Index		rti = parse->resultRelation;
	Oid			relid = rt_fetch(rti, parse->rtable)->relid;
	DistTableCacheEntry *entry = LookupDistTable(relid);
	DistributedPlan *plan = palloc0(sizeof(DistributedPlan));
	Relation	relation;
	TupleDesc	tupleDesc;
	List	   *multiSubLinks = NIL;
	List	   *setEntries = NIL;
	List	   *targetList = NIL;
	List	   *returningList;
	ReturningContext context;
	Form_pg_attribute distAttr;
	AttrNumber	attno;
	ListCell   *lc;

	if (entry == NULL || IsReferenceTableEntry(entry))
		elog(ERROR, "only distributed tables are modified via the coordinator");
	if (parse->hasModifyingCTE)
		RefuseViaCoordinator(parse, "Data-modifying statements in WITH are not supported.");

	plan->kind = DIST_PLAN_MODIFY_VIA_COORDINATOR;
	plan->relid = relid;
	plan->isWrite = true;
	plan->expectsRows = (parse->returningList != NIL);

	relation = relation_open(relid, NoLock);
	tupleDesc = RelationGetDescr(relation);
	distAttr = TupleDescAttr(tupleDesc, entry->distAttnum - 1);

	foreach(lc, select->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (!tle->resjunk)
			setEntries = lappend(setEntries, tle);
		else if (IsA(tle->expr, SubLink) &&
				 ((SubLink *) tle->expr)->subLinkType == MULTIEXPR_SUBLINK)
			multiSubLinks = lappend(multiSubLinks, tle->expr);
	}

	/* the SELECT returns the row's shard and ctid, then the new values */
	AddOutput(&targetList,
			  (Expr *) makeVar(rti, entry->distAttnum, distAttr->atttypid,
							   distAttr->atttypmod, distAttr->attcollation, 0),
			  "distribution_value");
	AddOutput(&targetList,
			  (Expr *) makeVar(rti, SelfItemPointerAttributeNumber, TIDOID,
							   -1, InvalidOid, 0),
			  "ctid");
	foreach(lc, setEntries)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resno == entry->distAttnum &&
			!IsColumnOf((Node *) tle->expr, rti, entry->distAttnum))
			plan->movesRows = true;
		plan->modifyColumns = lappend_int(plan->modifyColumns, tle->resno);
		AddOutput(&targetList,
				  (Expr *) ReplaceMultiExprParams((Node *) tle->expr,
												  multiSubLinks),
				  tle->resname ? tle->resname : "value");
	}

	/* a row that moves is inserted whole into its new shard */
	if (plan->movesRows)
	{
		if (tupleDesc->constr != NULL &&
			tupleDesc->constr->has_generated_stored)
			RefuseViaCoordinator(parse, "Rows of a table with generated columns cannot move between shards yet.");
		for (attno = 1; attno <= tupleDesc->natts; attno++)
		{
			Form_pg_attribute attr = TupleDescAttr(tupleDesc, attno - 1);

			if (attr->attisdropped ||
				list_member_int(plan->modifyColumns, attno))
				continue;
			plan->modifyColumns = lappend_int(plan->modifyColumns, attno);
			AddOutput(&targetList,
					  (Expr *) makeVar(rti, attno, attr->atttypid,
									   attr->atttypmod, attr->attcollation, 0),
					  NameStr(attr->attname));
		}
	}

	/*
	 * The values travel to the shards as arrays expanded by unnest(), which
	 * would expand composite values into columns.
	 */
	foreach(lc, plan->modifyColumns)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, lfirst_int(lc) - 1);

		if (type_is_rowtype(attr->atttypid) ||
			!OidIsValid(get_array_type(attr->atttypid)))
			RefuseViaCoordinator(parse,
								 psprintf("Column \"%s\" has a type whose values cannot be sent as an array of its rows yet.",
										  NameStr(attr->attname)));
	}

	/* RETURNING reads the written row and the other tables' columns */
	returningList = (List *) flatten_join_alias_vars(select,
													 (Node *) select->returningList);
	if (checkExprHasSubLink((Node *) returningList))
		RefuseViaCoordinator(parse, "RETURNING cannot use subqueries in this statement yet.");
	context.targetIndex = rti;
	context.targetRelid = relid;
	context.targetColumns = tupleDesc->natts;
	context.others = NIL;
	plan->query = copyObject(parse);
	plan->query->returningList = (List *)
		RewriteReturningMutator((Node *) returningList, &context);
	foreach(lc, context.others)
		AddOutput(&targetList, lfirst(lc), "returning_value");
	relation_close(relation, NoLock);

	select->commandType = CMD_SELECT;
	select->resultRelation = 0;
	select->returningList = NIL;
	select->targetList = targetList;
	select->hasTargetSRFs = false;
	plan->selectPlan = planner(select, NULL, 0, boundParams);
	return plan;
}
