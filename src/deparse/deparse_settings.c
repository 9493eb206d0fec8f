/*-------------------------------------------------------------------------
 *
 * deparse_settings.c
 *	  Session settings under which SQL for the nodes is generated.
 *
 * PostgreSQL's deparser qualifies a name only when it is not visible in
 * the current search_path, and prints constants in the current DateStyle
 * and IntervalStyle.  While distdb generates SQL and parameter values for
 * the nodes it sets search_path to pg_catalog alone, so every other object
 * comes out schema-qualified, and prints dates and intervals in the ISO and
 * postgres styles, which nodes read the same whatever their DateStyle, and
 * floats with all their digits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/guc.h"

#include "distdb/deparse.h"

/*
 * PushDeparseSettings switches to the deparse settings and returns the GUC
 * nest level to pass to PopDeparseSettings.
 */
int
PushDeparseSettings(void)
{
	int			nestLevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("datestyle", "ISO", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("intervalstyle", "postgres", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("extra_float_digits", "3", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nestLevel;
}

/*
 * PopDeparseSettings restores the settings PushDeparseSettings changed.
 */
void
PopDeparseSettings(int nestLevel)
{
	AtEOXact_GUC(true, nestLevel);
}

/*
 * TypeTextNeedsDeparseSettings: whether the text form of a value of the
 * type may depend on the settings PushDeparseSettings changes (floats on
 * extra_float_digits, dates and times on DateStyle and IntervalStyle, reg*
 * types on search_path, arrays and records on their elements).  The few
 * common built-in types listed print the same under any of them, so
 * printing their values needs no switch of settings -- which costs a GUC
 * nesting level, four assignments, their undoing and a report check per
 * statement.
 */
bool
TypeTextNeedsDeparseSettings(Oid type)
{
	switch (type)
	{
		case BOOLOID:
		case CHAROID:
		case NAMEOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NUMERICOID:
		case UUIDOID:
			return false;
		default:
			return true;
	}
}
