/*-------------------------------------------------------------------------
 *
 * shard_hashing.c
 *	  Mapping distribution column values to shards.
 *
 * A hash-distributed table splits the whole int32 hash space into
 * shardCount ranges of equal width; shard i holds the rows whose
 * distribution value hashes into its range.  The hash is the column type's
 * own standard hash support function (from its default hash operator
 * class), so every hashable type can be a distribution column, and values
 * of other types in the same operator family hash compatibly (which makes
 * "bigint_column = 5" prune correctly).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/hash.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "utils/lsyscache.h"

#include "distdb/metadata_cache.h"

/* 2^32: the number of distinct int32 hash values */
#define HASH_SPACE_SIZE (UINT64CONST(1) << 32)

/*
 * LookupHashOpfamily returns the operator family of the type's default hash
 * operator class, or InvalidOid when the type has none.
 */
Oid
LookupHashOpfamily(Oid typeId)
{
	Oid			opclass = GetDefaultOpClass(typeId, HASH_AM_OID);

	if (!OidIsValid(opclass))
		return InvalidOid;
	return get_opclass_family(opclass);
}

/*
 * LookupHashSupportFunction returns the standard (32-bit) hash support
 * function of the type's default hash operator class, or InvalidOid when
 * the type cannot be hashed.
 */
Oid
LookupHashSupportFunction(Oid typeId)
{
	Oid			opclass = GetDefaultOpClass(typeId, HASH_AM_OID);
	Oid			opcintype;

	if (!OidIsValid(opclass))
		return InvalidOid;

	/* for polymorphic opclasses (e.g. enums, arrays) use the opclass input */
	opcintype = get_opclass_input_type(opclass);
	return get_opfamily_proc(get_opclass_family(opclass), opcintype,
							 opcintype, HASHSTANDARD_PROC);
}

/*
 * HashValueWithFunction applies a hash support function to a non-null
 * value.
 */
int32
HashValueWithFunction(FmgrInfo *hashFunction, Oid collation, Datum value)
{
	return DatumGetInt32(FunctionCall1Coll(hashFunction, collation, value));
}

/*
 * HashDistributionValue hashes a (non-null) value of the table's
 * distribution column type.
 */
int32
HashDistributionValue(DistTableCacheEntry *entry, Datum value)
{
	return HashValueWithFunction(&entry->hashFunction, entry->distCollation,
								 value);
}

/*
 * ShardIndexForHash returns the index of the shard whose range holds the
 * hash value.
 */
int
ShardIndexForHash(int shardCount, int32 hashValue)
{
	uint64		width = HASH_SPACE_SIZE / (uint64) shardCount;
	uint64		offset = (uint64) ((int64) hashValue - (int64) PG_INT32_MIN);
	uint64		index = offset / width;

	/* the last shard also takes the remainder of the division */
	if (index >= (uint64) shardCount)
		index = shardCount - 1;
	return (int) index;
}

/*
 * ShardHashRange returns the inclusive hash range of a shard.  It is the
 * inverse of ShardIndexForHash.
 */
void
ShardHashRange(int shardCount, int shardIndex, int32 *minValue,
			   int32 *maxValue)
{
	uint64		width = HASH_SPACE_SIZE / (uint64) shardCount;

	*minValue = (int32) ((int64) PG_INT32_MIN + (int64) (width * shardIndex));
	if (shardIndex == shardCount - 1)
		*maxValue = PG_INT32_MAX;
	else
		*maxValue = (int32) ((int64) PG_INT32_MIN +
							 (int64) (width * (shardIndex + 1)) - 1);
}
