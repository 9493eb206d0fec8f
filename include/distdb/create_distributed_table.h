/*-------------------------------------------------------------------------
 *
 * create_distributed_table.h
 *	  Distributing a table, and the checks create_distributed_table shares
 *	  with the functions that change a table's distribution.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_CREATE_DISTRIBUTED_TABLE_H
#define DISTDB_CREATE_DISTRIBUTED_TABLE_H

/* the largest shard count a distributed table may have */
#define MAX_SHARD_COUNT 64000

/*
 * Hash-distribute a table you own (create_distributed_table's work):
 * colocateWith is 'default', 'none' or a distributed table's name.
 */
extern void DistributeTableByColumn(Oid relid, const char *columnName,
									int shardCount, bool shardCountGiven,
									const char *colocateWith);

extern void EnsureTableOwner(Oid relid);
extern void EnsureValidShardCount(int shardCount);

/*
 * The name of a foreign key of relid (referencing) or of one referencing
 * relid (!referencing), or NULL when there is none.
 */
extern char *FindForeignKey(Oid relid, bool referencing);

#endif							/* DISTDB_CREATE_DISTRIBUTED_TABLE_H */
