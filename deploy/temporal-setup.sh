#!/bin/sh
# One-shot Temporal setup jobs for docker-compose.yml. Runs inside temporalio/admin-tools, which
# is Alpine (busybox sh, no bash), so this is plain POSIX sh. Both modes are idempotent: every
# `docker compose up` runs them again, and a second run changes nothing.
#
#   temporal-setup.sh schema      Before the server starts: create Temporal's two databases
#                                 (persistence + visibility) and create/upgrade their schemas
#                                 with temporal-sql-tool. Same steps as upstream's
#                                 temporalio/samples-server compose/scripts/setup-postgres.sh,
#                                 made safe to re-run.
#   temporal-setup.sh namespace   After the server is up: wait for the frontend, create the
#                                 namespace if missing, register mailtrack's custom search
#                                 attributes (all Keyword; the list is contracts/search-attributes.ts).
#
# Environment (set in docker-compose.yml):
#   schema:    POSTGRES_SEEDS, DB_PORT, POSTGRES_USER, POSTGRES_PWD, DB (postgres12),
#              DBNAME (temporal), VISIBILITY_DBNAME (temporal_visibility)
#   namespace: TEMPORAL_ADDRESS (temporal:7233), TEMPORAL_NAMESPACE (default),
#              TEMPORAL_NAMESPACE_RETENTION (168h), SEARCH_ATTRIBUTE_WAIT_SECONDS (65)
set -eu

log() { printf '[temporal-setup] %s\n' "$*"; }
die() { printf '[temporal-setup] ERROR: %s\n' "$*" >&2; exit 1; }

# wait_for_port HOST PORT WHAT: up to ~2 minutes.
wait_for_port() {
  n=0
  until nc -z -w 2 "$1" "$2" >/dev/null 2>&1; do
    n=$((n + 1))
    [ "$n" -lt 60 ] || die "$3 ($1:$2) did not open its port"
    sleep 2
  done
  log "$3 ($1:$2) is reachable"
}

setup_schema() {
  : "${POSTGRES_SEEDS:?POSTGRES_SEEDS must be set}"
  : "${POSTGRES_USER:?POSTGRES_USER must be set}"
  : "${POSTGRES_PWD:?POSTGRES_PWD must be set}"
  # temporal-sql-tool reads its connection settings from these (see its --help).
  SQL_PLUGIN="${DB:-postgres12}"
  SQL_HOST="$POSTGRES_SEEDS"
  SQL_PORT="${DB_PORT:-5432}"
  SQL_USER="$POSTGRES_USER"
  SQL_PASSWORD="$POSTGRES_PWD"
  export SQL_PLUGIN SQL_HOST SQL_PORT SQL_USER SQL_PASSWORD

  schema_root=/etc/temporal/schema/postgresql/v12
  [ -d "$schema_root" ] || die "$schema_root not found in this image (admin-tools must match the server version)"

  wait_for_port "$SQL_HOST" "$SQL_PORT" "PostgreSQL"

  for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
    db="${pair%%:*}"
    kind="${pair##*:}"
    # `create` fails when the database exists (CREATE DATABASE has no IF NOT EXISTS); that is
    # the normal case on every start after the first. A real connection problem makes the
    # next command fail loudly.
    if temporal-sql-tool --db "$db" create-database >/dev/null 2>&1; then
      log "created database $db"
    else
      log "database $db already exists (or could not be created; the next step will tell)"
    fi
    # `setup-schema -v 0.0` only installs the version tables and is skipped when the schema is
    # already past 0.0; `update-schema` then applies whatever versioned steps are missing.
    temporal-sql-tool --db "$db" setup-schema -v 0.0
    temporal-sql-tool --db "$db" update-schema -d "$schema_root/$kind/versioned"
    log "schema of $db is up to date"
  done
}

setup_namespace() {
  address="${TEMPORAL_ADDRESS:-temporal:7233}"
  namespace="${TEMPORAL_NAMESPACE:-default}"
  retention="${TEMPORAL_NAMESPACE_RETENTION:-168h}"
  wait_seconds="${SEARCH_ATTRIBUTE_WAIT_SECONDS:-65}"
  # Keep in step with contracts/search-attributes.ts (ALL_SEARCH_ATTRIBUTES).
  attributes="Protocol CustomerEmail MailboxId Assignee TicketStatus SlaState EmailOutcome SectorId"

  wait_for_port "${address%:*}" "${address##*:}" "Temporal frontend"
  n=0
  until temporal operator cluster health --address "$address" >/dev/null 2>&1; do
    n=$((n + 1))
    [ "$n" -lt 60 ] || die "Temporal frontend at $address is not SERVING"
    sleep 2
  done
  log "Temporal frontend at $address is serving"

  changed=0
  if temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; then
    log "namespace $namespace exists"
  else
    if out=$(temporal operator namespace create --address "$address" --namespace "$namespace" --retention "$retention" 2>&1); then
      log "created namespace $namespace (retention $retention)"
      changed=1
    else
      case "$out" in
        *"already exists"* | *"already registered"*) log "namespace $namespace exists" ;;
        *) die "could not create namespace $namespace: $out" ;;
      esac
    fi
  fi

  # `namespace describe` reads the database, but the search-attribute commands go through the
  # frontend's namespace cache, which learns about a new namespace only on its next refresh
  # (~10 s); until then they fail with "Namespace ... is not found".
  n=0
  until existing=$(temporal operator search-attribute list --address "$address" --namespace "$namespace" 2>&1); do
    n=$((n + 1))
    [ "$n" -lt 60 ] || die "could not list the search attributes of $namespace: $existing"
    sleep 1
  done
  for name in $attributes; do
    if printf '%s\n' "$existing" | grep -qw "$name"; then
      log "search attribute $name exists"
      continue
    fi
    if out=$(temporal operator search-attribute create --address "$address" --namespace "$namespace" --name "$name" --type Keyword 2>&1); then
      log "created search attribute $name (Keyword)"
      changed=1
    else
      case "$out" in
        *"already exists"* | *"already registered"*) log "search attribute $name exists" ;;
        *) die "could not create search attribute $name: $out" ;;
      esac
    fi
  done

  # The server caches namespaces and search-attribute mappings per service (refreshed about
  # once a minute); a workflow started with a brand-new attribute before that is rejected with
  # "no mapping defined for search attribute". Workers start watcher workflows with MailboxId
  # the moment this job completes, so on a first setup wait out the cache refresh once.
  if [ "$changed" -eq 1 ] && [ "$wait_seconds" -gt 0 ]; then
    log "waiting ${wait_seconds}s for the new namespace/search attributes to reach every Temporal service"
    sleep "$wait_seconds"
  fi
  log "namespace $namespace is ready"
}

case "${1:-}" in
  schema) setup_schema ;;
  namespace) setup_namespace ;;
  *) die "usage: $0 schema|namespace" ;;
esac
