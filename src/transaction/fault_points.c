/*-------------------------------------------------------------------------
 *
 * fault_points.c
 *	  Named fault points in the two-phase commit protocol, for tests.
 *
 * A test switches a point on in its session with
 *
 *	  SELECT distdb.distdb_set_fault('after_prepare', 'kill');
 *
 * and the next two-phase commit of that session that reaches the point
 * runs the action: 'error' raises an error (or, after the local commit,
 * skips the step with a warning), 'kill' kills the backend with SIGKILL,
 * which makes the postmaster reinitialize as after a crash, and 'sleep'
 * pauses for sleep_ms milliseconds, giving a test time to stop a node.
 * Settings last for the session, until set to 'off' or cleared with
 * distdb.distdb_clear_faults().  The functions are for superusers only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "distdb/fault_points.h"

typedef enum FaultAction
{
	FAULT_ACTION_OFF,
	FAULT_ACTION_ERROR,
	FAULT_ACTION_KILL,
	FAULT_ACTION_SLEEP
} FaultAction;

static const char *const FaultPointNames[FAULT_POINT_COUNT] = {
	"before_prepare",
	"after_prepare",
	"after_commit_record",
	"before_commit_prepared"
};

static const char *const FaultActionNames[] = {"off", "error", "kill", "sleep"};

/* this session's settings, by point */
static FaultAction FaultActions[FAULT_POINT_COUNT];
static int	FaultSleepMs[FAULT_POINT_COUNT];

PG_FUNCTION_INFO_V1(distdb_set_fault);
PG_FUNCTION_INFO_V1(distdb_clear_faults);

/*
 * RunFaultAction runs the kill and sleep actions of a point and returns
 * whether its action is 'error'.
 */
static bool
RunFaultAction(FaultPoint point)
{
	switch (FaultActions[point])
	{
		case FAULT_ACTION_OFF:
			return false;
		case FAULT_ACTION_ERROR:
			return true;
		case FAULT_ACTION_KILL:
			ereport(LOG,
					(errmsg("distdb fault point \"%s\": killing the backend",
							FaultPointNames[point])));
			kill(MyProcPid, SIGKILL);
			for (;;)
				pg_usleep(1000000L);
			break;
		case FAULT_ACTION_SLEEP:
			ereport(LOG,
					(errmsg("distdb fault point \"%s\": sleeping %d ms",
							FaultPointNames[point], FaultSleepMs[point])));
			pg_usleep((long) FaultSleepMs[point] * 1000L);
			return false;
	}
	return false;
}

/*
 * HitFaultPoint: see fault_points.h.
 */
void
HitFaultPoint(FaultPoint point)
{
	if (RunFaultAction(point))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("distdb fault point \"%s\" raised an error",
						FaultPointNames[point])));
}

/*
 * HitFaultPointNoError: see fault_points.h.
 */
bool
HitFaultPointNoError(FaultPoint point)
{
	if (!RunFaultAction(point))
		return false;
	ereport(WARNING,
			(errmsg("distdb fault point \"%s\": skipping the next step",
					FaultPointNames[point])));
	return true;
}

/*
 * distdb_set_fault(point text, action text, sleep_ms int) sets the action
 * of a fault point for this session.
 */
Datum
distdb_set_fault(PG_FUNCTION_ARGS)
{
	char	   *pointName;
	char	   *actionName;
	int			point;
	int			action;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("fault point and action must not be null")));
	pointName = text_to_cstring(PG_GETARG_TEXT_PP(0));
	actionName = text_to_cstring(PG_GETARG_TEXT_PP(1));

	for (point = 0; point < FAULT_POINT_COUNT; point++)
		if (strcmp(pointName, FaultPointNames[point]) == 0)
			break;
	if (point == FAULT_POINT_COUNT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown fault point \"%s\"", pointName),
				 errhint("Fault points are before_prepare, after_prepare, after_commit_record and before_commit_prepared.")));

	for (action = 0; action < lengthof(FaultActionNames); action++)
		if (strcmp(actionName, FaultActionNames[action]) == 0)
			break;
	if (action == lengthof(FaultActionNames))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown fault action \"%s\"", actionName),
				 errhint("Fault actions are off, error, kill and sleep.")));

	FaultActions[point] = (FaultAction) action;
	FaultSleepMs[point] = PG_ARGISNULL(2) ? 0 : Max(PG_GETARG_INT32(2), 0);
	PG_RETURN_VOID();
}

/*
 * distdb_clear_faults() switches every fault point of this session off.
 */
Datum
distdb_clear_faults(PG_FUNCTION_ARGS)
{
	memset(FaultActions, 0, sizeof(FaultActions));
	PG_RETURN_VOID();
}
