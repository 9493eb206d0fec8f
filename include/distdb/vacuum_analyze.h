/*-------------------------------------------------------------------------
 *
 * vacuum_analyze.h
 *	  VACUUM and ANALYZE of distributed tables: the command runs on every
 *	  shard, and the coordinator's row estimates come from the shards.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_VACUUM_ANALYZE_H
#define DISTDB_VACUUM_ANALYZE_H

#include "nodes/parsenodes.h"

/* what a VACUUM or ANALYZE does on the shards (opaque) */
typedef struct ShardVacuum ShardVacuum;

/*
 * Decide, before the local command runs, which distributed tables a VACUUM
 * or ANALYZE covers; NULL when none.
 */
extern ShardVacuum *PlanShardVacuum(VacuumStmt *stmt);

/* run it on their shards once the local command succeeded */
extern void ExecuteShardVacuum(ShardVacuum *shardVacuum);

/*
 * Refresh the coordinator's pg_class.relpages / reltuples of distributed
 * tables (Oid list) from their shards.
 */
extern void UpdateStatisticsFromShards(List *relids);

#endif							/* DISTDB_VACUUM_ANALYZE_H */
