# Errors from nodes reach the client with the node named: a worker that is
# down, a worker that dies while running a query, and an unreachable node
# given to distdb_add_node.  Once the worker is back, queries work again.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use DistdbTestCluster;

my ($coordinator, $worker1, $worker2) = DistdbTestCluster->start(2);

$coordinator->safe_psql('postgres', q{
	CREATE TABLE items (id int PRIMARY KEY, name text);
	INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 100) i;
	SELECT distdb.create_distributed_table('items', 'id', 4);
});

# find an id on each worker
my $port2 = $worker2->port;
my $id_on_2 = $coordinator->safe_psql('postgres', qq{
	SELECT i FROM generate_series(1, 100) i
	WHERE distdb.distdb_shard_index_for_value('items', i::text) IN
		(SELECT shardindex FROM distdb.distdb_shards
		 WHERE table_name = 'items'::regclass AND nodeport = $port2)
	LIMIT 1});
my $id_on_1 = $coordinator->safe_psql('postgres', qq{
	SELECT i FROM generate_series(1, 100) i
	WHERE distdb.distdb_shard_index_for_value('items', i::text) NOT IN
		(SELECT shardindex FROM distdb.distdb_shards
		 WHERE table_name = 'items'::regclass AND nodeport = $port2)
	LIMIT 1});
ok($id_on_1 && $id_on_2, 'found rows on both workers');

# warm the connection cache of one session, then stop worker2
my $session = $coordinator->background_psql('postgres', on_error_stop => 0);
$session->query_safe('SELECT count(*) FROM items');
$worker2->stop('immediate');

my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT * FROM items WHERE id = $id_on_2");
isnt($ret, 0, 'query on a shard of a stopped worker fails');
like($stderr, qr/could not connect to node .*:$port2/,
	'the error names the node');

is($coordinator->safe_psql('postgres', "SELECT name FROM items WHERE id = $id_on_1"),
	"item $id_on_1", 'shards on the live worker still answer');

# the session with a cached connection to the dead worker gets an error too
my $result = $session->query("SELECT count(*) FROM items");
like($session->{stderr}, qr/(lost connection to node|could not connect to node|server closed the connection)/,
	'a cached connection to a dead worker reports the node');

$session->{stderr} = '';
$worker2->start;
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM items'),
	'100', 'queries work again once the worker is back');
$session->query_safe('SELECT 1');
is($session->query_safe('SELECT count(*) FROM items'), '100',
	'the session recovers its connections');
$session->quit;

# an unreachable node cannot be added, and nothing changes
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT distdb.distdb_add_node('127.0.0.1', 1)");
isnt($ret, 0, 'adding an unreachable node fails');
like($stderr, qr/could not connect to node 127\.0\.0\.1:1/, 'and names it');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM distdb.node'),
	'2', 'the node list is unchanged');

done_testing();
