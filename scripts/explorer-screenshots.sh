#!/usr/bin/env bash
# Regenerates the screenshots in docs/explorer/: starts the system with ./run.sh --background in a scratch data
# directory on free ports, signs a few artifacts on both logs with the tlog CLI, then photographs each explorer page
# in chromium with the browser tests' script (tests/interop/explorer/explorer.mjs screenshots). Stops what it started.
# Needs a Release build (./run.sh builds one; TLOG_SKIP_BUILD=1 reuses it) and npm ci in tests/interop/explorer.
# free_port comes from bench/lib.sh (which also sets -euo pipefail and changes to the repository root, kept in root).
. "$(dirname "$0")/../bench/lib.sh"

export TLOG_DATA_DIR=$(mktemp -d /tmp/tlog-screenshots.XXXXXX)
export PG_PORT=$(free_port) REKOR_PORT=$(free_port) FULCIO_PORT=$(free_port) FULCIO_GRPC_PORT=$(free_port) OIDC_PORT=$(free_port)
export REGISTRY_PORT=$(free_port) ADMISSION_PORT=$(free_port) WITNESS_PORT=$(free_port)
# A shared, loaded machine can take longer than the CA's default CT submission budget (2 s per try, 4 s in all).
export Issuance__CtLogTimeout=${Issuance__CtLogTimeout:-00:00:30} Issuance__CtLogRetryBudget=${Issuance__CtLogRetryBudget:-00:02:00}
cleanup() { ./run.sh stop >/dev/null || true; rm -rf "$TLOG_DATA_DIR"; }
trap cleanup EXIT
./run.sh --background >/dev/null

set -a; . "$TLOG_DATA_DIR/endpoints.env"; set +a
tlog() { dotnet "$root/src/TransparencyLog.Cli/bin/Release/net10.0/tlog.dll" "$@"; }
work=$(mktemp -d)
for who in alice@example.com bob@example.com alice@example.com; do
  echo "release notes $RANDOM $who" >"$work/artifact.txt"
  SIGSTORE_ID_TOKEN=$($DEV_TOKEN_CMD --email "$who") tlog sign-blob "$work/artifact.txt" --bundle "$work/last.sigstore.json" >/dev/null
done
echo "v2 artifact $RANDOM" >"$work/v2.txt"
SIGSTORE_ID_TOKEN=$($DEV_TOKEN_CMD --email alice@example.com) tlog sign-blob "$work/v2.txt" --rekor-version 2 --bundle "$work/v2.sigstore.json" >/dev/null
index=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).verificationMaterial.tlogEntries[0].logIndex)' "$work/last.sigstore.json")
rm -rf "$work"

pages=$(cat <<JSON
[
  {"name": "search", "url": "/explorer/search?q=alice%40example.com&type=auto"},
  {"name": "entry", "url": "/explorer/entries/rekor-v1/$index"},
  {"name": "log", "url": "/explorer/logs/rekor-v1?first=1&second=$((index + 1))"},
  {"name": "health", "url": "/explorer/health"},
  {"name": "entry-phone-dark", "url": "/explorer/entries/rekor-v1/$index", "width": 390, "colorScheme": "dark"}
]
JSON
)
EXPLORER_URL=$EXPLORER_URL SCREENSHOT_DIR="$root/docs/explorer" SCREENSHOT_PAGES=$pages \
  node tests/interop/explorer/explorer.mjs screenshots
echo "screenshots written to docs/explorer/"
