/*-------------------------------------------------------------------------
 *
 * deadlock_detection.h
 *	  Distributed deadlock detection: the wait-for graph of distributed
 *	  transactions over the coordinator and every node, its cycles, and
 *	  the cancelling of one transaction per cycle.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_DEADLOCK_DETECTION_H
#define DISTDB_DEADLOCK_DETECTION_H

/*
 * Collects the lock waits that lasted at least minWaitMs on the
 * coordinator and on every node, and cancels the youngest transaction of
 * this coordinator in each cycle of the wait-for graph; returns how many
 * it cancelled.  Must run in a transaction.
 */
extern int	DetectDistributedDeadlocks(int minWaitMs);

#endif							/* DISTDB_DEADLOCK_DETECTION_H */
