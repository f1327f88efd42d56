# Sourced by scripts/test.sh. What the MySQL-family tests need:
#  - mariadb-server (mariadbd, mariadb-install-db, the server_audit plugin) and its client, for the
#    real-server test (tests/mariadb_server.rs);
#  - percona-toolkit (pt-query-digest), whose fingerprint code tests/fingerprint_vs_pt.rs compares ours with.
# Installs only what is missing; quiet and idempotent.
rdsf_mysql_missing=()
{ command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; } || rdsf_mysql_missing+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || rdsf_mysql_missing+=(mariadb-client)
command -v pt-query-digest >/dev/null 2>&1 || rdsf_mysql_missing+=(percona-toolkit)
if [ "${#rdsf_mysql_missing[@]}" -gt 0 ]; then
  echo "deps/parse-mysql: installing ${rdsf_mysql_missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${rdsf_mysql_missing[@]}" >/dev/null
fi
unset rdsf_mysql_missing
