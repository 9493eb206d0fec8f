# Distributed deadlock detection.  Two transactions lock rows on two
# workers in opposite order: each worker sees one backend waiting for an
# idle one, which PostgreSQL's own detector cannot break.  distdb's
# maintenance daemon finds the cycle across the nodes and cancels the
# younger transaction with SQLSTATE 40P01; the other one commits.  Then the
# same with one of the waits on a lock of the coordinator itself (the
# victim's local lock wait fails with PostgreSQL's own "deadlock detected"),
# with three transactions in a cycle over both workers, with the victim
# waiting in a savepoint, and with the victim's coordinator lock wait inside
# a PL/pgSQL block that catches deadlock_detected.  Nothing stays waiting
# and no prepared transaction is left.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Time::HiRes qw(time);
use Test::More;
use DistdbTestCluster;

my ($coordinator, $worker1, $worker2) = DistdbTestCluster->start(2);
$coordinator->append_conf('postgresql.conf', qq{
distdb.distributed_deadlock_detection_interval = 500ms
});
$coordinator->reload;

$coordinator->safe_psql('postgres', q{
	CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
	INSERT INTO accounts SELECT i, 1000 FROM generate_series(1, 100) i;
	SELECT distdb.create_distributed_table('accounts', 'id', 8);
	CREATE TABLE local_counters (id int PRIMARY KEY, value int NOT NULL);
	INSERT INTO local_counters VALUES (1, 0);
});

# ids whose shard is on each worker
my @ids1 = DistdbTestCluster->ids_on($coordinator, 'accounts', $worker1, 100);
my @ids2 = DistdbTestCluster->ids_on($coordinator, 'accounts', $worker2, 100);
ok(@ids1 >= 6 && @ids2 >= 3, 'ids on both workers');

sub session { return DistdbTestCluster->error_session($coordinator) }
sub send_sql { DistdbTestCluster->send_sql(@_) }

# wait until a node has $count lock waits
sub wait_for_lock_waits
{
	my ($node, $count) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) >= $count FROM pg_locks WHERE NOT granted")
	  or die 'the expected lock waits did not happen on ' . $node->name;
}

# the index of the first session that prints a line matching $pattern
sub wait_for_output
{
	my ($pattern, @sessions) = @_;
	my $i = DistdbTestCluster->wait_for_output($pattern, @sessions);
	die "no session printed $pattern" unless defined $i;
	return $i;
}

sub balance
{
	my ($id) = @_;
	return $coordinator->safe_psql('postgres',
		"SELECT balance FROM accounts WHERE id = $id");
}

# the sum of the balances: transfers keep it, the older transaction of
# case 2 adds 5
my $total = 100000;

sub nothing_left_behind
{
	my ($what) = @_;
	foreach my $worker ($worker1, $worker2)
	{
		# COMMIT does not wait for the nodes' COMMIT PREPARED
		ok($worker->poll_query_until('postgres',
			'SELECT count(*) = 0 FROM pg_prepared_xacts'),
			"$what: no prepared transaction on " . $worker->name);
		is($worker->safe_psql('postgres',
			'SELECT count(*) FROM pg_locks WHERE NOT granted'),
			0, "$what: no lock wait left on " . $worker->name);
	}
	is($coordinator->safe_psql('postgres',
		'SELECT sum(balance), count(*) FROM accounts'),
		"$total|100", "$what: the total is as expected");
}

# the victim of a wait for a node is cancelled; one waiting for a lock of
# the coordinator fails that lock wait as PostgreSQL's detector does
my $deadlock = qr/ERROR:  40P01: (?:canceling the transaction since it was involved in a distributed deadlock|deadlock detected)/;

# the error output of the last victim
my $victim_error = '';

# Each session i runs "BEGIN; $first->[i]", then each in turn is sent
# $second->[i] without waiting, after which it blocks on node
# $blocks_on->[i] (checked before the next one is sent; undef: the last
# one, which closes the cycle).  Waits for the deadlock error and returns
# the index of the session that got it (its stderr is cleared); session i
# prints "s<i> updated" once its second statement is done.
sub cycle
{
	my ($sessions, $first, $second, $blocks_on) = @_;
	my $start;
	for my $i (0 .. $#$sessions)
	{
		$sessions->[$i]->query_safe("BEGIN; $first->[$i]");
	}
	for my $i (0 .. $#$sessions)
	{
		send_sql($sessions->[$i], "$second->[$i]\n\\echo s$i updated");
		wait_for_lock_waits($blocks_on->[$i], 1) if defined $blocks_on->[$i];
	}
	$start = time();
	my $victim = wait_for_output($deadlock, @$sessions);
	note sprintf('deadlock broken %.1f s after it formed (interval 500ms)',
		time() - $start);
	$victim_error = $sessions->[$victim]->{stderr};
	$sessions->[$victim]->{stderr} = '';
	return $victim;
}

sub update
{
	my ($id, $delta) = @_;
	return "UPDATE accounts SET balance = balance + $delta WHERE id = $id;";
}

# 1. two transactions, rows on two workers locked in opposite order
{
	my ($a, $b) = ($ids1[0], $ids2[0]);
	my ($s1, $s2) = (session(), session());
	my $victim = cycle([ $s1, $s2 ], [ update($a, -10), update($b, -20) ],
		[ update($b, 10), update($a, 20) ], [ $worker2, undef ]);
	is($victim, 1, 'the younger transaction is cancelled with a deadlock error');
	wait_for_output(qr/s0 updated/, $s1);
	unlike($s1->{stderr}, qr/ERROR/, 'the older transaction goes on');
	$s1->query_safe('COMMIT');
	$s2->query_safe('ROLLBACK');
	is(balance($a) . ',' . balance($b), '990,1010',
		'the older transaction committed, the younger left nothing');
	$_->quit for ($s1, $s2);
	nothing_left_behind('two workers');
}

# 2. one wait is for a lock on the coordinator: the younger transaction
# waits there, and is interrupted in that lock wait
{
	my $a = $ids1[1];
	my $counter = 'UPDATE local_counters SET value = value + %d WHERE id = 1;';
	my ($s1, $s2) = (session(), session());
	my $victim = cycle([ $s1, $s2 ], [ sprintf($counter, 1), update($a, -5) ],
		[ update($a, 5), sprintf($counter, 100) ], [ $worker1, undef ]);
	is($victim, 1, 'the transaction waiting on the coordinator is cancelled');
	like($victim_error,
		qr/ERROR:  40P01: deadlock detected\nDETAIL:  The transaction was chosen as the victim of a distributed deadlock\./,
		'its lock wait fails with a deadlock error');
	wait_for_output(qr/s0 updated/, $s1);
	$s1->query_safe('COMMIT');
	$s2->query_safe('ROLLBACK');
	is(balance($a), '1005', 'the older transaction committed');
	$total += 5;
	is($coordinator->safe_psql('postgres',
		'SELECT value FROM local_counters WHERE id = 1'), '1',
		'the younger left nothing on the coordinator');
	$_->quit for ($s1, $s2);
	nothing_left_behind('coordinator lock');
}

# 3. three transactions in a cycle over both workers: one is cancelled, the
# other two finish
{
	my @rows = ($ids1[2], $ids2[1], $ids1[3]);
	my @s = (session(), session(), session());
	my $victim = cycle(\@s, [ map { update($_, -1) } @rows ],
		[ map { update($rows[ ($_ + 1) % 3 ], 1) } 0 .. 2 ],
		[ $worker2, $worker1, undef ]);
	is($victim, 2, 'the youngest of three transactions is cancelled');
	wait_for_output(qr/s1 updated/, $s[1]);
	$s[1]->query_safe('COMMIT');
	wait_for_output(qr/s0 updated/, $s[0]);
	$s[0]->query_safe('COMMIT');
	$s[2]->query_safe('ROLLBACK');
	$_->quit for @s;
	is(join(',', map { balance($_) } @rows), '999,1000,1001',
		'the two others committed, the youngest left nothing');
	nothing_left_behind('three transactions');
}

# 4. the victim waits inside a savepoint: rolling back to it ends its wait,
# so the cycle is broken and it can still commit what it did before
{
	my ($a, $b) = ($ids1[4], $ids2[2]);
	my ($s1, $s2) = (session(), session());
	my $victim = cycle([ $s1, $s2 ],
		[ update($a, -3), update($b, -7) . ' SAVEPOINT before_a;' ],
		[ update($b, 3), update($a, 7) ], [ $worker2, undef ]);
	is($victim, 1, 'a transaction waiting in a savepoint is cancelled');
	$s2->query_safe('ROLLBACK TO SAVEPOINT before_a');
	$s2->query_safe('COMMIT');
	wait_for_output(qr/s0 updated/, $s1);
	$s1->query_safe('COMMIT');
	is(balance($a) . ',' . balance($b), '997,996',
		'both committed what was not rolled back');
	$total -= 7;
	$_->quit for ($s1, $s2);
	nothing_left_behind('savepoint');
}

# 5. the victim waits for a coordinator lock inside a PL/pgSQL block that
# catches deadlock_detected: the block's work is rolled back, which breaks
# the cycle, and both transactions commit
{
	my $a = $ids1[5];
	my ($s1, $s2, $control) = (session(), session(), session());
	$control->query_safe('SELECT pg_advisory_lock(4242)');
	$s1->query_safe('BEGIN; UPDATE local_counters SET value = value + 1 WHERE id = 1');
	$s2->query_safe('BEGIN');
	# s2 locks row a on worker1, then waits for the control session
	send_sql($s2, qq{DO \$\$
BEGIN
	UPDATE accounts SET balance = balance - 5 WHERE id = $a;
	PERFORM pg_advisory_lock(4242);
	PERFORM pg_advisory_unlock(4242);
	UPDATE local_counters SET value = value + 100 WHERE id = 1;
EXCEPTION WHEN deadlock_detected THEN
	RAISE NOTICE 'caught %', SQLSTATE;
END \$\$;
\\echo s1 block done});
	wait_for_lock_waits($coordinator, 1);
	send_sql($s1, update($a, 5) . "\n\\echo s0 updated");
	wait_for_lock_waits($worker1, 1);
	# s2 goes on to wait for s1's coordinator lock: a cycle
	$control->query_safe('SELECT pg_advisory_unlock(4242)');
	wait_for_output(qr/s1 block done/, $s2);
	like($s2->{stderr}, qr/NOTICE:  00000: caught 40P01/,
		'the PL/pgSQL block caught the distributed deadlock');
	unlike($s2->{stderr}, qr/ERROR/, 'the victim raised no error');
	$s2->{stderr} = '';
	wait_for_output(qr/s0 updated/, $s1);
	unlike($s1->{stderr}, qr/ERROR/, 'the other transaction goes on');
	$s1->query_safe('COMMIT');
	$s2->query_safe('COMMIT');
	is(balance($a), '1005', 'the other transaction committed');
	$total += 5;
	is($coordinator->safe_psql('postgres',
		'SELECT value FROM local_counters WHERE id = 1'), '2',
		'the victim\'s block left nothing');
	$_->quit for ($s1, $s2, $control);
	nothing_left_behind('PL/pgSQL exception block');
}

# the daemon logged what it did
like(slurp_file($coordinator->logfile), qr/distributed deadlock detected/,
	'the detection is logged');

done_testing();
