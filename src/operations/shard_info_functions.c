/*-------------------------------------------------------------------------
 *
 * shard_info_functions.c
 *	  SQL functions that describe shards: their sizes (read from the nodes
 *	  that hold them), their names, and the shard a value hashes to.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

#include "libpq-fe.h"

#include "distdb/connection_cache.h"
#include "distdb/metadata_cache.h"
#include "distdb/metadata_catalog.h"
#include "distdb/remote_command.h"
#include "distdb/shard_ddl.h"

PG_FUNCTION_INFO_V1(distdb_shard_sizes);
PG_FUNCTION_INFO_V1(distdb_shard_name);
PG_FUNCTION_INFO_V1(distdb_shard_index_for_value);

/* the shards one node holds, to ask it for their sizes */
typedef struct NodeShards
{
	int32		nodeId;
	List	   *shardIds;		/* int64 *, parallel to the name lists */
	List	   *schemaNames;	/* char *, unquoted */
	List	   *tableNames;		/* char *, unquoted */
} NodeShards;

/* the columns of distdb_shard_sizes() */
enum ShardSizesColumn
{
	SHARD_SIZES_SHARDID = 0,
	SHARD_SIZES_NODEID,
	SHARD_SIZES_SIZE,
	SHARD_SIZES_COLUMN_COUNT
};

static List *ShardsByNode(void);
static NodeShards *FindNodeShards(List *nodeShardsList, int32 nodeId);
static void ReadShardSizes(NodeConnection *connection, NodeShards *nodeShards,
						   ReturnSetInfo *rsinfo);
static DistTableCacheEntry *DistributedTableEntry(Oid relid);


/*
 * distdb_shard_sizes returns (shardid, nodeid, size) for every shard
 * placement, where size is pg_total_relation_size of the shard on its node
 * (NULL if the shard is missing there).  One query is sent to each node
 * that holds placements, all nodes in parallel.
 */
Datum
distdb_shard_sizes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *nodeShardsList;
	List	   *connections = NIL;

	/*
	 * The shards are looked up by name in pg_class rather than with
	 * to_regclass(), which would fail for schemas the user may not use.
	 */
	const char *sql =
		"SELECT s.shardid, pg_catalog.pg_total_relation_size(c.oid) "
		"FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), "
		"pg_catalog.unnest($2::pg_catalog.text[]), "
		"pg_catalog.unnest($3::pg_catalog.text[])) AS s(shardid, nspname, relname) "
		"LEFT JOIN pg_catalog.pg_namespace n "
		"ON n.nspname OPERATOR(pg_catalog.=) s.nspname "
		"LEFT JOIN pg_catalog.pg_class c "
		"ON c.relnamespace OPERATOR(pg_catalog.=) n.oid "
		"AND c.relname OPERATOR(pg_catalog.=) s.relname";
	ListCell   *cell;

	InitMaterializedSRF(fcinfo, 0);

	nodeShardsList = ShardsByNode();
	if (nodeShardsList == NIL)
		return (Datum) 0;

	foreach(cell, nodeShardsList)
	{
		NodeShards *nodeShards = (NodeShards *) lfirst(cell);
		List	   *nodeConnections = ClaimNodeConnections(nodeShards->nodeId, 1);

		if (nodeConnections == NIL)
			elog(ERROR, "could not claim a connection to node %d",
				 nodeShards->nodeId);
		connections = lappend(connections, linitial(nodeConnections));
	}

	FinishConnectionEstablishment(connections);

	/* send every query first, then collect the results */
	foreach(cell, connections)
	{
		NodeShards *nodeShards = list_nth(nodeShardsList,
										  foreach_current_index(cell));
		Oid			paramTypes[3] = {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
		const char *paramValues[3];
		RemoteParams params;

		paramValues[0] = ArrayLiteral(nodeShards->shardIds, INT8OID, true);
		paramValues[1] = ArrayLiteral(nodeShards->schemaNames, TEXTOID, false);
		paramValues[2] = ArrayLiteral(nodeShards->tableNames, TEXTOID, false);
		params.count = 3;
		params.types = paramTypes;
		params.values = paramValues;

		SendRemoteQuery((NodeConnection *) lfirst(cell), sql, &params, false);
	}

	foreach(cell, connections)
	{
		NodeShards *nodeShards = list_nth(nodeShardsList,
										  foreach_current_index(cell));

		ReadShardSizes((NodeConnection *) lfirst(cell), nodeShards, rsinfo);
	}

	ReleaseNodeConnectionList(connections);

	return (Datum) 0;
}


/*
 * ShardsByNode reads every placement from the catalog and groups the
 * shards by the node that holds them.
 */
static List *
ShardsByNode(void)
{
	const char *sql =
		"SELECT p.nodeid, s.shardid, s.logicalrelid "
		"FROM distdb.placement p JOIN distdb.shard s ON s.shardid = p.shardid "
		"ORDER BY p.nodeid, s.shardid";
	List	   *nodeShardsList = NIL;
	MemoryContext callerContext = CurrentMemoryContext;
	uint64		rowIndex;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to the SPI manager");

	rc = SPI_execute(sql, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read shard placements: %s",
			 SPI_result_code_string(rc));

	for (rowIndex = 0; rowIndex < SPI_processed; rowIndex++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[rowIndex];
		TupleDesc	tupleDesc = SPI_tuptable->tupdesc;
		bool		isNull;
		int32		nodeId;
		int64		shardId;
		Oid			relid;
		NodeShards *nodeShards;
		MemoryContext spiContext;
		int64	   *shardIdCopy;

		nodeId = DatumGetInt32(SPI_getbinval(tuple, tupleDesc, 1, &isNull));
		shardId = DatumGetInt64(SPI_getbinval(tuple, tupleDesc, 2, &isNull));
		relid = DatumGetObjectId(SPI_getbinval(tuple, tupleDesc, 3, &isNull));

		/* a table dropped concurrently has no name left to ask for */
		if (get_rel_name(relid) == NULL)
			continue;

		/* the result must outlive SPI_finish */
		spiContext = MemoryContextSwitchTo(callerContext);

		nodeShards = FindNodeShards(nodeShardsList, nodeId);
		if (nodeShards == NULL)
		{
			nodeShards = palloc0(sizeof(NodeShards));
			nodeShards->nodeId = nodeId;
			nodeShardsList = lappend(nodeShardsList, nodeShards);
		}

		shardIdCopy = palloc(sizeof(int64));
		*shardIdCopy = shardId;
		nodeShards->shardIds = lappend(nodeShards->shardIds, shardIdCopy);
		nodeShards->schemaNames = lappend(nodeShards->schemaNames,
										  get_namespace_name(get_rel_namespace(relid)));
		nodeShards->tableNames = lappend(nodeShards->tableNames,
										 ShardTableName(get_rel_name(relid),
														shardId));

		MemoryContextSwitchTo(spiContext);
	}

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "could not disconnect from the SPI manager");

	return nodeShardsList;
}


/*
 * FindNodeShards returns the entry of nodeId in the list, or NULL.
 */
static NodeShards *
FindNodeShards(List *nodeShardsList, int32 nodeId)
{
	ListCell   *cell;

	foreach(cell, nodeShardsList)
	{
		NodeShards *nodeShards = (NodeShards *) lfirst(cell);

		if (nodeShards->nodeId == nodeId)
			return nodeShards;
	}

	return NULL;
}


/*
 * ArrayLiteral returns the text form of an array of the given element
 * type built from a list of int64 pointers (isInt64) or C strings, so that
 * the values travel as one parameter and need no quoting of our own.
 */
char *
ArrayLiteral(List *values, Oid elementType, bool isInt64)
{
	int			count = list_length(values);
	Datum	   *elements = palloc(sizeof(Datum) * count);
	ArrayType  *array;
	int16		typeLength;
	bool		typeByValue;
	char		typeAlign;
	ListCell   *cell;

	foreach(cell, values)
	{
		int			index = foreach_current_index(cell);

		if (isInt64)
			elements[index] = Int64GetDatum(*(int64 *) lfirst(cell));
		else
			elements[index] = CStringGetTextDatum((char *) lfirst(cell));
	}

	get_typlenbyvalalign(elementType, &typeLength, &typeByValue, &typeAlign);
	array = construct_array(elements, count, elementType, typeLength,
							typeByValue, typeAlign);

	return DatumGetCString(OidFunctionCall1(F_ARRAY_OUT,
											PointerGetDatum(array)));
}


/*
 * ReadShardSizes reads one node's answer into the result tuplestore.
 */
static void
ReadShardSizes(NodeConnection *connection, NodeShards *nodeShards,
			   ReturnSetInfo *rsinfo)
{
	PGresult   *result = WaitForRemoteResult(connection);
	int			rowCount;
	int			rowIndex;

	if (!IsResponseOK(result))
	{
		DrainRemoteResults(connection);
		ThrowRemoteError(connection, result);
	}

	rowCount = PQntuples(result);
	for (rowIndex = 0; rowIndex < rowCount; rowIndex++)
	{
		Datum		values[SHARD_SIZES_COLUMN_COUNT];
		bool		nulls[SHARD_SIZES_COLUMN_COUNT];

		memset(nulls, 0, sizeof(nulls));
		values[SHARD_SIZES_SHARDID] =
			Int64GetDatum(strtoi64(PQgetvalue(result, rowIndex, 0), NULL, 10));
		values[SHARD_SIZES_NODEID] = Int32GetDatum(nodeShards->nodeId);
		if (PQgetisnull(result, rowIndex, 1))
		{
			values[SHARD_SIZES_SIZE] = (Datum) 0;
			nulls[SHARD_SIZES_SIZE] = true;
		}
		else
			values[SHARD_SIZES_SIZE] =
				Int64GetDatum(strtoi64(PQgetvalue(result, rowIndex, 1), NULL, 10));

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	PQclear(result);
	DrainRemoteResults(connection);
}


/*
 * distdb_shard_name returns the quoted, schema-qualified name of shard
 * shardid of a table.
 */
Datum
distdb_shard_name(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int64		shardId = PG_GETARG_INT64(1);

	PG_RETURN_TEXT_P(cstring_to_text(QualifiedShardName(relid, shardId)));
}


/*
 * distdb_shard_index_for_value returns the index of the shard of a
 * distributed table that a value of its distribution column (given as
 * text, read with the column type's input function) hashes to.
 */
Datum
distdb_shard_index_for_value(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *valueText = text_to_cstring(PG_GETARG_TEXT_PP(1));
	DistTableCacheEntry *entry = DistributedTableEntry(relid);
	Oid			inputFunctionId;
	Oid			typeIOParam;
	Datum		value;
	int32		hashValue;

	if (IsReferenceTableEntry(entry))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" is a reference table", get_rel_name(relid)),
				 errdetail("A reference table has a single shard and no distribution column.")));

	getTypeInputInfo(entry->distType, &inputFunctionId, &typeIOParam);
	value = OidInputFunctionCall(inputFunctionId, valueText, typeIOParam,
								 entry->distTypmod);

	hashValue = HashDistributionValue(entry, value);

	PG_RETURN_INT32(ShardIndexForHash(entry->shardCount, hashValue));
}


/*
 * DistributedTableEntry returns the cache entry of a distributed table and
 * raises an error for any other relation.
 */
static DistTableCacheEntry *
DistributedTableEntry(Oid relid)
{
	DistTableCacheEntry *entry = LookupDistTable(relid);

	if (entry == NULL || !entry->isDistributed)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" is not distributed",
						get_rel_name(relid) != NULL ? get_rel_name(relid) :
						"(unknown)")));

	return entry;
}
