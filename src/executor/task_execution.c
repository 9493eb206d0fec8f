/*-------------------------------------------------------------------------
 *
 * task_execution.c
 *	  Running a statement's tasks on the nodes in parallel and streaming
 *	  their rows.
 *
 * The tasks of a node are spread over several connections to it (up to
 * distdb.max_connections_per_node for the statement, shared by its scans
 * running at the same time) when the statement only reads and is
 * not part of a remote transaction; each connection runs its tasks one
 * after another, and all connections run at the same time.  Rows are
 * requested in single-row mode and handed to the plan one by one as they
 * arrive, so memory stays bounded however large the result.
 *
 * Statements that write (or lock rows) use one connection per node inside
 * a remote transaction, committed with the local one; a top-level
 * single-shard write outside a transaction block runs in autocommit mode
 * on its node, which saves the BEGIN and COMMIT round trips.  A write to a
 * shard with several placements (a reference table) has a task per
 * placement: those of the other copies start once the first copies' tasks
 * have finished, and only the first copy's rows and row counts are
 * returned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/memutils.h"
#include "miscadmin.h"

#include "distdb/distdb.h"
#include "distdb/distributed_transaction_id.h"
#include "distdb/remote_transaction.h"
#include "distdb/task_execution.h"

static void StartExecution(TaskExecution *execution);
static void DealTasks(TaskExecution *execution, List *tasks);
static bool StartReplicaTasks(TaskExecution *execution);
static void StartNextTask(TaskExecution *execution,
						  ConnectionTasks *connectionTasks);
static bool BinaryTransferPossible(TupleDesc tupleDesc);
static void StoreRow(TaskExecution *execution, PGresult *result,
					 TupleTableSlot *slot);
static void WaitForBusyConnections(TaskExecution *execution);
static bool FetchNextRow(TaskExecution *execution, TupleTableSlot *slot,
						 DistTask **task);
static bool NextRowInStatementOrder(TaskExecution *execution,
									TupleTableSlot *slot);

/*
 * BinaryTransferPossible returns whether rows of the descriptor can come
 * in binary format: when every column is of a built-in type with binary
 * I/O, whose binary form (unlike the text form of dates under some
 * DateStyles) is exact and the same on every node.  Composite types are
 * left out because their binary form carries type oids, which differ
 * between nodes for user-defined types.
 */
static bool
BinaryTransferPossible(TupleDesc tupleDesc)
{
	int			i;

	for (i = 0; i < tupleDesc->natts; i++)
	{
		Oid			type = TupleDescAttr(tupleDesc, i)->atttypid;
		HeapTuple	typeTuple;
		Form_pg_type typeForm;
		bool		usable;

		if (type >= FirstNormalObjectId || type == RECORDOID)
			return false;
		typeTuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
		if (!HeapTupleIsValid(typeTuple))
			return false;
		typeForm = (Form_pg_type) GETSTRUCT(typeTuple);
		usable = typeForm->typtype == TYPTYPE_BASE &&
			OidIsValid(typeForm->typreceive) && OidIsValid(typeForm->typsend);
		ReleaseSysCache(typeTuple);
		if (!usable)
			return false;
	}
	return true;
}

/*
 * CreateTaskExecution prepares to run tasks whose rows (if any) have the
 * given tuple descriptor.
 */
TaskExecution *
CreateTaskExecution(List *tasks, bool isWrite, bool expectsRows,
					TupleDesc tupleDesc)
{
	TaskExecution *execution = palloc0(sizeof(TaskExecution));
	int			i;

	execution->tasks = tasks;
	execution->isWrite = isWrite;
	execution->expectsRows = expectsRows;
	execution->tupleDesc = tupleDesc;
	execution->rowContext = AllocSetContextCreate(CurrentMemoryContext,
												  "distdb result row",
												  ALLOCSET_DEFAULT_SIZES);
	if (tupleDesc != NULL && tupleDesc->natts > 0)
	{
		execution->binaryResults = BinaryTransferPossible(tupleDesc);
		execution->inputFunctions = palloc(sizeof(FmgrInfo) * tupleDesc->natts);
		execution->typioparams = palloc(sizeof(Oid) * tupleDesc->natts);
		for (i = 0; i < tupleDesc->natts; i++)
		{
			Oid			type = TupleDescAttr(tupleDesc, i)->atttypid;
			Oid			function;

			if (execution->binaryResults)
				getTypeBinaryInputInfo(type, &function,
									   &execution->typioparams[i]);
			else
				getTypeInputInfo(type, &function, &execution->typioparams[i]);
			fmgr_info(function, &execution->inputFunctions[i]);
		}
	}
	return execution;
}

/*
 * StartExecution claims connections, opens remote transactions where
 * needed and sends each connection its first task.
 */
static void
StartExecution(TaskExecution *execution)
{
	List	   *nodeIds = NIL;
	List	   *allConnections = NIL;
	List	   *firstTasks = NIL;
	ListCell   *lc;
	bool		needsTransaction;
	int			taskCount = list_length(execution->tasks);

	execution->started = true;
	if (taskCount == 0)
	{
		execution->finished = true;
		return;
	}

	if (execution->isWrite)
		needsTransaction = execution->inTransaction ||
			!(taskCount == 1 && StatementMayAutocommit());
	else
		needsTransaction = IsTransactionBlock() &&
			XactIsoLevel >= XACT_REPEATABLE_READ;

	foreach(lc, execution->tasks)
	{
		DistTask   *task = lfirst(lc);

		if (!list_member_int(nodeIds, task->nodeId))
			nodeIds = lappend_int(nodeIds, task->nodeId);
	}

	foreach(lc, nodeIds)
	{
		int32		nodeId = lfirst_int(lc);
		int			nodeTaskCount = 0;
		List	   *connections;
		ListCell   *tlc;
		ListCell   *clc;
		int			wanted;

		foreach(tlc, execution->tasks)
		{
			if (((DistTask *) lfirst(tlc))->nodeId == nodeId)
				nodeTaskCount++;
		}
		/*
		 * distdb.max_connections_per_node bounds the connections to a node
		 * of the whole statement: scans running at the same time (the
		 * sides of a join) share it, each with at least one connection.
		 */
		wanted = needsTransaction ? 1 :
			Max(1, Min(DistdbMaxConnectionsPerNode -
					   CountClaimedNodeConnections(nodeId),
					   nodeTaskCount));
		connections = ClaimNodeConnections(nodeId, wanted);
		foreach(clc, connections)
		{
			ConnectionTasks *connectionTasks = palloc0(sizeof(ConnectionTasks));

			connectionTasks->connection = lfirst(clc);
			execution->connectionTasks = lappend(execution->connectionTasks,
												 connectionTasks);
		}
		allConnections = list_concat(allConnections, connections);
	}

	/* the other copies' tasks wait for the first copies' */
	foreach(lc, execution->tasks)
	{
		DistTask   *task = lfirst(lc);

		if (task->replicaOf == NULL)
			firstTasks = lappend(firstTasks, task);
		else
			execution->replicaTasks = lappend(execution->replicaTasks, task);
	}
	DealTasks(execution, firstTasks);

	FinishConnectionEstablishment(allConnections);
	foreach(lc, allConnections)
		SyncSessionSettings(lfirst(lc));
	/* BEGIN goes with each connection's first task (StartNextTask) */
	if (needsTransaction)
		QueueRemoteTransactionBegins(allConnections);
	foreach(lc, allConnections)
	{
		if (((NodeConnection *) lfirst(lc))->xactState != REMOTE_XACT_NONE)
			execution->buffered = true;
	}

	foreach(lc, execution->connectionTasks)
	{
		ConnectionTasks *connectionTasks = lfirst(lc);

		if (execution->isWrite && needsTransaction)
			connectionTasks->connection->wroteData = true;
		StartNextTask(execution, connectionTasks);
	}
}

/*
 * DealTasks deals tasks out over the execution's connections to their
 * nodes, each to the connection with the fewest tasks so far.
 */
static void
DealTasks(TaskExecution *execution, List *tasks)
{
	ListCell   *lc;

	foreach(lc, tasks)
	{
		DistTask   *task = lfirst(lc);
		ConnectionTasks *target = NULL;
		ListCell   *clc;

		foreach(clc, execution->connectionTasks)
		{
			ConnectionTasks *connectionTasks = lfirst(clc);

			if (connectionTasks->connection->nodeId == task->nodeId &&
				(target == NULL ||
				 list_length(connectionTasks->tasks) < list_length(target->tasks)))
				target = connectionTasks;
		}
		if (target == NULL)
			elog(ERROR, "no connection to node %d for a task", task->nodeId);
		target->tasks = lappend(target->tasks, task);
	}
}

/*
 * StartReplicaTasks starts the tasks of the other copies of written shards,
 * once every first copy's task has finished; returns false when there are
 * none left to start.
 */
static bool
StartReplicaTasks(TaskExecution *execution)
{
	ListCell   *lc;

	if (execution->replicaTasks == NIL)
		return false;
	DealTasks(execution, execution->replicaTasks);
	execution->replicaTasks = NIL;
	foreach(lc, execution->connectionTasks)
	{
		ConnectionTasks *connectionTasks = lfirst(lc);

		if (connectionTasks->currentTask == NULL)
			StartNextTask(execution, connectionTasks);
	}
	return true;
}

/*
 * StartNextTask sends a connection its next task, if it has one left.
 */
static void
StartNextTask(TaskExecution *execution, ConnectionTasks *connectionTasks)
{
	DistTask   *task;
	int			flags = REMOTE_WITH_QUEUED;

	if (connectionTasks->nextTask >= list_length(connectionTasks->tasks))
	{
		connectionTasks->currentTask = NULL;
		return;
	}
	task = list_nth(connectionTasks->tasks, connectionTasks->nextTask++);
	connectionTasks->currentTask = task;
	INSTR_TIME_SET_CURRENT(task->startTime);
	if (execution->expectsRows)
		flags |= REMOTE_SINGLE_ROW;
	if (execution->binaryResults)
		flags |= REMOTE_BINARY_RESULTS;
	if (task->prepare && task->params != NULL)
		SendRemotePrepared(connectionTasks->connection, task->queryString,
						   task->params, flags);
	else
		SendRemoteQuery(connectionTasks->connection, task->queryString,
						task->params, flags);
}

/*
 * StoreRow converts a row from its text representation into the slot.
 */
static void
StoreRow(TaskExecution *execution, PGresult *result, TupleTableSlot *slot)
{
	TupleDesc	tupleDesc = execution->tupleDesc;
	MemoryContext oldContext;
	int			i;

	if (PQnfields(result) != tupleDesc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("a shard returned %d columns where %d were expected",
						PQnfields(result), tupleDesc->natts)));

	ExecClearTuple(slot);
	MemoryContextReset(execution->rowContext);
	oldContext = MemoryContextSwitchTo(execution->rowContext);
	for (i = 0; i < tupleDesc->natts; i++)
	{
		if (PQgetisnull(result, 0, i))
		{
			slot->tts_values[i] = (Datum) 0;
			slot->tts_isnull[i] = true;
		}
		else if (execution->binaryResults)
		{
			StringInfoData value;

			/* libpq keeps a terminating zero byte after every value */
			value.data = PQgetvalue(result, 0, i);
			value.len = PQgetlength(result, 0, i);
			value.maxlen = value.len + 1;
			value.cursor = 0;
			slot->tts_values[i] =
				ReceiveFunctionCall(&execution->inputFunctions[i], &value,
									execution->typioparams[i],
									TupleDescAttr(tupleDesc, i)->atttypmod);
			slot->tts_isnull[i] = false;
		}
		else
		{
			slot->tts_values[i] =
				InputFunctionCall(&execution->inputFunctions[i],
								  PQgetvalue(result, 0, i),
								  execution->typioparams[i],
								  TupleDescAttr(tupleDesc, i)->atttypmod);
			slot->tts_isnull[i] = false;
		}
	}
	MemoryContextSwitchTo(oldContext);
	ExecStoreVirtualTuple(slot);
}

/*
 * FreeExecutionWaitSet closes the wait event set of an execution when the
 * memory it lives in goes away: a memory context reset callback, so that
 * an error does not leak its epoll descriptor.
 */
static void
FreeExecutionWaitSet(void *arg)
{
	TaskExecution *execution = (TaskExecution *) arg;

	if (execution->waitSet != NULL)
		FreeWaitEventSet(execution->waitSet);
	execution->waitSet = NULL;
}

/*
 * ExecutionWaitSet returns a wait event set for the execution's busy
 * connections: the one of the previous wait while the same connections
 * are busy (streaming rows, most waits are), a new one otherwise.  Idle
 * connections stay out of it, so that a node closing one cannot wake the
 * wait over and over.
 */
static WaitEventSet *
ExecutionWaitSet(TaskExecution *execution)
{
	MemoryContext context = GetMemoryChunkContext(execution);
	int			size = list_length(execution->connectionTasks) + 2;
	bool		current = (execution->waitSet != NULL);
	ListCell   *lc;

	foreach(lc, execution->connectionTasks)
	{
		ConnectionTasks *connectionTasks = lfirst(lc);

		if ((connectionTasks->currentTask != NULL) !=
			connectionTasks->inWaitSet)
			current = false;
	}
	if (current)
		return execution->waitSet;

	if (!execution->waitSetCallback)
	{
		MemoryContextCallback *callback =
			MemoryContextAlloc(context, sizeof(MemoryContextCallback));

		callback->func = FreeExecutionWaitSet;
		callback->arg = execution;
		MemoryContextRegisterResetCallback(context, callback);
		execution->waitEvents = MemoryContextAlloc(context,
												   sizeof(WaitEvent) * size);
		execution->waitSetCallback = true;
	}
	FreeExecutionWaitSet(execution);

	execution->waitSet = CreateWaitEventSet(context, size);
	AddWaitEventToSet(execution->waitSet, WL_LATCH_SET, PGINVALID_SOCKET,
					  MyLatch, NULL);
	AddWaitEventToSet(execution->waitSet, WL_EXIT_ON_PM_DEATH,
					  PGINVALID_SOCKET, NULL, NULL);
	foreach(lc, execution->connectionTasks)
	{
		ConnectionTasks *connectionTasks = lfirst(lc);

		connectionTasks->inWaitSet = (connectionTasks->currentTask != NULL);
		if (connectionTasks->inWaitSet)
			AddWaitEventToSet(execution->waitSet, WL_SOCKET_READABLE,
							  PQsocket(connectionTasks->connection->pgconn),
							  NULL, connectionTasks);
	}
	return execution->waitSet;
}

/*
 * WaitForBusyConnections sleeps until a busy connection has input (or the
 * latch is set), then lets libpq read it.
 */
static void
WaitForBusyConnections(TaskExecution *execution)
{
	WaitEventSet *set;
	ListCell   *lc;
	ConnectionTasks *onlyBusy = NULL;
	int			count = 0;
	int			nevents;
	int			i;

	/* one busy connection: wait with its own long-lived wait event set */
	foreach(lc, execution->connectionTasks)
	{
		ConnectionTasks *connectionTasks = lfirst(lc);

		if (connectionTasks->currentTask != NULL)
		{
			onlyBusy = connectionTasks;
			count++;
		}
	}
	if (count == 1)
	{
		WaitForNodeSocket(onlyBusy->connection, true, false);
		if (PQconsumeInput(onlyBusy->connection->pgconn) == 0)
			ThrowConnectionError(onlyBusy->connection);
		return;
	}

	set = ExecutionWaitSet(execution);
	nevents = WaitEventSetWait(set, -1, execution->waitEvents,
							   list_length(execution->connectionTasks) + 2,
							   PG_WAIT_EXTENSION);
	for (i = 0; i < nevents; i++)
	{
		WaitEvent  *event = &execution->waitEvents[i];
		ConnectionTasks *connectionTasks;

		if (event->events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			continue;
		}
		connectionTasks = event->user_data;
		if (PQconsumeInput(connectionTasks->connection->pgconn) == 0)
			ThrowConnectionError(connectionTasks->connection);
	}
	CheckForDistributedDeadlockCancel();
	CHECK_FOR_INTERRUPTS();
}

/*
 * TaskExecutionNextTuple stores the next row any task returns into the
 * slot and returns true, or returns false once every task has finished.
 */
bool
TaskExecutionNextTuple(TaskExecution *execution, TupleTableSlot *slot)
{
	ListCell   *lc;

	DistTask   *task;

	if (!execution->started)
		StartExecution(execution);
	if (execution->orderedRowCount > 0)
		return NextRowInStatementOrder(execution, slot);
	if (!execution->buffered)
		return FetchNextRow(execution, slot, &task);

	/* read everything, free the connections, then return the rows */
	if (execution->buffer == NULL)
	{
		execution->buffer = tuplestore_begin_heap(false, false, work_mem);
		while (FetchNextRow(execution, slot, &task))
			tuplestore_puttupleslot(execution->buffer, slot);
		foreach(lc, execution->connectionTasks)
			ReleaseNodeConnection(((ConnectionTasks *) lfirst(lc))->connection);
		execution->bufferSlot =
			MakeSingleTupleTableSlot(execution->tupleDesc,
									 &TTSOpsMinimalTuple);
	}
	if (!tuplestore_gettupleslot(execution->buffer, true, false,
								 execution->bufferSlot))
	{
		ExecClearTuple(slot);
		return false;
	}
	ExecCopySlot(slot, execution->bufferSlot);
	return true;
}

/*
 * ReturnRowsInStatementOrder makes the execution return the rows of an
 * INSERT ... RETURNING in the order of the statement's rows: each task's
 * rowIndexes tells which statement row each of its rows is.
 */
void
ReturnRowsInStatementOrder(TaskExecution *execution, int rowCount)
{
	execution->orderedRowCount = rowCount;
}

/*
 * NextRowInStatementOrder reads every row first (they are few: one per
 * row of the statement), frees the connections, then returns the rows in
 * statement order.
 */
static bool
NextRowInStatementOrder(TaskExecution *execution, TupleTableSlot *slot)
{
	ListCell   *lc;
	DistTask   *task;

	if (execution->orderedRows == NULL)
	{
		execution->orderedRows = palloc0(sizeof(MinimalTuple) *
										 execution->orderedRowCount);
		while (FetchNextRow(execution, slot, &task))
		{
			int			rowIndex;

			if (task->rowsReturned >= list_length(task->rowIndexes))
				elog(ERROR, "a shard returned more rows than it was sent");
			rowIndex = list_nth_int(task->rowIndexes, task->rowsReturned++);
			execution->orderedRows[rowIndex] = ExecCopySlotMinimalTuple(slot);
		}
		foreach(lc, execution->connectionTasks)
			ReleaseNodeConnection(((ConnectionTasks *) lfirst(lc))->connection);
		execution->bufferSlot =
			MakeSingleTupleTableSlot(execution->tupleDesc,
									 &TTSOpsMinimalTuple);
	}
	while (execution->nextOrderedRow < execution->orderedRowCount)
	{
		MinimalTuple row = execution->orderedRows[execution->nextOrderedRow++];

		if (row == NULL)
			continue;
		ExecStoreMinimalTuple(row, execution->bufferSlot, false);
		ExecCopySlot(slot, execution->bufferSlot);
		return true;
	}
	ExecClearTuple(slot);
	return false;
}

/*
 * FetchNextRow stores the next row any task returns into the slot, sets
 * *task to that task and returns true, or returns false once every task
 * has finished.
 */
static bool
FetchNextRow(TaskExecution *execution, TupleTableSlot *slot, DistTask **task)
{
	while (!execution->finished)
	{
		ListCell   *lc;
		bool		anyBusy = false;

		CHECK_FOR_INTERRUPTS();

		foreach(lc, execution->connectionTasks)
		{
			ConnectionTasks *connectionTasks = lfirst(lc);
			NodeConnection *connection = connectionTasks->connection;

			while (connectionTasks->currentTask != NULL &&
				   !RemoteResultBusy(connection))
			{
				PGresult   *result = NextRemoteResult(connection);

				if (result == NULL)
				{
					instr_time	now;
					DistTask   *finished = connectionTasks->currentTask;

					INSTR_TIME_SET_CURRENT(now);
					INSTR_TIME_SUBTRACT(now, finished->startTime);
					finished->elapsedMs = INSTR_TIME_GET_MILLISEC(now);
					StartNextTask(execution, connectionTasks);
					continue;
				}
				switch (PQresultStatus(result))
				{
					case PGRES_SINGLE_TUPLE:
						connectionTasks->currentTask->rowCount++;
						if (connectionTasks->currentTask->replicaOf != NULL)
						{
							/* the first copy returned this row */
							PQclear(result);
							break;
						}
						StoreRow(execution, result, slot);
						PQclear(result);
						*task = connectionTasks->currentTask;
						return true;
					case PGRES_TUPLES_OK:
					case PGRES_COMMAND_OK:
						if (execution->isWrite &&
							connectionTasks->currentTask->replicaOf == NULL)
							execution->rowsProcessed +=
								strtou64(PQcmdTuples(result), NULL, 10);
						PQclear(result);
						break;
					default:
						ThrowRemoteError(connection, result);
				}
			}
			if (connectionTasks->currentTask != NULL)
				anyBusy = true;
		}

		if (!anyBusy && !StartReplicaTasks(execution))
		{
			execution->finished = true;
			break;
		}
		if (!anyBusy)
			continue;
		WaitForBusyConnections(execution);
	}
	ExecClearTuple(slot);
	return false;
}

/*
 * FinishTaskExecution stops whatever is still running (a LIMIT on the
 * coordinator may stop reading early) and releases the connections.  In a
 * remote transaction the command must complete, so its results are read
 * and discarded; otherwise it is cancelled.
 */
void
FinishTaskExecution(TaskExecution *execution)
{
	ListCell   *lc;

	foreach(lc, execution->connectionTasks)
	{
		ConnectionTasks *connectionTasks = lfirst(lc);
		NodeConnection *connection = connectionTasks->connection;

		if (connectionTasks->currentTask != NULL)
		{
			if (connection->xactState == REMOTE_XACT_NONE)
			{
				PGcancel   *cancel = PQgetCancel(connection->pgconn);
				char		errbuf[256];

				if (cancel != NULL)
				{
					(void) PQcancel(cancel, errbuf, sizeof(errbuf));
					PQfreeCancel(cancel);
				}
			}
			DrainRemoteResults(connection);
			connectionTasks->currentTask = NULL;
		}
		ReleaseNodeConnection(connection);
	}
	execution->finished = true;
	if (execution->buffer != NULL)
		tuplestore_end(execution->buffer);
	execution->buffer = NULL;
	if (execution->bufferSlot != NULL)
		ExecDropSingleTupleTableSlot(execution->bufferSlot);
	execution->bufferSlot = NULL;
	MemoryContextDelete(execution->rowContext);
	execution->rowContext = NULL;
	FreeExecutionWaitSet(execution);
}
