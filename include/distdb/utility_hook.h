/*-------------------------------------------------------------------------
 *
 * utility_hook.h
 *	  distdb's ProcessUtility hook: DROP, TRUNCATE and COPY of distributed
 *	  tables, and refusal of DDL that would make a distributed table's
 *	  coordinator definition diverge from its shards.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_UTILITY_HOOK_H
#define DISTDB_UTILITY_HOOK_H

#include "tcop/utility.h"

/* the hook that was installed before distdb's, set in _PG_init */
extern ProcessUtility_hook_type PrevProcessUtilityHook;

extern void DistdbProcessUtility(PlannedStmt *pstmt, const char *queryString,
								 bool readOnlyTree,
								 ProcessUtilityContext context,
								 ParamListInfo params,
								 QueryEnvironment *queryEnv,
								 DestReceiver *dest, QueryCompletion *qc);

#endif							/* DISTDB_UTILITY_HOOK_H */
