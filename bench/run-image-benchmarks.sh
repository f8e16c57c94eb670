#!/usr/bin/env bash
# Image signing and verification figures against the local registry (issue 8): starts the whole system with
# `./run.sh --background` in a temp data directory on free loopback ports, pushes N distinct images straight to the
# registry (curl), and measures with the built tlog CLI:
#   - images signed per second by ONE `tlog sign` process signing all N images (one certificate, --format both), keyless
#     and with --key;
#   - `tlog verify` wall time per run including process start (p50, p99 over R runs) for an image with 1 signature and
#     one with 20 signatures, and the registry round trips per verification (from `verify -o json`).
#   - the push itself: images pushed per second (config blob + manifest over the distribution API, with curl);
#   - keyless `tlog verify` p50/p99 as well, against the trusted root, for one keyless-signed image;
#   - `tlog --version` wall time per process: the .NET start-up share of every figure above.
# Each tlog process's CPU time (user + system, /usr/bin/time) is printed beside its wall time, and the load average at
# the start and the end: on a shared machine wall times swing with the load, CPU time and round trips much less.
# tlog runs as the README installs it: published for linux-x64 with Native AOT (-p:TlogAot=true: one native
# executable); --composite measures the self-contained, trimmed, composite ReadyToRun publish (-p:TlogComposite=true,
# the installed build until 2026-12-07) instead, --framework-dependent the framework-dependent ReadyToRun publish
# (--self-contained false).
# TLOG_BENCH_BASELINE=PATH/tlog.dll measures another build (e.g. main's) in the same run, against the same system;
# TLOG_BENCH_BASELINE=PATH/tlog (an executable: a composite or AOT publish) runs it directly.
# It measures; it is not a test and exits 0 whatever the figures (a failing command stops it and prints its output).
# The services run for days in production: before anything is measured, --warmup W images (50) are signed keyless and
# with --key, not counted, so JIT tiering and connection pools of the log, CA, witness and PostgreSQL are warm.
# Usage: bench/run-image-benchmarks.sh [--images N (200)] [--runs R (30)] [--warmup W (50)] [--framework-dependent]
#                                      [--composite] [--aot (the default)] [--no-build] [--keep]
set -euo pipefail
. "$(dirname "$0")/lib.sh"  # cd to the repository root; free_port, push_blob, push_image
images=200 runs=30 warmup=50 build=true keep=false composite=false aot=true
while [[ $# -gt 0 ]]; do
  case $1 in
    --images) images=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --no-build) build=false; shift ;;
    --framework-dependent) composite=false aot=false; shift ;;
    --aot) aot=true composite=false; shift ;;
    --composite) composite=true aot=false; shift ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

$build && dotnet build TransparencyLog.sln -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
cli=$root/src/TransparencyLog.Cli/bin/Release/publish-linux-x64
publish=(--self-contained false)
$composite && cli+=-composite publish=(-p:TlogComposite=true)
$aot && cli+=-aot publish=(-p:TlogAot=true)
if $build; then
  p0=$(date +%s)
  dotnet publish src/TransparencyLog.Cli -c Release -r linux-x64 "${publish[@]}" -o "$cli" -nologo -v quiet -clp:ErrorsOnly >/dev/null
  echo "published tlog (${publish[*]}) in $(( $(date +%s) - p0 )) s, load average $(cut -d" " -f1-3 /proc/loadavg)"
fi
[[ -x $cli/tlog ]] || { echo "error: no published tlog in $cli (run without --no-build once)" >&2; exit 1; }
echo "load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
data=$(mktemp -d /tmp/tlog-image-bench.XXXXXX)
export TLOG_DATA_DIR=$data TLOG_SKIP_BUILD=1 Api__RateLimits__PerAddressPermits=0 Api__RateLimits__PerIdentityPermits=0
export PG_PORT=$(free_port) REKOR_PORT=$(free_port) FULCIO_PORT=$(free_port) FULCIO_GRPC_PORT=$(free_port) OIDC_PORT=$(free_port) REGISTRY_PORT=$(free_port) ADMISSION_PORT=$(free_port) WITNESS_PORT=$(free_port)
cleanup() { "$root/run.sh" stop >/dev/null 2>&1 || true; $keep || rm -rf "$data"; }  # from $root: the run ends in $data/work
trap cleanup EXIT
./run.sh --background >"$data/run.log" 2>&1 || { cat "$data/run.log"; exit 1; }
set -a; . "$data/endpoints.env"; set +a
# CPU time (user + system) of each tlog process as well as its wall time: on a busy machine CPU time still compares.
[[ -x /usr/bin/time ]] || { echo "error: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
# TLOG_BENCH_BASELINE=PATH/tlog.dll also measures that build of tlog (a baseline, run with dotnet) against the same
# system, each figure right after this build's: a before/after comparison that still holds on a busy machine.
clis=("$cli/tlog") names=("tlog")
if [[ -n ${TLOG_BENCH_BASELINE:-} ]]; then
  if [[ $TLOG_BENCH_BASELINE == *.dll ]]; then clis+=("dotnet $TLOG_BENCH_BASELINE"); else clis+=("$TLOG_BENCH_BASELINE"); fi
  names+=("baseline")
fi
run_cli=${clis[0]}
tlog() { /usr/bin/time -f "%U %S" -a -o "$data/cpu" $run_cli "$@"; }
last_cpu() { tail -n 1 "$data/cpu" | awk '{printf "%d", ($1 + $2) * 1000}'; }
# Commands whose output is not a figure go to a log; a failure shows it instead of ending silently.
quiet() { "$@" >>"$data/bench.log" 2>&1 || { echo "error: $1 $2 ($# arguments) failed; last lines of its output:" >&2; tail -n 20 "$data/bench.log" >&2; exit 1; }; }
work=$data/work; mkdir -p "$work"; cd "$work"

# CPU ms (user + system) each service has used so far, as "name ms ...": the log, CA, TSA and registry from run.sh's
# pid files, PostgreSQL as its postmaster and live backends. Taken around the signing runs, it shows where the
# machine's two cores go while tlog waits on them (docs/benchmarks.md: they, not tlog, bound images/s).
tick=$(getconf CLK_TCK)
proc_ms() { awk -v t="$tick" '{sub(/^.*\) /, ""); printf "%d", ($12 + $13) * 1000 / t}' "/proc/$1/stat" 2>/dev/null || echo 0; }
services_cpu() {
  local f name pid pg=0 postmaster
  for f in "$data"/pids/*.pid; do
    name=$(basename "$f" .pid); pid=$(cat "$f")
    [[ $name == run ]] || printf '%s %s ' "$name" "$(proc_ms "$pid")"
  done
  postmaster=$(head -n 1 "$data/pg/data/postmaster.pid" 2>/dev/null || true)
  if [[ -n $postmaster ]]; then
    pg=$(proc_ms "$postmaster")
    for f in /proc/[0-9]*/stat; do
      [[ $(awk '{sub(/^.*\) /, ""); print $2}' "$f" 2>/dev/null) == "$postmaster" ]] && pg=$((pg + $(proc_ms "$(basename "$(dirname "$f")")")))
    done
  fi
  printf 'postgres %s\n' "$pg"
}
# "name before-ms" pairs and "name after-ms" pairs -> "name +delta ms, ..."
cpu_delta() { python3 -c "import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); d=dict(zip(a[::2], map(int, a[1::2]))); print(', '.join(f'{n} {int(v) - d.get(n, 0)}' for n, v in zip(b[::2], b[1::2])) + ' (CPU ms)')" "$1" "$2"; }

# N distinct images (a config per image, no layers) are pushed with push_image (bench/lib.sh).
ms() { echo $(( $(date +%s%N) / 1000000 )); }

[[ -f bench.key ]] || openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt >bench.key
if (( warmup > 0 )); then
  warm=()
  for i in $(seq 1 "$warmup"); do warm+=("$REGISTRY/bench/warm@$(push_image bench/warm "w$i")"); done
  c0=$(services_cpu)
  quiet tlog sign "${warm[@]}" --dev-issuer "$OIDC_ISSUER" --dev-email bench@example.com
  quiet tlog sign "${warm[@]}" --key bench.key
  echo "warm-up: $warmup images signed keyless and with --key, not counted; services: $(cpu_delta "$c0" "$(services_cpu)")"
fi

for k in "${!clis[@]}"; do
  run_cli=${clis[$k]} who=${names[$k]}
  echo "==> $who: pushing $images images for each signing mode"
  keyless=() keyed=()
  t0=$(ms)
  for i in $(seq 1 "$images"); do
    keyless+=("$REGISTRY/bench/keyless-$who@$(push_image "bench/keyless-$who" "t$i")")
    keyed+=("$REGISTRY/bench/keyed-$who@$(push_image "bench/keyed-$who" "t$i")")
  done
  t1=$(ms)
  echo "push:    $((2 * images)) images in $((t1 - t0)) ms = $(python3 -c "print(round(2*$images*1000/($t1-$t0),1))") images/s (curl, 3 requests each)"
  openssl ec -in bench.key -pubout >bench.pub 2>/dev/null

  echo "==> $who: one tlog sign process, $images images (keyless, one certificate)"
  c0=$(services_cpu); t0=$(ms); quiet tlog sign "${keyless[@]}" --dev-issuer "$OIDC_ISSUER" --dev-email bench@example.com; t1=$(ms); c1=$(services_cpu)
  echo "keyless: $images images in $((t1 - t0)) ms = $(python3 -c "print(round($images*1000/($t1-$t0),1))") images/s, tlog CPU $(last_cpu) ms"
  echo "         services meanwhile: $(cpu_delta "$c0" "$c1")"
  c0=$(services_cpu); t0=$(ms); quiet tlog sign "${keyed[@]}" --key bench.key; t1=$(ms); c1=$(services_cpu)
  echo "--key:   $images images in $((t1 - t0)) ms = $(python3 -c "print(round($images*1000/($t1-$t0),1))") images/s, tlog CPU $(last_cpu) ms"
  echo "         services meanwhile: $(cpu_delta "$c0" "$c1")"
  [[ $k == 0 ]] && signed_keyless=${keyless[0]}
done
run_cli=${clis[0]}

one="$REGISTRY/bench/one@$(push_image bench/one v1)"
many="$REGISTRY/bench/many@$(push_image bench/many v1)"
quiet tlog sign "$one" --key bench.key --format legacy
for i in $(seq 1 19); do
  openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt >k$i.key
  quiet tlog sign "$many" --key k$i.key --format legacy
done
quiet tlog sign "$many" --key bench.key --format legacy   # the verifying key's signature comes last (20th layer)

measure() { # label image verify-flags...
  local label=$1 image=$2 times=() cpus=() trips; shift 2
  for r in $(seq 1 "$runs"); do
    local a b; a=$(ms); out=$(tlog verify "$image" "$@" --trusted-root "$TRUSTED_ROOT" -o json 2>>"$data/bench.log") || { echo "error: tlog verify $image failed" >&2; tail -n 20 "$data/bench.log" >&2; exit 1; }; b=$(ms)
    times+=($((b - a))) cpus+=($(last_cpu))
    trips=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['registryRoundTrips'])" "$out")
  done
  python3 - "$label" "$trips" "${#times[@]}" "${times[@]}" "${cpus[@]}" <<'PY'
import sys
label, trips, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
t, c = sorted(int(x) for x in sys.argv[4:4 + n]), sorted(int(x) for x in sys.argv[4 + n:])
pct = lambda v, p: v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
print(f"{label:<28} runs {len(t):>3}  p50 {pct(t, 50):>5} ms  p99 {pct(t, 99):>5} ms  CPU p50 {pct(c, 50):>5} ms  registry round trips {trips}")
PY
}
for k in "${!clis[@]}"; do
  run_cli=${clis[$k]} who=${names[$k]}
  echo "==> $who: start-up (tlog --version) and tlog verify, wall and CPU time per process (includes .NET start-up)"
  times=() cpus=()
  for r in $(seq 1 "$runs"); do a=$(ms); tlog --version >/dev/null; b=$(ms); times+=($((b - a))) cpus+=($(last_cpu)); done
  python3 -c "import sys; n=len(sys.argv)//2; t=sorted(int(x) for x in sys.argv[1:n+1]); c=sorted(int(x) for x in sys.argv[n+1:]); print(f'start-up (tlog --version)    runs {n:>3}  p50 {t[(n-1)//2]:>5} ms                CPU p50 {c[(n-1)//2]:>5} ms')" "${times[@]}" "${cpus[@]}"
  measure "--key, 1 signature (.sig)" "$one" --key bench.pub
  measure "--key, 20 signatures (.sig)" "$many" --key bench.pub
  measure "keyless (bundle referrer)" "$signed_keyless" --certificate-identity bench@example.com --certificate-oidc-issuer "$OIDC_ISSUER"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
