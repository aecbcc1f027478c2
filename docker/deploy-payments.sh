#!/usr/bin/env bash
# Writes the runtime files of apps/payments to OUT_DIR: its `files` (dist, migrations, catalog
# feeds), its production dependencies and the dist of the workspace packages it uses. The
# Dockerfile's runtime image is exactly this directory; tooling/deploy-check.sh starts it.
# Needs the workspace built first (turbo run build --filter=@moolah/payments...).
set -euo pipefail
out=${1:?usage: docker/deploy-payments.sh OUT_DIR}
cd "$(dirname "$0")/.."

# --legacy: pnpm 10 deploys without it only with inject-workspace-packages, which would change
# how every workspace package is linked during development.
# --no-optional: PGlite (the embedded database, 20 MB; loaded only without DATABASE_URL) is a
# devDependency of the app, yet --prod alone still ships it as drizzle-orm's optional peer. The
# flag also drops drizzle-orm's links to its other optional peers (postgres, @opentelemetry/api):
# both are still in the output as the app's own dependencies, and Node's lookup finds them there
# (deploy-check.sh starts the output against Postgres, so a break would show).
pnpm --filter @moolah/payments deploy --prod --no-optional --legacy "$out"

# Type declarations and source maps are never read at run time (the service runs without
# --enable-source-maps), and they are about half of node_modules. Licences stay.
find "$out/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' -o -name '*.map' \) -delete
