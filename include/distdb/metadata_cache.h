/*-------------------------------------------------------------------------
 *
 * metadata_cache.h
 *	  Backend-local cache of distdb's catalog: distributed tables, their
 *	  shards and placements, and the nodes.
 *
 * Planning a statement must not query the catalog, so everything the
 * planner and executor need about a distributed table lives in a
 * DistTableCacheEntry built once and kept until an invalidation arrives
 * (see src/metadata/metadata_cache.c for the invalidation rules).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_METADATA_CACHE_H
#define DISTDB_METADATA_CACHE_H

#include "access/attnum.h"
#include "fmgr.h"

/* distribution methods, as stored in distdb.dist_table.distmethod */
#define DISTRIBUTE_BY_HASH 'h'
#define DISTRIBUTE_BY_REFERENCE 'r' /* one shard, a copy on every node */

/* a worker node */
typedef struct DistNode
{
	int32		nodeId;
	char	   *nodeName;
	int32		nodePort;
} DistNode;

/* one copy of a shard on a node */
typedef struct ShardPlacement
{
	int64		placementId;
	int64		shardId;
	int32		nodeId;
} ShardPlacement;

/* one shard: a hash range [minValue, maxValue] of a distributed table */
typedef struct ShardInterval
{
	int64		shardId;
	int32		shardIndex;		/* position in the table's shard array */
	int32		minValue;		/* smallest hash value it holds */
	int32		maxValue;		/* largest hash value it holds */
	char	   *shardName;		/* quoted, schema-qualified shard name */
	int			placementCount;
	ShardPlacement *placements; /* sorted by node id */
} ShardInterval;

/* everything distdb knows about one relation */
typedef struct DistTableCacheEntry
{
	Oid			relid;			/* hash key */
	bool		isValid;		/* false once invalidated */
	bool		isDistributed;	/* false: a negative entry */

	/*
	 * A reference table has no distribution column (distAttnum 0, the type
	 * fields and hash function unset), no colocation group (0) and a single
	 * shard whose placements are on every node.
	 */
	char		distMethod;
	AttrNumber	distAttnum;
	Oid			distType;
	int32		distTypmod;
	Oid			distCollation;
	int32		colocationId;
	Oid			hashOpfamily;	/* opfamily of the type's default hash opclass */
	FmgrInfo	hashFunction;	/* the type's standard hash support fn */

	int			shardCount;
	ShardInterval *shards;		/* sorted by shardIndex: shards[i] has
								 * shardIndex i */
} DistTableCacheEntry;

extern void InitializeMetadataCache(void);
extern bool DistdbMetadataAvailable(void);
extern DistTableCacheEntry *LookupDistTable(Oid relid);
extern bool IsDistributedTable(Oid relid);
extern bool IsReferenceTable(Oid relid);
extern ShardPlacement *ShardPlacementOnNode(ShardInterval *shard,
											int32 nodeId);
extern DistNode *LookupNode(int32 nodeId, bool missingOk);
extern List *ActiveNodeList(void);
extern ShardInterval *LookupShardById(DistTableCacheEntry *entry, int64 shardId);
extern void InvalidateDistTableCache(Oid relid);

/* whether a cache entry is that of a reference table */
static inline bool
IsReferenceTableEntry(const DistTableCacheEntry *entry)
{
	return entry->distMethod == DISTRIBUTE_BY_REFERENCE;
}

extern void InvalidateNodeCache(void);

/* hashing (src/metadata/shard_hashing.c) */
extern int32 HashDistributionValue(DistTableCacheEntry *entry, Datum value);
extern int32 HashValueWithFunction(FmgrInfo *hashFunction, Oid collation,
								   Datum value);
extern int	ShardIndexForHash(int shardCount, int32 hashValue);
extern void ShardHashRange(int shardCount, int shardIndex,
						   int32 *minValue, int32 *maxValue);
extern Oid	LookupHashSupportFunction(Oid typeId);
extern Oid	LookupHashOpfamily(Oid typeId);

/* shard naming (src/metadata/shard_names.c) */
extern char *ShardTableName(const char *relname, int64 shardId);
extern char *QualifiedShardName(Oid relid, int64 shardId);

#endif							/* DISTDB_METADATA_CACHE_H */
