/*-------------------------------------------------------------------------
 *
 * index_commands.c
 *	  CREATE INDEX, DROP INDEX and REINDEX on distributed tables.
 *
 * An index of a distributed table exists on the coordinator's table and,
 * under the name name_shardid (ShardObjectName, clipped with a hash when
 * too long), on every shard, in the table's schema.
 *
 *	- CREATE INDEX runs on the coordinator first; the new index is then
 *	  read from the catalogs and created on each shard with the same
 *	  deparser that builds the indexes of a new shard
 *	  (ShardIndexCreateCommand), so shards made before and after the
 *	  index get the same definition.  A unique index must have the
 *	  distribution column among its key columns (of hash-distributed
 *	  tables): uniqueness is only checked within a shard.
 *	- DROP INDEX and REINDEX name the shard indexes (or shard tables),
 *	  built before the coordinator's command while the index still exists.
 *	- With CONCURRENTLY, PostgreSQL refuses the command inside a transaction
 *	  block and commits in the middle of it; the shards then run it after
 *	  the coordinator, each shard's command on its own, outside any
 *	  transaction.  If a shard fails, the index stays on the shards that
 *	  built it and on the coordinator, where it is left invalid (the
 *	  error aborts the last transaction of CREATE INDEX CONCURRENTLY, the
 *	  one that would mark it valid), as a failed CREATE INDEX
 *	  CONCURRENTLY leaves it in PostgreSQL; DROP INDEX removes it
 *	  everywhere (it uses IF EXISTS on the shards).
 *
 * Tablespaces are not carried to the shards (as for new shards): the
 * shard indexes are created in the worker's default tablespace.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "distdb/ddl_propagation.h"
#include "distdb/shard_ddl.h"

/* what FinishCreateIndex needs to know */
typedef struct CreateIndexState
{
	Oid			relid;
	List	   *oldIndexOids;	/* the table's indexes before the command */
	bool		concurrently;
} CreateIndexState;

/* the object a per-shard command is about */
typedef struct ShardIndexTarget
{
	Oid			indexOid;
	bool		concurrently;
	const char *prefix;			/* command text before the shard object */
	const char *suffix;			/* and after it */
} ShardIndexTarget;

static void ErrorIfIndexParamsLackColumn(IndexStmt *stmt, Oid relid);
static void FinishCreateIndex(DistributedDdl *ddl);
static char *ShardCreateIndexBuilder(Oid relid, ShardInterval *shard,
									 void *context);
static char *ShardIndexNameBuilder(Oid relid, ShardInterval *shard,
								   void *context);
static char *ShardTableNameBuilder(Oid relid, ShardInterval *shard,
								   void *context);


/*
 * PlanCreateIndex plans CREATE INDEX on a distributed table; the shard
 * commands are built once the coordinator has the index.
 */
DistributedDdl *
PlanCreateIndex(IndexStmt *stmt)
{
	Oid			relid = DistributedTableOfRangeVar(stmt->relation, NULL);
	DistributedDdl *ddl;
	CreateIndexState *state;
	Relation	rel;

	if (!OidIsValid(relid))
		return NULL;

	/* with CONCURRENTLY the index is committed before it can be checked */
	if (stmt->unique)
		ErrorIfIndexParamsLackColumn(stmt, relid);

	state = palloc0(sizeof(CreateIndexState));
	state->relid = relid;
	state->concurrently = stmt->concurrent;
	rel = relation_open(relid, AccessShareLock);
	state->oldIndexOids = list_copy(RelationGetIndexList(rel));
	relation_close(rel, NoLock);

	ddl = NewDistributedDdl();
	ddl->finish = FinishCreateIndex;
	ddl->state = state;
	ddl->concurrently = stmt->concurrent;

	return ddl;
}


/*
 * ErrorIfIndexParamsLackColumn refuses a unique index of a hash-distributed
 * table whose key columns do not name the distribution column.
 */
static void
ErrorIfIndexParamsLackColumn(IndexStmt *stmt, Oid relid)
{
	DistTableCacheEntry *entry = LookupDistTable(relid);
	char	   *columnName;
	ListCell   *cell;

	if (entry->distMethod != DISTRIBUTE_BY_HASH)
		return;

	columnName = get_attname(relid, entry->distAttnum, false);
	foreach(cell, stmt->indexParams)
	{
		IndexElem  *element = lfirst_node(IndexElem, cell);

		if (element->name != NULL && strcmp(element->name, columnName) == 0)
			return;
	}

	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot create a unique index on distributed table \"%s\" without its distribution column",
					get_rel_name(relid)),
			 errdetail("Uniqueness is only enforced within a shard, so unique indexes must include the distribution column \"%s\" as a key column.",
					   columnName)));
}


/*
 * ErrorIfUniqueWithoutDistributionColumn refuses a unique or exclusion
 * index (or the constraint it backs) of a hash-distributed table that
 * could not be enforced shard by shard.
 */
void
ErrorIfUniqueWithoutDistributionColumn(Oid indexOid)
{
	Oid			relid = IndexGetRelation(indexOid, false);
	DistTableCacheEntry *entry = LookupDistTable(relid);
	Relation	indexRel;
	Oid			constraintOid;
	bool		wrongOperator;
	bool		enforceable;
	char	   *columnName;

	if (entry == NULL || !entry->isDistributed ||
		entry->distMethod != DISTRIBUTE_BY_HASH)
		return;

	indexRel = index_open(indexOid, AccessShareLock);
	enforceable = !(indexRel->rd_index->indisunique ||
					indexRel->rd_index->indisexclusion) ||
		UniqueIndexIncludesColumn(indexRel, entry->distAttnum,
								  entry->distType, &wrongOperator);
	index_close(indexRel, AccessShareLock);
	if (enforceable)
		return;

	columnName = get_attname(relid, entry->distAttnum, false);
	constraintOid = get_index_constraint(indexOid);
	if (wrongOperator)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot create exclusion constraint \"%s\" on distributed table \"%s\"",
						get_rel_name(indexOid), get_rel_name(relid)),
				 errdetail("Exclusion constraints must compare the distribution column \"%s\" with =.",
						   columnName)));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 OidIsValid(constraintOid) ?
			 errmsg("cannot create constraint \"%s\" on distributed table \"%s\" without its distribution column",
					get_constraint_name(constraintOid), get_rel_name(relid)) :
			 errmsg("cannot create a unique index on distributed table \"%s\" without its distribution column",
					get_rel_name(relid)),
			 errdetail("Uniqueness is only enforced within a shard, so unique, primary key and exclusion constraints must include the distribution column \"%s\" as a key column.",
					   columnName)));
}


/*
 * FinishCreateIndex adds the commands that create, on every shard, the
 * index the coordinator's command made (none when IF NOT EXISTS found
 * one).
 */
static void
FinishCreateIndex(DistributedDdl *ddl)
{
	CreateIndexState *state = ddl->state;
	Relation	rel = relation_open(state->relid, AccessShareLock);
	List	   *indexOids = list_copy(RelationGetIndexList(rel));
	ListCell   *cell;

	relation_close(rel, NoLock);

	foreach(cell, indexOids)
	{
		Oid			indexOid = lfirst_oid(cell);
		ShardIndexTarget *target;

		if (list_member_oid(state->oldIndexOids, indexOid))
			continue;

		if (!state->concurrently)
			ErrorIfUniqueWithoutDistributionColumn(indexOid);

		target = palloc0(sizeof(ShardIndexTarget));
		target->indexOid = indexOid;
		target->concurrently = state->concurrently;
		AddShardCommands(ddl->batch, state->relid, ShardCreateIndexBuilder,
						 target);
	}
}


/*
 * ShardCreateIndexBuilder builds CREATE INDEX for one shard.
 */
static char *
ShardCreateIndexBuilder(Oid relid, ShardInterval *shard, void *context)
{
	ShardIndexTarget *target = context;

	return ShardIndexCreateCommand(target->indexOid, shard->shardId,
								   target->concurrently);
}


/*
 * QualifiedShardIndexName returns the quoted, schema-qualified name of an
 * index of a distributed table on one of its shards.
 */
char *
QualifiedShardIndexName(Oid indexOid, int64 shardId)
{
	char	   *indexName = get_rel_name(indexOid);

	if (indexName == NULL)
		elog(ERROR, "cache lookup failed for relation %u", indexOid);

	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(indexOid)),
									  ShardObjectName(indexName, shardId));
}


/*
 * ShardIndexNameBuilder builds "<prefix> <shard index><suffix>".
 */
static char *
ShardIndexNameBuilder(Oid relid, ShardInterval *shard, void *context)
{
	ShardIndexTarget *target = context;

	return psprintf("%s %s%s", target->prefix,
					QualifiedShardIndexName(target->indexOid, shard->shardId),
					target->suffix);
}


/*
 * ShardTableNameBuilder builds "<prefix> <shard table><suffix>".
 */
static char *
ShardTableNameBuilder(Oid relid, ShardInterval *shard, void *context)
{
	ShardIndexTarget *target = context;

	return psprintf("%s %s%s", target->prefix, shard->shardName,
					target->suffix);
}


/*
 * PlanDropIndex plans DROP INDEX of indexes of distributed tables: each
 * shard index is dropped (IF EXISTS, so that the indexes a failed CREATE
 * INDEX CONCURRENTLY left can be dropped too).
 */
DistributedDdl *
PlanDropIndex(DropStmt *stmt)
{
	DistributedDdl *ddl = NULL;
	ListCell   *cell;

	foreach(cell, stmt->objects)
	{
		RangeVar   *name = makeRangeVarFromNameList((List *) lfirst(cell));
		Oid			indexOid;
		Oid			relid = DistributedTableOfRangeVar(name, &indexOid);
		ShardIndexTarget *target;

		/* not an index of a distributed table: PostgreSQL decides */
		if (!OidIsValid(relid) || indexOid == relid)
			continue;

		if (ddl == NULL)
		{
			ddl = NewDistributedDdl();
			ddl->concurrently = stmt->concurrent;
		}

		target = palloc0(sizeof(ShardIndexTarget));
		target->indexOid = indexOid;
		target->prefix = stmt->concurrent ?
			"DROP INDEX CONCURRENTLY IF EXISTS" : "DROP INDEX IF EXISTS";
		target->suffix = stmt->behavior == DROP_CASCADE ? " CASCADE" : "";
		AddShardCommands(ddl->batch, relid, ShardIndexNameBuilder, target);
	}

	return ddl;
}


/*
 * PlanReindex plans REINDEX INDEX and REINDEX TABLE of distributed tables
 * (REINDEX SCHEMA, DATABASE and SYSTEM work on the coordinator's own
 * tables only).  CONCURRENTLY is kept; a TABLESPACE is refused, as the
 * shards do not follow tablespaces.
 */
DistributedDdl *
PlanReindex(ReindexStmt *stmt)
{
	DistributedDdl *ddl;
	ShardIndexTarget *target;
	Oid			objectId;
	Oid			relid;
	bool		concurrently = false;
	ListCell   *cell;

	if (stmt->kind != REINDEX_OBJECT_INDEX && stmt->kind != REINDEX_OBJECT_TABLE)
		return NULL;

	relid = DistributedTableOfRangeVar(stmt->relation, &objectId);
	if (!OidIsValid(relid))
		return NULL;

	foreach(cell, stmt->params)
	{
		DefElem    *option = lfirst_node(DefElem, cell);

		if (strcmp(option->defname, "concurrently") == 0)
			concurrently = defGetBoolean(option);
		else if (strcmp(option->defname, "tablespace") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("REINDEX with TABLESPACE on distributed table \"%s\" is not supported",
							get_rel_name(relid)),
					 errdetail("Shards do not follow the tablespaces of the coordinator's table.")));
	}

	ddl = NewDistributedDdl();
	ddl->concurrently = concurrently;

	target = palloc0(sizeof(ShardIndexTarget));
	target->indexOid = objectId;
	target->suffix = "";
	if (stmt->kind == REINDEX_OBJECT_INDEX)
	{
		target->prefix = concurrently ?
			"REINDEX INDEX CONCURRENTLY" : "REINDEX INDEX";
		AddShardCommands(ddl->batch, relid, ShardIndexNameBuilder, target);
	}
	else
	{
		target->prefix = concurrently ?
			"REINDEX TABLE CONCURRENTLY" : "REINDEX TABLE";
		AddShardCommands(ddl->batch, relid, ShardTableNameBuilder, target);
	}

	return ddl;
}
