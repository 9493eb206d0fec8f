/*-------------------------------------------------------------------------
 *
 * distributed_transaction_id.c
 *	  Distributed transaction ids, the shared-memory table that maps
 *	  backends to them on every server, and cancelling a transaction that
 *	  is the victim of a distributed deadlock.
 *
 * A coordinator transaction gets an id when it opens its first remote
 * transaction: the coordinator's system identifier, the backend's pid, a
 * per-backend counter and the transaction's start time.  The id goes to
 * the node in the same round trip as the remote BEGIN, as
 * "SET LOCAL distdb.distributed_transaction_id = '...'": the setting's
 * assign hook writes it into this backend's slot of the shared table on
 * the node, and since the setting is transaction-local, the end of the
 * remote transaction (commit, rollback, or the connection's loss) clears
 * the slot again without any extra command.  The coordinator backend keeps
 * its own id in its own slot until its transaction ends.
 *
 * The table has one slot per PGPROC (indexed by pgprocno), each with its
 * own spinlock; distdb_backend_transactions() lists it, and
 * distdb_lock_waits() (distdb--0.1.sql) joins it with pg_locks and
 * pg_blocking_pids() so that the detector (deadlock_detection.c) sees,
 * on every server, which distributed transaction waits for which.
 *
 * A victim that waits for a lock on the coordinator itself has that lock
 * wait failed as PostgreSQL's own deadlock detector does it
 * (FailLockWait): LockAcquire raises "deadlock detected" (SQLSTATE 40P01)
 * in the victim.  Any other victim is cancelled by setting the cancel flag
 * in its coordinator backend's slot and waking that backend: every wait
 * for a node checks the flag (CheckForDistributedDeadlockCancel) and
 * raises SQLSTATE 40P01 too.  Both are real errors, which PL/pgSQL's
 * EXCEPTION WHEN deadlock_detected catches.  A victim whose lock wait
 * could not be failed, or that did not react to the first request, gets
 * SIGINT, as pg_cancel_backend sends; the "canceling statement" error this
 * raises is turned into the same deadlock error by an emit_log_hook when
 * it is reported (not when PL/pgSQL catches it).
 *
 * XXX: any session on a node may SET the setting and so claim to work for
 * another transaction; the worst this can do is make that transaction a
 * deadlock victim while it waits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"

#include "distdb/distributed_transaction_id.h"
#include "distdb/maintenance_daemon.h"

#define WAIT_CLASS_MASK 0xFF000000U

/* the transaction a backend works for; one per PGPROC */
typedef struct BackendTransactionSlot
{
	slock_t		mutex;
	pid_t		pid;			/* 0: no distributed transaction */
	Oid			databaseId;
	DistributedTransactionId id;
	bool		cancelRequested;	/* chosen as a deadlock victim */
} BackendTransactionSlot;

static BackendTransactionSlot *Slots = NULL;
static int	SlotCount = 0;

/* this backend's transaction, when it has one */
static bool CurrentIdAssigned = false;
static DistributedTransactionId CurrentId;
static char CurrentIdText[96];
static uint64 TransactionCounter = 0;

/* whether this backend's slot holds an id */
static bool MySlotInUse = false;

/* value of distdb.distributed_transaction_id */
static char *NodeTransactionIdSetting = NULL;

static shmem_request_hook_type PrevShmemRequestHook = NULL;
static shmem_startup_hook_type PrevShmemStartupHook = NULL;
static emit_log_hook_type PrevEmitLogHook = NULL;

static void SlotsShmemRequest(void);
static void SlotsShmemStartup(void);
static BackendTransactionSlot *MySlot(void);
static void SetMySlot(const DistributedTransactionId *id);
static void ClearMySlot(void);
static bool CheckNodeTransactionId(char **newval, void **extra,
								   GucSource source);
static void AssignNodeTransactionId(const char *newval, void *extra);
static void TransactionIdXactCallback(XactEvent event, void *arg);
static void DeadlockErrorLogHook(ErrorData *edata);

PG_FUNCTION_INFO_V1(distdb_backend_transactions);

/*
 * InitializeDistributedTransactionIds requests the shared table, defines
 * the internal setting and installs the callbacks; called from _PG_init.
 */
void
InitializeDistributedTransactionIds(void)
{
	PrevShmemRequestHook = shmem_request_hook;
	shmem_request_hook = SlotsShmemRequest;
	PrevShmemStartupHook = shmem_startup_hook;
	shmem_startup_hook = SlotsShmemStartup;
	PrevEmitLogHook = emit_log_hook;
	emit_log_hook = DeadlockErrorLogHook;

	DefineCustomStringVariable(DISTRIBUTED_TRANSACTION_ID_GUC,
							   "Distributed transaction this session's transaction is part of.",
							   "Set by the coordinator with SET LOCAL in every remote transaction.",
							   &NodeTransactionIdSetting,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE |
							   GUC_NO_RESET_ALL | GUC_DISALLOW_IN_FILE,
							   CheckNodeTransactionId, AssignNodeTransactionId,
							   NULL);

	RegisterXactCallback(TransactionIdXactCallback, NULL);
}

/* SlotsShmemRequest asks for one slot per backend */
static void
SlotsShmemRequest(void)
{
	if (PrevShmemRequestHook)
		PrevShmemRequestHook();
	RequestAddinShmemSpace(mul_size(MaxBackends,
									sizeof(BackendTransactionSlot)));
}

/* SlotsShmemStartup creates (or attaches to) the slots */
static void
SlotsShmemStartup(void)
{
	bool		found;

	if (PrevShmemStartupHook)
		PrevShmemStartupHook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	Slots = ShmemInitStruct("distdb backend transactions",
							mul_size(MaxBackends,
									 sizeof(BackendTransactionSlot)),
							&found);
	if (!found)
	{
		memset(Slots, 0, mul_size(MaxBackends,
								  sizeof(BackendTransactionSlot)));
		for (int i = 0; i < MaxBackends; i++)
			SpinLockInit(&Slots[i].mutex);
	}
	SlotCount = MaxBackends;
	LWLockRelease(AddinShmemInitLock);
}

/* MySlot returns this backend's slot, or NULL (no PGPROC, no table) */
static BackendTransactionSlot *
MySlot(void)
{
	if (Slots == NULL || MyProc == NULL || MyProc->pgprocno >= SlotCount)
		return NULL;
	return &Slots[MyProc->pgprocno];
}

/* SetMySlot publishes the transaction this backend works for */
static void
SetMySlot(const DistributedTransactionId *id)
{
	BackendTransactionSlot *slot = MySlot();

	if (slot == NULL)
		return;
	SpinLockAcquire(&slot->mutex);
	slot->pid = MyProcPid;
	slot->databaseId = MyDatabaseId;
	slot->id = *id;
	slot->cancelRequested = false;
	SpinLockRelease(&slot->mutex);
	MySlotInUse = true;
}

/* ClearMySlot: this backend works for no distributed transaction */
static void
ClearMySlot(void)
{
	BackendTransactionSlot *slot = MySlot();

	if (slot == NULL || !MySlotInUse)
		return;
	SpinLockAcquire(&slot->mutex);
	slot->pid = 0;
	slot->cancelRequested = false;
	SpinLockRelease(&slot->mutex);
	MySlotInUse = false;
}

/*
 * FormatDistributedTransactionId returns the text form of an id.
 */
char *
FormatDistributedTransactionId(const DistributedTransactionId *id)
{
	return psprintf(UINT64_FORMAT ":%d:" UINT64_FORMAT ":" INT64_FORMAT,
					id->coordinatorId, id->coordinatorPid, id->number,
					(int64) id->startTime);
}

/*
 * ParseDistributedTransactionId reads the text form of an id; false when
 * the text is not one.
 */
bool
ParseDistributedTransactionId(const char *text, DistributedTransactionId *id)
{
	int64		startTime;
	int			consumed = -1;

	if (sscanf(text, UINT64_FORMAT ":%d:" UINT64_FORMAT ":" INT64_FORMAT "%n",
			   &id->coordinatorId, &id->coordinatorPid, &id->number,
			   &startTime, &consumed) != 4 ||
		consumed != strlen(text) || id->coordinatorPid <= 0)
		return false;
	id->startTime = (TimestampTz) startTime;
	return true;
}

/*
 * CurrentDistributedTransactionIdText: see distributed_transaction_id.h.
 * A transaction that can wait for other ones on nodes needs the detector,
 * so the first assignment also makes sure the database has its daemon.
 */
const char *
CurrentDistributedTransactionIdText(void)
{
	if (!CurrentIdAssigned)
	{
		char	   *text;

		CurrentId.coordinatorId = GetSystemIdentifier();
		CurrentId.coordinatorPid = MyProcPid;
		CurrentId.number = ++TransactionCounter;
		CurrentId.startTime = GetCurrentTransactionStartTimestamp();
		text = FormatDistributedTransactionId(&CurrentId);
		strlcpy(CurrentIdText, text, sizeof(CurrentIdText));
		pfree(text);
		CurrentIdAssigned = true;
		SetMySlot(&CurrentId);
		EnsureMaintenanceDaemon();
	}
	return CurrentIdText;
}

/*
 * IsLocalDistributedTransaction: whether the id belongs to a backend of
 * this server.
 */
bool
IsLocalDistributedTransaction(const DistributedTransactionId *id)
{
	return id->coordinatorId == GetSystemIdentifier();
}

/* CheckNodeTransactionId accepts an id or the empty string */
static bool
CheckNodeTransactionId(char **newval, void **extra, GucSource source)
{
	DistributedTransactionId id;

	if (**newval == '\0' || ParseDistributedTransactionId(*newval, &id))
		return true;
	GUC_check_errdetail("Expected a distributed transaction id set by the coordinator.");
	return false;
}

/*
 * AssignNodeTransactionId publishes the id the coordinator set (or clears
 * it when the transaction-local setting goes back to empty).
 */
static void
AssignNodeTransactionId(const char *newval, void *extra)
{
	DistributedTransactionId id;

	if (newval != NULL && ParseDistributedTransactionId(newval, &id))
		SetMySlot(&id);
	else
		ClearMySlot();
}

/*
 * TransactionIdXactCallback forgets the transaction's id when it ends.
 */
static void
TransactionIdXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			CurrentIdAssigned = false;
			ClearMySlot();
			break;
		default:
			break;
	}
}

/*
 * DistributedTransactionsWaiting: see distributed_transaction_id.h.
 */
bool
DistributedTransactionsWaiting(Oid databaseId, int minAgeMs)
{
	TimestampTz cutoff = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 -minAgeMs);

	if (Slots == NULL)
		return false;
	for (int i = 0; i < SlotCount; i++)
	{
		BackendTransactionSlot *slot = &Slots[i];
		DistributedTransactionId id;
		pid_t		pid;
		Oid			slotDatabaseId;
		uint32		waitClass;

		SpinLockAcquire(&slot->mutex);
		pid = slot->pid;
		slotDatabaseId = slot->databaseId;
		id = slot->id;
		SpinLockRelease(&slot->mutex);

		if (pid == 0 || slotDatabaseId != databaseId ||
			id.coordinatorPid != pid || id.startTime > cutoff ||
			ProcGlobal->allProcs[i].pid != pid ||
			!IsLocalDistributedTransaction(&id))
			continue;
		waitClass = ProcGlobal->allProcs[i].wait_event_info & WAIT_CLASS_MASK;
		if (waitClass == PG_WAIT_EXTENSION || waitClass == PG_WAIT_LOCK)
			return true;
	}
	return false;
}

/*
 * SlotRunsTransaction: whether the slot still belongs to the transaction.
 * The caller holds the slot's spinlock.
 */
static bool
SlotRunsTransaction(BackendTransactionSlot *slot,
					const DistributedTransactionId *id)
{
	return slot->pid == id->coordinatorPid &&
		slot->id.coordinatorId == id->coordinatorId &&
		slot->id.coordinatorPid == id->coordinatorPid &&
		slot->id.number == id->number;
}

/*
 * FailLockWait ends the lock wait of the transaction's coordinator backend
 * the way PostgreSQL's own deadlock detector ends a victim's (CheckDeadLock
 * in proc.c): with every lock table partition locked, in partition order,
 * it checks that the backend still waits for a heavyweight lock and still
 * runs the transaction, takes it off the lock's wait queue with its wait
 * status set to error, and wakes it.  Its ProcSleep then returns the error
 * and LockAcquire itself raises "deadlock detected" (SQLSTATE 40P01), a
 * real error that a PL/pgSQL EXCEPTION WHEN deadlock_detected block or a
 * savepoint catches, unlike the query cancel a signal would raise.
 * Returns false, changing nothing, when the backend does not wait for a
 * lock (any more).
 *
 * XXX: DeadLockReport's detail lists the cycle the victim's own detector
 * found last; it found none (a distributed cycle is invisible to it), so
 * the detail is empty and DeadlockErrorLogHook fills it in.
 */
static bool
FailLockWait(PGPROC *proc, BackendTransactionSlot *slot,
			 const DistributedTransactionId *id)
{
	bool		failed = false;

	for (int i = 0; i < NUM_LOCK_PARTITIONS; i++)
		LWLockAcquire(LockHashPartitionLockByIndex(i), LW_EXCLUSIVE);

	if (proc->pid == id->coordinatorPid &&
		proc->waitLock != NULL && proc->links.next != NULL &&
		proc->waitStatus == PROC_WAIT_STATUS_WAITING)
	{
		bool		sameTransaction;

		SpinLockAcquire(&slot->mutex);
		sameTransaction = SlotRunsTransaction(slot, id);
		SpinLockRelease(&slot->mutex);
		if (sameTransaction)
		{
			RemoveFromWaitQueue(proc, LockTagHashCode(&proc->waitLock->tag));
			failed = true;
		}
	}

	for (int i = NUM_LOCK_PARTITIONS; --i >= 0;)
		LWLockRelease(LockHashPartitionLockByIndex(i));

	if (failed)
		SetLatch(&proc->procLatch);
	return failed;
}

/*
 * CancelDistributedTransaction: see distributed_transaction_id.h and the
 * file header.
 */
bool
CancelDistributedTransaction(const DistributedTransactionId *id)
{
	PGPROC	   *proc = BackendPidGetProc(id->coordinatorPid);
	BackendTransactionSlot *slot;
	bool		found = false;
	bool		requestedBefore = false;
	bool		waitsForLock;

	if (proc == NULL || Slots == NULL || proc->pgprocno >= SlotCount)
		return false;
	slot = &Slots[proc->pgprocno];
	SpinLockAcquire(&slot->mutex);
	if (SlotRunsTransaction(slot, id))
	{
		found = true;
		requestedBefore = slot->cancelRequested;
	}
	SpinLockRelease(&slot->mutex);
	if (!found)
		return false;

	/*
	 * A victim waiting for a lock of this server fails its lock wait.  No
	 * cancel flag is left behind then: the error may be caught, and the
	 * transaction go on.
	 */
	waitsForLock = ((proc->wait_event_info & WAIT_CLASS_MASK) ==
					PG_WAIT_LOCK);
	if (waitsForLock && !requestedBefore && FailLockWait(proc, slot, id))
		return true;

	SpinLockAcquire(&slot->mutex);
	found = SlotRunsTransaction(slot, id);
	if (found)
		slot->cancelRequested = true;
	SpinLockRelease(&slot->mutex);
	if (!found)
		return false;

	/*
	 * Waits for nodes check the flag.  Any other wait (a lock wait that
	 * could not be failed, or a victim that did not react to the first
	 * request) only ends on an interrupt.
	 */
	if (requestedBefore || waitsForLock)
	{
		if (kill(id->coordinatorPid, SIGINT) != 0)
			ereport(WARNING,
					(errmsg("could not send a signal to process %d: %m",
							id->coordinatorPid)));
	}
	else
		SetLatch(&proc->procLatch);
	return true;
}

/*
 * CheckForDistributedDeadlockCancel: see distributed_transaction_id.h.
 * Also consumes the query cancel a SIGINT of the detector may have left.
 */
void
CheckForDistributedDeadlockCancel(void)
{
	BackendTransactionSlot *slot;

	if (!MySlotInUse || (slot = MySlot()) == NULL || !slot->cancelRequested)
		return;
	SpinLockAcquire(&slot->mutex);
	slot->cancelRequested = false;
	SpinLockRelease(&slot->mutex);
	QueryCancelPending = false;
	ereport(ERROR,
			(errcode(ERRCODE_T_R_DEADLOCK_DETECTED),
			 errmsg("canceling the transaction since it was involved in a distributed deadlock")));
}

/*
 * DeadlockErrorLogHook turns the query cancel error of a victim that was
 * interrupted outside a wait for a node into the deadlock error, before it
 * is reported, and gives the deadlock error of a failed lock wait a
 * detail.
 */
static void
DeadlockErrorLogHook(ErrorData *edata)
{
	BackendTransactionSlot *slot;

	if (edata->elevel == ERROR && edata->sqlerrcode == ERRCODE_QUERY_CANCELED &&
		MySlotInUse && (slot = MySlot()) != NULL && slot->cancelRequested)
	{
		SpinLockAcquire(&slot->mutex);
		slot->cancelRequested = false;
		SpinLockRelease(&slot->mutex);
		edata->sqlerrcode = ERRCODE_T_R_DEADLOCK_DETECTED;
		edata->message = pstrdup("canceling the transaction since it was involved in a distributed deadlock");
	}
	else if (edata->elevel == ERROR &&
			 edata->sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED &&
			 edata->detail != NULL && edata->detail[0] == '\0')
	{
		/* a lock wait failed by FailLockWait: no local cycle to list */
		edata->detail = pstrdup("The transaction was chosen as the victim of a distributed deadlock.");
		edata->detail_log = NULL;
	}
	if (PrevEmitLogHook)
		PrevEmitLogHook(edata);
}

/*
 * distdb_backend_transactions() lists the backends of this server that
 * work for a distributed transaction: pid and transaction id.
 */
Datum
distdb_backend_transactions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; Slots != NULL && i < SlotCount; i++)
	{
		BackendTransactionSlot *slot = &Slots[i];
		DistributedTransactionId id;
		pid_t		pid;
		Datum		values[2];
		bool		nulls[2] = {false, false};

		SpinLockAcquire(&slot->mutex);
		pid = slot->pid;
		id = slot->id;
		SpinLockRelease(&slot->mutex);

		/* a parallel worker that exited leaves its slot behind */
		if (pid == 0 || ProcGlobal->allProcs[i].pid != pid)
			continue;
		values[0] = Int32GetDatum(pid);
		values[1] = CStringGetTextDatum(FormatDistributedTransactionId(&id));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}
