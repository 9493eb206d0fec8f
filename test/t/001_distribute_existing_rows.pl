# A table with 1,000,000 rows is distributed through the coordinator: every
# row must end up exactly once in the shard its hash value selects, spread
# over both workers, and reads through the coordinator must return what a
# plain PostgreSQL table returns.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use DistdbTestCluster;

my ($coordinator, @workers) = DistdbTestCluster->start(2);
my $rows = 1_000_000;

$coordinator->safe_psql('postgres', qq{
	CREATE TABLE events (id bigint PRIMARY KEY, kind int NOT NULL, payload text);
	INSERT INTO events SELECT i, i % 7, md5(i::text) FROM generate_series(1, $rows) i;
	CREATE TABLE events_local AS SELECT * FROM events;
	SELECT distdb.create_distributed_table('events', 'id', 32);
});

# the coordinator's own copy is empty now
is($coordinator->safe_psql('postgres',
		"SELECT pg_relation_size('events')"), '0',
	'rows left the coordinator table');

# every row is on exactly one worker: counts and id sums add up, and no
# worker holds an id twice
my ($total, $sum) = (0, 0);
foreach my $worker (@workers)
{
	my @shards = DistdbTestCluster->shards_on($coordinator, 'events', $worker);
	ok(@shards > 0, 'worker ' . $worker->name . ' holds shards');
	my $union = join(' UNION ALL ', map { "SELECT id FROM $_" } @shards);
	my ($count, $distinct, $idsum) = split /\|/,
	  $worker->safe_psql('postgres',
		"SELECT count(*), count(DISTINCT id), sum(id) FROM ($union) s");
	is($distinct, $count, 'no duplicate rows on ' . $worker->name);
	$total += $count;
	$sum += $idsum;
}
is($total, $rows, 'every row is in a shard');
is($sum, $rows * ($rows + 1) / 2, 'the shards hold exactly the original ids');

# each shard holds only rows that hash into its range
foreach my $worker (@workers)
{
	foreach my $shard (DistdbTestCluster->shards_on($coordinator, 'events', $worker))
	{
		my $sample = $worker->safe_psql('postgres',
			"SELECT string_agg(id::text, ',') FROM (SELECT id FROM $shard ORDER BY id LIMIT 3) s");
		my ($index) = $coordinator->safe_psql('postgres', qq{
			SELECT shardindex FROM distdb.distdb_shards WHERE shard_name = '$shard'});
		foreach my $id (split /,/, $sample)
		{
			is($coordinator->safe_psql('postgres',
					"SELECT distdb.distdb_shard_index_for_value('events', '$id')"),
				$index, "row $id is in the shard of its hash value");
		}
	}
}

# reads through the coordinator match the plain table
is($coordinator->safe_psql('postgres', 'SELECT count(*), sum(kind) FROM events'),
	$coordinator->safe_psql('postgres', 'SELECT count(*), sum(kind) FROM events_local'),
	'multi-shard aggregate matches');
is($coordinator->safe_psql('postgres',
		'SELECT kind, count(*), min(payload) FROM events GROUP BY kind ORDER BY kind'),
	$coordinator->safe_psql('postgres',
		'SELECT kind, count(*), min(payload) FROM events_local GROUP BY kind ORDER BY kind'),
	'multi-shard grouping matches');
is($coordinator->safe_psql('postgres',
		'SELECT * FROM events WHERE payload LIKE \'ab%\' ORDER BY id'),
	$coordinator->safe_psql('postgres',
		'SELECT * FROM events_local WHERE payload LIKE \'ab%\' ORDER BY id'),
	'multi-shard filtered scan matches');
foreach my $id (1, 4242, 999_999)
{
	is($coordinator->safe_psql('postgres', "SELECT * FROM events WHERE id = $id"),
		$coordinator->safe_psql('postgres', "SELECT * FROM events_local WHERE id = $id"),
		"router read of row $id matches");
}

# router writes
$coordinator->safe_psql('postgres', q{
	UPDATE events SET payload = 'changed' WHERE id = 77;
	DELETE FROM events WHERE id = 78;
	INSERT INTO events VALUES (1000001, 3, 'new');
});
is($coordinator->safe_psql('postgres',
		'SELECT id, payload FROM events WHERE id IN (77, 78, 1000001) ORDER BY id'),
	"77|changed\n1000001|new", 'router writes are visible');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM events'),
	$rows, 'row count after writes');

done_testing();
