/*-------------------------------------------------------------------------
 *
 * placeholder_columns.c
 *	  The columns a placeholder scan returns in place of distributed tables.
 *
 * When distributed tables of a query level are replaced by a placeholder
 * scan of rows from the shards (pull_up_planner.c, join_pushdown.c), the
 * shards return the tables' columns that the rest of the query uses, and
 * the query's references to them -- at any nesting depth, in subqueries
 * and sublinks too -- become references to the placeholder's columns.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "distdb/planner_internal.h"

typedef struct ColumnWalkerContext
{
	Bitmapset  *relations;		/* range table indexes being replaced */
	int			level;			/* query nesting below the query level */
	bool		collect;		/* collect columns, or renumber them */
	List	   *columns;		/* PlaceholderColumn, in placeholder order */
	Index		placeholderIndex;
	bool		unsupported;	/* a whole-row or system column but ctid */
} ColumnWalkerContext;

/* finds or adds a column; returns its placeholder position */
static int
ColumnPosition(ColumnWalkerContext *context, Var *var)
{
	ListCell   *lc;
	PlaceholderColumn *column;

	foreach(lc, context->columns)
	{
		column = lfirst(lc);
		if (column->rtindex == var->varno && column->attno == var->varattno)
			return foreach_current_index(lc) + 1;
	}
	if (!context->collect)
		elog(ERROR, "column %d of range table entry %d was not collected",
			 var->varattno, var->varno);
	column = palloc0(sizeof(PlaceholderColumn));
	column->rtindex = var->varno;
	column->attno = var->varattno;
	context->columns = lappend(context->columns, column);
	return list_length(context->columns);
}

/* collects or renumbers references to the replaced tables' columns */
static bool
ColumnWalker(Node *node, ColumnWalkerContext *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;
		int			position;

		if (var->varlevelsup != context->level ||
			!bms_is_member(var->varno, context->relations))
			return false;
		/* ctid is read from the shard (UPDATE / DELETE via the coordinator) */
		if (var->varattno <= 0 &&
			var->varattno != SelfItemPointerAttributeNumber)
		{
			context->unsupported = true;
			return false;
		}
		position = ColumnPosition(context, var);
		if (!context->collect)
		{
			var->varno = context->placeholderIndex;
			var->varattno = position;
			var->varnosyn = var->varno;
			var->varattnosyn = var->varattno;
		}
		return false;
	}
	if (IsA(node, Query))
	{
		bool		result;

		context->level++;
		result = query_tree_walker((Query *) node, ColumnWalker, context, 0);
		context->level--;
		return result;
	}
	return expression_tree_walker(node, ColumnWalker, context);
}

/* context of the whole-row reference walker and mutator */
typedef struct WholeRowContext
{
	Index		rti;			/* the table at the query level */
	Oid			relid;
	AttrNumber	presenceColumn; /* NULL only in null-extended rows, or 0 */
	int			level;			/* query nesting below the query level */
} WholeRowContext;

/* IsWholeRowReference: a whole-row Var of the context's table */
static bool
IsWholeRowReference(Node *node, WholeRowContext *context)
{
	return IsA(node, Var) && ((Var *) node)->varno == context->rti &&
		((Var *) node)->varlevelsup == context->level &&
		((Var *) node)->varattno == InvalidAttrNumber;
}

/* walker for ExpandWholeRowReferences: finds one */
static bool
WholeRowWalker(Node *node, WholeRowContext *context)
{
	if (node == NULL)
		return false;
	if (IsWholeRowReference(node, context))
		return true;
	if (IsA(node, Query))
	{
		bool		result;

		context->level++;
		result = query_tree_walker((Query *) node, WholeRowWalker, context, 0);
		context->level--;
		return result;
	}
	return expression_tree_walker(node, WholeRowWalker, context);
}

/*
 * WholeRowExpression returns ROW(column, ...) of the table's row type, with
 * NULL in place of dropped columns, for a whole-row reference.
 */
static Node *
WholeRowExpression(Var *var, Oid relid, AttrNumber presenceColumn)
{
	RowExpr    *row = makeNode(RowExpr);
	Relation	relation = table_open(relid, AccessShareLock);
	TupleDesc	tupleDesc = RelationGetDescr(relation);
	int			i;

	for (i = 0; i < tupleDesc->natts; i++)
	{
		Form_pg_attribute attribute = TupleDescAttr(tupleDesc, i);

		if (attribute->attisdropped)
		{
			row->args = lappend(row->args,
								makeNullConst(INT4OID, -1, InvalidOid));
			row->colnames = lappend(row->colnames, makeString(pstrdup("")));
			continue;
		}
		row->args = lappend(row->args,
							makeVar(var->varno, attribute->attnum,
									attribute->atttypid, attribute->atttypmod,
									attribute->attcollation, var->varlevelsup));
		row->colnames = lappend(row->colnames,
								makeString(pstrdup(NameStr(attribute->attname))));
	}
	table_close(relation, AccessShareLock);
	row->row_typeid = var->vartype;
	row->row_format = COERCE_IMPLICIT_CAST;
	row->location = -1;

	/* CASE WHEN column IS NOT NULL THEN ROW(...) END */
	if (presenceColumn != InvalidAttrNumber)
	{
		CaseExpr   *caseExpr = makeNode(CaseExpr);
		CaseWhen   *when = makeNode(CaseWhen);
		NullTest   *test = makeNode(NullTest);
		Var		   *column = list_nth(row->args, presenceColumn - 1);

		test->arg = (Expr *) copyObject(column);
		test->nulltesttype = IS_NOT_NULL;
		test->argisrow = false;
		test->location = -1;
		when->expr = (Expr *) test;
		when->result = (Expr *) row;
		when->location = -1;
		caseExpr->casetype = var->vartype;
		caseExpr->casecollid = InvalidOid;
		caseExpr->args = list_make1(when);
		caseExpr->defresult = (Expr *) makeNullConst(var->vartype, -1,
													 InvalidOid);
		caseExpr->location = -1;
		return (Node *) caseExpr;
	}
	return (Node *) row;
}

/* mutator for ExpandWholeRowReferences */
static Node *
WholeRowMutator(Node *node, WholeRowContext *context)
{
	if (node == NULL)
		return NULL;
	if (IsWholeRowReference(node, context))
		return WholeRowExpression((Var *) node, context->relid,
								  context->presenceColumn);
	if (IsA(node, Query))
	{
		Query	   *result;

		context->level++;
		result = query_tree_mutator((Query *) node, WholeRowMutator, context,
									0);
		context->level--;
		return (Node *) result;
	}
	return expression_tree_mutator(node, WholeRowMutator, context);
}

/*
 * ExpandWholeRowReferences replaces the query's whole-row references to
 * the table at rti (at any depth) by ROW(...) of its columns, which a
 * placeholder scan can provide.  On the nullable side of an outer join,
 * where the reference is NULL in null-extended rows but ROW(...) would be
 * a row of NULLs, pass as presenceColumn a column that is never NULL in
 * the table (a distributed table's distribution column): the reference
 * becomes CASE WHEN column IS NOT NULL THEN ROW(...) END.  The query and
 * its range table entries are changed in place: callers hold pointers to
 * them.
 */
void
ExpandWholeRowReferences(Query *query, Index rti, Oid relid,
						 AttrNumber presenceColumn)
{
	WholeRowContext context;
	ListCell   *lc;

	memset(&context, 0, sizeof(context));
	context.rti = rti;
	context.relid = relid;
	context.presenceColumn = presenceColumn;
	if (!query_tree_walker(query, WholeRowWalker, &context, 0))
		return;

	query_tree_mutator(query, WholeRowMutator, &context,
					   QTW_DONT_COPY_QUERY | QTW_IGNORE_RANGE_TABLE);
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		switch (rte->rtekind)
		{
			case RTE_SUBQUERY:
				rte->subquery = (Query *) WholeRowMutator((Node *) rte->subquery,
														  &context);
				break;
			case RTE_FUNCTION:
				rte->functions = (List *) WholeRowMutator((Node *) rte->functions,
														  &context);
				break;
			case RTE_VALUES:
				rte->values_lists = (List *) WholeRowMutator((Node *) rte->values_lists,
															 &context);
				break;
			case RTE_TABLEFUNC:
				rte->tablefunc = (TableFunc *) WholeRowMutator((Node *) rte->tablefunc,
															   &context);
				break;
			case RTE_JOIN:
				rte->joinaliasvars = (List *) WholeRowMutator((Node *) rte->joinaliasvars,
															  &context);
				break;
			default:
				break;
		}
	}
}

/*
 * CollectPlaceholderColumns lists (as PlaceholderColumn) the columns of the
 * given tables that the query uses, in order of first use; walkFlags are
 * query_tree_walker's (e.g. to skip the range table when the tables' joins
 * move to the shards).  *unsupported is set when the query uses a whole-row
 * or system column of one of them.
 */
List *
CollectPlaceholderColumns(Query *query, Bitmapset *relations, int walkFlags,
						  bool *unsupported)
{
	ColumnWalkerContext context;

	memset(&context, 0, sizeof(context));
	context.relations = relations;
	context.collect = true;
	query_tree_walker(query, ColumnWalker, &context, walkFlags);
	*unsupported = context.unsupported;
	return context.columns;
}

/*
 * RenumberPlaceholderColumns makes the query's references to those columns
 * references to the placeholder's columns, in the order of the list.
 */
void
RenumberPlaceholderColumns(Query *query, Bitmapset *relations, int walkFlags,
						   List *columns, Index placeholderIndex)
{
	ColumnWalkerContext context;

	memset(&context, 0, sizeof(context));
	context.relations = relations;
	context.columns = columns;
	context.placeholderIndex = placeholderIndex;
	query_tree_walker(query, ColumnWalker, &context, walkFlags);
}

/*
 * MakeWorkerQuery starts a shard query: SELECT (no columns yet) FROM the
 * given items of the given range table, WHERE quals (or none).
 */
Query *
MakeWorkerQuery(List *rtable, List *fromlist, Node *quals)
{
	Query	   *workerQuery = makeNode(Query);

	workerQuery->commandType = CMD_SELECT;
	workerQuery->querySource = QSRC_ORIGINAL;
	workerQuery->canSetTag = true;
	workerQuery->rtable = rtable;
	workerQuery->jointree = makeFromExpr(fromlist, quals);
	return workerQuery;
}

/*
 * MakeSubqueryRte makes a subquery a range table entry named aliasName,
 * whose output columns are called columnNames (a list of String).
 */
RangeTblEntry *
MakeSubqueryRte(Query *subquery, const char *aliasName, List *columnNames,
				bool inFromCl)
{
	RangeTblEntry *rte = makeNode(RangeTblEntry);

	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = subquery;
	rte->alias = makeAlias(aliasName, NIL);
	rte->eref = makeAlias(aliasName, columnNames);
	rte->inFromCl = inFromCl;
	return rte;
}

/*
 * MakeSingleTableWorkerQuery starts the shard query of one table, which is
 * at range table index 1 there; quals must refer to it as index 1.
 */
Query *
MakeSingleTableWorkerQuery(RangeTblEntry *rte, Node *quals)
{
	RangeTblRef *reference = makeNode(RangeTblRef);

	reference->rtindex = 1;
	return MakeWorkerQuery(list_make1(copyObject(rte)), list_make1(reference),
						   quals);
}

/*
 * AddWorkerColumns gives the shard query one output column per placeholder
 * column -- a constant when there is none, so that rows can be counted --
 * and returns their names and expressions for the placeholder entry.  The
 * shard query refers to the columns' table at workerRelationIndex when it
 * is not zero (a single table moved to index 1), else at their own index.
 */
void
AddWorkerColumns(Query *workerQuery, Query *query, List *columns,
				 Index workerRelationIndex, List **names, List **exprs)
{
	ListCell   *lc;

	*names = NIL;
	*exprs = NIL;
	foreach(lc, columns)
	{
		PlaceholderColumn *column = lfirst(lc);
		RangeTblEntry *rte = rt_fetch(column->rtindex, query->rtable);
		char	   *name;
		Oid			type;
		int32		typmod;
		Oid			collation;
		Var		   *var;

		if (rte->rtekind == RTE_SUBQUERY)
		{
			/* an output column of a subquery that runs on the shards */
			Node	   *expr = (Node *) get_tle_by_resno(rte->subquery->targetList,
														 column->attno)->expr;

			name = strVal(list_nth(rte->eref->colnames, column->attno - 1));
			type = exprType(expr);
			typmod = exprTypmod(expr);
			collation = exprCollation(expr);
		}
		else if (rte->rtekind == RTE_FUNCTION)
		{
			/* a relation sent to the shards: one function per column */
			Node	   *expr = ((RangeTblFunction *) list_nth(rte->functions,
														 column->attno - 1))->funcexpr;

			name = strVal(list_nth(rte->eref->colnames, column->attno - 1));
			type = exprType(expr);
			typmod = -1;
			collation = exprCollation(expr);
		}
		else
		{
			name = get_attname(rte->relid, column->attno, false);
			get_atttypetypmodcoll(rte->relid, column->attno, &type, &typmod,
								  &collation);
		}
		var = makeVar(workerRelationIndex ? workerRelationIndex : column->rtindex,
					  column->attno, type, typmod, collation, 0);
		*names = lappend(*names, name);
		*exprs = lappend(*exprs, var);
	}
	if (columns == NIL)
	{
		*names = list_make1("one");
		*exprs = list_make1(makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
									  Int32GetDatum(1), false, true));
	}
	foreach(lc, *exprs)
		workerQuery->targetList =
			lappend(workerQuery->targetList,
					makeTargetEntry(lfirst(lc),
									list_length(workerQuery->targetList) + 1,
									list_nth(*names, foreach_current_index(lc)),
									false));
}
