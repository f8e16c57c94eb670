#!/usr/bin/env bash
# Admission webhook figures (issue 9): starts the whole system with `./run.sh --background` in a temp data directory
# on free loopback ports, pushes images straight to the registry (curl), signs them keyless with the built tlog CLI,
# installs one keyless ClusterImagePolicy, and measures POST /validate over HTTPS for a pod with 3 images:
#   - cached digests: the same signed pod N times (default 100,000) with apache2-utils `ab` (C connections, keep-alive):
#     reviews/s, p50/p99 latency, keep-alive requests, the webhook's CPU per review, then its RSS (VmRSS, and VmHWM,
#     its peak) after those reviews;
#   - cold digests: M reviews (default 30), each naming 3 images never seen before (fresh images, real signatures,
#     real registry): each review verifies 3 signatures from the registry; sequential curl, reviews/s and p50/p99.
# The load average is printed with the figures (the machine may be shared). It measures; it is not a test and exits 0
# whatever the figures (a failing command stops it and prints its output).
# Usage: bench/run-admission-benchmark.sh [--reviews N (100000)] [--clients C (16)] [--cold M (30)] [--no-build] [--keep]
set -euo pipefail
. "$(dirname "$0")/lib.sh"  # cd to the repository root; free_port, push_blob, push_image
reviews=100000 clients=16 cold=30 build=true keep=false
while [[ $# -gt 0 ]]; do
  case $1 in
    --reviews) reviews=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --cold) cold=$2; shift 2 ;;
    --no-build) build=false; shift ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v ab >/dev/null || { echo "error: ab not found: apt-get install apache2-utils" >&2; exit 1; }

$build && dotnet build TransparencyLog.sln -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
data=$(mktemp -d /tmp/tlog-admission-bench.XXXXXX)
export TLOG_DATA_DIR=$data TLOG_SKIP_BUILD=1 Api__RateLimits__PerAddressPermits=0 Api__RateLimits__PerIdentityPermits=0
export PG_PORT=$(free_port) REKOR_PORT=$(free_port) FULCIO_PORT=$(free_port) FULCIO_GRPC_PORT=$(free_port) OIDC_PORT=$(free_port)
export REGISTRY_PORT=$(free_port) ADMISSION_PORT=$(free_port)
cleanup() { "$root/run.sh" stop >/dev/null 2>&1 || true; $keep || rm -rf "$data"; }  # from $root: the run ends in $data/work
trap cleanup EXIT
./run.sh --background >"$data/run.log" 2>&1 || { cat "$data/run.log"; exit 1; }
set -a; . "$data/endpoints.env"; set +a
tlog() { dotnet "$root/src/TransparencyLog.Cli/bin/Release/net10.0/tlog.dll" "$@"; }
quiet() { "$@" >>"$data/bench.log" 2>&1 || { echo "error: $1 $2 ($# arguments) failed; last lines of its output:" >&2; tail -n 20 "$data/bench.log" >&2; exit 1; }; }
work=$data/work; mkdir -p "$work"; cd "$work"

review() { # uid image image image -> an AdmissionReview v1 CREATE of a Pod
  python3 - "$@" <<'PY'
import json, sys
uid, images = sys.argv[1], sys.argv[2:]
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
  "uid": uid, "kind": {"group": "", "version": "v1", "kind": "Pod"}, "resource": {"group": "", "version": "v1", "resource": "pods"},
  "name": "web", "namespace": "prod", "operation": "CREATE", "userInfo": {"username": "bench"}, "dryRun": False,
  "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "prod"},
             "spec": {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}}}}))
PY
}
rss() { sed -n "s/^$1: *//p" "/proc/$(cat "$data/pids/admission.pid")/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$(cat "$data/pids/admission.pid")/stat"; }  # user + system, in clock ticks

echo "==> machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before"
echo "==> pushing and signing 3 + $((3 * cold)) images (keyless, one tlog sign process)"
images=()
for i in $(seq 1 $((3 + 3 * cold))); do images+=("$REGISTRY/bench/app$i@$(push_image "bench/app$i" v1)"); done
# A 503 with Retry-After from the CA (its CT log submission outlasted its budget on a loaded machine) is retried by
# tlog itself, within bounds (docs/cli.md, "Busy services").
quiet tlog sign "${images[@]}" --dev-issuer "$OIDC_ISSUER" --dev-email bench@example.com

cat >"$ADMISSION_POLICIES/bench.yaml" <<YAML
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: bench}
spec:
  images: [{glob: "$REGISTRY/bench/**"}]
  authorities:
  - name: ci
    keyless:
      identities: [{issuer: "$OIDC_ISSUER", subject: bench@example.com}]
YAML
for _ in $(seq 100); do
  curl -fsS --cacert "$ADMISSION_CA_BUNDLE" "$ADMISSION_URL/readyz" | grep -q '"1 policies in force' && break
  sleep 0.2
done

allowed() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["response"]; sys.exit(0 if r["allowed"] else 1)' "$1" \
  || { echo "error: a review was denied: $(cat "$1")" >&2; exit 1; }; }
review cached-0 "${images[@]:0:3}" >cached.json
curl -fsS --cacert "$ADMISSION_CA_BUNDLE" -H 'Content-Type: application/json' --data-binary @cached.json "$ADMISSION_URL/validate" >answer.json
allowed answer.json
echo "    webhook RSS after start and one review: $(rss VmRSS)"

echo "==> cached digests: $reviews reviews of a 3-image pod, $clients keep-alive connections (ab)"
ticks0=$(cpu_ticks)
ab -q -k -n "$reviews" -c "$clients" -p cached.json -T application/json "$ADMISSION_URL/validate" >ab.txt 2>&1 \
  || { cat ab.txt >&2; exit 1; }
# The summary never stops the script: a figure ab did not print shows as "?" (python 3.11: no backslashes inside
# f-string expressions, so every pattern is matched before formatting).
python3 - ab.txt <<'PY' || { echo "    (summary failed; ab's own figures:)"; grep -E '^(Complete|Failed|Non-2xx|Keep-Alive|Requests per|Time per)|^ +(50|99)%' ab.txt | sed 's/^/    /'; }
import re, sys
text = open(sys.argv[1]).read()
def find(pattern, missing="?"):
    m = re.search(pattern, text, re.M)
    return m.group(1) if m else missing
rate = find(r"^Requests per second:\s+([\d.]+)")
p50, p99 = find(r"^\s+50%\s+(\d+)"), find(r"^\s+99%\s+(\d+)")
complete, failed = find(r"^Complete requests:\s+(\d+)"), find(r"^Failed requests:\s+(\d+)")
non2xx = find(r"^Non-2xx responses:\s+(\d+)", "0")
kept = find(r"^Keep-Alive requests:\s+(\d+)", "0")
print(f"    reviews/s {rate}   p50 {p50} ms   p99 {p99} ms   complete {complete}   failed {failed}   non-2xx {non2xx}   keep-alive {kept}")
PY
ticks1=$(cpu_ticks)
echo "    webhook CPU: $(awk -v t="$((ticks1 - ticks0))" -v hz="$(getconf CLK_TCK)" -v n="$reviews" 'BEGIN { printf "%.1f s for %d reviews, %.3f ms per review", t / hz, n, t / hz * 1000 / n }')"
echo "    webhook RSS after $reviews more reviews: $(rss VmRSS) (peak $(rss VmHWM)); load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo "==> cold digests: $cold reviews, each of 3 images never reviewed before (sequential curl)"
times=()
t0=$(date +%s%N)
for r in $(seq 0 $((cold - 1))); do
  review "cold-$r" "${images[@]:$((3 + 3 * r)):3}" >cold.json
  t=$(curl -fsS --cacert "$ADMISSION_CA_BUNDLE" -H 'Content-Type: application/json' --data-binary @cold.json -o answer.json -w '%{time_total}' "$ADMISSION_URL/validate")
  allowed answer.json
  times+=("$t")
done
t1=$(date +%s%N)
python3 - "$cold" "$t0" "$t1" "${times[@]}" <<'PY'
import sys
n, t0, t1, t = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sorted(float(x) * 1000 for x in sys.argv[4:])
pct = lambda p: t[min(len(t) - 1, int(round(p / 100 * (len(t) - 1))))]
print(f"    reviews/s {n / ((t1 - t0) / 1e9):.2f}   p50 {pct(50):.0f} ms   p99 {pct(99):.0f} ms   (each: 3 images resolved and verified from the registry)")
PY
echo "==> load average $(cut -d' ' -f1-3 /proc/loadavg) after"
