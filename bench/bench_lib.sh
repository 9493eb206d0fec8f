# shellcheck shell=bash
#
# bench/bench_lib.sh - helpers shared by the benchmark scripts (bench/*.sh).
# Source it; it sources test/cluster_lib.sh and only defines functions.
#
# Every benchmark runs, in one temporary directory $WORK, a distdb cluster
# (coordinator + 2 workers) and one plain PostgreSQL server, loads the same
# data into database $BENCH_DB on both, measures, and saves a markdown
# report under bench/results/.
#
# Globals: WORK (set by bench_start), BENCH_DB (database name, default
# "bench"; set it before sourcing to change it).

# shellcheck source=test/cluster_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../test/cluster_lib.sh"

BENCH_DB="${BENCH_DB:-bench}"
WORK=""
BENCH_LOADAVG=""

# EXIT trap: stop the servers and remove the temporary directory (print the
# server logs first if the run failed).
bench_cleanup() {
	local rc=$?
	set +e
	if [[ -n "$WORK" ]]; then
		((rc != 0)) && distdb_print_logs "$WORK" 40
		distdb_cluster_stop "$WORK"
		distdb_plain_stop "$WORK"
		rm -rf "$WORK"
	fi
	exit "$rc"
}

# Install what is missing, build and install distdb, create $WORK and start
# the cluster and the plain server there; stopped and removed on exit.
bench_start() {
	distdb_ensure_deps
	distdb_build_install
	# Other work on the machine skews the numbers: note how busy it was.
	BENCH_LOADAVG="$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo '?')"

	WORK="$(mktemp -d /tmp/distdb-bench.XXXXXX)"
	trap bench_cleanup EXIT
	distdb_user_dir "$WORK"
	distdb_cluster_start "$WORK"
	distdb_plain_start "$WORK"
}

# PGOPTIONS value bounding every statement to $1 seconds.
bench_timeout_options() {
	printf -- '-c statement_timeout=%ss\n' "$1"
}

# Create $BENCH_DB on the plain server and run the SQL read from stdin there.
bench_load_plain() {
	distdb_psql "$WORK" plain -q -d postgres -c "CREATE DATABASE $BENCH_DB"
	distdb_psql "$WORK" plain -q -d "$BENCH_DB"
}

# Create $BENCH_DB on the three cluster nodes, create the extension and add
# both workers, then run the SQL read from stdin on the coordinator (it
# loads the tables and distributes them).  Query results are not printed.
bench_load_distdb() {
	distdb_create_db "$WORK" "$BENCH_DB"
	distdb_cluster_load_env "$WORK"
	{
		echo "CREATE EXTENSION distdb;"
		echo "SELECT distdb.distdb_add_node('127.0.0.1', $DISTDB_WORKER_1_PORT);"
		echo "SELECT distdb.distdb_add_node('127.0.0.1', $DISTDB_WORKER_2_PORT);"
		cat
	} | distdb_psql "$WORK" coordinator -q -d "$BENCH_DB" >/dev/null
}

# VACUUM ANALYZE $BENCH_DB on every server: the plain one, and each cluster
# node directly (the shards live on the workers; a VACUUM through the
# coordinator does not reach them).
bench_vacuum_analyze() {
	local node
	for node in plain worker1 worker2 coordinator; do
		distdb_psql "$WORK" "$node" -q -d "$BENCH_DB" -c 'VACUUM ANALYZE'
	done
}

# Like distdb_psql NODE ARGS..., but killed after $1 seconds (the client's
# bound on a step, on top of any statement_timeout).
bench_psql_bounded() {
	local seconds="$1" node="$2"
	shift 2
	distdb_as_user timeout --kill-after=30 "$seconds" \
		psql -X -v ON_ERROR_STOP=1 -h "$WORK" -p "$(distdb_node_port "$WORK" "$node")" "$@"
}

# One line describing the run: time, CPUs, load average (1 min) before the
# servers started, PostgreSQL version.
bench_env_line() {
	printf '%s, %s CPUs (load average %s before the run), %s' \
		"$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "${BENCH_LOADAVG:-?}" \
		"$(distdb_as_user postgres --version)"
}

# Save report $2 (markdown) as bench/results/$1-<UTC time>.md and print it
# and where it went.  Optional $3: more markdown for the file only.
bench_save_report() {
	local name="$1" report="$2" details="${3:-}" file
	mkdir -p "$DISTDB_REPO_ROOT/bench/results"
	file="$DISTDB_REPO_ROOT/bench/results/$name-$(date -u +%Y%m%d-%H%M%S).md"
	printf '%s\n' "$report" >"$file"
	[[ -z "$details" ]] || printf '\n%s\n' "$details" >>"$file"
	echo
	printf '%s\n' "$report"
	echo
	echo "saved to $file"
}

# Print field "tps" or "latency" (average, ms) from pgbench output file $2.
bench_pgbench_value() {
	case "$1" in
	tps) sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$2" | head -n 1 ;;
	latency) sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$2" | head -n 1 ;;
	esac
}
