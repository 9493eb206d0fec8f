# Two-phase commit under failures.  A transaction writes one row on each
# worker; the coordinator is killed (or made to fail) at each step of the
# commit protocol, or a worker is stopped in the middle of it.  After the
# coordinator is back and the prepared transactions are recovered (by
# distdb_recover_prepared_transactions() or the maintenance daemon), each
# transaction is either wholly present or wholly absent, and no prepared
# transaction is left on any node.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use DistdbTestCluster;

my ($coordinator, $worker1, $worker2) = DistdbTestCluster->start(2);

# the coordinator is killed: it must come back; recovery is run by hand
# until the daemon's part of the test
$coordinator->append_conf('postgresql.conf', qq{
restart_after_crash = on
distdb.recover_2pc_interval = -1
});
$coordinator->reload;

$coordinator->safe_psql('postgres', q{
	CREATE TABLE items (id int PRIMARY KEY, tag text);
	SELECT distdb.create_distributed_table('items', 'id', 4);
});

# ids whose shard is on worker 1, and on worker 2
my $port1 = $worker1->port;
my $port2 = $worker2->port;
my @ids1 = DistdbTestCluster->ids_on($coordinator, 'items', $worker1, 400);
my @ids2 = DistdbTestCluster->ids_on($coordinator, 'items', $worker2, 400);
ok(@ids1 > 20 && @ids2 > 20, 'ids on both workers');

# the statements of a transaction writing row pair $n (one row per worker)
my $pair = 0;
sub transfer_sql
{
	my ($tag) = @_;
	my ($id1, $id2) = ($ids1[$pair], $ids2[$pair]);
	$pair++;
	return "BEGIN;\nINSERT INTO items VALUES ($id1, '$tag'), ($id2, '$tag');\nCOMMIT;\n";
}

sub rows_with_tag
{
	my ($tag) = @_;
	return $coordinator->safe_psql('postgres',
		"SELECT count(*) FROM items WHERE tag = '$tag'");
}

sub prepared_on
{
	my ($node) = @_;
	return $node->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts');
}

sub recover
{
	return $coordinator->safe_psql('postgres',
		'SELECT distdb.distdb_recover_prepared_transactions()');
}

sub wait_for_coordinator
{
	$coordinator->poll_query_until('postgres', 'SELECT true')
	  or die 'the coordinator did not come back';
}

# Kill the coordinator, or make it fail, at every fault point.  The local
# commit happens between after_commit_record and before_commit_prepared:
# transactions interrupted before it must vanish, those after it must be
# committed by recovery.
my @cases = (
	# point, action, rows expected, prepared transactions recovery finishes
	[ 'before_prepare', 'kill', 0, 0 ],
	[ 'after_prepare', 'kill', 0, 2 ],
	[ 'after_commit_record', 'kill', 0, 2 ],
	[ 'before_commit_prepared', 'kill', 2, 2 ],
	[ 'before_prepare', 'error', 0, 0 ],
	[ 'after_prepare', 'error', 0, 0 ],
	[ 'after_commit_record', 'error', 0, 0 ],
	[ 'before_commit_prepared', 'error', 2, 2 ],);
foreach my $case (@cases)
{
	my ($point, $action, $rows, $recovered) = @$case;
	my $tag = "$action at $point";
	my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
		"SELECT distdb.distdb_set_fault('$point', '$action');\n"
		  . transfer_sql($tag));
	if ($action eq 'kill')
	{
		like($stderr, qr/server closed the connection unexpectedly|connection to server was lost/,
			"$tag: the coordinator backend died");
		wait_for_coordinator();
	}
	elsif ($point eq 'before_commit_prepared')
	{
		is($ret, 0, "$tag: COMMIT succeeds");
		like($stderr, qr/fault point "before_commit_prepared"/, "$tag: with a warning");
	}
	else
	{
		like($stderr, qr/fault point "$point" raised an error/, "$tag: COMMIT fails");
	}
	is(recover(), $recovered, "$tag: recovery finishes $recovered prepared transactions");
	is(rows_with_tag($tag), $rows, "$tag: $rows rows of 2 exist");
	is(prepared_on($worker1) + prepared_on($worker2), 0,
		"$tag: no prepared transaction left");
	is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM distdb.transaction_record'),
		0, "$tag: no commit record left");
}

# A worker stopped while the coordinator sleeps at a fault point.  Before
# PREPARE: the commit fails and nothing is left.  After PREPARE: the commit
# succeeds, the stopped worker keeps its prepared transaction over the
# restart and recovery commits it.  With distdb.wait_for_commit_prepared
# off, COMMIT does not wait for COMMIT PREPARED: the failure is reported
# when the session next uses its node connections (here by a query on
# worker 1); with it on (the default), by COMMIT itself.
foreach my $case ([ 'before_prepare', 0, 0, 0 ], [ 'after_prepare', 2, 1, 0 ],
	[ 'after_prepare', 2, 1, 1 ])
{
	my ($point, $rows, $recovered, $wait) = @$case;
	my $tag = "worker 2 stopped at $point" . ($wait ? ', COMMIT waits' : '');
	my $session = $coordinator->background_psql('postgres', on_error_stop => 0);
	$session->query_safe('SET distdb.wait_for_commit_prepared = '
		  . ($wait ? 'on' : 'off'));
	$session->query_safe("SELECT distdb.distdb_set_fault('$point', 'sleep', 2000)");
	$session->query_until(qr/committing/, "\\echo committing\n" . transfer_sql($tag));
	sleep(1);
	$worker2->stop('immediate');
	$session->query($wait ? 'SELECT 1' : "SELECT count(*) FROM items WHERE id = $ids1[0]");
	if ($rows)
	{
		like($session->{stderr}, qr/could not commit prepared transaction "distdb_\d+_\d+_\d+_\d+_\d+" on node .*:$port2/,
			"$tag: the stopped worker is reported");
	}
	else
	{
		like($session->{stderr}, qr/node .*:$port2/, "$tag: COMMIT fails naming the worker");
	}
	$session->quit;
	$worker2->start;
	is(prepared_on($worker2), $recovered, "$tag: $recovered prepared transaction on the worker after its restart");
	is(recover(), $recovered, "$tag: recovery finishes it");
	is(rows_with_tag($tag), $rows, "$tag: $rows rows of 2 exist");
	is(prepared_on($worker1) + prepared_on($worker2), 0, "$tag: no prepared transaction left");
}

# A node that cannot prepare transactions: the commit fails clearly and
# nothing is written; single-node transactions still commit.
$worker2->append_conf('postgresql.conf', 'max_prepared_transactions = 0');
$worker2->restart;
{
	my $tag = 'no prepared transactions on worker 2';
	my ($ret, $stdout, $stderr) = $coordinator->psql('postgres', transfer_sql($tag));
	like($stderr, qr/could not prepare the transaction on node .*:$port2 for two-phase commit/,
		"$tag: COMMIT fails naming the node");
	like($stderr, qr/prepared transactions are disabled/, "$tag: and says why");
	is(rows_with_tag($tag), 0, "$tag: nothing written");
	is(prepared_on($worker1), 0, "$tag: nothing prepared on worker 1");
	my ($id2a, $id2b) = ($ids2[100], $ids2[101]);
	$coordinator->safe_psql('postgres', qq{
		BEGIN;
		INSERT INTO items VALUES ($id2a, 'single node'), ($id2b, 'single node');
		COMMIT;});
	is(rows_with_tag('single node'), 2, "$tag: a transaction on one node commits");
}
$worker2->append_conf('postgresql.conf', 'max_prepared_transactions = 20');
$worker2->restart;

# The maintenance daemon: leftovers are finished without calling recovery,
# also when a worker is down for a while and when the coordinator crashed.
$coordinator->psql('postgres', "SELECT distdb.distdb_set_fault('before_commit_prepared', 'error');\n"
	  . transfer_sql('left for the daemon, worker 1 down'));
is(prepared_on($worker1) + prepared_on($worker2), 2, 'two prepared transactions left');
$worker1->stop('immediate');
$coordinator->safe_psql('postgres', "ALTER SYSTEM SET distdb.recover_2pc_interval = '200ms'");
$coordinator->reload;
$worker2->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_prepared_xacts')
  or die 'the daemon did not commit on worker 2';
ok(1, 'the daemon commits on the worker that is up');
$worker1->start;
$worker1->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_prepared_xacts')
  or die 'the daemon did not commit on worker 1';
is(rows_with_tag('left for the daemon, worker 1 down'), 2,
	'the daemon commits on the worker once it is back');
my $log = slurp_file($coordinator->logfile);
like($log, qr/could not recover prepared transactions on node .*:$port1/,
	'the daemon logged the unreachable worker');

$coordinator->psql('postgres', "SELECT distdb.distdb_set_fault('before_commit_prepared', 'kill');\n"
	  . transfer_sql('left for the daemon, coordinator crashed'));
wait_for_coordinator();
$coordinator->poll_query_until('postgres',
	q{SELECT count(*) = 2 FROM items WHERE tag = 'left for the daemon, coordinator crashed'})
  or die 'the daemon did not commit after the crash';
ok(1, 'the daemon commits after a coordinator crash');
$worker1->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_prepared_xacts');
$worker2->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_prepared_xacts');
$coordinator->poll_query_until('postgres', 'SELECT count(*) = 0 FROM distdb.transaction_record')
  or die 'commit records were not cleaned up';
ok(1, 'the daemon cleans up commit records');

# The daemon does not keep DROP DATABASE from dropping its database.
$coordinator->safe_psql('postgres', 'CREATE DATABASE dropme');
$worker1->safe_psql('postgres', 'CREATE DATABASE dropme');
$coordinator->safe_psql('dropme', 'CREATE EXTENSION distdb');
$coordinator->safe_psql('dropme', "SELECT distdb.distdb_add_node('" . $worker1->host . "', $port1)");
$coordinator->restart;
$coordinator->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE datname = 'dropme' AND backend_type = 'distdb maintenance daemon'})
  or die 'no daemon in the new database';
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres', 'DROP DATABASE dropme');
is($ret, 0, 'DROP DATABASE succeeds while the database has a daemon') or diag $stderr;

# committed: two by fault, two with a worker stopped, one single-node, two by the daemon
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM items'), 14,
	'only the committed transactions are there');

done_testing();
