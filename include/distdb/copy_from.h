/*-------------------------------------------------------------------------
 *
 * copy_from.h
 *	  COPY ... FROM into a distributed table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_COPY_FROM_H
#define DISTDB_COPY_FROM_H

#include "nodes/parsenodes.h"
#include "tcop/cmdtag.h"
#include "utils/queryenvironment.h"

extern void ExecuteDistributedCopyFrom(CopyStmt *stmt, const char *queryString,
									   QueryEnvironment *queryEnv,
									   QueryCompletion *qc);

#endif							/* DISTDB_COPY_FROM_H */
