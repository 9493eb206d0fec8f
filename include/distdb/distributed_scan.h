/*-------------------------------------------------------------------------
 *
 * distributed_scan.h
 *	  The custom scan node that runs a distributed plan's tasks on the
 *	  nodes and returns their rows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_DISTRIBUTED_SCAN_H
#define DISTDB_DISTRIBUTED_SCAN_H

#include "nodes/execnodes.h"
#include "nodes/extensible.h"

#include "distdb/distributed_plan.h"

#define DISTRIBUTED_SCAN_NAME "DistdbScan"

extern CustomScanMethods DistributedScanMethods;

extern void RegisterDistributedScanMethods(void);
extern CustomScan *MakeDistributedScan(DistributedPlan *plan, List *targetList,
									   List *scanTargetList);
extern void InstallExecutorHooks(void);

/* insert_select.c */
struct ShardCopyDestination;
struct DistTableCacheEntry;
extern uint64 ExecuteInsertSelect(DistributedPlan *plan, EState *estate);
extern struct ShardCopyDestination *ClaimShardCopyDestinations(struct DistTableCacheEntry *entry);
extern void ReleaseShardCopyDestinations(struct ShardCopyDestination *destinations,
										 int shardCount);

#endif							/* DISTDB_DISTRIBUTED_SCAN_H */
