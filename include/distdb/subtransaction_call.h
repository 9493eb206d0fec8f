/*-------------------------------------------------------------------------
 *
 * subtransaction_call.h
 *	  Running a step in an internal subtransaction, so that its error can
 *	  be reported as a warning while the enclosing transaction goes on
 *	  (maintenance work that visits the nodes one by one).
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_SUBTRANSACTION_CALL_H
#define DISTDB_SUBTRANSACTION_CALL_H

/*
 * Runs function(arg) in a subtransaction, in the caller's memory context.
 * Returns NULL when it succeeded (the subtransaction is committed), or its
 * error, copied into the caller's memory context, after rolling the
 * subtransaction back.
 */
extern ErrorData *CallInSubtransaction(void (*function) (void *arg),
									   void *arg);

#endif							/* DISTDB_SUBTRANSACTION_CALL_H */
