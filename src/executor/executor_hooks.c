/*-------------------------------------------------------------------------
 *
 * executor_hooks.c
 *	  Tracking how deeply executors are nested.
 *
 * A statement may run on a node in autocommit mode only when it is the
 * top-level statement (see StatementMayAutocommit): a statement run from a
 * function is part of a larger unit that may still fail.  The ExecutorRun
 * hook counts the executors running.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"

#include "distdb/distributed_scan.h"
#include "distdb/remote_transaction.h"

static ExecutorRun_hook_type PrevExecutorRun = NULL;

/*
 * DistdbExecutorRun runs the executor one level deeper.
 */
static void
DistdbExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
				  uint64 count, bool execute_once)
{
	DistdbExecutorLevel++;
	PG_TRY();
	{
		if (PrevExecutorRun)
			PrevExecutorRun(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		DistdbExecutorLevel--;
	}
	PG_END_TRY();
}

/*
 * InstallExecutorHooks installs the hook; called from _PG_init.
 */
void
InstallExecutorHooks(void)
{
	PrevExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = DistdbExecutorRun;
}
