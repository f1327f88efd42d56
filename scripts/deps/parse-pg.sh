# Needed by the PostgreSQL parser tests (sourced by scripts/test.sh, runnable alone):
# a PostgreSQL server with pgbench for tests/parse_pg_server.rs (Debian 12: PostgreSQL 15),
# and bzcat for pgBadger's rds.log.bz2 in tests/parse_pg_corpus.rs.
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || ! compgen -G '/usr/lib/postgresql/*/bin/pgbench' >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if ! command -v bzcat >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bzip2 >/dev/null
fi
