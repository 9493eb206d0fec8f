/*-------------------------------------------------------------------------
 *
 * deadlock_detection.c
 *	  Finding and breaking distributed deadlocks.
 *
 * Each server's own deadlock detector only sees the waits among its own
 * backends.  Two coordinator transactions that each hold a row lock on a
 * different node and wait for the other's row wait forever: on each node
 * one backend waits for another that is idle (its coordinator is waiting
 * elsewhere), which is no cycle there.
 *
 * The maintenance daemon of the coordinator's database builds the wait-for
 * graph over all servers every distdb.distributed_deadlock_detection_interval,
 * when one of its coordinator transactions has been running that long and
 * is waiting (for a node or a lock): it runs distdb_lock_waits() (waits
 * lasting at least the interval, from pg_locks and pg_blocking_pids(),
 * with each backend's distributed transaction id, see
 * distributed_transaction_id.c) on the coordinator and on every node.  A
 * vertex is a distributed transaction (every backend working for it, on
 * any server, is the same vertex) or a backend outside any distributed
 * transaction (a vertex per server and pid); an edge says the first waits
 * for a lock the second holds or waits for ahead of it.  Each cycle is
 * broken by cancelling its youngest transaction (latest start) of this
 * coordinator: the coordinator backend raises "deadlock detected", its
 * remote transactions roll back and release their locks, and the others
 * proceed.  The graph is searched again without the victim, so that one
 * round breaks every cycle.
 *
 * A transaction waiting for its own other backend (two connections to one
 * node) is no edge: such a wait ends when that backend's statement does.
 * Waits are read from each server in turn, not atomically; a wait seen on
 * one server may have ended before another is read, but only waits that
 * have lasted the whole interval count, and a victim is cancelled only
 * while it is still the same transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "distdb/connection_cache.h"
#include "distdb/deadlock_detection.h"
#include "distdb/distdb.h"
#include "distdb/distributed_transaction_id.h"
#include "distdb/metadata_catalog.h"
#include "distdb/remote_command.h"
#include "distdb/subtransaction_call.h"

/* how long reading one node's lock waits may take */
#define LOCK_WAITS_TIMEOUT_MS 10000

/* the coordinator's node id in vertex names */
#define COORDINATOR_NODE_ID 0

#define VERTEX_KEY_SIZE 128

typedef enum VisitState
{
	VERTEX_UNVISITED,
	VERTEX_ON_PATH,
	VERTEX_DONE
} VisitState;

/* a distributed transaction, or a backend outside of any */
typedef struct WaitVertex
{
	char		key[VERTEX_KEY_SIZE];	/* hash key, see VertexKey */
	int			index;			/* in WaitGraph.vertices */
	bool		isTransaction;
	DistributedTransactionId id;	/* if isTransaction */
	List	   *waitsFor;		/* indexes of the vertices it waits for */
	VisitState	state;
	int			pathPosition;	/* on the current path, when ON_PATH */
	bool		removed;		/* cancelled, or not cancellable */
} WaitVertex;

typedef struct WaitGraph
{
	MemoryContext context;
	HTAB	   *byKey;			/* key -> WaitVertex */
	List	   *vertices;		/* WaitVertex *, by index */
} WaitGraph;

/* arguments of CollectNodeLockWaits, for CallInSubtransaction */
typedef struct NodeWaitsArgs
{
	WaitGraph  *graph;
	DistNode   *node;
	int			minWaitMs;
} NodeWaitsArgs;

static char *LockWaitsQuery(int minWaitMs);
static WaitVertex *GetVertex(WaitGraph *graph, int32 nodeId, const char *pid,
							 const char *transaction);
static void AddWaitEdge(WaitGraph *graph, int32 nodeId,
						const char *waitingPid, const char *waitingTransaction,
						const char *blockingPid,
						const char *blockingTransaction);
static void CollectLocalLockWaits(WaitGraph *graph, int minWaitMs);
static void CollectNodeLockWaits(void *arg);
static List *FindCycle(WaitGraph *graph);
static List *VisitVertex(WaitGraph *graph, WaitVertex *vertex, List **path);
static WaitVertex *ChooseVictim(WaitGraph *graph, List *cycle);
static char *DescribeCycle(WaitGraph *graph, List *cycle);

PG_FUNCTION_INFO_V1(distdb_detect_distributed_deadlocks);

/*
 * distdb_detect_distributed_deadlocks(min_wait_ms) runs one detection at
 * once, over the waits that lasted at least min_wait_ms, and returns how
 * many transactions it cancelled.
 */
Datum
distdb_detect_distributed_deadlocks(PG_FUNCTION_ARGS)
{
	int32		minWaitMs = PG_GETARG_INT32(0);

	if (minWaitMs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_wait_ms must not be negative")));
	PG_RETURN_INT32(DetectDistributedDeadlocks(minWaitMs));
}

/*
 * DetectDistributedDeadlocks: see deadlock_detection.h and the file
 * header.
 */
int
DetectDistributedDeadlocks(int minWaitMs)
{
	WaitGraph	graph;
	HASHCTL		info;
	List	   *nodes;
	ListCell   *lc;
	int			cancelled = 0;

	graph.context = CurrentMemoryContext;
	graph.vertices = NIL;
	memset(&info, 0, sizeof(info));
	info.keysize = VERTEX_KEY_SIZE;
	info.entrysize = sizeof(WaitVertex);
	info.hcxt = CurrentMemoryContext;
	graph.byKey = hash_create("distdb wait-for graph", 64, &info,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	CollectLocalLockWaits(&graph, minWaitMs);
	nodes = ReadNodeRows();
	foreach(lc, nodes)
	{
		NodeWaitsArgs args = {&graph, lfirst(lc), minWaitMs};
		ErrorData  *error = CallInSubtransaction(CollectNodeLockWaits, &args);

		if (error != NULL)
		{
			ereport(WARNING,
					(errcode(error->sqlerrcode),
					 errmsg("could not read the lock waits of node %s:%d",
							args.node->nodeName, args.node->nodePort),
					 errdetail_internal("%s", error->message)));
			FreeErrorData(error);
		}
	}

	/* every cycle loses a vertex: at most that many rounds */
	for (int round = 0; round < list_length(graph.vertices); round++)
	{
		List	   *cycle = FindCycle(&graph);
		WaitVertex *victim;

		if (cycle == NIL)
			break;
		victim = ChooseVictim(&graph, cycle);
		if (victim == NULL)
		{
			/* no transaction of this coordinator: another one breaks it */
			((WaitVertex *) list_nth(graph.vertices,
									 linitial_int(cycle)))->removed = true;
			continue;
		}
		victim->removed = true;
		if (CancelDistributedTransaction(&victim->id))
		{
			cancelled++;
			ereport(LOG,
					(errmsg("distributed deadlock detected, canceling the transaction of process %d",
							victim->id.coordinatorPid),
					 errdetail_internal("Wait-for cycle: %s.",
										DescribeCycle(&graph, cycle))));
		}
	}
	hash_destroy(graph.byKey);
	return cancelled;
}

/*
 * LockWaitsQuery is the query that lists a server's lock waits.
 */
static char *
LockWaitsQuery(int minWaitMs)
{
	return psprintf("SELECT waiting_pid, waiting_transaction, blocking_pid, "
					"blocking_transaction FROM %s.distdb_lock_waits(%d)",
					DISTDB_SCHEMA_NAME, minWaitMs);
}

/*
 * GetVertex returns the vertex of a backend: its distributed transaction
 * when it works for one, else the backend itself on its server.
 */
static WaitVertex *
GetVertex(WaitGraph *graph, int32 nodeId, const char *pid,
		  const char *transaction)
{
	DistributedTransactionId id;
	bool		isTransaction = (transaction != NULL &&
								 ParseDistributedTransactionId(transaction, &id));
	char		key[VERTEX_KEY_SIZE];
	WaitVertex *vertex;
	bool		found;

	if (isTransaction)
		snprintf(key, sizeof(key), "t%s", transaction);
	else
		snprintf(key, sizeof(key), "b%d:%s", nodeId, pid);
	vertex = hash_search(graph->byKey, key, HASH_ENTER, &found);
	if (!found)
	{
		MemoryContext oldContext = MemoryContextSwitchTo(graph->context);

		vertex->index = list_length(graph->vertices);
		vertex->isTransaction = isTransaction;
		if (isTransaction)
			vertex->id = id;
		vertex->waitsFor = NIL;
		vertex->state = VERTEX_UNVISITED;
		vertex->pathPosition = -1;
		vertex->removed = false;
		graph->vertices = lappend(graph->vertices, vertex);
		MemoryContextSwitchTo(oldContext);
	}
	return vertex;
}

/*
 * AddWaitEdge adds one row of distdb_lock_waits() read on a server.
 */
static void
AddWaitEdge(WaitGraph *graph, int32 nodeId,
			const char *waitingPid, const char *waitingTransaction,
			const char *blockingPid, const char *blockingTransaction)
{
	WaitVertex *waiting = GetVertex(graph, nodeId, waitingPid,
									waitingTransaction);
	WaitVertex *blocking = GetVertex(graph, nodeId, blockingPid,
									 blockingTransaction);
	MemoryContext oldContext;

	if (waiting == blocking || list_member_int(waiting->waitsFor,
											   blocking->index))
		return;
	oldContext = MemoryContextSwitchTo(graph->context);
	waiting->waitsFor = lappend_int(waiting->waitsFor, blocking->index);
	MemoryContextSwitchTo(oldContext);
}

/*
 * CollectLocalLockWaits adds the coordinator's own lock waits.
 */
static void
CollectLocalLockWaits(WaitGraph *graph, int minWaitMs)
{
	char	   *query = LockWaitsQuery(minWaitMs);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to the SPI manager");
	if (SPI_execute(query, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the lock waits of the coordinator");
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[row];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		AddWaitEdge(graph, COORDINATOR_NODE_ID,
					SPI_getvalue(tuple, desc, 1), SPI_getvalue(tuple, desc, 2),
					SPI_getvalue(tuple, desc, 3), SPI_getvalue(tuple, desc, 4));
	}
	SPI_finish();
	pfree(query);
}

/*
 * CollectNodeLockWaits adds one node's lock waits, read over a connection
 * of its own (as recovery does: the daemon has no connection cache).
 */
static void
CollectNodeLockWaits(void *arg)
{
	NodeWaitsArgs *args = arg;
	DistNode   *node = args->node;
	PGconn	   *conn = ConnectToNodeDirect(node->nodeName, node->nodePort);

	PG_TRY();
	{
		PGresult   *result;

		if (PQsetnonblocking(conn, 1) != 0)
			elog(ERROR, "could not set the connection to node %s:%d non-blocking",
				 node->nodeName, node->nodePort);
		result = RunCommandOnDirectConnection(conn, node->nodeName,
											  node->nodePort,
											  LockWaitsQuery(args->minWaitMs),
											  LOCK_WAITS_TIMEOUT_MS);
		if (PQresultStatus(result) != PGRES_TUPLES_OK)
		{
			char	   *message = pstrdup(PQresultErrorMessage(result));

			PQclear(result);
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not list the lock waits of node %s:%d",
							node->nodeName, node->nodePort),
					 errdetail_internal("%s", pchomp(message))));
		}
		for (int row = 0; row < PQntuples(result); row++)
		{
			const char *value[4];

			for (int column = 0; column < 4; column++)
				value[column] = PQgetisnull(result, row, column) ? NULL :
					PQgetvalue(result, row, column);
			AddWaitEdge(args->graph, node->nodeId,
						value[0], value[1], value[2], value[3]);
		}
		PQclear(result);
	}
	PG_FINALLY();
	{
		PQfinish(conn);
	}
	PG_END_TRY();
}

/*
 * FindCycle returns the vertex indexes of a cycle among the vertices not
 * removed, or NIL when there is none.
 */
static List *
FindCycle(WaitGraph *graph)
{
	ListCell   *lc;

	foreach(lc, graph->vertices)
	{
		WaitVertex *vertex = lfirst(lc);

		vertex->state = VERTEX_UNVISITED;
		vertex->pathPosition = -1;
	}
	foreach(lc, graph->vertices)
	{
		WaitVertex *vertex = lfirst(lc);
		List	   *path = NIL;
		List	   *cycle;

		if (vertex->removed || vertex->state != VERTEX_UNVISITED)
			continue;
		cycle = VisitVertex(graph, vertex, &path);
		list_free(path);
		if (cycle != NIL)
			return cycle;
	}
	return NIL;
}

/*
 * VisitVertex is the depth-first search of FindCycle: path holds the
 * vertices from the search's start to this one.  A vertex it reaches that
 * is on the path closes a cycle.
 */
static List *
VisitVertex(WaitGraph *graph, WaitVertex *vertex, List **path)
{
	ListCell   *lc;

	check_stack_depth();
	vertex->state = VERTEX_ON_PATH;
	vertex->pathPosition = list_length(*path);
	*path = lappend_int(*path, vertex->index);

	foreach(lc, vertex->waitsFor)
	{
		WaitVertex *next = list_nth(graph->vertices, lfirst_int(lc));

		if (next->removed)
			continue;
		if (next->state == VERTEX_ON_PATH)
			return list_copy_tail(*path, next->pathPosition);
		if (next->state == VERTEX_UNVISITED)
		{
			List	   *cycle = VisitVertex(graph, next, path);

			if (cycle != NIL)
				return cycle;
		}
	}

	vertex->state = VERTEX_DONE;
	*path = list_delete_last(*path);
	return NIL;
}

/*
 * ChooseVictim returns the youngest transaction of this coordinator in the
 * cycle (latest start; ties broken by counter and pid), or NULL.
 */
static WaitVertex *
ChooseVictim(WaitGraph *graph, List *cycle)
{
	WaitVertex *victim = NULL;
	ListCell   *lc;

	foreach(lc, cycle)
	{
		WaitVertex *vertex = list_nth(graph->vertices, lfirst_int(lc));

		if (!vertex->isTransaction ||
			!IsLocalDistributedTransaction(&vertex->id))
			continue;
		if (victim == NULL ||
			vertex->id.startTime > victim->id.startTime ||
			(vertex->id.startTime == victim->id.startTime &&
			 (vertex->id.number > victim->id.number ||
			  (vertex->id.number == victim->id.number &&
			   vertex->id.coordinatorPid > victim->id.coordinatorPid))))
			victim = vertex;
	}
	return victim;
}

/*
 * DescribeCycle names the cycle's vertices for the log.
 */
static char *
DescribeCycle(WaitGraph *graph, List *cycle)
{
	StringInfoData text;
	ListCell   *lc;

	initStringInfo(&text);
	foreach(lc, cycle)
	{
		WaitVertex *vertex = list_nth(graph->vertices, lfirst_int(lc));

		if (vertex->isTransaction)
			appendStringInfo(&text, "transaction of coordinator process %d",
							 vertex->id.coordinatorPid);
		else
			appendStringInfo(&text, "backend %s", vertex->key + 1);
		appendStringInfoString(&text, " waits for ");
	}
	appendStringInfoString(&text, "the first one");
	return text.data;
}
