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

#include "distdb/shard_copy.h"

extern uint64 MoveExistingRows(Oid relid, AttrNumber distAttnum,
							   int shardCount,
							   ShardCopyDestination *destinations);

#endif							/* DISTDB_MOVE_EXISTING_ROWS_H */
