/*-------------------------------------------------------------------------
 *
 * reference_table_copies.h
 *	  Giving a node that joins the cluster a copy of every reference table,
 *	  and dropping the copies of a node that leaves it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_REFERENCE_TABLE_COPIES_H
#define DISTDB_REFERENCE_TABLE_COPIES_H

extern void ReplicateReferenceTablesToNode(int32 nodeId);
extern void DropReferenceTableCopiesOnNode(int32 nodeId);
extern int64 CountReferenceTableCopies(int32 nodeId);

#endif							/* DISTDB_REFERENCE_TABLE_COPIES_H */
