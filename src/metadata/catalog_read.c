/*-------------------------------------------------------------------------
 *
 * catalog_read.c
 *	  Reading distdb's catalog tables through their indexes.
 *
 * These functions run when the metadata cache misses, which can happen
 * inside the planner, so they use plain index scans rather than SPI: no
 * planning or executor state is involved and they cannot recurse into
 * distdb's own planner hook.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "distdb/distdb.h"
#include "distdb/metadata_catalog.h"

/* state of one scan over a catalog table */
typedef struct CatalogScan
{
	Relation	relation;
	SysScanDesc scan;
	Snapshot	snapshot;
} CatalogScan;

/*
 * DistdbSchemaId returns the oid of the distdb schema, or InvalidOid when
 * the extension is not installed in this database.
 */
Oid
DistdbSchemaId(void)
{
	return get_namespace_oid(DISTDB_SCHEMA_NAME, true);
}

/*
 * DistdbCatalogRelid returns the oid of a relation in the distdb schema,
 * erroring out when it does not exist.
 */
Oid
DistdbCatalogRelid(const char *name)
{
	Oid			relid = get_relname_relid(name, DistdbSchemaId());

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("distdb catalog relation \"%s\" does not exist", name),
				 errhint("Run CREATE EXTENSION distdb in this database.")));
	return relid;
}

/*
 * BeginCatalogScan starts a scan of a catalog table through the named
 * index (or a sequential scan when indexName is NULL); scan keys use the
 * table's attribute numbers.  It uses the latest
 * snapshot so that metadata changed by committed transactions and by
 * earlier commands of this one is seen.
 */
static void
BeginCatalogScan(CatalogScan *state, const char *tableName,
				 const char *indexName, int nkeys, ScanKey keys)
{
	Oid			indexId = InvalidOid;

	state->relation = table_open(DistdbCatalogRelid(tableName),
								 AccessShareLock);
	if (indexName != NULL)
		indexId = DistdbCatalogRelid(indexName);
	state->snapshot = RegisterSnapshot(GetLatestSnapshot());
	state->scan = systable_beginscan(state->relation, indexId,
									 OidIsValid(indexId), state->snapshot,
									 nkeys, keys);
}

static void
EndCatalogScan(CatalogScan *state)
{
	systable_endscan(state->scan);
	UnregisterSnapshot(state->snapshot);
	table_close(state->relation, AccessShareLock);
}

/* attribute of a catalog tuple that is declared NOT NULL */
static Datum
CatalogAttr(CatalogScan *state, HeapTuple tuple, int attnum)
{
	bool		isNull;
	Datum		value = heap_getattr(tuple, attnum,
									 RelationGetDescr(state->relation),
									 &isNull);

	if (isNull)
		elog(ERROR, "unexpected null in distdb catalog \"%s\"",
			 RelationGetRelationName(state->relation));
	return value;
}

/*
 * ReadDistTableRow reads the distdb.dist_table row of a relation; returns
 * false when the relation is not distributed.
 */
bool
ReadDistTableRow(Oid relid, char *distMethod, AttrNumber *distAttnum,
				 int32 *colocationId)
{
	CatalogScan state;
	ScanKeyData key;
	HeapTuple	tuple;
	bool		found = false;

	ScanKeyInit(&key, Anum_dist_table_logicalrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	BeginCatalogScan(&state, "dist_table", "dist_table_pkey", 1, &key);
	tuple = systable_getnext(state.scan);
	if (HeapTupleIsValid(tuple))
	{
		found = true;
		*distMethod = DatumGetChar(CatalogAttr(&state, tuple,
											   Anum_dist_table_distmethod));
		*distAttnum = DatumGetInt16(CatalogAttr(&state, tuple,
												Anum_dist_table_distattnum));
		*colocationId = DatumGetInt32(CatalogAttr(&state, tuple,
												  Anum_dist_table_colocationid));
	}
	EndCatalogScan(&state);
	return found;
}

/*
 * ReadShardRows returns the shards of a table ordered by shard index, as
 * ShardInterval structs without names and placements.
 */
List *
ReadShardRows(Oid relid)
{
	CatalogScan state;
	ScanKeyData key;
	HeapTuple	tuple;
	List	   *shards = NIL;

	ScanKeyInit(&key, Anum_dist_shard_logicalrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	BeginCatalogScan(&state, "shard", "shard_relid_index_key", 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(state.scan)))
	{
		ShardInterval *shard = palloc0(sizeof(ShardInterval));

		shard->shardId = DatumGetInt64(CatalogAttr(&state, tuple,
												   Anum_dist_shard_shardid));
		shard->shardIndex = DatumGetInt32(CatalogAttr(&state, tuple,
													  Anum_dist_shard_shardindex));
		shard->minValue = DatumGetInt32(CatalogAttr(&state, tuple,
													Anum_dist_shard_minvalue));
		shard->maxValue = DatumGetInt32(CatalogAttr(&state, tuple,
													Anum_dist_shard_maxvalue));
		shards = lappend(shards, shard);
	}
	EndCatalogScan(&state);
	return shards;
}

/*
 * ReadPlacementRows returns the placements of a shard ordered by node id.
 */
List *
ReadPlacementRows(int64 shardId)
{
	CatalogScan state;
	ScanKeyData key;
	HeapTuple	tuple;
	List	   *placements = NIL;

	ScanKeyInit(&key, Anum_dist_placement_shardid, BTEqualStrategyNumber,
				F_INT8EQ, Int64GetDatum(shardId));
	BeginCatalogScan(&state, "placement", "placement_shard_node_key", 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(state.scan)))
	{
		ShardPlacement *placement = palloc0(sizeof(ShardPlacement));

		placement->placementId =
			DatumGetInt64(CatalogAttr(&state, tuple,
									  Anum_dist_placement_placementid));
		placement->shardId = shardId;
		placement->nodeId = DatumGetInt32(CatalogAttr(&state, tuple,
													  Anum_dist_placement_nodeid));
		placements = lappend(placements, placement);
	}
	EndCatalogScan(&state);
	return placements;
}

/*
 * ReadNodeRows returns every node ordered by node id.
 */
List *
ReadNodeRows(void)
{
	CatalogScan state;
	HeapTuple	tuple;
	List	   *nodes = NIL;

	BeginCatalogScan(&state, "node", "node_pkey", 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(state.scan)))
	{
		DistNode   *node = palloc0(sizeof(DistNode));

		node->nodeId = DatumGetInt32(CatalogAttr(&state, tuple,
												 Anum_dist_node_nodeid));
		node->nodeName = TextDatumGetCString(CatalogAttr(&state, tuple,
														 Anum_dist_node_nodename));
		node->nodePort = DatumGetInt32(CatalogAttr(&state, tuple,
												   Anum_dist_node_nodeport));
		nodes = lappend(nodes, node);
	}
	EndCatalogScan(&state);
	return nodes;
}

/* fill a ColocationGroup from a distdb.colocation tuple */
static void
ColocationFromTuple(CatalogScan *state, HeapTuple tuple,
					ColocationGroup *group)
{
	group->colocationId =
		DatumGetInt32(CatalogAttr(state, tuple,
								  Anum_dist_colocation_colocationid));
	group->shardCount =
		DatumGetInt32(CatalogAttr(state, tuple,
								  Anum_dist_colocation_shardcount));
	group->distType =
		DatumGetObjectId(CatalogAttr(state, tuple,
									 Anum_dist_colocation_distcoltype));
	group->distCollation =
		DatumGetObjectId(CatalogAttr(state, tuple,
									 Anum_dist_colocation_distcolcollation));
	group->isDefault =
		DatumGetBool(CatalogAttr(state, tuple, Anum_dist_colocation_isdefault));
}

/*
 * ReadColocationRow reads a colocation group; false if it does not exist.
 */
bool
ReadColocationRow(int32 colocationId, ColocationGroup *group)
{
	CatalogScan state;
	ScanKeyData key;
	HeapTuple	tuple;
	bool		found = false;

	ScanKeyInit(&key, Anum_dist_colocation_colocationid,
				BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(colocationId));
	BeginCatalogScan(&state, "colocation", "colocation_pkey", 1, &key);
	tuple = systable_getnext(state.scan);
	if (HeapTupleIsValid(tuple))
	{
		ColocationFromTuple(&state, tuple, group);
		found = true;
	}
	EndCatalogScan(&state);
	return found;
}

/*
 * FindDefaultColocationGroup finds the default colocation group for a shard
 * count, distribution column type and collation.  The table is small (one
 * row per group), so it is scanned sequentially.
 */
bool
FindDefaultColocationGroup(int32 shardCount, Oid distType,
						   Oid distCollation, ColocationGroup *group)
{
	CatalogScan state;
	HeapTuple	tuple;
	bool		found = false;

	BeginCatalogScan(&state, "colocation", "colocation_pkey", 0, NULL);
	while (!found && HeapTupleIsValid(tuple = systable_getnext(state.scan)))
	{
		ColocationGroup candidate;

		ColocationFromTuple(&state, tuple, &candidate);
		if (candidate.isDefault && candidate.shardCount == shardCount &&
			candidate.distType == distType &&
			candidate.distCollation == distCollation)
		{
			*group = candidate;
			found = true;
		}
	}
	EndCatalogScan(&state);
	return found;
}

/*
 * DistTablesWithValue returns, in oid order, the tables whose
 * distdb.dist_table row has the given value (of a pass-by-value type) in
 * column attnum, or every table when attnum is InvalidAttrNumber.  The
 * catalog is small, so it is scanned whole.
 */
static List *
DistTablesWithValue(AttrNumber attnum, Datum value)
{
	CatalogScan state;
	HeapTuple	tuple;
	List	   *tables = NIL;

	BeginCatalogScan(&state, "dist_table", "dist_table_pkey", 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(state.scan)))
	{
		if (attnum == InvalidAttrNumber ||
			CatalogAttr(&state, tuple, attnum) == value)
			tables = lappend_oid(tables,
								 DatumGetObjectId(CatalogAttr(&state, tuple,
															  Anum_dist_table_logicalrelid)));
	}
	EndCatalogScan(&state);
	return tables;
}

/*
 * TablesInColocationGroup returns the oids of the distributed tables in a
 * colocation group, in oid order.
 */
List *
TablesInColocationGroup(int32 colocationId)
{
	return DistTablesWithValue(Anum_dist_table_colocationid,
							   Int32GetDatum(colocationId));
}

/*
 * ReferenceTableList returns the oids of the reference tables, in oid
 * order.
 */
List *
ReferenceTableList(void)
{
	return DistTablesWithValue(Anum_dist_table_distmethod,
							   CharGetDatum(DISTRIBUTE_BY_REFERENCE));
}

/*
 * AllDistributedTables returns the oids of every distributed and reference
 * table, in oid order.
 */
List *
AllDistributedTables(void)
{
	return DistTablesWithValue(InvalidAttrNumber, (Datum) 0);
}

/*
 * CountPlacementsOnNode counts the shard placements a node holds.
 */
int64
CountPlacementsOnNode(int32 nodeId)
{
	CatalogScan state;
	ScanKeyData key;
	int64		count = 0;

	ScanKeyInit(&key, Anum_dist_placement_nodeid, BTEqualStrategyNumber,
				F_INT4EQ, Int32GetDatum(nodeId));
	BeginCatalogScan(&state, "placement", "placement_nodeid_idx", 1, &key);
	while (HeapTupleIsValid(systable_getnext(state.scan)))
		count++;
	EndCatalogScan(&state);
	return count;
}
