/*-------------------------------------------------------------------------
 *
 * distdb.c
 *	  Entry point of the distdb extension: settings, hooks and callbacks.
 *
 * distdb must be loaded through shared_preload_libraries, because it
 * installs planner, executor and utility hooks that every backend of the
 * database needs from its first statement on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "executor/executor.h"
#include "optimizer/planner.h"
#include "tcop/utility.h"
#include "utils/guc.h"

#include "distdb/connection_cache.h"
#include "distdb/distdb.h"
#include "distdb/distributed_scan.h"
#include "distdb/distributed_transaction_id.h"
#include "distdb/maintenance_daemon.h"
#include "distdb/metadata_cache.h"
#include "distdb/planner.h"
#include "distdb/remote_transaction.h"
#include "distdb/utility_hook.h"

PG_MODULE_MAGIC;

/* GUC values */
int			DistdbShardCount = 32;
char	   *DistdbNodeConninfo = NULL;
int			DistdbMaxConnectionsPerNode = 4;
bool		DistdbLogRemoteCommands = false;
int			DistdbCopyBatchBytes = 256 * 1024;
int			DistdbNodeConnectionTimeout = 30000;
bool		DistdbNodeParallelQuery = false;
int			DistdbRecover2pcInterval = 5000;
int			DistdbDeadlockDetectionInterval = 2000;
bool		DistdbWaitForCommitPrepared = true;
int			DistdbBroadcastJoinMaxRows = 10000;

void		_PG_init(void);

static void DefineSettings(void);

/*
 * _PG_init installs distdb's hooks.  It refuses to run unless loaded at
 * server start, since a backend that loaded distdb late would have missed
 * the metadata invalidations and the other backends would lack the hooks.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("distdb can only be loaded via shared_preload_libraries"),
				 errhint("Add distdb to shared_preload_libraries in postgresql.conf and restart the server.")));

	DefineSettings();

	InitializeMetadataCache();
	InitializeConnectionCache();
	InitializeRemoteTransactions();
	InitializeDistributedTransactionIds();
	InitializeMaintenanceDaemon();
	RegisterDistributedScanMethods();

	PrevPlannerHook = planner_hook;
	planner_hook = DistdbPlanner;
	PrevSetRelPathlistHook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = DistdbSetRelPathlist;
	PrevProcessUtilityHook = ProcessUtility_hook;
	ProcessUtility_hook = DistdbProcessUtility;
	InstallExecutorHooks();
}

/*
 * DefineSettings defines distdb's GUCs.
 */
static void
DefineSettings(void)
{
	DefineCustomIntVariable("distdb.shard_count",
							"Number of shards of a new distributed table.",
							"Used by create_distributed_table when no shard_count is given.",
							&DistdbShardCount,
							32, 1, 64000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("distdb.node_conninfo",
							   "Extra libpq connection options for connections to nodes.",
							   "For example \"sslmode=require connect_timeout=10\".",
							   &DistdbNodeConninfo,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("distdb.max_connections_per_node",
							"Connections per node a statement may use to run shards in parallel.",
							NULL,
							&DistdbMaxConnectionsPerNode,
							4, 1, 1000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("distdb.log_remote_commands",
							 "Logs every command sent to a node, with the node.",
							 NULL,
							 &DistdbLogRemoteCommands,
							 false,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("distdb.copy_batch_size",
							"Bytes of rows buffered per shard before they are sent (distributing a table, COPY FROM, INSERT ... SELECT).",
							NULL,
							&DistdbCopyBatchBytes,
							256 * 1024, 1024, 64 * 1024 * 1024,
							PGC_USERSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("distdb.node_connection_timeout",
							"Time to wait for a connection to a node to be established.",
							NULL,
							&DistdbNodeConnectionTimeout,
							30000, 100, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("distdb.recover_2pc_interval",
							"Time between two recoveries of the prepared transactions left by interrupted two-phase commits.",
							"The maintenance daemon of each database commits or rolls them back; -1 disables it.",
							&DistdbRecover2pcInterval,
							5000, -1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("distdb.distributed_deadlock_detection_interval",
							"Time a lock wait lasts before distributed deadlock detection looks for a cycle through it.",
							"The maintenance daemon checks this often and cancels the youngest transaction "
							"of each distributed deadlock; -1 or 0 disables it.",
							&DistdbDeadlockDetectionInterval,
							2000, -1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("distdb.node_parallel_query",
							 "Lets nodes use parallel query for the shard queries of a statement.",
							 "Off: a statement already runs its shards in parallel, so parallel "
							 "workers inside each shard query mostly compete for the same cores.",
							 &DistdbNodeParallelQuery,
							 false,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("distdb.wait_for_commit_prepared",
							 "Makes COMMIT of a two-phase commit wait until the nodes have committed their prepared transactions.",
							 "On (as a single PostgreSQL behaves): once COMMIT returns, every session sees the "
							 "transaction.  Off: COMMIT returns once the commit is durable on the coordinator and "
							 "COMMIT PREPARED has been sent; the nodes' acknowledgements are read before the "
							 "session's next use of the connections, so the session sees its writes, but another "
							 "session may briefly not.",
							 &DistdbWaitForCommitPrepared,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("distdb.broadcast_join_max_rows",
							"Largest estimated row count of a relation the shards cannot read that is sent to every shard of a join.",
							"A local table, or a distributed table that is not co-located, joined with distributed tables is computed first "
							"and sent to the shards when its estimate is at most this; 0 disables it (the tables are then pulled to the coordinator).",
							&DistdbBroadcastJoinMaxRows,
							10000, 0, 10000000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("distdb");
}
