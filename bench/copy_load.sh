#!/usr/bin/env bash
#
# bench/copy_load.sh - benchmark (not a test) of bulk loading with
# COPY ... FROM: distdb (coordinator + 2 workers, 32 shards) against one
# plain PostgreSQL server on the same machine.  See bench/README.md.
#
# Starts a fresh cluster and a plain server in one temporary directory,
# writes BENCH_ROWS generated rows to a CSV file there, then loads that file
# with "COPY copy_bench FROM '<file>' (FORMAT csv)" into an empty
# distributed table on the coordinator and into the same table on the plain
# server, BENCH_RUNS times each (TRUNCATE between runs), and prints the
# median times and their ratio as a markdown table, also saved to
# bench/results/copy_load-<time>.md.  Stops everything at the end.
#
# Environment: BENCH_ROWS (1000000), BENCH_RUNS (3), BENCH_STEP_TIMEOUT
# seconds per statement (900); DISTDB_SKIP_BUILD=1 etc. as in
# test/cluster_lib.sh.

set -euo pipefail

# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

ROWS="${BENCH_ROWS:-1000000}"
RUNS="${BENCH_RUNS:-3}"
STEP_TIMEOUT="${BENCH_STEP_TIMEOUT:-900}"
SHARDS=32

# The table, the same on both servers.
table_sql() {
	cat <<EOF
CREATE TABLE copy_bench (id bigint NOT NULL, account int, label text,
						 amount numeric(12,2), created timestamptz);
EOF
}

# Run SQL $2 on node $1 in $BENCH_DB, bounded in time; print psql's output.
run_sql() {
	PGOPTIONS="$(bench_timeout_options "$STEP_TIMEOUT")" \
		bench_psql_bounded $((STEP_TIMEOUT + 60)) "$1" -d "$BENCH_DB" -c "$2"
}

# Load the data file into copy_bench on node $1 (emptied first) and print
# the COPY's time in milliseconds, as psql's \timing measures it.
timed_copy() {
	local node="$1" out
	run_sql "$node" "TRUNCATE copy_bench" >/dev/null
	out="$(printf '%s\n' '\timing on' \
		"COPY copy_bench FROM '$WORK/copy_bench.csv' (FORMAT csv);" |
		PGOPTIONS="$(bench_timeout_options "$STEP_TIMEOUT")" \
			bench_psql_bounded $((STEP_TIMEOUT + 60)) "$node" -d "$BENCH_DB")"
	[[ "$out" == *"COPY $ROWS"* ]] || distdb_die "COPY on $node did not copy $ROWS rows: $out"
	sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -n 1
}

# Median of the numbers given as arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) printf "%.0f", v[(NR + 1) / 2];
		else printf "%.0f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

main() {
	bench_start

	distdb_log "creating copy_bench on the plain server and the cluster"
	table_sql | bench_load_plain
	{
		table_sql
		echo "SELECT distdb.create_distributed_table('copy_bench', 'id', $SHARDS);"
	} | bench_load_distdb

	distdb_log "writing $ROWS rows to $WORK/copy_bench.csv"
	run_sql plain "COPY (SELECT i, i % 10000, md5(i::text), i * 0.25,
		timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second'
		FROM generate_series(1, $ROWS) AS i)
		TO '$WORK/copy_bench.csv' (FORMAT csv)" >/dev/null

	local -a plain_ms=() distdb_ms=()
	local run
	for ((run = 1; run <= RUNS; run++)); do
		distdb_log "run $run/$RUNS: COPY into the plain server"
		plain_ms+=("$(timed_copy plain)")
		distdb_log "run $run/$RUNS: COPY into the distributed table"
		distdb_ms+=("$(timed_copy coordinator)")
	done

	# the distributed table must hold every row, once
	local check
	check="$(run_sql coordinator "SELECT count(*), count(DISTINCT id) FROM copy_bench" |
		sed -n '3p' | tr -d ' ')"
	[[ "$check" == "$ROWS|$ROWS" ]] || distdb_die "distributed table holds $check rows"

	local plain_median distdb_median
	plain_median="$(median "${plain_ms[@]}")"
	distdb_median="$(median "${distdb_ms[@]}")"

	local report
	report="$(
		echo "# copy_load: COPY FROM of $ROWS rows (CSV file on the server)"
		echo
		echo "$(bench_env_line), median of $RUNS runs"
		echo
		echo "| target | runs (ms) | median ms | rows/s | time vs plain |"
		echo "|---|---|---|---|---|"
		echo "| plain PostgreSQL | ${plain_ms[*]} | $plain_median |" \
			"$(awk -v r="$ROWS" -v t="$plain_median" 'BEGIN { printf "%.0f", r / (t / 1000) }') | 1.00 |"
		echo "| distdb (coordinator + 2 workers, $SHARDS shards) | ${distdb_ms[*]} |" \
			"$distdb_median |" \
			"$(awk -v r="$ROWS" -v t="$distdb_median" 'BEGIN { printf "%.0f", r / (t / 1000) }') |" \
			"$(awk -v a="$distdb_median" -v b="$plain_median" 'BEGIN { printf "%.2f", a / b }') |"
	)"
	bench_save_report copy_load "$report"
}

main "$@"
