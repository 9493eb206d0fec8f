/*-------------------------------------------------------------------------
 *
 * shard_ddl.c
 *	  Builds the SQL that creates one shard of a distributed table on a
 *	  worker, from the coordinator table's catalog entries, and runs
 *	  per-node command batches inside the remote transactions.
 *
 * The commands are built from the catalogs, never by editing SQL text:
 * columns (type, collation, NOT NULL, defaults, stored generated columns),
 * CHECK / PRIMARY KEY / UNIQUE / EXCLUDE constraints (through
 * pg_get_constraintdef, which prints a definition without the table name)
 * and the other indexes, rebuilt from pg_index.  Every object gets a shard
 * specific name (name_shardid).  Expressions are deparsed with search_path
 * set to pg_catalog, so that every name outside pg_catalog comes out
 * schema-qualified and means the same on the worker.
 *
 * Privileges come separately (ShardAclCommandList), run after the rows
 * are moved into the shards: the table's ACL and its columns' ACLs are
 * replayed as GRANT statements, item by item, in their order, so that the
 * shard's relacl ends up equal to the coordinator table's.  A privilege
 * granted by another role than the owner (through a grant option) is
 * granted under SET ROLE to that role, so the grantor is kept too.
 *
 * A schema other than public is created on the worker if missing; when
 * distdb creates it, it also grants the coordinator schema's privileges
 * there and, when run by a superuser, gives it the coordinator schema's
 * owner (see ShardSchemaCreateCommand).
 *
 * Left out on purpose: defaults that call nextval() and identity
 * properties (sequences live on the coordinator, which always sends the
 * values), foreign keys and triggers (refused by create_distributed_table),
 * tablespaces, storage and statistics settings, comments, and default
 * privileges (ALTER DEFAULT PRIVILEGES is not carried to the workers).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "distdb/connection_cache.h"
#include "distdb/metadata_cache.h"
#include "distdb/remote_command.h"
#include "distdb/remote_transaction.h"
#include "distdb/shard_ddl.h"

PG_FUNCTION_INFO_V1(distdb_shard_ddl_commands);

/* a privilege bit and its keyword in GRANT */
typedef struct PrivilegeName
{
	AclMode		mode;
	const char *name;
} PrivilegeName;

/* the privileges of tables and columns, in the order GRANT lists them */
static const PrivilegeName TablePrivilegeNames[] = {
	{ACL_SELECT, "SELECT"},
	{ACL_INSERT, "INSERT"},
	{ACL_UPDATE, "UPDATE"},
	{ACL_DELETE, "DELETE"},
	{ACL_TRUNCATE, "TRUNCATE"},
	{ACL_REFERENCES, "REFERENCES"},
	{ACL_TRIGGER, "TRIGGER"}
};

/* the privileges of schemas */
static const PrivilegeName SchemaPrivilegeNames[] = {
	{ACL_USAGE, "USAGE"},
	{ACL_CREATE, "CREATE"}
};


static char *CreateShardTableCommand(Relation rel, const char *shardName,
									 int64 shardId, List *deparseContext);
static void AppendColumnDefinition(StringInfo buf, Relation rel,
								   Form_pg_attribute attr,
								   List *deparseContext, bool withDefault);
static Node *ColumnDefaultExpression(Relation rel, AttrNumber attnum);
static bool ContainsNextvalWalker(Node *node, void *context);
static void AppendTableConstraints(StringInfo buf, Relation rel,
								   int64 shardId);
static List *ShardIndexCommands(Relation rel, const char *shardName,
								int64 shardId, List *deparseContext);
static char *ShardIndexCommand(Relation rel, Oid indexOid,
							   const char *shardName, int64 shardId,
							   List *deparseContext, bool concurrently);
static Node *IndexCatalogExpression(Relation indexRel, AttrNumber attnum);
static void AppendIndexKey(StringInfo buf, Relation rel, Relation indexRel,
						   oidvector *indclass, int keyno, Node *expression,
						   List *deparseContext);
static void AppendReloptions(StringInfo buf, Oid relid);
static List *AclItemGrantCommands(List *commands, AclItem *item,
								  Oid ownerId, const char *target,
								  const char *columnName);
static char *PrivilegeList(AclMode privileges, const char *columnName,
						   const PrivilegeName *names, int nameCount);
static char *AclRoleName(Oid roleId);


/*
 * ShardCreateCommandList returns the commands (char *) that create shard
 * shardId of relid on a worker: its schema when that is not public, the
 * table with its constraints, its other indexes and its owner.
 */
List *
ShardCreateCommandList(Oid relid, int64 shardId)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	char	   *shardName = QualifiedShardName(relid, shardId);
	char	   *schemaName = get_namespace_name(RelationGetNamespace(rel));
	char	   *ownerName = GetUserNameFromId(rel->rd_rel->relowner, false);
	List	   *deparseContext;
	List	   *commands = NIL;
	int			gucNestLevel;

	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel))));

	gucNestLevel = BeginShardDeparse();

	deparseContext = deparse_context_for(RelationGetRelationName(rel), relid);

	/*
	 * The public schema exists in every database; creating it "if not
	 * exists" would still need CREATE on the worker's database.
	 */
	if (strcmp(schemaName, "public") != 0)
		commands = lappend(commands,
						   ShardSchemaCreateCommand(RelationGetNamespace(rel)));

	commands = lappend(commands,
					   CreateShardTableCommand(rel, shardName, shardId,
											   deparseContext));
	commands = list_concat(commands,
						   ShardIndexCommands(rel, shardName, shardId,
											  deparseContext));
	commands = lappend(commands,
					   psprintf("ALTER TABLE %s OWNER TO %s", shardName,
								quote_identifier(ownerName)));

	EndShardDeparse(gucNestLevel);

	relation_close(rel, NoLock);

	return commands;
}


/*
 * BeginShardDeparse sets search_path to pg_catalog until EndShardDeparse,
 * so that expressions deparsed for a shard name every object outside
 * pg_catalog with its schema, and mean the same on a worker.  It returns
 * the GUC nest level to pass to EndShardDeparse.
 */
int
BeginShardDeparse(void)
{
	int			gucNestLevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return gucNestLevel;
}


/*
 * EndShardDeparse restores the search_path BeginShardDeparse changed.
 */
void
EndShardDeparse(int gucNestLevel)
{
	AtEOXact_GUC(true, gucNestLevel);
}


/*
 * ShardIndexCreateCommand returns CREATE INDEX [CONCURRENTLY] for index
 * indexOid of a table on shard shardId of that table, built from the
 * catalogs like the indexes of a new shard, or NULL when the index is not
 * valid.
 */
char *
ShardIndexCreateCommand(Oid indexOid, int64 shardId, bool concurrently)
{
	Oid			relid = IndexGetRelation(indexOid, false);
	Relation	rel = relation_open(relid, AccessShareLock);
	char	   *shardName = QualifiedShardName(relid, shardId);
	int			gucNestLevel = BeginShardDeparse();
	List	   *deparseContext;
	char	   *command;

	deparseContext = deparse_context_for(RelationGetRelationName(rel), relid);
	command = ShardIndexCommand(rel, indexOid, shardName, shardId,
								deparseContext, concurrently);

	EndShardDeparse(gucNestLevel);
	relation_close(rel, NoLock);

	return command;
}


/*
 * ShardColumnDefinition returns the definition of column attnum of a
 * table as a shard has it ("name type [COLLATE c] [DEFAULT e] [NOT
 * NULL]", the default only withDefault), for ALTER TABLE ... ADD COLUMN
 * on the shards.
 */
char *
ShardColumnDefinition(Oid relid, AttrNumber attnum, bool withDefault)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	int			gucNestLevel = BeginShardDeparse();
	List	   *deparseContext;
	StringInfoData buf;

	deparseContext = deparse_context_for(RelationGetRelationName(rel), relid);
	initStringInfo(&buf);
	AppendColumnDefinition(&buf, rel,
						   TupleDescAttr(RelationGetDescr(rel), attnum - 1),
						   deparseContext, withDefault);

	EndShardDeparse(gucNestLevel);
	relation_close(rel, NoLock);

	return buf.data;
}


/*
 * ShardColumnDefault returns the default expression of column attnum as
 * the shards have it, deparsed, or NULL when the shards have none: the
 * column has no default, or its default takes values from a sequence
 * (sequences live on the coordinator, which always sends those values).
 */
char *
ShardColumnDefault(Oid relid, AttrNumber attnum)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	Node	   *defaultExpr = ColumnDefaultExpression(rel, attnum);
	char	   *result = NULL;

	if (defaultExpr != NULL && !ContainsNextvalWalker(defaultExpr, NULL))
	{
		int			gucNestLevel = BeginShardDeparse();
		List	   *deparseContext;

		deparseContext = deparse_context_for(RelationGetRelationName(rel),
											 relid);
		result = deparse_expression(defaultExpr, deparseContext, false,
									false);
		EndShardDeparse(gucNestLevel);
	}

	relation_close(rel, NoLock);

	return result;
}


/*
 * ShardCreateCommandString returns the commands of ShardCreateCommandList
 * as one string, each ended by a semicolon.
 */
char *
ShardCreateCommandString(Oid relid, int64 shardId)
{
	List	   *commands = ShardCreateCommandList(relid, shardId);
	StringInfoData buf;
	ListCell   *cell;

	initStringInfo(&buf);
	foreach(cell, commands)
		appendStringInfo(&buf, "%s;\n", (char *) lfirst(cell));

	return buf.data;
}


/*
 * ShardObjectName returns name with "_<shardId>" appended.  When that does
 * not fit in NAMEDATALEN - 1 bytes, the name is clipped at a character
 * boundary and a hash of the whole name is added, so that two long names
 * with the same beginning still give different shard object names.  The
 * same name and shard id always give the same result.
 */
char *
ShardObjectName(const char *name, int64 shardId)
{
	char		suffix[32];
	int			suffixLength;
	int			nameLength = strlen(name);
	int			clippedLength;
	uint32		nameHash;

	suffixLength = snprintf(suffix, sizeof(suffix), "_" INT64_FORMAT, shardId);
	if (nameLength + suffixLength <= NAMEDATALEN - 1)
		return psprintf("%s%s", name, suffix);

	/* room for the clipped name, "_" and 8 hex digits of the hash */
	nameHash = hash_bytes((const unsigned char *) name, nameLength);
	clippedLength = pg_mbcliplen(name, nameLength,
								 NAMEDATALEN - 1 - suffixLength - 9);

	return psprintf("%.*s_%08x%s", clippedLength, name, nameHash, suffix);
}


/*
 * CreateShardTableCommand builds CREATE TABLE for the shard: the columns,
 * the table constraints and the table's storage parameters.
 */
static char *
CreateShardTableCommand(Relation rel, const char *shardName, int64 shardId,
						List *deparseContext)
{
	TupleDesc	tupleDesc = RelationGetDescr(rel);
	StringInfoData buf;
	bool		firstColumn = true;
	int			attrIndex;

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE %sTABLE %s (",
					 rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED ?
					 "UNLOGGED " : "",
					 shardName);

	for (attrIndex = 0; attrIndex < tupleDesc->natts; attrIndex++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, attrIndex);

		if (attr->attisdropped)
			continue;

		if (!firstColumn)
			appendStringInfoString(&buf, ", ");
		firstColumn = false;

		AppendColumnDefinition(&buf, rel, attr, deparseContext, true);
	}

	AppendTableConstraints(&buf, rel, shardId);
	appendStringInfoChar(&buf, ')');

	AppendReloptions(&buf, RelationGetRelid(rel));

	return buf.data;
}


/*
 * AppendColumnDefinition appends one column: name, type, collation when it
 * is not the type's, default or generation expression, and NOT NULL.
 */
static void
AppendColumnDefinition(StringInfo buf, Relation rel, Form_pg_attribute attr,
					   List *deparseContext, bool withDefault)
{
	Node	   *defaultExpr = NULL;

	appendStringInfo(buf, "%s %s",
					 quote_identifier(NameStr(attr->attname)),
					 format_type_with_typemod(attr->atttypid, attr->atttypmod));

	if (OidIsValid(attr->attcollation) &&
		attr->attcollation != get_typcollation(attr->atttypid))
		appendStringInfo(buf, " COLLATE %s",
						 generate_collation_name(attr->attcollation));

	if (withDefault)
		defaultExpr = ColumnDefaultExpression(rel, attr->attnum);
	if (defaultExpr != NULL)
	{
		char	   *exprText = deparse_expression(defaultExpr, deparseContext,
												  false, false);

		if (attr->attgenerated == ATTRIBUTE_GENERATED_STORED)
			appendStringInfo(buf, " GENERATED ALWAYS AS (%s) STORED", exprText);
		else if (!ContainsNextvalWalker(defaultExpr, NULL))
			appendStringInfo(buf, " DEFAULT %s", exprText);
	}

	if (attr->attnotnull)
		appendStringInfoString(buf, " NOT NULL");
}


/*
 * ColumnDefaultExpression returns the default (or generation) expression
 * of column attnum from pg_attrdef, or NULL when it has none.
 */
static Node *
ColumnDefaultExpression(Relation rel, AttrNumber attnum)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	int			defaultIndex;

	if (constr == NULL)
		return NULL;

	for (defaultIndex = 0; defaultIndex < constr->num_defval; defaultIndex++)
	{
		AttrDefault *attrDefault = &constr->defval[defaultIndex];

		if (attrDefault->adnum == attnum)
			return stringToNode(attrDefault->adbin);
	}

	return NULL;
}


/*
 * ContainsNextvalWalker returns whether an expression calls nextval() (or
 * takes a value from a sequence in another way).
 */
static bool
ContainsNextvalWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;

	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->funcid == F_NEXTVAL)
		return true;

	if (IsA(node, NextValueExpr))
		return true;

	return expression_tree_walker(node, ContainsNextvalWalker, context);
}


/*
 * AppendTableConstraints appends the table's CHECK, PRIMARY KEY, UNIQUE
 * and EXCLUDE constraints, in the order of their names, each under a shard
 * specific name.
 */
static void
AppendTableConstraints(StringInfo buf, Relation rel, int64 shardId)
{
	Relation	constraintRel;
	ScanKeyData scanKey;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *constraintOids = NIL;
	List	   *constraintNames = NIL;
	ListCell   *oidCell;
	ListCell   *nameCell;

	constraintRel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&scanKey, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationGetRelid(rel)));
	scan = systable_beginscan(constraintRel, ConstraintRelidTypidNameIndexId,
							  true, NULL, 1, &scanKey);

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint constraint = (Form_pg_constraint) GETSTRUCT(tuple);

		switch (constraint->contype)
		{
			case CONSTRAINT_CHECK:
			case CONSTRAINT_PRIMARY:
			case CONSTRAINT_UNIQUE:
			case CONSTRAINT_EXCLUSION:
				constraintOids = lappend_oid(constraintOids, constraint->oid);
				constraintNames = lappend(constraintNames,
										  pstrdup(NameStr(constraint->conname)));
				break;
			default:
				break;
		}
	}

	systable_endscan(scan);
	table_close(constraintRel, AccessShareLock);

	forboth(oidCell, constraintOids, nameCell, constraintNames)
	{
		Datum		definition;

		definition = DirectFunctionCall1(pg_get_constraintdef,
										 ObjectIdGetDatum(lfirst_oid(oidCell)));
		appendStringInfo(buf, ", CONSTRAINT %s %s",
						 quote_identifier(ShardObjectName(lfirst(nameCell),
														  shardId)),
						 TextDatumGetCString(definition));
	}
}


/*
 * ShardIndexCommands returns CREATE INDEX commands for the table's valid
 * indexes that do not back a constraint (those come with the constraint).
 */
static List *
ShardIndexCommands(Relation rel, const char *shardName, int64 shardId,
				   List *deparseContext)
{
	List	   *indexOids = RelationGetIndexList(rel);
	List	   *commands = NIL;
	ListCell   *cell;

	foreach(cell, indexOids)
	{
		Oid			indexOid = lfirst_oid(cell);
		char	   *command;

		if (OidIsValid(get_index_constraint(indexOid)))
			continue;

		command = ShardIndexCommand(rel, indexOid, shardName, shardId,
									deparseContext, false);
		if (command != NULL)
			commands = lappend(commands, command);
	}

	return commands;
}


/*
 * ShardIndexCommand builds CREATE INDEX for one index of the table, or
 * returns NULL for an index that is not valid (a failed CREATE INDEX
 * CONCURRENTLY): UNIQUE, access method, key columns and expressions with
 * their collations, operator classes and orderings, INCLUDE columns, NULLS
 * NOT DISTINCT, storage parameters and the predicate.
 */
static char *
ShardIndexCommand(Relation rel, Oid indexOid, const char *shardName,
				  int64 shardId, List *deparseContext, bool concurrently)
{
	Relation	indexRel = index_open(indexOid, AccessShareLock);
	Form_pg_index index = indexRel->rd_index;
	List	   *expressions;
	ListCell   *expressionCell;
	Node	   *predicate;
	Datum		indclassDatum;
	oidvector  *indclass;
	bool		isNull;
	StringInfoData buf;
	int			keyno;

	if (!index->indisvalid)
	{
		index_close(indexRel, AccessShareLock);
		return NULL;
	}

	indclassDatum = SysCacheGetAttr(INDEXRELID, indexRel->rd_indextuple,
									Anum_pg_index_indclass, &isNull);
	Assert(!isNull);
	indclass = (oidvector *) DatumGetPointer(indclassDatum);

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE %sINDEX %s%s ON %s USING %s (",
					 index->indisunique ? "UNIQUE " : "",
					 concurrently ? "CONCURRENTLY " : "",
					 quote_identifier(ShardObjectName(RelationGetRelationName(indexRel),
													  shardId)),
					 shardName,
					 quote_identifier(get_am_name(indexRel->rd_rel->relam)));

	/*
	 * The expressions as stored, not those of the relcache, which are
	 * constant-folded (with SQL functions inlined).
	 */
	expressions = (List *) IndexCatalogExpression(indexRel,
												  Anum_pg_index_indexprs);
	expressionCell = list_head(expressions);

	for (keyno = 0; keyno < index->indnkeyatts; keyno++)
	{
		Node	   *expression = NULL;

		if (index->indkey.values[keyno] == 0)
		{
			if (expressionCell == NULL)
				elog(ERROR, "too few entries in indexprs list");
			expression = (Node *) lfirst(expressionCell);
			expressionCell = lnext(expressions, expressionCell);
		}

		if (keyno > 0)
			appendStringInfoString(&buf, ", ");
		AppendIndexKey(&buf, rel, indexRel, indclass, keyno, expression,
					   deparseContext);
	}
	appendStringInfoChar(&buf, ')');

	if (index->indnatts > index->indnkeyatts)
	{
		appendStringInfoString(&buf, " INCLUDE (");
		for (keyno = index->indnkeyatts; keyno < index->indnatts; keyno++)
		{
			AttrNumber	attnum = index->indkey.values[keyno];

			if (keyno > index->indnkeyatts)
				appendStringInfoString(&buf, ", ");
			appendStringInfoString(&buf,
								   quote_identifier(get_attname(RelationGetRelid(rel),
																attnum, false)));
		}
		appendStringInfoChar(&buf, ')');
	}

	if (index->indnullsnotdistinct)
		appendStringInfoString(&buf, " NULLS NOT DISTINCT");

	AppendReloptions(&buf, indexOid);

	predicate = IndexCatalogExpression(indexRel, Anum_pg_index_indpred);
	if (predicate != NULL)
		appendStringInfo(&buf, " WHERE %s",
						 deparse_expression(predicate, deparseContext,
											false, false));

	index_close(indexRel, AccessShareLock);

	return buf.data;
}


/*
 * IndexCatalogExpression returns the node tree stored in pg_index column
 * attnum (indexprs or indpred) of an index, or NULL if the column is null.
 */
static Node *
IndexCatalogExpression(Relation indexRel, AttrNumber attnum)
{
	Datum		datum;
	bool		isNull;
	char	   *nodeString;
	Node	   *node;

	datum = SysCacheGetAttr(INDEXRELID, indexRel->rd_indextuple, attnum,
							&isNull);
	if (isNull)
		return NULL;

	nodeString = TextDatumGetCString(datum);
	node = (Node *) stringToNode(nodeString);
	pfree(nodeString);

	return node;
}


/*
 * AppendIndexKey appends key column keyno of an index: the column name or
 * the parenthesized expression, then COLLATE and the operator class when
 * they are not the defaults, then the ordering options for ordered access
 * methods.
 */
static void
AppendIndexKey(StringInfo buf, Relation rel, Relation indexRel,
			   oidvector *indclass, int keyno, Node *expression,
			   List *deparseContext)
{
	Oid			keyType;
	Oid			keyCollation;
	Oid			indexCollation = indexRel->rd_indcollation[keyno];
	Oid			opclass = indclass->values[keyno];

	if (expression == NULL)
	{
		AttrNumber	attnum = indexRel->rd_index->indkey.values[keyno];
		Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel),
											   attnum - 1);

		appendStringInfoString(buf, quote_identifier(NameStr(attr->attname)));
		keyType = attr->atttypid;
		keyCollation = attr->attcollation;
	}
	else
	{
		appendStringInfo(buf, "(%s)",
						 deparse_expression(expression, deparseContext,
											false, false));
		keyType = exprType(expression);
		keyCollation = exprCollation(expression);
	}

	if (OidIsValid(indexCollation) && indexCollation != keyCollation)
		appendStringInfo(buf, " COLLATE %s",
						 generate_collation_name(indexCollation));

	if (opclass != GetDefaultOpClass(keyType, indexRel->rd_rel->relam))
		appendStringInfo(buf, " %s", generate_opclass_name(opclass));

	if (indexRel->rd_indam->amcanorder)
	{
		int16		option = indexRel->rd_indoption[keyno];

		if (option & INDOPTION_DESC)
		{
			appendStringInfoString(buf, " DESC");
			if (!(option & INDOPTION_NULLS_FIRST))
				appendStringInfoString(buf, " NULLS LAST");
		}
		else if (option & INDOPTION_NULLS_FIRST)
			appendStringInfoString(buf, " NULLS FIRST");
	}
}


/*
 * AppendReloptions appends " WITH (name = 'value', ...)" for the storage
 * parameters of a table or index, if it has any.
 */
static void
AppendReloptions(StringInfo buf, Oid relid)
{
	HeapTuple	tuple;
	Datum		reloptions;
	bool		isNull;
	Datum	   *options;
	int			optionCount;
	int			optionIndex;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);

	reloptions = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_reloptions,
								 &isNull);
	if (isNull)
	{
		ReleaseSysCache(tuple);
		return;
	}

	deconstruct_array(DatumGetArrayTypeP(reloptions), TEXTOID, -1, false,
					  TYPALIGN_INT, &options, NULL, &optionCount);

	appendStringInfoString(buf, " WITH (");
	for (optionIndex = 0; optionIndex < optionCount; optionIndex++)
	{
		char	   *option = TextDatumGetCString(options[optionIndex]);
		char	   *separator = strchr(option, '=');
		char	   *value = "";

		if (separator != NULL)
		{
			*separator = '\0';
			value = separator + 1;
		}

		appendStringInfo(buf, "%s%s = %s", optionIndex > 0 ? ", " : "",
						 quote_identifier(option), quote_literal_cstr(value));
	}
	appendStringInfoChar(buf, ')');

	ReleaseSysCache(tuple);
}


/*
 * ShardSchemaCreateCommand returns the command that creates a schema
 * on a worker when it is missing.  When the coordinator's schema has
 * privileges for other roles than the current user, or a superuser
 * distributes a table in a schema owned by another role, a schema created
 * by distdb also gets those privileges and that owner: a DO block creates
 * the schema only if it does not exist, so that nothing changes on a
 * schema that was already there.  The grants run as the worker schema's
 * creator, so their grantor is its owner; the final ALTER SCHEMA ... OWNER
 * makes that the coordinator schema's owner, as on the coordinator.
 * Without superuser rights the current user stays the owner of a schema
 * it creates on a worker.
 */
char *
ShardSchemaCreateCommand(Oid namespaceId)
{
	HeapTuple	tuple;
	Form_pg_namespace namespaceForm;
	char	   *quotedName;
	Datum		aclDatum;
	bool		isNull;
	Oid			currentUserId = GetUserId();
	bool		changeOwner;
	List	   *setupCommands = NIL;
	StringInfoData body;
	ListCell   *cell;

	tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(namespaceId));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for schema %u", namespaceId);
	namespaceForm = (Form_pg_namespace) GETSTRUCT(tuple);
	quotedName = pstrdup(quote_identifier(NameStr(namespaceForm->nspname)));

	aclDatum = SysCacheGetAttr(NAMESPACEOID, tuple, Anum_pg_namespace_nspacl,
							   &isNull);
	if (!isNull)
	{
		Acl		   *acl = DatumGetAclPCopy(aclDatum);
		AclItem    *items = ACL_DAT(acl);
		int			itemIndex;

		for (itemIndex = 0; itemIndex < ACL_NUM(acl); itemIndex++)
		{
			AclItem    *item = &items[itemIndex];
			AclMode		privileges = ACLITEM_GET_PRIVS(*item);
			AclMode		grantOptions = ACLITEM_GET_GOPTIONS(*item);
			const char *grantee;

			/* the creator owns the worker's schema */
			if (item->ai_grantee == currentUserId)
				continue;

			grantee = AclRoleName(item->ai_grantee);
			if ((privileges & ~grantOptions) != 0)
				setupCommands = lappend(setupCommands,
										psprintf("GRANT %s ON SCHEMA %s TO %s",
												 PrivilegeList(privileges & ~grantOptions,
															   NULL, SchemaPrivilegeNames,
															   lengthof(SchemaPrivilegeNames)),
												 quotedName, grantee));
			if (grantOptions != 0)
				setupCommands = lappend(setupCommands,
										psprintf("GRANT %s ON SCHEMA %s TO %s WITH GRANT OPTION",
												 PrivilegeList(grantOptions, NULL,
															   SchemaPrivilegeNames,
															   lengthof(SchemaPrivilegeNames)),
												 quotedName, grantee));
		}
	}

	changeOwner = namespaceForm->nspowner != currentUserId && superuser();
	if (changeOwner)
		setupCommands = lappend(setupCommands,
								psprintf("ALTER SCHEMA %s OWNER TO %s", quotedName,
										 AclRoleName(namespaceForm->nspowner)));

	if (setupCommands == NIL)
	{
		ReleaseSysCache(tuple);
		return psprintf("CREATE SCHEMA IF NOT EXISTS %s", quotedName);
	}

	initStringInfo(&body);
	appendStringInfo(&body,
					 "BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = %s) THEN CREATE SCHEMA %s;",
					 quote_literal_cstr(NameStr(namespaceForm->nspname)),
					 quotedName);
	foreach(cell, setupCommands)
		appendStringInfo(&body, " %s;", (char *) lfirst(cell));
	appendStringInfoString(&body, " END IF; END");

	ReleaseSysCache(tuple);

	return psprintf("DO %s", quote_literal_cstr(body.data));
}


/*
 * ShardAclCommandList returns the commands (char *) that give shard
 * shardId of relid the table's privileges: nothing when the table has its
 * default privileges; otherwise the owner's default privileges are revoked
 * and every item of the table's ACL is granted again, in order, then the
 * items of the columns' ACLs.  The result is the same ACL as on the
 * coordinator, grantors included.
 *
 * They must run as the table's owner, a member of it or a superuser (as
 * create_distributed_table does); a privilege granted by another role is
 * granted under SET LOCAL ROLE to that role, which needs the current user
 * to be a member of the grantor, or a superuser.
 */
List *
ShardAclCommandList(Oid relid, int64 shardId)
{
	char	   *shardName = QualifiedShardName(relid, shardId);
	HeapTuple	tuple;
	Oid			ownerId;
	Datum		aclDatum;
	bool		isNull;
	List	   *commands = NIL;
	AttrNumber	attnum;
	AttrNumber	attributeCount;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	ownerId = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	attributeCount = ((Form_pg_class) GETSTRUCT(tuple))->relnatts;

	aclDatum = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relacl, &isNull);
	if (!isNull)
	{
		Acl		   *acl = DatumGetAclPCopy(aclDatum);
		int			itemIndex;

		commands = lappend(commands,
						   psprintf("REVOKE ALL ON TABLE %s FROM %s",
									shardName, AclRoleName(ownerId)));
		for (itemIndex = 0; itemIndex < ACL_NUM(acl); itemIndex++)
			commands = AclItemGrantCommands(commands, &ACL_DAT(acl)[itemIndex],
											ownerId, shardName, NULL);
	}
	ReleaseSysCache(tuple);

	for (attnum = 1; attnum <= attributeCount; attnum++)
	{
		Form_pg_attribute attr;
		char	   *columnName;
		Acl		   *acl;
		int			itemIndex;

		tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
								Int16GetDatum(attnum));
		if (!HeapTupleIsValid(tuple))
			continue;

		attr = (Form_pg_attribute) GETSTRUCT(tuple);
		aclDatum = SysCacheGetAttr(ATTNUM, tuple, Anum_pg_attribute_attacl,
								   &isNull);
		if (attr->attisdropped || isNull)
		{
			ReleaseSysCache(tuple);
			continue;
		}

		columnName = pstrdup(NameStr(attr->attname));
		acl = DatumGetAclPCopy(aclDatum);
		ReleaseSysCache(tuple);

		for (itemIndex = 0; itemIndex < ACL_NUM(acl); itemIndex++)
			commands = AclItemGrantCommands(commands, &ACL_DAT(acl)[itemIndex],
											ownerId, shardName, columnName);
	}

	return commands;
}


/*
 * ShardAclCommandString returns the commands of ShardAclCommandList as one
 * string, each ended by a semicolon, or NULL when there are none.
 */
char *
ShardAclCommandString(Oid relid, int64 shardId)
{
	List	   *commands = ShardAclCommandList(relid, shardId);
	StringInfoData buf;
	ListCell   *cell;

	if (commands == NIL)
		return NULL;

	initStringInfo(&buf);
	foreach(cell, commands)
		appendStringInfo(&buf, "%s;\n", (char *) lfirst(cell));

	return buf.data;
}


/*
 * AclItemGrantCommands appends to commands the GRANTs that give one ACL
 * item's privileges on target (of one column when columnName is set):
 * the privileges without grant option, then those with it.  When the
 * item's grantor is not the owner, they run under SET LOCAL ROLE to the
 * grantor, which the current user must be able to use.
 */
static List *
AclItemGrantCommands(List *commands, AclItem *item, Oid ownerId,
					 const char *target, const char *columnName)
{
	AclMode		privileges = ACLITEM_GET_PRIVS(*item);
	AclMode		grantOptions = ACLITEM_GET_GOPTIONS(*item);
	char	   *grantee = AclRoleName(item->ai_grantee);
	bool		switchRole = item->ai_grantor != ownerId;

	if (privileges == 0)
		return commands;

	if (switchRole)
	{
		if (!is_member_of_role(GetUserId(), item->ai_grantor))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot give the shards privileges granted by role \"%s\"",
							GetUserNameFromId(item->ai_grantor, false)),
					 errdetail("Only a superuser or a member of the grantor can grant them on the shards."),
					 errhint("Distribute the table as a superuser, or revoke those privileges first.")));

		commands = lappend(commands,
						   psprintf("SET LOCAL ROLE %s",
									AclRoleName(item->ai_grantor)));
	}

	if ((privileges & ~grantOptions) != 0)
		commands = lappend(commands,
						   psprintf("GRANT %s ON TABLE %s TO %s",
									PrivilegeList(privileges & ~grantOptions,
												  columnName,
												  TablePrivilegeNames,
												  lengthof(TablePrivilegeNames)),
									target, grantee));
	if (grantOptions != 0)
		commands = lappend(commands,
						   psprintf("GRANT %s ON TABLE %s TO %s WITH GRANT OPTION",
									PrivilegeList(grantOptions, columnName,
												  TablePrivilegeNames,
												  lengthof(TablePrivilegeNames)),
									target, grantee));

	if (switchRole)
		commands = lappend(commands, pstrdup("RESET ROLE"));

	return commands;
}


/*
 * PrivilegeList returns the keywords of the privileges in a mask, comma
 * separated, each followed by "(column)" when columnName is set.
 */
static char *
PrivilegeList(AclMode privileges, const char *columnName,
			  const PrivilegeName *names, int nameCount)
{
	StringInfoData buf;
	int			nameIndex;

	initStringInfo(&buf);
	for (nameIndex = 0; nameIndex < nameCount; nameIndex++)
	{
		if ((privileges & names[nameIndex].mode) == 0)
			continue;

		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, names[nameIndex].name);
		if (columnName != NULL)
			appendStringInfo(&buf, " (%s)", quote_identifier(columnName));
	}

	return buf.data;
}


/*
 * AclRoleName returns a role of an ACL item as GRANT names it: PUBLIC or
 * the quoted role name.
 */
static char *
AclRoleName(Oid roleId)
{
	if (roleId == ACL_ID_PUBLIC)
		return pstrdup("PUBLIC");

	return pstrdup(quote_identifier(GetUserNameFromId(roleId, false)));
}


/*
 * ClaimNodeConnectionList claims one connection to each node of nodeIds
 * and waits until all of them are established, in parallel.  If the
 * transaction has a remote transaction on a node already, that connection
 * is used.
 */
List *
ClaimNodeConnectionList(List *nodeIds)
{
	List	   *connections = NIL;
	ListCell   *cell;

	foreach(cell, nodeIds)
	{
		List	   *nodeConnections = ClaimNodeConnections(lfirst_int(cell), 1);

		if (nodeConnections == NIL)
			elog(ERROR, "could not claim a connection to node %d",
				 lfirst_int(cell));

		connections = lappend(connections, linitial(nodeConnections));
	}

	FinishConnectionEstablishment(connections);

	return connections;
}


/*
 * StartNodeTransactions claims one connection to each node of nodeIds
 * (ClaimNodeConnectionList) and opens remote transactions on them, in
 * parallel.
 */
List *
StartNodeTransactions(List *nodeIds)
{
	List	   *connections = ClaimNodeConnectionList(nodeIds);

	BeginRemoteTransactions(connections);

	return connections;
}


/*
 * ReleaseNodeConnectionList releases the connections of a list for use by
 * later statements.
 */
void
ReleaseNodeConnectionList(List *connections)
{
	ListCell   *cell;

	foreach(cell, connections)
		ReleaseNodeConnection((NodeConnection *) lfirst(cell));
}


/*
 * distdb_shard_ddl_commands is a testing aid returning the commands that
 * create the first shard of a distributed table (shard index 0), or for a
 * table that is not distributed, the commands for a shard with id 0,
 * followed by those that give it the table's privileges.
 */
Datum
distdb_shard_ddl_commands(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DistTableCacheEntry *entry;
	int64		shardId = 0;
	List	   *commands;
	ListCell   *cell;

	entry = LookupDistTable(relid);
	if (entry != NULL && entry->isDistributed && entry->shardCount > 0)
		shardId = entry->shards[0].shardId;

	commands = ShardCreateCommandList(relid, shardId);
	commands = list_concat(commands, ShardAclCommandList(relid, shardId));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	foreach(cell, commands)
	{
		Datum		value = CStringGetTextDatum((char *) lfirst(cell));
		bool		isNull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value,
							 &isNull);
	}

	return (Datum) 0;
}
