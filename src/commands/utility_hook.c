/*-------------------------------------------------------------------------
 *
 * utility_hook.c
 *	  distdb's ProcessUtility hook.
 *
 * A distributed table is a shell on the coordinator plus one table per
 * shard on the workers; utility commands must keep the two in step:
 *
 *	- DROP TABLE deletes the table's metadata, drops the shell, then the
 *	  shards on the workers (inside the remote transactions, so they come
 *	  back if the transaction aborts);
 *	- TRUNCATE truncates the shell and then every shard, with CASCADE those
 *	  of the tables referencing them too (truncate_cascade.c);
 *	- VACUUM and ANALYZE run on the shards too (vacuum_analyze.c);
 *	- COPY table TO runs as COPY (SELECT ... FROM table) TO, so it reads
 *	  through distdb's planner; COPY table FROM parses the rows on the
 *	  coordinator and streams them into the shards (copy_from.c);
 *	- GRANT and REVOKE on distributed tables (named, or ALL TABLES IN
 *	  SCHEMA) run, once they succeeded locally, on every shard of those
 *	  tables, and GRANT and REVOKE on a schema holding distributed tables
 *	  on the nodes of their shards: connections to the nodes run as the
 *	  current user, so the shards need the same privileges as the shell.
 *	  The commands are built from the GrantStmt (roles resolved to names
 *	  on the coordinator), inside the remote transactions, so they are
 *	  undone if the transaction aborts.  ALTER DEFAULT PRIVILEGES is not
 *	  carried to the workers: shards get their privileges from the table
 *	  when they are created (src/operations/shard_ddl.c);
 *	- CREATE INDEX, DROP INDEX, REINDEX, ALTER TABLE, renames and SET
 *	  SCHEMA run on every shard too (ddl_propagation.c and the planners
 *	  it calls), or are refused there;
 *	- every other DDL that would change a distributed table's definition
 *	  (triggers, policies, ...) is refused, so the shell never diverges
 *	  from its shards, and so is REASSIGN OWNED when it would give away a
 *	  distributed table;
 *	- DROP SCHEMA ... CASCADE and DROP OWNED drop distributed tables through
 *	  PostgreSQL's dependency machinery: a sql_drop event trigger drops
 *	  their shards and metadata (dropped_tables.c).
 *
 * Statements that cannot touch a distributed table pass through without
 * any catalog access, which matters for transaction control statements in
 * an aborted transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "distdb/copy_from.h"
#include "distdb/ddl_propagation.h"
#include "distdb/distdb.h"
#include "distdb/metadata_cache.h"
#include "distdb/metadata_catalog.h"
#include "distdb/shard_ddl.h"
#include "distdb/truncate_cascade.h"
#include "distdb/utility_hook.h"
#include "distdb/vacuum_analyze.h"

/* the hook that was installed before distdb's */
ProcessUtility_hook_type PrevProcessUtilityHook = NULL;

static void CallPreviousProcessUtility(PlannedStmt *pstmt,
									   const char *queryString,
									   bool readOnlyTree,
									   ProcessUtilityContext context,
									   ParamListInfo params,
									   QueryEnvironment *queryEnv,
									   DestReceiver *dest,
									   QueryCompletion *qc);
static bool MayTouchDistributedTables(Node *parsetree);
static Oid	DistributedRelationOfRangeVar(RangeVar *relation);
static void ErrorIfDistributedRangeVar(RangeVar *relation, Node *parsetree);
static void ErrorIfUnsupportedDDL(Node *parsetree);
static void ErrorIfReferencesDistributedTable(List *elements);
static void ErrorIfAlterTableReferencesDistributed(AlterTableStmt *stmt);
static void ErrorIfSchemaHasDistributedTables(const char *schemaName,
											  Node *parsetree);
static void ErrorIfRolesOwnDistributedTables(List *roles, Node *parsetree);
static char *FindDistributedTable(const char *sql, Oid argType, Datum arg);
static ShardCommandBatch *PrepareDrop(DropStmt *stmt, Node *parsetree);
static ShardCommandBatch *DropDistributedTables(DropStmt *stmt);
static List *DistributedTablesOfList(List *relations);
static ShardCommandBatch *BuildShardCommands(List *relids,
											 const char *commandPrefix,
											 const char *commandSuffix);
static void PropagateGrant(GrantStmt *stmt);
static List *DistributedTablesInSchemas(List *schemaNames);
static char *GrantCommandPrefix(GrantStmt *stmt, const char *objectKind);
static char *GrantCommandSuffix(GrantStmt *stmt);
static char *RoleSpecName(RoleSpec *role);
static bool ProcessCopy(PlannedStmt *pstmt, const char *queryString,
						bool readOnlyTree, ProcessUtilityContext context,
						ParamListInfo params, QueryEnvironment *queryEnv,
						DestReceiver *dest, QueryCompletion *qc);


/*
 * DistdbProcessUtility is the ProcessUtility hook.
 */
void
DistdbProcessUtility(PlannedStmt *pstmt, const char *queryString,
					 bool readOnlyTree, ProcessUtilityContext context,
					 ParamListInfo params, QueryEnvironment *queryEnv,
					 DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	DistributedDdl *ddl;

	if (!MayTouchDistributedTables(parsetree) || !DistdbMetadataAvailable())
	{
		CallPreviousProcessUtility(pstmt, queryString, readOnlyTree, context,
								   params, queryEnv, dest, qc);
		return;
	}

	/* DDL carried to the shards (ddl_propagation.c) */
	ddl = PlanDistributedDdl(parsetree);
	if (ddl != NULL)
	{
		CallPreviousProcessUtility(pstmt, queryString, readOnlyTree, context,
								   params, queryEnv, dest, qc);
		FinishDistributedDdl(ddl);
		return;
	}

	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			{
				ShardCommandBatch *batch;

				/*
				 * The shards are dropped last, so that nothing happens on the
				 * workers when the local DROP fails (e.g. for dependent
				 * objects); a failure on a worker aborts the transaction.
				 */
				batch = PrepareDrop((DropStmt *) parsetree, parsetree);
				CallPreviousProcessUtility(pstmt, queryString, readOnlyTree,
										   context, params, queryEnv, dest, qc);
				ExecuteShardCommandBatch(batch);
				return;
			}

		case T_TruncateStmt:
			{
				TruncateStmt *stmt = (TruncateStmt *) parsetree;
				List	   *relids = DistributedTablesToTruncate(stmt);

				/* the local TRUNCATE checks privileges and takes the locks */
				CallPreviousProcessUtility(pstmt, queryString, readOnlyTree,
										   context, params, queryEnv, dest, qc);
				ExecuteShardCommandBatch(BuildShardCommands(relids,
														"TRUNCATE TABLE",
														stmt->behavior == DROP_CASCADE ?
														" CASCADE" : NULL));
				return;
			}

		case T_VacuumStmt:
			{
				/* the local command checks options, columns and owners */
				ShardVacuum *shardVacuum = PlanShardVacuum((VacuumStmt *) parsetree);

				CallPreviousProcessUtility(pstmt, queryString, readOnlyTree,
										   context, params, queryEnv, dest, qc);
				ExecuteShardVacuum(shardVacuum);
				return;
			}

		case T_GrantStmt:
			/* the local command checks privileges and fails first */
			CallPreviousProcessUtility(pstmt, queryString, readOnlyTree,
									   context, params, queryEnv, dest, qc);
			PropagateGrant((GrantStmt *) parsetree);
			return;

		case T_CopyStmt:
			if (ProcessCopy(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc))
				return;
			break;

		default:
			ErrorIfUnsupportedDDL(parsetree);
			break;
	}

	CallPreviousProcessUtility(pstmt, queryString, readOnlyTree, context,
							   params, queryEnv, dest, qc);
}


/*
 * CallPreviousProcessUtility runs a statement through the next hook, or
 * PostgreSQL's own ProcessUtility.
 */
static void
CallPreviousProcessUtility(PlannedStmt *pstmt, const char *queryString,
						   bool readOnlyTree, ProcessUtilityContext context,
						   ParamListInfo params, QueryEnvironment *queryEnv,
						   DestReceiver *dest, QueryCompletion *qc)
{
	if (PrevProcessUtilityHook != NULL)
		PrevProcessUtilityHook(pstmt, queryString, readOnlyTree, context,
							   params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}


/*
 * MayTouchDistributedTables tells, from the statement type alone, whether
 * a statement could affect a distributed table.  Everything else passes
 * through untouched.
 */
static bool
MayTouchDistributedTables(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
		case T_TruncateStmt:
		case T_CopyStmt:
		case T_AlterTableStmt:
		case T_RenameStmt:
		case T_AlterObjectSchemaStmt:
		case T_IndexStmt:
		case T_CreateTrigStmt:
		case T_CreatePolicyStmt:
		case T_AlterPolicyStmt:
		case T_RuleStmt:
		case T_ClusterStmt:
		case T_ReindexStmt:
		case T_VacuumStmt:
		case T_CreateStmt:
		case T_DropOwnedStmt:
		case T_ReassignOwnedStmt:
		case T_GrantStmt:
			return true;
		default:
			return false;
	}
}


/*
 * DistributedRelationOfRangeVar returns the distributed table a name
 * refers to (for an index, its table), or InvalidOid when the name refers
 * to nothing distributed or to nothing at all.  No lock is taken: the
 * command itself locks what it changes.
 */
static Oid
DistributedRelationOfRangeVar(RangeVar *relation)
{
	Oid			relid;

	if (relation == NULL)
		return InvalidOid;

	relid = RangeVarGetRelid(relation, NoLock, true);
	if (!OidIsValid(relid))
		return InvalidOid;

	if (get_rel_relkind(relid) == RELKIND_INDEX)
	{
		relid = IndexGetRelation(relid, true);
		if (!OidIsValid(relid))
			return InvalidOid;
	}

	return IsDistributedTable(relid) ? relid : InvalidOid;
}


/*
 * ErrorIfDistributedRangeVar refuses the statement if the name refers to
 * a distributed table (or one of its indexes).
 */
static void
ErrorIfDistributedRangeVar(RangeVar *relation, Node *parsetree)
{
	Oid			relid = DistributedRelationOfRangeVar(relation);

	if (OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s on distributed tables is not supported yet",
						CreateCommandName(parsetree)),
				 errdetail("Table \"%s\" is distributed.", get_rel_name(relid))));
}


/*
 * ErrorIfUnsupportedDDL refuses DDL that would change the definition of a
 * distributed table on the coordinator only.
 */
static void
ErrorIfUnsupportedDDL(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;

				ErrorIfDistributedRangeVar(stmt->relation, parsetree);
				ErrorIfAlterTableReferencesDistributed(stmt);
				break;
			}

		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType == OBJECT_SCHEMA)
					ErrorIfSchemaHasDistributedTables(stmt->subname, parsetree);
				else
					ErrorIfDistributedRangeVar(stmt->relation, parsetree);
				break;
			}

		case T_AlterObjectSchemaStmt:
			ErrorIfDistributedRangeVar(((AlterObjectSchemaStmt *) parsetree)->relation,
									   parsetree);
			break;

		case T_IndexStmt:
			ErrorIfDistributedRangeVar(((IndexStmt *) parsetree)->relation,
									   parsetree);
			break;

		case T_CreateTrigStmt:
			ErrorIfDistributedRangeVar(((CreateTrigStmt *) parsetree)->relation,
									   parsetree);
			break;

		case T_CreatePolicyStmt:
			ErrorIfDistributedRangeVar(((CreatePolicyStmt *) parsetree)->table,
									   parsetree);
			break;

		case T_AlterPolicyStmt:
			ErrorIfDistributedRangeVar(((AlterPolicyStmt *) parsetree)->table,
									   parsetree);
			break;

		case T_RuleStmt:
			ErrorIfDistributedRangeVar(((RuleStmt *) parsetree)->relation,
									   parsetree);
			break;

		case T_ClusterStmt:
			ErrorIfDistributedRangeVar(((ClusterStmt *) parsetree)->relation,
									   parsetree);
			break;

		case T_ReindexStmt:
			{
				ReindexStmt *stmt = (ReindexStmt *) parsetree;

				if (stmt->kind == REINDEX_OBJECT_TABLE ||
					stmt->kind == REINDEX_OBJECT_INDEX)
					ErrorIfDistributedRangeVar(stmt->relation, parsetree);
				break;
			}

		case T_CreateStmt:
			{
				CreateStmt *stmt = (CreateStmt *) parsetree;
				ListCell   *cell;

				foreach(cell, stmt->inhRelations)
				{
					Oid			parentId = DistributedRelationOfRangeVar(lfirst(cell));

					if (OidIsValid(parentId))
						ereport(ERROR,
								(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								 errmsg("cannot inherit from distributed table \"%s\"",
										get_rel_name(parentId)),
								 errdetail("Inheritance with distributed tables is not supported yet.")));
				}
				ErrorIfReferencesDistributedTable(stmt->tableElts);
				break;
			}

		case T_ReassignOwnedStmt:
			ErrorIfRolesOwnDistributedTables(((ReassignOwnedStmt *) parsetree)->roles,
											 parsetree);
			break;

		default:
			break;
	}
}


/*
 * ErrorIfReferencesDistributedTable refuses foreign keys to distributed
 * tables among table elements (column definitions and table
 * constraints): the referenced rows live on the workers.
 */
static void
ErrorIfReferencesDistributedTable(List *elements)
{
	ListCell   *cell;

	foreach(cell, elements)
	{
		Node	   *element = (Node *) lfirst(cell);
		List	   *constraints = NIL;
		ListCell   *constraintCell;

		if (IsA(element, ColumnDef))
			constraints = ((ColumnDef *) element)->constraints;
		else if (IsA(element, Constraint))
			constraints = list_make1(element);

		foreach(constraintCell, constraints)
		{
			Constraint *constraint = lfirst_node(Constraint, constraintCell);
			Oid			referencedId;

			if (constraint->contype != CONSTR_FOREIGN)
				continue;

			referencedId = DistributedRelationOfRangeVar(constraint->pktable);
			if (OidIsValid(referencedId))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot create a foreign key referencing distributed table \"%s\"",
								get_rel_name(referencedId)),
						 errdetail("Foreign keys to distributed tables are not supported yet.")));
		}
	}
}


/*
 * ErrorIfAlterTableReferencesDistributed refuses ALTER TABLE on another
 * table that would tie it to a distributed table: a foreign key to it,
 * inheriting from it, or attaching it as a partition.
 */
static void
ErrorIfAlterTableReferencesDistributed(AlterTableStmt *stmt)
{
	ListCell   *cell;

	foreach(cell, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, cell);
		Oid			otherId;

		switch (cmd->subtype)
		{
			case AT_AddConstraint:
			case AT_AddColumn:
				if (cmd->def != NULL)
					ErrorIfReferencesDistributedTable(list_make1(cmd->def));
				break;

			case AT_AddInherit:
				otherId = DistributedRelationOfRangeVar((RangeVar *) cmd->def);
				if (OidIsValid(otherId))
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot inherit from distributed table \"%s\"",
									get_rel_name(otherId)),
							 errdetail("Inheritance with distributed tables is not supported yet.")));
				break;

			case AT_AttachPartition:
				otherId = DistributedRelationOfRangeVar(((PartitionCmd *) cmd->def)->name);
				if (OidIsValid(otherId))
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot attach distributed table \"%s\" as a partition",
									get_rel_name(otherId)),
							 errdetail("Partitioning with distributed tables is not supported yet.")));
				break;

			default:
				break;
		}
	}
}


/*
 * ErrorIfSchemaHasDistributedTables refuses a statement that would drop
 * or rename a schema holding a distributed table.
 */
static void
ErrorIfSchemaHasDistributedTables(const char *schemaName, Node *parsetree)
{
	Oid			namespaceId = get_namespace_oid(schemaName, true);
	char	   *tableName;

	if (!OidIsValid(namespaceId))
		return;

	tableName = FindDistributedTable("SELECT c.relname FROM distdb.dist_table d "
									 "JOIN pg_catalog.pg_class c ON c.oid = d.logicalrelid "
									 "WHERE c.relnamespace = $1 "
									 "ORDER BY c.relname LIMIT 1",
									 OIDOID, ObjectIdGetDatum(namespaceId));
	if (tableName != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s on a schema with distributed tables is not supported yet",
						CreateCommandName(parsetree)),
				 errdetail("Schema \"%s\" holds distributed table \"%s\".",
						   schemaName, tableName),
				 errhint("Drop the distributed tables first.")));
}


/*
 * ErrorIfRolesOwnDistributedTables refuses REASSIGN OWNED for roles that
 * own a distributed table: it would change the owner on the coordinator
 * only.  (DROP OWNED drops tables through the sql_drop event trigger,
 * dropped_tables.c.)
 */
static void
ErrorIfRolesOwnDistributedTables(List *roles, Node *parsetree)
{
	ListCell   *cell;

	foreach(cell, roles)
	{
		RoleSpec   *role = lfirst_node(RoleSpec, cell);
		Oid			roleId = get_rolespec_oid(role, true);
		char	   *tableName;

		if (!OidIsValid(roleId))
			continue;

		tableName = FindDistributedTable("SELECT c.relname FROM distdb.dist_table d "
										 "JOIN pg_catalog.pg_class c ON c.oid = d.logicalrelid "
										 "WHERE c.relowner = $1 "
										 "ORDER BY c.relname LIMIT 1",
										 OIDOID, ObjectIdGetDatum(roleId));
		if (tableName != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s for a role that owns distributed tables is not supported yet",
							CreateCommandName(parsetree)),
					 errdetail("Role \"%s\" owns distributed table \"%s\".",
							   GetUserNameFromId(roleId, false), tableName),
					 errhint("Drop the distributed tables first.")));
	}
}


/*
 * FindDistributedTable runs a query with one parameter that returns a
 * table name, and returns the name (palloc'd in the caller's context) or
 * NULL when it returns no row.
 */
static char *
FindDistributedTable(const char *sql, Oid argType, Datum arg)
{
	MemoryContext callerContext = CurrentMemoryContext;
	char	   *tableName = NULL;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to the SPI manager");

	rc = SPI_execute_with_args(sql, 1, &argType, &arg, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not run \"%s\": %s", sql,
			 SPI_result_code_string(rc));

	if (SPI_processed > 0)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1);

		tableName = MemoryContextStrdup(callerContext, value);
	}

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "could not disconnect from the SPI manager");

	return tableName;
}


/*
 * PrepareDrop does distdb's part of a DROP before PostgreSQL's: for DROP
 * TABLE it deletes the metadata of distributed tables and returns the
 * commands that drop their shards, to run after the local DROP (DROP
 * INDEX: index_commands.c; DROP SCHEMA ... CASCADE drops tables through
 * the sql_drop event trigger, dropped_tables.c).  It returns NULL when
 * there is nothing to do on the workers.
 */
static ShardCommandBatch *
PrepareDrop(DropStmt *stmt, Node *parsetree)
{
	if (stmt->removeType == OBJECT_TABLE)
		return DropDistributedTables(stmt);

	return NULL;
}


/*
 * DropDistributedTables deletes the metadata of the distributed tables a
 * DROP TABLE names and returns the commands that drop their shards
 * (inside the remote transactions).  PostgreSQL then drops the
 * coordinator's tables, and the caller the shards.
 *
 * The privilege check of DROP TABLE (owner of the table or of its schema)
 * is done here first, and the tables are locked as DROP would lock them.
 * The metadata must go while the tables exist: its deletion sends relcache
 * invalidations for them.
 */
static ShardCommandBatch *
DropDistributedTables(DropStmt *stmt)
{
	List	   *relids = NIL;
	ShardCommandBatch *batch;
	ListCell   *cell;

	foreach(cell, stmt->objects)
	{
		RangeVar   *relation = makeRangeVarFromNameList((List *) lfirst(cell));
		Oid			relid = RangeVarGetRelid(relation, NoLock, true);

		if (!OidIsValid(relid) || !IsDistributedTable(relid))
			continue;

		if (!pg_class_ownercheck(relid, GetUserId()) &&
			!pg_namespace_ownercheck(get_rel_namespace(relid), GetUserId()))
			aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, relation->relname);

		LockRelationOid(relid, AccessExclusiveLock);

		/* it may have been dropped while we waited for the lock */
		if (!IsDistributedTable(relid))
			continue;

		relids = list_append_unique_oid(relids, relid);
	}

	if (relids == NIL)
		return NULL;

	/* CASCADE drops the foreign keys of co-located shards referencing them */
	batch = BuildShardCommands(relids, "DROP TABLE IF EXISTS",
							   stmt->behavior == DROP_CASCADE ? " CASCADE" : NULL);

	foreach(cell, relids)
		DeleteDistTableMetadata(lfirst_oid(cell));

	return batch;
}


/*
 * DistributedTablesOfList returns the distributed tables among a list of
 * RangeVars.
 */
static List *
DistributedTablesOfList(List *relations)
{
	List	   *relids = NIL;
	ListCell   *cell;

	foreach(cell, relations)
	{
		RangeVar   *relation = lfirst_node(RangeVar, cell);
		Oid			relid = RangeVarGetRelid(relation, NoLock, true);

		if (OidIsValid(relid) && IsDistributedTable(relid))
			relids = list_append_unique_oid(relids, relid);
	}

	return relids;
}


/*
 * BuildShardCommands builds, for every node, "<commandPrefix> shard,
 * shard, ...<commandSuffix>" naming the shards of the given tables the
 * node holds; commandSuffix may be NULL.
 */
static ShardCommandBatch *
BuildShardCommands(List *relids, const char *commandPrefix,
				   const char *commandSuffix)
{
	ShardCommandBatch *batch = NewShardCommandBatch();
	List	   *nodeIds = NIL;
	List	   *nodeCommands = NIL;
	ListCell   *cell;
	ListCell   *commandCell;

	foreach(cell, relids)
	{
		DistTableCacheEntry *entry = LookupDistTable(lfirst_oid(cell));
		int			shardIndex;

		if (entry == NULL || !entry->isDistributed)
			continue;

		for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
		{
			ShardInterval *shard = &entry->shards[shardIndex];
			int			placementIndex;

			for (placementIndex = 0; placementIndex < shard->placementCount;
				 placementIndex++)
			{
				int32		nodeId = shard->placements[placementIndex].nodeId;
				StringInfo	command = NULL;
				ListCell   *nodeCell;

				foreach(nodeCell, nodeIds)
				{
					if (lfirst_int(nodeCell) == nodeId)
					{
						command = list_nth(nodeCommands,
										   foreach_current_index(nodeCell));
						break;
					}
				}

				if (command == NULL)
				{
					command = makeStringInfo();
					appendStringInfo(command, "%s ", commandPrefix);
					nodeIds = lappend_int(nodeIds, nodeId);
					nodeCommands = lappend(nodeCommands, command);
				}
				else
					appendStringInfoString(command, ", ");

				appendStringInfoString(command, shard->shardName);
			}
		}
	}

	forboth(cell, nodeIds, commandCell, nodeCommands)
	{
		StringInfo	command = (StringInfo) lfirst(commandCell);

		if (commandSuffix != NULL)
			appendStringInfoString(command, commandSuffix);
		AddNodeCommand(batch, lfirst_int(cell), command->data);
	}

	return batch;
}


/*
 * PropagateGrant runs a GRANT or REVOKE that succeeded locally on the
 * shards it concerns: for tables (named or ALL TABLES IN SCHEMA), the
 * same privileges on every shard of the distributed tables among them,
 * one command per node; for schemas holding distributed tables, the same
 * command on the nodes that hold their shards.  Other objects are left
 * alone: they are not created on the workers.
 */
static void
PropagateGrant(GrantStmt *stmt)
{
	List	   *relids = NIL;
	ShardCommandBatch *batch;

	if (stmt->objtype == OBJECT_TABLE)
	{
		if (stmt->targtype == ACL_TARGET_OBJECT)
			relids = DistributedTablesOfList(stmt->objects);
		else if (stmt->targtype == ACL_TARGET_ALL_IN_SCHEMA)
			relids = DistributedTablesInSchemas(stmt->objects);

		if (relids == NIL)
			return;

		batch = BuildShardCommands(relids, GrantCommandPrefix(stmt, "TABLE"),
								   GrantCommandSuffix(stmt));
		ExecuteShardCommandBatch(batch);
	}
	else if (stmt->objtype == OBJECT_SCHEMA &&
			 stmt->targtype == ACL_TARGET_OBJECT)
	{
		StringInfoData schemaList;
		ShardCommandBatch *schemaBatch = NewShardCommandBatch();
		ListCell   *cell;

		/* the schemas with distributed tables, and those tables */
		initStringInfo(&schemaList);
		foreach(cell, stmt->objects)
		{
			char	   *schemaName = strVal(lfirst(cell));
			List	   *schemaRelids;

			schemaRelids = DistributedTablesInSchemas(list_make1(lfirst(cell)));
			if (schemaRelids == NIL)
				continue;

			if (schemaList.len > 0)
				appendStringInfoString(&schemaList, ", ");
			appendStringInfoString(&schemaList, quote_identifier(schemaName));
			relids = list_concat_unique_oid(relids, schemaRelids);
		}

		if (relids == NIL)
			return;

		/* every node holding one of their shards has the schema */
		batch = BuildShardCommands(relids, "", NULL);
		foreach(cell, batch->nodeIds)
			AddNodeCommand(schemaBatch, lfirst_int(cell),
						   psprintf("%s %s%s",
									GrantCommandPrefix(stmt, "SCHEMA"),
									schemaList.data,
									GrantCommandSuffix(stmt)));
		ExecuteShardCommandBatch(schemaBatch);
	}
}


/*
 * DistributedTablesInSchemas returns the distributed tables (Oid list) in
 * the schemas named by a list of String nodes; schemas that do not exist
 * are skipped.
 */
static List *
DistributedTablesInSchemas(List *schemaNames)
{
	MemoryContext callerContext = CurrentMemoryContext;
	List	   *relids = NIL;
	ListCell   *cell;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to the SPI manager");

	foreach(cell, schemaNames)
	{
		Oid			namespaceId = get_namespace_oid(strVal(lfirst(cell)), true);
		Oid			argType = OIDOID;
		Datum		arg = ObjectIdGetDatum(namespaceId);
		uint64		rowIndex;
		int			rc;

		if (!OidIsValid(namespaceId))
			continue;

		rc = SPI_execute_with_args("SELECT d.logicalrelid FROM distdb.dist_table d "
								   "JOIN pg_catalog.pg_class c ON c.oid = d.logicalrelid "
								   "WHERE c.relnamespace = $1 "
								   "ORDER BY c.relname",
								   1, &argType, &arg, NULL, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "could not read the distributed tables of schema %u: %s",
				 namespaceId, SPI_result_code_string(rc));

		for (rowIndex = 0; rowIndex < SPI_processed; rowIndex++)
		{
			bool		isNull;
			Datum		relid = SPI_getbinval(SPI_tuptable->vals[rowIndex],
											  SPI_tuptable->tupdesc, 1,
											  &isNull);
			MemoryContext spiContext = MemoryContextSwitchTo(callerContext);

			relids = list_append_unique_oid(relids, DatumGetObjectId(relid));
			MemoryContextSwitchTo(spiContext);
		}
	}

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "could not disconnect from the SPI manager");

	return relids;
}


/*
 * GrantCommandPrefix returns the part of a GRANT or REVOKE before the
 * object names: "GRANT privileges ON <objectKind>" or "REVOKE [GRANT
 * OPTION FOR] privileges ON <objectKind>", each privilege with its column
 * list.  The privilege names were checked by the local command.
 */
static char *
GrantCommandPrefix(GrantStmt *stmt, const char *objectKind)
{
	StringInfoData buf;
	ListCell   *cell;

	initStringInfo(&buf);
	appendStringInfoString(&buf, stmt->is_grant ? "GRANT " : "REVOKE ");
	if (!stmt->is_grant && stmt->grant_option)
		appendStringInfoString(&buf, "GRANT OPTION FOR ");

	if (stmt->privileges == NIL)
		appendStringInfoString(&buf, "ALL PRIVILEGES");

	foreach(cell, stmt->privileges)
	{
		AccessPriv *privilege = lfirst_node(AccessPriv, cell);
		ListCell   *columnCell;

		if (foreach_current_index(cell) > 0)
			appendStringInfoString(&buf, ", ");

		/* a NULL name is ALL PRIVILEGES (columns) */
		appendStringInfoString(&buf, privilege->priv_name != NULL ?
							   privilege->priv_name : "ALL PRIVILEGES");

		foreach(columnCell, privilege->cols)
			appendStringInfo(&buf, "%s%s",
							 foreach_current_index(columnCell) == 0 ? " (" : ", ",
							 quote_identifier(strVal(lfirst(columnCell))));
		if (privilege->cols != NIL)
			appendStringInfoChar(&buf, ')');
	}

	appendStringInfo(&buf, " ON %s", objectKind);

	return buf.data;
}


/*
 * GrantCommandSuffix returns the part of a GRANT or REVOKE after the
 * object names: the grantees, WITH GRANT OPTION, GRANTED BY and, for
 * REVOKE, CASCADE or RESTRICT.  Role specifications such as CURRENT_USER
 * or SESSION_USER are resolved to names here, as they may mean another
 * role on the node.
 */
static char *
GrantCommandSuffix(GrantStmt *stmt)
{
	StringInfoData buf;
	ListCell   *cell;

	initStringInfo(&buf);
	appendStringInfoString(&buf, stmt->is_grant ? " TO " : " FROM ");

	foreach(cell, stmt->grantees)
	{
		if (foreach_current_index(cell) > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, RoleSpecName(lfirst_node(RoleSpec, cell)));
	}

	if (stmt->is_grant && stmt->grant_option)
		appendStringInfoString(&buf, " WITH GRANT OPTION");

	if (stmt->grantor != NULL)
		appendStringInfo(&buf, " GRANTED BY %s", RoleSpecName(stmt->grantor));

	if (!stmt->is_grant)
		appendStringInfoString(&buf, stmt->behavior == DROP_CASCADE ?
							   " CASCADE" : " RESTRICT");

	return buf.data;
}


/*
 * RoleSpecName returns a role specification as the node should read it:
 * PUBLIC, or the quoted name of the role it means on the coordinator.
 */
static char *
RoleSpecName(RoleSpec *role)
{
	if (role->roletype == ROLESPEC_PUBLIC)
		return "PUBLIC";

	return pstrdup(quote_identifier(GetUserNameFromId(get_rolespec_oid(role, false),
													  false)));
}


/*
 * ProcessCopy handles COPY of a distributed table: COPY FROM streams the
 * rows into the shards (copy_from.c); COPY TO runs as COPY (SELECT columns
 * FROM table) TO, built as a raw parse tree so that it is analyzed and
 * planned like any query.  It returns false for a COPY that does not
 * involve a distributed table.
 */
static bool
ProcessCopy(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
			ProcessUtilityContext context, ParamListInfo params,
			QueryEnvironment *queryEnv, DestReceiver *dest,
			QueryCompletion *qc)
{
	CopyStmt   *stmt = (CopyStmt *) pstmt->utilityStmt;
	CopyStmt   *queryCopy;
	SelectStmt *select;
	PlannedStmt *queryPstmt;
	Oid			relid;
	ListCell   *cell;

	if (stmt->relation == NULL)
		return false;

	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || !IsDistributedTable(relid))
		return false;

	if (stmt->is_from)
	{
		ExecuteDistributedCopyFrom(readOnlyTree ? copyObject(stmt) : stmt,
								   queryString, queryEnv, qc);
		return true;
	}

	select = makeNode(SelectStmt);
	if (stmt->attlist == NIL)
	{
		ColumnRef  *star = makeNode(ColumnRef);
		ResTarget  *target = makeNode(ResTarget);

		star->fields = list_make1(makeNode(A_Star));
		star->location = -1;
		target->val = (Node *) star;
		target->location = -1;
		select->targetList = list_make1(target);
	}
	else
	{
		List	   *attnums = NIL;

		foreach(cell, stmt->attlist)
		{
			char	   *columnName = strVal(lfirst(cell));
			AttrNumber	attnum = get_attnum(relid, columnName);
			ColumnRef  *column;
			ResTarget  *target;

			/* the checks of COPY's own column list, with its messages */
			if (attnum <= InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of relation \"%s\" does not exist",
								columnName, get_rel_name(relid))));
			if (list_member_int(attnums, attnum))
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" specified more than once",
								columnName)));
			attnums = lappend_int(attnums, attnum);

			column = makeNode(ColumnRef);
			target = makeNode(ResTarget);
			column->fields = list_make1(makeString(pstrdup(columnName)));
			column->location = -1;
			target->val = (Node *) column;
			target->location = -1;
			select->targetList = lappend(select->targetList, target);
		}
	}
	select->fromClause = list_make1(copyObject(stmt->relation));

	queryCopy = makeNode(CopyStmt);
	queryCopy->relation = NULL;
	queryCopy->query = (Node *) select;
	queryCopy->attlist = NIL;
	queryCopy->is_from = false;
	queryCopy->is_program = stmt->is_program;
	queryCopy->filename = stmt->filename;
	queryCopy->options = copyObject(stmt->options);
	queryCopy->whereClause = NULL;

	queryPstmt = makeNode(PlannedStmt);
	memcpy(queryPstmt, pstmt, sizeof(PlannedStmt));
	queryPstmt->utilityStmt = (Node *) queryCopy;

	CallPreviousProcessUtility(queryPstmt, queryString, false, context,
							   params, queryEnv, dest, qc);

	return true;
}
