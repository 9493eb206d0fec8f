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
#include "utils/tuplestore.h"

#include "distdb/distributed_plan.h"

#define DISTRIBUTED_SCAN_NAME "DistdbScan"

extern CustomScanMethods DistributedScanMethods;

extern void RegisterDistributedScanMethods(void);
extern CustomScan *MakeDistributedScan(DistributedPlan *plan, List *targetList,
									   List *scanTargetList);
extern void InstallExecutorHooks(void);

/* at most this many parameters go into one INSERT sent to a shard */
#define MAX_INSERT_PARAMS 60000

struct RemoteParams;
struct DistTableCacheEntry;
extern struct RemoteParams *BuildRemoteParams(DistributedPlan *plan,
											  EState *estate);
extern List *ShardInsertTasks(Query *query, struct DistTableCacheEntry *entry,
							  int shardIndex,
							  struct RemoteParams *prefixParams,
							  List *columnTypes, List *values, int firstRow,
							  int rowCount, bool prepare);

extern List *ShardTasks(struct DistTableCacheEntry *entry, int shardIndex,
						char *queryString, struct RemoteParams *params,
						bool prepare, bool isWrite);

/* insert_select.c */
struct ShardCopyDestination;
extern uint64 ExecuteInsertSelect(DistributedPlan *plan, EState *estate,
								  TupleTableSlot *slot,
								  Tuplestorestate *returned);

/* planned_statement_run.c */
extern void RunPlannedStatement(PlannedStmt *plan, const char *sourceText,
								Snapshot snapshot, EState *estate,
								DestReceiver *dest, uint64 count,
								TupleDesc *rowDesc);

/* target_row_writes.c */
extern uint64 ExecuteModifyViaCoordinator(DistributedPlan *plan,
										  EState *estate,
										  TupleTableSlot *slot,
										  Tuplestorestate *returned);

/* computed_subqueries.c */
extern Datum ComputeSubqueryValue(DistributedPlan *plan, int index,
								  EState *estate, bool *isNull);
extern struct ShardCopyDestination *ClaimShardCopyDestinations(struct DistTableCacheEntry *entry);
extern void ReleaseShardCopyDestinations(struct ShardCopyDestination *destinations,
										 int shardCount);

#endif							/* DISTDB_DISTRIBUTED_SCAN_H */
