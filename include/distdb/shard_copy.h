/*-------------------------------------------------------------------------
 *
 * shard_copy.h
 *	  Streaming rows into shards with COPY ... FROM STDIN: rows are written
 *	  in COPY text format into one buffer per shard, and a buffer that
 *	  reaches distdb.copy_batch_size is sent to every placement of its
 *	  shard.  Used to move a table's rows when it is distributed and by
 *	  COPY ... FROM into a distributed table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_SHARD_COPY_H
#define DISTDB_SHARD_COPY_H

#include "access/tupdesc.h"
#include "nodes/pg_list.h"

/* where the rows of one shard go */
typedef struct ShardCopyDestination
{
	const char *shardName;		/* quoted, schema-qualified shard name */
	List	   *connections;	/* NodeConnection * of each placement, with
								 * a remote transaction open */
} ShardCopyDestination;

/* the per-shard buffers of one load (opaque; see shard_copy.c) */
typedef struct ShardCopyBuffers ShardCopyBuffers;

extern ShardCopyBuffers *CreateShardCopyBuffers(TupleDesc tupleDesc,
												int shardCount,
												ShardCopyDestination *destinations);
extern ShardCopyBuffers *CreateShardCopyBuffersForColumns(TupleDesc tupleDesc,
														  const bool *columns,
														  int shardCount,
														  ShardCopyDestination *destinations);
extern bool IsShardCopyColumn(Form_pg_attribute attr);
extern bool AppendShardCopyRow(ShardCopyBuffers *buffers, int shardIndex,
							   Datum *values, bool *nulls);
extern void FlushShardCopyBuffer(ShardCopyBuffers *buffers, int shardIndex);
extern void FlushAllShardCopyBuffers(ShardCopyBuffers *buffers);

#endif							/* DISTDB_SHARD_COPY_H */
