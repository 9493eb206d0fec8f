/*-------------------------------------------------------------------------
 *
 * deparse_shard_query.c
 *	  Generating the SQL of a statement on one distributed table for its
 *	  shards.
 *
 * The statements distdb ships are SELECTs over distributed tables (one, or
 * several co-located ones joined on their distribution columns, possibly
 * inside FROM subqueries and WHERE sublinks), UPDATE and DELETE on one
 * distributed table, and INSERT ... VALUES; the planner makes sure of it.
 * Subqueries are printed as nested query levels by the same code, their
 * relations becoming shards too; their aliases are unique across levels.  Their clauses are generated here from the query tree;
 * expressions are printed by PostgreSQL's own deparser (deparse_expression)
 * in a context that names every relation by a unique alias.  Since only the
 * relation names differ between shards, a statement is deparsed once into
 * text fragments around the relation names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_operator.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "nodes/plannodes.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "distdb/deparse.h"
#include "distdb/planner_internal.h"

/* what deparsing one statement needs */
typedef struct DeparseContext
{
	Query	   *query;
	RangeTblEntry *rte;			/* UPDATE/DELETE/INSERT: the target */
	List	   *dpcontext;		/* deparse_expression's namespace */
	List	   *rtableNames;	/* unique alias of each range table entry */
	bool		forcePrefix;	/* qualify columns: several relations */
	DeparsedShardQuery *deparsed;	/* fragments finished so far */
	struct DeparseContext *parent;	/* the enclosing query level, or NULL */
	List	  **usedNames;		/* aliases of every level, kept unique */
} DeparseContext;

static void InitDeparseContext(DeparseContext *context, Query *query,
							   DeparseContext *parent);
static void AppendSelect(DeparseContext *context, StringInfo buf);
static void AppendExpr(DeparseContext *context, StringInfo buf, Node *expr);
static bool SubLinksAreDeparsable(Query *query);
static bool SetOperationIsDeparsable(Query *query, Node *node);
static char *QualifiedOperatorName(Oid operatorId);
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
static void AppendSubquery(DeparseContext *context, StringInfo buf,
						   RangeTblEntry *rte, Index rtindex);
static void AppendTableSample(DeparseContext *context, StringInfo buf,
							  TableSampleClause *tablesample);
static void MakeColumnNamesUnique(RangeTblEntry *rte);

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

/*
 * UniqueRtableNames returns the aliases of a query level's range table
 * entries, unique within the level (as EXPLAIN picks them) and against
 * the aliases of every other level of the statement, so that a subquery's
 * alias never hides an enclosing level's.
 */
static List *
UniqueRtableNames(Query *query, List **usedNames)
{
	Bitmapset  *relations = NULL;
	List	   *names;
	ListCell   *lc;

	foreach(lc, query->rtable)
		relations = bms_add_member(relations, foreach_current_index(lc) + 1);
	names = select_rtable_names_for_explain(query->rtable, relations);
	foreach(lc, names)
	{
		if (lfirst(lc) == NULL)
			continue;
		lfirst(lc) = UniqueName(lfirst(lc), *usedNames);
		*usedNames = lappend(*usedNames, lfirst(lc));
	}
	return names;
}

/* NameIsUsed: whether the list of names holds name */
static bool
NameIsUsed(const char *name, List *usedNames)
{
	ListCell   *lc;

	foreach(lc, usedNames)
	{
		if (strcmp(lfirst(lc), name) == 0)
			return true;
	}
	return false;
}

/*
 * UniqueName returns name, or else the first of name_1, name_2, ... that
 * is not in the list of names used.
 */
char *
UniqueName(const char *name, List *usedNames)
{
	char	   *unique = pstrdup(name);
	int			suffix = 0;

	while (NameIsUsed(unique, usedNames))
		unique = psprintf("%s_%d", name, ++suffix);
	return unique;
}

/*
 * MakeColumnNamesUnique renames the repeated output column names of a
 * subquery (two unnamed expressions are both "?column?"): the shard query
 * lists them after the subquery's alias and refers to them by name, which
 * must then designate one column.
 */
static void
MakeColumnNamesUnique(RangeTblEntry *rte)
{
	List	   *names = NIL;
	bool		renamed = false;
	ListCell   *lc;
	MemoryContext oldContext;

	/* entries distdb builds itself may have no names */
	if (rte->eref == NULL)
		return;

	/*
	 * The new names live as long as the entry: a statement may be deparsed
	 * again later (each batch of an INSERT ... SELECT) from a shorter-lived
	 * context.
	 */
	oldContext = MemoryContextSwitchTo(GetMemoryChunkContext(rte));
	foreach(lc, rte->eref->colnames)
	{
		char	   *name = strVal(lfirst(lc));
		char	   *unique = name;
		int			suffix = 0;
		ListCell   *nlc;

		for (;;)
		{
			foreach(nlc, names)
			{
				if (strcmp(strVal(lfirst(nlc)), unique) == 0)
					break;
			}
			if (nlc == NULL)
				break;
			unique = psprintf("%s_%d", name, ++suffix);
		}
		renamed |= (unique != name);
		names = lappend(names, makeString(unique));
	}
	if (renamed)
	{
		rte->eref = copyObject(rte->eref);
		rte->eref->colnames = names;
		/* the alias's own column names would take precedence */
		if (rte->alias != NULL && rte->alias->colnames != NIL)
		{
			rte->alias = copyObject(rte->alias);
			rte->alias->colnames = NIL;
		}
	}
	MemoryContextSwitchTo(oldContext);
}

/*
 * InitDeparseContext prepares the namespace for deparsing the query, a
 * level nested in parent's (a subquery) when parent is given: its
 * expressions may then refer to the enclosing levels' columns, and its
 * text goes into the same fragments.
 */
static void
InitDeparseContext(DeparseContext *context, Query *query,
				   DeparseContext *parent)
{
	PlannedStmt *namespaceStmt = makeNode(PlannedStmt);
	ListCell   *lc;
	int			relationCount = 0;

	context->query = query;
	context->rte = rt_fetch(1, query->rtable);
	context->parent = parent;
	context->usedNames = parent ? parent->usedNames : palloc0(sizeof(List *));
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION)
			relationCount++;
		else if (rte->rtekind == RTE_SUBQUERY || rte->rtekind == RTE_FUNCTION)
		{
			relationCount += 2;
			if (rte->rtekind == RTE_SUBQUERY)
				MakeColumnNamesUnique(rte);
		}
	}
	context->rtableNames = UniqueRtableNames(query, context->usedNames);
	if (query->onConflict != NULL && query->onConflict->exclRelIndex > 0)
		NameExcludedRelation(context, query->onConflict->exclRelIndex);
	namespaceStmt->rtable = query->rtable;
	context->dpcontext = deparse_context_for_plan_tree(namespaceStmt,
													   context->rtableNames);
	if (parent != NULL)
		context->dpcontext = list_concat(context->dpcontext,
										 parent->dpcontext);
	context->forcePrefix = relationCount > 1 || parent != NULL;
	context->deparsed = parent ? parent->deparsed :
		palloc0(sizeof(DeparsedShardQuery));
}

/*
 * RootRelationIndex returns the index in the statement's own (outermost)
 * range table of a relation of a nested query level: an entry of the same
 * relation there, whose shard the executor names (the planner adds one
 * for every relation of a subquery).
 */
static Index
RootRelationIndex(DeparseContext *context, Index rtindex)
{
	DeparseContext *root = context;
	Oid			relid = rt_fetch(rtindex, context->query->rtable)->relid;
	ListCell   *lc;

	if (context->parent == NULL)
		return rtindex;
	while (root->parent != NULL)
		root = root->parent;
	foreach(lc, root->query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && rte->relid == relid)
			return foreach_current_index(lc) + 1;
	}
	elog(ERROR, "relation %u of a subquery is missing from the shard query's range table",
		 relid);
	return 0;
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
											RootRelationIndex(context,
															  rtindex));
	resetStringInfo(buf);
}

/* the alias of a range table entry in the shard query */
static const char *
RelationAlias(DeparseContext *context, Index rtindex)
{
	return quote_identifier(list_nth(context->rtableNames, rtindex - 1));
}

/*
 * SubLinkTestOperand returns the left operand of the comparison of an
 * ANY or ALL sublink over one column -- "x op ANY (SELECT ...)" -- or NULL
 * for other forms (row comparisons), which are not deparsed.
 */
static Node *
SubLinkTestOperand(SubLink *subLink)
{
	OpExpr	   *op = (OpExpr *) subLink->testexpr;
	Param	   *param;

	if (op == NULL || !IsA(op, OpExpr) || list_length(op->args) != 2)
		return NULL;
	param = (Param *) lsecond(op->args);
	if (!IsA(param, Param) || param->paramkind != PARAM_SUBLINK ||
		param->paramid != 1 || checkExprHasSubLink(linitial(op->args)))
		return NULL;
	return linitial(op->args);
}

/*
 * CastArgument returns the argument of a cast (a cast function, a binary
 * relabelling, an I/O conversion), or NULL for other expressions.
 */
static Node *
CastArgument(Node *expr)
{
	if (IsA(expr, FuncExpr) &&
		(((FuncExpr *) expr)->funcformat == COERCE_IMPLICIT_CAST ||
		 ((FuncExpr *) expr)->funcformat == COERCE_EXPLICIT_CAST) &&
		list_length(((FuncExpr *) expr)->args) >= 1)
		return linitial(((FuncExpr *) expr)->args);
	if (IsA(expr, RelabelType))
		return (Node *) ((RelabelType *) expr)->arg;
	if (IsA(expr, CoerceViaIO))
		return (Node *) ((CoerceViaIO *) expr)->arg;
	return NULL;
}

/*
 * ExprIsDeparsable: whether DeparseExpr can print an expression.  Those
 * with sublinks are printed by distdb itself (see DeparseSubLinkExpr), so
 * that their relations are the shards: a sublink (EXISTS, scalar, or a
 * one-column ANY / ALL comparison) over a deparsable SELECT, within AND,
 * OR, NOT and binary operators.
 */
static bool
ExprIsDeparsable(Node *expr)
{
	ListCell   *lc;

	if (expr == NULL || !checkExprHasSubLink(expr))
		return true;
	if (IsA(expr, BoolExpr))
	{
		foreach(lc, ((BoolExpr *) expr)->args)
		{
			if (!ExprIsDeparsable(lfirst(lc)))
				return false;
		}
		return true;
	}
	if (IsA(expr, OpExpr))
		return list_length(((OpExpr *) expr)->args) == 2 &&
			ExprIsDeparsable(linitial(((OpExpr *) expr)->args)) &&
			ExprIsDeparsable(lsecond(((OpExpr *) expr)->args));
	if (CastArgument(expr) != NULL)
		return ExprIsDeparsable(CastArgument(expr));
	if (IsA(expr, SubLink))
	{
		SubLink    *subLink = (SubLink *) expr;
		Query	   *subselect = (Query *) subLink->subselect;

		if (subselect->commandType != CMD_SELECT ||
			subselect->rowMarks != NIL || !QueryIsDeparsable(subselect))
			return false;
		switch (subLink->subLinkType)
		{
			case EXISTS_SUBLINK:
			case EXPR_SUBLINK:
				return true;
			case ANY_SUBLINK:
			case ALL_SUBLINK:
				return SubLinkTestOperand(subLink) != NULL;
			default:
				return false;
		}
	}
	return false;
}

/*
 * AppendExpr prints an expression.  Expressions with sublinks (see
 * ExprIsDeparsable) are printed by distdb itself, straight into the
 * statement's text, since their subqueries' relations are shards: the
 * subqueries are deparsed as nested levels of the statement.  Operators
 * are then printed schema-qualified, with every operand in parentheses.
 */
static void
AppendExpr(DeparseContext *context, StringInfo buf, Node *expr)
{
	ListCell   *lc;

	if (!checkExprHasSubLink(expr))
		appendStringInfoString(buf, DeparseExpr(context, expr));
	else if (IsA(expr, BoolExpr))
	{
		BoolExpr   *boolExpr = (BoolExpr *) expr;

		appendStringInfoString(buf, boolExpr->boolop == NOT_EXPR ?
							   "(NOT " : "(");
		foreach(lc, boolExpr->args)
		{
			if (foreach_current_index(lc) > 0)
				appendStringInfoString(buf, boolExpr->boolop == AND_EXPR ?
									   " AND " : " OR ");
			AppendExpr(context, buf, lfirst(lc));
		}
		appendStringInfoChar(buf, ')');
	}
	else if (CastArgument(expr) != NULL)
	{
		appendStringInfoString(buf, "((");
		AppendExpr(context, buf, CastArgument(expr));
		appendStringInfo(buf, ")::%s)",
						 format_type_extended(exprType(expr), exprTypmod(expr),
											  FORMAT_TYPE_TYPEMOD_GIVEN |
											  FORMAT_TYPE_FORCE_QUALIFY));
	}
	else if (IsA(expr, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) expr;

		appendStringInfoString(buf, "((");
		AppendExpr(context, buf, linitial(op->args));
		appendStringInfo(buf, ") %s (", QualifiedOperatorName(op->opno));
		AppendExpr(context, buf, lsecond(op->args));
		appendStringInfoString(buf, "))");
	}
	else
	{
		SubLink    *subLink = castNode(SubLink, expr);
		DeparseContext subcontext;

		memset(&subcontext, 0, sizeof(subcontext));
		appendStringInfoChar(buf, '(');
		if (subLink->subLinkType == ANY_SUBLINK ||
			subLink->subLinkType == ALL_SUBLINK)
		{
			appendStringInfoChar(buf, '(');
			AppendExpr(context, buf, SubLinkTestOperand(subLink));
			appendStringInfo(buf, ") %s %s ",
							 QualifiedOperatorName(((OpExpr *) subLink->testexpr)->opno),
							 subLink->subLinkType == ANY_SUBLINK ? "ANY" : "ALL");
		}
		else if (subLink->subLinkType == EXISTS_SUBLINK)
			appendStringInfoString(buf, "EXISTS ");
		InitDeparseContext(&subcontext, (Query *) subLink->subselect, context);
		appendStringInfoChar(buf, '(');
		AppendSelect(&subcontext, buf);
		appendStringInfoString(buf, "))");
	}
}

/* DeparseExpr prints one expression without sublinks */
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
		if (IsA(tle->expr, WindowFunc))
			appendStringInfoString(buf, DeparseOutputExpr(context,
														  (Node *) tle->expr));
		else
			AppendExpr(context, buf, (Node *) tle->expr);
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
	appendStringInfoString(buf, " WHERE ");
	AppendExpr(context, buf, quals);
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
		appendStringInfo(buf, "%s = ",
						 quote_identifier(get_attname(context->rte->relid,
													  tle->resno, false)));
		AppendExpr(context, buf, (Node *) tle->expr);
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
		appendStringInfoString(buf, " HAVING ");
		AppendExpr(context, buf, having);
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
 * TableSampleIsDeparsable: a TABLESAMPLE clause the shards can run, one of
 * PostgreSQL's built-in sampling methods (extension methods need not exist
 * on the workers).  Each shard samples its own rows, which samples the
 * table: both built-in methods decide per block or per row.
 */
bool
TableSampleIsDeparsable(TableSampleClause *tablesample)
{
	ListCell   *lc;

	if (tablesample->tsmhandler >= FirstNormalObjectId)
		return false;
	foreach(lc, tablesample->args)
	{
		if (!ExprIsDeparsable(lfirst(lc)))
			return false;
	}
	return ExprIsDeparsable((Node *) tablesample->repeatable);
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

		if (rte->rtekind == RTE_SUBQUERY)
			return !rte->lateral && rte->subquery->commandType == CMD_SELECT &&
				rte->subquery->rowMarks == NIL &&
				QueryIsDeparsable(rte->subquery);
		return (rte->rtekind == RTE_RELATION &&
				(rte->tablesample == NULL ||
				 TableSampleIsDeparsable(rte->tablesample))) ||
			IsBroadcastRelation(rte);
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
 * JoinQualsAreDeparsable: the join conditions of the FROM items can be
 * printed (see ExprIsDeparsable).
 */
static bool
JoinQualsAreDeparsable(Node *node)
{
	JoinExpr   *join;

	if (!IsA(node, JoinExpr))
		return true;
	join = (JoinExpr *) node;
	return ExprIsDeparsable(join->quals) &&
		JoinQualsAreDeparsable(join->larg) &&
		JoinQualsAreDeparsable(join->rarg);
}

/*
 * SubLinksAreDeparsable: the query level's sublinks are in its SELECT
 * list (or an UPDATE's SET list), WHERE, join conditions, HAVING or the
 * RETURNING list of an UPDATE or DELETE, in forms ExprIsDeparsable
 * accepts, and not in what it sorts or groups by.
 */
static bool
SubLinksAreDeparsable(Query *query)
{
	ListCell   *lc;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (tle->ressortgroupref != 0 ?
			checkExprHasSubLink((Node *) tle->expr) :
			!ExprIsDeparsable((Node *) tle->expr))
			return false;
	}
	foreach(lc, query->jointree->fromlist)
	{
		if (!JoinQualsAreDeparsable(lfirst(lc)))
			return false;
	}
	foreach(lc, query->returningList)
	{
		if (query->commandType == CMD_INSERT ?
			checkExprHasSubLink(lfirst(lc)) :
			!ExprIsDeparsable((Node *) ((TargetEntry *) lfirst(lc))->expr))
			return false;
	}
	return ExprIsDeparsable(query->jointree->quals) &&
		ExprIsDeparsable(query->havingQual);
}

/*
 * QueryIsDeparsable returns whether DeparseShardQuery can print the query:
 * a SELECT over relations and joins of them, an INSERT into the relation
 * at index 1 of the rows such a SELECT computes (its target list and FROM
 * clause), or a single-table UPDATE or DELETE, without constructs whose
 * text would refer to other relations or clauses this deparser does not
 * print.  Join alias references must have been flattened.  A statement
 * as the user wrote it (hasSubLinks) is never deparsable with sublinks:
 * only the planner's shard queries get them, once it has checked that the
 * shards evaluate them correctly (sublink_pushdown.c).
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
	/* a UNION ALL subquery: nothing but its branches */
	if (query->setOperations != NULL)
		return query->commandType == CMD_SELECT && !query->hasSubLinks &&
			query->cteList == NIL && query->sortClause == NIL &&
			query->limitCount == NULL && query->limitOffset == NULL &&
			query->rowMarks == NIL &&
			SetOperationIsDeparsable(query, query->setOperations);
	if (query->cteList != NIL ||
		query->setOperations != NULL || query->hasSubLinks ||
		!SubLinksAreDeparsable(query) ||
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
 * AppendAliasWithColumns prints the alias of a FROM item that is not a
 * relation, with its column names: alias(col1, col2).
 */
static void
AppendAliasWithColumns(DeparseContext *context, StringInfo buf,
					   RangeTblEntry *rte, Index rtindex)
{
	ListCell   *lc;

	appendStringInfo(buf, "%s(", RelationAlias(context, rtindex));
	foreach(lc, rte->eref->colnames)
		appendStringInfo(buf, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_identifier(strVal(lfirst(lc))));
	appendStringInfoChar(buf, ')');
}

/*
 * AppendSubquery prints a subquery in FROM with its alias and column
 * names, which its level's column references use.
 */
static void
AppendSubquery(DeparseContext *context, StringInfo buf, RangeTblEntry *rte,
			   Index rtindex)
{
	DeparseContext subcontext;

	memset(&subcontext, 0, sizeof(subcontext));
	InitDeparseContext(&subcontext, rte->subquery, context);
	appendStringInfoChar(buf, '(');
	AppendSelect(&subcontext, buf);
	appendStringInfoString(buf, ") ");
	AppendAliasWithColumns(context, buf, rte, rtindex);
}

/*
 * AppendTableSample prints a relation's TABLESAMPLE clause.
 */
static void
AppendTableSample(DeparseContext *context, StringInfo buf,
				  TableSampleClause *tablesample)
{
	Oid			handler = tablesample->tsmhandler;

	appendStringInfo(buf, " TABLESAMPLE %s(",
					 quote_qualified_identifier(get_namespace_name(get_func_namespace(handler)),
												get_func_name(handler)));
	AppendExprList(context, buf, tablesample->args);
	appendStringInfoChar(buf, ')');
	if (tablesample->repeatable != NULL)
	{
		appendStringInfoString(buf, " REPEATABLE (");
		AppendExpr(context, buf, (Node *) tablesample->repeatable);
		appendStringInfoChar(buf, ')');
	}
}

/*
 * AppendFunctions prints a FROM item of set-returning functions (a
 * relation sent to the shards as arrays, see broadcast_joins.c) as
 * ROWS FROM (f1(...), f2(...)) alias(column names).
 */
static void
AppendFunctions(DeparseContext *context, StringInfo buf, RangeTblEntry *rte,
				Index rtindex)
{
	ListCell   *lc;

	appendStringInfoString(buf, "ROWS FROM (");
	foreach(lc, rte->functions)
	{
		RangeTblFunction *rtfunc = lfirst(lc);

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, ", ");
		AppendExpr(context, buf, rtfunc->funcexpr);
	}
	appendStringInfoString(buf, ") ");
	AppendAliasWithColumns(context, buf, rte, rtindex);
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
		RangeTblEntry *rte = rt_fetch(rtindex, context->query->rtable);

		if (rte->rtekind == RTE_SUBQUERY)
		{
			AppendSubquery(context, buf, rte, rtindex);
			return;
		}
		if (rte->rtekind == RTE_FUNCTION)
		{
			AppendFunctions(context, buf, rte, rtindex);
			return;
		}
		appendStringInfoString(buf, "ONLY ");
		AppendRelation(context, buf, rtindex);
		appendStringInfo(buf, " %s", RelationAlias(context, rtindex));
		if (rte->tablesample != NULL)
			AppendTableSample(context, buf, rte->tablesample);
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
		appendStringInfoString(buf, " ON ");
		if (join->quals != NULL)
			AppendExpr(context, buf, join->quals);
		else
			appendStringInfoString(buf, "true");
		appendStringInfoChar(buf, ')');
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
 * AppendSetOperation prints a tree of UNION ALL over subqueries, each
 * branch in parentheses.
 */
static void
AppendSetOperation(DeparseContext *context, StringInfo buf, Node *node)
{
	if (IsA(node, RangeTblRef))
	{
		DeparseContext subcontext;

		memset(&subcontext, 0, sizeof(subcontext));
		InitDeparseContext(&subcontext,
						   rt_fetch(((RangeTblRef *) node)->rtindex,
									context->query->rtable)->subquery,
						   context);
		appendStringInfoChar(buf, '(');
		AppendSelect(&subcontext, buf);
		appendStringInfoChar(buf, ')');
	}
	else
	{
		SetOperationStmt *setop = castNode(SetOperationStmt, node);

		appendStringInfoChar(buf, '(');
		AppendSetOperation(context, buf, setop->larg);
		appendStringInfoString(buf, " UNION ALL ");
		AppendSetOperation(context, buf, setop->rarg);
		appendStringInfoChar(buf, ')');
	}
}

/*
 * SetOperationIsDeparsable: the tree is UNION ALL over deparsable
 * subqueries (the planner ships no other).
 */
static bool
SetOperationIsDeparsable(Query *query, Node *node)
{
	if (IsA(node, RangeTblRef))
	{
		RangeTblEntry *rte = rt_fetch(((RangeTblRef *) node)->rtindex,
									  query->rtable);

		return rte->rtekind == RTE_SUBQUERY &&
			rte->subquery->commandType == CMD_SELECT &&
			rte->subquery->rowMarks == NIL &&
			QueryIsDeparsable(rte->subquery);
	}
	if (IsA(node, SetOperationStmt))
	{
		SetOperationStmt *setop = (SetOperationStmt *) node;

		return setop->op == SETOP_UNION && setop->all &&
			SetOperationIsDeparsable(query, setop->larg) &&
			SetOperationIsDeparsable(query, setop->rarg);
	}
	return false;
}

/* AppendSelect prints a SELECT statement of any query level */
static void
AppendSelect(DeparseContext *context, StringInfo buf)
{
	Query	   *query = context->query;

	if (query->setOperations != NULL)
	{
		AppendSetOperation(context, buf, query->setOperations);
		return;
	}
	appendStringInfoString(buf, "SELECT ");
	if (query->distinctClause != NIL)
	{
		if (query->hasDistinctOn)
		{
			appendStringInfoString(buf, "DISTINCT ON (");
			AppendExprList(context, buf,
						   SortGroupExprs(query, query->distinctClause));
			appendStringInfoString(buf, ") ");
		}
		else
			appendStringInfoString(buf, "DISTINCT ");
	}
	AppendTargetList(context, buf, query->targetList);
	AppendFromClause(context, buf, " FROM ");
	AppendSelectTail(context, buf);
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
	memset(&context, 0, sizeof(context));
	InitDeparseContext(&context, query, NULL);
	initStringInfo(&buf);

	switch (query->commandType)
	{
		case CMD_SELECT:
			AppendSelect(&context, &buf);
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

	memset(&context, 0, sizeof(context));
	InitDeparseContext(&context, query, NULL);
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
