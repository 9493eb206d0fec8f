/*-------------------------------------------------------------------------
 *
 * planned_statement_run.c
 *	  Running a statement that a distributed plan carries and executes
 *	  itself, inside the statement being executed.
 *
 * Some distributed plans hold a second planned statement that they run
 * while they execute: a subquery computed first (computed_subqueries.c),
 * the SELECT of an INSERT ... SELECT through the coordinator
 * (insert_select.c), the SELECT of an UPDATE / DELETE's target rows
 * (target_row_writes.c).  It runs with the executing statement's
 * parameters and query environment, in the snapshot the caller gives.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "tcop/dest.h"

#include "distdb/distributed_scan.h"

/*
 * RunPlannedStatement runs plan to its end, or until count rows (0: all),
 * sending its rows to dest.  When rowDesc is given it receives a copy of
 * the descriptor of the rows.
 */
void
RunPlannedStatement(PlannedStmt *plan, const char *sourceText,
					Snapshot snapshot, EState *estate, DestReceiver *dest,
					uint64 count, TupleDesc *rowDesc)
{
	QueryDesc  *queryDesc;

	queryDesc = CreateQueryDesc(plan, sourceText, snapshot, InvalidSnapshot,
								dest, estate->es_param_list_info,
								estate->es_queryEnv, 0);
	ExecutorStart(queryDesc, 0);
	if (rowDesc != NULL)
		*rowDesc = CreateTupleDescCopy(queryDesc->tupDesc);
	ExecutorRun(queryDesc, ForwardScanDirection, count, true);
	ExecutorFinish(queryDesc);
	ExecutorEnd(queryDesc);
	FreeQueryDesc(queryDesc);
}
