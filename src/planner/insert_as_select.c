/*-------------------------------------------------------------------------
 *
 * insert_as_select.c
 *	  Turns an INSERT into a distributed table whose rows need subqueries
 *	  or CTEs into an INSERT ... SELECT.
 *
 * The rows of INSERT ... VALUES are evaluated on the coordinator, but the
 * VALUES path (distributed_scan.c) evaluates plain expressions only.  A
 * VALUES list (or a single row) with scalar subqueries, or any INSERT with
 * a WITH clause, is really a SELECT the coordinator has to run: this
 * module moves everything the statement computes -- its CTEs, its range
 * table but the target, its jointree and the expressions of its target
 * list (VALUES rows, defaults, sequences) -- into a subquery, and leaves
 * the INSERT reading that subquery's columns, exactly the shape the parser
 * gives INSERT ... SELECT.  That statement then takes the INSERT ... SELECT
 * path (insert_select.c): each row is computed once, on the coordinator,
 * and routed to its shard; RETURNING and ON CONFLICT stay on the INSERT.
 *
 * The subquery holds what was the INSERT's query level, so the levels
 * (varlevelsup, ctelevelsup) of everything inside are unchanged; only the
 * range table indexes move down by one, the target leaving the range table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"

#include "distdb/planner_internal.h"

/* where the subquery goes in the new INSERT's range table */
#define SELECT_RTE_INDEX 2

/*
 * RewriteInsertAsSelect returns the INSERT ... SELECT equivalent to parse
 * (an INSERT into a distributed table at range table index 1), see the
 * file header.  The subqueries and CTEs of RETURNING and ON CONFLICT stay
 * on the INSERT, which refuses them later.
 */
Query *
RewriteInsertAsSelect(Query *parse)
{
	Query	   *select = makeNode(Query);
	Query	   *insert = copyObject(parse);
	OnConflictExpr *onConflict = insert->onConflict;
	Index		exclRelIndex = onConflict ? onConflict->exclRelIndex : 0;
	RangeTblEntry *selectRte;
	List	   *columnNames = NIL;
	List	   *insertTargetList = NIL;
	ListCell   *lc;
	int			rtindex = 0;

	select->commandType = CMD_SELECT;
	select->querySource = QSRC_ORIGINAL;
	select->cteList = insert->cteList;
	select->hasRecursive = insert->hasRecursive;
	select->hasSubLinks = insert->hasSubLinks;
	select->hasTargetSRFs = insert->hasTargetSRFs;

	/* every range table entry but the target and EXCLUDED, one index down */
	foreach(lc, insert->rtable)
	{
		rtindex++;
		if (rtindex == 1 || rtindex == exclRelIndex)
			continue;
		if (exclRelIndex > 0 && rtindex > exclRelIndex)
			elog(ERROR, "unexpected range table entry after EXCLUDED in INSERT");
		select->rtable = lappend(select->rtable, lfirst(lc));
	}
	select->jointree = insert->jointree;

	/* the INSERT's values become the subquery's columns */
	foreach(lc, insert->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		int			column = list_length(select->targetList) + 1;
		char	   *name = get_rte_attribute_name(rt_fetch(1, insert->rtable),
												  tle->resno);
		Var		   *var;

		if (tle->resjunk)
			continue;
		select->targetList = lappend(select->targetList,
									 makeTargetEntry(tle->expr, column,
													 name, false));
		columnNames = lappend(columnNames, makeString(name));
		var = makeVar(SELECT_RTE_INDEX, column, exprType((Node *) tle->expr),
					  exprTypmod((Node *) tle->expr),
					  exprCollation((Node *) tle->expr), 0);
		insertTargetList = lappend(insertTargetList,
								   makeTargetEntry((Expr *) var, tle->resno,
												   tle->resname, false));
	}
	OffsetVarNodes((Node *) select, -1, 0);

	selectRte = MakeSubqueryRte(select, "*SELECT*", columnNames, false);

	insert->cteList = NIL;
	insert->hasRecursive = false;
	insert->hasTargetSRFs = false;
	insert->targetList = insertTargetList;
	insert->rtable = list_make2(linitial(insert->rtable), selectRte);
	insert->jointree = makeFromExpr(list_make1(makeNode(RangeTblRef)), NULL);
	((RangeTblRef *) linitial(insert->jointree->fromlist))->rtindex =
		SELECT_RTE_INDEX;
	if (onConflict != NULL && exclRelIndex > 0)
	{
		insert->rtable = lappend(insert->rtable,
								 rt_fetch(exclRelIndex, parse->rtable));
		ChangeVarNodes((Node *) onConflict, exclRelIndex,
					   SELECT_RTE_INDEX + 1, 0);
		onConflict->exclRelIndex = SELECT_RTE_INDEX + 1;
	}
	insert->hasSubLinks = checkExprHasSubLink((Node *) insert->returningList) ||
		checkExprHasSubLink((Node *) onConflict);
	return insert;
}
