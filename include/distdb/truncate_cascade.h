/*-------------------------------------------------------------------------
 *
 * truncate_cascade.h
 *	  The distributed tables a TRUNCATE empties, following foreign keys for
 *	  TRUNCATE ... CASCADE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_TRUNCATE_CASCADE_H
#define DISTDB_TRUNCATE_CASCADE_H

#include "nodes/parsenodes.h"

extern List *DistributedTablesToTruncate(TruncateStmt *stmt);

#endif							/* DISTDB_TRUNCATE_CASCADE_H */
