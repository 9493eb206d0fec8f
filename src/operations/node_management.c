/*-------------------------------------------------------------------------
 *
 * node_management.c
 *	  SQL functions that add worker nodes to the cluster and remove them.
 *
 * Adding a node checks that it can be reached as the current user, that it
 * is not this server itself, and that it has distdb installed (installing
 * it when it is missing) before recording it in distdb.node; the node then
 * gets a copy of every reference table (reference_table_copies.c).  Both
 * functions lock distdb.node in SHARE ROW EXCLUSIVE mode, which conflicts
 * with itself and with the SHARE lock create_distributed_table takes while
 * it places shards, so that a node is never removed while shards are being
 * placed on it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/wait_event.h"

#include "libpq-fe.h"

#include "distdb/connection_cache.h"
#include "distdb/metadata_cache.h"
#include "distdb/metadata_catalog.h"
#include "distdb/reference_table_copies.h"

PG_FUNCTION_INFO_V1(distdb_add_node);
PG_FUNCTION_INFO_V1(distdb_remove_node);

static void ValidateNodeAddress(const char *nodeName, int32 nodePort);
static DistNode *FindNodeByAddress(const char *nodeName, int32 nodePort);
static void PrepareNewNode(const char *nodeName, int32 nodePort);
static void CheckNodeIsNotCoordinator(PGconn *conn, const char *nodeName,
									  int32 nodePort);
static void EnsureDistdbInstalled(PGconn *conn, const char *nodeName,
								  int32 nodePort);
static PGresult *ExecuteNodeQuery(PGconn *conn, const char *nodeName,
								  int32 nodePort, const char *sql);
static char *TrimmedMessage(const char *message);


/*
 * distdb_add_node adds the node host:port to the cluster and returns its
 * node id.  Adding a node that is already there returns its id and changes
 * nothing.
 */
Datum
distdb_add_node(PG_FUNCTION_ARGS)
{
	char	   *nodeName = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		nodePort = PG_GETARG_INT32(1);
	DistNode   *existingNode;
	int32		nodeId;

	ValidateNodeAddress(nodeName, nodePort);

	LockRelationOid(DistdbCatalogRelid("node"), ShareRowExclusiveLock);

	existingNode = FindNodeByAddress(nodeName, nodePort);
	if (existingNode != NULL)
		PG_RETURN_INT32(existingNode->nodeId);

	PrepareNewNode(nodeName, nodePort);

	nodeId = InsertNodeRow(nodeName, nodePort);

	/* the new node gets a copy of every reference table */
	ReplicateReferenceTablesToNode(nodeId);

	PG_RETURN_INT32(nodeId);
}


/*
 * distdb_remove_node removes the node host:port from the cluster, which is
 * refused while the node holds shards of distributed tables.  Its copies
 * of reference tables are dropped (in the same transaction).
 */
Datum
distdb_remove_node(PG_FUNCTION_ARGS)
{
	char	   *nodeName = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		nodePort = PG_GETARG_INT32(1);
	DistNode   *node;
	int64		placementCount;

	LockRelationOid(DistdbCatalogRelid("node"), ShareRowExclusiveLock);

	node = FindNodeByAddress(nodeName, nodePort);
	if (node == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("node %s:%d does not exist", nodeName, nodePort)));

	placementCount = CountPlacementsOnNode(node->nodeId) -
		CountReferenceTableCopies(node->nodeId);
	if (placementCount > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("cannot remove node %s:%d because it holds shard placements",
						nodeName, nodePort),
				 errdetail_plural("Node %d holds " INT64_FORMAT " shard placement.",
								  "Node %d holds " INT64_FORMAT " shard placements.",
								  (unsigned long) placementCount,
								  node->nodeId, placementCount),
				 errhint("Drop the distributed tables that have shards on the node first.")));

	/* copies of reference tables go with the node, if they have others */
	DropReferenceTableCopiesOnNode(node->nodeId);

	DeleteNodeRow(node->nodeId);

	PG_RETURN_VOID();
}


/*
 * ValidateNodeAddress refuses an empty host name and ports outside the
 * TCP range.
 */
static void
ValidateNodeAddress(const char *nodeName, int32 nodePort)
{
	if (nodeName[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("node host name must not be empty")));

	if (nodePort < 1 || nodePort > 65535)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid port number %d", nodePort),
				 errdetail("Port numbers must be between 1 and 65535.")));
}


/*
 * FindNodeByAddress returns the registered node with this host and port,
 * or NULL if there is none.
 */
static DistNode *
FindNodeByAddress(const char *nodeName, int32 nodePort)
{
	List	   *nodes = ReadNodeRows();
	ListCell   *cell;

	foreach(cell, nodes)
	{
		DistNode   *node = (DistNode *) lfirst(cell);

		if (node->nodePort == nodePort && strcmp(node->nodeName, nodeName) == 0)
			return node;
	}

	return NULL;
}


/*
 * PrepareNewNode connects to a node about to be added, checks that it is
 * not this server and installs distdb there if it is missing.  The
 * connection is closed before returning, also on error.
 */
static void
PrepareNewNode(const char *nodeName, int32 nodePort)
{
	PGconn	   *conn = ConnectToNodeDirect(nodeName, nodePort);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		char	   *message;

		message = TrimmedMessage(conn != NULL ? PQerrorMessage(conn) :
								 "out of memory");
		if (conn != NULL)
			PQfinish(conn);

		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not connect to node %s:%d", nodeName, nodePort),
				 errdetail_internal("%s", message)));
	}

	PG_TRY();
	{
		CheckNodeIsNotCoordinator(conn, nodeName, nodePort);
		EnsureDistdbInstalled(conn, nodeName, nodePort);
	}
	PG_FINALLY();
	{
		PQfinish(conn);
	}
	PG_END_TRY();
}


/*
 * CheckNodeIsNotCoordinator refuses a node whose system identifier is the
 * one of this server: it would be this server (or a physical copy of it),
 * and shards placed there would collide with the distributed tables.
 */
static void
CheckNodeIsNotCoordinator(PGconn *conn, const char *nodeName, int32 nodePort)
{
	PGresult   *result;
	int64		remoteIdentifier;
	int64		localIdentifier = (int64) GetSystemIdentifier();

	result = ExecuteNodeQuery(conn, nodeName, nodePort,
							  "SELECT system_identifier "
							  "FROM pg_catalog.pg_control_system()");
	if (PQntuples(result) != 1 || PQgetisnull(result, 0, 0))
	{
		PQclear(result);
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not read the system identifier of node %s:%d",
						nodeName, nodePort)));
	}
	remoteIdentifier = strtoi64(PQgetvalue(result, 0, 0), NULL, 10);
	PQclear(result);

	if (remoteIdentifier == localIdentifier)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot add node %s:%d because it is the coordinator",
						nodeName, nodePort),
				 errdetail("The node has the same system identifier as this server."),
				 errhint("Add worker servers, not the coordinator itself.")));
}


/*
 * EnsureDistdbInstalled runs CREATE EXTENSION distdb on the node unless
 * the extension is there already.  This runs outside any transaction of
 * ours: if adding the node fails later, the extension stays installed,
 * which is harmless.
 */
static void
EnsureDistdbInstalled(PGconn *conn, const char *nodeName, int32 nodePort)
{
	PGresult   *result;
	bool		installed;

	result = ExecuteNodeQuery(conn, nodeName, nodePort,
							  "SELECT 1 FROM pg_catalog.pg_extension "
							  "WHERE extname = 'distdb'");
	installed = (PQntuples(result) > 0);
	PQclear(result);

	if (installed)
		return;

	result = ExecuteNodeQuery(conn, nodeName, nodePort,
							  "CREATE EXTENSION distdb");
	PQclear(result);
}


/*
 * ExecuteNodeQuery runs one SQL statement on a connection opened by
 * ConnectToNodeDirect and returns its result, waiting on the socket so that
 * query cancel and statement_timeout interrupt the wait.  A failed
 * statement raises an error that keeps the node's SQLSTATE and message.
 */
static PGresult *
ExecuteNodeQuery(PGconn *conn, const char *nodeName, int32 nodePort,
				 const char *sql)
{
	PGresult   *lastResult = NULL;

	if (!PQsendQuery(conn, sql))
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not send a query to node %s:%d",
						nodeName, nodePort),
				 errdetail_internal("%s", TrimmedMessage(PQerrorMessage(conn)))));

	for (;;)
	{
		PGresult   *result;

		while (PQisBusy(conn))
		{
			int			rc;

			rc = WaitLatchOrSocket(MyLatch,
								   WL_LATCH_SET | WL_SOCKET_READABLE |
								   WL_EXIT_ON_PM_DEATH,
								   PQsocket(conn), -1L, PG_WAIT_EXTENSION);
			if (rc & WL_LATCH_SET)
				ResetLatch(MyLatch);

			CHECK_FOR_INTERRUPTS();

			if ((rc & WL_SOCKET_READABLE) && !PQconsumeInput(conn))
			{
				if (lastResult != NULL)
					PQclear(lastResult);
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("could not read a result from node %s:%d",
								nodeName, nodePort),
						 errdetail_internal("%s",
											TrimmedMessage(PQerrorMessage(conn)))));
			}
		}

		result = PQgetResult(conn);
		if (result == NULL)
			break;

		if (lastResult != NULL)
			PQclear(lastResult);
		lastResult = result;
	}

	if (lastResult == NULL ||
		(PQresultStatus(lastResult) != PGRES_COMMAND_OK &&
		 PQresultStatus(lastResult) != PGRES_TUPLES_OK))
	{
		char	   *message;
		int			errorCode = ERRCODE_CONNECTION_FAILURE;

		if (lastResult != NULL)
		{
			const char *sqlState = PQresultErrorField(lastResult,
													  PG_DIAG_SQLSTATE);

			if (sqlState != NULL && strlen(sqlState) == 5)
				errorCode = MAKE_SQLSTATE(sqlState[0], sqlState[1],
										  sqlState[2], sqlState[3],
										  sqlState[4]);
			message = TrimmedMessage(PQresultErrorMessage(lastResult));
			PQclear(lastResult);
		}
		else
			message = TrimmedMessage(PQerrorMessage(conn));

		ereport(ERROR,
				(errcode(errorCode),
				 errmsg("could not run \"%s\" on node %s:%d",
						sql, nodeName, nodePort),
				 errdetail_internal("%s", message)));
	}

	return lastResult;
}


/*
 * TrimmedMessage returns a palloc'd copy of a libpq message without its
 * trailing newlines.
 */
static char *
TrimmedMessage(const char *message)
{
	char	   *copy = pstrdup(message != NULL ? message : "");
	int			length = strlen(copy);

	while (length > 0 && (copy[length - 1] == '\n' || copy[length - 1] == '\r'))
		copy[--length] = '\0';

	return copy;
}
