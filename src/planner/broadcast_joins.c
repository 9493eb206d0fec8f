/*-------------------------------------------------------------------------
 *
 * broadcast_joins.c
 *	  Joins of distributed tables with small relations the shards cannot
 *	  read, run on the shards by sending the small relation's rows along.
 *
 * A query level joining a distributed table (or co-located tables joined
 * on their distribution columns) with a local table of the coordinator, or
 * with a distributed table that is not co-located or not joined on the
 * distribution columns, would pull every table's rows to the coordinator
 * (pull_up_planner.c).  When all but the largest co-located group of
 * distributed tables are small -- at most distdb.broadcast_join_max_rows
 * rows after their own filters, estimated from statistics -- each small
 * relation is computed first on the coordinator instead, like an InitPlan
 * (computed_subqueries.c): its filtered rows, only the columns the query
 * uses, one array per column.  In the query level, the relation becomes
 *		ROWS FROM (unnest($1), unnest($2), ...) AS alias(col1, col2, ...)
 * with a function per column of the relation in column order (columns the
 * query does not use unnest a NULL array, which ROWS FROM pads with
 * NULLs), so that every reference to the relation's columns stays valid.
 * Such a relation is the same on every node, like a reference table:
 * join_pushdown.c then runs the join, the WHERE clause, and the
 * aggregation, grouping or window functions above it on the shards, and
 * the coordinator only combines.
 *
 * As with reference tables, the broadcast relation may not be on the
 * preserved side of an outer join whose other side has distributed tables
 * (small LEFT JOIN big would return its unmatched rows from every shard);
 * join_pushdown.c refuses those, and the query level is then pulled up as
 * before.  A WHERE condition on the small relation alone is applied when it
 * is computed, unless the relation is on an outer join's nullable side.
 *
 * The estimate only decides the plan: a relation that turns out to have
 * more rows at execution is still sent whole, so the answer stays right,
 * only slower.  A relation whose statistics are unknown (a distributed
 * table never analyzed) is not broadcast.  A local table's column types
 * must be built-in ones, which every node knows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "optimizer/prep.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "distdb/distdb.h"
#include "distdb/planner_internal.h"

/* a relation of the query level that is not a reference table */
typedef struct BroadcastCandidate
{
	Index		rtindex;
	DistTableCacheEntry *entry; /* NULL for a local table */
	List	   *filters;		/* its WHERE conditions computed with it */
	Query	   *extraction;		/* SELECT <used columns> ... WHERE filters */
	PlannedStmt *plan;			/* its plan, once planned */
	List	   *columns;		/* PlaceholderColumn: the columns used */
	double		rows;			/* estimated rows, -1 if unknown */
} BroadcastCandidate;

/* ExecParamWalker: whether an expression uses a value computed first */
static bool
ExecParamWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		return true;
	return expression_tree_walker(node, ExecParamWalker, context);
}

/*
 * IsBroadcastRelation: whether a range table entry is a relation computed
 * first on the coordinator and sent to the shards (see the file header).
 */
bool
IsBroadcastRelation(RangeTblEntry *rte)
{
	ListCell   *lc;

	if (rte->rtekind != RTE_FUNCTION || rte->funcordinality ||
		rte->lateral || rte->functions == NIL)
		return false;
	foreach(lc, rte->functions)
	{
		FuncExpr   *call = (FuncExpr *) ((RangeTblFunction *) lfirst(lc))->funcexpr;
		Node	   *arg;

		if (!IsA(call, FuncExpr) || call->funcid != F_UNNEST_ANYARRAY ||
			list_length(call->args) != 1)
			return false;
		arg = linitial(call->args);
		if (!(IsA(arg, Param) && ((Param *) arg)->paramkind == PARAM_EXEC) &&
			!(IsA(arg, Const) && ((Const *) arg)->constisnull))
			return false;
	}
	return true;
}

/*
 * MakeCandidate prepares the computation of one relation of the query
 * level: the columns the query uses, its own WHERE conditions, the query
 * computing its rows and that query's plan.  Returns NULL for relations
 * that cannot be broadcast.
 */
static BroadcastCandidate *
MakeCandidate(Query *query, Index rti, ParamListInfo boundParams)
{
	RangeTblEntry *rte = rt_fetch(rti, query->rtable);
	BroadcastCandidate *candidate;
	bool		unsupported;
	Relids		onlyThis = bms_make_singleton(rti);
	List	   *names;
	List	   *exprs;
	List	   *kept = NIL;
	Node	   *whereQuals = query->jointree->quals;
	ListCell   *lc;
	Node	   *quals = NULL;

	if (rte->rtekind != RTE_RELATION || rte->tablesample != NULL ||
		rte->securityQuals != NIL || get_parse_rowmark(query, rti) != NULL)
		return NULL;
	candidate = palloc0(sizeof(BroadcastCandidate));
	candidate->rtindex = rti;
	candidate->entry = LookupDistTable(rte->relid);

	/* the WHERE conditions on it alone, unless outer joins null it */
	if (query->jointree->quals != NULL &&
		!IsNullableInJoinTree((Node *) query->jointree, rti, false))
	{
		foreach(lc, make_ands_implicit((Expr *) query->jointree->quals))
		{
			Node	   *clause = lfirst(lc);

			/* not values computed first for the level (ExecParamWalker) */
			if (bms_equal(pull_varnos(NULL, clause), onlyThis) &&
				!contain_vars_of_level(clause, 1) &&
				!checkExprHasSubLink(clause) &&
				!contain_volatile_functions(clause) &&
				!ExecParamWalker(clause, NULL))
				candidate->filters = lappend(candidate->filters, clause);
			else
				kept = lappend(kept, clause);
		}
	}

	/*
	 * The columns the rest of the query uses (not its conditions computed
	 * with it), whole-row references aside.
	 */
	query->jointree->quals = kept ? (Node *) make_ands_explicit(kept) : NULL;
	if (candidate->filters == NIL)
		query->jointree->quals = whereQuals;
	candidate->columns = CollectPlaceholderColumns(query, onlyThis,
												   QTW_IGNORE_JOINALIASES,
												   &unsupported);
	query->jointree->quals = whereQuals;
	if (unsupported)
		return NULL;
	foreach(lc, candidate->columns)
	{
		PlaceholderColumn *column = lfirst(lc);
		Oid			type = get_atttype(rte->relid, column->attno);

		if (!OidIsValid(get_array_type(type)) ||
			(candidate->entry == NULL && type >= FirstNormalObjectId))
			return NULL;
	}

	/* SELECT <columns> FROM relation WHERE <its conditions> */
	if (candidate->filters != NIL)
	{
		quals = (Node *) make_ands_explicit(copyObject(candidate->filters));
		ChangeVarNodes(quals, rti, 1, 0);
	}
	candidate->extraction = MakeSingleTableWorkerQuery(rte, quals);
	rt_fetch(1, candidate->extraction->rtable)->inFromCl = true;
	AddWorkerColumns(candidate->extraction, query, candidate->columns, 1,
					 &names, &exprs);

	/*
	 * A local table's estimate comes from planning the query; a
	 * distributed table's plan says nothing of its rows, so its
	 * reltuples stand for them, its filters aside (on the safe side).
	 */
	if (candidate->entry == NULL)
	{
		candidate->plan = planner(copyObject(candidate->extraction), NULL, 0,
								  boundParams);
		candidate->rows = candidate->plan->planTree->plan_rows;
	}
	else
		candidate->rows = TableRowCount(rte->relid);
	return candidate;
}

/*
 * BroadcastRelation replaces a small relation of the query level by the
 * unnest() of the arrays of its columns computed first, whose plans and
 * kinds go to *subqueryPlans and *subqueryKinds; its WHERE conditions,
 * computed with it, leave the level.  The relation itself stays in the
 * range table, unreferenced, for the privilege checks.
 */
static void
BroadcastRelation(Query *query, BroadcastCandidate *candidate,
				  ParamListInfo boundParams, List **subqueryPlans,
				  List **subqueryKinds)
{
	RangeTblEntry *rte = rt_fetch(candidate->rtindex, query->rtable);
	RangeTblEntry *broadcast = makeNode(RangeTblEntry);
	Relation	relation = table_open(rte->relid, NoLock);
	TupleDesc	tupdesc = RelationGetDescr(relation);
	List	   *colnames = NIL;
	int			firstParam = list_length(*subqueryPlans);
	int			attno;
	ListCell   *lc;

	if (candidate->plan == NULL)
		candidate->plan = planner(copyObject(candidate->extraction), NULL, 0,
								  boundParams);
	foreach(lc, candidate->columns)
	{
		*subqueryPlans = lappend(*subqueryPlans,
								 foreach_current_index(lc) == 0 ?
								 candidate->plan : NULL);
		*subqueryKinds = lappend_int(*subqueryKinds,
									 COMPUTED_COLUMN_KIND +
									 foreach_current_index(lc));
	}

	for (attno = 1; attno <= tupdesc->natts; attno++)
	{
		Form_pg_attribute attribute = TupleDescAttr(tupdesc, attno - 1);
		RangeTblFunction *rtfunc = makeNode(RangeTblFunction);
		Oid			type = attribute->atttypid;
		Oid			collation = attribute->attcollation;
		Oid			arrayType;
		Node	   *array = NULL;
		FuncExpr   *call;

		/* a dropped column, or an unused one without arrays: int NULLs */
		if (attribute->attisdropped || !OidIsValid(get_array_type(type)))
		{
			type = INT4OID;
			collation = InvalidOid;
		}
		arrayType = get_array_type(type);

		foreach(lc, candidate->columns)
		{
			if (((PlaceholderColumn *) lfirst(lc))->attno == attno)
			{
				Param	   *param = makeNode(Param);

				param->paramkind = PARAM_EXEC;
				param->paramid = firstParam + foreach_current_index(lc);
				param->paramtype = arrayType;
				param->paramtypmod = -1;
				param->paramcollid = collation;
				param->location = -1;
				array = (Node *) param;
			}
		}
		/* an unused column: NULLs */
		if (array == NULL)
			array = (Node *) makeNullConst(arrayType, -1, collation);
		call = makeFuncExpr(F_UNNEST_ANYARRAY, type, list_make1(array),
							collation, collation, COERCE_EXPLICIT_CALL);
		call->funcretset = true;
		rtfunc->funcexpr = (Node *) call;
		rtfunc->funccolcount = 1;
		broadcast->functions = lappend(broadcast->functions, rtfunc);
		colnames = lappend(colnames,
						   makeString(attribute->attisdropped ?
									  psprintf("dropped%d", attno) :
									  pstrdup(NameStr(attribute->attname))));
	}
	table_close(relation, NoLock);

	broadcast->rtekind = RTE_FUNCTION;
	broadcast->alias = copyObject(rte->alias);
	broadcast->eref = makeAlias(rte->eref->aliasname, colnames);
	broadcast->inFromCl = rte->inFromCl;
	broadcast->inh = false;
	broadcast->lateral = false;

	/* its own WHERE conditions are computed with it */
	if (candidate->filters != NIL)
	{
		List	   *kept = NIL;

		foreach(lc, make_ands_implicit((Expr *) query->jointree->quals))
		{
			if (!list_member(candidate->filters, lfirst(lc)))
				kept = lappend(kept, lfirst(lc));
		}
		query->jointree->quals = kept ? (Node *) make_ands_explicit(kept) : NULL;
	}

	rte->inFromCl = false;
	query->rtable = lappend(query->rtable, rte);
	list_nth_cell(query->rtable, candidate->rtindex - 1)->ptr_value = broadcast;
}

/*
 * BroadcastSmallRelations returns a copy of a SELECT query level in which
 * the relations the shards cannot read along with its largest group of
 * co-located distributed tables are broadcast (see the file header), or
 * NULL when the level has none, or one is too large or cannot be
 * broadcast.  The plans computing them are appended to *subqueryPlans and
 * their kinds to *subqueryKinds; the caller removes them again when the
 * copy is not used.
 */
Query *
BroadcastSmallRelations(Query *query, ParamListInfo boundParams,
						List **subqueryPlans, List **subqueryKinds)
{
	Relids		relations;
	List	   *candidates = NIL;
	BroadcastCandidate *largest = NULL;
	Query	   *attempt;
	bool		any = false;
	int			member = -1;
	ListCell   *lc;

	if (DistdbBroadcastJoinMaxRows <= 0 || query->commandType != CMD_SELECT ||
		query->rowMarks != NIL || query->jointree->fromlist == NIL ||
		query->hasRecursive)
		return NULL;
	relations = get_relids_in_jointree((Node *) query->jointree, false);
	if (bms_num_members(relations) < 2)
		return NULL;

	/*
	 * Join aliases become references to the tables' columns, so that the
	 * columns used are found in the expressions.
	 */
	attempt = copyObject(query);
	FlattenJoinAliasReferences(attempt);

	/* the relations that are not reference tables, estimated */
	while ((member = bms_next_member(relations, member)) >= 0)
	{
		RangeTblEntry *rte = rt_fetch(member, attempt->rtable);
		DistTableCacheEntry *entry;
		BroadcastCandidate *candidate;

		if (rte->rtekind != RTE_RELATION)
			continue;
		entry = LookupDistTable(rte->relid);
		if (entry != NULL && IsReferenceTableEntry(entry))
			continue;
		candidate = MakeCandidate(attempt, member, boundParams);
		if (candidate == NULL)
		{
			/* a distributed table that stays, or no broadcast at all */
			if (entry == NULL)
				return NULL;
			continue;
		}
		candidates = lappend(candidates, candidate);
		/* unknown counts as largest */
		if (entry != NULL &&
			(largest == NULL || largest->rows >= 0) &&
			(largest == NULL || candidate->rows < 0 ||
			 candidate->rows > largest->rows))
			largest = candidate;
	}
	if (largest == NULL)
		return NULL;

	/* everything outside the largest one's co-location group is small */
	foreach(lc, candidates)
	{
		BroadcastCandidate *candidate = lfirst(lc);

		if (candidate->entry != NULL &&
			(candidate == largest ||
			 (largest->entry->colocationId != 0 &&
			  candidate->entry->colocationId == largest->entry->colocationId)))
			continue;
		if (candidate->rows < 0 ||
			candidate->rows > DistdbBroadcastJoinMaxRows)
			return NULL;
		BroadcastRelation(attempt, candidate, boundParams, subqueryPlans,
						  subqueryKinds);
		any = true;
	}
	return any ? attempt : NULL;
}
