/*-------------------------------------------------------------------------
 *
 * connection_cache.h
 *	  Per-backend cache of libpq connections to the worker nodes.
 *
 * Connections are keyed by (node, user) and reused across statements and
 * transactions.  A node may have several connections so that the shards of
 * one statement run in parallel (up to distdb.max_connections_per_node),
 * but once a transaction has opened a remote transaction on a connection,
 * every later statement of that transaction uses that connection for the
 * node, so it reads its own writes and keeps its locks.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_CONNECTION_CACHE_H
#define DISTDB_CONNECTION_CACHE_H

#include "lib/ilist.h"
#include "nodes/pg_list.h"
#include "libpq-fe.h"
#include "storage/latch.h"
#include "utils/hsearch.h"

typedef enum RemoteXactState
{
	REMOTE_XACT_NONE,			/* no remote transaction block open */
	REMOTE_XACT_OPEN,			/* BEGIN acknowledged, or queued to go out
								 * with the next query */
	REMOTE_XACT_FAILED			/* the remote transaction is in an unknown
								 * or failed state; abort the local one */
} RemoteXactState;

typedef struct NodeConnection
{
	dlist_node	listNode;		/* in the cache entry's connection list */
	int32		nodeId;
	Oid			userId;
	char	   *nodeName;		/* copies, for messages */
	int32		nodePort;
	PGconn	   *pgconn;
	bool		connecting;		/* PQconnectStart done, not yet usable */
	bool		claimed;		/* in use by the running statement */
	RemoteXactState xactState;
	int			xactDepth;		/* local subtransaction level the remote
								 * side has savepoints for (1 = top level) */
	bool		wroteData;		/* a write was sent in this transaction */
	char	   *sessionSettings;	/* local settings the remote session has
									 * (see SyncSessionSettings), or NULL */
	WaitEventSet *waitSet;		/* latch, postmaster death and the socket */
	HTAB	   *preparedStatements; /* statements prepared on the node */
	int			preparedCount;

	/*
	 * Commands opening the remote transaction that go out with the next
	 * query (QueueRemoteTransactionBegins), and the state before them.
	 */
	List	   *queuedCommands; /* char *, one statement each */
	RemoteXactState queuedFromState;
	int			queuedFromDepth;

	/*
	 * A query sent in libpq pipeline mode behind queued commands
	 * (remote_pipeline.c): their results are read and skipped, the first
	 * failure among them is returned instead of the query's results.
	 */
	bool		pipelined;		/* in pipeline mode until the Sync is read */
	int			pipelineSkip;	/* queued commands whose results are left */
	bool		pipelineSingleRow;	/* the query wants single-row mode */
	PGresult   *pipelineFailure;	/* the first failed queued command */

	/*
	 * A COMMIT or ROLLBACK PREPARED sent when a transaction ended, whose
	 * result is still to be read (two_phase_commit.c): after a commit it is
	 * read only before the connection's next use, so that COMMIT does not
	 * wait for the nodes' acknowledgements.
	 */
	char	   *finishingGid;	/* its gid, or NULL */
	bool		finishingCommit;	/* COMMIT (else ROLLBACK) PREPARED */
	bool		finishingPrepared;	/* the node had acknowledged PREPARE,
									 * so a failure leaves it prepared */
} NodeConnection;

extern void InitializeConnectionCache(void);

/*
 * Claim up to maxCount connections to a node for the running statement,
 * starting new ones (not yet established) as needed.  If the current
 * transaction already has a remote transaction open on the node, only that
 * connection is returned.  The first connection returned is the node's
 * transaction connection.
 */
extern List *ClaimNodeConnections(int32 nodeId, int maxCount);

/* claim one established connection to a node */
extern NodeConnection *ClaimNodeConnection(int32 nodeId);

/* wait until every connection in the list is established (in parallel) */
extern void FinishConnectionEstablishment(List *connections);

extern void ReleaseNodeConnection(NodeConnection *connection);
extern void ReleaseAllNodeConnections(void);
extern void CloseNodeConnection(NodeConnection *connection);

/* give the remote session the local session's TimeZone, DateStyle, ... */
extern void SyncSessionSettings(NodeConnection *connection);
extern void ForgetSessionSettings(NodeConnection *connection);

/* wait for the connection's socket (and the latch); serves interrupts */
extern void WaitForNodeSocket(NodeConnection *connection, bool forRead,
							  bool forWrite);
extern bool WaitForNodeSocketUntil(NodeConnection *connection, bool forRead,
								   bool forWrite, long timeoutMs);

/* whether the transaction has a remote transaction open on the node */
extern bool NodeHasRemoteTransaction(int32 nodeId);

/* connections to a node the running statement holds */
extern int	CountClaimedNodeConnections(int32 nodeId);

/* every cached connection of this backend (NodeConnection *) */
extern List *AllNodeConnections(void);

/* open a connection to host:port outside the cache, synchronously */
extern PGconn *ConnectToNodeDirect(const char *nodeName, int32 nodePort);

#endif							/* DISTDB_CONNECTION_CACHE_H */
