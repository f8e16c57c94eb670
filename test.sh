#!/usr/bin/env bash
# Runs every test: the .NET unit and integration tests against a private PostgreSQL cluster that this script starts
# and removes, and the Node interop tests with real sigstore clients. Prints "N passed, N failed" last.
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
config=${CONFIGURATION:-Release}

# Each phase's wall time, printed as it ends and again as a table at the end (CI must finish within 30 minutes:
# the table shows where the minutes go). phase NAME ends the running phase and starts the next.
phase_names=() phase_seconds=() phase_name="" phase_started=$SECONDS
phase() {
  if [[ -n $phase_name ]]; then
    local took=$((SECONDS - phase_started))
    phase_names+=("$phase_name") phase_seconds+=("$took")
    printf '    (%s: %dm%02ds)\n' "$phase_name" $((took / 60)) $((took % 60))
  fi
  phase_name=$1 phase_started=$SECONDS
}
phase setup

command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
command -v openssl >/dev/null || { echo "error: openssl is required (an independent verifier in the tests)" >&2; exit 1; }
scripts/pg.sh ensure-binaries
scripts/registry.sh ensure-binaries
command -v htpasswd >/dev/null || { echo "error: htpasswd (apache2-utils) is required by the registry authentication tests" >&2; exit 1; }
# Upstream skopeo 1.13.3 with sigstore (Debian's is built without it), from the shared folder next to the clone.
if [[ -z ${TLOG_SKOPEO:-} ]]; then
  for candidate in ../shared/tools/skopeo/get.sh ../../shared/tools/skopeo/get.sh; do
    if [[ -x $candidate ]]; then TLOG_SKOPEO=$("$candidate"); export TLOG_SKOPEO; break; fi
  done
fi
[[ -n ${TLOG_SKOPEO:-} ]] || { echo "error: upstream skopeo not found: put the shared folder at ../shared or set TLOG_SKOPEO" >&2; exit 1; }

free_port() {
  local p
  while true; do
    p=$((20000 + RANDOM % 30000))
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

pgdir=$(mktemp -d /tmp/tlog-test-pg.XXXXXX)
pgport=$(free_port)
cleanup() { scripts/pg.sh stop "$pgdir" || true; rm -rf "$pgdir"; }
trap cleanup EXIT
echo "==> private PostgreSQL on 127.0.0.1:$pgport"
scripts/pg.sh start "$pgdir" "$pgport"
# The cluster requires passwords (scripts/pg.sh); the tests connect as its superuser with the generated one.
export TLOG_TEST_PG="Host=127.0.0.1;Port=$pgport;Username=postgres;Password=$(scripts/pg.sh password "$pgdir");Database=postgres;Maximum Pool Size=30"

# Upstream skopeo 1.13.3 (Debian's is built with sigstore disabled), unpacked from ../shared/tools/skopeo; tests that
# need it fail with a clear message when neither this nor TLOG_TEST_SKOPEO provides it.
if [[ -z ${TLOG_TEST_SKOPEO:-} && -x $root/../shared/tools/skopeo/get.sh ]]; then
  TLOG_TEST_SKOPEO=$("$root/../shared/tools/skopeo/get.sh")
  export TLOG_TEST_SKOPEO
fi

for package in tests/interop/*/package.json; do
  [[ -f $package ]] || continue
  dir=$(dirname "$package")
  if [[ ! -d $dir/node_modules ]]; then
    echo "==> npm packages for $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

if command -v docker-compose >/dev/null; then
  echo "==> docker-compose.yml"
  # The default and the dev profile; the services themselves run outside Docker in tests/.../Compose/ComposeFileTests.
  secrets_dir=$(mktemp -d)
  mkdir -p "$secrets_dir/secrets/admission" && echo x >"$secrets_dir/secrets/postgres-password" && echo y >"$secrets_dir/secrets/app-password"
  touch "$secrets_dir/secrets/admission/tls.crt" "$secrets_dir/secrets/admission/tls.key"
  cp docker-compose.yml "$secrets_dir/" && cp -r docs deploy admission-policies "$secrets_dir/"
  (cd "$secrets_dir" && docker-compose config -q && docker-compose --profile dev config -q) ||
    { echo "error: docker-compose.yml is not valid" >&2; exit 1; }
  rm -rf "$secrets_dir"
elif [[ ${CI:-} == true ]]; then
  echo "error: docker-compose is needed in CI to check docker-compose.yml" >&2
  exit 1
fi

echo "==> the monitor's generated EF Core code is current (scripts/monitor-ef-codegen.sh --check)"
scripts/monitor-ef-codegen.sh --check

phase build
echo "==> build ($config)"
dotnet build TransparencyLog.sln -c "$config" -nologo -v quiet -clp:ErrorsOnly

phase pack
echo "==> tlog as a .NET tool (dotnet pack, dotnet tool install --add-source, tlog --help)"
tooldir=$(mktemp -d)
dotnet pack src/TransparencyLog.Cli -c "$config" --no-build -nologo -v quiet -o "$tooldir/nupkg" >/dev/null
dotnet tool install tlog --tool-path "$tooldir/tools" --add-source "$tooldir/nupkg" --ignore-failed-sources >/dev/null
"$tooldir/tools/tlog" --help | grep -q "sign-blob" || { echo "error: the installed tlog tool does not run" >&2; exit 1; }
rm -rf "$tooldir"

# The CLI tests (TlogRunner, sigstore-js and TUF interop) run tlog as the README installs it: published with Native AOT,
# one native executable. AOT compiles only what it can see: reflection it cannot follow would fail here, not in a user's hands.
phase "AOT publish"
echo "==> tlog published as the README installs it (-p:TlogAot=true)"
tlogdir=$(mktemp -d)
rid=linux-$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')
dotnet publish src/TransparencyLog.Cli -c "$config" -r "$rid" -p:TlogAot=true -o "$tlogdir" -nologo -v quiet -clp:ErrorsOnly >/dev/null
"$tlogdir/tlog" --version >/dev/null || { echo "error: the published tlog does not run" >&2; exit 1; }
export TLOG_TEST_TLOG=$tlogdir/tlog

phase tests
echo "==> tests"
results=$(mktemp -d)
status=0
dotnet test TransparencyLog.sln -c "$config" --no-build -nologo --logger "trx" --results-directory "$results" 2>&1 | tee "$results/output.txt" || status=$?

passed=0 failed=0 skipped=0
while read -r line; do
  p=$(sed -nE 's/.*Passed: *([0-9]+).*/\1/p' <<<"$line"); f=$(sed -nE 's/.*Failed: *([0-9]+),.*/\1/p' <<<"$line"); s=$(sed -nE 's/.*Skipped: *([0-9]+).*/\1/p' <<<"$line")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
done < <(grep -E '^(Passed!|Failed!) ' "$results/output.txt" || true)
# The slowest tests (from the trx files), so a slow run shows which tests to look at.
echo "slowest tests (h:mm:ss):"
grep -ho '<UnitTestResult [^>]*>' "$results"/*.trx 2>/dev/null |
  sed -nE 's/.*testName="([^"]*)".*duration="0?([0-9]+:[0-9]+:[0-9]+)[.0-9]*".*/\2 \1/p' | sort -r | head -15 | sed 's/^/  /' || true
rm -rf "$results" "$tlogdir"
if ((skipped > 0)); then
  echo "error: $skipped test(s) were skipped; nothing may skip" >&2
  status=1
fi
phase ""
echo
echo "phase wall times (test.sh):"
for i in "${!phase_names[@]}"; do
  printf '  %-12s %3dm%02ds\n' "${phase_names[$i]}" $((phase_seconds[i] / 60)) $((phase_seconds[i] % 60))
done
echo "tests: $passed passed, $failed failed"
exit $status
