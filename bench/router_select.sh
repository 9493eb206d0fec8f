#!/usr/bin/env bash
#
# bench/router_select.sh - benchmark (not a test) of single-row router
# SELECTs: distdb (coordinator + 2 workers) against one plain PostgreSQL
# server on the same machine.  See bench/README.md.
#
# Starts a fresh cluster and a plain server in one temporary directory,
# loads kv(id bigint primary key, val text) with BENCH_ROWS rows on both,
# distributes the coordinator's table over 32 shards, then runs pgbench with
# "SELECT val FROM kv WHERE id = :id" (random id) against each, in simple
# and prepared protocol mode.  Prints a markdown table, saves it to
# bench/results/router_select-<time>.md and stops everything.
#
# Environment: BENCH_SECONDS (30), BENCH_CLIENTS (8), BENCH_ROWS (2000000),
# BENCH_WARMUP seconds per target (5), BENCH_STEP_TIMEOUT seconds per
# loading statement (900); DISTDB_SKIP_BUILD=1 etc. as in test/cluster_lib.sh.

set -euo pipefail

# shellcheck source=bench/bench_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

SECONDS_PER_RUN="${BENCH_SECONDS:-30}"
CLIENTS="${BENCH_CLIENTS:-8}"
ROWS="${BENCH_ROWS:-2000000}"
WARMUP="${BENCH_WARMUP:-5}"
SHARDS=32
DB="$BENCH_DB"
THREADS=$((CLIENTS < 2 ? CLIENTS : 2))

# SQL that creates and fills kv.
load_sql() {
	cat <<EOF
CREATE TABLE kv (id bigint PRIMARY KEY, val text);
INSERT INTO kv SELECT i, md5(i::text) FROM generate_series(1, $ROWS) AS i;
EOF
}

# Run pgbench against node NODE for SECONDS in protocol MODE; print its
# output.
run_pgbench() {
	local node="$1" mode="$2" seconds="$3"
	distdb_as_user timeout --kill-after=30 $((seconds + 120)) \
		pgbench -n -h 127.0.0.1 -p "$(distdb_node_port "$WORK" "$node")" \
		-c "$CLIENTS" -j "$THREADS" -T "$seconds" -M "$mode" \
		-f "$WORK/router_select.sql" "$DB"
}

main() {
	bench_start

	# Bound every loading statement in time (a hung step fails the run).
	local pgoptions
	pgoptions="$(bench_timeout_options "${BENCH_STEP_TIMEOUT:-900}")"
	distdb_log "loading $ROWS rows into the plain server"
	load_sql | PGOPTIONS="$pgoptions" bench_load_plain
	distdb_log "loading $ROWS rows into the coordinator and distributing over $SHARDS shards"
	{
		load_sql
		echo "SELECT distdb.create_distributed_table('kv', 'id', $SHARDS);"
	} | PGOPTIONS="$pgoptions" bench_load_distdb
	PGOPTIONS="$pgoptions" bench_vacuum_analyze

	printf '\\set id random(1, %s)\nSELECT val FROM kv WHERE id = :id;\n' "$ROWS" |
		distdb_as_user tee "$WORK/router_select.sql" >/dev/null

	local -A tps=()
	local rows="" node mode out label ratio
	for node in plain coordinator; do
		if ((WARMUP > 0)); then
			distdb_log "warming up $node (${WARMUP}s)"
			run_pgbench "$node" prepared "$WARMUP" >/dev/null
		fi
		for mode in simple prepared; do
			out="$WORK/pgbench-$node-$mode.out"
			distdb_log "pgbench $node -M $mode: $CLIENTS clients, ${SECONDS_PER_RUN}s"
			if ! run_pgbench "$node" "$mode" "$SECONDS_PER_RUN" >"$out" 2>&1; then
				cat "$out" >&2
				distdb_die "pgbench against $node ($mode) failed"
			fi
			tps[$node-$mode]="$(printf '%.1f' "$(bench_pgbench_value tps "$out")")"
			if [[ $node == plain ]]; then
				label="plain PostgreSQL"
				ratio="1.00"
			else
				label="distdb (coordinator + 2 workers, $SHARDS shards)"
				ratio="$(awk -v a="${tps[$node-$mode]}" -v b="${tps[plain-$mode]}" \
					'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
			fi
			rows+="| $label | $mode | $CLIENTS | ${tps[$node-$mode]} | $(bench_pgbench_value latency "$out") | $ratio |"$'\n'
		done
	done

	local report
	report="$(
		echo "# router_select: single-row SELECT by primary key"
		echo
		echo "$(bench_env_line)," \
			"$ROWS rows, ${SECONDS_PER_RUN}s per run, pgbench -j $THREADS, loopback TCP"
		echo
		echo "| target | mode | clients | tps | avg latency ms | ratio vs plain |"
		echo "|---|---|---|---|---|---|"
		printf '%s' "$rows"
	)"
	bench_save_report router_select "$report"
}

main "$@"
