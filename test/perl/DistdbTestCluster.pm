# DistdbTestCluster.pm: a coordinator and worker nodes for distdb's TAP tests.
#
# Each node is a PostgreSQL::Test::Cluster with distdb preloaded.  start()
# creates the extension on the coordinator and adds the workers, which
# distdb_add_node reaches through their Unix sockets.
package DistdbTestCluster;

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

# Create, configure and start one node.
sub new_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'distdb'
max_prepared_transactions = 20
fsync = off
lc_messages = 'C'
});
	$node->start;
	return $node;
}

# start($worker_count): returns ($coordinator, @workers), with the workers
# added to the coordinator's cluster.
sub start
{
	my ($class, $worker_count) = @_;
	my $coordinator = new_node('coordinator');
	my @workers = map { new_node("worker$_") } 1 .. $worker_count;

	$coordinator->safe_psql('postgres', 'CREATE EXTENSION distdb');
	foreach my $worker (@workers)
	{
		my $host = $worker->host;
		my $port = $worker->port;
		$coordinator->safe_psql('postgres',
			"SELECT distdb.distdb_add_node('$host', $port)");
	}
	return ($coordinator, @workers);
}

# The shards of a table on one worker, as a list of quoted shard names.
sub shards_on
{
	my ($class, $coordinator, $table, $worker) = @_;
	my $port = $worker->port;
	my $names = $coordinator->safe_psql('postgres', qq{
		SELECT shard_name FROM distdb.distdb_shards
		WHERE table_name = '$table'::regclass AND nodeport = $port
		ORDER BY shardindex});
	return split /\n/, $names;
}

# The values 1 .. $max of a table's distribution column (an integer) whose
# shard is on one worker, in order.
sub ids_on
{
	my ($class, $coordinator, $table, $worker, $max) = @_;
	my $port = $worker->port;
	return split /\n/, $coordinator->safe_psql('postgres', qq{
		SELECT i FROM generate_series(1, $max) i
		WHERE distdb.distdb_shard_index_for_value('$table', i::text) IN
			(SELECT shardindex FROM distdb.distdb_shards
			 WHERE table_name = '$table'::regclass AND nodeport = $port)
		ORDER BY i});
}

# A psql session on $node that keeps going after errors and shows their
# SQLSTATE.
sub error_session
{
	my ($class, $node) = @_;
	my $session = $node->background_psql('postgres', on_error_stop => 0);
	$session->query_safe('\set VERBOSITY verbose');
	return $session;
}

# Send statements to a background session without waiting for them.
sub send_sql
{
	my ($class, $session, $sql) = @_;
	$session->{stdin} .= "$sql\n";
	$session->{run}->pump_nb;
}

# Wait until one of the sessions prints a line matching $pattern on stdout
# or stderr; returns the session's index, undef after the default timeout.
sub wait_for_output
{
	my ($class, $pattern, @sessions) = @_;
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
	while (time() < $deadline)
	{
		for my $i (0 .. $#sessions)
		{
			my $session = $sessions[$i];
			$session->{run}->pump_nb;
			return $i
			  if $session->{stdout} =~ $pattern
			  || $session->{stderr} =~ $pattern;
		}
		select(undef, undef, undef, 0.1);
	}
	return undef;
}

1;
