/*-------------------------------------------------------------------------
 *
 * move_existing_rows.h
 *	  Moving the rows a table holds when it is distributed into its shards.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_MOVE_EXISTING_ROWS_H
#define DISTDB_MOVE_EXISTING_ROWS_H

#include "access/attnum.h"
#include "nodes/pg_list.h"

/* where the rows of one shard go */
typedef struct ShardCopyDestination
{
	const char *shardName;		/* quoted, schema-qualified shard name */
	List	   *connections;	/* NodeConnection * of each placement, with
								 * a remote transaction open */
} ShardCopyDestination;

extern uint64 MoveExistingRows(Oid relid, AttrNumber distAttnum,
							   int shardCount,
							   ShardCopyDestination *destinations);

#endif							/* DISTDB_MOVE_EXISTING_ROWS_H */
