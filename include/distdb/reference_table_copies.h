/*-------------------------------------------------------------------------
 *
 * reference_table_copies.h
 *	  Giving a node that joins the cluster a copy of every reference table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_REFERENCE_TABLE_COPIES_H
#define DISTDB_REFERENCE_TABLE_COPIES_H

extern void ReplicateReferenceTablesToNode(int32 nodeId);

#endif							/* DISTDB_REFERENCE_TABLE_COPIES_H */
