# Sourced by the load scripts that run on PostgreSQL. This machine's PostgreSQL is configured for CI with
# autovacuum off (conf.d/90-ci.conf); a production server keeps it on, and what the service reads depends on it:
# the claim queue's counts come from indexes alone only on vacuumed pages, the search's trigram index keeps new
# entries in a pending list that only a vacuum merges, and the planner needs fresh statistics. The scripts turn
# it on for their run (the real autovacuum, with the per-table settings of the migrations) and restore the
# machine's setting when they end.
autovacuum_for_run() {
  local admin=$1
  if [ "$(psql "$admin" -Atc 'show autovacuum')" = off ]; then
    psql "$admin" -qc "ALTER SYSTEM SET autovacuum = on" -c "SELECT pg_reload_conf()" >/dev/null
    autovacuum_restore_url="$admin"
    echo "== autovacuum on for this run (the machine's PostgreSQL has it off for CI; restored at the end)"
  fi
}

autovacuum_restore() {
  if [ -n "${autovacuum_restore_url:-}" ]; then
    psql "$autovacuum_restore_url" -qc "ALTER SYSTEM RESET autovacuum" -c "SELECT pg_reload_conf()" >/dev/null || true
  fi
}
