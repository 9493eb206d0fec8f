/*-------------------------------------------------------------------------
 *
 * deparse.h
 *	  Turning query trees into the SQL sent to shards.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DISTDB_DEPARSE_H
#define DISTDB_DEPARSE_H

#include "nodes/parsenodes.h"

/*
 * A SELECT, UPDATE or DELETE deparsed once for all shards: its text is
 * fragments[0] name(relationIndexes[0]) fragments[1] ... fragments[n],
 * where name(i) is the shard of range table entry i.
 */
typedef struct DeparsedShardQuery
{
	List	   *fragments;		/* char *, one more than relation slots */
	List	   *relationIndexes;	/* int: range table index of each slot */
} DeparsedShardQuery;

extern DeparsedShardQuery *DeparseShardQuery(Query *query);
extern char *ShardQueryString(DeparsedShardQuery *deparsed,
							  char **relationNames);
extern bool QueryIsDeparsable(Query *query);
extern bool TableSampleIsDeparsable(TableSampleClause *tablesample);
extern char *UniqueName(const char *name, List *usedNames);

extern char *DeparseShardInsert(Query *query, const char *shardName,
								int rowCount, int firstParam);

/* parameterize_constants.c */
extern int	MaxExternParamId(Node *node);
extern Query *ParameterizeQuery(Query *query, int firstParamId,
								bool withConstants, List **values);
extern Node *ParameterizeExpression(Node *node, int firstParamId,
									bool withConstants, List **values);

/* deparse_settings.c */
extern int	PushDeparseSettings(void);
extern void PopDeparseSettings(int nestLevel);
extern bool TypeTextNeedsDeparseSettings(Oid type);

#endif							/* DISTDB_DEPARSE_H */
