/*-------------------------------------------------------------------------
 *
 * create_distributed_table.c
 *	  create_distributed_table(): hash-distribute a table over the worker
 *	  nodes; create_reference_table(): give a table one shard with a copy
 *	  on every node.
 *
 * The steps, all inside the caller's transaction so that a failure
 * anywhere leaves the table exactly as it was:
 *
 *	1. validate the table, the distribution column and the arguments
 *	   (nothing has changed when any check fails);
 *	2. choose the colocation group and, for every shard index, the nodes
 *	   that get a placement (those of the group's other tables, so that
 *	   colocated shards live together, or round-robin over the nodes; for
 *	   a reference table, which has no colocation group, every node);
 *	3. create the shards on the workers: one batch of commands per node,
 *	   all nodes in parallel, inside remote transactions that commit when
 *	   the local transaction commits;
 *	4. move the rows the table already holds into the shards and empty the
 *	   coordinator's table (src/operations/move_existing_rows.c);
 *	5. give the shards the table's privileges (its ACL and its columns'),
 *	   so that grants made before distributing keep working; this comes
 *	   after the rows are moved, as an owner may have revoked its own
 *	   INSERT privilege;
 *	6. write the metadata rows, which also invalidates the caches.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/catalog.h"
#include "catalog/indexing.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/typcache.h"

#include "distdb/connection_cache.h"
#include "distdb/create_distributed_table.h"
#include "distdb/ddl_propagation.h"
#include "distdb/distdb.h"
#include "distdb/metadata_cache.h"
#include "distdb/metadata_catalog.h"
#include "distdb/move_existing_rows.h"
#include "distdb/remote_command.h"
#include "distdb/shard_ddl.h"


PG_FUNCTION_INFO_V1(create_distributed_table);
PG_FUNCTION_INFO_V1(create_reference_table);

/* the distribution column, as found by ResolveDistributionColumn */
typedef struct DistributionColumn
{
	const char *name;
	AttrNumber	attnum;
	Oid			typeId;
	Oid			collation;
} DistributionColumn;

/* the colocation group a new distributed table joins */
typedef struct ColocationChoice
{
	int32		colocationId;	/* existing group, or 0 to create one */
	bool		isDefault;		/* whether a group to create is a default
								 * group */
	int			shardCount;		/* the table's shard count */
	Oid			placementSource;	/* a table of the group whose placements
									 * the new shards follow, or InvalidOid */
} ColocationChoice;

/* one shard to create */
typedef struct PlannedShard
{
	int64		shardId;
	int32		minValue;
	int32		maxValue;
	char	   *shardName;		/* quoted, schema-qualified */
	List	   *nodeIds;		/* nodes getting a placement (int) */
} PlannedShard;

static Relation OpenTableToDistribute(Oid relid);
static List *WorkerNodesForTable(Oid relid);
static void EnsureNotSystemTable(Oid relid);
static void CheckRelationCanBeDistributed(Relation rel);
static void CheckForeignKeys(Relation rel);
static void CheckTriggersAndRules(Relation rel);
static void ResolveDistributionColumn(Relation rel, const char *columnName,
									  DistributionColumn *column);
static void CheckUniqueIndexes(Relation rel, DistributionColumn *column);
static void CheckUniqueIndex(Relation rel, Relation indexRel,
							 DistributionColumn *column);
static void ChooseColocation(Oid relid, DistributionColumn *column,
							 int shardCount, bool shardCountGiven,
							 const char *colocateWith,
							 ColocationChoice *choice);
static Oid	ColocationPlacementSource(int32 colocationId);
static void DistributeTable(Oid relid, char distMethod,
							DistributionColumn *column,
							ColocationChoice *colocation, List *nodes);
static List *AllNodeIds(List *nodes);
static List *ShardPlacementNodes(DistTableCacheEntry *sourceEntry,
								 int shardIndex, List *nodes);
static int	NodeListPosition(List *nodeIds, int32 nodeId);
static void ExecuteAclCommands(List *connections, List *nodeAclCommands);


/*
 * create_distributed_table hash-distributes a table by one of its columns
 * over the worker nodes.
 *
 * Arguments: the table, the distribution column's name, the shard count
 * (NULL: distdb.shard_count) and colocate_with: 'default' (share a group
 * with the tables of the same shard count and column type), 'none' (a
 * group of its own) or the name of a distributed table to colocate with.
 */
Datum
create_distributed_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *columnName;
	bool		shardCountGiven = !PG_ARGISNULL(2);
	int			shardCount;
	char	   *colocateWith;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("distribution column must not be null")));

	relid = PG_GETARG_OID(0);
	columnName = text_to_cstring(PG_GETARG_TEXT_PP(1));
	shardCount = shardCountGiven ? PG_GETARG_INT32(2) : DistdbShardCount;
	colocateWith = PG_ARGISNULL(3) ? "default" :
		text_to_cstring(PG_GETARG_TEXT_PP(3));

	DistributeTableByColumn(relid, columnName, shardCount, shardCountGiven,
							colocateWith);

	PG_RETURN_VOID();
}


/*
 * DistributeTableByColumn does the work of create_distributed_table (see
 * there for the arguments); alter_distributed_table uses it too.
 */
void
DistributeTableByColumn(Oid relid, const char *columnName, int shardCount,
						bool shardCountGiven, const char *colocateWith)
{
	Relation	rel;
	DistributionColumn column;
	ColocationChoice colocation;
	List	   *nodes;

	rel = OpenTableToDistribute(relid);
	ResolveDistributionColumn(rel, columnName, &column);
	CheckUniqueIndexes(rel, &column);

	/* the shard DDL and the row mover open the relation themselves */
	relation_close(rel, NoLock);

	EnsureValidShardCount(shardCount);

	nodes = WorkerNodesForTable(relid);

	ChooseColocation(relid, &column, shardCount, shardCountGiven,
					 colocateWith, &colocation);

	DistributeTable(relid, DISTRIBUTE_BY_HASH, &column, &colocation, nodes);
}


/*
 * create_reference_table turns a table into a reference table: one shard
 * with a copy on every node, so that it joins any shard of any distributed
 * table on that shard's node.  Reads use one copy, writes go to all.
 */
Datum
create_reference_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Relation	rel;
	ColocationChoice colocation;
	List	   *nodes;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	relid = PG_GETARG_OID(0);

	rel = OpenTableToDistribute(relid);
	relation_close(rel, NoLock);

	nodes = WorkerNodesForTable(relid);

	memset(&colocation, 0, sizeof(colocation));
	colocation.shardCount = 1;
	DistributeTable(relid, DISTRIBUTE_BY_REFERENCE, NULL, &colocation, nodes);

	PG_RETURN_VOID();
}


/*
 * OpenTableToDistribute checks that the current user may distribute the
 * table and that it can be distributed, and returns it opened and locked
 * in ACCESS EXCLUSIVE mode until the end of the transaction.
 *
 * Ownership is checked before locking so that nobody can queue an
 * exclusive lock on a table they do not own, and again once the lock is
 * held.
 */
static Relation
OpenTableToDistribute(Oid relid)
{
	Relation	rel;

	EnsureTableOwner(relid);
	EnsureNotSystemTable(relid);
	rel = relation_open(relid, AccessExclusiveLock);
	EnsureTableOwner(relid);

	CheckRelationCanBeDistributed(rel);
	return rel;
}


/*
 * WorkerNodesForTable returns the nodes to place the table's shards on,
 * refusing when there are none.  It locks distdb.node so that
 * distdb_remove_node cannot remove a node we place shards on and
 * distdb_add_node cannot add one that misses a reference table's copy.
 */
static List *
WorkerNodesForTable(Oid relid)
{
	List	   *nodes;

	LockRelationOid(DistdbCatalogRelid("node"), ShareLock);

	nodes = ActiveNodeList();
	if (nodes == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot distribute table \"%s\" because there are no worker nodes",
						get_rel_name(relid)),
				 errhint("Add worker nodes with distdb.distdb_add_node().")));
	return nodes;
}


/*
 * EnsureValidShardCount refuses shard counts out of range.
 */
void
EnsureValidShardCount(int shardCount)
{
	if (shardCount < 1 || shardCount > MAX_SHARD_COUNT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid shard count %d", shardCount),
				 errdetail("The shard count must be between 1 and %d.",
						   MAX_SHARD_COUNT)));
}


/*
 * EnsureTableOwner raises the usual "must be owner" error unless the
 * current user owns the table.
 */
void
EnsureTableOwner(Oid relid)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER,
					   get_relkind_objtype(get_rel_relkind(relid)),
					   get_rel_name(relid));
}


/*
 * EnsureNotSystemTable refuses PostgreSQL's catalogs (and every other
 * object created by initdb) and distdb's catalog tables.  It runs before
 * the table is locked: an exclusive lock on a catalog would stall every
 * other session.
 */
static void
EnsureNotSystemTable(Oid relid)
{
	if (relid < FirstNormalObjectId ||
		get_rel_namespace(relid) == DistdbSchemaId())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot distribute system table \"%s\"",
						get_rel_name(relid))));
}


/*
 * CheckRelationCanBeDistributed refuses relations that are not plain,
 * permanent (or unlogged) tables, tables already distributed, and table
 * features distdb cannot keep consistent across shards
 * yet: inheritance, row-level security, foreign keys, triggers and rules.
 */
static void
CheckRelationCanBeDistributed(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	const char *relname = RelationGetRelationName(rel);
	char		relkind = rel->rd_rel->relkind;

	if (relkind == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute partitioned table \"%s\"", relname),
				 errdetail("Distributing partitioned tables is not supported yet.")));

	if (relkind == RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute foreign table \"%s\"", relname)));

	if (relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot distribute \"%s\" because it is not a table",
						relname),
				 errdetail_relkind_not_supported(relkind)));

	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute temporary table \"%s\"", relname)));

	if (IsReferenceTable(relid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("table \"%s\" is already a reference table",
						relname)));

	if (IsDistributedTable(relid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("table \"%s\" is already distributed", relname)));

	if (rel->rd_rel->relispartition)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute table \"%s\" because it is a partition",
						relname)));

	if (has_superclass(relid) || find_inheritance_children(relid, NoLock) != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute table \"%s\" because it uses inheritance",
						relname),
				 errdetail("Tables with inheritance parents or children cannot be distributed yet.")));

	if (rel->rd_rel->relrowsecurity || rel->rd_rel->relforcerowsecurity)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute table \"%s\" because row-level security is enabled",
						relname),
				 errdetail("Row-level security on distributed tables is not supported yet.")));

	CheckForeignKeys(rel);
	CheckTriggersAndRules(rel);
}


/*
 * CheckForeignKeys refuses tables that have a foreign key or are
 * referenced by one: shards cannot check them yet.
 */
static void
CheckForeignKeys(Relation rel)
{
	const char *relname = RelationGetRelationName(rel);
	char	   *constraintName;

	constraintName = FindForeignKey(RelationGetRelid(rel), true);
	if (constraintName != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute table \"%s\" because it has a foreign key",
						relname),
				 errdetail("Foreign key \"%s\" would not be enforced on the shards.",
						   constraintName),
				 errhint("Drop the foreign key first; foreign keys on distributed tables are not supported yet.")));

	constraintName = FindForeignKey(RelationGetRelid(rel), false);
	if (constraintName != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute table \"%s\" because a foreign key references it",
						relname),
				 errdetail("Foreign key \"%s\" references the table.",
						   constraintName),
				 errhint("Drop the foreign key first; foreign keys on distributed tables are not supported yet.")));
}


/*
 * FindForeignKey returns the name of a foreign key of relid (referencing
 * true) or of a foreign key referencing relid (referencing false), or NULL
 * when there is none.  pg_constraint has no index on confrelid, so the
 * second case reads the whole catalog; that is fine once per call of
 * create_distributed_table.
 */
char *
FindForeignKey(Oid relid, bool referencing)
{
	Relation	constraintRel;
	ScanKeyData scanKey;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *constraintName = NULL;

	constraintRel = table_open(ConstraintRelationId, AccessShareLock);

	if (referencing)
	{
		ScanKeyInit(&scanKey, Anum_pg_constraint_conrelid,
					BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
		scan = systable_beginscan(constraintRel, ConstraintRelidTypidNameIndexId,
								  true, NULL, 1, &scanKey);
	}
	else
	{
		ScanKeyInit(&scanKey, Anum_pg_constraint_confrelid,
					BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
		scan = systable_beginscan(constraintRel, InvalidOid, false, NULL, 1,
								  &scanKey);
	}

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint constraint = (Form_pg_constraint) GETSTRUCT(tuple);

		if (constraint->contype == CONSTRAINT_FOREIGN)
		{
			constraintName = pstrdup(NameStr(constraint->conname));
			break;
		}
	}

	systable_endscan(scan);
	table_close(constraintRel, AccessShareLock);

	return constraintName;
}


/*
 * CheckTriggersAndRules refuses tables with user triggers (internal ones,
 * such as those of deferrable unique constraints, come back with the
 * constraints on the shards) or rules: neither would run on the shards.
 */
static void
CheckTriggersAndRules(Relation rel)
{
	TriggerDesc *triggers = rel->trigdesc;

	if (triggers != NULL)
	{
		int			triggerIndex;

		for (triggerIndex = 0; triggerIndex < triggers->numtriggers; triggerIndex++)
		{
			Trigger    *trigger = &triggers->triggers[triggerIndex];

			if (trigger->tgisinternal)
				continue;

			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("distributed tables cannot have triggers yet"),
					 errdetail("Table \"%s\" has trigger \"%s\".",
							   RelationGetRelationName(rel), trigger->tgname),
					 errhint("Drop the trigger before distributing the table.")));
		}
	}

	if (rel->rd_rel->relhasrules)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("distributed tables cannot have rules yet"),
				 errdetail("Table \"%s\" has rewrite rules.",
						   RelationGetRelationName(rel)),
				 errhint("Drop the rules before distributing the table.")));
}


/*
 * ResolveDistributionColumn finds the distribution column by its name and
 * checks that rows can be hashed by it.
 */
static void
ResolveDistributionColumn(Relation rel, const char *columnName,
						  DistributionColumn *column)
{
	Oid			relid = RelationGetRelid(rel);
	AttrNumber	attnum = get_attnum(relid, columnName);
	Form_pg_attribute attr;

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						columnName, RelationGetRelationName(rel))));

	if (attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("cannot distribute by system column \"%s\"",
						columnName)));

	attr = TupleDescAttr(RelationGetDescr(rel), attnum - 1);

	/*
	 * The coordinator routes a row by its distribution value before the
	 * row reaches a shard, so the value cannot be one computed there.
	 */
	if (attr->attgenerated != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot distribute by generated column \"%s\"",
						columnName)));

	if (!OidIsValid(LookupHashSupportFunction(attr->atttypid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("data type %s has no hash function",
						format_type_be(attr->atttypid)),
				 errhint("Choose a distribution column whose type has a default hash operator class.")));

	column->name = pstrdup(columnName);
	column->attnum = attnum;
	column->typeId = attr->atttypid;
	column->collation = attr->attcollation;
}


/*
 * CheckUniqueIndexes refuses the table when a unique index, primary key
 * or exclusion constraint does not have the distribution column among its
 * key columns: uniqueness can only be checked within a shard.
 */
static void
CheckUniqueIndexes(Relation rel, DistributionColumn *column)
{
	List	   *indexOids = RelationGetIndexList(rel);
	ListCell   *cell;

	foreach(cell, indexOids)
	{
		Relation	indexRel = index_open(lfirst_oid(cell), AccessShareLock);

		if ((indexRel->rd_index->indisunique ||
			 indexRel->rd_index->indisexclusion) &&
			indexRel->rd_index->indisvalid)
			CheckUniqueIndex(rel, indexRel, column);

		index_close(indexRel, AccessShareLock);
	}
}


/*
 * UniqueIndexIncludesColumn tells whether a unique or exclusion index can
 * be enforced shard by shard: the column it is distributed by, attnum of
 * type typeId, is one of its key columns and, for an exclusion index, is
 * compared with the type's equality operator (otherwise *wrongOperator is
 * set), so that two rows can only conflict within one shard.
 */
bool
UniqueIndexIncludesColumn(Relation indexRel, AttrNumber attnum, Oid typeId,
						  bool *wrongOperator)
{
	Form_pg_index index = indexRel->rd_index;
	int			keyno;

	*wrongOperator = false;
	for (keyno = 0; keyno < index->indnkeyatts; keyno++)
	{
		Oid		   *operators;
		Oid		   *procs;
		uint16	   *strategies;
		TypeCacheEntry *typeEntry;

		if (index->indkey.values[keyno] != attnum)
			continue;

		if (!index->indisexclusion)
			return true;

		RelationGetExclusionInfo(indexRel, &operators, &procs, &strategies);
		typeEntry = lookup_type_cache(typeId, TYPECACHE_EQ_OPR);
		if (operators[keyno] == typeEntry->eq_opr)
			return true;

		*wrongOperator = true;
		return false;
	}

	return false;
}


/*
 * CheckUniqueIndex checks one unique or exclusion index.  For exclusion
 * constraints the distribution column must also be compared with its
 * type's equality operator, or rows of different shards could conflict.
 */
static void
CheckUniqueIndex(Relation rel, Relation indexRel, DistributionColumn *column)
{
	Oid			constraintOid = get_index_constraint(RelationGetRelid(indexRel));
	const char *indexName = RelationGetRelationName(indexRel);
	bool		wrongOperator;

	if (UniqueIndexIncludesColumn(indexRel, column->attnum, column->typeId,
								  &wrongOperator))
		return;

	if (wrongOperator)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("cannot distribute table \"%s\" by column \"%s\"",
						RelationGetRelationName(rel), column->name),
				 errdetail("Exclusion constraint \"%s\" does not compare the distribution column with the equality operator.",
						   indexName),
				 errhint("Exclusion constraints must use = on the distribution column.")));

	if (OidIsValid(constraintOid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("cannot distribute table \"%s\" by column \"%s\"",
						RelationGetRelationName(rel), column->name),
				 errdetail("Constraint \"%s\" does not include the distribution column as a key column.",
						   get_constraint_name(constraintOid)),
				 errhint("Unique, primary key and exclusion constraints must include the distribution column.")));
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("cannot distribute table \"%s\" by column \"%s\"",
						RelationGetRelationName(rel), column->name),
				 errdetail("Unique index \"%s\" does not include the distribution column as a key column.",
						   indexName),
				 errhint("Unique indexes must include the distribution column.")));
}


/*
 * ChooseColocation decides which colocation group the table joins, and
 * which table's placements its shards follow, from colocate_with.
 */
static void
ChooseColocation(Oid relid, DistributionColumn *column, int shardCount,
				 bool shardCountGiven, const char *colocateWith,
				 ColocationChoice *choice)
{
	choice->colocationId = 0;
	choice->isDefault = false;
	choice->shardCount = shardCount;
	choice->placementSource = InvalidOid;

	if (pg_strcasecmp(colocateWith, "default") == 0)
	{
		ColocationGroup group;

		/*
		 * Serialize choosing a default group, so that concurrent calls do
		 * not create two default groups for the same parameters.
		 */
		LockRelationOid(DistdbCatalogRelid("colocation"),
						ShareRowExclusiveLock);

		if (FindDefaultColocationGroup(shardCount, column->typeId,
									   column->collation, &group))
		{
			choice->colocationId = group.colocationId;
			choice->placementSource =
				ColocationPlacementSource(group.colocationId);
		}
		else
			choice->isDefault = true;
	}
	else if (pg_strcasecmp(colocateWith, "none") != 0)
	{
		Oid			otherRelid;
		DistTableCacheEntry *otherEntry;
		char	   *relname = get_rel_name(relid);
		char	   *otherName;

		otherRelid = DatumGetObjectId(DirectFunctionCall1(regclassin,
														  CStringGetDatum(colocateWith)));

		/* keep it from being dropped while we follow its placements */
		LockRelationOid(otherRelid, AccessShareLock);
		otherName = get_rel_name(otherRelid);

		otherEntry = LookupDistTable(otherRelid);
		if (otherEntry == NULL || !otherEntry->isDistributed)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot colocate table \"%s\" with table \"%s\" because \"%s\" is not distributed",
							relname, otherName, otherName)));

		if (IsReferenceTableEntry(otherEntry))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot colocate table \"%s\" with table \"%s\" because \"%s\" is a reference table",
							relname, otherName, otherName),
					 errdetail("Reference tables have a copy on every node and join any distributed table without co-location.")));

		if (shardCountGiven && shardCount != otherEntry->shardCount)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot colocate table \"%s\" with table \"%s\" because they have different shard counts",
							relname, otherName),
					 errdetail("Table \"%s\" has %d shards, the requested shard count is %d.",
							   otherName, otherEntry->shardCount, shardCount),
					 errhint("Leave shard_count out to use the shard count of \"%s\".",
							 otherName)));

		if (otherEntry->distType != column->typeId)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cannot colocate table \"%s\" with table \"%s\" because their distribution columns have different types",
							relname, otherName),
					 errdetail("The distribution column of \"%s\" is of type %s, column \"%s\" is of type %s.",
							   otherName, format_type_be(otherEntry->distType),
							   column->name, format_type_be(column->typeId))));

		if (otherEntry->distCollation != column->collation)
			ereport(ERROR,
					(errcode(ERRCODE_COLLATION_MISMATCH),
					 errmsg("cannot colocate table \"%s\" with table \"%s\" because their distribution columns have different collations",
							relname, otherName)));

		choice->colocationId = otherEntry->colocationId;
		choice->shardCount = otherEntry->shardCount;
		choice->placementSource = otherRelid;
	}
}


/*
 * ColocationPlacementSource returns a table of the colocation group that
 * is still distributed, locked against being dropped, or InvalidOid when
 * the group has none left.
 */
static Oid
ColocationPlacementSource(int32 colocationId)
{
	List	   *tables = TablesInColocationGroup(colocationId);
	ListCell   *cell;

	foreach(cell, tables)
	{
		Oid			otherRelid = lfirst_oid(cell);

		LockRelationOid(otherRelid, AccessShareLock);
		if (IsDistributedTable(otherRelid))
			return otherRelid;
	}

	return InvalidOid;
}


/*
 * DistributeTable creates the shards on the workers, moves the table's
 * rows into them and records the metadata.  column is NULL for a
 * reference table.
 */
static void
DistributeTable(Oid relid, char distMethod, DistributionColumn *column,
				ColocationChoice *colocation, List *nodes)
{
	int			shardCount = colocation->shardCount;
	PlannedShard *shards = palloc0(sizeof(PlannedShard) * shardCount);
	ShardCopyDestination *destinations;
	DistTableCacheEntry *sourceEntry = NULL;
	List	   *nodeIds = NIL;
	List	   *nodeCommands = NIL;
	List	   *nodeAclCommands = NIL;
	List	   *commandStrings = NIL;
	List	   *connections;
	ListCell   *cell;
	int32		colocationId;
	int			shardIndex;

	if (OidIsValid(colocation->placementSource))
	{
		sourceEntry = LookupDistTable(colocation->placementSource);
		if (sourceEntry == NULL || sourceEntry->shardCount != shardCount)
			elog(ERROR, "colocated table %u has an unexpected shard count",
				 colocation->placementSource);
	}

	/*
	 * Choose the nodes first: the catalog writes below process cache
	 * invalidations, after which sourceEntry may be rebuilt.
	 */
	for (shardIndex = 0; shardIndex < shardCount; shardIndex++)
		shards[shardIndex].nodeIds =
			distMethod == DISTRIBUTE_BY_REFERENCE ? AllNodeIds(nodes) :
			ShardPlacementNodes(sourceEntry, shardIndex, nodes);
	sourceEntry = NULL;

	/* plan the shards and collect each node's commands */
	for (shardIndex = 0; shardIndex < shardCount; shardIndex++)
	{
		PlannedShard *shard = &shards[shardIndex];
		char	   *createCommand;
		char	   *aclCommand;

		CHECK_FOR_INTERRUPTS();

		shard->shardId = NextShardId();
		ShardHashRange(shardCount, shardIndex, &shard->minValue,
					   &shard->maxValue);
		shard->shardName = QualifiedShardName(relid, shard->shardId);
		createCommand = ShardCreateCommandString(relid, shard->shardId);
		aclCommand = ShardAclCommandString(relid, shard->shardId);

		foreach(cell, shard->nodeIds)
		{
			int32		nodeId = lfirst_int(cell);
			int			position = NodeListPosition(nodeIds, nodeId);
			StringInfo	commands;
			StringInfo	aclCommands;

			if (position < 0)
			{
				nodeIds = lappend_int(nodeIds, nodeId);
				commands = makeStringInfo();
				nodeCommands = lappend(nodeCommands, commands);
				aclCommands = makeStringInfo();
				nodeAclCommands = lappend(nodeAclCommands, aclCommands);
			}
			else
			{
				commands = (StringInfo) list_nth(nodeCommands, position);
				aclCommands = (StringInfo) list_nth(nodeAclCommands, position);
			}

			appendStringInfoString(commands, createCommand);
			if (aclCommand != NULL)
				appendStringInfoString(aclCommands, aclCommand);
		}
	}

	foreach(cell, nodeCommands)
		commandStrings = lappend(commandStrings,
								 ((StringInfo) lfirst(cell))->data);

	/* create the shards, one batch per node, all nodes in parallel */
	connections = StartNodeTransactions(nodeIds);
	ExecuteRemoteCommandOnEach(connections, commandStrings);

	/* move the existing rows over the same connections */
	destinations = palloc0(sizeof(ShardCopyDestination) * shardCount);
	for (shardIndex = 0; shardIndex < shardCount; shardIndex++)
	{
		destinations[shardIndex].shardName = shards[shardIndex].shardName;
		foreach(cell, shards[shardIndex].nodeIds)
		{
			int			position = NodeListPosition(nodeIds, lfirst_int(cell));

			destinations[shardIndex].connections =
				lappend(destinations[shardIndex].connections,
						list_nth(connections, position));
		}
	}

	(void) MoveExistingRows(relid,
							column != NULL ? column->attnum : InvalidAttrNumber,
							shardCount, destinations);

	/* then the privileges, where the table has any besides the defaults */
	ExecuteAclCommands(connections, nodeAclCommands);
	ReleaseNodeConnectionList(connections);

	/* record the metadata; this also invalidates the caches */
	colocationId = colocation->colocationId;
	if (colocationId == 0 && column != NULL)
		colocationId = InsertColocationRow(shardCount, column->typeId,
										   column->collation,
										   colocation->isDefault);

	InsertDistTableRow(relid, distMethod,
					   column != NULL ? column->attnum : InvalidAttrNumber,
					   colocationId);

	for (shardIndex = 0; shardIndex < shardCount; shardIndex++)
	{
		PlannedShard *shard = &shards[shardIndex];

		InsertShardRow(relid, shard->shardId, shardIndex, shard->minValue,
					   shard->maxValue);
		foreach(cell, shard->nodeIds)
			InsertPlacementRow(shard->shardId, lfirst_int(cell));
	}

}


/*
 * ExecuteAclCommands runs each node's privilege commands (StringInfo,
 * parallel to connections) on its connection, all nodes in parallel,
 * leaving out nodes without any.
 */
static void
ExecuteAclCommands(List *connections, List *nodeAclCommands)
{
	List	   *aclConnections = NIL;
	List	   *aclStrings = NIL;
	ListCell   *connectionCell;
	ListCell   *commandCell;

	forboth(connectionCell, connections, commandCell, nodeAclCommands)
	{
		StringInfo	commands = (StringInfo) lfirst(commandCell);

		if (commands->len == 0)
			continue;

		aclConnections = lappend(aclConnections, lfirst(connectionCell));
		aclStrings = lappend(aclStrings, commands->data);
	}

	if (aclConnections != NIL)
		ExecuteRemoteCommandOnEach(aclConnections, aclStrings);
}


/*
 * ShardPlacementNodes returns the nodes (int list) that get a placement of
 * shard index shardIndex: those of the colocated table's shard with the
 * same index, or else one node, round-robin over the active nodes.
 */
static List *
ShardPlacementNodes(DistTableCacheEntry *sourceEntry, int shardIndex,
					List *nodes)
{
	List	   *nodeIds = NIL;

	if (sourceEntry != NULL)
	{
		ShardInterval *sourceShard = &sourceEntry->shards[shardIndex];
		int			placementIndex;

		for (placementIndex = 0; placementIndex < sourceShard->placementCount;
			 placementIndex++)
			nodeIds = lappend_int(nodeIds,
								  sourceShard->placements[placementIndex].nodeId);
	}

	if (nodeIds == NIL)
	{
		DistNode   *node = (DistNode *) list_nth(nodes,
												 shardIndex % list_length(nodes));

		nodeIds = lappend_int(nodeIds, node->nodeId);
	}

	return nodeIds;
}


/*
 * AllNodeIds returns the ids (int list) of a list of DistNodes.
 */
static List *
AllNodeIds(List *nodes)
{
	List	   *nodeIds = NIL;
	ListCell   *cell;

	foreach(cell, nodes)
		nodeIds = lappend_int(nodeIds, ((DistNode *) lfirst(cell))->nodeId);
	return nodeIds;
}


/*
 * NodeListPosition returns the position of nodeId in an int list, or -1.
 */
static int
NodeListPosition(List *nodeIds, int32 nodeId)
{
	ListCell   *cell;

	foreach(cell, nodeIds)
	{
		if (lfirst_int(cell) == nodeId)
			return foreach_current_index(cell);
	}

	return -1;
}
