#!/usr/bin/env bash
#
# bench/analytics.sh - benchmark (not a test) of analytical multi-shard
# queries: distdb (coordinator + 2 workers) against one plain PostgreSQL
# server on the same machine.  See bench/README.md.
#
# Starts a fresh cluster and a plain server in one temporary directory,
# loads events (BENCH_ROWS rows) and users (BENCH_ROWS / 10 rows) on both,
# distributes both coordinator tables by user_id over 32 co-located shards,
# then runs each query 3 times on each server and keeps the fastest
# wall-clock time seen by psql (\timing).  Checks that both servers return
# the same rows.  Prints a markdown table, saves it (with the distdb plans)
# to bench/results/analytics-<time>.md and stops everything.
#
# Environment: BENCH_ROWS (5000000), BENCH_RUNS per query (3),
# BENCH_STEP_TIMEOUT seconds per loading statement (1800),
# BENCH_QUERY_TIMEOUT seconds per query run (300); DISTDB_SKIP_BUILD=1 etc.
# as in test/cluster_lib.sh.  Exits 1 if some query returned different
# results on the two servers.

set -euo pipefail

# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

ROWS="${BENCH_ROWS:-5000000}"
USERS=$((ROWS / 10 > 0 ? ROWS / 10 : 1))
RUNS="${BENCH_RUNS:-3}"
STEP_TIMEOUT="${BENCH_STEP_TIMEOUT:-1800}"
QUERY_TIMEOUT="${BENCH_QUERY_TIMEOUT:-300}"
SHARDS=32

# The measured queries, in report order.
QUERIES=(
	"SELECT count(*) FROM events"
	"SELECT kind, count(*), sum(amount) FROM events GROUP BY kind ORDER BY kind"
	"SELECT user_id, sum(amount) FROM events GROUP BY user_id ORDER BY 2 DESC LIMIT 10"
	"SELECT count(DISTINCT kind) FROM events"
	"SELECT count(DISTINCT user_id) FROM events"
	"SELECT u.country, count(*), avg(e.amount) FROM events e JOIN users u ON u.user_id = e.user_id GROUP BY u.country ORDER BY 1"
	"SELECT kind, stddev(amount), variance(amount) FROM events GROUP BY kind ORDER BY kind"
	"SELECT u.country, count(*) FROM users u WHERE EXISTS (SELECT 1 FROM events e WHERE e.user_id = u.user_id AND e.kind = 3) GROUP BY u.country ORDER BY 1"
	"SELECT u.country, count(*), sum(t.total) FROM (SELECT user_id, sum(amount) AS total FROM events GROUP BY user_id) t JOIN users u ON u.user_id = t.user_id GROUP BY u.country ORDER BY 1"
	"SELECT kind, count(*) FROM events WHERE amount > (SELECT avg(amount) FROM events WHERE kind = 3) GROUP BY kind ORDER BY kind"
)

# SQL that creates and fills users and events.  Each user has ROWS/USERS
# events; kind, amount and country come from hashint8() so that they are
# spread out but identical on every server (and the top sums per user have
# no ties, which would make the LIMIT 10 query's result ambiguous).
load_sql() {
	cat <<EOF
CREATE TABLE users (user_id bigint PRIMARY KEY, country int NOT NULL);
INSERT INTO users
SELECT u, (hashint8(u)::bigint + 2147483648) % 50
FROM generate_series(1, $USERS) AS u;
CREATE TABLE events (id bigint NOT NULL, user_id bigint NOT NULL, kind int NOT NULL,
                     amount numeric(12,2) NOT NULL, created date NOT NULL);
INSERT INTO events
SELECT i, (i - 1) % $USERS + 1, (hashint8(i)::bigint + 2147483648) % 20,
       ((hashint8(-i)::bigint + 2147483648) % 10000000) / 100.0,
       date '2024-01-01' + (i % 730)::int
FROM generate_series(1, $ROWS) AS i;
EOF
}

# Run every query RUNS times on node NODE (one psql session per query,
# timing on); query N's rows (unaligned) go to $WORK/out/NODE-N.rows, psql's
# "Time:" lines to $WORK/out/NODE-N.time.
run_queries() {
	local node="$1" i r script
	for i in "${!QUERIES[@]}"; do
		script="$WORK/out/$node-$i.sql"
		{
			printf '%s\n' '\timing on'
			for ((r = 1; r <= RUNS; r++)); do
				# Every run writes its rows (same work each time); the last stays.
				echo "\\o $WORK/out/$node-$i.rows"
				echo "${QUERIES[i]};"
			done
		} | distdb_as_user tee "$script" >/dev/null
		distdb_log "$node: query $((i + 1))/${#QUERIES[@]}, $RUNS runs: ${QUERIES[i]}"
		# statement_timeout bounds each run, timeout(1) the whole session.
		PGOPTIONS="$(bench_timeout_options "$QUERY_TIMEOUT")" \
			bench_psql_bounded $((RUNS * QUERY_TIMEOUT + 60)) "$node" \
			-d "$BENCH_DB" -A -F '|' -f "$script" \
			>"$WORK/out/$node-$i.time" 2>&1 || {
			cat "$WORK/out/$node-$i.time" >&2
			distdb_die "query failed on $node: ${QUERIES[i]}"
		}
	done
}

# Print the smallest "Time: X ms" of file $1 (1 decimal).
best_ms() {
	awk '/^Time: / { if (best == "" || $2 + 0 < best) best = $2 + 0 }
		END { if (best == "") exit 1; printf "%.1f", best }' "$1"
}

# Print EXPLAIN (COSTS OFF) of every query on the coordinator, as markdown.
distdb_plans() {
	local q
	for q in "${QUERIES[@]}"; do
		echo
		echo '```'
		echo "$q"
		distdb_psql "$WORK" coordinator -d "$BENCH_DB" -A -t \
			-c "EXPLAIN (COSTS OFF) $q" || echo "(EXPLAIN failed)"
		echo '```'
	done
}

main() {
	bench_start

	# Bound every loading statement in time (a hung step fails the run).
	local pgoptions
	pgoptions="$(bench_timeout_options "$STEP_TIMEOUT")"
	distdb_log "loading $ROWS events and $USERS users into the plain server"
	load_sql | PGOPTIONS="$pgoptions" bench_load_plain
	distdb_log "loading $ROWS events and $USERS users into the coordinator and distributing over $SHARDS shards"
	{
		load_sql
		echo "SELECT distdb.create_distributed_table('users', 'user_id', $SHARDS);"
		echo "SELECT distdb.create_distributed_table('events', 'user_id', $SHARDS);"
	} | PGOPTIONS="$pgoptions" bench_load_distdb
	distdb_log "VACUUM ANALYZE on every server"
	PGOPTIONS="$pgoptions" bench_vacuum_analyze
	distdb_user_dir "$WORK/out"

	local node
	for node in plain coordinator; do
		run_queries "$node"
	done

	local rows="" mismatches=0 i plain_ms distdb_ms ratio same
	for i in "${!QUERIES[@]}"; do
		plain_ms="$(best_ms "$WORK/out/plain-$i.time")"
		distdb_ms="$(best_ms "$WORK/out/coordinator-$i.time")"
		ratio="$(awk -v p="$plain_ms" -v d="$distdb_ms" 'BEGIN { printf "%.2f", (d > 0 ? p / d : 0) }')"
		if cmp -s "$WORK/out/plain-$i.rows" "$WORK/out/coordinator-$i.rows"; then
			same="yes"
		else
			same="**NO: MISMATCH**"
			mismatches=$((mismatches + 1))
			{
				echo
				echo "!!!!!!!! MISMATCH: plain PostgreSQL and distdb return different rows for:"
				echo "!!!!!!!! ${QUERIES[i]}"
				diff "$WORK/out/plain-$i.rows" "$WORK/out/coordinator-$i.rows" | head -n 40
				echo
			} >&2
		fi
		rows+="| \`${QUERIES[i]}\` | $plain_ms | $distdb_ms | $ratio | $same |"$'\n'
	done

	local report
	report="$(
		echo "# analytics: multi-shard analytical queries"
		echo
		echo "$(bench_env_line), events: $ROWS rows, users: $USERS rows," \
			"distdb: coordinator + 2 workers, $SHARDS co-located shards;" \
			"best of $RUNS runs, wall time seen by psql"
		echo
		echo "| query | plain ms | distdb ms | ratio (plain/distdb) | same result |"
		echo "|---|---|---|---|---|"
		printf '%s' "$rows"
		if ((mismatches > 0)); then
			echo
			echo "**$mismatches of ${#QUERIES[@]} queries returned different rows on distdb than on plain PostgreSQL.**"
		fi
	)"
	local plans
	plans="$(printf '## distdb plans\n'; distdb_plans)"
	bench_save_report analytics "$report" "$plans"
	if ((mismatches > 0)); then
		distdb_log "MISMATCH in $mismatches of ${#QUERIES[@]} queries (see above)"
		exit 1
	fi
}

main "$@"
