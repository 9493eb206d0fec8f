/*-------------------------------------------------------------------------
 *
 * deparse_shard_query.c
 *	  Generating the SQL of a statement on one distributed table for its
 *	  shards.
 *
 * The statements distdb ships are single-table SELECT, UPDATE, DELETE and
 * INSERT ... VALUES statements whose only relation is the distributed table
 * at range table index 1 (the planner makes sure of it).  Their clauses are
 * generated here from the query tree; expressions are printed by
 * PostgreSQL's own deparser (deparse_expression), in a context naming the
 * table by its alias.  Since only the relation name differs between shards,
 * a statement is deparsed once into the text before and after the shard
 * name.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_operator.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "distdb/deparse.h"

/* what deparsing one statement needs */
typedef struct DeparseContext
{
	Query	   *query;
	RangeTblEntry *rte;			/* the distributed table, at index 1 */
	List	   *dpcontext;		/* deparse_expression's namespace */
} DeparseContext;

static void InitDeparseContext(DeparseContext *context, Query *query);
static char *DeparseExpr(DeparseContext *context, Node *expr);
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

/* InitDeparseContext prepares the namespace for deparsing the query */
static void
InitDeparseContext(DeparseContext *context, Query *query)
{
	context->query = query;
	context->rte = rt_fetch(1, query->rtable);
	Assert(context->rte->rtekind == RTE_RELATION);
	context->dpcontext = deparse_context_for(context->rte->eref->aliasname,
											 context->rte->relid);
}

/* DeparseExpr prints one expression */
static char *
DeparseExpr(DeparseContext *context, Node *expr)
{
	return deparse_expression(expr, context->dpcontext, false, false);
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
								   quote_identifier(context->rte->eref->aliasname));
			continue;
		}
		appendStringInfoString(buf, DeparseExpr(context, (Node *) tle->expr));
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
		appendStringInfoString(buf, DeparseExpr(context, expr));
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
 * QueryIsDeparsable returns whether DeparseShardQuery can print the query:
 * a single-table SELECT, UPDATE or DELETE without constructs whose text
 * would refer to other relations or clauses this deparser does not print.
 */
bool
QueryIsDeparsable(Query *query)
{
	RangeTblEntry *rte;

	if (query->commandType != CMD_SELECT &&
		query->commandType != CMD_UPDATE &&
		query->commandType != CMD_DELETE)
		return false;
	if (list_length(query->rtable) != 1 || query->cteList != NIL ||
		query->setOperations != NULL || query->hasSubLinks ||
		query->hasWindowFuncs || query->groupingSets != NIL ||
		query->hasRecursive || query->hasModifyingCTE ||
		query->onConflict != NULL || query->utilityStmt != NULL ||
		query->groupDistinct)
		return false;
	rte = rt_fetch(1, query->rtable);
	if (rte->rtekind != RTE_RELATION || rte->tablesample != NULL)
		return false;
	if (list_length(query->jointree->fromlist) != 1 ||
		!IsA(linitial(query->jointree->fromlist), RangeTblRef))
		return false;
	return true;
}

/*
 * DeparseShardQuery deparses a SELECT, UPDATE or DELETE on the distributed
 * table at range table index 1 into the text around the shard name.
 * Settings must have been switched with PushDeparseSettings.
 */
DeparsedShardQuery *
DeparseShardQuery(Query *query)
{
	DeparsedShardQuery *deparsed = palloc0(sizeof(DeparsedShardQuery));
	DeparseContext context;
	StringInfoData prefix;
	StringInfoData suffix;
	ListCell   *lc;
	bool		first = true;

	Assert(QueryIsDeparsable(query));
	InitDeparseContext(&context, query);
	initStringInfo(&prefix);
	initStringInfo(&suffix);

	/* every shard statement names the table by its alias */
	appendStringInfo(&suffix, " %s",
					 quote_identifier(context.rte->eref->aliasname));

	switch (query->commandType)
	{
		case CMD_SELECT:
			appendStringInfoString(&prefix, "SELECT ");
			if (query->distinctClause != NIL)
			{
				if (query->hasDistinctOn)
				{
					appendStringInfoString(&prefix, "DISTINCT ON (");
					AppendExprList(&context, &prefix,
								   SortGroupExprs(query,
												  query->distinctClause));
					appendStringInfoString(&prefix, ") ");
				}
				else
					appendStringInfoString(&prefix, "DISTINCT ");
			}
			AppendTargetList(&context, &prefix, query->targetList);
			appendStringInfoString(&prefix, " FROM ONLY ");
			AppendSelectTail(&context, &suffix);
			break;

		case CMD_UPDATE:
			appendStringInfoString(&prefix, "UPDATE ONLY ");
			appendStringInfoString(&suffix, " SET ");
			foreach(lc, query->targetList)
			{
				TargetEntry *tle = lfirst(lc);

				if (tle->resjunk)
					continue;
				if (!first)
					appendStringInfoString(&suffix, ", ");
				appendStringInfo(&suffix, "%s = %s",
								 quote_identifier(get_attname(context.rte->relid,
															  tle->resno,
															  false)),
								 DeparseExpr(&context, (Node *) tle->expr));
				first = false;
			}
			AppendWhere(&context, &suffix);
			AppendReturning(&context, &suffix);
			break;

		case CMD_DELETE:
			appendStringInfoString(&prefix, "DELETE FROM ONLY ");
			AppendWhere(&context, &suffix);
			AppendReturning(&context, &suffix);
			break;

		default:
			elog(ERROR, "unexpected command type %d", query->commandType);
	}

	deparsed->prefix = prefix.data;
	deparsed->suffix = suffix.data;
	return deparsed;
}

/*
 * ShardQueryString assembles the statement for one shard.
 */
char *
ShardQueryString(DeparsedShardQuery *deparsed, const char *shardName)
{
	return psprintf("%s%s%s", deparsed->prefix, shardName, deparsed->suffix);
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
	bool		first = true;
	int			columnCount = 0;
	int			param = firstParam;
	int			row;

	InitDeparseContext(&context, query);
	initStringInfo(&buf);
	appendStringInfo(&buf, "INSERT INTO %s AS %s (", shardName,
					 quote_identifier(context.rte->eref->aliasname));
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->resjunk)
			continue;
		if (!first)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf,
							   quote_identifier(get_attname(context.rte->relid,
															tle->resno,
															false)));
		first = false;
		columnCount++;
	}
	appendStringInfoString(&buf, ") VALUES ");
	for (row = 0; row < rowCount; row++)
	{
		int			column;

		appendStringInfoString(&buf, row == 0 ? "(" : ", (");
		for (column = 0; column < columnCount; column++)
			appendStringInfo(&buf, column == 0 ? "$%d" : ", $%d", param++);
		appendStringInfoChar(&buf, ')');
	}
	AppendReturning(&context, &buf);
	return buf.data;
}
