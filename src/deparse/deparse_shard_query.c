/*-------------------------------------------------------------------------
 *
 * deparse_shard_query.c
 *	  Generating the SQL of a statement on one distributed table for its
 *	  shards.
 *
 * The statements distdb ships are SELECTs over distributed tables (one, or
 * several co-located ones joined on their distribution columns), UPDATE and
 * DELETE on one distributed table, and INSERT ... VALUES; the planner makes
 * sure of it.  Their clauses are generated here from the query tree;
 * expressions are printed by PostgreSQL's own deparser (deparse_expression)
 * in a context that names every relation by a unique alias.  Since only the
 * relation names differ between shards, a statement is deparsed once into
 * text fragments around the relation names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_operator.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
#include "nodes/plannodes.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "distdb/deparse.h"

/* what deparsing one statement needs */
typedef struct DeparseContext
{
	Query	   *query;
	RangeTblEntry *rte;			/* UPDATE/DELETE/INSERT: the target */
	List	   *dpcontext;		/* deparse_expression's namespace */
	List	   *rtableNames;	/* unique alias of each range table entry */
	bool		forcePrefix;	/* qualify columns: several relations */
	DeparsedShardQuery *deparsed;	/* fragments finished so far */
} DeparseContext;

static void InitDeparseContext(DeparseContext *context, Query *query);
static void NameExcludedRelation(DeparseContext *context, Index exclRelIndex);
static char *DeparseExpr(DeparseContext *context, Node *expr);
static char *DeparseOutputExpr(DeparseContext *context, Node *expr);
static void AppendExprList(DeparseContext *context, StringInfo buf,
						   List *exprs);
static void AppendTargetList(DeparseContext *context, StringInfo buf,
							 List *targetList);
static void AppendSortClause(DeparseContext *context, StringInfo buf,
							 List *sortClause);
static void AppendWhere(DeparseContext *context, StringInfo buf);
static void AppendReturning(DeparseContext *context, StringInfo buf);
static void AppendSelectTail(DeparseContext *context, StringInfo buf);
static void AppendRowMarks(DeparseContext *context, StringInfo buf);

/*
 * NameExcludedRelation makes sure the ON CONFLICT clause's pseudo-relation
 * is called "excluded", as SQL requires: when another relation (a table
 * named excluded) got that name, the two swap their unique names.
 */
static void
NameExcludedRelation(DeparseContext *context, Index exclRelIndex)
{
	ListCell   *lc;
	ListCell   *excludedCell = list_nth_cell(context->rtableNames,
											 exclRelIndex - 1);

	if (strcmp(lfirst(excludedCell), "excluded") == 0)
		return;
	foreach(lc, context->rtableNames)
	{
		char	   *name = lfirst(lc);

		if (name != NULL && strcmp(name, "excluded") == 0)
		{
			lfirst(lc) = lfirst(excludedCell);
			lfirst(excludedCell) = name;
			return;
		}
	}
	lfirst(excludedCell) = pstrdup("excluded");
}

/* InitDeparseContext prepares the namespace for deparsing the query */
static void
InitDeparseContext(DeparseContext *context, Query *query)
{
	PlannedStmt *namespaceStmt = makeNode(PlannedStmt);
	Bitmapset  *relations = NULL;
	ListCell   *lc;
	int			relationCount = 0;

	context->query = query;
	context->rte = rt_fetch(1, query->rtable);
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		relations = bms_add_member(relations, foreach_current_index(lc) + 1);
		if (rte->rtekind == RTE_RELATION)
			relationCount++;
	}
	context->rtableNames = select_rtable_names_for_explain(query->rtable,
														   relations);
	if (query->onConflict != NULL && query->onConflict->exclRelIndex > 0)
		NameExcludedRelation(context, query->onConflict->exclRelIndex);
	namespaceStmt->rtable = query->rtable;
	context->dpcontext = deparse_context_for_plan_tree(namespaceStmt,
													   context->rtableNames);
	context->forcePrefix = relationCount > 1;
	context->deparsed = palloc0(sizeof(DeparsedShardQuery));
}

/*
 * AppendRelation ends the current text fragment at a relation's name: the
 * shard's name goes there.
 */
static void
AppendRelation(DeparseContext *context, StringInfo buf, Index rtindex)
{
	DeparsedShardQuery *deparsed = context->deparsed;

	deparsed->fragments = lappend(deparsed->fragments, pstrdup(buf->data));
	deparsed->relationIndexes = lappend_int(deparsed->relationIndexes,
											rtindex);
	resetStringInfo(buf);
}

/* the alias of a range table entry in the shard query */
static const char *
RelationAlias(DeparseContext *context, Index rtindex)
{
	return quote_identifier(list_nth(context->rtableNames, rtindex - 1));
}

/* DeparseExpr prints one expression */
static char *
DeparseExpr(DeparseContext *context, Node *expr)
{
	return deparse_expression(expr, context->dpcontext, context->forcePrefix,
							  false);
}

/* AppendExprList prints expressions separated by commas */
static void
AppendExprList(DeparseContext *context, StringInfo buf, List *exprs)
{
	ListCell   *lc;
	bool		first = true;

	foreach(lc, exprs)
	{
		if (!first)
			appendStringInfoString(buf, ", ");
		appendStringInfoString(buf, DeparseExpr(context, lfirst(lc)));
		first = false;
	}
}

/*
 * AppendTargetList prints the non-junk entries of a target list: the
 * columns the shard returns, in order.
 */
static void
AppendTargetList(DeparseContext *context, StringInfo buf, List *targetList)
{
	ListCell   *lc;
	bool		first = true;

	foreach(lc, targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		if (!first)
			appendStringInfoString(buf, ", ");
		first = false;

		/*
		 * A whole-row reference is printed as the bare table alias: "t.*"
		 * would expand into the columns.
		 */
		if (IsA(tle->expr, Var) && ((Var *) tle->expr)->varattno == 0 &&
			((Var *) tle->expr)->varlevelsup == 0)
		{
			appendStringInfoString(buf,
								   RelationAlias(context,
												 ((Var *) tle->expr)->varno));
			continue;
		}
		appendStringInfoString(buf, DeparseOutputExpr(context,
													  (Node *) tle->expr));
	}
}

/*
 * SortGroupExprs returns the expressions a list of SortGroupClauses refers
 * to in the query's target list.
 */
static List *
SortGroupExprs(Query *query, List *clauses)
{
	List	   *exprs = NIL;
	ListCell   *lc;

	foreach(lc, clauses)
	{
		SortGroupClause *clause = lfirst(lc);

		exprs = lappend(exprs, get_sortgroupclause_expr(clause,
														query->targetList));
	}
	return exprs;
}

/*
 * QualifiedOperatorName returns OPERATOR(schema.name) for an operator.
 */
static char *
QualifiedOperatorName(Oid operatorId)
{
	HeapTuple	tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(operatorId));
	Form_pg_operator form;
	char	   *result;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for operator %u", operatorId);
	form = (Form_pg_operator) GETSTRUCT(tuple);
	result = psprintf("OPERATOR(%s.%s)",
					  quote_identifier(get_namespace_name(form->oprnamespace)),
					  NameStr(form->oprname));
	ReleaseSysCache(tuple);
	return result;
}

/*
 * AppendSortClause prints an ORDER BY list.  Each item is printed as its
 * expression with an explicit direction (or USING operator) and NULLS
 * placement, so the shard sorts exactly as the coordinator would.
 */
static void
AppendSortClause(DeparseContext *context, StringInfo buf, List *sortClause)
{
	ListCell   *lc;
	bool		first = true;

	foreach(lc, sortClause)
	{
		SortGroupClause *clause = lfirst(lc);
		Node	   *expr = get_sortgroupclause_expr(clause,
													context->query->targetList);
		TypeCacheEntry *typentry =
			lookup_type_cache(exprType(expr),
							  TYPECACHE_LT_OPR | TYPECACHE_GT_OPR);

		if (!first)
			appendStringInfoString(buf, ", ");
		appendStringInfoString(buf, DeparseOutputExpr(context, expr));
		if (clause->sortop == typentry->lt_opr)
			appendStringInfoString(buf, " ASC");
		else if (clause->sortop == typentry->gt_opr)
			appendStringInfoString(buf, " DESC");
		else
			appendStringInfo(buf, " USING %s", QualifiedOperatorName(clause->sortop));
		appendStringInfoString(buf, clause->nulls_first ?
							   " NULLS FIRST" : " NULLS LAST");
		first = false;
	}
}

/*
 * AppendFrameBound prints one end of a window frame.
 */
static void
AppendFrameBound(DeparseContext *context, StringInfo buf, int options,
				 int unboundedPreceding, int unboundedFollowing,
				 int currentRow, int offsetPreceding, int offsetFollowing,
				 Node *offset)
{
	if (options & unboundedPreceding)
		appendStringInfoString(buf, "UNBOUNDED PRECEDING");
	else if (options & unboundedFollowing)
		appendStringInfoString(buf, "UNBOUNDED FOLLOWING");
	else if (options & currentRow)
		appendStringInfoString(buf, "CURRENT ROW");
	else if (options & (offsetPreceding | offsetFollowing))
		appendStringInfo(buf, "%s %s", DeparseExpr(context, offset),
						 (options & offsetPreceding) ? "PRECEDING" : "FOLLOWING");
	else
		elog(ERROR, "unexpected window frame options %d", options);
}

/*
 * AppendWindowSpec prints a window's definition: PARTITION BY, ORDER BY
 * (as AppendSortClause does) and the frame.  Windows that name another
 * window have already been merged with it by the parser, so the window is
 * printed whole, without names.
 */
static void
AppendWindowSpec(DeparseContext *context, StringInfo buf, WindowClause *window)
{
	int			options = window->frameOptions;

	appendStringInfoChar(buf, '(');
	if (window->partitionClause != NIL)
	{
		appendStringInfoString(buf, "PARTITION BY ");
		AppendExprList(context, buf,
					   SortGroupExprs(context->query, window->partitionClause));
	}
	if (window->orderClause != NIL)
	{
		appendStringInfoString(buf, window->partitionClause ? " ORDER BY " :
							   "ORDER BY ");
		AppendSortClause(context, buf, window->orderClause);
	}
	if (options & FRAMEOPTION_NONDEFAULT)
	{
		if (options & FRAMEOPTION_RANGE)
			appendStringInfoString(buf, " RANGE ");
		else if (options & FRAMEOPTION_ROWS)
			appendStringInfoString(buf, " ROWS ");
		else
			appendStringInfoString(buf, " GROUPS ");
		if (options & FRAMEOPTION_BETWEEN)
			appendStringInfoString(buf, "BETWEEN ");
		AppendFrameBound(context, buf, options,
						 FRAMEOPTION_START_UNBOUNDED_PRECEDING,
						 FRAMEOPTION_START_UNBOUNDED_FOLLOWING,
						 FRAMEOPTION_START_CURRENT_ROW,
						 FRAMEOPTION_START_OFFSET_PRECEDING,
						 FRAMEOPTION_START_OFFSET_FOLLOWING,
						 window->startOffset);
		if (options & FRAMEOPTION_BETWEEN)
		{
			appendStringInfoString(buf, " AND ");
			AppendFrameBound(context, buf, options,
							 FRAMEOPTION_END_UNBOUNDED_PRECEDING,
							 FRAMEOPTION_END_UNBOUNDED_FOLLOWING,
							 FRAMEOPTION_END_CURRENT_ROW,
							 FRAMEOPTION_END_OFFSET_PRECEDING,
							 FRAMEOPTION_END_OFFSET_FOLLOWING,
							 window->endOffset);
		}
		if (options & FRAMEOPTION_EXCLUDE_CURRENT_ROW)
			appendStringInfoString(buf, " EXCLUDE CURRENT ROW");
		else if (options & FRAMEOPTION_EXCLUDE_GROUP)
			appendStringInfoString(buf, " EXCLUDE GROUP");
		else if (options & FRAMEOPTION_EXCLUDE_TIES)
			appendStringInfoString(buf, " EXCLUDE TIES");
	}
	appendStringInfoChar(buf, ')');
}

/*
 * DeparseWindowFunc prints a window function call with its window.
 * deparse_expression alone cannot: it does not see the query's windows.
 * The call itself is printed as the equivalent aggregate or function call.
 */
static char *
DeparseWindowFunc(DeparseContext *context, WindowFunc *wfunc)
{
	WindowClause *window = NULL;
	StringInfoData buf;
	Node	   *call;
	ListCell   *lc;

	foreach(lc, context->query->windowClause)
	{
		if (((WindowClause *) lfirst(lc))->winref == wfunc->winref)
			window = lfirst(lc);
	}
	if (window == NULL)
		elog(ERROR, "could not find window clause %u", wfunc->winref);

	if (wfunc->winagg)
	{
		Aggref	   *aggref = makeNode(Aggref);
		int			position = 0;

		aggref->aggfnoid = wfunc->winfnoid;
		aggref->aggtype = wfunc->wintype;
		aggref->aggcollid = wfunc->wincollid;
		aggref->inputcollid = wfunc->inputcollid;
		aggref->aggstar = wfunc->winstar;
		aggref->aggfilter = wfunc->aggfilter;
		aggref->aggkind = AGGKIND_NORMAL;
		aggref->aggsplit = AGGSPLIT_SIMPLE;
		aggref->location = -1;
		foreach(lc, wfunc->args)
		{
			aggref->aggargtypes = lappend_oid(aggref->aggargtypes,
											  exprType(lfirst(lc)));
			aggref->args = lappend(aggref->args,
								   makeTargetEntry(lfirst(lc), ++position,
												   NULL, false));
		}
		call = (Node *) aggref;
	}
	else
		call = (Node *) makeFuncExpr(wfunc->winfnoid, wfunc->wintype,
									 wfunc->args, wfunc->wincollid,
									 wfunc->inputcollid, COERCE_EXPLICIT_CALL);

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s OVER ", DeparseExpr(context, call));
	AppendWindowSpec(context, &buf, window);
	return buf.data;
}

/*
 * DeparseOutputExpr prints an output or sort expression, which may be a
 * window function (QueryIsDeparsable allows them only there).
 */
static char *
DeparseOutputExpr(DeparseContext *context, Node *expr)
{
	if (IsA(expr, WindowFunc))
		return DeparseWindowFunc(context, (WindowFunc *) expr);
	return DeparseExpr(context, expr);
}

/* AppendWhere prints the WHERE clause, if any */
static void
AppendWhere(DeparseContext *context, StringInfo buf)
{
	Node	   *quals = context->query->jointree->quals;

	if (quals == NULL)
		return;
	if (IsA(quals, List))
		quals = (Node *) make_ands_explicit((List *) quals);
	appendStringInfo(buf, " WHERE %s", DeparseExpr(context, quals));
}

/* AppendReturning prints the RETURNING list, if any */
static void
AppendReturning(DeparseContext *context, StringInfo buf)
{
	if (context->query->returningList == NIL)
		return;
	appendStringInfoString(buf, " RETURNING ");
	AppendTargetList(context, buf, context->query->returningList);
}

/*
 * AppendSetList prints the assignments of an UPDATE or of ON CONFLICT DO
 * UPDATE: "column = expression" for each non-junk entry.
 */
static void
AppendSetList(DeparseContext *context, StringInfo buf, List *targetList)
{
	ListCell   *lc;
	bool		first = true;

	foreach(lc, targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		if (!first)
			appendStringInfoString(buf, ", ");
		appendStringInfo(buf, "%s = %s",
						 quote_identifier(get_attname(context->rte->relid,
													  tle->resno, false)),
						 DeparseExpr(context, (Node *) tle->expr));
		first = false;
	}
}

/*
 * ConstraintColumnNames returns the parenthesized columns of a unique or
 * primary key constraint.  ON CONFLICT ON CONSTRAINT is sent as these
 * columns, because the constraint has a different name on each shard.
 * XXX: a unique index on the same columns with another operator class or
 * collation would be an arbiter too.
 */
static char *
ConstraintColumnNames(Oid relid, Oid constraintId)
{
	HeapTuple	tuple = SearchSysCache1(CONSTROID,
										ObjectIdGetDatum(constraintId));
	Form_pg_constraint form;
	Datum		keys;
	bool		isNull;
	ArrayType  *array;
	int16	   *attnums;
	int			count;
	int			i;
	StringInfoData buf;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for constraint %u", constraintId);
	form = (Form_pg_constraint) GETSTRUCT(tuple);
	if (form->contype != CONSTRAINT_PRIMARY &&
		form->contype != CONSTRAINT_UNIQUE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ON CONFLICT ON CONSTRAINT is supported only for unique and primary key constraints of distributed tables")));
	keys = SysCacheGetAttr(CONSTROID, tuple, Anum_pg_constraint_conkey,
						   &isNull);
	if (isNull)
		elog(ERROR, "null conkey for constraint %u", constraintId);
	array = DatumGetArrayTypeP(keys);
	attnums = (int16 *) ARR_DATA_PTR(array);
	count = ARR_DIMS(array)[0];
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (i = 0; i < count; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "",
						 quote_identifier(get_attname(relid, attnums[i],
													  false)));
	appendStringInfoChar(&buf, ')');
	ReleaseSysCache(tuple);
	return buf.data;
}

/*
 * AppendOnConflict prints an INSERT's ON CONFLICT clause, if any.  The
 * conflict target refers to the target's columns only, so it is printed
 * without relation prefixes.
 */
static void
AppendOnConflict(DeparseContext *context, StringInfo buf)
{
	OnConflictExpr *onConflict = context->query->onConflict;

	if (onConflict == NULL)
		return;
	appendStringInfoString(buf, " ON CONFLICT");
	if (onConflict->arbiterElems != NIL)
	{
		appendStringInfo(buf, " (%s)",
						 deparse_expression((Node *) onConflict->arbiterElems,
											context->dpcontext, false, false));
		if (onConflict->arbiterWhere != NULL)
			appendStringInfo(buf, " WHERE %s",
							 deparse_expression(onConflict->arbiterWhere,
												context->dpcontext, false,
												false));
	}
	else if (OidIsValid(onConflict->constraint))
		appendStringInfo(buf, " %s",
						 ConstraintColumnNames(context->rte->relid,
											   onConflict->constraint));
	if (onConflict->action == ONCONFLICT_NOTHING)
	{
		appendStringInfoString(buf, " DO NOTHING");
		return;
	}
	appendStringInfoString(buf, " DO UPDATE SET ");
	AppendSetList(context, buf, onConflict->onConflictSet);
	if (onConflict->onConflictWhere != NULL)
		appendStringInfo(buf, " WHERE %s",
						 DeparseExpr(context, onConflict->onConflictWhere));
}

/* AppendRowMarks prints FOR UPDATE / FOR SHARE clauses */
static void
AppendRowMarks(DeparseContext *context, StringInfo buf)
{
	ListCell   *lc;

	foreach(lc, context->query->rowMarks)
	{
		RowMarkClause *mark = lfirst(lc);

		switch (mark->strength)
		{
			case LCS_FORKEYSHARE:
				appendStringInfoString(buf, " FOR KEY SHARE");
				break;
			case LCS_FORSHARE:
				appendStringInfoString(buf, " FOR SHARE");
				break;
			case LCS_FORNOKEYUPDATE:
				appendStringInfoString(buf, " FOR NO KEY UPDATE");
				break;
			case LCS_FORUPDATE:
				appendStringInfoString(buf, " FOR UPDATE");
				break;
			case LCS_NONE:
				break;
		}
		if (mark->waitPolicy == LockWaitSkip)
			appendStringInfoString(buf, " SKIP LOCKED");
		else if (mark->waitPolicy == LockWaitError)
			appendStringInfoString(buf, " NOWAIT");
	}
}

/*
 * AppendSelectTail prints what follows FROM in a SELECT: WHERE, GROUP BY,
 * HAVING, ORDER BY, OFFSET/LIMIT and row locks.
 */
static void
AppendSelectTail(DeparseContext *context, StringInfo buf)
{
	Query	   *query = context->query;

	AppendWhere(context, buf);
	if (query->groupClause != NIL)
	{
		appendStringInfoString(buf, " GROUP BY ");
		AppendExprList(context, buf,
					   SortGroupExprs(query, query->groupClause));
	}
	if (query->havingQual != NULL)
	{
		Node	   *having = query->havingQual;

		if (IsA(having, List))
			having = (Node *) make_ands_explicit((List *) having);
		appendStringInfo(buf, " HAVING %s", DeparseExpr(context, having));
	}
	if (query->sortClause != NIL)
	{
		appendStringInfoString(buf, " ORDER BY ");
		AppendSortClause(context, buf, query->sortClause);
	}
	if (query->limitOffset != NULL)
		appendStringInfo(buf, " OFFSET %s ROWS",
						 DeparseExpr(context, query->limitOffset));
	if (query->limitCount != NULL)
	{
		if (query->limitOption == LIMIT_OPTION_WITH_TIES)
			appendStringInfo(buf, " FETCH FIRST (%s) ROWS WITH TIES",
							 DeparseExpr(context, query->limitCount));
		else
			appendStringInfo(buf, " FETCH FIRST (%s) ROWS ONLY",
							 DeparseExpr(context, query->limitCount));
	}
	AppendRowMarks(context, buf);
}

/*
 * JoinTreeIsDeparsable: the FROM items are relations and joins of them.
 */
static bool
JoinTreeIsDeparsable(Query *query, Node *node)
{
	if (IsA(node, RangeTblRef))
	{
		RangeTblEntry *rte = rt_fetch(((RangeTblRef *) node)->rtindex,
									  query->rtable);

		return rte->rtekind == RTE_RELATION && rte->tablesample == NULL;
	}
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;

		return (join->jointype == JOIN_INNER || join->jointype == JOIN_LEFT ||
				join->jointype == JOIN_RIGHT || join->jointype == JOIN_FULL) &&
			JoinTreeIsDeparsable(query, join->larg) &&
			JoinTreeIsDeparsable(query, join->rarg);
	}
	return false;
}

/*
 * QueryIsDeparsable returns whether DeparseShardQuery can print the query:
 * a SELECT over relations and joins of them, an INSERT into the relation
 * at index 1 of the rows such a SELECT computes (its target list and FROM
 * clause), or a single-table UPDATE or DELETE, without constructs whose
 * text would refer to other relations or clauses this deparser does not
 * print.  Join alias references must have been flattened.
 */
bool
QueryIsDeparsable(Query *query)
{
	ListCell   *lc;

	if (query->commandType != CMD_SELECT &&
		query->commandType != CMD_UPDATE &&
		query->commandType != CMD_DELETE &&
		query->commandType != CMD_INSERT)
		return false;
	if (query->commandType == CMD_INSERT && query->resultRelation != 1)
		return false;
	if (query->onConflict != NULL && query->commandType != CMD_INSERT)
		return false;
	if (query->cteList != NIL ||
		query->setOperations != NULL || query->hasSubLinks ||
		query->groupingSets != NIL ||
		query->hasRecursive || query->hasModifyingCTE ||
		query->utilityStmt != NULL ||
		query->groupDistinct || query->jointree->fromlist == NIL)
		return false;
	foreach(lc, query->jointree->fromlist)
	{
		if (!JoinTreeIsDeparsable(query, lfirst(lc)))
			return false;
	}
	/* window functions only as whole output columns of a SELECT */
	if (query->hasWindowFuncs)
	{
		if (query->commandType != CMD_SELECT)
			return false;
		foreach(lc, query->targetList)
		{
			Node	   *expr = (Node *) ((TargetEntry *) lfirst(lc))->expr;

			if (IsA(expr, WindowFunc) ?
				contain_window_function((Node *) ((WindowFunc *) expr)->args) ||
				contain_window_function((Node *) ((WindowFunc *) expr)->aggfilter) :
				contain_window_function(expr))
				return false;
		}
	}
	if (query->commandType == CMD_UPDATE || query->commandType == CMD_DELETE)
	{
		/* the target is a FROM item of its own; others go to FROM / USING */
		foreach(lc, query->jointree->fromlist)
		{
			Node	   *item = lfirst(lc);

			if (IsA(item, RangeTblRef) &&
				((RangeTblRef *) item)->rtindex == query->resultRelation)
				return query->resultRelation == 1;
		}
		return false;
	}
	return true;
}

/*
 * AppendFromItem prints one FROM item: a relation (its shard) with its
 * alias, or a join.
 */
static void
AppendFromItem(DeparseContext *context, StringInfo buf, Node *node)
{
	if (IsA(node, RangeTblRef))
	{
		Index		rtindex = ((RangeTblRef *) node)->rtindex;

		appendStringInfoString(buf, "ONLY ");
		AppendRelation(context, buf, rtindex);
		appendStringInfo(buf, " %s", RelationAlias(context, rtindex));
	}
	else
	{
		JoinExpr   *join = (JoinExpr *) node;
		const char *joinType = "JOIN";

		switch (join->jointype)
		{
			case JOIN_LEFT:
				joinType = "LEFT JOIN";
				break;
			case JOIN_RIGHT:
				joinType = "RIGHT JOIN";
				break;
			case JOIN_FULL:
				joinType = "FULL JOIN";
				break;
			default:
				break;
		}
		appendStringInfoChar(buf, '(');
		AppendFromItem(context, buf, join->larg);
		appendStringInfo(buf, " %s ", joinType);
		AppendFromItem(context, buf, join->rarg);
		appendStringInfo(buf, " ON %s)",
						 join->quals ? DeparseExpr(context, join->quals) :
						 "true");
	}
}

/*
 * AppendFromClause prints the keyword (" FROM ", " USING ") and the FROM
 * items, but for the target of an UPDATE or DELETE (printed before); for
 * those it prints nothing when there is no other item.
 */
static void
AppendFromClause(DeparseContext *context, StringInfo buf, const char *keyword)
{
	ListCell   *lc;
	bool		first = true;
	Index		target = context->query->commandType == CMD_SELECT ||
		context->query->commandType == CMD_INSERT ? 0 :
		context->query->resultRelation;

	foreach(lc, context->query->jointree->fromlist)
	{
		Node	   *item = lfirst(lc);

		if (target > 0 && IsA(item, RangeTblRef) &&
			((RangeTblRef *) item)->rtindex == target)
			continue;
		appendStringInfoString(buf, first ? keyword : ", ");
		AppendFromItem(context, buf, item);
		first = false;
	}
}

/*
 * AppendInsertColumns prints the parenthesized names of the target columns
 * an INSERT assigns, in target list order.
 */
static void
AppendInsertColumns(DeparseContext *context, StringInfo buf)
{
	ListCell   *lc;
	bool		first = true;

	appendStringInfoChar(buf, '(');
	foreach(lc, context->query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		if (!first)
			appendStringInfoString(buf, ", ");
		appendStringInfoString(buf,
							   quote_identifier(get_attname(context->rte->relid,
															tle->resno,
															false)));
		first = false;
	}
	appendStringInfoChar(buf, ')');
}

/*
 * DeparseShardQuery deparses a SELECT, INSERT ... SELECT, UPDATE or DELETE
 * on distributed tables into text fragments around their names.  Settings must have been
 * switched with PushDeparseSettings.
 */
DeparsedShardQuery *
DeparseShardQuery(Query *query)
{
	DeparseContext context;
	StringInfoData buf;

	Assert(QueryIsDeparsable(query));
	InitDeparseContext(&context, query);
	initStringInfo(&buf);

	switch (query->commandType)
	{
		case CMD_SELECT:
			appendStringInfoString(&buf, "SELECT ");
			if (query->distinctClause != NIL)
			{
				if (query->hasDistinctOn)
				{
					appendStringInfoString(&buf, "DISTINCT ON (");
					AppendExprList(&context, &buf,
								   SortGroupExprs(query,
												  query->distinctClause));
					appendStringInfoString(&buf, ") ");
				}
				else
					appendStringInfoString(&buf, "DISTINCT ");
			}
			AppendTargetList(&context, &buf, query->targetList);
			AppendFromClause(&context, &buf, " FROM ");
			AppendSelectTail(&context, &buf);
			break;

		case CMD_INSERT:
			appendStringInfoString(&buf, "INSERT INTO ");
			AppendRelation(&context, &buf, 1);
			appendStringInfo(&buf, " AS %s ", RelationAlias(&context, 1));
			AppendInsertColumns(&context, &buf);
			appendStringInfoString(&buf, " SELECT ");
			AppendTargetList(&context, &buf, query->targetList);
			AppendFromClause(&context, &buf, " FROM ");
			AppendWhere(&context, &buf);
			AppendOnConflict(&context, &buf);
			AppendReturning(&context, &buf);
			break;

		case CMD_UPDATE:
			appendStringInfoString(&buf, "UPDATE ONLY ");
			AppendRelation(&context, &buf, 1);
			appendStringInfo(&buf, " %s SET ", RelationAlias(&context, 1));
			AppendSetList(&context, &buf, query->targetList);
			AppendFromClause(&context, &buf, " FROM ");
			AppendWhere(&context, &buf);
			AppendReturning(&context, &buf);
			break;

		case CMD_DELETE:
			appendStringInfoString(&buf, "DELETE FROM ONLY ");
			AppendRelation(&context, &buf, 1);
			appendStringInfo(&buf, " %s", RelationAlias(&context, 1));
			AppendFromClause(&context, &buf, " USING ");
			AppendWhere(&context, &buf);
			AppendReturning(&context, &buf);
			break;

		default:
			elog(ERROR, "unexpected command type %d", query->commandType);
	}

	/* the text after the last relation */
	context.deparsed->fragments = lappend(context.deparsed->fragments,
										  buf.data);
	return context.deparsed;
}

/*
 * ShardQueryString assembles the statement for one set of shards:
 * relationNames[i] is the name to use for range table entry i + 1.
 */
char *
ShardQueryString(DeparsedShardQuery *deparsed, char **relationNames)
{
	StringInfoData buf;
	ListCell   *fragmentCell;
	ListCell   *indexCell;

	initStringInfo(&buf);
	forboth(fragmentCell, deparsed->fragments, indexCell,
			deparsed->relationIndexes)
	{
		appendStringInfoString(&buf, lfirst(fragmentCell));
		appendStringInfoString(&buf, relationNames[lfirst_int(indexCell) - 1]);
	}
	appendStringInfoString(&buf, llast(deparsed->fragments));
	return buf.data;
}

/*
 * DeparseShardInsert prints an INSERT of rowCount rows into a shard, whose
 * values are the parameters $firstParam, $firstParam+1, ... in target list
 * order, row after row.  The query is the INSERT whose target is the
 * distributed table at index 1; its RETURNING list is kept.
 */
char *
DeparseShardInsert(Query *query, const char *shardName, int rowCount,
				   int firstParam)
{
	DeparseContext context;
	StringInfoData buf;
	ListCell   *lc;
	int			columnCount = 0;
	int			param = firstParam;
	int			row;

	InitDeparseContext(&context, query);
	initStringInfo(&buf);
	appendStringInfo(&buf, "INSERT INTO %s AS %s ", shardName,
					 RelationAlias(&context, 1));
	AppendInsertColumns(&context, &buf);
	foreach(lc, query->targetList)
	{
		if (!((TargetEntry *) lfirst(lc))->resjunk)
			columnCount++;
	}
	appendStringInfoString(&buf, " VALUES ");
	for (row = 0; row < rowCount; row++)
	{
		int			column;

		appendStringInfoString(&buf, row == 0 ? "(" : ", (");
		for (column = 0; column < columnCount; column++)
			appendStringInfo(&buf, column == 0 ? "$%d" : ", $%d", param++);
		appendStringInfoChar(&buf, ')');
	}
	AppendOnConflict(&context, &buf);
	AppendReturning(&context, &buf);
	return buf.data;
}
