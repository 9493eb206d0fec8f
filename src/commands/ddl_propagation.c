/*-------------------------------------------------------------------------
 *
 * ddl_propagation.c
 *	  Runs a DDL command on every shard of the distributed tables it
 *	  changes, in the same transaction as the coordinator's command.
 *
 * The utility hook asks PlanDistributedDdl about each statement before
 * PostgreSQL runs it.  The planners (index_commands.c,
 * alter_table_commands.c) refuse what distdb cannot carry to the shards
 * and return a DistributedDdl: the commands for the shards' nodes that can
 * be built before the coordinator's command runs (those need the names the
 * objects have before it, e.g. for renames and drops), and a finish
 * callback for those built from the catalogs after it (a new index, a new
 * column).  The coordinator's command runs first, so PostgreSQL checks
 * privileges and validity and takes its locks before anything reaches a
 * worker; then FinishDistributedDdl sends the commands to all nodes in
 * parallel, inside the remote transactions: they commit or roll back with
 * the coordinator's transaction, through two-phase commit when several
 * nodes are involved, so a failure on one worker leaves every node as it
 * was.
 *
 * Commands with CONCURRENTLY cannot run inside a transaction: PostgreSQL
 * itself commits in the middle of them.  Their shard commands run after
 * the coordinator's, each on its own outside any transaction, one after
 * another on each node and the nodes in parallel.  Like CREATE INDEX
 * CONCURRENTLY in PostgreSQL, a failure then leaves what was done in
 * place (see index_commands.c).
 *
 * Every shard of a table is covered, whatever its distribution method:
 * the commands go to every placement of every shard.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"

#include "distdb/connection_cache.h"
#include "distdb/ddl_propagation.h"
#include "distdb/remote_command.h"
#include "distdb/shard_ddl.h"


/*
 * NewShardCommandBatch returns an empty batch.
 */
ShardCommandBatch *
NewShardCommandBatch(void)
{
	return palloc0(sizeof(ShardCommandBatch));
}


/*
 * AddNodeCommand appends a command to those of a node.
 */
void
AddNodeCommand(ShardCommandBatch *batch, int32 nodeId, char *command)
{
	ListCell   *nodeCell;
	ListCell   *commandsCell;

	forboth(nodeCell, batch->nodeIds, commandsCell, batch->commands)
	{
		if (lfirst_int(nodeCell) == nodeId)
		{
			lfirst(commandsCell) = lappend((List *) lfirst(commandsCell),
										   command);
			return;
		}
	}

	batch->nodeIds = lappend_int(batch->nodeIds, nodeId);
	batch->commands = lappend(batch->commands, list_make1(command));
}


/*
 * AddShardCommands adds, for every shard of a distributed table, the
 * command the builder makes for it to the commands of every node holding
 * a placement of the shard.
 */
void
AddShardCommands(ShardCommandBatch *batch, Oid relid,
				 ShardCommandBuilder builder, void *context)
{
	DistTableCacheEntry *entry = LookupDistTable(relid);
	int			shardIndex;

	if (entry == NULL || !entry->isDistributed)
		elog(ERROR, "relation %u is not distributed", relid);

	for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
	{
		ShardInterval *shard = &entry->shards[shardIndex];
		char	   *command;
		int			placementIndex;

		CHECK_FOR_INTERRUPTS();

		command = builder(relid, shard, context);
		if (command == NULL)
			continue;

		for (placementIndex = 0; placementIndex < shard->placementCount;
			 placementIndex++)
			AddNodeCommand(batch, shard->placements[placementIndex].nodeId,
						   command);
	}
}


/*
 * ExecuteShardCommandBatch runs the commands of a batch inside the remote
 * transactions: each node's commands as one multi-statement string, all
 * nodes in parallel.  They commit or roll back with the local transaction.
 */
void
ExecuteShardCommandBatch(ShardCommandBatch *batch)
{
	List	   *strings = NIL;
	List	   *connections;
	ListCell   *cell;

	if (batch == NULL || batch->nodeIds == NIL)
		return;

	foreach(cell, batch->commands)
	{
		StringInfoData buf;
		ListCell   *commandCell;

		initStringInfo(&buf);
		foreach(commandCell, (List *) lfirst(cell))
			appendStringInfo(&buf, "%s;\n", (char *) lfirst(commandCell));
		strings = lappend(strings, buf.data);
	}

	connections = StartNodeTransactions(batch->nodeIds);

	/* the nodes' transactions now write: two-phase commit if several */
	foreach(cell, connections)
		((NodeConnection *) lfirst(cell))->wroteData = true;

	ExecuteRemoteCommandOnEach(connections, strings);
	ReleaseNodeConnectionList(connections);
}


/*
 * ConcurrentCommandErrorContext says, for an error on a shard during a
 * concurrent command, that the coordinator's part is done.
 */
static void
ConcurrentCommandErrorContext(void *arg)
{
	errcontext("concurrent command on the shards, run after the coordinator's: "
			   "the coordinator and the shards done before the failure keep the change; "
			   "undo it (e.g. DROP INDEX) or run the command again");
}


/*
 * ExecuteShardCommandBatchConcurrently runs every command of a batch on
 * its own, outside any remote transaction, as commands with CONCURRENTLY
 * need: each node runs its commands one after another, the nodes in
 * parallel (round by round).  It must be called outside a transaction
 * block, which PostgreSQL has checked for the coordinator's command.
 */
void
ExecuteShardCommandBatchConcurrently(ShardCommandBatch *batch)
{
	List	   *connections;
	int			round;
	bool		more = true;
	ErrorContextCallback errorContext;

	if (batch == NULL || batch->nodeIds == NIL)
		return;

	errorContext.callback = ConcurrentCommandErrorContext;
	errorContext.arg = NULL;
	errorContext.previous = error_context_stack;
	error_context_stack = &errorContext;

	connections = ClaimNodeConnectionList(batch->nodeIds);

	for (round = 0; more; round++)
	{
		List	   *roundConnections = NIL;
		List	   *roundCommands = NIL;
		ListCell   *connectionCell;
		ListCell   *commandsCell;

		CHECK_FOR_INTERRUPTS();

		more = false;
		forboth(connectionCell, connections, commandsCell, batch->commands)
		{
			NodeConnection *connection = lfirst(connectionCell);
			List	   *commands = lfirst(commandsCell);

			if (connection->xactState != REMOTE_XACT_NONE)
				elog(ERROR, "cannot run a concurrent command inside a remote transaction");

			if (round >= list_length(commands))
				continue;
			roundConnections = lappend(roundConnections, connection);
			roundCommands = lappend(roundCommands, list_nth(commands, round));
			more = true;
		}

		if (more)
			ExecuteRemoteCommandOnEach(roundConnections, roundCommands);
	}

	error_context_stack = errorContext.previous;
	ReleaseNodeConnectionList(connections);
}


/*
 * TableNodeIds returns the nodes (int) holding placements of a distributed
 * table's shards.
 */
List *
TableNodeIds(Oid relid)
{
	DistTableCacheEntry *entry = LookupDistTable(relid);
	List	   *nodeIds = NIL;
	int			shardIndex;

	for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
	{
		ShardInterval *shard = &entry->shards[shardIndex];
		int			placementIndex;

		for (placementIndex = 0; placementIndex < shard->placementCount;
			 placementIndex++)
			nodeIds = list_append_unique_int(nodeIds,
											 shard->placements[placementIndex].nodeId);
	}

	return nodeIds;
}


/*
 * NewDistributedDdl returns an empty plan with an empty batch.
 */
DistributedDdl *
NewDistributedDdl(void)
{
	DistributedDdl *ddl = palloc0(sizeof(DistributedDdl));

	ddl->batch = NewShardCommandBatch();
	return ddl;
}


/*
 * PlanDistributedDdl hands a statement to the planner of its kind.
 */
DistributedDdl *
PlanDistributedDdl(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			return PlanCreateIndex((IndexStmt *) parsetree);

		case T_DropStmt:
			if (((DropStmt *) parsetree)->removeType == OBJECT_INDEX)
				return PlanDropIndex((DropStmt *) parsetree);
			return NULL;

		case T_ReindexStmt:
			return PlanReindex((ReindexStmt *) parsetree);

		case T_AlterTableStmt:
			return PlanAlterTable((AlterTableStmt *) parsetree);

		case T_RenameStmt:
			return PlanRename((RenameStmt *) parsetree);

		case T_AlterObjectSchemaStmt:
			return PlanAlterObjectSchema((AlterObjectSchemaStmt *) parsetree);

		default:
			return NULL;
	}
}


/*
 * FinishDistributedDdl runs distdb's part of a statement after the
 * coordinator ran it: the commands that depend on its outcome are built,
 * then everything is sent to the nodes.
 */
void
FinishDistributedDdl(DistributedDdl *ddl)
{
	if (ddl->finish != NULL)
		ddl->finish(ddl);

	if (ddl->concurrently)
		ExecuteShardCommandBatchConcurrently(ddl->batch);
	else
		ExecuteShardCommandBatch(ddl->batch);
}


/*
 * DistributedTableOfRangeVar returns the distributed table a name refers
 * to (for an index, the index's table) or InvalidOid; *objectId, when not
 * NULL, is set to the object the name refers to (the table or the index).
 * No lock is taken: the command itself locks what it changes.
 */
Oid
DistributedTableOfRangeVar(RangeVar *relation, Oid *objectId)
{
	Oid			relid;
	char		relkind;

	if (objectId != NULL)
		*objectId = InvalidOid;
	if (relation == NULL)
		return InvalidOid;

	relid = RangeVarGetRelid(relation, NoLock, true);
	if (!OidIsValid(relid))
		return InvalidOid;
	if (objectId != NULL)
		*objectId = relid;

	relkind = get_rel_relkind(relid);
	if (relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX)
	{
		relid = IndexGetRelation(relid, true);
		if (!OidIsValid(relid))
			return InvalidOid;
	}

	return IsDistributedTable(relid) ? relid : InvalidOid;
}
