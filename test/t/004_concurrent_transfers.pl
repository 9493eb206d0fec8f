# Concurrent transfers between accounts on different shards (pgbench with a
# custom script), while a worker and then the coordinator are stopped
# abruptly and restarted.  Every transfer is a transaction over two
# accounts, usually on both workers, so it commits with two-phase commit.
# At the end, after recovery, the total of the balances has not changed and
# no prepared transaction is left on any node.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use DistdbTestCluster;

my ($coordinator, $worker1, $worker2) = DistdbTestCluster->start(2);
$coordinator->append_conf('postgresql.conf', qq{
restart_after_crash = on
distdb.recover_2pc_interval = 200ms
});
$coordinator->reload;

my $accounts = 100;
my $total = $accounts * 1000;
$coordinator->safe_psql('postgres', qq{
	CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
	INSERT INTO accounts SELECT i, 1000 FROM generate_series(1, $accounts) i;
	SELECT distdb.create_distributed_table('accounts', 'id', 8);
});

# A transfer of a random amount from account a to another account b.  The
# two rows are updated in id order, so that two transfers never deadlock
# across nodes (distributed deadlock detection would cancel one of them:
# see 005_distributed_deadlock.pl).
my $script = "${PostgreSQL::Test::Utils::tmp_check}/transfer.sql";
open my $fh, '>', $script or die "could not write $script: $!";
print $fh <<"EOF";
\\set a random(1, $accounts)
\\set d random(1, $accounts - 1)
\\set b 1 + (:a + :d - 1) % $accounts
\\set amount random(1, 50)
\\set lo least(:a, :b)
\\set hi greatest(:a, :b)
BEGIN;
UPDATE accounts SET balance = balance + CASE WHEN id = :a THEN -:amount ELSE :amount END WHERE id = :lo;
UPDATE accounts SET balance = balance + CASE WHEN id = :a THEN -:amount ELSE :amount END WHERE id = :hi;
COMMIT;
EOF
close $fh;

# Start pgbench for $seconds with 4 clients; returns the harness and
# references to its output.
sub start_pgbench
{
	my ($seconds) = @_;
	my ($stdout, $stderr) = ('', '');
	my $harness = IPC::Run::start(
		[
			'pgbench', '-n', '-c', '4', '-T', $seconds, '-f', $script,
			'-h', $coordinator->host, '-p', $coordinator->port, 'postgres'
		],
		'>', \$stdout, '2>', \$stderr);
	return ($harness, \$stdout, \$stderr);
}

sub committed_transfers
{
	my ($stdout) = @_;
	return $$stdout =~ /number of transactions actually processed: (\d+)/ ? $1 : 0;
}

sub balances_are_consistent
{
	my ($what) = @_;
	is($coordinator->safe_psql('postgres', 'SELECT sum(balance), count(*) FROM accounts'),
		"$total|$accounts", "$what: the total is unchanged");
}

# warm-up: transfers commit while everything is up
my ($harness, $stdout, $stderr) = start_pgbench(2);
$harness->finish;
ok(committed_transfers($stdout) > 0, 'transfers commit') or diag $$stderr;
balances_are_consistent('after the warm-up');

# worker 2 stops abruptly during the transfers, then comes back
($harness, $stdout, $stderr) = start_pgbench(4);
sleep(2);
$worker2->stop('immediate');
sleep(1);
$worker2->start;
$harness->finish;
note 'pgbench with worker 2 stopped: ' . committed_transfers($stdout) . ' transfers';

# transactions whose COMMIT PREPARED did not reach worker 2 are finished by
# the maintenance daemon (calling the recovery too must be harmless)
$coordinator->safe_psql('postgres', 'SELECT distdb.distdb_recover_prepared_transactions()');
foreach my $worker ($worker1, $worker2)
{
	$worker->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_prepared_xacts')
	  or die 'prepared transactions left on ' . $worker->name;
}
balances_are_consistent('after worker 2 was stopped');

# the coordinator stops abruptly during the transfers
($harness, $stdout, $stderr) = start_pgbench(4);
sleep(2);
$coordinator->stop('immediate');
$harness->finish;
$coordinator->start;
note 'pgbench with the coordinator stopped: ' . committed_transfers($stdout) . ' transfers';
foreach my $worker ($worker1, $worker2)
{
	$worker->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_prepared_xacts')
	  or die 'prepared transactions left on ' . $worker->name;
}
balances_are_consistent('after the coordinator was stopped');

# everything works again
($harness, $stdout, $stderr) = start_pgbench(2);
$harness->finish;
ok(committed_transfers($stdout) > 0, 'transfers commit after the restarts') or diag $$stderr;
unlike($$stderr, qr/error/i, 'without errors');
balances_are_consistent('at the end');
ok($coordinator->safe_psql('postgres', 'SELECT sum(abs(balance - 1000)) FROM accounts') > 0,
	'money moved');

is($worker1->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts')
	  + $worker2->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts'),
	0, 'no prepared transaction left');
$coordinator->poll_query_until('postgres', 'SELECT count(*) = 0 FROM distdb.transaction_record')
  or die 'commit records were not cleaned up';
ok(1, 'commit records are cleaned up');

done_testing();
