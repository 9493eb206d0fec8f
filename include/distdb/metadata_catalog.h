/*-------------------------------------------------------------------------
 *
 * metadata_catalog.h
 *	  Layout of distdb's catalog tables (see distdb--0.1.sql) and the
 *	  functions that read and write them.
 *
 * Reads go through the tables' indexes (src/metadata/catalog_read.c), so
 * they are safe inside the planner; writes go through SPI as the
 * extension's owner (src/metadata/catalog_write.c) and always invalidate
 * the caches they affect.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_METADATA_CATALOG_H
#define DISTDB_METADATA_CATALOG_H

#include "distdb/metadata_cache.h"

/* distdb.node */
#define Natts_dist_node 3
#define Anum_dist_node_nodeid 1
#define Anum_dist_node_nodename 2
#define Anum_dist_node_nodeport 3

/* distdb.colocation */
#define Natts_dist_colocation 5
#define Anum_dist_colocation_colocationid 1
#define Anum_dist_colocation_shardcount 2
#define Anum_dist_colocation_distcoltype 3
#define Anum_dist_colocation_distcolcollation 4
#define Anum_dist_colocation_isdefault 5

/* distdb.dist_table */
#define Natts_dist_table 4
#define Anum_dist_table_logicalrelid 1
#define Anum_dist_table_distmethod 2
#define Anum_dist_table_distattnum 3
#define Anum_dist_table_colocationid 4

/* distdb.shard */
#define Natts_dist_shard 5
#define Anum_dist_shard_shardid 1
#define Anum_dist_shard_logicalrelid 2
#define Anum_dist_shard_shardindex 3
#define Anum_dist_shard_minvalue 4
#define Anum_dist_shard_maxvalue 5

/* distdb.placement */
#define Natts_dist_placement 3
#define Anum_dist_placement_placementid 1
#define Anum_dist_placement_shardid 2
#define Anum_dist_placement_nodeid 3

/* no colocation group: colocation ids start at 1 */
#define INVALID_COLOCATION_ID 0

/* a colocation group as stored in distdb.colocation */
typedef struct ColocationGroup
{
	int32		colocationId;
	int32		shardCount;
	Oid			distType;
	Oid			distCollation;
	bool		isDefault;
} ColocationGroup;

/* catalog_read.c: index scans on the catalog tables */
extern Oid	DistdbSchemaId(void);
extern Oid	DistdbCatalogRelid(const char *name);
extern bool ReadDistTableRow(Oid relid, char *distMethod, AttrNumber *distAttnum,
							 int32 *colocationId);
extern List *ReadShardRows(Oid relid);	/* ShardInterval *, no names/placements */
extern List *ReadPlacementRows(int64 shardId);	/* ShardPlacement * */
extern List *ReadNodeRows(void);		/* DistNode *, ordered by node id */
extern bool ReadColocationRow(int32 colocationId, ColocationGroup *group);
extern bool FindDefaultColocationGroup(int32 shardCount, Oid distType,
									   Oid distCollation, ColocationGroup *group);
extern List *TablesInColocationGroup(int32 colocationId);	/* Oid list */
extern List *ReferenceTableList(void);	/* Oid list */
extern List *AllDistributedTables(void);	/* Oid list */
extern int64 CountPlacementsOnNode(int32 nodeId);

/* catalog_write.c: changes through SPI, run as the extension owner */
extern int32 InsertNodeRow(const char *nodeName, int32 nodePort);
extern void DeleteNodeRow(int32 nodeId);
extern int32 InsertColocationRow(int32 shardCount, Oid distType,
								 Oid distCollation, bool isDefault);
extern void InsertDistTableRow(Oid relid, char distMethod, AttrNumber distAttnum,
							   int32 colocationId);
extern int64 NextShardId(void);
extern void InsertShardRow(Oid relid, int64 shardId, int32 shardIndex,
						   int32 minValue, int32 maxValue);
extern void InsertPlacementRow(int64 shardId, int32 nodeId);
extern void DeletePlacementRow(int64 shardId, int32 nodeId);
extern void DeleteDistTableMetadata(Oid relid);

#endif							/* DISTDB_METADATA_CATALOG_H */
