# SELECT ... FOR UPDATE / FOR SHARE over several shards: every shard locks
# the rows it returns, in the transaction's connection to its node, so the
# locks hold until the coordinator's transaction ends -- as on a single
# PostgreSQL.  Checked from other sessions: writers of a locked row wait
# (here they time out: the session's lock_timeout applies on the workers
# too), SKIP LOCKED skips the locked rows, NOWAIT fails, FOR SHARE locks do
# not conflict with each other; nothing stays locked or prepared after
# COMMIT.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use DistdbTestCluster;

my ($coordinator, $worker1, $worker2) = DistdbTestCluster->start(2);

$coordinator->safe_psql('postgres', q{
	CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
	INSERT INTO accounts SELECT i, 100 FROM generate_series(1, 40) i;
	SELECT distdb.create_distributed_table('accounts', 'id', 8);
});
my @ids1 = DistdbTestCluster->ids_on($coordinator, 'accounts', $worker1, 40);
my @ids2 = DistdbTestCluster->ids_on($coordinator, 'accounts', $worker2, 40);
ok(@ids1 >= 1 && @ids2 >= 1, 'rows on both workers');

# runs $sql in a new session; returns (stdout, stderr)
sub other_session
{
	my ($sql) = @_;
	my ($stdout, $stderr);
	$coordinator->psql('postgres', "SET lock_timeout = '200ms'; $sql",
		stdout => \$stdout, stderr => \$stderr, timeout => 120);
	return ($stdout, $stderr);
}

my $locker = $coordinator->background_psql('postgres');
# row locks on both workers commit with two-phase commit; other sessions
# must find the rows unlocked as soon as COMMIT returns
$locker->query_safe('SET distdb.wait_for_commit_prepared = on');

# 1. FOR UPDATE of every row with a filter on another column
$locker->query_safe(
	'BEGIN; SELECT id FROM accounts WHERE balance > 0 ORDER BY id FOR UPDATE');
foreach my $id ($ids1[0], $ids2[0])
{
	my (undef, $err) =
	  other_session("UPDATE accounts SET balance = 0 WHERE id = $id");
	like($err, qr/lock timeout/, "a writer of row $id waits for the lock");
}
my ($skipped) = other_session(
	'SELECT id FROM accounts WHERE balance > 0 FOR UPDATE SKIP LOCKED');
is($skipped, '', 'SKIP LOCKED skips every locked row');
my (undef, $nowait) = other_session(
	"SELECT id FROM accounts WHERE balance >= 0 FOR SHARE NOWAIT");
like($nowait, qr/could not obtain lock/, 'NOWAIT fails on a locked row');
$locker->query_safe('COMMIT');

my ($all) = other_session(
	'SELECT count(*) FROM (SELECT 1 FROM accounts) s');
is($all, '40', 'the rows are all there');
my ($after) = other_session(
	'SELECT id FROM accounts WHERE balance > 0 FOR UPDATE SKIP LOCKED');
is(scalar(split /\n/, $after), 40, 'after COMMIT nothing is locked');

# 2. FOR SHARE locks of two sessions do not conflict; a writer waits
$locker->query_safe("BEGIN; SELECT id FROM accounts WHERE id IN ($ids1[0], $ids2[0]) FOR SHARE");
my ($shared, $shared_err) = other_session(
	"SELECT id FROM accounts WHERE id IN ($ids1[0], $ids2[0]) AND balance > 0 FOR SHARE NOWAIT");
is($shared_err, '', 'a second FOR SHARE does not wait');
is(scalar(split /\n/, $shared), 2, 'and returns both rows');
my (undef, $writer) =
  other_session("UPDATE accounts SET balance = 1 WHERE id = $ids2[0]");
like($writer, qr/lock timeout/, 'a writer of a shared row waits');
$locker->query_safe('ROLLBACK');
$locker->quit;

foreach my $worker ($worker1, $worker2)
{
	is($worker->safe_psql('postgres',
		'SELECT count(*) FROM pg_prepared_xacts'),
		0, 'no prepared transaction left on ' . $worker->name);
}
is($coordinator->safe_psql('postgres',
	'SELECT sum(balance) FROM accounts'), 4000, 'no update got through');

done_testing();
