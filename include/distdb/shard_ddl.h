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

#include "access/attnum.h"
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
 * search_path set to pg_catalog while expressions are deparsed for the
 * shards; BeginShardDeparse returns the level to give EndShardDeparse
 */
extern int	BeginShardDeparse(void);
extern void EndShardDeparse(int gucNestLevel);

/* CREATE INDEX [CONCURRENTLY] of an index on one shard; NULL if not valid */
extern char *ShardIndexCreateCommand(Oid indexOid, int64 shardId,
									 bool concurrently);

/* a column as the shards define it: "name type [COLLATE] [DEFAULT] [NOT NULL]" */
extern char *ShardColumnDefinition(Oid relid, AttrNumber attnum,
								   bool withDefault);

/* a column's default as the shards have it (deparsed), or NULL for none */
extern char *ShardColumnDefault(Oid relid, AttrNumber attnum);

/* the command that creates a schema on a worker if it is missing */
extern char *ShardSchemaCreateCommand(Oid namespaceId);

/*
 * Claim one connection to each node of nodeIds (an int list without
 * duplicates) and establish them, in parallel; in the order of nodeIds.
 */
extern List *ClaimNodeConnectionList(List *nodeIds);

/*
 * Claim one connection to each node of nodeIds (an int list without
 * duplicates), establish them and open remote transactions, in parallel.
 * The result holds the NodeConnection of each node in the order of nodeIds.
 */
extern List *StartNodeTransactions(List *nodeIds);

/*
 * the text form of an array of int8 (values are int64 *, isInt64) or text
 * (values are char *), to send as one parameter (shard_info_functions.c)
 */
extern char *ArrayLiteral(List *values, Oid elementType, bool isInt64);

/* release connections claimed by StartNodeTransactions */
extern void ReleaseNodeConnectionList(List *connections);

#endif							/* DISTDB_SHARD_DDL_H */
