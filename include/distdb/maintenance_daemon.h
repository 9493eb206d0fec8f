/*-------------------------------------------------------------------------
 *
 * maintenance_daemon.h
 *	  distdb's background workers: a launcher, and one maintenance daemon
 *	  per database that has distdb, which finishes the prepared
 *	  transactions left by interrupted two-phase commits every
 *	  distdb.recover_2pc_interval and breaks distributed deadlocks every
 *	  distdb.distributed_deadlock_detection_interval.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_MAINTENANCE_DAEMON_H
#define DISTDB_MAINTENANCE_DAEMON_H

#include "fmgr.h"

/* from _PG_init: shared memory hooks, the launcher's registration */
extern void InitializeMaintenanceDaemon(void);

/*
 * Make sure the current database has a maintenance daemon, starting one if
 * needed; cheap after the first call in a backend.
 */
extern void EnsureMaintenanceDaemon(void);

/* background worker entry points */
extern PGDLLEXPORT void DistdbMaintenanceLauncherMain(Datum arg);
extern PGDLLEXPORT void DistdbMaintenanceDaemonMain(Datum arg);

#endif							/* DISTDB_MAINTENANCE_DAEMON_H */
