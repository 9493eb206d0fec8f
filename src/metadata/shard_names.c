/*-------------------------------------------------------------------------
 *
 * shard_names.c
 *	  Names of shard tables on the workers.
 *
 * A shard of table "orders" with id 100042 is the table "orders_100042" in
 * the same schema on its node.  Names that would not fit in NAMEDATALEN
 * are clipped and get a hash of the full name, so two long table names
 * that share a prefix still give different shard names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "distdb/metadata_cache.h"

/*
 * ShardTableName returns the unquoted name of a shard of the table named
 * relname.
 */
char *
ShardTableName(const char *relname, int64 shardId)
{
	char		suffix[32];
	int			suffixLen;
	int			nameLen = strlen(relname);

	suffixLen = snprintf(suffix, sizeof(suffix), "_" INT64_FORMAT, shardId);
	if (nameLen + suffixLen < NAMEDATALEN)
		return psprintf("%s%s", relname, suffix);
	else
	{
		uint32		nameHash = hash_bytes((const unsigned char *) relname,
										  nameLen);
		int			room = NAMEDATALEN - 1 - suffixLen - 9;
		int			clipped = pg_mbcliplen(relname, nameLen, room);

		return psprintf("%.*s_%08x%s", clipped, relname, nameHash, suffix);
	}
}

/*
 * QualifiedShardName returns the quoted, schema-qualified name of a shard
 * of the given table, ready to be put into SQL.
 */
char *
QualifiedShardName(Oid relid, int64 shardId)
{
	char	   *relname = get_rel_name(relid);
	char	   *schemaName;

	if (relname == NULL)
		elog(ERROR, "cache lookup failed for relation %u", relid);
	schemaName = get_namespace_name(get_rel_namespace(relid));
	return quote_qualified_identifier(schemaName,
									  ShardTableName(relname, shardId));
}
