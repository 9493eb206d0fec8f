/*-------------------------------------------------------------------------
 *
 * copy_from.c
 *	  COPY ... FROM (STDIN, a file or a program) into a distributed table.
 *
 * The rows are read and parsed on the coordinator by PostgreSQL's own COPY
 * machinery (BeginCopyFrom / NextCopyFrom), which gives every format
 * (text, csv, binary) and option (HEADER, DELIMITER, NULL, QUOTE, ESCAPE,
 * FORCE_NOT_NULL, FORCE_NULL, ENCODING) PostgreSQL's meaning, evaluates
 * the defaults of the columns the COPY does not list (so sequences advance
 * on the coordinator) and checks domains.  The WHERE clause, the NOT NULL
 * and CHECK constraints are evaluated on the coordinator too, so that a
 * bad row fails with PostgreSQL's message and the line-number context of
 * the COPY before anything of it reaches a shard.
 *
 * Each row is then routed by the hash of its distribution value and handed
 * to the shard copy buffers (src/operations/shard_copy.c), which print it
 * in COPY text format and stream it to its shard with COPY ... FROM STDIN,
 * in batches of distdb.copy_batch_size, over one connection per node
 * inside the remote transaction: an error anywhere aborts the local
 * transaction and with it everything this COPY sent to any node.
 *
 * Values are printed under the deparse settings (ISO dates, all float
 * digits; see PushDeparseSettings) so the nodes read back exactly what was
 * parsed, but parsing must follow the session's own DateStyle and
 * search_path.  Switching settings per row would cost more than the row,
 * so parsed rows are collected (copied into a batch context) and printed
 * a batch at a time.  Memory stays bounded: the parse state is reset per
 * row, the batch per batch, and the per-shard buffers are sent when full.
 *
 * Privileges are PostgreSQL's: INSERT on the table or on every column the
 * COPY lists, and for a file or a program the pg_read_server_files and
 * pg_execute_server_program roles; all are checked before anything is sent.
 * Stored generated columns are computed by the shards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "commands/copy.h"
#include "commands/defrem.h"
#include "commands/progress.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "pgstat.h"
#include "rewrite/rewriteHandler.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "distdb/connection_cache.h"
#include "distdb/copy_from.h"
#include "distdb/ddl_propagation.h"
#include "distdb/deparse.h"
#include "distdb/metadata_cache.h"
#include "distdb/remote_transaction.h"
#include "distdb/shard_copy.h"

/* parsed rows collected before they are printed for the shards */
#define COPY_PRINT_BATCH_ROWS 1000
#define COPY_PRINT_BATCH_BYTES (4 * 1024 * 1024)

/* a row parsed on the coordinator, not yet printed */
typedef struct ParsedRow
{
	Datum	   *values;			/* per attribute */
	bool	   *nulls;			/* per attribute */
	int			shardIndex;
} ParsedRow;

/* state of one COPY ... FROM into a distributed table */
typedef struct DistributedCopyState
{
	Relation	rel;
	TupleDesc	tupleDesc;
	AttrNumber	distAttnum;		/* InvalidAttrNumber: a reference table */
	FmgrInfo	hashFunction;	/* of the distribution column's type */
	Oid			distCollation;
	int			shardCount;
	bool	   *sentColumns;	/* per attribute: sent to the shards */
	List	   *connections;	/* one per node holding a shard */
	ShardCopyBuffers *buffers;

	MemoryContext batchContext; /* the parsed rows of the batch */
	MemoryContext printContext; /* reset per printed row */
	ParsedRow  *batchRows;		/* COPY_PRINT_BATCH_ROWS entries */
	int			batchRowCount;
} DistributedCopyState;

static List *CheckCopyFromPrivileges(CopyStmt *stmt, ParseState *pstate,
									 Relation rel);
static bool *ColumnsSentToShards(Relation rel, List *attnums);
static Node *TransformCopyWhereClause(CopyStmt *stmt, ParseState *pstate,
									  Relation rel);
static void ErrorIfCopyFreeze(List *options);
static void OpenShardDestinations(DistributedCopyState *state,
								  DistTableCacheEntry *entry);
static uint64 CopyRowsToShards(DistributedCopyState *state,
							   CopyFromState cstate, ParseState *pstate,
							   Node *whereClause);
static void AddParsedRow(DistributedCopyState *state, TupleTableSlot *slot,
						 int shardIndex);
static void PrintParsedRows(DistributedCopyState *state);


/*
 * ExecuteDistributedCopyFrom runs COPY ... FROM into a distributed table
 * and sets the command tag to COPY with the number of rows copied.
 */
void
ExecuteDistributedCopyFrom(CopyStmt *stmt, const char *queryString,
						   QueryEnvironment *queryEnv, QueryCompletion *qc)
{
	ParseState *pstate = make_parsestate(NULL);
	DistributedCopyState state;
	DistTableCacheEntry *entry;
	CopyFromState cstate;
	Node	   *whereClause;
	Relation	rel;
	List	   *attnums;
	uint64		processed;
	ListCell   *cell;

	Assert(stmt->is_from && stmt->relation != NULL);

	pstate->p_sourcetext = queryString;
	pstate->p_queryEnv = queryEnv;

	/* reading server files and running programs need those rights */
	if (stmt->filename != NULL && !superuser())
	{
		if (stmt->is_program &&
			!has_privs_of_role(GetUserId(), ROLE_PG_EXECUTE_SERVER_PROGRAM))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program"),
					 errhint("Anyone can COPY to stdout or from stdin. "
							 "psql's \\copy command also works for anyone.")));
		if (!stmt->is_program &&
			!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("must be superuser or have privileges of the pg_read_server_files role to COPY from a file"),
					 errhint("Anyone can COPY to stdout or from stdin. "
							 "psql's \\copy command also works for anyone.")));
	}

	rel = table_openrv(stmt->relation, RowExclusiveLock);

	/* the table may have changed while we waited for the lock */
	entry = LookupDistTable(RelationGetRelid(rel));
	if (entry == NULL || !entry->isDistributed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is no longer distributed",
						RelationGetRelationName(rel)),
				 errhint("Run the COPY again.")));

	whereClause = TransformCopyWhereClause(stmt, pstate, rel);
	attnums = CheckCopyFromPrivileges(stmt, pstate, rel);
	ErrorIfCopyFreeze(stmt->options);

	if (XactReadOnly)
		PreventCommandIfReadOnly("COPY FROM");
	PreventCommandIfParallelMode("COPY FROM");

	memset(&state, 0, sizeof(state));
	state.rel = rel;
	state.tupleDesc = RelationGetDescr(rel);
	state.distAttnum = entry->distAttnum;
	state.distCollation = entry->distCollation;
	if (!IsReferenceTableEntry(entry))
		fmgr_info_copy(&state.hashFunction, &entry->hashFunction,
					   CurrentMemoryContext);
	state.shardCount = entry->shardCount;
	state.sentColumns = ColumnsSentToShards(rel, attnums);

	/* parses the options; for STDIN, starts the copy protocol */
	cstate = BeginCopyFrom(pstate, rel, whereClause, stmt->filename,
						   stmt->is_program, NULL, stmt->attlist,
						   stmt->options);

	OpenShardDestinations(&state, entry);
	entry = NULL;				/* may be rebuilt by invalidations from now */

	processed = CopyRowsToShards(&state, cstate, pstate, whereClause);

	EndCopyFrom(cstate);

	foreach(cell, state.connections)
		ReleaseNodeConnection((NodeConnection *) lfirst(cell));

	table_close(rel, NoLock);

	if (qc != NULL)
		SetQueryCompletion(qc, CMDTAG_COPY, processed);
}


/*
 * CheckCopyFromPrivileges checks what PostgreSQL's COPY FROM checks:
 * INSERT on the table or on every column the COPY fills, and that the
 * table has no row-level security.  The range table entry is the one
 * executor-side checks (the constraint messages) look at later.  It
 * returns the attribute numbers of the columns the COPY fills.
 */
static List *
CheckCopyFromPrivileges(CopyStmt *stmt, ParseState *pstate, Relation rel)
{
	RangeTblEntry *rte = linitial_node(RangeTblEntry, pstate->p_rtable);
	List	   *attnums;
	ListCell   *cell;

	rte->requiredPerms = ACL_INSERT;

	attnums = CopyGetAttnums(RelationGetDescr(rel), rel, stmt->attlist);
	foreach(cell, attnums)
		rte->insertedCols = bms_add_member(rte->insertedCols,
										   lfirst_int(cell) -
										   FirstLowInvalidHeapAttributeNumber);

	(void) ExecCheckRTPerms(pstate->p_rtable, true);

	if (check_enable_rls(RelationGetRelid(rel), InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY FROM not supported with row-level security"),
				 errhint("Use INSERT statements instead.")));

	return attnums;
}


/*
 * ColumnsSentToShards returns, per attribute, whether its values are sent
 * to the shards: the columns the COPY fills, and those it does not fill
 * that have a default, which is evaluated on the coordinator (so that
 * sequences advance there), as for INSERT.  Other columns are NULL and
 * left out.  Stored generated columns are always left out.
 */
static bool *
ColumnsSentToShards(Relation rel, List *attnums)
{
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	bool	   *sentColumns = palloc0(sizeof(bool) * tupleDesc->natts);
	int			attrIndex;

	for (attrIndex = 0; attrIndex < tupleDesc->natts; attrIndex++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, attrIndex);

		if (!IsShardCopyColumn(attr))
			continue;
		sentColumns[attrIndex] = list_member_int(attnums, attrIndex + 1) ||
			build_column_default(rel, attrIndex + 1) != NULL;
	}

	return sentColumns;
}


/*
 * TransformCopyWhereClause adds the table to the parse state's range table
 * and turns the COPY's WHERE clause, if any, into an implicitly-ANDed
 * qual list over it, as PostgreSQL's COPY does.  Generated columns (not
 * computed yet when the WHERE clause runs) and system columns (the rows
 * are not stored) cannot be used in it.
 */
static Node *
TransformCopyWhereClause(CopyStmt *stmt, ParseState *pstate, Relation rel)
{
	ParseNamespaceItem *nsitem;
	Bitmapset  *attrs = NULL;
	Node	   *whereClause;
	int			member = -1;

	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock,
										   NULL, false, false);
	if (stmt->whereClause == NULL)
		return NULL;

	addNSItemToQuery(pstate, nsitem, false, true, true);

	whereClause = transformExpr(pstate, stmt->whereClause,
								EXPR_KIND_COPY_WHERE);
	whereClause = coerce_to_boolean(pstate, whereClause, "WHERE");
	assign_expr_collations(pstate, whereClause);

	pull_varattnos(whereClause, 1, &attrs);
	while ((member = bms_next_member(attrs, member)) >= 0)
	{
		AttrNumber	attnum = member + FirstLowInvalidHeapAttributeNumber;

		if (attnum < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
					 errmsg("system columns are not supported in COPY FROM WHERE conditions")));
		if (attnum > 0 &&
			TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attgenerated)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
					 errmsg("generated columns are not supported in COPY FROM WHERE conditions"),
					 errdetail("Column \"%s\" is a generated column.",
							   get_attname(RelationGetRelid(rel), attnum,
										   false))));
	}

	whereClause = eval_const_expressions(NULL, whereClause);
	whereClause = (Node *) canonicalize_qual((Expr *) whereClause, false);

	return (Node *) make_ands_implicit((Expr *) whereClause);
}


/*
 * ErrorIfCopyFreeze refuses COPY ... (FREEZE): the rows are stored by the
 * shards in transactions of their own, which cannot freeze them.
 */
static void
ErrorIfCopyFreeze(List *options)
{
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *option = lfirst_node(DefElem, cell);

		if (strcmp(option->defname, "freeze") == 0 && defGetBoolean(option))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("COPY FREEZE into a distributed table is not supported")));
	}
}


/*
 * OpenShardDestinations claims one connection to every node holding a
 * placement of the table (the transaction's connection, if it has one
 * there), opens the remote transactions, all nodes in parallel, and
 * prepares the per-shard buffers.  The shard names are copied: the cache
 * entry may be rebuilt while the rows are read.
 */
static void
OpenShardDestinations(DistributedCopyState *state, DistTableCacheEntry *entry)
{
	ShardCopyDestination *destinations;
	List	   *nodeIds = TableNodeIds(entry->relid);
	ListCell   *cell;
	int			shardIndex;

	foreach(cell, nodeIds)
	{
		List	   *nodeConnections = ClaimNodeConnections(lfirst_int(cell), 1);

		state->connections = lappend(state->connections,
									 linitial(nodeConnections));
	}
	FinishConnectionEstablishment(state->connections);
	BeginRemoteTransactions(state->connections);
	foreach(cell, state->connections)
		SyncSessionSettings((NodeConnection *) lfirst(cell));

	destinations = palloc0(sizeof(ShardCopyDestination) * entry->shardCount);
	for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
	{
		ShardInterval *shard = &entry->shards[shardIndex];
		int			placementIndex;

		destinations[shardIndex].shardName = pstrdup(shard->shardName);
		for (placementIndex = 0; placementIndex < shard->placementCount;
			 placementIndex++)
		{
			int32		nodeId = shard->placements[placementIndex].nodeId;

			foreach(cell, state->connections)
			{
				NodeConnection *connection = (NodeConnection *) lfirst(cell);

				if (connection->nodeId == nodeId)
				{
					destinations[shardIndex].connections =
						lappend(destinations[shardIndex].connections,
								connection);
					break;
				}
			}
		}
	}

	state->buffers = CreateShardCopyBuffersForColumns(state->tupleDesc,
													  state->sentColumns,
													  entry->shardCount,
													  destinations);
}


/*
 * CopyRowsToShards reads every row of the COPY, filters it with the WHERE
 * clause, checks it and routes it to its shard, and returns the number of
 * rows copied once every node has stored its rows.
 *
 * While a row is parsed and checked, errors carry PostgreSQL's COPY
 * context (the line number); errors of the nodes, which come later, do
 * not, since the current line is not the row that failed.
 */
static uint64
CopyRowsToShards(DistributedCopyState *state, CopyFromState cstate,
				 ParseState *pstate, Node *whereClause)
{
	TupleDesc	tupleDesc = state->tupleDesc;
	TupleConstr *constraints = tupleDesc->constr;
	EState	   *estate = CreateExecutorState();
	ExprContext *econtext = GetPerTupleExprContext(estate);
	ResultRelInfo *resultRelInfo = makeNode(ResultRelInfo);
	TupleTableSlot *slot;
	ExprState  *qualExpr = NULL;
	ErrorContextCallback lineCallback;
	bool		checkConstraints;
	bool		computeGenerated;
	uint64		processed = 0;
	uint64		excluded = 0;

	ExecInitRangeTable(estate, pstate->p_rtable);
	InitResultRelInfo(resultRelInfo, state->rel, 1, NULL, 0);
	slot = MakeSingleTupleTableSlot(tupleDesc, &TTSOpsVirtual);

	if (whereClause != NULL)
		qualExpr = ExecInitQual(castNode(List, whereClause), NULL);

	/* generated columns are computed only when a constraint may use them */
	checkConstraints = constraints != NULL &&
		(constraints->has_not_null || constraints->num_check > 0);
	computeGenerated = checkConstraints && constraints->has_generated_stored;

	state->batchContext = AllocSetContextCreate(CurrentMemoryContext,
												"distdb copy batch",
												ALLOCSET_DEFAULT_SIZES);
	state->printContext = AllocSetContextCreate(CurrentMemoryContext,
												"distdb copy print",
												ALLOCSET_DEFAULT_SIZES);
	state->batchRows = palloc0(sizeof(ParsedRow) * COPY_PRINT_BATCH_ROWS);

	lineCallback.callback = CopyFromErrorCallback;
	lineCallback.arg = (void *) cstate;
	lineCallback.previous = error_context_stack;
	error_context_stack = &lineCallback;

	for (;;)
	{
		MemoryContext oldContext;
		int			shardIndex = 0; /* without a distribution column */

		CHECK_FOR_INTERRUPTS();

		ResetPerTupleExprContext(estate);
		oldContext = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));

		ExecClearTuple(slot);
		if (!NextCopyFrom(cstate, econtext, slot->tts_values,
						  slot->tts_isnull))
		{
			MemoryContextSwitchTo(oldContext);
			break;
		}
		ExecStoreVirtualTuple(slot);

		if (qualExpr != NULL)
		{
			econtext->ecxt_scantuple = slot;
			if (!ExecQual(qualExpr, econtext))
			{
				MemoryContextSwitchTo(oldContext);
				pgstat_progress_update_param(PROGRESS_COPY_TUPLES_EXCLUDED,
											 ++excluded);
				continue;
			}
		}

		/* the message of a multi-row INSERT's null distribution value */
		if (state->distAttnum != InvalidAttrNumber &&
			slot->tts_isnull[state->distAttnum - 1])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("cannot insert a null value into distribution column \"%s\"",
							NameStr(TupleDescAttr(tupleDesc,
												  state->distAttnum - 1)->attname))));

		if (checkConstraints)
		{
			if (computeGenerated)
				ExecComputeStoredGenerated(resultRelInfo, estate, slot,
										   CMD_INSERT);
			ExecConstraints(resultRelInfo, slot, estate);
		}

		if (state->distAttnum != InvalidAttrNumber)
			shardIndex = ShardIndexForHash(state->shardCount,
										   HashValueWithFunction(&state->hashFunction,
																 state->distCollation,
																 slot->tts_values[state->distAttnum - 1]));
		MemoryContextSwitchTo(oldContext);

		AddParsedRow(state, slot, shardIndex);
		pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED,
									 ++processed);
	}

	/* from here on, errors are about the nodes, not about a line */
	error_context_stack = lineCallback.previous;

	PrintParsedRows(state);
	FlushAllShardCopyBuffers(state->buffers);

	ExecDropSingleTupleTableSlot(slot);
	FreeExecutorState(estate);
	MemoryContextDelete(state->batchContext);
	MemoryContextDelete(state->printContext);

	return processed;
}


/*
 * AddParsedRow keeps a copy of the values that go to the shards of a
 * parsed row in the batch, and prints the batch when it is full (by rows
 * or by memory).
 */
static void
AddParsedRow(DistributedCopyState *state, TupleTableSlot *slot,
			 int shardIndex)
{
	TupleDesc	tupleDesc = state->tupleDesc;
	ParsedRow  *row = &state->batchRows[state->batchRowCount++];
	MemoryContext oldContext = MemoryContextSwitchTo(state->batchContext);
	int			attrIndex;

	row->values = palloc(sizeof(Datum) * tupleDesc->natts);
	row->nulls = palloc(sizeof(bool) * tupleDesc->natts);
	row->shardIndex = shardIndex;

	for (attrIndex = 0; attrIndex < tupleDesc->natts; attrIndex++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, attrIndex);

		if (!state->sentColumns[attrIndex] || slot->tts_isnull[attrIndex])
		{
			row->values[attrIndex] = (Datum) 0;
			row->nulls[attrIndex] = true;
			continue;
		}
		row->values[attrIndex] = datumCopy(slot->tts_values[attrIndex],
										   attr->attbyval, attr->attlen);
		row->nulls[attrIndex] = false;
	}

	MemoryContextSwitchTo(oldContext);

	if (state->batchRowCount >= COPY_PRINT_BATCH_ROWS ||
		MemoryContextMemAllocated(state->batchContext, false) >=
		COPY_PRINT_BATCH_BYTES)
		PrintParsedRows(state);
}


/*
 * PrintParsedRows prints the rows of the batch into their shards' buffers
 * under the deparse settings, sending the buffers that fill up, and
 * empties the batch.  The COPY's line-number context is taken off the
 * error context stack meanwhile: errors here concern earlier rows.
 */
static void
PrintParsedRows(DistributedCopyState *state)
{
	ErrorContextCallback *savedContext = error_context_stack;
	int			nestLevel;
	int			rowIndex;

	if (state->batchRowCount == 0)
		return;

	if (savedContext != NULL && savedContext->callback == CopyFromErrorCallback)
		error_context_stack = savedContext->previous;

	nestLevel = PushDeparseSettings();

	for (rowIndex = 0; rowIndex < state->batchRowCount; rowIndex++)
	{
		ParsedRow  *row = &state->batchRows[rowIndex];
		MemoryContext oldContext;
		bool		bufferFull;

		CHECK_FOR_INTERRUPTS();

		MemoryContextReset(state->printContext);
		oldContext = MemoryContextSwitchTo(state->printContext);
		bufferFull = AppendShardCopyRow(state->buffers, row->shardIndex,
										row->values, row->nulls);
		if (bufferFull)
			FlushShardCopyBuffer(state->buffers, row->shardIndex);
		MemoryContextSwitchTo(oldContext);
	}

	PopDeparseSettings(nestLevel);
	error_context_stack = savedContext;

	MemoryContextReset(state->batchContext);
	state->batchRowCount = 0;
}
