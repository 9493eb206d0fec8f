/*-------------------------------------------------------------------------
 *
 * subtransaction_call.c
 *	  Running a step in an internal subtransaction and handing its error
 *	  back instead of raising it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "distdb/subtransaction_call.h"

/*
 * CallInSubtransaction: see subtransaction_call.h.  The step's allocations
 * are made in the caller's memory context, so what it returns through arg
 * survives the subtransaction.
 */
ErrorData *
CallInSubtransaction(void (*function) (void *arg), void *arg)
{
	MemoryContext oldContext = CurrentMemoryContext;
	ResourceOwner oldOwner = CurrentResourceOwner;
	ErrorData  *error = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldContext);
	PG_TRY();
	{
		function(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldContext);
		CurrentResourceOwner = oldOwner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldContext);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldContext);
		CurrentResourceOwner = oldOwner;
	}
	PG_END_TRY();
	return error;
}
