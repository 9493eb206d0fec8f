#!/usr/bin/env bash
#
# scripts/demo.sh - start a local distdb demo cluster (coordinator + 2
# workers) with sample data, or stop it.
#
#   scripts/demo.sh start [DIR]          build, install, start, load, show
#   scripts/demo.sh stop [--purge] [DIR] stop; --purge also deletes DIR
#
# DIR defaults to /var/tmp/distdb-demo as root (the servers then run as the
# "postgres" or "distdb" OS user) and to ~/.distdb-demo otherwise.  "start"
# on a DIR that already holds the demo just starts its servers again.
# Uses test/cluster_lib.sh (DISTDB_SKIP_BUILD=1 etc. work here too).

set -euo pipefail

# shellcheck source=test/cluster_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../test/cluster_lib.sh"

DB=demo

# Print the default demo directory.
default_dir() {
	if ((EUID == 0)); then
		printf '/var/tmp/distdb-demo\n'
	else
		printf '%s/.distdb-demo\n' "$HOME"
	fi
}

# Print usage and fail.
usage() {
	echo "usage: $0 start [DIR] | stop [--purge] [DIR]" >&2
	exit 2
}

# Run SQL from stdin on the coordinator's demo database, echoing each
# statement (psql -e).
coordinator_sql() {
	distdb_psql "$DIR" coordinator -d "$DB" -e
}

# Create the extension, add the workers, create and fill the tables, then
# distribute them (distdb moves the existing rows into the shards).
setup_demo() {
	distdb_create_db "$DIR" "$DB"
	distdb_cluster_load_env "$DIR"
	coordinator_sql <<EOF
CREATE EXTENSION distdb;
SELECT distdb.distdb_add_node('127.0.0.1', $DISTDB_WORKER_1_PORT);
SELECT distdb.distdb_add_node('127.0.0.1', $DISTDB_WORKER_2_PORT);

CREATE TABLE customers (
	customer_id bigint PRIMARY KEY,
	name text,
	email text,
	created_at timestamptz DEFAULT now()
);
CREATE TABLE orders (
	customer_id bigint,
	order_id bigint,
	ordered_at timestamptz,
	status text,
	total numeric(12,2),
	PRIMARY KEY (customer_id, order_id)
);
CREATE TABLE order_items (
	customer_id bigint,
	order_id bigint,
	item_no int,
	product text,
	quantity int,
	price numeric(10,2),
	PRIMARY KEY (customer_id, order_id, item_no)
);

\\echo '-- 10,000 customers, 5 orders each (50,000), 3 items per order (150,000)'
INSERT INTO customers (customer_id, name, email, created_at)
SELECT c, 'Customer ' || c, 'customer' || c || '@example.com',
       timestamptz '2024-01-01 00:00+00' + c * interval '37 minutes'
FROM generate_series(1, 10000) AS c;

INSERT INTO orders (customer_id, order_id, ordered_at, status, total)
SELECT c, (c - 1) * 5 + o,
       timestamptz '2024-06-01 00:00+00' + ((c - 1) * 5 + o) * interval '9 minutes',
       (ARRAY['new', 'paid', 'shipped', 'delivered'])[1 + (c + o) % 4],
       0
FROM generate_series(1, 10000) AS c, generate_series(1, 5) AS o;

INSERT INTO order_items (customer_id, order_id, item_no, product, quantity, price)
SELECT o.customer_id, o.order_id, i,
       (ARRAY['keyboard', 'mouse', 'monitor', 'laptop', 'headset', 'webcam', 'dock', 'cable'])[1 + (o.order_id * 3 + i) % 8],
       1 + (o.order_id + i) % 4,
       ((o.order_id * 7 + i * 13) % 200 + 5) + 0.99
FROM orders o, generate_series(1, 3) AS i;

UPDATE orders o SET total = t.total
FROM (SELECT customer_id, order_id, sum(quantity * price) AS total
      FROM order_items GROUP BY customer_id, order_id) t
WHERE o.customer_id = t.customer_id AND o.order_id = t.order_id;

\\echo '-- distribute the tables by customer_id (rows move into the shards)'
SELECT distdb.create_distributed_table('customers', 'customer_id');
SELECT distdb.create_distributed_table('orders', 'customer_id');
SELECT distdb.create_distributed_table('order_items', 'customer_id');
EOF
}

# Show the distributed tables and some router and multi-shard queries.
show_demo() {
	coordinator_sql <<'EOF'
\echo '-- distributed tables'
SELECT * FROM distdb.distdb_tables;

\echo '-- router query: customer_id = 42 goes to one shard'
EXPLAIN (VERBOSE, COSTS OFF)
SELECT order_id, ordered_at, status, total FROM orders WHERE customer_id = 42 ORDER BY order_id;
SELECT order_id, ordered_at, status, total FROM orders WHERE customer_id = 42 ORDER BY order_id;

\echo '-- router write'
UPDATE orders SET status = 'shipped' WHERE customer_id = 42 AND order_id = 206 RETURNING *;

\echo '-- multi-shard query: filter on a non-distribution column, merged on the coordinator'
EXPLAIN (VERBOSE, COSTS OFF)
SELECT customer_id, order_id, status, total FROM orders
WHERE status = 'paid' AND total > 1000 ORDER BY total DESC, order_id LIMIT 5;
SELECT customer_id, order_id, status, total FROM orders
WHERE status = 'paid' AND total > 1000 ORDER BY total DESC, order_id LIMIT 5;

SELECT customer_id, name, email FROM customers
WHERE email LIKE 'customer777%' ORDER BY customer_id LIMIT 5;
EOF
}

# Print how to connect and how to stop.
show_usage_hints() {
	distdb_cluster_load_env "$DIR"
	local dir_arg=""
	[[ "$DIR" == "$(default_dir)" ]] || dir_arg=" $DIR"
	cat <<EOF

distdb demo cluster is running in $DIR
  coordinator: port $DISTDB_COORDINATOR_PORT, workers: ports $DISTDB_WORKER_1_PORT, $DISTDB_WORKER_2_PORT
Connect:
  psql -h 127.0.0.1 -p $DISTDB_COORDINATOR_PORT -U $(distdb_os_user) -d $DB
Stop:
  $0 stop$dir_arg          (keeps the data)
  $0 stop --purge$dir_arg  (also deletes $DIR)
EOF
}

# "start": build, start the cluster, load and show the demo (once).
cmd_start() {
	distdb_ensure_deps
	distdb_build_install
	if [[ -f "$DIR/demo.loaded" ]]; then
		distdb_cluster_start "$DIR"
		distdb_log "demo already set up in $DIR; servers started"
		show_usage_hints
		return 0
	fi
	if [[ -e "$DIR/coordinator" ]]; then
		distdb_die "$DIR holds an unfinished demo; remove it with: $0 stop --purge $DIR"
	fi
	distdb_cluster_start "$DIR"
	setup_demo
	touch "$DIR/demo.loaded"
	if ! show_demo; then
		show_usage_hints
		distdb_die "a demo query failed (the cluster is still running; server logs: $DIR/*.log)"
	fi
	show_usage_hints
}

# "stop": stop the cluster; with --purge delete DIR too.
cmd_stop() {
	if [[ ! -d "$DIR" ]]; then
		distdb_log "nothing to stop: $DIR does not exist"
		return 0
	fi
	distdb_cluster_stop "$DIR"
	if ((PURGE)); then
		rm -rf "$DIR"
		distdb_log "stopped; deleted $DIR"
	else
		distdb_log "stopped; the data is kept in $DIR ($0 start to restart, $0 stop --purge to delete)"
	fi
}

main() {
	(($# >= 1)) || usage
	local cmd="$1" arg
	shift
	DIR=""
	PURGE=0
	for arg in "$@"; do
		case "$arg" in
		--purge) [[ "$cmd" == stop ]] || usage; PURGE=1 ;;
		-*) usage ;;
		*) [[ -z "$DIR" ]] || usage; DIR="$arg" ;;
		esac
	done
	DIR="$(realpath -m -- "${DIR:-$(default_dir)}")"
	case "$cmd" in
	start) cmd_start ;;
	stop) cmd_stop ;;
	*) usage ;;
	esac
}

main "$@"
