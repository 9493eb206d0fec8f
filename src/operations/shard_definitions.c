/*-------------------------------------------------------------------------
 *
 * shard_definitions.c
 *	  distdb_shard_definitions(table): every shard's definition on every
 *	  node next to the coordinator's table, to check that DDL kept them
 *	  the same.
 *
 * The definition of one relation is listed by the SQL function
 * distdb.distdb_relation_definition (in the install script, so the
 * workers have it too): one row per column (type, collation, default or
 * generation expression, NOT NULL), constraint (pg_get_constraintdef) and
 * index (its definition from USING on, whether it is unique and valid),
 * deparsed with search_path = pg_catalog, so the same definition reads
 * the same on every node.  This file runs it on the coordinator's table
 * and, one query per node, on the shards, then maps the shard specific
 * names back: a shard's constraint or index named
 * ShardObjectName(name, shardid) is reported as "name", and the shard a
 * foreign key references as its table.  Defaults that take values from a
 * sequence are left out (the shards never have them: the coordinator
 * evaluates them), and so are comments, which distdb keeps on the
 * coordinator only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "libpq-fe.h"

#include "distdb/connection_cache.h"
#include "distdb/metadata_cache.h"
#include "distdb/remote_command.h"
#include "distdb/shard_ddl.h"

PG_FUNCTION_INFO_V1(distdb_shard_definitions);

/* one row of distdb_relation_definition */
typedef struct DefinitionRow
{
	char	   *kind;
	char	   *name;
	char	   *definition;
	char	   *referenced;		/* the table a foreign key references */
	Oid			referencedOid;	/* (coordinator rows only) */
	bool		matched;		/* a shard row was paired with it */
} DefinitionRow;

/* the shards one node holds */
typedef struct NodeShardList
{
	int32		nodeId;
	List	   *shards;			/* ShardInterval * */
	List	   *shardIds;		/* int64 *, for the query */
	List	   *shardNames;		/* char *, for the query */
} NodeShardList;

/* the columns of distdb_shard_definitions() */
enum ShardDefinitionsColumn
{
	SHARD_DEFINITIONS_NODEID = 0,
	SHARD_DEFINITIONS_SHARDID,
	SHARD_DEFINITIONS_KIND,
	SHARD_DEFINITIONS_NAME,
	SHARD_DEFINITIONS_SHARD,
	SHARD_DEFINITIONS_COORDINATOR,
	SHARD_DEFINITIONS_COLUMN_COUNT
};

static List *CoordinatorDefinition(Oid relid);
static List *GroupShardsByNode(DistTableCacheEntry *entry);
static void EmitShardRows(ReturnSetInfo *rsinfo, DistTableCacheEntry *entry,
						  int32 nodeId, ShardInterval *shard,
						  List *coordinatorRows, List *shardRows);
static char *ExpectedReferencedShard(DistTableCacheEntry *entry,
									 ShardInterval *shard, Oid referencedOid);
static char *ReplaceReferenced(const char *definition, const char *name);
static void PutRow(ReturnSetInfo *rsinfo, int32 nodeId, int64 shardId,
				   const char *kind, const char *name,
				   const char *shardDefinition,
				   const char *coordinatorDefinition);


/*
 * distdb_shard_definitions returns, for every placement of every shard
 * of a distributed table, (nodeid, shardid, kind, name,
 * shard_definition, coordinator_definition): one row per column,
 * constraint and index of the coordinator's table or of the shard, NULL
 * on the side that lacks it.  A shard missing on its node gives one row
 * of kind 'table'.
 */
Datum
distdb_shard_definitions(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DistTableCacheEntry *entry = LookupDistTable(relid);
	const char *sql;
	List	   *coordinatorRows;
	List	   *nodeShardLists;
	List	   *nodeIds = NIL;
	List	   *connections;
	ListCell   *cell;

	if (entry == NULL || !entry->isDistributed)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" is not distributed", get_rel_name(relid))));

	/* one query per node, the shards in the order of the arrays */
	sql = "SELECT s.shardid, d.kind, d.name, d.definition, d.referenced::pg_catalog.text "
		"FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), "
		"pg_catalog.unnest($2::pg_catalog.text[])) WITH ORDINALITY AS s(shardid, shardname, ord) "
		"LEFT JOIN LATERAL distdb.distdb_relation_definition("
		"pg_catalog.to_regclass(s.shardname)) d ON true "
		"ORDER BY s.ord";

	InitMaterializedSRF(fcinfo, 0);

	coordinatorRows = CoordinatorDefinition(relid);
	entry = LookupDistTable(relid);
	nodeShardLists = GroupShardsByNode(entry);

	foreach(cell, nodeShardLists)
		nodeIds = lappend_int(nodeIds, ((NodeShardList *) lfirst(cell))->nodeId);
	connections = ClaimNodeConnectionList(nodeIds);

	foreach(cell, connections)
	{
		NodeShardList *nodeShards = list_nth(nodeShardLists,
											 foreach_current_index(cell));
		Oid			paramTypes[2] = {INT8ARRAYOID, TEXTARRAYOID};
		const char *paramValues[2];
		RemoteParams params;

		paramValues[0] = ArrayLiteral(nodeShards->shardIds, INT8OID, true);
		paramValues[1] = ArrayLiteral(nodeShards->shardNames, TEXTOID, false);
		params.count = 2;
		params.types = paramTypes;
		params.values = paramValues;
		SendRemoteQuery(lfirst(cell), sql, &params, 0);
	}

	foreach(cell, connections)
	{
		NodeConnection *connection = lfirst(cell);
		NodeShardList *nodeShards = list_nth(nodeShardLists,
											 foreach_current_index(cell));
		PGresult   *result;
		List	   *rowsByShard = NIL;
		ListCell   *shardCell;

		foreach(shardCell, nodeShards->shards)
			rowsByShard = lappend(rowsByShard, NIL);

		while ((result = WaitForRemoteResult(connection)) != NULL)
		{
			int			rowIndex;

			if (!IsResponseOK(result))
				ThrowRemoteError(connection, result);

			for (rowIndex = 0; rowIndex < PQntuples(result); rowIndex++)
			{
				int64		shardId = pg_strtoint64(PQgetvalue(result, rowIndex, 0));
				DefinitionRow *row;

				if (PQgetisnull(result, rowIndex, 1))
					continue;	/* the shard is missing */

				row = palloc0(sizeof(DefinitionRow));
				row->kind = pstrdup(PQgetvalue(result, rowIndex, 1));
				row->name = pstrdup(PQgetvalue(result, rowIndex, 2));
				row->definition = pstrdup(PQgetvalue(result, rowIndex, 3));
				if (!PQgetisnull(result, rowIndex, 4))
					row->referenced = pstrdup(PQgetvalue(result, rowIndex, 4));

				foreach(shardCell, nodeShards->shards)
				{
					ShardInterval *shard = lfirst(shardCell);

					if (shard->shardId == shardId)
					{
						ListCell   *rowsCell = list_nth_cell(rowsByShard,
															 foreach_current_index(shardCell));

						lfirst(rowsCell) = lappend((List *) lfirst(rowsCell), row);
						break;
					}
				}
			}
			PQclear(result);
		}

		foreach(shardCell, nodeShards->shards)
			EmitShardRows(rsinfo, entry, nodeShards->nodeId, lfirst(shardCell),
						  coordinatorRows,
						  list_nth(rowsByShard, foreach_current_index(shardCell)));
	}

	ReleaseNodeConnectionList(connections);

	return (Datum) 0;
}


/*
 * CoordinatorDefinition returns the rows (DefinitionRow *) of
 * distdb_relation_definition for the coordinator's table.
 */
static List *
CoordinatorDefinition(Oid relid)
{
	MemoryContext callerContext = CurrentMemoryContext;
	Oid			argType = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	List	   *rows = NIL;
	uint64		rowIndex;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to the SPI manager");

	rc = SPI_execute_with_args("SELECT kind, name, definition, "
							   "referenced::pg_catalog.text, referenced::pg_catalog.oid "
							   "FROM distdb.distdb_relation_definition($1)",
							   1, &argType, &arg, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the definition of relation %u: %s",
			 relid, SPI_result_code_string(rc));

	for (rowIndex = 0; rowIndex < SPI_processed; rowIndex++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[rowIndex];
		TupleDesc	tupleDesc = SPI_tuptable->tupdesc;
		MemoryContext spiContext = MemoryContextSwitchTo(callerContext);
		DefinitionRow *row = palloc0(sizeof(DefinitionRow));
		bool		isNull;
		Datum		referencedOid;

		row->kind = SPI_getvalue(tuple, tupleDesc, 1);
		row->name = SPI_getvalue(tuple, tupleDesc, 2);
		row->definition = SPI_getvalue(tuple, tupleDesc, 3);
		row->referenced = SPI_getvalue(tuple, tupleDesc, 4);
		referencedOid = SPI_getbinval(tuple, tupleDesc, 5, &isNull);
		row->referencedOid = isNull ? InvalidOid : DatumGetObjectId(referencedOid);
		rows = lappend(rows, row);
		MemoryContextSwitchTo(spiContext);
	}

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "could not disconnect from the SPI manager");

	return rows;
}


/*
 * GroupShardsByNode returns, per node holding placements of the table, the
 * shards it holds (NodeShardList *), in shard order.
 */
static List *
GroupShardsByNode(DistTableCacheEntry *entry)
{
	List	   *nodeShardLists = NIL;
	int			shardIndex;

	for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
	{
		ShardInterval *shard = &entry->shards[shardIndex];
		int			placementIndex;

		for (placementIndex = 0; placementIndex < shard->placementCount;
			 placementIndex++)
		{
			int32		nodeId = shard->placements[placementIndex].nodeId;
			NodeShardList *nodeShards = NULL;
			int64	   *shardId = palloc(sizeof(int64));
			ListCell   *cell;

			foreach(cell, nodeShardLists)
			{
				if (((NodeShardList *) lfirst(cell))->nodeId == nodeId)
					nodeShards = lfirst(cell);
			}
			if (nodeShards == NULL)
			{
				nodeShards = palloc0(sizeof(NodeShardList));
				nodeShards->nodeId = nodeId;
				nodeShardLists = lappend(nodeShardLists, nodeShards);
			}

			*shardId = shard->shardId;
			nodeShards->shards = lappend(nodeShards->shards, shard);
			nodeShards->shardIds = lappend(nodeShards->shardIds, shardId);
			nodeShards->shardNames = lappend(nodeShards->shardNames,
											 shard->shardName);
		}
	}

	return nodeShardLists;
}


/*
 * EmitShardRows pairs one shard's rows with the coordinator's by kind and
 * name (shard names mapped back) and returns them: first every
 * coordinator row with its shard counterpart, then the shard rows the
 * coordinator lacks.
 */
static void
EmitShardRows(ReturnSetInfo *rsinfo, DistTableCacheEntry *entry,
			  int32 nodeId, ShardInterval *shard, List *coordinatorRows,
			  List *shardRows)
{
	ListCell   *coordinatorCell;
	ListCell   *shardCell;

	if (shardRows == NIL)
	{
		PutRow(rsinfo, nodeId, shard->shardId, "table", shard->shardName,
			   NULL, "exists");
		return;
	}

	foreach(shardCell, shardRows)
		((DefinitionRow *) lfirst(shardCell))->matched = false;

	foreach(coordinatorCell, coordinatorRows)
	{
		DefinitionRow *coordinatorRow = lfirst(coordinatorCell);
		char	   *coordinatorDefinition = coordinatorRow->definition;
		char	   *shardName = coordinatorRow->name;
		char	   *shardDefinition = NULL;

		if (strcmp(coordinatorRow->kind, "column") != 0)
			shardName = ShardObjectName(coordinatorRow->name, shard->shardId);
		if (coordinatorRow->referenced != NULL)
			coordinatorDefinition = ReplaceReferenced(coordinatorDefinition,
													  coordinatorRow->referenced);

		foreach(shardCell, shardRows)
		{
			DefinitionRow *shardRow = lfirst(shardCell);

			if (shardRow->matched ||
				strcmp(shardRow->kind, coordinatorRow->kind) != 0 ||
				strcmp(shardRow->name, shardName) != 0)
				continue;

			shardRow->matched = true;
			shardDefinition = shardRow->definition;
			if (shardRow->referenced != NULL)
			{
				char	   *expected = ExpectedReferencedShard(entry, shard,
															   coordinatorRow->referencedOid);

				/* the right shard reads as its table; another as itself */
				shardDefinition = ReplaceReferenced(shardDefinition,
													expected != NULL &&
													strcmp(expected, shardRow->referenced) == 0 ?
													coordinatorRow->referenced :
													shardRow->referenced);
			}
			break;
		}

		PutRow(rsinfo, nodeId, shard->shardId, coordinatorRow->kind,
			   coordinatorRow->name, shardDefinition, coordinatorDefinition);
	}

	foreach(shardCell, shardRows)
	{
		DefinitionRow *shardRow = lfirst(shardCell);

		if (shardRow->matched)
			continue;
		PutRow(rsinfo, nodeId, shard->shardId, shardRow->kind, shardRow->name,
			   shardRow->referenced != NULL ?
			   ReplaceReferenced(shardRow->definition, shardRow->referenced) :
			   shardRow->definition, NULL);
	}
}


/*
 * ExpectedReferencedShard returns the name of the shard a foreign key of
 * the given shard must reference, in the form regclass prints it with
 * search_path = pg_catalog: the shard of the referenced table with the
 * same index, or its only shard; NULL when it is not distributed.
 */
static char *
ExpectedReferencedShard(DistTableCacheEntry *entry, ShardInterval *shard,
						Oid referencedOid)
{
	DistTableCacheEntry *referenced;

	if (!OidIsValid(referencedOid))
		return NULL;

	referenced = LookupDistTable(referencedOid);
	if (referenced == NULL || !referenced->isDistributed ||
		referenced->shardCount == 0)
		return NULL;

	if (referenced->shardCount == 1)
		return referenced->shards[0].shardName;
	if (shard->shardIndex < referenced->shardCount)
		return referenced->shards[shard->shardIndex].shardName;
	return NULL;
}


/*
 * ReplaceReferenced puts a table name in place of the "<referenced>" mark
 * distdb_relation_definition leaves in foreign keys.
 */
static char *
ReplaceReferenced(const char *definition, const char *name)
{
	const char *mark = "<referenced>";
	const char *position = strstr(definition, mark);

	if (position == NULL)
		return pstrdup(definition);

	return psprintf("%.*s%s%s", (int) (position - definition), definition,
					name, position + strlen(mark));
}


/*
 * PutRow adds one result row.
 */
static void
PutRow(ReturnSetInfo *rsinfo, int32 nodeId, int64 shardId, const char *kind,
	   const char *name, const char *shardDefinition,
	   const char *coordinatorDefinition)
{
	Datum		values[SHARD_DEFINITIONS_COLUMN_COUNT];
	bool		nulls[SHARD_DEFINITIONS_COLUMN_COUNT];

	memset(nulls, 0, sizeof(nulls));
	values[SHARD_DEFINITIONS_NODEID] = Int32GetDatum(nodeId);
	values[SHARD_DEFINITIONS_SHARDID] = Int64GetDatum(shardId);
	values[SHARD_DEFINITIONS_KIND] = CStringGetTextDatum(kind);
	values[SHARD_DEFINITIONS_NAME] = CStringGetTextDatum(name);
	if (shardDefinition != NULL)
		values[SHARD_DEFINITIONS_SHARD] = CStringGetTextDatum(shardDefinition);
	else
		nulls[SHARD_DEFINITIONS_SHARD] = true;
	if (coordinatorDefinition != NULL)
		values[SHARD_DEFINITIONS_COORDINATOR] = CStringGetTextDatum(coordinatorDefinition);
	else
		nulls[SHARD_DEFINITIONS_COORDINATOR] = true;

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}
