#!/usr/bin/env bash
# A private PostgreSQL cluster with RDS's logging settings (as in the shared corpus's
# raw/MANIFEST.md and scripts/pg_setup.sh), a short workload, then a clean stop.
# Called by tests/parse_pg_server.rs as root:  run.sh <work dir> <port> [log_error_verbosity]
# Leaves <work dir>/log/postgresql.log and <work dir>/pgbench.txt. The server runs as the
# unprivileged `postgres` OS user, listens on 127.0.0.1 only, and is stopped on any exit.
set -euo pipefail
W=$1
PORT=$2
VERBOSITY=${3:-default}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
SECRET='Pl4nted-Rdsf-Secret-31'   # the test checks it never leaks once redaction exists

mkdir -p "$W"/{data,log,run}
chmod 755 "$W"
chown -R postgres:postgres "$W"
cd /tmp

say() { echo "[pg-server-test $(date -u +%T)] $*"; }
pgctl() { runuser -u postgres -- "$BIN/pg_ctl" -D "$W/data" "$@"; }
admin() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W/run" -p "$PORT" -U postgres "$@"; }
app() { PGPASSWORD="$SECRET" "$BIN/psql" -X -q -v ON_ERROR_STOP=0 "host=127.0.0.1 port=$PORT user=app_owner dbname=appdb application_name=${APPNAME:-rdsf-test}" "$@"; }

stop() {
  if [ -f "$W/data/postmaster.pid" ]; then
    pgctl stop -m fast -w >/dev/null 2>&1 || pgctl stop -m immediate -w >/dev/null 2>&1 || true
  fi
}
trap stop EXIT

say "initdb ($BIN)"
runuser -u postgres -- "$BIN/initdb" -D "$W/data" -U postgres -E UTF8 --locale=C.UTF-8 --lc-messages=C \
  --auth-local=trust --auth-host=scram-sha-256 >"$W/initdb.out"

cat >>"$W/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$W/run'
timezone = 'UTC'
log_timezone = 'UTC'
lc_messages = 'C'
password_encryption = 'scram-sha-256'
log_destination = 'stderr'
logging_collector = on
log_directory = '$W/log'
log_filename = 'postgresql.log'
log_rotation_age = 0
log_rotation_size = 0
log_line_prefix = '%t:%r:%u@%d:[%p]:'
log_min_duration_statement = 5
log_statement = 'ddl'
log_connections = on
log_disconnections = on
log_checkpoints = on
log_lock_waits = on
log_temp_files = 0
log_autovacuum_min_duration = 0
log_error_verbosity = $VERBOSITY
deadlock_timeout = 200ms
shared_preload_libraries = 'auto_explain'
auto_explain.log_min_duration = 25
auto_explain.log_format = 'text'
EOF
cat >"$W/data/pg_hba.conf" <<'EOF'
local   all   postgres                 trust
host    all   all       127.0.0.1/32   scram-sha-256
EOF
chown postgres:postgres "$W/data/pg_hba.conf"

say "start on 127.0.0.1:$PORT"
pgctl start -w -l "$W/pg_ctl.log" >/dev/null

say "roles (password change with a planted secret)"
admin -d postgres <<EOF
CREATE ROLE app_owner LOGIN PASSWORD 'first-pass-0';
ALTER ROLE app_owner PASSWORD '$SECRET';
CREATE DATABASE appdb OWNER app_owner;
EOF

say "schema, slow statements, temp files"
app >/dev/null <<'EOF'
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int CHECK (qty >= 0));
INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1, 50000) g;
SELECT pg_sleep(0.05);
SELECT count(*), sum(length(a.name)) FROM items a JOIN items b USING (id) WHERE a.qty > 10;
SET work_mem = '64kB';
SELECT name FROM items ORDER BY md5(name) LIMIT 5;
EOF

say "failing statements"
app >/dev/null 2>&1 <<'EOF'
SELEC 1;
SELECT 1 / 0;
SELECT * FROM no_such_table;
SELECT nme FROM items;
INSERT INTO items VALUES (1, 'dup', 1);
INSERT INTO items VALUES (-1, NULL, 1);
UPDATE items SET qty = -5 WHERE id = 2;
COMMIT;
EOF

say "failed login"
PGPASSWORD='not-the-password' "$BIN/psql" -X "host=127.0.0.1 port=$PORT user=app_owner dbname=appdb" -c 'SELECT 1' \
  >/dev/null 2>&1 || true

say "lock wait"
APPNAME=holder app >/dev/null <<'EOF' &
BEGIN;
UPDATE items SET qty = qty + 1 WHERE id = 42;
SELECT pg_sleep(1);
COMMIT;
EOF
HOLDER=$!
sleep 0.3
APPNAME=waiter app -c 'UPDATE items SET qty = qty + 1 WHERE id = 42' >/dev/null
wait $HOLDER

say "deadlock"
APPNAME=dl-a app >/dev/null 2>&1 <<'EOF' &
BEGIN;
UPDATE items SET qty = qty + 1 WHERE id = 101;
SELECT pg_sleep(0.6);
UPDATE items SET qty = qty + 1 WHERE id = 202;
COMMIT;
EOF
DA=$!
sleep 0.2
APPNAME=dl-b app >/dev/null 2>&1 <<'EOF' || true
BEGIN;
UPDATE items SET qty = qty + 1 WHERE id = 202;
SELECT pg_sleep(0.6);
UPDATE items SET qty = qty + 1 WHERE id = 101;
COMMIT;
EOF
wait $DA || true

say "pgbench (init, then -C: one connection per transaction)"
PGPASSWORD="$SECRET" PGAPPNAME=pgbench-init "$BIN/pgbench" -i -s 1 -h 127.0.0.1 -p "$PORT" -U app_owner appdb \
  >"$W/pgbench-init.txt" 2>&1
PGPASSWORD="$SECRET" "$BIN/pgbench" -n -C -c 2 -j 1 -t 40 -h 127.0.0.1 -p "$PORT" -U app_owner appdb \
  >"$W/pgbench.txt" 2>&1
grep 'number of transactions actually processed' "$W/pgbench.txt"

say "auto_explain JSON plan; extended protocol (parse/bind/execute with parameters)"
admin -d appdb >/dev/null <<'EOF'
SET auto_explain.log_format = 'json';
SELECT count(*), pg_sleep(0.03) FROM generate_series(1, 20000) g;
EOF
PGAPPNAME=pgbench-prepared PGOPTIONS='-c log_min_duration_statement=0' "$BIN/pgbench" -n -M prepared -S -t 5 \
  -h "$W/run" -p "$PORT" -U postgres appdb >/dev/null 2>&1

admin -d appdb -c 'CHECKPOINT;' >/dev/null
say "stop"
pgctl stop -m fast -w >/dev/null
chmod -R a+rX "$W/log"
say "done: $(wc -l <"$W/log/postgresql.log") log lines"
