/*-------------------------------------------------------------------------
 *
 * dropped_tables.c
 *	  Dropping the shards and metadata of distributed tables that a command
 *	  other than DROP TABLE dropped: DROP SCHEMA ... CASCADE, DROP OWNED,
 *	  DROP ... CASCADE of an object a table depends on.
 *
 * DROP TABLE itself is handled before PostgreSQL drops the table (the
 * utility hook deletes the metadata first).  Every other way of dropping a
 * table goes through PostgreSQL's dependency machinery, which reports the
 * dropped objects to sql_drop event triggers: distdb.drop_trigger() (see
 * distdb--0.1.sql) finds the distributed tables among them by their oids
 * in distdb's catalog, drops their shards on the nodes inside the remote
 * transactions and deletes their metadata, all in the dropping
 * transaction, so that an abort brings everything back.  The tables no
 * longer exist when the trigger runs: shard names are built from the
 * names the trigger reports, and the metadata is read from the catalog
 * tables rather than from the metadata cache.
 *
 * DROP EXTENSION distdb drops the trigger and the catalog with it: the
 * shard tables stay on the nodes (documented in the README).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "distdb/ddl_propagation.h"
#include "distdb/distdb.h"
#include "distdb/metadata_catalog.h"

PG_FUNCTION_INFO_V1(distdb_drop_trigger);

/* a table or schema reported by pg_event_trigger_dropped_objects() */
typedef struct DroppedObject
{
	Oid			objectId;
	bool		isSchema;
	char	   *schemaName;		/* the schema, or the table's schema */
	char	   *tableName;		/* NULL for a schema */
} DroppedObject;

static List *DroppedObjectsOfCommand(void);
static void AddSchemaDrops(ShardCommandBatch *batch, List *droppedObjects,
						   List *schemaNames, List *schemaNodeIds);
static bool DistdbCatalogExists(void);


/*
 * distdb_drop_trigger is the sql_drop event trigger: it drops the shards
 * and the metadata of the distributed tables the command dropped.
 */
Datum
distdb_drop_trigger(PG_FUNCTION_ARGS)
{
	ShardCommandBatch *batch = NewShardCommandBatch();
	List	   *droppedObjects;
	List	   *nodeIds = NIL;
	List	   *shardSchemas = NIL;
	ListCell   *cell;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("distdb.drop_trigger() can only be called as an event trigger")));

	/* DROP EXTENSION distdb dropped the catalog too */
	if (!DistdbCatalogExists())
		PG_RETURN_VOID();

	droppedObjects = DroppedObjectsOfCommand();
	foreach(cell, droppedObjects)
	{
		DroppedObject *table = (DroppedObject *) lfirst(cell);
		char		distMethod;
		AttrNumber	distAttnum;
		int32		colocationId;
		ListCell   *shardCell;

		if (table->isSchema ||
			!ReadDistTableRow(table->objectId, &distMethod, &distAttnum,
							  &colocationId))
			continue;

		foreach(shardCell, ReadShardRows(table->objectId))
		{
			ShardInterval *shard = (ShardInterval *) lfirst(shardCell);
			char	   *shardName =
				quote_qualified_identifier(table->schemaName,
										   ShardTableName(table->tableName,
														  shard->shardId));
			ListCell   *placementCell;

			foreach(placementCell, ReadPlacementRows(shard->shardId))
			{
				ShardPlacement *placement = lfirst(placementCell);

				AddNodeCommand(batch, placement->nodeId,
							   psprintf("DROP TABLE IF EXISTS %s", shardName));
				shardSchemas = lappend(shardSchemas, table->schemaName);
				nodeIds = lappend_int(nodeIds, placement->nodeId);
			}
		}

		DeleteDistTableMetadata(table->objectId);
	}

	AddSchemaDrops(batch, droppedObjects, shardSchemas, nodeIds);
	ExecuteShardCommandBatch(batch);

	PG_RETURN_VOID();
}


/*
 * DroppedObjectsOfCommand returns the tables and schemas (DroppedObject *)
 * the current command dropped, as the sql_drop event reports them.
 */
static List *
DroppedObjectsOfCommand(void)
{
	MemoryContext callerContext = CurrentMemoryContext;
	List	   *objects = NIL;
	uint64		rowIndex;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to the SPI manager");

	rc = SPI_execute("SELECT d.objid, d.object_type, d.schema_name, d.object_name "
					 "FROM pg_catalog.pg_event_trigger_dropped_objects() d "
					 "WHERE d.objsubid OPERATOR(pg_catalog.=) 0 "
					 "AND ((d.classid OPERATOR(pg_catalog.=) "
					 "'pg_catalog.pg_class'::pg_catalog.regclass "
					 "AND d.object_type OPERATOR(pg_catalog.=) 'table') "
					 "OR (d.classid OPERATOR(pg_catalog.=) "
					 "'pg_catalog.pg_namespace'::pg_catalog.regclass))",
					 true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the dropped objects: %s",
			 SPI_result_code_string(rc));

	for (rowIndex = 0; rowIndex < SPI_processed; rowIndex++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[rowIndex];
		TupleDesc	tupleDesc = SPI_tuptable->tupdesc;
		bool		isNull;
		Datum		objectId = SPI_getbinval(tuple, tupleDesc, 1, &isNull);
		char	   *objectType = SPI_getvalue(tuple, tupleDesc, 2);
		MemoryContext spiContext;
		DroppedObject *object;

		spiContext = MemoryContextSwitchTo(callerContext);
		object = palloc0(sizeof(DroppedObject));
		object->objectId = DatumGetObjectId(objectId);
		object->isSchema = (strcmp(objectType, "schema") == 0);
		if (object->isSchema)
			object->schemaName = SPI_getvalue(tuple, tupleDesc, 4);
		else
		{
			object->schemaName = SPI_getvalue(tuple, tupleDesc, 3);
			object->tableName = SPI_getvalue(tuple, tupleDesc, 4);
		}
		objects = lappend(objects, object);
		MemoryContextSwitchTo(spiContext);
	}

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "could not disconnect from the SPI manager");

	return objects;
}


/*
 * AddSchemaDrops adds to the batch, for the nodes that held shards of the
 * dropped distributed tables, DROP SCHEMA ... CASCADE of those tables'
 * schemas that the command dropped too (DROP SCHEMA ... CASCADE): the
 * shards' schemas were created on the nodes for them.  schemaNames[i] is
 * the schema of a shard placement on node schemaNodeIds[i].
 */
static void
AddSchemaDrops(ShardCommandBatch *batch, List *droppedObjects,
			   List *schemaNames, List *schemaNodeIds)
{
	ListCell   *objectCell;

	foreach(objectCell, droppedObjects)
	{
		DroppedObject *schema = (DroppedObject *) lfirst(objectCell);
		List	   *schemaNodes = NIL;
		ListCell   *nameCell;
		ListCell   *nodeCell;

		if (!schema->isSchema)
			continue;

		forboth(nameCell, schemaNames, nodeCell, schemaNodeIds)
		{
			if (strcmp((char *) lfirst(nameCell), schema->schemaName) == 0)
				schemaNodes = list_append_unique_int(schemaNodes,
													 lfirst_int(nodeCell));
		}

		foreach(nodeCell, schemaNodes)
			AddNodeCommand(batch, lfirst_int(nodeCell),
						   psprintf("DROP SCHEMA IF EXISTS %s CASCADE",
									quote_identifier(schema->schemaName)));
	}
}


/*
 * DistdbCatalogExists tells whether distdb's catalog is still there.
 */
static bool
DistdbCatalogExists(void)
{
	Oid			schemaId = DistdbSchemaId();

	return OidIsValid(get_extension_oid(DISTDB_EXTENSION_NAME, true)) &&
		OidIsValid(schemaId) &&
		OidIsValid(get_relname_relid("dist_table", schemaId));
}
