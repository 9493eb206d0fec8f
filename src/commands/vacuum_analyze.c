/*-------------------------------------------------------------------------
 *
 * vacuum_analyze.c
 *	  VACUUM and ANALYZE of distributed tables.
 *
 * The coordinator's table of a distributed table is an empty shell: its
 * rows live in the shards.  A VACUUM or ANALYZE that covers distributed
 * tables (named, or all tables of the database when none is named) runs
 * as usual on the coordinator -- which checks the options, the column
 * lists and the privileges -- and then on every shard placement of the
 * tables the user owns (PostgreSQL skips the others with a warning), with
 * the same options and column lists: one shard at a time on each node,
 * all nodes in parallel.
 *
 * VACUUM cannot run in a transaction block, on the nodes either: it is
 * sent outside any remote transaction.  ANALYZE inside a transaction block
 * runs in the remote transactions; otherwise it too is sent on its own.
 *
 * Then the coordinator's pg_class row of each table gets the sums of its
 * shards' relpages, reltuples and relallvisible (one placement per shard),
 * written in place as VACUUM and ANALYZE write their own estimates, so
 * that PostgreSQL's planner and distdb's (shard_row_estimates.c) see the
 * table's real size.  Per-column statistics (pg_statistic) are not copied
 * from the shards: filters on distributed tables are estimated with
 * PostgreSQL's default selectivities.
 *
 * XXX: autovacuum on the coordinator may later analyze the empty shell and
 * reset its estimates to zero; run ANALYZE again to restore them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/multixact.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "distdb/connection_cache.h"
#include "distdb/ddl_propagation.h"
#include "distdb/metadata_cache.h"
#include "distdb/metadata_catalog.h"
#include "distdb/remote_command.h"
#include "distdb/shard_ddl.h"
#include "distdb/vacuum_analyze.h"

/* the distributed tables a VACUUM or ANALYZE covers */
struct ShardVacuum
{
	MemoryContext context;		/* holds this; survives the transactions
								 * VACUUM commits */
	char	   *commandPrefix;	/* "VACUUM (options)" or "ANALYZE (options)" */
	bool		isVacuum;
	List	   *relids;			/* Oid of each table */
	List	   *columnLists;	/* char *: " (a, b)" or "", per table */
};

/* what the shard command builder needs */
typedef struct VacuumCommandContext
{
	const char *commandPrefix;
	const char *columnList;
} VacuumCommandContext;

static bool OwnsTableForVacuum(Oid relid);
static char *VacuumCommandPrefix(VacuumStmt *stmt);
static char *ColumnListString(List *columns);
static char *VacuumShardCommand(Oid relid, ShardInterval *shard,
								void *context);
static List *StartConnections(List *nodeIds, bool inTransaction);


/*
 * PlanShardVacuum finds the distributed tables of a VACUUM or ANALYZE that
 * the current user may vacuum.  The plan lives in a memory context under
 * PortalContext, as VACUUM commits transactions of its own.
 */
ShardVacuum *
PlanShardVacuum(VacuumStmt *stmt)
{
	MemoryContext context;
	MemoryContext oldContext;
	ShardVacuum *shardVacuum;
	ListCell   *cell;

	context = AllocSetContextCreate(PortalContext, "distdb vacuum",
									ALLOCSET_SMALL_SIZES);
	oldContext = MemoryContextSwitchTo(context);

	shardVacuum = palloc0(sizeof(ShardVacuum));
	shardVacuum->context = context;
	shardVacuum->isVacuum = stmt->is_vacuumcmd;
	shardVacuum->commandPrefix = VacuumCommandPrefix(stmt);

	if (stmt->rels == NIL)
	{
		/* the whole database: every distributed table */
		foreach(cell, AllDistributedTables())
		{
			Oid			relid = lfirst_oid(cell);

			if (!OwnsTableForVacuum(relid))
				continue;
			shardVacuum->relids = lappend_oid(shardVacuum->relids, relid);
			shardVacuum->columnLists = lappend(shardVacuum->columnLists, "");
		}
	}

	foreach(cell, stmt->rels)
	{
		VacuumRelation *relation = lfirst_node(VacuumRelation, cell);
		Oid			relid;

		if (relation->relation == NULL)
			continue;
		relid = RangeVarGetRelid(relation->relation, NoLock, true);
		if (!OidIsValid(relid) || !IsDistributedTable(relid) ||
			!OwnsTableForVacuum(relid))
			continue;

		shardVacuum->relids = lappend_oid(shardVacuum->relids, relid);
		shardVacuum->columnLists = lappend(shardVacuum->columnLists,
										   ColumnListString(relation->va_cols));
	}

	MemoryContextSwitchTo(oldContext);

	if (shardVacuum->relids == NIL)
	{
		MemoryContextDelete(context);
		return NULL;
	}

	return shardVacuum;
}


/*
 * OwnsTableForVacuum tells whether the current user may vacuum a table:
 * its owner or the database's owner (superusers pass both checks).
 */
static bool
OwnsTableForVacuum(Oid relid)
{
	return pg_class_ownercheck(relid, GetUserId()) ||
		pg_database_ownercheck(MyDatabaseId, GetUserId());
}


/*
 * VacuumCommandPrefix returns "VACUUM (option value, ...)" or "ANALYZE
 * (...)" with the statement's options, which the local command checks.
 * The old syntax (VACUUM FULL VERBOSE) gives the same options.
 */
static char *
VacuumCommandPrefix(VacuumStmt *stmt)
{
	StringInfoData buf;
	ListCell   *cell;

	initStringInfo(&buf);
	appendStringInfoString(&buf, stmt->is_vacuumcmd ? "VACUUM" : "ANALYZE");

	foreach(cell, stmt->options)
	{
		DefElem    *option = lfirst_node(DefElem, cell);

		appendStringInfoString(&buf, foreach_current_index(cell) == 0 ?
							   " (" : ", ");
		appendStringInfoString(&buf, quote_identifier(option->defname));

		if (option->arg == NULL)
			continue;

		/* numbers as numbers (PARALLEL wants an integer), words as strings */
		if (IsA(option->arg, Integer) || IsA(option->arg, Float))
			appendStringInfo(&buf, " %s", defGetString(option));
		else
			appendStringInfo(&buf, " %s",
							 quote_literal_cstr(defGetString(option)));
	}
	if (stmt->options != NIL)
		appendStringInfoChar(&buf, ')');

	return buf.data;
}


/*
 * ColumnListString returns " (a, b)" for a list of column names (String),
 * or "" for none.
 */
static char *
ColumnListString(List *columns)
{
	StringInfoData buf;
	ListCell   *cell;

	initStringInfo(&buf);
	foreach(cell, columns)
		appendStringInfo(&buf, "%s%s",
						 foreach_current_index(cell) == 0 ? " (" : ", ",
						 quote_identifier(strVal(lfirst(cell))));
	if (columns != NIL)
		appendStringInfoChar(&buf, ')');

	return buf.data;
}


/*
 * ExecuteShardVacuum runs the command on every placement of the tables'
 * shards, one shard at a time on each node, all nodes in parallel, and then
 * copies the shards' size estimates to the coordinator.  Tables dropped
 * since the command was planned (VACUUM releases its locks between
 * tables) are skipped.
 */
void
ExecuteShardVacuum(ShardVacuum *shardVacuum)
{
	ShardCommandBatch *batch = NewShardCommandBatch();
	List	   *relids = NIL;
	ListCell   *relidCell;
	ListCell   *columnCell;

	if (shardVacuum == NULL)
		return;

	forboth(relidCell, shardVacuum->relids,
			columnCell, shardVacuum->columnLists)
	{
		Oid			relid = lfirst_oid(relidCell);
		VacuumCommandContext context;

		if (!IsDistributedTable(relid))
			continue;
		relids = list_append_unique_oid(relids, relid);

		context.commandPrefix = shardVacuum->commandPrefix;
		context.columnList = (char *) lfirst(columnCell);
		AddShardCommands(batch, relid, VacuumShardCommand, &context);
	}

	/*
	 * VACUUM runs outside any transaction block on the nodes, one command at
	 * a time, and so does ANALYZE on its own; ANALYZE in a transaction block
	 * runs in the remote transactions.
	 */
	if (!shardVacuum->isVacuum && IsTransactionBlock())
		ExecuteShardCommandBatch(batch);
	else
		ExecuteShardCommandBatchConcurrently(batch);

	UpdateStatisticsFromShards(relids);

	MemoryContextDelete(shardVacuum->context);
}


/*
 * VacuumShardCommand builds the VACUUM or ANALYZE of one shard.
 */
static char *
VacuumShardCommand(Oid relid, ShardInterval *shard, void *context)
{
	VacuumCommandContext *vacuumContext = (VacuumCommandContext *) context;

	return psprintf("%s %s%s", vacuumContext->commandPrefix, shard->shardName,
					vacuumContext->columnList);
}


/*
 * UpdateStatisticsFromShards sets the coordinator's relpages, reltuples
 * and relallvisible of distributed tables to the sums over their shards,
 * read from one placement of each shard, all nodes in parallel.  Shards
 * never vacuumed or analyzed (reltuples -1) count as empty.
 */
void
UpdateStatisticsFromShards(List *relids)
{
	ShardCommandBatch *shardsByNode = NewShardCommandBatch();
	int			tableCount = list_length(relids);
	double	   *pages = palloc0(sizeof(double) * tableCount);
	double	   *tuples = palloc0(sizeof(double) * tableCount);
	double	   *allVisible = palloc0(sizeof(double) * tableCount);
	List	   *queries = NIL;
	List	   *connections;
	List	   *results;
	ListCell   *cell;

	/* (table position, shard name) of one placement of each shard */
	foreach(cell, relids)
	{
		DistTableCacheEntry *entry = LookupDistTable(lfirst_oid(cell));
		int			shardIndex;

		if (entry == NULL || !entry->isDistributed)
			continue;

		for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
		{
			ShardInterval *shard = &entry->shards[shardIndex];

			if (shard->placementCount == 0)
				continue;
			AddNodeCommand(shardsByNode, shard->placements[0].nodeId,
						   psprintf("(%d, %s)", foreach_current_index(cell),
									quote_literal_cstr(shard->shardName)));
		}
	}

	if (shardsByNode->nodeIds == NIL)
		return;

	foreach(cell, shardsByNode->commands)
	{
		StringInfoData query;
		ListCell   *valuesCell;

		initStringInfo(&query);
		appendStringInfoString(&query,
							   "SELECT s.i, c.relpages, c.reltuples, c.relallvisible "
							   "FROM pg_catalog.pg_class c JOIN (VALUES ");
		foreach(valuesCell, (List *) lfirst(cell))
			appendStringInfo(&query, "%s%s",
							 foreach_current_index(valuesCell) > 0 ? ", " : "",
							 (char *) lfirst(valuesCell));
		appendStringInfoString(&query,
							   ") s(i, name) ON c.oid OPERATOR(pg_catalog.=) "
							   "pg_catalog.to_regclass(s.name)");
		queries = lappend(queries, query.data);
	}

	connections = StartConnections(shardsByNode->nodeIds, IsTransactionBlock());
	results = ExecuteRemoteQueryOnEach(connections, queries);
	ReleaseNodeConnectionList(connections);

	foreach(cell, results)
	{
		PGresult   *result = (PGresult *) lfirst(cell);
		int			row;

		for (row = 0; result != NULL && row < PQntuples(result); row++)
		{
			int			tableIndex = atoi(PQgetvalue(result, row, 0));
			double		shardTuples = strtod(PQgetvalue(result, row, 2), NULL);

			if (tableIndex < 0 || tableIndex >= tableCount)
				continue;
			pages[tableIndex] += strtod(PQgetvalue(result, row, 1), NULL);
			tuples[tableIndex] += Max(shardTuples, 0);
			allVisible[tableIndex] += strtod(PQgetvalue(result, row, 3), NULL);
		}
		if (result != NULL)
			PQclear(result);
	}

	foreach(cell, relids)
	{
		int			tableIndex = foreach_current_index(cell);
		Relation	rel;

		/* ANALYZE's lock: concurrent VACUUMs and ANALYZEs wait */
		rel = try_relation_open(lfirst_oid(cell), ShareUpdateExclusiveLock);
		if (rel == NULL)
			continue;

		vac_update_relstats(rel,
							(BlockNumber) Min(pages[tableIndex], MaxBlockNumber),
							tuples[tableIndex],
							(BlockNumber) Min(allVisible[tableIndex], MaxBlockNumber),
							rel->rd_rel->relhasindex,
							InvalidTransactionId, InvalidMultiXactId,
							NULL, NULL, IsTransactionBlock());
		relation_close(rel, ShareUpdateExclusiveLock);
	}
}


/*
 * StartConnections claims one connection to each node and establishes
 * them in parallel, with remote transactions open when inTransaction
 * (ANALYZE inside a transaction block).  Otherwise the commands run on
 * their own on the nodes (VACUUM must), unless the transaction already
 * has a remote transaction on the node: it then uses that connection.
 */
static List *
StartConnections(List *nodeIds, bool inTransaction)
{
	if (inTransaction)
		return StartNodeTransactions(nodeIds);
	return ClaimNodeConnectionList(nodeIds);
}
