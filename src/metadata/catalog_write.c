/*-------------------------------------------------------------------------
 *
 * catalog_write.c
 *	  Changes to distdb's catalog tables (distdb.node, colocation,
 *	  dist_table, shard, placement).
 *
 * Every change goes through SPI with typed parameters, never with values
 * spliced into the SQL text.  The statements run as the owner of the
 * catalog tables, so that a table owner who is not a superuser can
 * distribute their table although only the extension's owner may write
 * the catalog, and with search_path set to pg_catalog so that nothing the
 * calling user put on their search_path is resolved while running with the
 * owner's rights.  After each change the caches that depend on the rows are
 * invalidated, here and (through relcache invalidation messages) in every
 * other backend.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "distdb/distdb.h"
#include "distdb/metadata_cache.h"
#include "distdb/metadata_catalog.h"

/* what BeginCatalogWrite changed, for EndCatalogWrite to restore */
typedef struct CatalogWriteState
{
	Oid			savedUserId;	/* user id before the switch */
	int			savedSecContext;	/* security context before the switch */
	int			gucNestLevel;	/* GUC nest level holding search_path */
} CatalogWriteState;

static Oid	CatalogOwnerId(void);
static void BeginCatalogWrite(CatalogWriteState *state);
static void EndCatalogWrite(CatalogWriteState *state);
static void ExecuteCatalogStatement(const char *sql, int nargs, Oid *argTypes,
									Datum *values, int expectedResult);
static Datum FirstResultValue(bool *isNull);
static Datum RunCatalogStatement(const char *sql, int nargs, Oid *argTypes,
								 Datum *values, int expectedResult,
								 bool *isNull);


/*
 * CatalogOwnerId returns the owner of distdb's catalog tables, the role
 * the catalog changes run as.
 */
static Oid
CatalogOwnerId(void)
{
	Oid			relid = DistdbCatalogRelid("node");
	HeapTuple	tuple;
	Oid			ownerId;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	ownerId = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);

	return ownerId;
}


/*
 * BeginCatalogWrite switches to the catalog owner, pins search_path to
 * pg_catalog and connects to SPI.
 *
 * If an error is raised before EndCatalogWrite, (sub)transaction abort
 * restores the user id, the security context and the GUC nest level.
 */
static void
BeginCatalogWrite(CatalogWriteState *state)
{
	Oid			ownerId = CatalogOwnerId();

	GetUserIdAndSecContext(&state->savedUserId, &state->savedSecContext);
	SetUserIdAndSecContext(ownerId, state->savedSecContext |
						   SECURITY_LOCAL_USERID_CHANGE);

	state->gucNestLevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to the SPI manager");
}


/*
 * EndCatalogWrite undoes BeginCatalogWrite.  The caller then registers the
 * cache invalidations and calls CommandCounterIncrement, which makes the
 * changes visible to the rest of the transaction (catalog_read.c scans see
 * changes of earlier commands only) and processes the invalidations
 * locally, in that order, so no stale cache entry outlives the change.
 */
static void
EndCatalogWrite(CatalogWriteState *state)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "could not disconnect from the SPI manager");

	AtEOXact_GUC(true, state->gucNestLevel);
	SetUserIdAndSecContext(state->savedUserId, state->savedSecContext);
}


/*
 * ExecuteCatalogStatement runs one statement with parameters (none NULL)
 * inside BeginCatalogWrite/EndCatalogWrite and checks its result code.
 */
static void
ExecuteCatalogStatement(const char *sql, int nargs, Oid *argTypes,
						Datum *values, int expectedResult)
{
	int			rc;

	rc = SPI_execute_with_args(sql, nargs, argTypes, values, NULL, false, 0);
	if (rc != expectedResult)
		elog(ERROR, "could not run \"%s\": %s", sql,
			 SPI_result_code_string(rc));
}


/*
 * RunCatalogStatement runs one catalog statement on its own, between
 * BeginCatalogWrite and EndCatalogWrite, and, when isNull is given,
 * returns the first column of its first row (see FirstResultValue).
 */
static Datum
RunCatalogStatement(const char *sql, int nargs, Oid *argTypes, Datum *values,
					int expectedResult, bool *isNull)
{
	CatalogWriteState state;
	Datum		result = (Datum) 0;

	BeginCatalogWrite(&state);
	ExecuteCatalogStatement(sql, nargs, argTypes, values, expectedResult);
	if (isNull != NULL)
		result = FirstResultValue(isNull);
	EndCatalogWrite(&state);
	return result;
}


/*
 * FirstResultValue returns the first column of the first row returned by
 * the last statement, which must be of a pass-by-value type.
 */
static Datum
FirstResultValue(bool *isNull)
{
	if (SPI_processed < 1 || SPI_tuptable == NULL)
	{
		*isNull = true;
		return (Datum) 0;
	}

	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
						 isNull);
}


/*
 * InsertNodeRow adds a node to distdb.node with a new node id and returns
 * the id.  The caller has checked that the node is not there yet.
 */
int32
InsertNodeRow(const char *nodeName, int32 nodePort)
{
	const char *sql =
		"INSERT INTO distdb.node (nodeid, nodename, nodeport) "
		"VALUES (pg_catalog.nextval('distdb.node_nodeid_seq'::pg_catalog.regclass), $1, $2) "
		"RETURNING nodeid";
	Oid			argTypes[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	Datum		nodeIdDatum;
	bool		isNull;

	values[0] = CStringGetTextDatum(nodeName);
	values[1] = Int32GetDatum(nodePort);

	nodeIdDatum = RunCatalogStatement(sql, 2, argTypes, values, SPI_OK_INSERT_RETURNING, &isNull);
	if (isNull)
		elog(ERROR, "could not insert node %s:%d", nodeName, nodePort);

	InvalidateNodeCache();
	CommandCounterIncrement();

	return DatumGetInt32(nodeIdDatum);
}


/*
 * DeleteNodeRow removes a node from distdb.node.  The caller has checked
 * that no placement refers to it.
 */
void
DeleteNodeRow(int32 nodeId)
{
	const char *sql = "DELETE FROM distdb.node WHERE nodeid = $1";
	Oid			argTypes[1] = {INT4OID};
	Datum		values[1];
	CatalogWriteState state;
	uint64		deleted;

	values[0] = Int32GetDatum(nodeId);

	BeginCatalogWrite(&state);
	ExecuteCatalogStatement(sql, 1, argTypes, values, SPI_OK_DELETE);
	deleted = SPI_processed;
	EndCatalogWrite(&state);

	if (deleted == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("node %d does not exist", nodeId)));

	InvalidateNodeCache();
	CommandCounterIncrement();
}


/*
 * InsertColocationRow creates a colocation group and returns its id.
 */
int32
InsertColocationRow(int32 shardCount, Oid distType, Oid distCollation,
					bool isDefault)
{
	const char *sql =
		"INSERT INTO distdb.colocation "
		"(colocationid, shardcount, distcoltype, distcolcollation, isdefault) "
		"VALUES (pg_catalog.nextval('distdb.colocation_colocationid_seq'::pg_catalog.regclass), "
		"$1, $2, $3, $4) RETURNING colocationid";
	Oid			argTypes[4] = {INT4OID, REGTYPEOID, OIDOID, BOOLOID};
	Datum		values[4];
	Datum		idDatum;
	bool		isNull;

	values[0] = Int32GetDatum(shardCount);
	values[1] = ObjectIdGetDatum(distType);
	values[2] = ObjectIdGetDatum(distCollation);
	values[3] = BoolGetDatum(isDefault);

	idDatum = RunCatalogStatement(sql, 4, argTypes, values, SPI_OK_INSERT_RETURNING, &isNull);
	if (isNull)
		elog(ERROR, "could not insert colocation group");

	CommandCounterIncrement();

	return DatumGetInt32(idDatum);
}


/*
 * InsertDistTableRow records that relid is distributed.
 */
void
InsertDistTableRow(Oid relid, char distMethod, AttrNumber distAttnum,
				   int32 colocationId)
{
	const char *sql =
		"INSERT INTO distdb.dist_table "
		"(logicalrelid, distmethod, distattnum, colocationid) "
		"VALUES ($1, $2, $3, $4)";
	Oid			argTypes[4] = {REGCLASSOID, CHAROID, INT2OID, INT4OID};
	Datum		values[4];

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CharGetDatum(distMethod);
	values[2] = Int16GetDatum(distAttnum);
	values[3] = Int32GetDatum(colocationId);

	(void) RunCatalogStatement(sql, 4, argTypes, values, SPI_OK_INSERT, NULL);

	InvalidateDistTableCache(relid);
	CommandCounterIncrement();
}


/*
 * NextShardId allocates a shard id from distdb.shard_shardid_seq.
 */
int64
NextShardId(void)
{
	const char *sql =
		"SELECT pg_catalog.nextval('distdb.shard_shardid_seq'::pg_catalog.regclass)";
	Datum		idDatum;
	bool		isNull;

	idDatum = RunCatalogStatement(sql, 0, NULL, NULL, SPI_OK_SELECT, &isNull);
	if (isNull)
		elog(ERROR, "could not allocate a shard id");

	return DatumGetInt64(idDatum);
}


/*
 * InsertShardRow records shard shardId of relid covering the hash values
 * [minValue, maxValue].
 */
void
InsertShardRow(Oid relid, int64 shardId, int32 shardIndex,
			   int32 minValue, int32 maxValue)
{
	const char *sql =
		"INSERT INTO distdb.shard "
		"(shardid, logicalrelid, shardindex, minvalue, maxvalue) "
		"VALUES ($1, $2, $3, $4, $5)";
	Oid			argTypes[5] = {INT8OID, REGCLASSOID, INT4OID, INT4OID, INT4OID};
	Datum		values[5];

	values[0] = Int64GetDatum(shardId);
	values[1] = ObjectIdGetDatum(relid);
	values[2] = Int32GetDatum(shardIndex);
	values[3] = Int32GetDatum(minValue);
	values[4] = Int32GetDatum(maxValue);

	(void) RunCatalogStatement(sql, 5, argTypes, values, SPI_OK_INSERT, NULL);

	InvalidateDistTableCache(relid);
	CommandCounterIncrement();
}


/*
 * InsertPlacementRow records that a copy of shard shardId lives on node
 * nodeId.  The shard's row must exist already: its table is the one whose
 * cache entry is invalidated.
 */
void
InsertPlacementRow(int64 shardId, int32 nodeId)
{
	const char *lookupSql =
		"SELECT logicalrelid FROM distdb.shard WHERE shardid = $1";
	const char *insertSql =
		"INSERT INTO distdb.placement (placementid, shardid, nodeid) "
		"VALUES (pg_catalog.nextval('distdb.placement_placementid_seq'::pg_catalog.regclass), $1, $2)";
	Oid			argTypes[2] = {INT8OID, INT4OID};
	Datum		values[2];
	CatalogWriteState state;
	Datum		relidDatum;
	bool		isNull;

	values[0] = Int64GetDatum(shardId);
	values[1] = Int32GetDatum(nodeId);

	BeginCatalogWrite(&state);
	ExecuteCatalogStatement(lookupSql, 1, argTypes, values, SPI_OK_SELECT);
	relidDatum = FirstResultValue(&isNull);
	if (isNull)
		elog(ERROR, "shard " INT64_FORMAT " does not exist", shardId);
	ExecuteCatalogStatement(insertSql, 2, argTypes, values, SPI_OK_INSERT);
	EndCatalogWrite(&state);

	InvalidateDistTableCache(DatumGetObjectId(relidDatum));
	CommandCounterIncrement();
}


/*
 * DeletePlacementRow removes the placement of shard shardId on node
 * nodeId; like InsertPlacementRow, it invalidates the cache entry of the
 * shard's table.
 */
void
DeletePlacementRow(int64 shardId, int32 nodeId)
{
	const char *sql =
		"DELETE FROM distdb.placement p USING distdb.shard s "
		"WHERE p.shardid = $1 AND p.nodeid = $2 AND s.shardid = p.shardid "
		"RETURNING s.logicalrelid";
	Oid			argTypes[2] = {INT8OID, INT4OID};
	Datum		values[2];
	Datum		relidDatum;
	bool		isNull;

	values[0] = Int64GetDatum(shardId);
	values[1] = Int32GetDatum(nodeId);

	relidDatum = RunCatalogStatement(sql, 2, argTypes, values, SPI_OK_DELETE_RETURNING, &isNull);

	if (isNull)
		elog(ERROR, "shard " INT64_FORMAT " has no placement on node %d",
			 shardId, nodeId);

	InvalidateDistTableCache(DatumGetObjectId(relidDatum));
	CommandCounterIncrement();
}


/*
 * DeleteDistTableMetadata removes everything distdb records about relid:
 * its placements, shards and dist_table row, and its colocation group when
 * no other table is left in it.  It must run while the relation still
 * exists, since the invalidation is a relcache invalidation of relid.
 */
void
DeleteDistTableMetadata(Oid relid)
{
	const char *tableSql =
		"DELETE FROM distdb.dist_table WHERE logicalrelid = $1 "
		"RETURNING colocationid";
	const char *placementSql =
		"DELETE FROM distdb.placement p USING distdb.shard s "
		"WHERE p.shardid = s.shardid AND s.logicalrelid = $1";
	const char *shardSql =
		"DELETE FROM distdb.shard WHERE logicalrelid = $1";
	const char *colocationSql =
		"DELETE FROM distdb.colocation c WHERE c.colocationid = $1 "
		"AND NOT EXISTS (SELECT 1 FROM distdb.dist_table t "
		"WHERE t.colocationid = c.colocationid)";
	Oid			relidType[1] = {REGCLASSOID};
	Datum		relidValue[1];
	Oid			colocationType[1] = {INT4OID};
	Datum		colocationValue[1];
	CatalogWriteState state;
	bool		isNull;

	relidValue[0] = ObjectIdGetDatum(relid);

	BeginCatalogWrite(&state);
	ExecuteCatalogStatement(tableSql, 1, relidType, relidValue,
							SPI_OK_DELETE_RETURNING);
	colocationValue[0] = FirstResultValue(&isNull);
	ExecuteCatalogStatement(placementSql, 1, relidType, relidValue,
							SPI_OK_DELETE);
	ExecuteCatalogStatement(shardSql, 1, relidType, relidValue,
							SPI_OK_DELETE);
	if (!isNull)
		ExecuteCatalogStatement(colocationSql, 1, colocationType,
								colocationValue, SPI_OK_DELETE);
	EndCatalogWrite(&state);

	InvalidateDistTableCache(relid);
	CommandCounterIncrement();
}
