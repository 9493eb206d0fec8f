/*-------------------------------------------------------------------------
 *
 * shard_pruning.h
 *	  Finding the shards a statement's filters can match.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_SHARD_PRUNING_H
#define DISTDB_SHARD_PRUNING_H

#include "nodes/params.h"
#include "nodes/primnodes.h"

#include "distdb/metadata_cache.h"

typedef struct PruningResult
{
	List	   *shardIndexes;	/* IntList of the shards that can match */
	Expr	   *pruneValue;		/* or: a parameter whose value, known at
								 * execution, picks the one shard */
} PruningResult;

extern PruningResult PruneShards(DistTableCacheEntry *entry, List *conjuncts,
								 ParamListInfo boundParams);
extern List *AllShardIndexes(DistTableCacheEntry *entry);
extern int	ShardIndexForDatum(DistTableCacheEntry *entry, Datum value,
							   Oid valueType);

#endif							/* DISTDB_SHARD_PRUNING_H */
