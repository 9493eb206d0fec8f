#!/usr/bin/env bash
#
# bench/tpcb.sh - benchmark (not a test) of pgbench's built-in TPC-B-like
# transaction: distdb (coordinator + 2 workers, 32 shards) against one
# plain PostgreSQL server on the same machine.  See bench/README.md.
#
# Starts a fresh cluster and a plain server in one temporary directory,
# runs "pgbench -i -s BENCH_SCALE" against both, distributes the four
# pgbench tables on the coordinator (accounts by aid, branches by bid,
# tellers by tid, history by aid: one transaction writes shards on both
# workers, so it commits with two-phase commit), then runs the built-in
# tpcb-like script against each and checks afterwards that the balances of
# accounts, tellers and branches and the history's deltas still add up to
# the same total.  Prints a markdown table, saves it to
# bench/results/tpcb-<time>.md and stops everything.
#
# Environment: BENCH_SCALE (10), BENCH_SECONDS (30), BENCH_CLIENTS (8),
# BENCH_MODE pgbench protocol (prepared), BENCH_WARMUP seconds per target
# (5), BENCH_STEP_TIMEOUT seconds per loading statement (900);
# DISTDB_SKIP_BUILD=1 etc. as in test/cluster_lib.sh.

set -euo pipefail

# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

SCALE="${BENCH_SCALE:-10}"
SECONDS_PER_RUN="${BENCH_SECONDS:-30}"
CLIENTS="${BENCH_CLIENTS:-8}"
MODE="${BENCH_MODE:-prepared}"
WARMUP="${BENCH_WARMUP:-5}"
STEP_TIMEOUT="${BENCH_STEP_TIMEOUT:-900}"
SHARDS=32
DB="$BENCH_DB"
THREADS=$((CLIENTS < 2 ? CLIENTS : 2))

# Run pgbench with arguments "$@" against node $1, bounded in time.
run_pgbench() {
	local node="$1"
	shift
	distdb_as_user timeout --kill-after=30 $((SECONDS_PER_RUN + STEP_TIMEOUT)) \
		pgbench -h 127.0.0.1 -p "$(distdb_node_port "$WORK" "$node")" "$@" "$DB"
}

# The built-in tpcb-like workload against node $1 for $2 seconds.  -n: no
# VACUUM before the run (pgbench would vacuum the coordinator's empty
# copies of the distributed tables).
run_tpcb() {
	run_pgbench "$1" -n -b tpcb-like -c "$CLIENTS" -j "$THREADS" -T "$2" -M "$MODE"
}

# Print "accounts tellers branches history" sums on node $1: all four are
# equal when every transaction was applied whole.
balance_sums() {
	PGOPTIONS="$(bench_timeout_options "$STEP_TIMEOUT")" \
		bench_psql_bounded $((STEP_TIMEOUT + 60)) "$1" -d "$DB" -At -F ' ' -c \
		"SELECT (SELECT sum(abalance) FROM pgbench_accounts),
		        (SELECT sum(tbalance) FROM pgbench_tellers),
		        (SELECT sum(bbalance) FROM pgbench_branches),
		        (SELECT coalesce(sum(delta), 0) FROM pgbench_history)"
}

main() {
	bench_start

	local pgoptions
	pgoptions="$(bench_timeout_options "$STEP_TIMEOUT")"
	distdb_log "pgbench -i -s $SCALE on the plain server"
	: | bench_load_plain
	PGOPTIONS="$pgoptions" run_pgbench plain -i -q -s "$SCALE" >/dev/null 2>&1 ||
		distdb_die "pgbench -i on the plain server failed"

	distdb_log "pgbench -i -s $SCALE on the coordinator, then distributing over $SHARDS shards"
	: | bench_load_distdb
	PGOPTIONS="$pgoptions" run_pgbench coordinator -i -q -s "$SCALE" >/dev/null 2>&1 ||
		distdb_die "pgbench -i on the coordinator failed"
	local table column
	for table in accounts:aid branches:bid tellers:tid history:aid; do
		column="${table#*:}"
		table="pgbench_${table%%:*}"
		PGOPTIONS="$pgoptions" bench_psql_bounded $((STEP_TIMEOUT + 60)) coordinator \
			-q -d "$DB" -c "SELECT distdb.create_distributed_table('$table', '$column', $SHARDS)" \
			>/dev/null
	done
	PGOPTIONS="$pgoptions" bench_vacuum_analyze

	local -A tps=()
	local rows="" node out label ratio sums check
	for node in plain coordinator; do
		if ((WARMUP > 0)); then
			distdb_log "warming up $node (${WARMUP}s)"
			run_tpcb "$node" "$WARMUP" >/dev/null 2>&1 ||
				distdb_die "pgbench warm-up against $node failed"
		fi
		out="$WORK/pgbench-$node.out"
		distdb_log "pgbench tpcb-like against $node: $CLIENTS clients, ${SECONDS_PER_RUN}s, -M $MODE"
		if ! run_tpcb "$node" "$SECONDS_PER_RUN" >"$out" 2>&1; then
			cat "$out" >&2
			distdb_die "pgbench against $node failed"
		fi
		tps[$node]="$(printf '%.1f' "$(bench_pgbench_value tps "$out")")"
		sums="$(balance_sums "$node")"
		check="$(awk '{ print ($1 == $2 && $2 == $3 && $3 == $4) ? "ok" : "MISMATCH" }' <<<"$sums")"
		[[ $check == ok ]] || distdb_log "balances on $node do not add up: $sums"
		if [[ $node == plain ]]; then
			label="plain PostgreSQL"
			ratio="1.00"
		else
			label="distdb (coordinator + 2 workers, $SHARDS shards)"
			ratio="$(awk -v a="${tps[$node]}" -v b="${tps[plain]}" \
				'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
		fi
		rows+="| $label | $CLIENTS | ${tps[$node]} | $(bench_pgbench_value latency "$out") | $ratio | $check |"$'\n'
	done

	local report
	report="$(
		echo "# tpcb: pgbench's built-in TPC-B-like transaction"
		echo
		echo "$(bench_env_line)," \
			"scale $SCALE, ${SECONDS_PER_RUN}s per run, pgbench -M $MODE -j $THREADS, loopback TCP"
		echo
		echo "| target | clients | tps | avg latency ms | ratio vs plain | balances add up |"
		echo "|---|---|---|---|---|---|"
		printf '%s' "$rows"
	)"
	bench_save_report tpcb "$report"
}

main "$@"
