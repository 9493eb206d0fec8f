/*-------------------------------------------------------------------------
 *
 * shard_copy.c
 *	  Streams rows into shards with COPY ... FROM STDIN.
 *
 * Rows are written in COPY text format (the types' output functions, tab
 * separated, \N for NULL) into one buffer per shard.  A buffer that
 * reaches distdb.copy_batch_size is sent with COPY ... FROM STDIN over the
 * connection of each node holding a placement of the shard, so memory
 * stays bounded by shard count x batch size whatever the number of rows.
 *
 * The sends are pipelined: after the end of a batch's COPY the node's
 * answer is not awaited; the caller goes on producing rows while the node
 * stores the batch, and the answer is read before the next COPY on that
 * connection (which must wait for it anyway) or at the end, when
 * FlushAllShardCopyBuffers has sent every remaining buffer, so that the
 * nodes also store their last batches in parallel.  A node's error is
 * raised when its answer is read; the rows are part of the remote
 * transaction, so the error aborts everything that was sent.
 *
 * Stored generated columns are left out of the COPY: the shards compute
 * them from the same expressions.  Callers print values under settings
 * every node reads back the same way (see PushDeparseSettings).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_attribute.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "distdb/connection_cache.h"
#include "distdb/distdb.h"
#include "distdb/remote_command.h"
#include "distdb/shard_copy.h"

/* the per-shard buffers of one load */
struct ShardCopyBuffers
{
	MemoryContext context;		/* where the buffers live */
	TupleDesc	tupleDesc;
	int			shardCount;
	ShardCopyDestination *destinations; /* per shard index */
	StringInfo *buffers;		/* per shard, created on first use */
	bool	   *copiedColumns;	/* per attribute: part of the COPY */
	FmgrInfo   *outputFunctions;	/* per copied attribute */
	char	   *columnList;		/* "(a, b, c)" */
	char	   *copyOptions;	/* " WITH (ENCODING ...)" */
	List	   *pendingConnections; /* COPY ended, answer not read yet */
};

static void AppendCopyText(StringInfo buffer, const char *value);
static void ReadPendingCopyResult(ShardCopyBuffers *buffers,
								  NodeConnection *connection);


/*
 * CreateShardCopyBuffers prepares the buffers for loading rows of the
 * given row type into shardCount shards (destinations[i] for shard index
 * i), sending every column IsShardCopyColumn accepts.
 */
ShardCopyBuffers *
CreateShardCopyBuffers(TupleDesc tupleDesc, int shardCount,
					   ShardCopyDestination *destinations)
{
	return CreateShardCopyBuffersForColumns(tupleDesc, NULL, shardCount,
											destinations);
}


/*
 * CreateShardCopyBuffersForColumns prepares the buffers: the output
 * function of each copied column and the COPY column list.  columns[i]
 * tells whether attribute i is sent (only columns IsShardCopyColumn
 * accepts may be); NULL means all those columns.  Columns not sent get
 * their default on the shards.  Everything lives in a child of the current
 * memory context.
 */
ShardCopyBuffers *
CreateShardCopyBuffersForColumns(TupleDesc tupleDesc, const bool *columns,
								 int shardCount,
								 ShardCopyDestination *destinations)
{
	MemoryContext context = AllocSetContextCreate(CurrentMemoryContext,
												  "distdb shard copy buffers",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldContext = MemoryContextSwitchTo(context);
	ShardCopyBuffers *buffers = palloc0(sizeof(ShardCopyBuffers));
	StringInfoData columnList;
	int			attrIndex;
	bool		firstColumn = true;

	buffers->context = context;
	buffers->tupleDesc = tupleDesc;
	buffers->shardCount = shardCount;
	buffers->destinations = destinations;
	buffers->buffers = palloc0(sizeof(StringInfo) * shardCount);
	buffers->copiedColumns = palloc0(sizeof(bool) * tupleDesc->natts);
	buffers->outputFunctions = palloc0(sizeof(FmgrInfo) * tupleDesc->natts);

	initStringInfo(&columnList);
	appendStringInfoChar(&columnList, '(');

	for (attrIndex = 0; attrIndex < tupleDesc->natts; attrIndex++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupleDesc, attrIndex);
		Oid			outputFunctionId;
		bool		isVarlena;

		if (columns != NULL ? !columns[attrIndex] : !IsShardCopyColumn(attr))
			continue;
		Assert(IsShardCopyColumn(attr));

		buffers->copiedColumns[attrIndex] = true;
		getTypeOutputInfo(attr->atttypid, &outputFunctionId, &isVarlena);
		fmgr_info(outputFunctionId, &buffers->outputFunctions[attrIndex]);

		if (!firstColumn)
			appendStringInfoString(&columnList, ", ");
		firstColumn = false;
		appendStringInfoString(&columnList,
							   quote_identifier(NameStr(attr->attname)));
	}

	appendStringInfoChar(&columnList, ')');
	buffers->columnList = columnList.data;

	/* the text is in this server's encoding, whatever the node's */
	buffers->copyOptions = psprintf(" WITH (ENCODING %s)",
									quote_literal_cstr(GetDatabaseEncodingName()));

	MemoryContextSwitchTo(oldContext);

	return buffers;
}


/*
 * IsShardCopyColumn tells whether a column is sent to the shards: every
 * column but dropped ones and stored generated ones.
 */
bool
IsShardCopyColumn(Form_pg_attribute attr)
{
	return !attr->attisdropped && attr->attgenerated == '\0';
}


/*
 * AppendShardCopyRow appends one row (values and nulls of every attribute
 * of the row type, in attribute order) to the buffer of a shard.  It
 * returns true when the buffer reached distdb.copy_batch_size; the caller
 * then sends it with FlushShardCopyBuffer.
 *
 * The output functions allocate in the current memory context, which the
 * caller should reset per row; the buffer itself grows in its own context.
 */
bool
AppendShardCopyRow(ShardCopyBuffers *buffers, int shardIndex,
				   Datum *values, bool *nulls)
{
	TupleDesc	tupleDesc = buffers->tupleDesc;
	StringInfo	buffer;
	bool		firstColumn = true;
	int			attrIndex;

	Assert(shardIndex >= 0 && shardIndex < buffers->shardCount);

	buffer = buffers->buffers[shardIndex];
	if (buffer == NULL)
	{
		MemoryContext oldContext = MemoryContextSwitchTo(buffers->context);

		buffer = makeStringInfo();
		buffers->buffers[shardIndex] = buffer;
		MemoryContextSwitchTo(oldContext);
	}

	for (attrIndex = 0; attrIndex < tupleDesc->natts; attrIndex++)
	{
		if (!buffers->copiedColumns[attrIndex])
			continue;

		if (!firstColumn)
			appendStringInfoChar(buffer, '\t');
		firstColumn = false;

		if (nulls[attrIndex])
			appendStringInfoString(buffer, "\\N");
		else
			AppendCopyText(buffer,
						   OutputFunctionCall(&buffers->outputFunctions[attrIndex],
											  values[attrIndex]));
	}

	appendStringInfoChar(buffer, '\n');

	return buffer->len >= DistdbCopyBatchBytes;
}


/*
 * AppendCopyText appends a value escaped for COPY text format: backslash,
 * tab, newline and carriage return get a backslash escape.
 */
static void
AppendCopyText(StringInfo buffer, const char *value)
{
	const char *start = value;
	const char *cursor;

	for (cursor = value; *cursor != '\0'; cursor++)
	{
		char		escaped;

		switch (*cursor)
		{
			case '\\':
				escaped = '\\';
				break;
			case '\t':
				escaped = 't';
				break;
			case '\n':
				escaped = 'n';
				break;
			case '\r':
				escaped = 'r';
				break;
			default:
				continue;
		}

		appendBinaryStringInfo(buffer, start, cursor - start);
		appendStringInfoChar(buffer, '\\');
		appendStringInfoChar(buffer, escaped);
		start = cursor + 1;
	}

	appendBinaryStringInfo(buffer, start, cursor - start);
}


/*
 * FlushShardCopyBuffer sends the buffered rows of one shard to every node
 * that holds a placement of it and empties the buffer.  The nodes' answers
 * are read later (see the file header).
 */
void
FlushShardCopyBuffer(ShardCopyBuffers *buffers, int shardIndex)
{
	ShardCopyDestination *destination = &buffers->destinations[shardIndex];
	StringInfo	buffer = buffers->buffers[shardIndex];
	char	   *copyCommand;
	MemoryContext oldContext;
	ListCell   *cell;

	if (buffer == NULL || buffer->len == 0)
		return;

	copyCommand = psprintf("COPY %s %s FROM STDIN%s", destination->shardName,
						   buffers->columnList, buffers->copyOptions);

	foreach(cell, destination->connections)
	{
		NodeConnection *connection = (NodeConnection *) lfirst(cell);

		CHECK_FOR_INTERRUPTS();

		/* one command at a time on a connection */
		ReadPendingCopyResult(buffers, connection);

		StartRemoteCopy(connection, copyCommand);
		connection->wroteData = true;
		SendRemoteCopyData(connection, buffer->data, buffer->len);
		EndRemoteCopyData(connection);

		/* the list outlives the caller's (often per-row) memory context */
		oldContext = MemoryContextSwitchTo(buffers->context);
		buffers->pendingConnections =
			lappend(buffers->pendingConnections, connection);
		MemoryContextSwitchTo(oldContext);
	}

	pfree(copyCommand);
	resetStringInfo(buffer);
}


/*
 * FlushAllShardCopyBuffers sends every buffer that still holds rows and
 * waits until every node has stored all the rows sent to it, raising the
 * first node error.
 */
void
FlushAllShardCopyBuffers(ShardCopyBuffers *buffers)
{
	int			shardIndex;

	for (shardIndex = 0; shardIndex < buffers->shardCount; shardIndex++)
		FlushShardCopyBuffer(buffers, shardIndex);

	while (buffers->pendingConnections != NIL)
	{
		CHECK_FOR_INTERRUPTS();
		ReadPendingCopyResult(buffers,
							  linitial(buffers->pendingConnections));
	}
}


/*
 * ReadPendingCopyResult reads the answer to the last COPY sent on a
 * connection, if it was not read yet, and raises the node's error if the
 * COPY failed.
 */
static void
ReadPendingCopyResult(ShardCopyBuffers *buffers, NodeConnection *connection)
{
	PGresult   *result;

	if (!list_member_ptr(buffers->pendingConnections, connection))
		return;

	buffers->pendingConnections =
		list_delete_ptr(buffers->pendingConnections, connection);

	while ((result = WaitForRemoteResult(connection)) != NULL)
	{
		if (!IsResponseOK(result))
		{
			DrainRemoteResults(connection);
			ThrowRemoteError(connection, result);
		}
		PQclear(result);
	}
}
