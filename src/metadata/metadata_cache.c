/*-------------------------------------------------------------------------
 *
 * metadata_cache.c
 *	  Backend-local cache of distributed tables, shards, placements and
 *	  nodes.
 *
 * The planner asks for every relation it sees whether it is distributed,
 * so the answer (positive or negative) is cached per relation oid.  An
 * entry is invalidated by a relcache invalidation of its relation: every
 * change to distdb's catalog registers one (catalog_write.c), and so does
 * any DDL on the table, so entries never outlive the metadata they were
 * built from.  The node list is cached too and is invalidated through a
 * relcache invalidation of the distdb.node catalog table.
 *
 * An invalidated entry may still be in use by the statement being planned
 * (invalidations are processed whenever a lock is taken), so its memory is
 * freed only at the end of the transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/memutils.h"

#include "distdb/distdb.h"
#include "distdb/metadata_catalog.h"

/* hash table of DistTableCacheEntry, keyed by relid */
static HTAB *DistTableCache = NULL;

/* the memory of each cache entry's shard array and names */
typedef struct EntryMemory
{
	Oid			relid;
	MemoryContext context;
} EntryMemory;

/* contexts of invalidated entries, freed at transaction end */
static List *RetiredContexts = NIL;

/* cached oids of distdb's catalog tables; valid when metadataValid */
static bool metadataValid = false;
static Oid	distTableRelid = InvalidOid;
static Oid	nodeRelid = InvalidOid;

/* cached node list (DistNode *) in CacheMemoryContext */
static bool nodeCacheValid = false;
static MemoryContext NodeCacheContext = NULL;
static List *NodeCacheList = NIL;

/* per-entry memory contexts, kept beside the entries */
static HTAB *EntryMemoryHash = NULL;

static void DistdbRelcacheCallback(Datum arg, Oid relid);
static void MetadataCacheXactCallback(XactEvent event, void *arg);
static void BuildDistTableEntry(DistTableCacheEntry *entry);
static void RetireEntryMemory(Oid relid);

/*
 * InitializeMetadataCache registers the invalidation callbacks; called
 * once from _PG_init.
 */
void
InitializeMetadataCache(void)
{
	HASHCTL		info;

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(Oid);
	info.entrysize = sizeof(DistTableCacheEntry);
	info.hcxt = CacheMemoryContext;
	DistTableCache = hash_create("distdb table cache", 64, &info,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(Oid);
	info.entrysize = sizeof(EntryMemory);
	info.hcxt = CacheMemoryContext;
	EntryMemoryHash = hash_create("distdb table cache memory", 64, &info,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	NodeCacheContext = AllocSetContextCreate(CacheMemoryContext,
											 "distdb node cache",
											 ALLOCSET_SMALL_SIZES);

	CacheRegisterRelcacheCallback(DistdbRelcacheCallback, (Datum) 0);
	RegisterXactCallback(MetadataCacheXactCallback, NULL);
}

/*
 * DistdbRelcacheCallback forgets what is cached about a relation, or
 * everything when relid is InvalidOid.
 */
static void
DistdbRelcacheCallback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	DistTableCacheEntry *entry;

	if (DistTableCache == NULL)
		return;

	if (OidIsValid(relid) && relid != distTableRelid && relid != nodeRelid)
	{
		entry = hash_search(DistTableCache, &relid, HASH_FIND, NULL);
		if (entry != NULL)
			entry->isValid = false;
		return;
	}

	if (!OidIsValid(relid) || relid == distTableRelid)
	{
		/* everything, including whether the extension exists */
		hash_seq_init(&status, DistTableCache);
		while ((entry = hash_seq_search(&status)) != NULL)
			entry->isValid = false;
		metadataValid = false;
	}
	nodeCacheValid = false;
}

/*
 * MetadataCacheXactCallback frees the memory of entries invalidated during
 * the transaction, now that nothing can point to it anymore.
 */
static void
MetadataCacheXactCallback(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_PARALLEL_ABORT && event != XACT_EVENT_PREPARE)
		return;

	foreach(lc, RetiredContexts)
		MemoryContextDelete((MemoryContext) lfirst(lc));
	list_free(RetiredContexts);
	RetiredContexts = NIL;
}

/*
 * DistdbMetadataAvailable returns whether distdb is installed in this
 * database and usable: its catalog exists and it is not being created.
 * A positive answer is cached until distdb.dist_table is invalidated (as
 * happens when the extension is dropped); a negative one costs two syscache
 * lookups.
 */
bool
DistdbMetadataAvailable(void)
{
	Oid			schemaId;

	if (metadataValid)
		return true;
	if (!IsTransactionState())
		return false;
	if (creating_extension &&
		CurrentExtensionObject == get_extension_oid(DISTDB_EXTENSION_NAME, true))
		return false;

	schemaId = DistdbSchemaId();
	if (!OidIsValid(schemaId))
		return false;
	distTableRelid = get_relname_relid("dist_table", schemaId);
	nodeRelid = get_relname_relid("node", schemaId);
	if (!OidIsValid(distTableRelid) || !OidIsValid(nodeRelid))
		return false;
	if (!OidIsValid(get_extension_oid(DISTDB_EXTENSION_NAME, true)))
		return false;

	metadataValid = true;
	return true;
}

/*
 * LookupDistTable returns the cache entry of a distributed table, or NULL
 * when the relation is not distributed (or distdb is not installed).
 */
DistTableCacheEntry *
LookupDistTable(Oid relid)
{
	DistTableCacheEntry *entry;
	bool		found;

	/* system catalogs and distdb's own tables are never distributed */
	if (relid < FirstNormalObjectId || !DistdbMetadataAvailable())
		return NULL;

	entry = hash_search(DistTableCache, &relid, HASH_ENTER, &found);
	if (!found || !entry->isValid)
	{
		if (found)
			RetireEntryMemory(relid);
		entry->isValid = false;
		BuildDistTableEntry(entry);
		entry->isValid = true;
	}
	return entry->isDistributed ? entry : NULL;
}

/* IsDistributedTable: whether distdb distributes the relation */
bool
IsDistributedTable(Oid relid)
{
	return LookupDistTable(relid) != NULL;
}

/* IsReferenceTable: whether the relation is a reference table */
bool
IsReferenceTable(Oid relid)
{
	DistTableCacheEntry *entry = LookupDistTable(relid);

	return entry != NULL && IsReferenceTableEntry(entry);
}

/*
 * RetireEntryMemory detaches the memory of an invalidated entry; it is
 * freed at the end of the transaction.
 */
static void
RetireEntryMemory(Oid relid)
{
	EntryMemory *memory = hash_search(EntryMemoryHash, &relid, HASH_REMOVE,
									  NULL);

	if (memory != NULL && memory->context != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		RetiredContexts = lappend(RetiredContexts, memory->context);
		MemoryContextSwitchTo(old);
	}
}

/*
 * BuildDistTableEntry fills a cache entry from the catalog.  Everything it
 * allocates lives in a context of its own under CacheMemoryContext.
 */
static void
BuildDistTableEntry(DistTableCacheEntry *entry)
{
	Oid			relid = entry->relid;
	char		distMethod;
	AttrNumber	distAttnum;
	int32		colocationId;
	MemoryContext entryContext;
	MemoryContext oldContext;
	EntryMemory *memory;
	List	   *shardRows;
	ListCell   *lc;
	Oid			hashFunctionId;
	int			shardIndex = 0;

	memset(((char *) entry) + sizeof(Oid), 0,
		   sizeof(DistTableCacheEntry) - sizeof(Oid));

	if (!ReadDistTableRow(relid, &distMethod, &distAttnum, &colocationId))
		return;

	entryContext = AllocSetContextCreate(CacheMemoryContext,
										 "distdb table cache entry",
										 ALLOCSET_SMALL_SIZES);
	memory = hash_search(EntryMemoryHash, &relid, HASH_ENTER, NULL);
	memory->context = entryContext;

	entry->isDistributed = true;
	entry->distMethod = distMethod;
	entry->distAttnum = distAttnum;
	entry->colocationId = colocationId;
	if (distMethod == DISTRIBUTE_BY_HASH)
	{
		get_atttypetypmodcoll(relid, distAttnum, &entry->distType,
							  &entry->distTypmod, &entry->distCollation);
		entry->hashOpfamily = LookupHashOpfamily(entry->distType);
		hashFunctionId = LookupHashSupportFunction(entry->distType);
		if (!OidIsValid(hashFunctionId))
			elog(ERROR, "no hash function for type %u", entry->distType);
		fmgr_info_cxt(hashFunctionId, &entry->hashFunction, entryContext);
	}
	else if (distMethod != DISTRIBUTE_BY_REFERENCE)
		elog(ERROR, "unknown distribution method \"%c\" of relation %u",
			 distMethod, relid);

	shardRows = ReadShardRows(relid);
	oldContext = MemoryContextSwitchTo(entryContext);
	entry->shardCount = list_length(shardRows);
	entry->shards = palloc0(sizeof(ShardInterval) * Max(entry->shardCount, 1));
	MemoryContextSwitchTo(oldContext);

	foreach(lc, shardRows)
	{
		ShardInterval *row = lfirst(lc);
		ShardInterval *shard = &entry->shards[shardIndex];
		List	   *placements = ReadPlacementRows(row->shardId);
		ListCell   *plc;
		int			placementIndex = 0;

		if (row->shardIndex != shardIndex)
			elog(ERROR, "shard indexes of relation %u are not contiguous",
				 relid);

		*shard = *row;
		oldContext = MemoryContextSwitchTo(entryContext);
		shard->shardName = QualifiedShardName(relid, row->shardId);
		shard->placementCount = list_length(placements);
		shard->placements = palloc0(sizeof(ShardPlacement) *
									Max(shard->placementCount, 1));
		MemoryContextSwitchTo(oldContext);
		foreach(plc, placements)
			shard->placements[placementIndex++] =
				*(ShardPlacement *) lfirst(plc);
		shardIndex++;
	}
}

/*
 * LookupShardById finds a shard of a cached table by its id.
 */
ShardInterval *
LookupShardById(DistTableCacheEntry *entry, int64 shardId)
{
	int			i;

	for (i = 0; i < entry->shardCount; i++)
	{
		if (entry->shards[i].shardId == shardId)
			return &entry->shards[i];
	}
	return NULL;
}

/*
 * ShardPlacementOnNode returns the placement of a shard on a node, or NULL
 * when the node holds no copy of it.
 */
ShardPlacement *
ShardPlacementOnNode(ShardInterval *shard, int32 nodeId)
{
	int			i;

	for (i = 0; i < shard->placementCount; i++)
	{
		if (shard->placements[i].nodeId == nodeId)
			return &shard->placements[i];
	}
	return NULL;
}

/*
 * ActiveNodeList returns the nodes (DistNode *) ordered by node id, from
 * the node cache.  The list and its elements belong to the cache.
 */
List *
ActiveNodeList(void)
{
	if (!DistdbMetadataAvailable())
		return NIL;
	if (!nodeCacheValid)
	{
		MemoryContext oldContext;
		List	   *nodes;

		MemoryContextReset(NodeCacheContext);
		NodeCacheList = NIL;
		oldContext = MemoryContextSwitchTo(NodeCacheContext);
		nodes = ReadNodeRows();
		MemoryContextSwitchTo(oldContext);
		NodeCacheList = nodes;
		nodeCacheValid = true;
	}
	return NodeCacheList;
}

/*
 * LookupNode returns a node by id from the node cache.
 */
DistNode *
LookupNode(int32 nodeId, bool missingOk)
{
	ListCell   *lc;

	foreach(lc, ActiveNodeList())
	{
		DistNode   *node = lfirst(lc);

		if (node->nodeId == nodeId)
			return node;
	}
	if (!missingOk)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("node %d does not exist", nodeId)));
	return NULL;
}

/*
 * InvalidateDistTableCache makes every backend rebuild what it caches about
 * a table, at the end of the current command (and plans that use it are
 * invalidated too).
 */
void
InvalidateDistTableCache(Oid relid)
{
	/* a dropped table's entry went with the DROP's own invalidation */
	if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		CacheInvalidateRelcacheByRelid(relid);
}

/*
 * InvalidateNodeCache makes every backend reload the node list.
 */
void
InvalidateNodeCache(void)
{
	CacheInvalidateRelcacheByRelid(DistdbCatalogRelid("node"));
}
