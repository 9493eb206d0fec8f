/*-------------------------------------------------------------------------
 *
 * distdb.h
 *	  Settings (GUCs) and small definitions shared by every distdb module.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_H
#define DISTDB_H

/* name of the schema that holds distdb's catalog tables and functions */
#define DISTDB_SCHEMA_NAME "distdb"
#define DISTDB_EXTENSION_NAME "distdb"

/* GUCs, defined in src/distdb.c */
extern int	DistdbShardCount;			/* distdb.shard_count */
extern char *DistdbNodeConninfo;		/* distdb.node_conninfo */
extern int	DistdbMaxConnectionsPerNode;	/* distdb.max_connections_per_node */
extern bool DistdbLogRemoteCommands;	/* distdb.log_remote_commands */
extern int	DistdbCopyBatchBytes;		/* distdb.copy_batch_size */
extern int	DistdbNodeConnectionTimeout;	/* distdb.node_connection_timeout, ms */
extern bool DistdbNodeParallelQuery;	/* distdb.node_parallel_query */
extern int	DistdbRecover2pcInterval;	/* distdb.recover_2pc_interval, ms */
extern int	DistdbDeadlockDetectionInterval;	/* distdb.distributed_deadlock_detection_interval, ms */
extern bool DistdbWaitForCommitPrepared;	/* distdb.wait_for_commit_prepared */
extern int	DistdbBroadcastJoinMaxRows;	/* distdb.broadcast_join_max_rows */

#endif							/* DISTDB_H */
