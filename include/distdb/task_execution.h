/*-------------------------------------------------------------------------
 *
 * task_execution.h
 *	  Running a statement's tasks on the nodes in parallel and streaming
 *	  their results.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_TASK_EXECUTION_H
#define DISTDB_TASK_EXECUTION_H

#include "executor/instrument.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "utils/tuplestore.h"

#include "distdb/connection_cache.h"
#include "distdb/remote_command.h"

/* one command for one shard placement */
typedef struct DistTask
{
	int			shardIndex;
	int64		shardId;
	int32		nodeId;
	char	   *queryString;
	RemoteParams *params;		/* NULL: no parameters */
	bool		prepare;		/* run as a statement prepared on the node */
	List	   *rowIndexes;		/* INSERT: statement row of each row sent */
	int			rowsReturned;	/* rows the task returned so far */

	/*
	 * A write to a shard with several placements has a task per placement:
	 * the other copies' tasks point to the first one, run after it and
	 * neither return rows nor count them.
	 */
	struct DistTask *replicaOf;

	/* for EXPLAIN ANALYZE */
	instr_time	startTime;
	double		elapsedMs;		/* time from sending to completion */
	uint64		rowCount;		/* rows it returned */
} DistTask;

/* a connection and the tasks it runs one after another */
typedef struct ConnectionTasks
{
	NodeConnection *connection;
	List	   *tasks;			/* DistTask, in order */
	int			nextTask;
	DistTask   *currentTask;	/* running now, or NULL */
	bool		inWaitSet;		/* its socket is in the execution's wait
								 * event set */
} ConnectionTasks;

typedef struct TaskExecution
{
	List	   *tasks;
	bool		isWrite;
	bool		expectsRows;
	bool		inTransaction;	/* a write that runs in a remote transaction
								 * even as a single task (the statement
								 * writes more afterwards, or may fail) */
	List	   *connectionTasks;	/* ConnectionTasks */
	List	   *replicaTasks;	/* DistTask with replicaOf set, started once
								 * every other task has finished */
	bool		started;
	bool		finished;
	uint64		rowsProcessed;	/* sum of the commands' row counts */

	/*
	 * Waits for several busy connections use a wait event set (the latch,
	 * postmaster death and the busy connections' sockets) kept from one
	 * wait to the next while the same connections are busy, and freed with
	 * the memory it lives in, even on error.
	 */
	WaitEventSet *waitSet;
	WaitEvent  *waitEvents;		/* room for what one wait returns */
	bool		waitSetCallback;	/* the freeing callback is registered */

	/*
	 * Rows read through a connection of a remote transaction are buffered
	 * here, so the connection is free for the transaction's next command
	 * (another scan of the same plan, say) as soon as this one completes.
	 */
	bool		buffered;
	Tuplestorestate *buffer;
	TupleTableSlot *bufferSlot; /* reads from the buffer */

	/*
	 * INSERT ... RETURNING returns its rows in the order of the statement's
	 * VALUES rows, like PostgreSQL, not in the order shards answer.
	 */
	int			orderedRowCount;	/* 0: rows in arrival order */
	MinimalTuple *orderedRows;
	int			nextOrderedRow;

	/* converting result rows */
	TupleDesc	tupleDesc;
	bool		binaryResults;	/* values come in binary format */
	FmgrInfo   *inputFunctions; /* receive functions if binary, else input */
	Oid		   *typioparams;
	MemoryContext rowContext;
} TaskExecution;

extern TaskExecution *CreateTaskExecution(List *tasks, bool isWrite,
										  bool expectsRows,
										  TupleDesc tupleDesc);
extern bool TaskExecutionNextTuple(TaskExecution *execution,
								   TupleTableSlot *slot);
extern void ReturnRowsInStatementOrder(TaskExecution *execution,
									   int rowCount);
extern void FinishTaskExecution(TaskExecution *execution);

#endif							/* DISTDB_TASK_EXECUTION_H */
