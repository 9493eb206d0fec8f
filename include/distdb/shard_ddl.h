/*-------------------------------------------------------------------------
 *
 * shard_ddl.h
 *	  Generation of the SQL that creates a shard on a worker from the
 *	  coordinator table's catalog entries, and running per-node command
 *	  batches inside the remote transactions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_SHARD_DDL_H
#define DISTDB_SHARD_DDL_H

#include "nodes/pg_list.h"

/* the commands (char *) that create shard shardId of relid on a worker */
extern List *ShardCreateCommandList(Oid relid, int64 shardId);

/* the same commands joined into one string, each ended by ";\n" */
extern char *ShardCreateCommandString(Oid relid, int64 shardId);

/*
 * the commands (char *) that give a shard the table's privileges (table
 * and column ACLs), to run after its rows are in place; NIL when the
 * table has its default privileges
 */
extern List *ShardAclCommandList(Oid relid, int64 shardId);

/* the same commands joined into one string, or NULL when there are none */
extern char *ShardAclCommandString(Oid relid, int64 shardId);

/* an identifier of the table's object made shard specific: name_shardid */
extern char *ShardObjectName(const char *name, int64 shardId);

/*
 * Claim one connection to each node of nodeIds (an int list without
 * duplicates), establish them and open remote transactions, in parallel.
 * The result holds the NodeConnection of each node in the order of nodeIds.
 */
extern List *StartNodeTransactions(List *nodeIds);

/* release connections claimed by StartNodeTransactions */
extern void ReleaseNodeConnectionList(List *connections);

/*
 * Run commands (char *, commands[i] on node nodeIds[i]) in the remote
 * transactions of the nodes, all nodes in parallel.
 */
extern void ExecuteCommandsOnNodes(List *nodeIds, List *commands);

#endif							/* DISTDB_SHARD_DDL_H */
