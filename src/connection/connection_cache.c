/*-------------------------------------------------------------------------
 *
 * connection_cache.c
 *	  Per-backend cache of libpq connections to the worker nodes.
 *
 * Connections are opened as the current user, to the current database,
 * with the extra options of distdb.node_conninfo, and are kept open across
 * statements and transactions.  Establishment is non-blocking and goes
 * through a WaitEventSet, so query cancel and statement_timeout interrupt
 * it and several connections are established in parallel.
 *
 * A connection is "claimed" by the statement using it and released when
 * the statement ends (or the transaction aborts).  Once a remote
 * transaction is open on a connection (remote_transaction.c), it is the
 * only connection to that node the transaction may use.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
#include "catalog/pg_authid.h"

#include "distdb/connection_cache.h"
#include "distdb/distdb.h"
#include "distdb/distributed_transaction_id.h"
#include "distdb/metadata_cache.h"
#include "distdb/remote_command.h"
#include "distdb/two_phase_commit.h"

/* hash key and entry: the connections of one user to one node */
typedef struct ConnectionCacheKey
{
	int32		nodeId;
	Oid			userId;
} ConnectionCacheKey;

typedef struct ConnectionCacheEntry
{
	ConnectionCacheKey key;
	dlist_head	connections;	/* NodeConnection */
} ConnectionCacheEntry;

static HTAB *ConnectionCache = NULL;
static MemoryContext ConnectionContext = NULL;

/*
 * Settings of the local session that remote sessions copy: functions and
 * casts evaluated on a node depend on the first three (values travel as
 * text and are read back under the same settings, so copying them keeps
 * results exact); lock_timeout bounds the lock waits of the statement's
 * shard commands as it bounds a local statement's.  (statement_timeout
 * needs no copy: the coordinator cancels the remote commands itself.)
 */
static const char *const SyncedSettings[] = {"TimeZone", "DateStyle",
"IntervalStyle", "lock_timeout"};

static ConnectionCacheEntry *GetCacheEntry(int32 nodeId, bool create);
static char *CurrentSessionSettings(void);
static NodeConnection *StartNodeConnection(ConnectionCacheEntry *entry);
static PGconn *StartConnection(const char *nodeName, int32 nodePort);
static void WaitForConnectionsEstablished(PGconn **conns, int count,
										  const char **names, int32 *ports);

/*
 * InitializeConnectionCache creates the (empty) cache; called from
 * _PG_init.
 */
void
InitializeConnectionCache(void)
{
	HASHCTL		info;

	ConnectionContext = AllocSetContextCreate(TopMemoryContext,
											  "distdb connections",
											  ALLOCSET_DEFAULT_SIZES);
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(ConnectionCacheKey);
	info.entrysize = sizeof(ConnectionCacheEntry);
	info.hcxt = ConnectionContext;
	ConnectionCache = hash_create("distdb connection cache", 16, &info,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * GetCacheEntry returns the entry for the current user and a node,
 * creating it if asked (otherwise NULL when there is none).
 */
static ConnectionCacheEntry *
GetCacheEntry(int32 nodeId, bool create)
{
	ConnectionCacheKey key;
	ConnectionCacheEntry *entry;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.nodeId = nodeId;
	key.userId = GetUserId();
	entry = hash_search(ConnectionCache, &key,
						create ? HASH_ENTER : HASH_FIND, &found);
	if (entry != NULL && !found)
		dlist_init(&entry->connections);
	return entry;
}

/*
 * ConnectionIsUsable: an established connection that libpq considers
 * healthy, or one still being established.
 */
static bool
ConnectionIsUsable(NodeConnection *connection)
{
	if (connection->pgconn == NULL)
		return false;
	if (connection->connecting)
		return true;
	return PQstatus(connection->pgconn) == CONNECTION_OK;
}

/*
 * ClaimNodeConnections claims up to maxCount connections to a node for the
 * running statement (see connection_cache.h).  Connections that are
 * returned may still be connecting: pass them to
 * FinishConnectionEstablishment before use.
 */
List *
ClaimNodeConnections(int32 nodeId, int maxCount)
{
	ConnectionCacheEntry *entry;
	List	   *claimed = NIL;
	dlist_mutable_iter iter;

	/*
	 * The last transaction's COMMIT PREPARED first, on every node: a query
	 * on another connection to a node must run after it to see its writes.
	 */
	ReadFinishPreparedResults();

	entry = GetCacheEntry(nodeId, true);
	/* drop broken idle connections; find a transaction connection */
	dlist_foreach_modify(iter, &entry->connections)
	{
		NodeConnection *connection = dlist_container(NodeConnection, listNode,
													 iter.cur);

		if (connection->xactState != REMOTE_XACT_NONE)
		{
			if (connection->claimed)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot use the connection to node %s:%d for two distributed scans at once",
								connection->nodeName, connection->nodePort),
						 errdetail("The current transaction has written on the node through this connection.")));
			connection->claimed = true;
			return list_make1(connection);
		}
		if (!connection->claimed && !ConnectionIsUsable(connection))
			CloseNodeConnection(connection);
	}

	dlist_foreach_modify(iter, &entry->connections)
	{
		NodeConnection *connection = dlist_container(NodeConnection, listNode,
													 iter.cur);

		if (list_length(claimed) >= maxCount)
			break;
		if (!connection->claimed)
		{
			connection->claimed = true;
			claimed = lappend(claimed, connection);
		}
	}

	while (list_length(claimed) < maxCount)
	{
		NodeConnection *connection = StartNodeConnection(entry);

		connection->claimed = true;
		claimed = lappend(claimed, connection);
	}
	return claimed;
}

/*
 * ClaimNodeConnection claims one established connection to a node.
 */
NodeConnection *
ClaimNodeConnection(int32 nodeId)
{
	List	   *connections = ClaimNodeConnections(nodeId, 1);

	FinishConnectionEstablishment(connections);
	return linitial(connections);
}

/*
 * StartNodeConnection starts a new connection to the entry's node and adds
 * it to the entry; it is still connecting when returned.
 */
static NodeConnection *
StartNodeConnection(ConnectionCacheEntry *entry)
{
	DistNode   *node = LookupNode(entry->key.nodeId, false);
	NodeConnection *connection;

	connection = MemoryContextAllocZero(ConnectionContext,
										sizeof(NodeConnection));
	connection->nodeId = entry->key.nodeId;
	connection->userId = entry->key.userId;
	connection->nodeName = MemoryContextStrdup(ConnectionContext,
											   node->nodeName);
	connection->nodePort = node->nodePort;
	connection->xactState = REMOTE_XACT_NONE;
	connection->pgconn = StartConnection(node->nodeName, node->nodePort);
	connection->connecting = true;
	dlist_push_tail(&entry->connections, &connection->listNode);
	return connection;
}

/*
 * AppendSessionOption adds "-c name=value" to a libpq options string,
 * escaping what libpq's option parser treats specially.
 */
static void
AppendSessionOption(StringInfo options, const char *name, const char *value)
{
	const char *p;

	appendStringInfo(options, " -c %s=", name);
	for (p = value; *p; p++)
	{
		if (*p == ' ' || *p == '\\')
			appendStringInfoChar(options, '\\');
		appendStringInfoChar(options, *p);
	}
}

/*
 * NodeLoginUserName returns the role to log in to nodes as: the current
 * user, or the session user when the current user cannot log in (after
 * SET ROLE to a group role, say); the remote session then does SET ROLE.
 */
static char *
NodeLoginUserName(void)
{
	Oid			userId = GetUserId();
	HeapTuple	roleTuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(userId));
	bool		canLogin = false;

	if (HeapTupleIsValid(roleTuple))
	{
		canLogin = ((Form_pg_authid) GETSTRUCT(roleTuple))->rolcanlogin;
		ReleaseSysCache(roleTuple);
	}
	if (!canLogin)
		userId = GetSessionUserId();
	return GetUserNameFromId(userId, false);
}

/*
 * StartConnection begins a non-blocking connection to host:port as the
 * current user, to the current database.  The remote session starts with
 * the local session's settings (see SyncedSettings).
 */
static PGconn *
StartConnection(const char *nodeName, int32 nodePort)
{
	const char *keywords[32];
	const char *values[32];
	int			n = 0;
	char		portString[12];
	char	   *userName = GetUserNameFromId(GetUserId(), false);
	char	   *loginName = NodeLoginUserName();
	char	   *databaseName = get_database_name(MyDatabaseId);
	StringInfoData options;
	PQconninfoOption *extraOptions = NULL;
	PGconn	   *conn;

	snprintf(portString, sizeof(portString), "%d", nodePort);
	initStringInfo(&options);
	for (int i = 0; i < lengthof(SyncedSettings); i++)
		AppendSessionOption(&options, SyncedSettings[i],
							GetConfigOption(SyncedSettings[i], false, false));
	/* floats travel with all their digits */
	AppendSessionOption(&options, "extra_float_digits", "3");
	/* shards already run in parallel: see distdb.node_parallel_query */
	if (!DistdbNodeParallelQuery)
		AppendSessionOption(&options, "max_parallel_workers_per_gather", "0");
	/* a role that cannot log in acts through the session user */
	if (strcmp(loginName, userName) != 0)
		AppendSessionOption(&options, "role", userName);

	/* extra options from distdb.node_conninfo come first: ours win */
	if (DistdbNodeConninfo != NULL && DistdbNodeConninfo[0] != '\0')
	{
		char	   *errorMessage = NULL;
		PQconninfoOption *option;

		extraOptions = PQconninfoParse(DistdbNodeConninfo, &errorMessage);
		if (extraOptions == NULL)
		{
			char	   *message = pstrdup(errorMessage ? errorMessage : "");

			if (errorMessage)
				PQfreemem(errorMessage);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for distdb.node_conninfo"),
					 errdetail_internal("%s", message)));
		}
		for (option = extraOptions; option->keyword != NULL; option++)
		{
			if (option->val == NULL || option->val[0] == '\0')
				continue;
			if (n >= 20)
				break;
			keywords[n] = option->keyword;
			values[n] = option->val;
			n++;
		}
	}

	keywords[n] = "host";
	values[n++] = nodeName;
	keywords[n] = "port";
	values[n++] = portString;
	keywords[n] = "dbname";
	values[n++] = databaseName;
	keywords[n] = "user";
	values[n++] = loginName;
	keywords[n] = "fallback_application_name";
	values[n++] = "distdb";
	keywords[n] = "client_encoding";
	values[n++] = GetDatabaseEncodingName();
	keywords[n] = "options";
	values[n++] = options.data;
	keywords[n] = NULL;
	values[n] = NULL;

	conn = PQconnectStartParams(keywords, values, false);
	if (extraOptions != NULL)
		PQconninfoFree(extraOptions);
	if (conn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	return conn;
}

/*
 * WaitForConnectionsEstablished drives PQconnectPoll on several connections
 * at once until all are established, waiting on their sockets and on the
 * latch so that interrupts are served.  Errors out, naming the node, when
 * a connection fails or distdb.node_connection_timeout passes.
 */
static void
WaitForConnectionsEstablished(PGconn **conns, int count, const char **names,
							  int32 *ports)
{
	PostgresPollingStatusType *status;
	TimestampTz deadline;
	int			i;

	status = palloc(sizeof(PostgresPollingStatusType) * count);
	for (i = 0; i < count; i++)
	{
		if (PQstatus(conns[i]) == CONNECTION_BAD)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not connect to node %s:%d", names[i], ports[i]),
					 errdetail_internal("%s", pchomp(PQerrorMessage(conns[i])))));
		status[i] = (PQstatus(conns[i]) == CONNECTION_OK) ?
			PGRES_POLLING_OK : PGRES_POLLING_WRITING;
	}

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   DistdbNodeConnectionTimeout);
	for (;;)
	{
		WaitEventSet *set;
		WaitEvent  *events;
		int			pending = 0;
		int			nevents;
		long		timeout;

		CHECK_FOR_INTERRUPTS();

		for (i = 0; i < count; i++)
			if (status[i] != PGRES_POLLING_OK)
				pending++;
		if (pending == 0)
			break;

		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
												  deadline);
		if (timeout <= 0)
		{
			for (i = 0; i < count && status[i] == PGRES_POLLING_OK; i++)
				;
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not connect to node %s:%d", names[i], ports[i]),
					 errdetail("The connection was not established within distdb.node_connection_timeout (%d ms).",
							   DistdbNodeConnectionTimeout)));
		}

		set = CreateWaitEventSet(CurrentMemoryContext, pending + 2);
		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL,
						  NULL);
		for (i = 0; i < count; i++)
		{
			uint32		waitFor;

			if (status[i] == PGRES_POLLING_OK)
				continue;
			waitFor = (status[i] == PGRES_POLLING_READING) ?
				WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
			AddWaitEventToSet(set, waitFor, PQsocket(conns[i]), NULL,
							  (void *) (intptr_t) i);
		}

		events = palloc(sizeof(WaitEvent) * (pending + 2));
		nevents = WaitEventSetWait(set, timeout, events, pending + 2,
								   PG_WAIT_EXTENSION);
		FreeWaitEventSet(set);

		for (int e = 0; e < nevents; e++)
		{
			if (events[e].events & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				continue;
			}
			i = (int) (intptr_t) events[e].user_data;
			status[i] = PQconnectPoll(conns[i]);
			if (status[i] == PGRES_POLLING_FAILED)
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("could not connect to node %s:%d",
								names[i], ports[i]),
						 errdetail_internal("%s",
											pchomp(PQerrorMessage(conns[i])))));
		}
		pfree(events);
	}
	pfree(status);
}

/*
 * NodeNoticeProcessor reports notices and warnings a node sends at DEBUG1
 * instead of libpq's default of printing them to the server's stderr.
 */
static void
NodeNoticeProcessor(void *arg, const char *message)
{
	NodeConnection *connection = (NodeConnection *) arg;

	elog(DEBUG1, "node %s:%d: %s", connection->nodeName, connection->nodePort,
		 message);
}

/*
 * FinishConnectionEstablishment waits until every connection in the list
 * is established, in parallel.  A connection that fails is closed (and
 * removed from the cache) before the error is raised.
 */
void
FinishConnectionEstablishment(List *connections)
{
	int			count = 0;
	PGconn	  **conns;
	const char **names;
	int32	   *ports;
	ListCell   *lc;

	conns = palloc(sizeof(PGconn *) * Max(list_length(connections), 1));
	names = palloc(sizeof(char *) * Max(list_length(connections), 1));
	ports = palloc(sizeof(int32) * Max(list_length(connections), 1));
	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);

		if (!connection->connecting)
			continue;
		conns[count] = connection->pgconn;
		names[count] = connection->nodeName;
		ports[count] = connection->nodePort;
		count++;
	}
	if (count == 0)
		return;

	PG_TRY();
	{
		WaitForConnectionsEstablished(conns, count, names, ports);
	}
	PG_CATCH();
	{
		/* a half-open connection is useless: close every unfinished one */
		foreach(lc, connections)
		{
			NodeConnection *connection = lfirst(lc);

			if (connection->connecting &&
				PQstatus(connection->pgconn) != CONNECTION_OK)
				CloseNodeConnection(connection);
		}
		PG_RE_THROW();
	}
	PG_END_TRY();

	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);

		if (connection->connecting)
		{
			connection->connecting = false;
			connection->sessionSettings =
				MemoryContextStrdup(ConnectionContext, CurrentSessionSettings());
			PQsetNoticeProcessor(connection->pgconn, NodeNoticeProcessor,
								 connection);
			if (PQsetnonblocking(connection->pgconn, 1) != 0)
				elog(ERROR, "could not set connection to node %s:%d non-blocking",
					 connection->nodeName, connection->nodePort);
		}
	}
}

/*
 * ConnectToNodeDirect opens a connection to host:port outside the cache,
 * as the current user, waiting interruptibly; errors out when the node
 * cannot be reached.  The caller must PQfinish it.
 */
PGconn *
ConnectToNodeDirect(const char *nodeName, int32 nodePort)
{
	PGconn	   *conn = StartConnection(nodeName, nodePort);

	PG_TRY();
	{
		WaitForConnectionsEstablished(&conn, 1, &nodeName, &nodePort);
	}
	PG_CATCH();
	{
		PQfinish(conn);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return conn;
}

/* ReleaseNodeConnection: the statement is done with the connection */
void
ReleaseNodeConnection(NodeConnection *connection)
{
	connection->claimed = false;
}

/* ReleaseAllNodeConnections, at the end of a transaction */
void
ReleaseAllNodeConnections(void)
{
	ListCell   *lc;
	List	   *connections = AllNodeConnections();

	foreach(lc, connections)
		ReleaseNodeConnection(lfirst(lc));
	list_free(connections);
}

/*
 * CloseNodeConnection closes a connection and removes it from the cache.
 */
void
CloseNodeConnection(NodeConnection *connection)
{
	dlist_delete(&connection->listNode);
	if (connection->waitSet != NULL)
		FreeWaitEventSet(connection->waitSet);
	if (connection->pgconn != NULL)
		PQfinish(connection->pgconn);
	ForgetSessionSettings(connection);
	if (connection->preparedStatements != NULL)
		hash_destroy(connection->preparedStatements);
	if (connection->pipelineFailure != NULL)
		PQclear(connection->pipelineFailure);
	list_free_deep(connection->queuedCommands);
	if (connection->finishingGid != NULL)
		pfree(connection->finishingGid);
	pfree(connection->nodeName);
	pfree(connection);
}

/*
 * CurrentSessionSettings returns the local values of SyncedSettings as the
 * commands that set them.
 */
static char *
CurrentSessionSettings(void)
{
	StringInfoData commands;

	initStringInfo(&commands);
	for (int i = 0; i < lengthof(SyncedSettings); i++)
		appendStringInfo(&commands, "SET %s TO %s;", SyncedSettings[i],
						 quote_literal_cstr(GetConfigOption(SyncedSettings[i],
															false, false)));
	return commands.data;
}

/*
 * SyncSessionSettings gives the remote session the local session's values
 * of SyncedSettings, if they changed since they were last sent.
 */
void
SyncSessionSettings(NodeConnection *connection)
{
	char	   *settings = CurrentSessionSettings();

	if (connection->sessionSettings != NULL &&
		strcmp(connection->sessionSettings, settings) == 0)
		return;
	ExecuteRemoteCommand(connection, settings);
	ForgetSessionSettings(connection);
	connection->sessionSettings = MemoryContextStrdup(ConnectionContext,
													  settings);
}

/*
 * ForgetSessionSettings records that the remote session's settings are
 * unknown, e.g. after a rollback undid a SET.
 */
void
ForgetSessionSettings(NodeConnection *connection)
{
	if (connection->sessionSettings != NULL)
		pfree(connection->sessionSettings);
	connection->sessionSettings = NULL;
}

/* position of the socket event in a connection's wait event set */
#define SOCKET_EVENT_POSITION 2

/*
 * WaitForNodeSocketUntil waits at most timeoutMs (-1: without limit) until
 * the connection's socket is readable and/or writable, or the latch is
 * set; returns false when the time ran out or the connection has no
 * socket.  It serves no interrupts, so abort and post-commit cleanup use it
 * too.  The wait event set lives as long as the connection, which spares
 * creating one (an epoll instance and three system calls) per wait.
 */
bool
WaitForNodeSocketUntil(NodeConnection *connection, bool forRead,
					   bool forWrite, long timeoutMs)
{
	WaitEvent	event;
	uint32		events = 0;
	int			count;

	if (PQsocket(connection->pgconn) < 0)
		return false;
	if (connection->waitSet == NULL)
	{
		WaitEventSet *set = CreateWaitEventSet(ConnectionContext, 3);

		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL,
						  NULL);
		if (AddWaitEventToSet(set, WL_SOCKET_READABLE,
							  PQsocket(connection->pgconn), NULL,
							  NULL) != SOCKET_EVENT_POSITION)
			elog(ERROR, "unexpected wait event position");
		connection->waitSet = set;
	}

	if (forRead)
		events |= WL_SOCKET_READABLE;
	if (forWrite)
		events |= WL_SOCKET_WRITEABLE;
	ModifyWaitEvent(connection->waitSet, SOCKET_EVENT_POSITION, events, NULL);

	count = WaitEventSetWait(connection->waitSet, timeoutMs, &event, 1,
							 PG_WAIT_EXTENSION);
	if (count == 1 && (event.events & WL_LATCH_SET))
		ResetLatch(MyLatch);
	return count > 0;
}

/*
 * WaitForNodeSocket waits until the connection's socket is readable and/or
 * writable, or the latch is set, and serves interrupts.
 */
void
WaitForNodeSocket(NodeConnection *connection, bool forRead, bool forWrite)
{
	(void) WaitForNodeSocketUntil(connection, forRead, forWrite, -1);
	CheckForDistributedDeadlockCancel();
	CHECK_FOR_INTERRUPTS();
}

/*
 * AllNodeConnections lists every cached connection of every user.
 */
List *
AllNodeConnections(void)
{
	HASH_SEQ_STATUS status;
	ConnectionCacheEntry *entry;
	List	   *connections = NIL;

	if (ConnectionCache == NULL)
		return NIL;
	hash_seq_init(&status, ConnectionCache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		dlist_iter	iter;

		dlist_foreach(iter, &entry->connections)
			connections = lappend(connections,
								  dlist_container(NodeConnection, listNode,
												  iter.cur));
	}
	return connections;
}

/*
 * NodeHasRemoteTransaction: whether the current user's connection to a
 * node has a remote transaction of the local one open.
 */
bool
NodeHasRemoteTransaction(int32 nodeId)
{
	ConnectionCacheEntry *entry = GetCacheEntry(nodeId, false);
	dlist_iter	iter;

	if (entry == NULL)
		return false;
	dlist_foreach(iter, &entry->connections)
	{
		if (dlist_container(NodeConnection, listNode,
							iter.cur)->xactState != REMOTE_XACT_NONE)
			return true;
	}
	return false;
}

/*
 * CountClaimedNodeConnections returns how many connections to a node the
 * running statement holds (for distdb.max_connections_per_node).
 */
int
CountClaimedNodeConnections(int32 nodeId)
{
	ConnectionCacheEntry *entry = GetCacheEntry(nodeId, true);
	dlist_iter	iter;
	int			count = 0;

	dlist_foreach(iter, &entry->connections)
	{
		if (dlist_container(NodeConnection, listNode, iter.cur)->claimed)
			count++;
	}
	return count;
}

PG_FUNCTION_INFO_V1(distdb_node_connections);

/*
 * distdb_node_connections lists, per node, the connections this session
 * keeps open to it and how many of them the running statement uses.
 */
Datum
distdb_node_connections(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *nodeIds = NIL;
	List	   *connections;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	connections = AllNodeConnections();
	foreach(lc, connections)
	{
		NodeConnection *connection = lfirst(lc);

		if (!list_member_int(nodeIds, connection->nodeId))
			nodeIds = lappend_int(nodeIds, connection->nodeId);
	}
	foreach(lc, nodeIds)
	{
		int32		nodeId = lfirst_int(lc);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		int			open = 0;
		int			inUse = 0;
		ListCell   *clc;

		foreach(clc, connections)
		{
			NodeConnection *connection = lfirst(clc);

			if (connection->nodeId != nodeId)
				continue;
			open++;
			if (connection->claimed)
				inUse++;
		}
		values[0] = Int32GetDatum(nodeId);
		values[1] = Int32GetDatum(open);
		values[2] = Int32GetDatum(inUse);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}
