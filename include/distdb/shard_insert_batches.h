/*-------------------------------------------------------------------------
 *
 * shard_insert_batches.h
 *	  Sending rows to their shards as batched multi-row INSERT ... VALUES
 *	  statements, for INSERT ... SELECT with ON CONFLICT or RETURNING
 *	  through the coordinator.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_SHARD_INSERT_BATCHES_H
#define DISTDB_SHARD_INSERT_BATCHES_H

#include "nodes/execnodes.h"
#include "utils/tuplestore.h"

#include "distdb/distributed_plan.h"
#include "distdb/metadata_cache.h"

/* the per-shard batches of one statement (opaque; see shard_insert_batches.c) */
typedef struct ShardInsertBatches ShardInsertBatches;

extern ShardInsertBatches *CreateShardInsertBatches(DistributedPlan *plan,
													DistTableCacheEntry *entry,
													EState *estate,
													TupleTableSlot *returnSlot,
													Tuplestorestate *returned);
extern bool AddShardInsertRow(ShardInsertBatches *batches, int shardIndex,
							  Datum *values, bool *nulls);
extern void FlushShardInsertBatches(ShardInsertBatches *batches, bool last);
extern uint64 ShardInsertBatchesRowCount(ShardInsertBatches *batches);

#endif							/* DISTDB_SHARD_INSERT_BATCHES_H */
