/*-------------------------------------------------------------------------
 *
 * ddl_propagation.h
 *	  Running a DDL command on every shard of the distributed tables it
 *	  changes, in the same transaction as the coordinator's command.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_DDL_PROPAGATION_H
#define DISTDB_DDL_PROPAGATION_H

#include "nodes/parsenodes.h"
#include "utils/relcache.h"

#include "distdb/metadata_cache.h"

/* commands to run on nodes: per node, a list of commands in order */
typedef struct ShardCommandBatch
{
	List	   *nodeIds;		/* int, without duplicates */
	List	   *commands;		/* List of char *, commands[i] for nodeIds[i] */
} ShardCommandBatch;

/*
 * Builds the command for one shard of a table, or returns NULL when the
 * shard needs none.
 */
typedef char *(*ShardCommandBuilder) (Oid relid, ShardInterval *shard,
									  void *context);

typedef struct DistributedDdl DistributedDdl;

/*
 * Called once the coordinator ran the command: adds to ddl->batch the
 * commands that depend on what the command changed in the catalogs.
 */
typedef void (*DistributedDdlFinish) (DistributedDdl *ddl);

/* distdb's part of one DDL command on distributed tables */
struct DistributedDdl
{
	ShardCommandBatch *batch;	/* commands for the nodes */
	DistributedDdlFinish finish;	/* or NULL */
	void	   *state;			/* for finish */
	bool		concurrently;	/* run each command on its own, outside
								 * any transaction (CONCURRENTLY) */
};

extern ShardCommandBatch *NewShardCommandBatch(void);
extern void AddNodeCommand(ShardCommandBatch *batch, int32 nodeId,
						   char *command);
extern void AddShardCommands(ShardCommandBatch *batch, Oid relid,
							 ShardCommandBuilder builder, void *context);
extern void ExecuteShardCommandBatch(ShardCommandBatch *batch);
extern List *TableNodeIds(Oid relid);
extern void ExecuteShardCommandBatchConcurrently(ShardCommandBatch *batch);

/*
 * distdb's plan for a DDL statement on distributed tables, made before the
 * coordinator runs it (checks and refusals happen here), or NULL when the
 * statement concerns no distributed table or is not propagated.
 */
extern DistributedDdl *PlanDistributedDdl(Node *parsetree);

/* after the coordinator ran the statement: the shards run it too */
extern void FinishDistributedDdl(DistributedDdl *ddl);

extern DistributedDdl *NewDistributedDdl(void);

/* index_commands.c */
extern DistributedDdl *PlanCreateIndex(IndexStmt *stmt);
extern DistributedDdl *PlanDropIndex(DropStmt *stmt);
extern DistributedDdl *PlanReindex(ReindexStmt *stmt);
extern char *QualifiedShardIndexName(Oid indexOid, int64 shardId);
extern void ErrorIfUniqueWithoutDistributionColumn(Oid indexOid);

/* alter_table_commands.c */
extern DistributedDdl *PlanAlterTable(AlterTableStmt *stmt);
extern DistributedDdl *PlanRename(RenameStmt *stmt);
extern DistributedDdl *PlanAlterObjectSchema(AlterObjectSchemaStmt *stmt);

/* create_distributed_table.c: can a unique index be enforced per shard */
extern bool UniqueIndexIncludesColumn(Relation indexRel, AttrNumber attnum,
									  Oid typeId, bool *wrongOperator);

/* the distributed table a name refers to (its table, for an index) */
extern Oid	DistributedTableOfRangeVar(RangeVar *relation, Oid *objectId);

#endif							/* DISTDB_DDL_PROPAGATION_H */
