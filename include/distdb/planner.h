/*-------------------------------------------------------------------------
 *
 * planner.h
 *	  distdb's planner hook and the distributed plans it produces.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_PLANNER_H
#define DISTDB_PLANNER_H

#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
#include "optimizer/planner.h"
#include "optimizer/paths.h"

extern planner_hook_type PrevPlannerHook;
extern set_rel_pathlist_hook_type PrevSetRelPathlistHook;

extern PlannedStmt *DistdbPlanner(Query *parse, const char *queryString,
								  int cursorOptions, ParamListInfo boundParams);
extern void DistdbSetRelPathlist(PlannerInfo *root, RelOptInfo *rel,
								 Index rti, RangeTblEntry *rte);

#endif							/* DISTDB_PLANNER_H */
