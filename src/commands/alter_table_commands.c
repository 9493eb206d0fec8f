/*-------------------------------------------------------------------------
 *
 * alter_table_commands.c
 *	  ALTER TABLE, renames and SET SCHEMA of distributed tables.
 *
 * Each supported ALTER TABLE subcommand becomes a clause of one ALTER
 * TABLE per shard.  Clauses are built from the catalogs once the
 * coordinator ran the command, with the deparsers that create new shards
 * (shard_ddl.c), so a shard altered here and a shard created later are
 * alike:
 *
 *	- ADD COLUMN: the column as the catalogs now have it.  A non-volatile
 *	  default is evaluated once by PostgreSQL on the coordinator (the
 *	  "missing value" existing rows read); the shards fill their rows with
 *	  that same value as a literal and get the default expression after,
 *	  so that e.g. DEFAULT now() gives every row of every shard the
 *	  coordinator's value.  A volatile default is evaluated per row on the
 *	  shards, as PostgreSQL evaluates it per row.  Defaults from sequences
 *	  (serial, identity, nextval) are refused: existing rows would need
 *	  the coordinator's sequence.
 *	- ALTER COLUMN ... SET DEFAULT: defaults are evaluated on the
 *	  coordinator for INSERT and COPY, so the shards only need a
 *	  compatible definition: they get the same expression, except
 *	  nextval() defaults, which they never have (as for new shards).
 *	- ALTER COLUMN ... TYPE: the new type and collation from the catalogs;
 *	  USING is transformed against the table before the coordinator's
 *	  command runs (it refers to the old column types) and deparsed.
 *	- ADD CONSTRAINT (and constraints of ADD COLUMN): every constraint
 *	  whose name is new after the command, with pg_get_constraintdef;
 *	  unique, primary key and exclusion constraints must include the
 *	  distribution column; foreign keys are built per shard, referencing
 *	  the co-located shard of the referenced table (see
 *	  ForeignKeyShardClause).
 *	- DROP COLUMN, SET / DROP NOT NULL, DROP CONSTRAINT, VALIDATE
 *	  CONSTRAINT: the same clause with shard names.
 *
 * Dropping the distribution column or changing its type is refused, and
 * so is every other subcommand, with an error naming it.
 *
 * RENAME (table, column, constraint, index) and SET SCHEMA name the shard
 * objects as they are called before the command; shards are renamed to
 * the new table's shard names, and SET SCHEMA first creates the schema on
 * the nodes when it is missing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "commands/tablecmds.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "distdb/ddl_propagation.h"
#include "distdb/shard_ddl.h"

/*
 * One clause of the shards' ALTER TABLE: before, the shard name of
 * objectName (if set), between, the shard name of secondName (if set),
 * after; or, for a foreign key, built per shard from the constraint.
 */
typedef struct ShardClause
{
	char	   *before;
	char	   *objectName;
	char	   *between;
	char	   *secondName;
	char	   *after;
	Oid			foreignKeyOid;
} ShardClause;

/* what FinishAlterTable needs */
typedef struct AlterTableState
{
	Oid			relid;
	List	   *commands;		/* AlterTableCmd * */
	List	   *usingClauses;	/* per command: deparsed USING, or NULL */
	List	   *skipped;		/* per command: bool, ADD COLUMN IF NOT
								 * EXISTS of an existing column */
	List	   *oldConstraintNames; /* constraint names before, minus dropped */
	List	   *usingIndexOids; /* ADD CONSTRAINT ... USING INDEX: the
								 * indexes */
	List	   *usingIndexNames;	/* and their names before the command */
	List	   *clauses;		/* ShardClause *, built by FinishAlterTable */
} AlterTableState;

/* what FinishSetSchema needs */
typedef struct SetSchemaState
{
	Oid			relid;
	char	  **oldShardNames;	/* by shard index */
	int			shardCount;
} SetSchemaState;

/* a rename: the command text around the old and new shard names */
typedef struct RenameTarget
{
	const char *before;			/* "ALTER TABLE " */
	Oid			objectId;		/* index renamed, or InvalidOid */
	const char *between;		/* " RENAME CONSTRAINT ", ... */
	const char *oldName;		/* made shard specific, or NULL */
	const char *middle;			/* " TO " */
	const char *newName;		/* made shard specific */
	bool		newIsTable;		/* newName is a table name */
	const char *fixedTail;		/* for column renames: "old TO new" */
} RenameTarget;

static void PlanAlterTableCommand(AlterTableState *state,
								  DistTableCacheEntry *entry,
								  AlterTableCmd *cmd);
static void ErrorIfDistributionColumn(DistTableCacheEntry *entry,
									  const char *columnName,
									  const char *action);
static void ErrorIfSequenceDefault(Oid relid, ColumnDef *column);
static bool RawExpressionCallsNextval(Node *node, void *context);
static char *DeparseUsingExpression(Oid relid, Node *rawExpression);
static List *ConstraintOidsOfTable(Oid relid);
static void FinishAlterTable(DistributedDdl *ddl);
static void AddColumnClauses(AlterTableState *state, const char *columnName);
static char *MissingValueLiteral(Oid relid, AttrNumber attnum);
static void AddNewConstraintClauses(AlterTableState *state);
static void ErrorIfForeignKeyNotColocated(Oid constraintOid);
static void ErrorIfForeignKeyTargetNotAllowed(DistTableCacheEntry *entry,
											  Oid referencedRelid,
											  const char *name);
static void ErrorIfForeignKeysNotAllowed(DistTableCacheEntry *entry,
										 List *constraints);
static ShardClause *TextClause(char *text);
static ShardClause *NamedClause(char *before, const char *objectName,
								char *after);
static char *AlterTableShardBuilder(Oid relid, ShardInterval *shard,
									void *context);
static char *ForeignKeyShardClause(Oid constraintOid, ShardInterval *shard);
static char *ColumnNameList(Oid relid, Datum keyArray);
static ShardInterval *ReferencedShard(Oid referencedRelid,
									  ShardInterval *shard);
static const char *ForeignKeyActionName(char action);
static char *RenameShardBuilder(Oid relid, ShardInterval *shard,
								void *context);
static void FinishSetSchema(DistributedDdl *ddl);
static char *SetSchemaShardBuilder(Oid relid, ShardInterval *shard,
								   void *context);
static const char *AlterTableSubcommandName(AlterTableType subtype);


/*
 * PlanAlterTable plans ALTER TABLE on a distributed table.  ALTER TABLE
 * naming an index, ALTER INDEX and other forms are left to the utility
 * hook's refusals.
 */
DistributedDdl *
PlanAlterTable(AlterTableStmt *stmt)
{
	Oid			objectId;
	Oid			relid;
	DistTableCacheEntry *entry;
	AlterTableState *state;
	DistributedDdl *ddl;
	ListCell   *cell;

	if (stmt->objtype != OBJECT_TABLE)
		return NULL;

	relid = DistributedTableOfRangeVar(stmt->relation, &objectId);
	if (!OidIsValid(relid) || objectId != relid)
		return NULL;

	/* the lock the command takes, so the catalogs do not change meanwhile */
	LockRelationOid(relid, AlterTableGetLockLevel(stmt->cmds));

	entry = LookupDistTable(relid);
	state = palloc0(sizeof(AlterTableState));
	state->relid = relid;
	state->oldConstraintNames = NIL;
	foreach(cell, ConstraintOidsOfTable(relid))
		state->oldConstraintNames = lappend(state->oldConstraintNames,
											get_constraint_name(lfirst_oid(cell)));

	foreach(cell, stmt->cmds)
		PlanAlterTableCommand(state, entry, lfirst_node(AlterTableCmd, cell));

	ddl = NewDistributedDdl();
	ddl->finish = FinishAlterTable;
	ddl->state = state;

	return ddl;
}


/*
 * PlanAlterTableCommand checks one subcommand and records what its shard
 * clause needs from before the coordinator's command.
 */
static void
PlanAlterTableCommand(AlterTableState *state, DistTableCacheEntry *entry,
					  AlterTableCmd *cmd)
{
	char	   *usingClause = NULL;
	bool		skip = false;

	switch (cmd->subtype)
	{
		case AT_AddColumn:
			{
				ColumnDef  *column = castNode(ColumnDef, cmd->def);

				ErrorIfSequenceDefault(state->relid, column);
				ErrorIfForeignKeysNotAllowed(entry, column->constraints);
				skip = cmd->missing_ok &&
					get_attnum(state->relid, column->colname) != InvalidAttrNumber;
				break;
			}

		case AT_DropColumn:
			ErrorIfDistributionColumn(entry, cmd->name, "drop");
			break;

		case AT_AlterColumnType:
			{
				ColumnDef  *column = castNode(ColumnDef, cmd->def);

				ErrorIfDistributionColumn(entry, cmd->name, "change the type of");
				if (column->raw_default != NULL)
					usingClause = DeparseUsingExpression(state->relid,
														 column->raw_default);
				break;
			}

		case AT_AddConstraint:
			{
				Constraint *constraint = castNode(Constraint, cmd->def);

				ErrorIfForeignKeysNotAllowed(entry, list_make1(constraint));
				if (constraint->indexname != NULL)
				{
					Oid			indexOid = get_relname_relid(constraint->indexname,
															 get_rel_namespace(state->relid));

					state->usingIndexOids = lappend_oid(state->usingIndexOids,
														indexOid);
					state->usingIndexNames = lappend(state->usingIndexNames,
													 pstrdup(constraint->indexname));
				}
				break;
			}

		case AT_DropConstraint:
			{
				ListCell   *cell;

				/* a constraint dropped and added again is new */
				foreach(cell, state->oldConstraintNames)
				{
					if (strcmp(lfirst(cell), cmd->name) == 0)
					{
						state->oldConstraintNames =
							foreach_delete_current(state->oldConstraintNames, cell);
						break;
					}
				}
				break;
			}

		case AT_ColumnDefault:
		case AT_SetNotNull:
		case AT_DropNotNull:
		case AT_ValidateConstraint:
			break;

		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("ALTER TABLE ... %s on distributed tables is not supported yet",
							AlterTableSubcommandName(cmd->subtype)),
					 errdetail("Table \"%s\" is distributed.",
							   get_rel_name(state->relid))));
	}

	state->commands = lappend(state->commands, cmd);
	state->usingClauses = lappend(state->usingClauses, usingClause);
	state->skipped = lappend_int(state->skipped, skip);
}


/*
 * ErrorIfDistributionColumn refuses to drop the distribution column of a
 * hash-distributed table or to change its type: rows are placed by its
 * hash.
 */
static void
ErrorIfDistributionColumn(DistTableCacheEntry *entry, const char *columnName,
						  const char *action)
{
	if (entry->distMethod != DISTRIBUTE_BY_HASH ||
		get_attnum(entry->relid, columnName) != entry->distAttnum)
		return;

	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot %s the distribution column \"%s\" of table \"%s\"",
					action, columnName, get_rel_name(entry->relid)),
			 errdetail("The rows of a distributed table are placed in shards by the hash of this column.")));
}


/*
 * ErrorIfSequenceDefault refuses ADD COLUMN with a default that takes
 * values from a sequence: serial types, identity columns and nextval().
 * The rows already in the shards would need values from the coordinator's
 * sequence.
 */
static void
ErrorIfSequenceDefault(Oid relid, ColumnDef *column)
{
	bool		fromSequence = column->identity != '\0' ||
		RawExpressionCallsNextval(column->raw_default, NULL);
	ListCell   *cell;

	if (column->typeName != NULL && list_length(column->typeName->names) == 1 &&
		column->typeName->pct_type == false)
	{
		const char *typeName = strVal(linitial(column->typeName->names));

		if (strcmp(typeName, "smallserial") == 0 ||
			strcmp(typeName, "serial2") == 0 ||
			strcmp(typeName, "serial") == 0 ||
			strcmp(typeName, "serial4") == 0 ||
			strcmp(typeName, "bigserial") == 0 ||
			strcmp(typeName, "serial8") == 0)
			fromSequence = true;
	}

	foreach(cell, column->constraints)
	{
		Constraint *constraint = lfirst_node(Constraint, cell);

		if (constraint->contype == CONSTR_IDENTITY ||
			(constraint->contype == CONSTR_DEFAULT &&
			 RawExpressionCallsNextval(constraint->raw_expr, NULL)))
			fromSequence = true;
	}

	if (fromSequence)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot add column \"%s\" with a default from a sequence to distributed table \"%s\"",
						column->colname, get_rel_name(relid)),
				 errdetail("The rows already in the shards would need values from the coordinator's sequence."),
				 errhint("Add the column without a default, then set the default with ALTER TABLE ... ALTER COLUMN ... SET DEFAULT.")));
}


/*
 * RawExpressionCallsNextval tells whether a raw expression calls a
 * function named nextval.
 */
static bool
RawExpressionCallsNextval(Node *node, void *context)
{
	if (node == NULL)
		return false;

	if (IsA(node, FuncCall))
	{
		FuncCall   *call = (FuncCall *) node;

		if (strcmp(strVal(llast(call->funcname)), "nextval") == 0)
			return true;
	}

	return raw_expression_tree_walker(node, RawExpressionCallsNextval, context);
}


/*
 * DeparseUsingExpression transforms the USING expression of ALTER COLUMN
 * ... TYPE against the table as it is before the command, as PostgreSQL
 * does, and deparses it for the shards.
 */
static char *
DeparseUsingExpression(Oid relid, Node *rawExpression)
{
	Relation	rel = relation_open(relid, NoLock);
	ParseState *parseState = make_parsestate(NULL);
	ParseNamespaceItem *nsItem;
	Node	   *expression;
	int			gucNestLevel;
	char	   *result;

	nsItem = addRangeTableEntryForRelation(parseState, rel, AccessShareLock,
										   NULL, false, true);
	addNSItemToQuery(parseState, nsItem, false, true, true);
	expression = transformExpr(parseState, copyObject(rawExpression),
							   EXPR_KIND_ALTER_COL_TRANSFORM);

	gucNestLevel = BeginShardDeparse();
	result = deparse_expression(expression,
								deparse_context_for(RelationGetRelationName(rel),
													relid),
								false, false);
	EndShardDeparse(gucNestLevel);

	free_parsestate(parseState);
	relation_close(rel, NoLock);

	return result;
}


/*
 * ConstraintOidsOfTable returns the constraints of a table.
 */
static List *
ConstraintOidsOfTable(Oid relid)
{
	Relation	constraintRel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData scanKey;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *oids = NIL;

	ScanKeyInit(&scanKey, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(constraintRel, ConstraintRelidTypidNameIndexId,
							  true, NULL, 1, &scanKey);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		oids = lappend_oid(oids, ((Form_pg_constraint) GETSTRUCT(tuple))->oid);
	systable_endscan(scan);
	table_close(constraintRel, AccessShareLock);

	return oids;
}


/*
 * FinishAlterTable builds the clauses of the shards' ALTER TABLE from the
 * catalogs, now that the coordinator's command ran, and adds one command
 * per shard.
 */
static void
FinishAlterTable(DistributedDdl *ddl)
{
	AlterTableState *state = ddl->state;
	Oid			relid = state->relid;
	ListCell   *commandCell;
	ListCell   *usingCell;
	ListCell   *skipCell;

	forthree(commandCell, state->commands, usingCell, state->usingClauses,
			 skipCell, state->skipped)
	{
		AlterTableCmd *cmd = lfirst(commandCell);
		const char *column = cmd->name != NULL ? quote_identifier(cmd->name) : NULL;

		if (lfirst_int(skipCell))
			continue;

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				AddColumnClauses(state, castNode(ColumnDef, cmd->def)->colname);
				break;

			case AT_DropColumn:
				state->clauses = lappend(state->clauses,
										 TextClause(psprintf("DROP COLUMN %s%s%s",
															 cmd->missing_ok ? "IF EXISTS " : "",
															 column,
															 cmd->behavior == DROP_CASCADE ?
															 " CASCADE" : "")));
				break;

			case AT_AlterColumnType:
				{
					AttrNumber	attnum = get_attnum(relid, cmd->name);
					Oid			typeId;
					int32		typmod;
					Oid			collation;
					StringInfoData buf;

					get_atttypetypmodcoll(relid, attnum, &typeId, &typmod,
										  &collation);
					initStringInfo(&buf);
					appendStringInfo(&buf, "ALTER COLUMN %s TYPE %s", column,
									 format_type_with_typemod(typeId, typmod));
					if (OidIsValid(collation) &&
						collation != get_typcollation(typeId))
						appendStringInfo(&buf, " COLLATE %s",
										 generate_collation_name(collation));
					if (lfirst(usingCell) != NULL)
						appendStringInfo(&buf, " USING %s",
										 (char *) lfirst(usingCell));
					state->clauses = lappend(state->clauses,
											 TextClause(buf.data));
					break;
				}

			case AT_ColumnDefault:
				{
					char	   *defaultText;

					defaultText = ShardColumnDefault(relid,
													 get_attnum(relid, cmd->name));
					state->clauses = lappend(state->clauses,
											 TextClause(defaultText != NULL ?
														psprintf("ALTER COLUMN %s SET DEFAULT %s",
																 column, defaultText) :
														psprintf("ALTER COLUMN %s DROP DEFAULT",
																 column)));
					break;
				}

			case AT_SetNotNull:
				state->clauses = lappend(state->clauses,
										 TextClause(psprintf("ALTER COLUMN %s SET NOT NULL",
															 column)));
				break;

			case AT_DropNotNull:
				state->clauses = lappend(state->clauses,
										 TextClause(psprintf("ALTER COLUMN %s DROP NOT NULL",
															 column)));
				break;

			case AT_DropConstraint:
				state->clauses = lappend(state->clauses,
										 NamedClause(cmd->missing_ok ?
													 "DROP CONSTRAINT IF EXISTS " :
													 "DROP CONSTRAINT ",
													 cmd->name,
													 cmd->behavior == DROP_CASCADE ?
													 " CASCADE" : ""));
				break;

			case AT_ValidateConstraint:
				state->clauses = lappend(state->clauses,
										 NamedClause("VALIDATE CONSTRAINT ",
													 cmd->name, ""));
				break;

			default:
				/* AT_AddConstraint: with the new constraints below */
				break;
		}
	}

	AddNewConstraintClauses(state);

	if (state->clauses != NIL)
		AddShardCommands(ddl->batch, relid, AlterTableShardBuilder, state);
}


/*
 * AddColumnClauses adds the clauses for a column the command added.
 */
static void
AddColumnClauses(AlterTableState *state, const char *columnName)
{
	Oid			relid = state->relid;
	AttrNumber	attnum = get_attnum(relid, columnName);
	char	   *missingValue;
	char	   *defaultText;

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "column \"%s\" of relation %u does not exist", columnName,
			 relid);

	missingValue = MissingValueLiteral(relid, attnum);
	if (missingValue == NULL)
	{
		state->clauses = lappend(state->clauses,
								 TextClause(psprintf("ADD COLUMN %s",
													 ShardColumnDefinition(relid, attnum, true))));
		return;
	}

	/* existing rows get the coordinator's value, later rows the default */
	state->clauses = lappend(state->clauses,
							 TextClause(psprintf("ADD COLUMN %s DEFAULT %s",
												 ShardColumnDefinition(relid, attnum, false),
												 missingValue)));
	defaultText = ShardColumnDefault(relid, attnum);
	state->clauses = lappend(state->clauses,
							 TextClause(defaultText != NULL ?
										psprintf("ALTER COLUMN %s SET DEFAULT %s",
												 quote_identifier(columnName),
												 defaultText) :
										psprintf("ALTER COLUMN %s DROP DEFAULT",
												 quote_identifier(columnName))));
}


/*
 * MissingValueLiteral returns the value rows that existed before a column
 * was added read for it (pg_attribute.attmissingval, the added column's
 * default evaluated once by ADD COLUMN) as a literal of the column's
 * type, or NULL when the column has none.
 */
static char *
MissingValueLiteral(Oid relid, AttrNumber attnum)
{
	HeapTuple	tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
										Int16GetDatum(attnum));
	Form_pg_attribute attr;
	Datum		missing;
	bool		isNull;
	char	   *result = NULL;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u",
			 attnum, relid);
	attr = (Form_pg_attribute) GETSTRUCT(tuple);

	if (attr->atthasmissing)
	{
		missing = SysCacheGetAttr(ATTNUM, tuple, Anum_pg_attribute_attmissingval,
								  &isNull);
		if (!isNull)
		{
			ArrayType  *array = DatumGetArrayTypeP(missing);
			int			index = 1;
			bool		elementIsNull;
			Datum		value;

			value = array_get_element(PointerGetDatum(array), 1, &index,
									  -1, attr->attlen, attr->attbyval,
									  attr->attalign, &elementIsNull);
			if (elementIsNull)
				result = pstrdup("NULL");
			else
			{
				Oid			outputFunction;
				bool		isVarlena;

				getTypeOutputInfo(attr->atttypid, &outputFunction, &isVarlena);
				result = psprintf("%s::%s",
								  quote_literal_cstr(OidOutputFunctionCall(outputFunction,
																		   value)),
								  format_type_with_typemod(attr->atttypid,
														   attr->atttypmod));
			}
		}
	}

	ReleaseSysCache(tuple);

	return result;
}


/*
 * AddNewConstraintClauses adds ADD CONSTRAINT for every constraint whose
 * name did not exist before the command (ALTER COLUMN TYPE rebuilds
 * constraints under their old names; the shards rebuild theirs too).
 */
static void
AddNewConstraintClauses(AlterTableState *state)
{
	List	   *constraintOids = ConstraintOidsOfTable(state->relid);
	ListCell   *cell;
	int			gucNestLevel;

	foreach(cell, constraintOids)
	{
		Oid			constraintOid = lfirst_oid(cell);
		HeapTuple	tuple;
		Form_pg_constraint constraint;
		char	   *name;
		ListCell   *nameCell;
		bool		isNew = true;

		tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(constraintOid));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for constraint %u", constraintOid);
		constraint = (Form_pg_constraint) GETSTRUCT(tuple);
		name = pstrdup(NameStr(constraint->conname));

		foreach(nameCell, state->oldConstraintNames)
		{
			if (strcmp(lfirst(nameCell), name) == 0)
				isNew = false;
		}

		if (!isNew)
		{
			ReleaseSysCache(tuple);
			continue;
		}

		if (constraint->contype == CONSTRAINT_FOREIGN)
		{
			ShardClause *clause = palloc0(sizeof(ShardClause));

			ReleaseSysCache(tuple);
			ErrorIfForeignKeyNotColocated(constraintOid);
			clause->foreignKeyOid = constraintOid;
			state->clauses = lappend(state->clauses, clause);
			continue;
		}

		if (OidIsValid(constraint->conindid))
			ErrorIfUniqueWithoutDistributionColumn(constraint->conindid);

		/* ADD CONSTRAINT ... USING INDEX: the shard's index, by its old name */
		if (list_member_oid(state->usingIndexOids, constraint->conindid))
		{
			ShardClause *clause = palloc0(sizeof(ShardClause));
			ListCell   *oidCell;
			int			position = 0;

			foreach(oidCell, state->usingIndexOids)
			{
				if (lfirst_oid(oidCell) == constraint->conindid)
					position = foreach_current_index(oidCell);
			}

			clause->before = "ADD CONSTRAINT ";
			clause->objectName = name;
			clause->between = constraint->contype == CONSTRAINT_PRIMARY ?
				" PRIMARY KEY USING INDEX " : " UNIQUE USING INDEX ";
			clause->secondName = list_nth(state->usingIndexNames, position);
			clause->after = psprintf("%s%s",
									 constraint->condeferrable ? " DEFERRABLE" : "",
									 constraint->condeferred ? " INITIALLY DEFERRED" : "");
			state->clauses = lappend(state->clauses, clause);
			ReleaseSysCache(tuple);
			continue;
		}
		ReleaseSysCache(tuple);

		gucNestLevel = BeginShardDeparse();
		state->clauses = lappend(state->clauses,
								 NamedClause("ADD CONSTRAINT ", name,
											 psprintf(" %s",
													  TextDatumGetCString(DirectFunctionCall1(pg_get_constraintdef,
																							  ObjectIdGetDatum(constraintOid))))));
		EndShardDeparse(gucNestLevel);
	}
}


/*
 * ErrorIfForeignKeyNotColocated refuses a foreign key of a distributed
 * table that the shards could not enforce on their own: it must reference
 * a distributed table whose every referenced row is on the referencing
 * shard's node.  For a hash-distributed table referencing another, both
 * must be co-located and the key must pair the distribution columns; a
 * table with a single shard placed on every node of the referencing
 * shards (a reference table) may be referenced by any key.
 */
static void
ErrorIfForeignKeyNotColocated(Oid constraintOid)
{
	HeapTuple	tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(constraintOid));
	Form_pg_constraint constraint;
	Oid			relid;
	Oid			referencedRelid;
	char	   *name;
	DistTableCacheEntry *entry;
	DistTableCacheEntry *referenced;
	int			shardIndex;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for constraint %u", constraintOid);
	constraint = (Form_pg_constraint) GETSTRUCT(tuple);
	relid = constraint->conrelid;
	referencedRelid = constraint->confrelid;
	name = pstrdup(NameStr(constraint->conname));

	entry = LookupDistTable(relid);
	ErrorIfForeignKeyTargetNotAllowed(entry, referencedRelid, name);
	referenced = LookupDistTable(referencedRelid);

	if (referenced->distMethod == DISTRIBUTE_BY_HASH)
	{
		bool		paired = false;
		Datum		keys;
		Datum		referencedKeys;
		bool		isNull;
		ArrayType  *keyArray;
		ArrayType  *referencedArray;
		int			keyCount;
		int			keyIndex;

		keys = SysCacheGetAttr(CONSTROID, tuple, Anum_pg_constraint_conkey, &isNull);
		referencedKeys = SysCacheGetAttr(CONSTROID, tuple,
										 Anum_pg_constraint_confkey, &isNull);
		keyArray = DatumGetArrayTypeP(keys);
		referencedArray = DatumGetArrayTypeP(referencedKeys);
		keyCount = ArrayGetNItems(ARR_NDIM(keyArray), ARR_DIMS(keyArray));
		for (keyIndex = 0; keyIndex < keyCount; keyIndex++)
		{
			if (((int16 *) ARR_DATA_PTR(keyArray))[keyIndex] == entry->distAttnum &&
				((int16 *) ARR_DATA_PTR(referencedArray))[keyIndex] == referenced->distAttnum)
				paired = true;
		}
		ReleaseSysCache(tuple);

		if (!paired)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot create foreign key \"%s\" on distributed table \"%s\"",
							name, get_rel_name(relid)),
					 errdetail("A foreign key between distributed tables must reference the distribution column with the distribution column.")));
		return;
	}
	ReleaseSysCache(tuple);

	/* a table with one shard: it must be on the node of every shard */
	for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
	{
		ShardInterval *shard = &entry->shards[shardIndex];
		int			placementIndex;

		for (placementIndex = 0; placementIndex < shard->placementCount;
			 placementIndex++)
		{
			int32		nodeId = shard->placements[placementIndex].nodeId;
			ShardInterval *referencedShard = ReferencedShard(referencedRelid, shard);
			bool		found = false;
			int			referencedIndex;

			for (referencedIndex = 0;
				 referencedShard != NULL &&
				 referencedIndex < referencedShard->placementCount;
				 referencedIndex++)
			{
				if (referencedShard->placements[referencedIndex].nodeId == nodeId)
					found = true;
			}

			if (!found)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot create foreign key \"%s\" on distributed table \"%s\"",
								name, get_rel_name(relid)),
						 errdetail("Table \"%s\" is not on every node that holds shards of \"%s\".",
								   get_rel_name(referencedRelid), get_rel_name(relid))));
		}
	}
}


/*
 * ErrorIfForeignKeyTargetNotAllowed refuses a foreign key of a distributed
 * table to a table that is not distributed, or to a hash-distributed
 * table of another co-location group.  name may be NULL (not chosen yet).
 */
static void
ErrorIfForeignKeyTargetNotAllowed(DistTableCacheEntry *entry,
								  Oid referencedRelid, const char *name)
{
	DistTableCacheEntry *referenced = LookupDistTable(referencedRelid);
	const char *shownName = name != NULL ? name : "";

	if (referenced == NULL || !referenced->isDistributed)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot create foreign key %s%s%sfrom distributed table \"%s\" to local table \"%s\"",
						name != NULL ? "\"" : "", shownName, name != NULL ? "\" " : "",
						get_rel_name(entry->relid), get_rel_name(referencedRelid)),
				 errdetail("The referenced rows must be on the nodes of the shards: foreign keys of distributed tables may only reference co-located distributed tables or reference tables.")));

	if (referenced->distMethod == DISTRIBUTE_BY_HASH &&
		(entry->distMethod != DISTRIBUTE_BY_HASH ||
		 entry->colocationId != referenced->colocationId))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot create foreign key %s%s%sbetween tables \"%s\" and \"%s\" that are not co-located",
						name != NULL ? "\"" : "", shownName, name != NULL ? "\" " : "",
						get_rel_name(entry->relid), get_rel_name(referencedRelid)),
				 errdetail("A foreign key between distributed tables needs both tables in the same co-location group."),
				 errhint("Distribute the table with colocate_with => '%s'.",
						 get_rel_name(referencedRelid))));
}


/*
 * ErrorIfForeignKeysNotAllowed checks, before the coordinator validates
 * them (which reads the tables), the tables that foreign keys among
 * constraints (Constraint *) reference.
 */
static void
ErrorIfForeignKeysNotAllowed(DistTableCacheEntry *entry, List *constraints)
{
	ListCell   *cell;

	foreach(cell, constraints)
	{
		Constraint *constraint = lfirst_node(Constraint, cell);
		Oid			referencedRelid;

		if (constraint->contype != CONSTR_FOREIGN)
			continue;

		/* a missing table: PostgreSQL reports it */
		referencedRelid = RangeVarGetRelid(constraint->pktable, NoLock, true);
		if (OidIsValid(referencedRelid))
			ErrorIfForeignKeyTargetNotAllowed(entry, referencedRelid,
											  constraint->conname);
	}
}


/*
 * ReferencedShard returns the shard of a referenced table that a shard's
 * foreign key references: the one with the same index for co-located
 * tables, the only one of a table with a single shard.
 */
static ShardInterval *
ReferencedShard(Oid referencedRelid, ShardInterval *shard)
{
	DistTableCacheEntry *referenced = LookupDistTable(referencedRelid);

	if (referenced == NULL || !referenced->isDistributed ||
		referenced->shardCount == 0)
		return NULL;
	if (referenced->distMethod != DISTRIBUTE_BY_HASH ||
		referenced->shardCount == 1)
		return &referenced->shards[0];
	if (shard->shardIndex < referenced->shardCount)
		return &referenced->shards[shard->shardIndex];
	return NULL;
}


/*
 * TextClause returns a clause that is the same for every shard.
 */
static ShardClause *
TextClause(char *text)
{
	ShardClause *clause = palloc0(sizeof(ShardClause));

	clause->before = text;
	return clause;
}


/*
 * NamedClause returns a clause naming one shard specific object.
 */
static ShardClause *
NamedClause(char *before, const char *objectName, char *after)
{
	ShardClause *clause = palloc0(sizeof(ShardClause));

	clause->before = before;
	clause->objectName = pstrdup(objectName);
	clause->after = after;
	return clause;
}


/*
 * AlterTableShardBuilder builds "ALTER TABLE shard clause, clause, ...".
 */
static char *
AlterTableShardBuilder(Oid relid, ShardInterval *shard, void *context)
{
	AlterTableState *state = context;
	StringInfoData buf;
	ListCell   *cell;

	initStringInfo(&buf);
	appendStringInfo(&buf, "ALTER TABLE %s ", shard->shardName);

	foreach(cell, state->clauses)
	{
		ShardClause *clause = lfirst(cell);

		if (foreach_current_index(cell) > 0)
			appendStringInfoString(&buf, ", ");

		if (OidIsValid(clause->foreignKeyOid))
		{
			appendStringInfoString(&buf,
								   ForeignKeyShardClause(clause->foreignKeyOid,
														 shard));
			continue;
		}

		appendStringInfoString(&buf, clause->before);
		if (clause->objectName != NULL)
			appendStringInfoString(&buf,
								   quote_identifier(ShardObjectName(clause->objectName,
																	shard->shardId)));
		if (clause->between != NULL)
			appendStringInfoString(&buf, clause->between);
		if (clause->secondName != NULL)
			appendStringInfoString(&buf,
								   quote_identifier(ShardObjectName(clause->secondName,
																	shard->shardId)));
		if (clause->after != NULL)
			appendStringInfoString(&buf, clause->after);
	}

	return buf.data;
}


/*
 * ForeignKeyShardClause builds ADD CONSTRAINT ... FOREIGN KEY for one
 * shard from pg_constraint, referencing the shard ReferencedShard picks.
 */
static char *
ForeignKeyShardClause(Oid constraintOid, ShardInterval *shard)
{
	HeapTuple	tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(constraintOid));
	Form_pg_constraint constraint;
	ShardInterval *referencedShard;
	StringInfoData buf;
	Datum		keys;
	bool		isNull;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for constraint %u", constraintOid);
	constraint = (Form_pg_constraint) GETSTRUCT(tuple);

	referencedShard = ReferencedShard(constraint->confrelid, shard);
	if (referencedShard == NULL)
		elog(ERROR, "no shard of relation %u to reference", constraint->confrelid);

	initStringInfo(&buf);
	appendStringInfo(&buf, "ADD CONSTRAINT %s FOREIGN KEY (",
					 quote_identifier(ShardObjectName(NameStr(constraint->conname),
													  shard->shardId)));
	keys = SysCacheGetAttr(CONSTROID, tuple, Anum_pg_constraint_conkey, &isNull);
	appendStringInfoString(&buf, ColumnNameList(constraint->conrelid, keys));
	appendStringInfo(&buf, ") REFERENCES %s (", referencedShard->shardName);
	keys = SysCacheGetAttr(CONSTROID, tuple, Anum_pg_constraint_confkey, &isNull);
	appendStringInfoString(&buf, ColumnNameList(constraint->confrelid, keys));
	appendStringInfoChar(&buf, ')');

	if (constraint->confmatchtype == FKCONSTR_MATCH_FULL)
		appendStringInfoString(&buf, " MATCH FULL");
	appendStringInfo(&buf, " ON UPDATE %s ON DELETE %s",
					 ForeignKeyActionName(constraint->confupdtype),
					 ForeignKeyActionName(constraint->confdeltype));
	keys = SysCacheGetAttr(CONSTROID, tuple, Anum_pg_constraint_confdelsetcols,
						   &isNull);
	if (!isNull)
		appendStringInfo(&buf, " (%s)", ColumnNameList(constraint->conrelid, keys));
	if (constraint->condeferrable)
		appendStringInfoString(&buf, " DEFERRABLE");
	if (constraint->condeferred)
		appendStringInfoString(&buf, " INITIALLY DEFERRED");
	if (!constraint->convalidated)
		appendStringInfoString(&buf, " NOT VALID");

	ReleaseSysCache(tuple);

	return buf.data;
}


/*
 * ColumnNameList returns the quoted names of the columns in an int2[] of
 * attribute numbers, comma separated.
 */
static char *
ColumnNameList(Oid relid, Datum keyArray)
{
	ArrayType  *array = DatumGetArrayTypeP(keyArray);
	int			count = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	int16	   *attnums = (int16 *) ARR_DATA_PTR(array);
	StringInfoData buf;
	int			index;

	initStringInfo(&buf);
	for (index = 0; index < count; index++)
		appendStringInfo(&buf, "%s%s", index > 0 ? ", " : "",
						 quote_identifier(get_attname(relid, attnums[index],
													  false)));
	return buf.data;
}


/*
 * ForeignKeyActionName returns the SQL of a referential action.
 */
static const char *
ForeignKeyActionName(char action)
{
	switch (action)
	{
		case FKCONSTR_ACTION_RESTRICT:
			return "RESTRICT";
		case FKCONSTR_ACTION_CASCADE:
			return "CASCADE";
		case FKCONSTR_ACTION_SETNULL:
			return "SET NULL";
		case FKCONSTR_ACTION_SETDEFAULT:
			return "SET DEFAULT";
		default:
			return "NO ACTION";
	}
}


/*
 * PlanRename plans renaming a distributed table, one of its columns,
 * constraints or indexes: the shard objects get the shard names of the
 * new name.  Renaming a schema is left to the utility hook's refusals.
 */
DistributedDdl *
PlanRename(RenameStmt *stmt)
{
	Oid			objectId;
	Oid			relid;
	RenameTarget *target;
	DistributedDdl *ddl;

	switch (stmt->renameType)
	{
		case OBJECT_TABLE:
		case OBJECT_INDEX:
		case OBJECT_COLUMN:
		case OBJECT_TABCONSTRAINT:
			break;
		default:
			return NULL;
	}

	relid = DistributedTableOfRangeVar(stmt->relation, &objectId);
	if (!OidIsValid(relid))
		return NULL;

	/* RENAME takes this lock too; the old names must not change meanwhile */
	LockRelationOid(relid, AccessExclusiveLock);

	target = palloc0(sizeof(RenameTarget));
	target->before = "ALTER TABLE ";
	target->middle = " TO ";

	if (stmt->renameType == OBJECT_COLUMN)
	{
		if (objectId != relid)
			return NULL;
		target->fixedTail = psprintf(" RENAME COLUMN %s TO %s",
									 quote_identifier(stmt->subname),
									 quote_identifier(stmt->newname));
	}
	else if (stmt->renameType == OBJECT_TABCONSTRAINT)
	{
		if (objectId != relid)
			return NULL;
		target->between = " RENAME CONSTRAINT ";
		target->oldName = pstrdup(stmt->subname);
		target->newName = pstrdup(stmt->newname);
	}
	else if (objectId != relid)
	{
		/* an index, through ALTER INDEX or ALTER TABLE */
		target->before = "ALTER INDEX ";
		target->objectId = objectId;
		target->between = " RENAME";
		target->newName = pstrdup(stmt->newname);
	}
	else
	{
		target->between = " RENAME";
		target->newName = pstrdup(stmt->newname);
		target->newIsTable = true;
	}

	ddl = NewDistributedDdl();
	AddShardCommands(ddl->batch, relid, RenameShardBuilder, target);

	return ddl;
}


/*
 * RenameShardBuilder builds the rename of one shard's object.
 */
static char *
RenameShardBuilder(Oid relid, ShardInterval *shard, void *context)
{
	RenameTarget *target = context;
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, target->before);
	appendStringInfoString(&buf, OidIsValid(target->objectId) ?
						   QualifiedShardIndexName(target->objectId, shard->shardId) :
						   shard->shardName);

	if (target->fixedTail != NULL)
	{
		appendStringInfoString(&buf, target->fixedTail);
		return buf.data;
	}

	appendStringInfoString(&buf, target->between);
	if (target->oldName != NULL)
		appendStringInfoString(&buf,
							   quote_identifier(ShardObjectName(target->oldName,
																shard->shardId)));
	appendStringInfo(&buf, "%s%s", target->middle,
					 quote_identifier(target->newIsTable ?
									  ShardTableName(target->newName, shard->shardId) :
									  ShardObjectName(target->newName, shard->shardId)));

	return buf.data;
}


/*
 * PlanAlterObjectSchema plans ALTER TABLE ... SET SCHEMA of a distributed
 * table: its shards move to the schema on their nodes, which is created
 * there first if missing.
 */
DistributedDdl *
PlanAlterObjectSchema(AlterObjectSchemaStmt *stmt)
{
	Oid			objectId;
	Oid			relid;
	DistTableCacheEntry *entry;
	SetSchemaState *state;
	DistributedDdl *ddl;
	int			shardIndex;

	if (stmt->objectType != OBJECT_TABLE)
		return NULL;

	relid = DistributedTableOfRangeVar(stmt->relation, &objectId);
	if (!OidIsValid(relid) || objectId != relid)
		return NULL;

	LockRelationOid(relid, AccessExclusiveLock);

	entry = LookupDistTable(relid);
	state = palloc0(sizeof(SetSchemaState));
	state->relid = relid;
	state->shardCount = entry->shardCount;
	state->oldShardNames = palloc0(sizeof(char *) * Max(entry->shardCount, 1));
	for (shardIndex = 0; shardIndex < entry->shardCount; shardIndex++)
		state->oldShardNames[shardIndex] = pstrdup(entry->shards[shardIndex].shardName);

	ddl = NewDistributedDdl();
	ddl->finish = FinishSetSchema;
	ddl->state = state;

	return ddl;
}


/*
 * FinishSetSchema adds, for each node, the creation of the new schema
 * when missing (not for public, which every database has), then the
 * moves of the shards.
 */
static void
FinishSetSchema(DistributedDdl *ddl)
{
	SetSchemaState *state = ddl->state;
	Oid			namespaceId = get_rel_namespace(state->relid);

	if (strcmp(get_namespace_name(namespaceId), "public") != 0)
	{
		char	   *schemaCommand = ShardSchemaCreateCommand(namespaceId);
		ListCell   *cell;

		foreach(cell, TableNodeIds(state->relid))
			AddNodeCommand(ddl->batch, lfirst_int(cell), schemaCommand);
	}

	AddShardCommands(ddl->batch, state->relid, SetSchemaShardBuilder, state);
}


/*
 * SetSchemaShardBuilder builds ALTER TABLE <old shard name> SET SCHEMA.
 */
static char *
SetSchemaShardBuilder(Oid relid, ShardInterval *shard, void *context)
{
	SetSchemaState *state = context;

	if (shard->shardIndex >= state->shardCount)
		elog(ERROR, "shard %d of relation %u has no former name",
			 shard->shardIndex, relid);

	return psprintf("ALTER TABLE %s SET SCHEMA %s",
					state->oldShardNames[shard->shardIndex],
					quote_identifier(get_namespace_name(get_rel_namespace(relid))));
}


/*
 * AlterTableSubcommandName names an ALTER TABLE subcommand for messages.
 */
static const char *
AlterTableSubcommandName(AlterTableType subtype)
{
	switch (subtype)
	{
		case AT_ChangeOwner:
			return "OWNER TO";
		case AT_EnableRowSecurity:
			return "ENABLE ROW LEVEL SECURITY";
		case AT_DisableRowSecurity:
			return "DISABLE ROW LEVEL SECURITY";
		case AT_ForceRowSecurity:
			return "FORCE ROW LEVEL SECURITY";
		case AT_NoForceRowSecurity:
			return "NO FORCE ROW LEVEL SECURITY";
		case AT_SetRelOptions:
			return "SET (...)";
		case AT_ResetRelOptions:
			return "RESET (...)";
		case AT_SetStatistics:
			return "ALTER COLUMN ... SET STATISTICS";
		case AT_SetOptions:
			return "ALTER COLUMN ... SET (...)";
		case AT_ResetOptions:
			return "ALTER COLUMN ... RESET (...)";
		case AT_SetStorage:
			return "ALTER COLUMN ... SET STORAGE";
		case AT_SetCompression:
			return "ALTER COLUMN ... SET COMPRESSION";
		case AT_AddIdentity:
			return "ALTER COLUMN ... ADD GENERATED AS IDENTITY";
		case AT_SetIdentity:
			return "ALTER COLUMN ... SET GENERATED";
		case AT_DropIdentity:
			return "ALTER COLUMN ... DROP IDENTITY";
		case AT_DropExpression:
			return "ALTER COLUMN ... DROP EXPRESSION";
		case AT_AlterConstraint:
			return "ALTER CONSTRAINT";
		case AT_ClusterOn:
			return "CLUSTER ON";
		case AT_DropCluster:
			return "SET WITHOUT CLUSTER";
		case AT_SetLogged:
			return "SET LOGGED";
		case AT_SetUnLogged:
			return "SET UNLOGGED";
		case AT_SetTableSpace:
			return "SET TABLESPACE";
		case AT_SetAccessMethod:
			return "SET ACCESS METHOD";
		case AT_EnableTrig:
		case AT_EnableAlwaysTrig:
		case AT_EnableReplicaTrig:
		case AT_EnableTrigAll:
		case AT_EnableTrigUser:
			return "ENABLE TRIGGER";
		case AT_DisableTrig:
		case AT_DisableTrigAll:
		case AT_DisableTrigUser:
			return "DISABLE TRIGGER";
		case AT_EnableRule:
		case AT_EnableAlwaysRule:
		case AT_EnableReplicaRule:
			return "ENABLE RULE";
		case AT_DisableRule:
			return "DISABLE RULE";
		case AT_AddInherit:
			return "INHERIT";
		case AT_DropInherit:
			return "NO INHERIT";
		case AT_AddOf:
			return "OF";
		case AT_DropOf:
			return "NOT OF";
		case AT_ReplicaIdentity:
			return "REPLICA IDENTITY";
		case AT_AttachPartition:
			return "ATTACH PARTITION";
		case AT_DetachPartition:
		case AT_DetachPartitionFinalize:
			return "DETACH PARTITION";
		case AT_GenericOptions:
			return "OPTIONS";
		default:
			return "this subcommand";
	}
}
