# UPDATE / DELETE through the coordinator (the coordinator selects the
# target rows, then writes them by ctid) when another transaction changes
# a selected row before the write: the shard's statement waits for the
# other transaction's row lock, finds the row's new version (ctid changed)
# and skips it, so the statement fails with SQLSTATE 40001 and nothing of
# it stays -- no lost update, no partial write.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use DistdbTestCluster;

my ($coordinator, $worker1, $worker2) = DistdbTestCluster->start(2);

$coordinator->safe_psql('postgres', q{
	CREATE TABLE t (k int PRIMARY KEY, a int NOT NULL);
	INSERT INTO t SELECT i, 0 FROM generate_series(1, 40) i;
	SELECT distdb.create_distributed_table('t', 'k', 8);
	CREATE TABLE bonus (k int, amount int);
	INSERT INTO bonus SELECT i, 1 FROM generate_series(1, 40) i;
});
my @ids = DistdbTestCluster->ids_on($coordinator, 't', $worker1, 40);
ok(@ids >= 1, 'rows on worker 1');
my $id = $ids[0];

my $locked = 0;
foreach my $statement (
	'UPDATE t SET a = t.a + b.amount FROM bonus b WHERE b.k = t.k',
	'DELETE FROM t USING bonus b WHERE b.k = t.k')
{
	$locked += 100;
	my $locker = DistdbTestCluster->error_session($coordinator);
	my $writer = DistdbTestCluster->error_session($coordinator);

	# the locker changes one row and keeps its lock
	$locker->query_safe("BEGIN; UPDATE t SET a = a + 100 WHERE k = $id");

	# the writer selects every row, then waits for that row's lock
	DistdbTestCluster->send_sql($writer, "$statement;");
	$worker1->poll_query_until('postgres',
		'SELECT count(*) >= 1 FROM pg_locks WHERE NOT granted')
	  or die 'the writer did not wait for the lock';
	$locker->query_safe('COMMIT');

	ok(defined DistdbTestCluster->wait_for_output(qr/40001/, $writer),
		"$statement: the writer fails with a serialization failure");
	like($writer->{stderr},
		qr/could not serialize access due to concurrent update/,
		"$statement: with PostgreSQL's message");
	is($coordinator->safe_psql('postgres',
		'SELECT count(*), sum(a) FROM t'),
		"40|$locked", "$statement: only the locker's update is there");
	$locker->quit;
	$writer->quit;
}

foreach my $worker ($worker1, $worker2)
{
	is($worker->safe_psql('postgres',
		'SELECT count(*) FROM pg_prepared_xacts'),
		0, 'no prepared transaction left on ' . $worker->name);
}
done_testing();
