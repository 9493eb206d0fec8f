/*-------------------------------------------------------------------------
 *
 * fault_points.h
 *	  Named places in distdb's commit protocol where a test can make the
 *	  backend fail, crash or pause, switched on per session from SQL with
 *	  distdb.distdb_set_fault(point, action).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_FAULT_POINTS_H
#define DISTDB_FAULT_POINTS_H

typedef enum FaultPoint
{
	FAULT_BEFORE_PREPARE,		/* 2PC decided, nothing prepared yet */
	FAULT_AFTER_PREPARE,		/* all nodes prepared, no commit record */
	FAULT_AFTER_COMMIT_RECORD,	/* commit records written, local commit
								 * not done */
	FAULT_BEFORE_COMMIT_PREPARED,	/* local commit done, COMMIT PREPARED
									 * not sent */
	FAULT_POINT_COUNT
} FaultPoint;

/*
 * Runs the action set for the point: 'kill' kills the backend with
 * SIGKILL (the postmaster then reinitializes, as after a crash), 'sleep'
 * pauses, 'error' raises an error.
 */
extern void HitFaultPoint(FaultPoint point);

/*
 * The same for points where an error must not be raised: 'error' only
 * reports a warning and makes the function return true, and the caller
 * skips the step that follows.
 */
extern bool HitFaultPointNoError(FaultPoint point);

#endif							/* DISTDB_FAULT_POINTS_H */
