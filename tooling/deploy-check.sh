#!/usr/bin/env bash
# What docker/Dockerfile ships, checked without a Docker engine: the compose file is valid and
# refuses to start without ADMIN_TOKEN (when a compose client is installed), and the runtime
# directory of docker/deploy-payments.sh, started as the image starts it against the real
# Postgres and Redis, answers /health/ready and exits 0 on SIGTERM. That directory holds no PGlite,
# and started without DATABASE_URL it exits 1 saying what to do (with NODE_ENV=production, that
# DATABASE_URL is required; without, to set it or install PGlite).
# Needs the workspace built, Postgres on 127.0.0.1:5432 (user postgres, trust) and Redis on
# 127.0.0.1:6379, like the tests. Run by the root `pnpm test` after the unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== deploy check: %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
fail() { printf 'deploy check FAILED: %s\n' "$1" >&2; exit 1; }

work=$(mktemp -d)
database="moolah_deploy_check_$$"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -KILL "$server"; fi
  psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step "docker/compose.yml"
compose_config() {
  if docker compose version >/dev/null 2>&1; then
    docker compose -f docker/compose.yml config -q
  else
    # Compose v1 predates the top-level `name` key; everything else it checks as v2 does.
    sed '/^name:/d' docker/compose.yml > "$work/compose.yml"
    docker-compose --project-directory docker -f "$work/compose.yml" config -q
  fi
}
if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; then
  ADMIN_TOKEN=$(openssl rand -hex 32) compose_config || fail "docker/compose.yml is not valid"
  if (unset ADMIN_TOKEN; compose_config) 2>/dev/null; then fail "compose starts without ADMIN_TOKEN"; fi
  echo "valid; refuses to start without ADMIN_TOKEN"
else
  echo "skipped: no docker compose client on this machine"
fi

step "pnpm deploy of @moolah/payments"
docker/deploy-payments.sh "$work/app" > "$work/deploy.log" 2>&1 || { cat "$work/deploy.log"; fail "pnpm deploy"; }
for unwanted in src test bench tsconfig.json; do
  [ ! -e "$work/app/$unwanted" ] || fail "the runtime files include $unwanted"
done
echo "$(du -sh "$work/app" | cut -f1) in $work/app: $(ls "$work/app" | tr '\n' ' ')"
pglite=$(find "$work/app/node_modules" -path '*/node_modules/@electric-sql/pglite' -print -quit)
[ -z "$pglite" ] || fail "the runtime files include PGlite (${pglite#"$work/app/"})"
echo "no PGlite"

# Starts the deploy output with only the given variables; fails unless it exits 1 with `message`
# and no stack trace.
refuses_to_start() {
  local message=$1 status=0
  shift
  (cd "$work/app" && exec env -i PATH="$PATH" HOST=127.0.0.1 PORT=0 "$@" timeout 60 node dist/server.js) \
    > "$work/refusal.log" 2>&1 || status=$?
  [ "$status" = 1 ] || { cat "$work/refusal.log"; fail "exit status $status, not 1"; }
  grep -qF "$message" "$work/refusal.log" || { cat "$work/refusal.log"; fail "no word of: $message"; }
  if grep -q '^ *at ' "$work/refusal.log"; then cat "$work/refusal.log"; fail "a stack trace"; fi
  cat "$work/refusal.log"
}

step "without DATABASE_URL in production: refuses to start, saying what to do"
refuses_to_start 'DATABASE_URL is required when NODE_ENV=production' NODE_ENV=production

step "without DATABASE_URL and without PGlite (not in the deploy): refuses to start, saying what to do"
refuses_to_start 'set DATABASE_URL to a Postgres URL, or install @electric-sql/pglite'

step "start it as the image does (fresh database, real Redis)"
psql -h 127.0.0.1 -U postgres -q -c "CREATE DATABASE $database" || fail "cannot create database $database"
port=$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close() })")
(
  cd "$work/app"
  exec env -i PATH="$PATH" NODE_ENV=production HOST=127.0.0.1 PORT="$port" \
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" \
    REDIS_URL="redis://127.0.0.1:6379" REDIS_KEY_PREFIX="moolah-deploy-check-$$:" \
    ADMIN_TOKEN="$(openssl rand -hex 32)" LOG_LEVEL=info \
    node dist/server.js
) > "$work/server.log" 2>&1 &
server=$!

ready=""
for _ in $(seq 240); do
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; fail "the service exited during start-up"; }
  if [ "$(curl -s -o "$work/ready.json" -w '%{http_code}' "http://127.0.0.1:$port/health/ready")" = 200 ]; then ready=yes; break; fi
  sleep 0.5
done
[ -n "$ready" ] || { cat "$work/server.log"; fail "/health/ready did not answer 200 within 120 s"; }
echo "/health/ready 200: $(cat "$work/ready.json")"
grep -q '"msg":"Server listening' "$work/server.log" || fail "no JSON listen line in the log (stdout is not a terminal)"

step "SIGTERM"
kill -TERM "$server"
status=0
wait "$server" || status=$?
server=""
[ "$status" = 0 ] || { cat "$work/server.log"; fail "exit status $status after SIGTERM"; }
echo "drained and exited 0"
printf '\ndeploy check passed\n'
