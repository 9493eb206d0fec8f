#!/usr/bin/env bash
#
# test/run_tests.sh - the distdb test suite; this is what "make check" runs.
#
# Installs missing Debian packages, builds distdb and installs it into a
# private copy of the PostgreSQL installation (so the system's PostgreSQL is
# left alone and runs from several checkouts do not collide), starts a
# throwaway cluster (coordinator + 2 workers, as an unprivileged OS user) in
# a fresh directory under /tmp, runs the pg_regress suite
# (test/regress_schedule, sql/*.sql vs expected/*.out) against the
# coordinator, then every TAP test test/t/*.pl (each starts its own nodes
# with PostgreSQL::Test::Cluster), and ends with the line
# "N passed, N failed".  Exits non-zero if anything failed.
#
# The sources are copied into the temporary directory first, so that the
# unprivileged user can read them even when the repository is not readable
# for it (e.g. a root-owned clone under /root).
#
# Environment:
#   DISTDB_KEEP_CLUSTER=1   leave the cluster running and the directory in
#                           place (prints how to reach it)
#   DISTDB_SCHEDULE=FILE    pg_regress schedule, relative to the repository
#                           (default test/regress_schedule)
#   DISTDB_SKIP_BUILD=1, DISTDB_NO_PRELOAD=1, DISTDB_EXTRA_CONF,
#   DISTDB_OS_USER          see test/cluster_lib.sh
#   DISTDB_REGRESS_TIMEOUT  seconds for the whole pg_regress run (default 1800)
#   DISTDB_TAP_TIMEOUT      seconds for each TAP test file (default 900)
#   DISTDB_TAP=PATTERN      run only the TAP files test/t/PATTERN.pl
#
# pg_regress tests see DISTDB_HOST, DISTDB_SOCKET_DIR, DISTDB_COORDINATOR_PORT,
# DISTDB_WORKER_1_PORT, DISTDB_WORKER_2_PORT (e.g.
# "\getenv worker_1_port DISTDB_WORKER_1_PORT") and the usual PG_ABS_SRCDIR /
# PG_ABS_BUILDDIR of pg_regress.  The database "regression" exists on the
# workers (without the extension).  TAP tests see DISTDB_SOURCE_DIR (a
# readable copy of the repository), PG_REGRESS, TESTDIR, PERL5LIB and a
# TMPDIR inside the run's directory.
#
# On a pg_regress failure, regression.diffs and results/ are copied to the
# repository root (both are git-ignored) and the server logs are printed.

set -euo pipefail

# shellcheck source=test/cluster_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"

REPO="$DISTDB_REPO_ROOT"
WORK=""         # temporary directory of this run
CLUSTER=""      # $WORK/cluster
STAGE=""        # $WORK/src: readable copy of the repository
PASSED=0
FAILED=0
LOGS_SHOWN=0
SUMMARY_DONE=0

# Copy the repository (without .git and test output) to $STAGE, owned by
# the unprivileged user.
stage_sources() {
	mkdir -p "$STAGE"
	tar -C "$REPO" --exclude=./.git --exclude=./results --exclude=./tmp_check \
		--exclude=./log --exclude=./bench/results -cf - . | tar -C "$STAGE" -xf -
	if ((EUID == 0)); then
		chown -R "$(distdb_os_user):" "$STAGE"
	fi
}

# Print the tails of the cluster's server logs (once).
show_cluster_logs() {
	((LOGS_SHOWN)) && return 0
	LOGS_SHOWN=1
	[[ -n "$CLUSTER" && -d "$CLUSTER" ]] && distdb_print_logs "$CLUSTER" 80
	return 0
}

# Stop the cluster and remove the temporary directory, unless
# DISTDB_KEEP_CLUSTER=1 (then say how to reach the cluster).
release_cluster() {
	[[ -n "$WORK" ]] || return 0
	if [[ "${DISTDB_KEEP_CLUSTER:-}" == 1 ]]; then
		distdb_log "DISTDB_KEEP_CLUSTER=1: cluster left running in $CLUSTER"
		distdb_log "  connect: . $CLUSTER/cluster.env; psql -h $CLUSTER -p \$DISTDB_COORDINATOR_PORT -U $(distdb_os_user) regression"
		distdb_log "  stop:    bash -c '. $REPO/test/cluster_lib.sh; distdb_cluster_stop $CLUSTER' && rm -rf $WORK"
	else
		distdb_cluster_stop "$CLUSTER"
		rm -rf "$WORK"
	fi
	WORK=""
}

# EXIT trap for runs that end early (errors, signals): show the server logs,
# release the cluster and count the aborted run as a failure.
cleanup() {
	local rc=$?
	set +e
	((rc == 0)) && exit 0
	if [[ -n "$WORK" ]]; then
		show_cluster_logs
		release_cluster
	fi
	if ((!SUMMARY_DONE)); then
		echo
		echo "test run aborted (exit status $rc)"
		echo "$PASSED passed, $((FAILED + 1)) failed"
	fi
	exit "$rc"
}

# Count the test result lines of pg_regress output file $1 (PG 15 format:
# "test NAME ... ok", "     NAME ... FAILED"; PG 16+: "ok 1 - NAME",
# "not ok 2 - NAME") into REGRESS_OK and REGRESS_FAIL.
count_regress_results() {
	REGRESS_OK="$(grep -cE '^(test +| +)?[^ ].* \.\.\. +(ok|failed \(ignored\))( |$)|^ok [0-9]+ ' "$1" || true)"
	REGRESS_FAIL="$(grep -cE '^(test +| +)?[^ ].* \.\.\. +FAILED|^not ok [0-9]+ ' "$1" || true)"
}

# Run the pg_regress suite against the cluster's coordinator.
run_regress() {
	local outdir="$WORK/regress" schedule="${DISTDB_SCHEDULE:-test/regress_schedule}"
	distdb_user_dir "$outdir"
	[[ -f "$STAGE/$schedule" ]] || distdb_die "no schedule file $schedule"
	local -a args=(--host="$CLUSTER" --port="$(distdb_node_port "$CLUSTER" coordinator)"
		--bindir="$(distdb_pg_bindir)" --inputdir="$STAGE" --outputdir="$outdir"
		--schedule="$STAGE/$schedule" --dbname=regression)

	distdb_log "running pg_regress ($schedule)"
	local rc=0
	(
		# The DISTDB_* variables of the cluster reach psql through pg_regress.
		distdb_cluster_load_env "$CLUSTER"
		distdb_as_user timeout --kill-after=30 "${DISTDB_REGRESS_TIMEOUT:-1800}" \
			"$(distdb_pg_regress)" "${args[@]}"
	) 2>&1 | tee "$WORK/pg_regress.out" || rc=$?
	count_regress_results "$WORK/pg_regress.out"
	# pg_regress failed without reporting a failed test: count it as one.
	if ((rc != 0 && REGRESS_FAIL == 0)); then
		REGRESS_FAIL=1
		echo "pg_regress exited with status $rc" >&2
	fi
	PASSED=$((PASSED + REGRESS_OK))
	FAILED=$((FAILED + REGRESS_FAIL))

	# For the developer: regression.diffs and results/ in the repository.
	rm -rf "$REPO/regression.diffs" "$REPO/results" 2>/dev/null || true
	if ((REGRESS_FAIL > 0)); then
		if [[ -s "$outdir/regression.diffs" ]]; then
			printf '\n----- regression.diffs (first 3000 lines; full file: %s/regression.diffs) -----\n' "$REPO"
			head -n 3000 "$outdir/regression.diffs"
			cp "$outdir/regression.diffs" "$REPO/regression.diffs" || true
		fi
		if [[ -d "$outdir/results" ]]; then
			if cp -R "$outdir/results" "$REPO/results" 2>/dev/null; then
				echo "actual outputs copied to $REPO/results/"
			fi
		fi
		show_cluster_logs
	fi
}

# Run every test/t/*.pl with prove, one file at a time, as the user.
run_tap() {
	local -a tests=()
	local t name
	# DISTDB_TAP=pattern runs only the TAP files matching it (none: "none")
	for t in "$STAGE"/test/t/${DISTDB_TAP:-*}.pl; do
		[[ -f "$t" ]] && tests+=("$t")
	done
	((${#tests[@]} > 0)) || return 0

	local tapdir="$WORK/tap" perl5lib
	distdb_user_dir "$tapdir"
	perl5lib="$("$(distdb_pg_config)" --pkglibdir)/pgxs/src/test/perl"
	[[ -d "$STAGE/test/perl" ]] && perl5lib+=":$STAGE/test/perl"
	[[ -n "${PERL5LIB:-}" ]] && perl5lib+=":$PERL5LIB"

	for t in "${tests[@]}"; do
		name="$(basename "$t" .pl)"
		distdb_log "running TAP test $name"
		local rc=0
		(
			cd "$STAGE"
			PERL5LIB="$perl5lib" PG_REGRESS="$(distdb_pg_regress)" \
				TESTDIR="$tapdir" TMPDIR="$tapdir" DISTDB_SOURCE_DIR="$STAGE" \
				distdb_as_user timeout --kill-after=30 "${DISTDB_TAP_TIMEOUT:-900}" \
				prove -v "test/t/$name.pl"
		) || rc=$?
		if ((rc == 0)); then
			PASSED=$((PASSED + 1))
		else
			FAILED=$((FAILED + 1))
			echo "TAP test $name FAILED (exit status $rc)"
			local log
			for log in "$tapdir/tmp_check/log/regress_log_$name" "$tapdir/tmp_check/log/${name}"_*.log; do
				[[ -f "$log" ]] || continue
				printf '\n----- last 80 lines of %s -----\n' "$log"
				tail -n 80 "$log"
			done
		fi
	done
}

main() {
	trap cleanup EXIT
	distdb_ensure_deps

	WORK="$(mktemp -d /tmp/distdb-test.XXXXXX)"
	distdb_user_dir "$WORK"
	if [[ "${DISTDB_SKIP_BUILD:-}" != 1 ]]; then
		local private_pg_config
		private_pg_config="$(distdb_private_install "$WORK/install")"
		distdb_build_install "$private_pg_config"
		export PG_CONFIG="$private_pg_config"
	fi
	CLUSTER="$WORK/cluster"
	STAGE="$WORK/src"
	stage_sources

	distdb_cluster_start "$CLUSTER"
	# pg_regress creates "regression" on the coordinator itself.
	distdb_create_db "$CLUSTER" regression worker1 worker2

	run_regress
	run_tap
	release_cluster

	SUMMARY_DONE=1
	echo
	echo "$PASSED passed, $FAILED failed"
	((FAILED == 0))
}

main "$@"
