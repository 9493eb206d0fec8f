/*-------------------------------------------------------------------------
 *
 * maintenance_daemon.c
 *	  distdb's background workers: the launcher and the per-database
 *	  maintenance daemons.
 *
 * A maintenance daemon runs in each database that has distdb and finishes
 * the prepared transactions that interrupted two-phase commits left on the
 * nodes (transaction_recovery.c), every distdb.recover_2pc_interval, and
 * breaks distributed deadlocks (deadlock_detection.c): every
 * distdb.distributed_deadlock_detection_interval it looks, in shared
 * memory, for a distributed transaction of its database that has run that
 * long and is waiting, and only then reads the lock waits of the nodes.
 *
 * Daemons are started
 * - by the launcher, a static background worker (registered from _PG_init,
 *	 so it comes back after a crash and its reinitialization), which at
 *	 its start starts a daemon in every database that accepts connections:
 *	 the daemon of a database without distdb, or whose distdb has no nodes
 *	 (as on the workers), exits at once.  After that it
 *	 restarts, every LAUNCHER_NAPTIME_MS, the daemons of known distdb
 *	 databases that exited (after an error, or to let a DROP DATABASE
 *	 through);
 * - by a backend, at its first two-phase commit or remote transaction,
 *	 when its database has no daemon (distdb was installed after the
 *	 launcher started).
 *
 * A registry in shared memory, keyed by database oid, holds each daemon's
 * pid; a daemon claims its database's slot at start and leaves if another
 * daemon holds it.
 *
 * A daemon keeps a connection to its database, which would make DROP
 * DATABASE, ALTER DATABASE ... RENAME and CREATE DATABASE ... TEMPLATE
 * fail ("being accessed by other users").  Those commands lock the
 * database before waiting (5 s) for its sessions to leave, so the daemon
 * checks for such a lock every DAEMON_NAPTIME_MS and exits when it finds
 * one; the launcher starts it again later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "distdb/deadlock_detection.h"
#include "distdb/distdb.h"
#include "distdb/distributed_transaction_id.h"
#include "distdb/maintenance_daemon.h"
#include "distdb/metadata_catalog.h"
#include "distdb/transaction_recovery.h"

/* databases the registry can hold */
#define MAX_DAEMON_DATABASES 128

/* how often the launcher restarts daemons that exited */
#define LAUNCHER_NAPTIME_MS 10000

/* a daemon's longest sleep: it looks for DROP DATABASE this often */
#define DAEMON_NAPTIME_MS 1000

#define LWLOCK_TRANCHE_NAME "distdb maintenance daemons"

/* one database with distdb (or being checked for it) */
typedef struct DaemonSlot
{
	Oid			databaseId;		/* InvalidOid: a free slot */
	pid_t		pid;			/* its daemon, or 0 */
} DaemonSlot;

typedef struct DaemonRegistry
{
	LWLock	   *lock;
	DaemonSlot	slots[MAX_DAEMON_DATABASES];
} DaemonRegistry;

static DaemonRegistry *Registry = NULL;
static shmem_request_hook_type PrevShmemRequestHook = NULL;
static shmem_startup_hook_type PrevShmemStartupHook = NULL;

/* whether this backend has made sure its database has a daemon */
static bool DaemonEnsured = false;

static void RegistryShmemRequest(void);
static void RegistryShmemStartup(void);
static DaemonSlot *FindSlot(Oid databaseId, bool create);
static void StartDaemon(Oid databaseId);
static List *ConnectableDatabases(void);
static void StartMissingDaemons(bool everyDatabase);
static bool ClaimSlot(Oid databaseId);
static void ReleaseSlot(int code, Datum arg);
static void ForgetDatabase(Oid databaseId);
static bool DatabaseWantedExclusively(void);
static bool RunDaemonTask(MemoryContext roundContext, bool (*task) (void),
						  const char *activity);
static bool RecoveryTask(void);
static bool DeadlockDetectionTask(void);
static long NextDue(TimestampTz *last, int interval, bool *due);

/*
 * InitializeMaintenanceDaemon installs the shared memory hooks and
 * registers the launcher; called from _PG_init.
 */
void
InitializeMaintenanceDaemon(void)
{
	BackgroundWorker worker;

	PrevShmemRequestHook = shmem_request_hook;
	shmem_request_hook = RegistryShmemRequest;
	PrevShmemStartupHook = shmem_startup_hook;
	shmem_startup_hook = RegistryShmemStartup;

	memset(&worker, 0, sizeof(worker));
	snprintf(worker.bgw_name, BGW_MAXLEN, "distdb maintenance launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "distdb maintenance launcher");
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "distdb");
	snprintf(worker.bgw_function_name, BGW_MAXLEN,
			 "DistdbMaintenanceLauncherMain");
	RegisterBackgroundWorker(&worker);
}

/* RegistryShmemRequest asks for the registry's memory and lock */
static void
RegistryShmemRequest(void)
{
	if (PrevShmemRequestHook)
		PrevShmemRequestHook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(DaemonRegistry)));
	RequestNamedLWLockTranche(LWLOCK_TRANCHE_NAME, 1);
}

/* RegistryShmemStartup creates (or attaches to) the registry */
static void
RegistryShmemStartup(void)
{
	bool		found;

	if (PrevShmemStartupHook)
		PrevShmemStartupHook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	Registry = ShmemInitStruct("distdb daemon registry",
							   sizeof(DaemonRegistry), &found);
	if (!found)
	{
		memset(Registry, 0, sizeof(DaemonRegistry));
		Registry->lock = &(GetNamedLWLockTranche(LWLOCK_TRANCHE_NAME))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * FindSlot returns the database's slot, taking a free one if asked (NULL
 * when the registry is full).  The caller holds the registry lock.
 */
static DaemonSlot *
FindSlot(Oid databaseId, bool create)
{
	DaemonSlot *free = NULL;

	for (int i = 0; i < MAX_DAEMON_DATABASES; i++)
	{
		DaemonSlot *slot = &Registry->slots[i];

		if (slot->databaseId == databaseId)
			return slot;
		if (free == NULL && slot->databaseId == InvalidOid)
			free = slot;
	}
	if (!create || free == NULL)
		return NULL;
	free->databaseId = databaseId;
	free->pid = 0;
	return free;
}

/*
 * StartDaemon registers a dynamic background worker that becomes the
 * database's daemon.  Failing to (no free worker slot) is logged; the
 * launcher tries again later.
 */
static void
StartDaemon(Oid databaseId)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	snprintf(worker.bgw_name, BGW_MAXLEN,
			 "distdb maintenance daemon for database %u", databaseId);
	snprintf(worker.bgw_type, BGW_MAXLEN, "distdb maintenance daemon");
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "distdb");
	snprintf(worker.bgw_function_name, BGW_MAXLEN,
			 "DistdbMaintenanceDaemonMain");
	worker.bgw_main_arg = ObjectIdGetDatum(databaseId);
	worker.bgw_notify_pid = 0;

	if (!RegisterDynamicBackgroundWorker(&worker, NULL))
		ereport(LOG,
				(errmsg("could not start distdb's maintenance daemon for database %u",
						databaseId),
				 errhint("Raise max_worker_processes.")));
}

/*
 * EnsureMaintenanceDaemon: see maintenance_daemon.h.
 */
void
EnsureMaintenanceDaemon(void)
{
	DaemonSlot *slot;
	bool		running;

	if (DaemonEnsured || Registry == NULL)
		return;
	LWLockAcquire(Registry->lock, LW_SHARED);
	slot = FindSlot(MyDatabaseId, false);
	running = (slot != NULL && slot->pid != 0);
	LWLockRelease(Registry->lock);

	if (!running)
		StartDaemon(MyDatabaseId);
	DaemonEnsured = true;
}

/*
 * ConnectableDatabases lists the oids of the databases that accept
 * connections and are not templates.
 */
static List *
ConnectableDatabases(void)
{
	List	   *databases = NIL;
	MemoryContext callerContext = CurrentMemoryContext;
	Relation	relation;
	TableScanDesc scan;
	HeapTuple	tuple;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	relation = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(relation, 0, NULL);
	while (HeapTupleIsValid(tuple = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database database = (Form_pg_database) GETSTRUCT(tuple);

		if (database->datallowconn && !database->datistemplate &&
			database->datconnlimit != DATCONNLIMIT_INVALID_DB)
		{
			/* the list outlives the transaction */
			MemoryContext oldContext = MemoryContextSwitchTo(callerContext);

			databases = lappend_oid(databases, database->oid);
			MemoryContextSwitchTo(oldContext);
		}
	}
	table_endscan(scan);
	table_close(relation, AccessShareLock);
	CommitTransactionCommand();
	MemoryContextSwitchTo(callerContext);
	return databases;
}

/*
 * StartMissingDaemons starts daemons: in every connectable database
 * without one (everyDatabase), or in the known distdb databases whose
 * daemon exited.  Slots of databases that are gone are freed.
 */
static void
StartMissingDaemons(bool everyDatabase)
{
	List	   *databases = ConnectableDatabases();
	List	   *toStart = NIL;
	ListCell   *lc;

	LWLockAcquire(Registry->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MAX_DAEMON_DATABASES; i++)
	{
		DaemonSlot *slot = &Registry->slots[i];

		if (slot->databaseId == InvalidOid)
			continue;
		if (!list_member_oid(databases, slot->databaseId))
		{
			if (slot->pid == 0)
				slot->databaseId = InvalidOid;
			continue;
		}
		if (slot->pid == 0 && !everyDatabase)
			toStart = lappend_oid(toStart, slot->databaseId);
	}
	if (everyDatabase)
	{
		foreach(lc, databases)
		{
			DaemonSlot *slot = FindSlot(lfirst_oid(lc), false);

			if (slot == NULL || slot->pid == 0)
				toStart = lappend_oid(toStart, lfirst_oid(lc));
		}
	}
	LWLockRelease(Registry->lock);

	foreach(lc, toStart)
		StartDaemon(lfirst_oid(lc));
	list_free(toStart);
	list_free(databases);
}

/*
 * DistdbMaintenanceLauncherMain is the launcher's main function.  It is
 * connected to no database and only reads pg_database.
 */
void
DistdbMaintenanceLauncherMain(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	MemoryContextSwitchTo(AllocSetContextCreate(TopMemoryContext,
												"distdb maintenance launcher",
												ALLOCSET_DEFAULT_SIZES));

	StartMissingDaemons(true);
	for (;;)
	{
		MemoryContextReset(CurrentMemoryContext);
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 LAUNCHER_NAPTIME_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		StartMissingDaemons(false);
	}
}

/*
 * ClaimSlot makes this process the database's daemon; false when another
 * one is running or the registry is full.
 */
static bool
ClaimSlot(Oid databaseId)
{
	DaemonSlot *slot;
	bool		claimed = false;

	LWLockAcquire(Registry->lock, LW_EXCLUSIVE);
	slot = FindSlot(databaseId, true);
	if (slot != NULL && slot->pid == 0)
	{
		slot->pid = MyProcPid;
		claimed = true;
	}
	LWLockRelease(Registry->lock);
	if (slot == NULL)
		ereport(LOG,
				(errmsg("too many databases for distdb's maintenance daemons"),
				 errdetail("At most %d databases get a daemon.",
						   MAX_DAEMON_DATABASES)));
	return claimed;
}

/*
 * ReleaseSlot, at the daemon's exit, leaves the slot to a later daemon:
 * the launcher restarts it.
 */
static void
ReleaseSlot(int code, Datum arg)
{
	DaemonSlot *slot;

	LWLockAcquire(Registry->lock, LW_EXCLUSIVE);
	slot = FindSlot(DatumGetObjectId(arg), false);
	if (slot != NULL && slot->pid == MyProcPid)
		slot->pid = 0;
	LWLockRelease(Registry->lock);
}

/*
 * ForgetDatabase frees the database's slot: it needs no daemon, so none is
 * restarted there.
 */
static void
ForgetDatabase(Oid databaseId)
{
	DaemonSlot *slot;

	LWLockAcquire(Registry->lock, LW_EXCLUSIVE);
	slot = FindSlot(databaseId, false);
	if (slot != NULL && slot->pid == MyProcPid)
	{
		slot->pid = 0;
		slot->databaseId = InvalidOid;
	}
	LWLockRelease(Registry->lock);
}

/*
 * DatabaseWantedExclusively: whether a command holds or awaits a lock on
 * this database that conflicts with the one sessions take at connection
 * (DROP DATABASE, RENAME, use as a template), which would wait for this
 * daemon to disconnect.
 */
static bool
DatabaseWantedExclusively(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_OBJECT(tag, InvalidOid, DatabaseRelationId, MyDatabaseId, 0);
	if (LockAcquire(&tag, RowExclusiveLock, true, true) ==
		LOCKACQUIRE_NOT_AVAIL)
		return true;
	LockRelease(&tag, RowExclusiveLock, true);
	return false;
}

/*
 * DistdbMaintenanceDaemonMain is a maintenance daemon's main function:
 * the database oid comes as the argument.
 */
void
DistdbMaintenanceDaemonMain(Datum arg)
{
	Oid			databaseId = DatumGetObjectId(arg);
	MemoryContext roundContext;
	TimestampTz lastRecovery = 0;
	TimestampTz lastDeadlockCheck = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (!ClaimSlot(databaseId))
		proc_exit(0);
	before_shmem_exit(ReleaseSlot, ObjectIdGetDatum(databaseId));

	BackgroundWorkerInitializeConnectionByOid(databaseId, InvalidOid, 0);
	pgstat_report_appname("distdb maintenance daemon");

	roundContext = AllocSetContextCreate(TopMemoryContext,
										 "distdb maintenance daemon",
										 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		long		timeout = DAEMON_NAPTIME_MS;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (DatabaseWantedExclusively())
		{
			ereport(LOG,
					(errmsg("distdb maintenance daemon exits to let a command on its database through")));
			proc_exit(0);
		}

		if (DistdbRecover2pcInterval >= 0)
		{
			bool		due;
			long		sleep = NextDue(&lastRecovery,
										DistdbRecover2pcInterval, &due);

			timeout = Min(timeout, sleep);
			if (due &&
				!RunDaemonTask(roundContext, RecoveryTask,
							   "recovering distdb prepared transactions"))
			{
				ForgetDatabase(databaseId);
				proc_exit(0);
			}
		}
		if (DistdbDeadlockDetectionInterval > 0)
		{
			bool		due;
			long		sleep = NextDue(&lastDeadlockCheck,
										DistdbDeadlockDetectionInterval,
										&due);

			timeout = Min(timeout, sleep);
			if (due &&
				DistributedTransactionsWaiting(databaseId,
											   DistdbDeadlockDetectionInterval))
				(void) RunDaemonTask(roundContext, DeadlockDetectionTask,
									 "detecting distributed deadlocks");
		}

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * NextDue tells whether a task that runs every interval ms and last ran at
 * *last is due now (then *last becomes now), and returns how long the
 * daemon may sleep before it is due (again).
 */
static long
NextDue(TimestampTz *last, int interval, bool *due)
{
	TimestampTz now = GetCurrentTimestamp();

	*due = (now >= TimestampTzPlusMilliseconds(*last, interval));
	if (*due)
		*last = now;
	return Max(TimestampDifferenceMilliseconds(now,
											   TimestampTzPlusMilliseconds(*last,
																		   interval)),
			   1);
}

/*
 * RunDaemonTask runs one round of a task in a transaction of its own; an
 * error is logged and the next round tries again.  Returns what the task
 * returns (true after an error): false when the database needs no daemon.
 */
static bool
RunDaemonTask(MemoryContext roundContext, bool (*task) (void),
			  const char *activity)
{
	volatile bool needed = true;
	MemoryContext oldContext = MemoryContextSwitchTo(roundContext);

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, activity);

		needed = task();

		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(roundContext);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();

	pgstat_report_activity(STATE_IDLE, NULL);
	MemoryContextSwitchTo(oldContext);
	MemoryContextReset(roundContext);
	return needed;
}

/*
 * DistdbInstalled: whether distdb's catalogs exist in this database.
 */
static bool
DistdbInstalled(void)
{
	Oid			schemaId = get_namespace_oid(DISTDB_SCHEMA_NAME, true);

	return OidIsValid(get_extension_oid(DISTDB_EXTENSION_NAME, true)) &&
		OidIsValid(schemaId) &&
		OidIsValid(get_relname_relid("transaction_record", schemaId));
}

/*
 * RecoveryTask recovers the prepared transactions.  Returns false when the
 * database needs no daemon: distdb is not installed or has no nodes (as on
 * the nodes themselves; a backend starts a daemon again at its first
 * remote transaction).
 */
static bool
RecoveryTask(void)
{
	int			finished;

	if (!DistdbInstalled() || ReadNodeRows() == NIL)
		return false;
	finished = RecoverDistributedTransactions(false);
	if (finished > 0)
		ereport(LOG,
				(errmsg("distdb maintenance daemon finished %d prepared transactions",
						finished)));
	return true;
}

/*
 * DeadlockDetectionTask breaks the distributed deadlocks among the waits
 * that lasted the detection interval.
 */
static bool
DeadlockDetectionTask(void)
{
	if (DistdbInstalled())
		(void) DetectDistributedDeadlocks(DistdbDeadlockDetectionInterval);
	return true;
}
