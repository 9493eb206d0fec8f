# Reference tables and nodes added later: a node added to the cluster gets
# a copy of every reference table, with the same rows, and from then on
# joins with distributed tables placed on it, reads and writes use it too.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use DistdbTestCluster;

my ($coordinator, @workers) = DistdbTestCluster->start(1);

# roles must exist on every node for the shards' privileges
$workers[0]->safe_psql('postgres', 'CREATE ROLE ref_reader');

$coordinator->safe_psql('postgres', q{
	CREATE TABLE currencies (code text PRIMARY KEY, rate numeric NOT NULL);
	INSERT INTO currencies SELECT 'c' || i, i / 10.0 FROM generate_series(1, 1000) i;
	CREATE TABLE empty_ref (a int);
	CREATE ROLE ref_reader;
	GRANT SELECT ON currencies TO ref_reader;
	SELECT distdb.create_reference_table('currencies');
	SELECT distdb.create_reference_table('empty_ref');
	CREATE TABLE currencies_local (code text PRIMARY KEY, rate numeric NOT NULL);
	INSERT INTO currencies_local SELECT 'c' || i, i / 10.0 FROM generate_series(1, 1000) i;
});

my $new_worker = DistdbTestCluster::new_node('worker2');
$new_worker->safe_psql('postgres', 'CREATE ROLE ref_reader');

# a failed add (here: a table the new node cannot create) adds nothing
$coordinator->safe_psql('postgres', q{
	CREATE TYPE mood AS ENUM ('ok', 'sad');
	CREATE TABLE moods (m mood);
});
$workers[0]->safe_psql('postgres', q{CREATE TYPE mood AS ENUM ('ok', 'sad')});
$coordinator->safe_psql('postgres', q{SELECT distdb.create_reference_table('moods')});
my $host = $new_worker->host;
my $port = $new_worker->port;
my ($rc, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT distdb.distdb_add_node('$host', $port)");
isnt($rc, 0, 'adding a node that cannot hold a reference table fails');
like($stderr, qr/type "(public\.)?mood" does not exist/, 'with the node\'s error');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM distdb.node'),
	'1', 'the node was not added');
is($new_worker->safe_psql('postgres',
		"SELECT count(*) FROM pg_class WHERE relname LIKE 'currencies%'"),
	'0', 'no copy was left on the node');

$new_worker->safe_psql('postgres', q{CREATE TYPE mood AS ENUM ('ok', 'sad')});
$coordinator->safe_psql('postgres', "SELECT distdb.distdb_add_node('$host', $port)");

# every reference table has a copy on both nodes, with the same rows
is($coordinator->safe_psql('postgres', q{
		SELECT table_name, count(*) FROM distdb.distdb_shards
		WHERE table_name::text IN ('currencies', 'empty_ref', 'moods')
		GROUP BY 1 ORDER BY 1::text}),
	"currencies|2\nempty_ref|2\nmoods|2", 'a copy of every reference table on each node');
my ($shard) = DistdbTestCluster->shards_on($coordinator, 'currencies', $new_worker);
ok(defined $shard, 'the new node holds the copy of currencies');
my $checksum = "SELECT count(*), sum(hashtext(code || rate)) FROM $shard";
is($new_worker->safe_psql('postgres', $checksum),
	$workers[0]->safe_psql('postgres', $checksum),
	'the new copy holds the same rows');
is($new_worker->safe_psql('postgres',
		"SELECT has_table_privilege('ref_reader', '$shard', 'SELECT')"),
	't', 'the new copy has the table\'s privileges');

# writes reach both copies, in one distributed transaction
$coordinator->safe_psql('postgres', q{
	BEGIN;
	UPDATE currencies SET rate = rate * 2 WHERE code LIKE 'c1%';
	INSERT INTO currencies VALUES ('xx', 1);
	DELETE FROM currencies WHERE code = 'c5';
	COMMIT;
	UPDATE currencies_local SET rate = rate * 2 WHERE code LIKE 'c1%';
	INSERT INTO currencies_local VALUES ('xx', 1);
	DELETE FROM currencies_local WHERE code = 'c5';
});
is($new_worker->safe_psql('postgres', $checksum),
	$workers[0]->safe_psql('postgres', $checksum),
	'the copies are the same after writes');
is($coordinator->safe_psql('postgres', 'SELECT count(*), sum(rate) FROM currencies'),
	$coordinator->safe_psql('postgres', 'SELECT count(*), sum(rate) FROM currencies_local'),
	'reads through the coordinator match');

# a distributed table placed on both nodes joins the copy on each node
$coordinator->safe_psql('postgres', q{
	CREATE TABLE payments (id bigint, currency text, amount numeric);
	INSERT INTO payments SELECT i, 'c' || (i % 1000 + 1), i FROM generate_series(1, 5000) i;
	CREATE TABLE payments_local AS SELECT * FROM payments;
	SELECT distdb.create_distributed_table('payments', 'id', 4);
});
my $join = 'SELECT count(*), sum(p.amount * c.rate) FROM %s p JOIN %s c ON c.code = p.currency';
is($coordinator->safe_psql('postgres', sprintf($join, 'payments', 'currencies')),
	$coordinator->safe_psql('postgres', sprintf($join, 'payments_local', 'currencies_local')),
	'join with the reference table on both nodes matches');
like($coordinator->safe_psql('postgres',
		'EXPLAIN (COSTS OFF) ' . sprintf($join, 'payments', 'currencies')),
	qr/Task Count: 4/, 'the join runs shard by shard');

# removing a node drops its copies, once it holds no distributed shards
($rc, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT distdb.distdb_remove_node('$host', $port)");
like($stderr, qr/holds shard placements/, 'a node with shards is not removed');
$coordinator->safe_psql('postgres', 'DROP TABLE payments');
$coordinator->safe_psql('postgres', "SELECT distdb.distdb_remove_node('$host', $port)");
is($coordinator->safe_psql('postgres', q{
		SELECT count(*) FROM distdb.distdb_shards
		WHERE table_name::text IN ('currencies', 'empty_ref', 'moods')}),
	'3', 'one copy of each reference table is left');
is($new_worker->safe_psql('postgres',
		"SELECT count(*) FROM pg_class WHERE relname ~ '^(currencies|empty_ref|moods)_[0-9]+\$'"),
	'0', 'the removed node\'s copies are dropped');
is($coordinator->safe_psql('postgres', 'SELECT count(*), sum(rate) FROM currencies'),
	$coordinator->safe_psql('postgres', 'SELECT count(*), sum(rate) FROM currencies_local'),
	'reads use the remaining copy');
$coordinator->safe_psql('postgres', q{
	INSERT INTO currencies VALUES ('yy', 2);
	INSERT INTO currencies_local VALUES ('yy', 2);
});
is($coordinator->safe_psql('postgres', 'SELECT count(*), sum(rate) FROM currencies'),
	$coordinator->safe_psql('postgres', 'SELECT count(*), sum(rate) FROM currencies_local'),
	'writes use the remaining copy');

# the last copy of a reference table stays
my $last_host = $workers[0]->host;
my $last_port = $workers[0]->port;
($rc, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT distdb.distdb_remove_node('$last_host', $last_port)");
like($stderr, qr/holds the only copy of reference table "currencies"/,
	'the node with the last copies is not removed');

done_testing();
