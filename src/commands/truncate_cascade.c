/*-------------------------------------------------------------------------
 *
 * truncate_cascade.c
 *	  The distributed tables a TRUNCATE empties.
 *
 * TRUNCATE ... CASCADE also truncates every table that references a
 * truncated table through a foreign key, transitively; PostgreSQL finds
 * them when it runs the coordinator's TRUNCATE.  The shards of every
 * distributed table among them must be emptied too, so the same closure
 * is computed here, before the local command, with the same catalog
 * function PostgreSQL uses (heap_truncate_find_FKs).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/heap.h"
#include "catalog/namespace.h"
#include "miscadmin.h"

#include "distdb/metadata_cache.h"
#include "distdb/truncate_cascade.h"


/*
 * DistributedTablesToTruncate returns the distributed tables (Oid list)
 * that a TRUNCATE empties: those it names and, with CASCADE, those that
 * reference them through foreign keys, transitively.  Names that do not
 * resolve are left to the local command to report.
 */
List *
DistributedTablesToTruncate(TruncateStmt *stmt)
{
	List	   *relids = NIL;
	List	   *distributed = NIL;
	ListCell   *cell;

	foreach(cell, stmt->relations)
	{
		Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, cell),
											 NoLock, true);

		if (OidIsValid(relid))
			relids = list_append_unique_oid(relids, relid);
	}

	if (stmt->behavior == DROP_CASCADE)
	{
		for (;;)
		{
			List	   *referencing = heap_truncate_find_FKs(relids);
			bool		added = false;

			CHECK_FOR_INTERRUPTS();

			foreach(cell, referencing)
			{
				if (list_member_oid(relids, lfirst_oid(cell)))
					continue;
				relids = lappend_oid(relids, lfirst_oid(cell));
				added = true;
			}
			if (!added)
				break;
		}
	}

	foreach(cell, relids)
	{
		if (IsDistributedTable(lfirst_oid(cell)))
			distributed = lappend_oid(distributed, lfirst_oid(cell));
	}

	return distributed;
}
