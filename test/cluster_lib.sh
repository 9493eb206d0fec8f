# shellcheck shell=bash
#
# test/cluster_lib.sh - shared shell library of the distdb test, demo and
# benchmark scripts (test/run_tests.sh, scripts/demo.sh, bench/*.sh, .ci/run).
#
# Source it; it only defines functions and a few constants.  It knows how to
#   - install the Debian packages the build and the tests need,
#   - build and install the extension with PGXS,
#   - pick the unprivileged OS user the servers run as (PostgreSQL refuses to
#     run as root: "postgres" if it exists, else a system user "distdb"; the
#     invoking user when not run as root) and run commands as that user,
#   - create, start and stop a throwaway cluster of three servers
#     (DIR/coordinator, DIR/worker1, DIR/worker2) with distdb preloaded, and a
#     single plain PostgreSQL server for comparisons.
#
# Environment variables it reads:
#   PG_CONFIG            pg_config to use (default: the PostgreSQL 15 one)
#   DISTDB_OS_USER       OS user the servers run as (default: see above)
#   DISTDB_SKIP_BUILD=1  distdb_build_install does nothing (use what is installed)
#   DISTDB_NO_PRELOAD=1  do not put distdb into shared_preload_libraries
#   DISTDB_BASEPORT      first port tried for the servers (default 57630)
#   DISTDB_EXTRA_CONF    extra postgresql.conf lines for every server
#                        (e.g. $'log_statement = all\nlog_min_messages = debug1')

# PostgreSQL major version and the Debian packages everything needs.
DISTDB_PG_MAJOR=15
DISTDB_DEB_PACKAGES=(postgresql-15 postgresql-server-dev-15 libipc-run-perl make gcc)
# First port tried when looking for free ports (DISTDB_BASEPORT: another
# one, so that runs started at the same moment from several checkouts do
# not pick the same ports).
DISTDB_DEFAULT_BASEPORT="${DISTDB_BASEPORT:-57630}"
# Node names of a cluster, in port order; "plain" is the stand-alone server.
DISTDB_CLUSTER_NODES=(coordinator worker1 worker2)
# Root of the source tree (the directory above test/).
DISTDB_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Print a message to stderr, prefixed so it stands out in CI logs.
distdb_log() {
	printf '==> %s\n' "$*" >&2
}

# Print an error to stderr and exit (only the subshell, inside $(...)).
distdb_die() {
	printf 'ERROR: %s\n' "$*" >&2
	exit 1
}

# True if Debian package $1 is installed.
_distdb_pkg_installed() {
	[[ "$(dpkg -s "$1" 2>/dev/null)" == *"Status: install ok installed"* ]]
}

# Install the missing Debian packages (apt-get update once, then install).
# Not as root: print what is missing and fail.
distdb_ensure_deps() {
	if ! command -v dpkg >/dev/null 2>&1; then
		command -v "$(distdb_pg_config)" >/dev/null 2>&1 ||
			distdb_die "not a Debian system and no pg_config found; install PostgreSQL $DISTDB_PG_MAJOR with its server development files"
		return 0
	fi
	local pkg missing=()
	for pkg in "${DISTDB_DEB_PACKAGES[@]}"; do
		_distdb_pkg_installed "$pkg" || missing+=("$pkg")
	done
	((${#missing[@]} == 0)) && return 0
	if ((EUID != 0)); then
		distdb_die "missing packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}"
	fi
	distdb_log "installing missing packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y "${missing[@]}"
}

# Print the pg_config to use.
distdb_pg_config() {
	if [[ -n "${PG_CONFIG:-}" ]]; then
		printf '%s\n' "$PG_CONFIG"
	elif [[ -x /usr/lib/postgresql/$DISTDB_PG_MAJOR/bin/pg_config ]]; then
		printf '%s\n' "/usr/lib/postgresql/$DISTDB_PG_MAJOR/bin/pg_config"
	else
		printf '%s\n' pg_config
	fi
}

# Print the directory of the PostgreSQL programs (initdb, pg_ctl, psql, ...).
distdb_pg_bindir() {
	"$(distdb_pg_config)" --bindir
}

# Print the path of pg_regress (shipped with the PGXS files).
distdb_pg_regress() {
	printf '%s/pgxs/src/test/regress/pg_regress\n' "$("$(distdb_pg_config)" --pkglibdir)"
}

# Print PATH with the PostgreSQL bin directory first.
distdb_pg_path() {
	printf '%s:%s\n' "$(distdb_pg_bindir)" "$PATH"
}

# Build the extension and install it (skipped if DISTDB_SKIP_BUILD=1).
# Installs into the PostgreSQL of pg_config $1 when given (a private copy,
# see distdb_private_install), else into the one distdb_pg_config names.
distdb_build_install() {
	if [[ "${DISTDB_SKIP_BUILD:-}" == 1 ]]; then
		distdb_log "DISTDB_SKIP_BUILD=1: not building, using the installed distdb"
		return 0
	fi
	local pg_config target
	pg_config="$(distdb_pg_config)"
	target="${1:-$pg_config}"
	distdb_log "building distdb"
	make -C "$DISTDB_REPO_ROOT" -j2 PG_CONFIG="$pg_config"
	distdb_log "installing distdb into $("$target" --pkglibdir)"
	make -C "$DISTDB_REPO_ROOT" install PG_CONFIG="$target" ||
		distdb_die "make install failed (as a non-root user the PostgreSQL directories must be writable; or run as root)"
}

# Copy the PostgreSQL installation (programs, libraries, share directory)
# into directory $1 and print the pg_config of the copy.  PostgreSQL finds
# its share and library directories relative to its programs, so servers
# started from the copy load the extension installed there: a test run
# leaves the system's PostgreSQL alone, and runs from several checkouts do
# not replace each other's distdb.so.
distdb_private_install() {
	local root="$1" pg_config bindir sharedir libroot
	pg_config="$(distdb_pg_config)"
	bindir="$("$pg_config" --bindir)"
	sharedir="$("$pg_config" --sharedir)"
	libroot="$(dirname "$bindir")"
	mkdir -p "$root$(dirname "$libroot")" "$root$(dirname "$sharedir")"
	cp -a "$libroot" "$root$(dirname "$libroot")/"
	cp -a "$sharedir" "$root$(dirname "$sharedir")/"
	printf '%s\n' "$root$bindir/pg_config"
}

# Print the OS user the servers run as; as root, create the system user
# "distdb" if there is no "postgres" user.
distdb_os_user() {
	if [[ -n "${DISTDB_OS_USER:-}" ]]; then
		printf '%s\n' "$DISTDB_OS_USER"
	elif ((EUID != 0)); then
		id -un
	elif id -u postgres >/dev/null 2>&1; then
		printf '%s\n' postgres
	else
		if ! id -u distdb >/dev/null 2>&1; then
			distdb_log "creating system user distdb"
			useradd --system --create-home --home-dir /var/lib/distdb \
				--shell /bin/bash distdb >&2
		fi
		printf '%s\n' distdb
	fi
}

# Run a command as the unprivileged user (directly when not root), with
# PATH (PostgreSQL bin directory first) and the PG*, DISTDB_*, PERL5LIB and
# TESTDIR variables of the caller.  The command runs in the current
# directory if that user may enter it, else in /.
distdb_as_user() {
	local -a vars=("PATH=$(distdb_pg_path)")
	local name
	while IFS= read -r name; do
		case "$name" in
		PG* | DISTDB_* | PERL5LIB | TESTDIR) vars+=("$name=${!name}") ;;
		esac
	done < <(compgen -e)
	if ((EUID == 0)); then
		local user
		user="$(distdb_os_user)"
		# shellcheck disable=SC2016 # $1 and $@ are expanded by sh -c
		runuser -u "$user" -- env "${vars[@]}" \
			sh -c 'cd "$1" 2>/dev/null || cd /; shift; exec "$@"' sh "$PWD" "$@"
	else
		env "${vars[@]}" "$@"
	fi
}

# Create directory $1 (and parents) owned by the unprivileged user.
distdb_user_dir() {
	local dir="$1"
	mkdir -p "$dir"
	if ((EUID == 0)); then
		chown "$(distdb_os_user):" "$dir"
		chmod 755 "$dir"
	fi
	distdb_as_user test -w "$dir" -a -x "$dir" ||
		distdb_die "$dir is not usable by user $(distdb_os_user) (check the permissions of its parent directories)"
}

# True if TCP port $1 on 127.0.0.1 looks free.
_distdb_port_free() {
	local port="$1"
	if command -v ss >/dev/null 2>&1; then
		! ss -Htan "sport = :$port" 2>/dev/null | grep -q .
	else
		# pg_isready exits 2 when nothing answers on the port.
		local rc=0
		pg_isready -q -h 127.0.0.1 -p "$port" -t 2 || rc=$?
		((rc == 2))
	fi
}

# Print the first port >= $1 such that $2 consecutive ports are free.
distdb_find_free_ports() {
	local port="${1:-$DISTDB_DEFAULT_BASEPORT}" count="${2:-1}" i ok
	while ((port + count - 1 <= 65535)); do
		ok=1
		for ((i = 0; i < count; i++)); do
			if ! _distdb_port_free $((port + i)); then
				ok=0
				port=$((port + i + 1))
				break
			fi
		done
		if ((ok)); then
			printf '%s\n' "$port"
			return 0
		fi
	done
	distdb_die "no $count consecutive free ports found"
}

# Print the initdb locale: C.UTF-8 if the system has it, else C.
_distdb_initdb_locale() {
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		printf 'C.UTF-8\n'
	else
		printf 'C\n'
	fi
}

# Create server DIR/NAME listening on PORT unless it exists already.
# PRELOAD=1 puts distdb into shared_preload_libraries (unless
# DISTDB_NO_PRELOAD=1).  Used for cluster nodes and the plain server.
_distdb_init_server() {
	local dir="$1" name="$2" port="$3" preload="$4"
	local pgdata="$dir/$name"
	[[ -f "$pgdata/PG_VERSION" ]] && return 0
	distdb_log "initdb $pgdata (port $port)"
	distdb_as_user initdb -D "$pgdata" -A trust --no-sync --no-instructions \
		-E UTF8 --locale="$(_distdb_initdb_locale)" >"$dir/$name.initdb.out" 2>&1 || {
		cat "$dir/$name.initdb.out" >&2
		distdb_die "initdb of $pgdata failed"
	}
	local preload_line="shared_preload_libraries = 'distdb'"
	if [[ "$preload" != 1 || "${DISTDB_NO_PRELOAD:-}" == 1 ]]; then
		preload_line="# shared_preload_libraries: distdb not preloaded"
	fi
	distdb_as_user tee -a "$pgdata/postgresql.conf" >/dev/null <<EOF

# Added by distdb test/cluster_lib.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '${dir//\'/\'\'}'
$preload_line
max_prepared_transactions = 100
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
lc_messages = 'C'
timezone = 'UTC'
${DISTDB_EXTRA_CONF:-}
EOF
}

# Start server DIR/NAME (logging to DIR/NAME.log) unless it is running.
_distdb_start_server() {
	local dir="$1" name="$2"
	if distdb_as_user pg_ctl status -D "$dir/$name" >/dev/null 2>&1; then
		return 0
	fi
	distdb_log "starting $name"
	distdb_as_user pg_ctl start -w -t 120 -D "$dir/$name" -l "$dir/$name.log" >/dev/null || {
		tail -n 30 "$dir/$name.log" >&2 || true
		distdb_die "could not start $dir/$name (log: $dir/$name.log)"
	}
}

# Stop server DIR/NAME if it is running (fast, then immediate); a missing
# or stopped server is fine.
_distdb_stop_server() {
	local dir="$1" name="$2"
	[[ -f "$dir/$name/postmaster.pid" ]] || return 0
	distdb_as_user pg_ctl status -D "$dir/$name" >/dev/null 2>&1 || return 0
	distdb_log "stopping $name"
	distdb_as_user pg_ctl stop -D "$dir/$name" -m fast -w -t 60 >/dev/null ||
		distdb_as_user pg_ctl stop -D "$dir/$name" -m immediate -w >/dev/null ||
		true
}

# Make DIR an absolute path (it need not exist).
_distdb_abspath() {
	realpath -m -- "$1"
}

# Check that the Unix socket path in DIR fits the 107-byte limit.
_distdb_check_socket_dir() {
	local dir="$1"
	((${#dir} + 18 <= 107)) ||
		distdb_die "directory path too long for a Unix socket: $dir"
}

# Start a cluster in DIR: DIR/coordinator, DIR/worker1, DIR/worker2 on ports
# BASEPORT, BASEPORT+1, BASEPORT+2 (default: the first three free
# consecutive ports from 57630; an existing DIR/cluster.env keeps its
# ports).  Existing servers are reused.  Writes DIR/cluster.env.
distdb_cluster_start() {
	local dir baseport
	dir="$(_distdb_abspath "$1")"
	baseport="${2:-}"
	_distdb_check_socket_dir "$dir"
	distdb_user_dir "$dir"
	if [[ -z "$baseport" && -f "$dir/cluster.env" ]]; then
		baseport="$(distdb_node_port "$dir" coordinator)"
	fi
	[[ -n "$baseport" ]] || baseport="$(distdb_find_free_ports "$DISTDB_DEFAULT_BASEPORT" 3)"
	local i
	for i in 0 1 2; do
		_distdb_init_server "$dir" "${DISTDB_CLUSTER_NODES[i]}" $((baseport + i)) 1
	done
	distdb_as_user tee "$dir/cluster.env" >/dev/null <<EOF
export DISTDB_HOST=127.0.0.1 DISTDB_SOCKET_DIR=$dir DISTDB_COORDINATOR_PORT=$baseport DISTDB_WORKER_1_PORT=$((baseport + 1)) DISTDB_WORKER_2_PORT=$((baseport + 2))
EOF
	for i in 0 1 2; do
		_distdb_start_server "$dir" "${DISTDB_CLUSTER_NODES[i]}"
	done
	distdb_log "cluster running in $dir (ports $baseport-$((baseport + 2)))"
}

# Stop the cluster in DIR (servers that are not running are skipped).
distdb_cluster_stop() {
	local dir node
	dir="$(_distdb_abspath "$1")"
	for node in "${DISTDB_CLUSTER_NODES[@]}"; do
		_distdb_stop_server "$dir" "$node"
	done
}

# Export the DISTDB_* variables of the cluster in DIR (from DIR/cluster.env).
distdb_cluster_load_env() {
	# shellcheck disable=SC1091
	. "$(_distdb_abspath "$1")/cluster.env"
}

# Print the port of node NODE (coordinator, worker1, worker2, plain) in DIR.
distdb_node_port() {
	local dir="$1" node="$2"
	if [[ "$node" == plain ]]; then
		sed -n 's/^port = //p' "$dir/plain/postgresql.conf" | tail -n 1
		return 0
	fi
	(
		distdb_cluster_load_env "$dir"
		case "$node" in
		coordinator) echo "$DISTDB_COORDINATOR_PORT" ;;
		worker1) echo "$DISTDB_WORKER_1_PORT" ;;
		worker2) echo "$DISTDB_WORKER_2_PORT" ;;
		*) distdb_die "unknown node $node" ;;
		esac
	)
}

# Run psql as the unprivileged user on node NODE of DIR; further arguments
# go to psql (e.g. -d DB -c SQL).  No psqlrc, stop on the first error.
distdb_psql() {
	local dir node
	dir="$(_distdb_abspath "$1")"
	node="$2"
	shift 2
	distdb_as_user psql -X -v ON_ERROR_STOP=1 -h "$dir" -p "$(distdb_node_port "$dir" "$node")" "$@"
}

# Create database DBNAME on nodes NODE... of the cluster in DIR (default:
# all three).  The extension itself is not created.
distdb_create_db() {
	local dir="$1" db="$2" node
	shift 2
	(($# > 0)) || set -- "${DISTDB_CLUSTER_NODES[@]}"
	for node in "$@"; do
		distdb_psql "$dir" "$node" -q -d postgres -c "CREATE DATABASE \"$db\""
	done
}

# Start a plain PostgreSQL server (no distdb preloaded) in DIR/plain on PORT
# (default: the first free port from 57630), same settings as the cluster.
distdb_plain_start() {
	local dir port
	dir="$(_distdb_abspath "$1")"
	port="${2:-}"
	_distdb_check_socket_dir "$dir"
	distdb_user_dir "$dir"
	if [[ -z "$port" && -f "$dir/plain/postgresql.conf" ]]; then
		port="$(distdb_node_port "$dir" plain)"
	fi
	[[ -n "$port" ]] || port="$(distdb_find_free_ports "$DISTDB_DEFAULT_BASEPORT" 1)"
	_distdb_init_server "$dir" plain "$port" 0
	_distdb_start_server "$dir" plain
	distdb_log "plain server running in $dir/plain (port $port)"
}

# Stop the plain server in DIR.
distdb_plain_stop() {
	_distdb_stop_server "$(_distdb_abspath "$1")" plain
}

# Print the last lines of every server log in DIR (for failed runs).
distdb_print_logs() {
	local dir="$1" lines="${2:-60}" log
	for log in "$dir"/*.log; do
		[[ -f "$log" ]] || continue
		printf '\n----- last %s lines of %s -----\n' "$lines" "$log"
		tail -n "$lines" "$log"
	done
}
