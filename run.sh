#!/usr/bin/env bash
# Starts the whole system locally: a private PostgreSQL cluster under .data/, the migrations, the log service, the
# CA service and a development OIDC issuer, all on loopback.
#   ./run.sh               foreground; Ctrl-C stops everything it started
#   ./run.sh --background  returns once every service answers its readiness check (/readyz)
#   ./run.sh stop          stops what a background run started
# Ports: PG_PORT (54329) REKOR_PORT (3000) FULCIO_PORT (5555) FULCIO_GRPC_PORT (5554) OIDC_PORT (5556)
# REGISTRY_PORT (5100, the local OCI registry: Debian's docker-registry, storage in .data/registry)
# ADMISSION_PORT (8443, the admission webhook over HTTPS, policies in .data/admission/policies); the TSA,
# the certificate-transparency log and the Rekor v2 log are served by the log service on REKOR_PORT.
# CT_LOG_NAME (127.0.0.1:$REKOR_PORT/ct): the CT log's name; a new one with a new key rotates the CT log.
# WITNESS_PORT (5560): a c2sp.org/tlog-witness witness (key in .data/keys/witness) cosigning the three logs' checkpoints;
# the log asks it through .data/witness-policy.txt, fail-open (development: appends never wait for it).
# TLOG_DATA_DIR (default .data) holds the cluster, keys, logs and endpoints.env. CONFIGURATION (Release) picks the
# build; TLOG_SKIP_BUILD=1 uses an existing build (the interop tests do). TLOG_KEYS=pkcs11 keeps every signing key
# (CA, logs, CT log, TSA) in a SoftHSM2 token under .data/hsm instead of key files (scripts/hsm.sh); the default is
# files. A data directory keeps the mode it was first started with. TLOG_READY_SECONDS (180) bounds each service's
# wait for readiness.
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
data=${TLOG_DATA_DIR:-$root/.data}
PG_PORT=${PG_PORT:-54329}
REKOR_PORT=${REKOR_PORT:-3000}
FULCIO_PORT=${FULCIO_PORT:-5555}
FULCIO_GRPC_PORT=${FULCIO_GRPC_PORT:-5554}
OIDC_PORT=${OIDC_PORT:-5556}
REGISTRY_PORT=${REGISTRY_PORT:-5100}
ADMISSION_PORT=${ADMISSION_PORT:-8443}
WITNESS_PORT=${WITNESS_PORT:-5560}
# The CT log's name (its checkpoint origin). A log never changes its key, so a CT key rotation is a new name with a
# new key (delete .data/keys/ct-key.pem): docs/rotation.md.
CT_LOG_NAME=${CT_LOG_NAME:-127.0.0.1:$REKOR_PORT/ct}
config=${CONFIGURATION:-Release}
pids=$data/pids
mkdir -p "$data" "$pids" "$data/logs" "$data/keys"

stop_services() {
  local f pid
  # A foreground run.sh is stopped too (its own trap then finds nothing left to stop); never this script itself.
  for f in "$pids"/*.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    [[ $pid == "$$" ]] || kill "$pid" 2>/dev/null || true
  done
  sleep 0.5
  for f in "$pids"/*.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    [[ $pid == "$$" ]] || kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
  scripts/pg.sh stop "$data/pg"
}

if [[ ${1:-} == stop ]]; then
  stop_services
  echo "stopped"
  exit 0
fi

background=false
[[ ${1:-} == --background ]] && background=true

# A second start while the system runs (or is starting) changes nothing: its pid files would replace the running
# ones and ./run.sh stop could no longer find them.
for f in "$pids"/*.pid; do
  [[ -f $f ]] || continue
  if kill -0 "$(cat "$f")" 2>/dev/null; then
    echo "==> already running ($(basename "$f" .pid) has pid $(cat "$f")); endpoints in ${data#$root/}/endpoints.env; ./run.sh stop stops it"
    exit 0
  fi
  rm -f "$f"
done
echo $$ >"$pids/run.pid"

# Ctrl-C (or a failure) during start-up stops whatever was already started.
started=true
trap 'echo; echo "==> interrupted; stopping what was started"; started=false; stop_services; exit 130' INT TERM
trap 'status=$?; if ((status != 0)) && $started; then stop_services >/dev/null 2>&1 || true; fi; rm -f "$pids/run.pid"' EXIT

command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
scripts/registry.sh ensure-binaries

# Where the signing keys live. Switching an existing data directory would give its logs new keys, so it is refused.
keys_mode=${TLOG_KEYS:-files}
[[ $keys_mode == files || $keys_mode == pkcs11 ]] || { echo "error: TLOG_KEYS must be files or pkcs11, not '$keys_mode'" >&2; exit 2; }
previous_mode=files
[[ -f $data/keys-mode ]] && previous_mode=$(cat "$data/keys-mode")
if [[ $previous_mode != "$keys_mode" && -d $data/pg ]]; then
  echo "error: ${data#$root/} was set up with TLOG_KEYS=$previous_mode; use that, or another TLOG_DATA_DIR for $keys_mode" >&2
  exit 2
fi
echo "$keys_mode" >"$data/keys-mode"
ca_roots=$data/keys/ca/ca-chain.pem
log_keys=() ca_keys=(Issuance__Backend=Ephemeral Issuance__Development__StateDirectory="$data/keys/ca")
if [[ $keys_mode == pkcs11 ]]; then
  scripts/hsm.sh ensure-binaries
  hsm=$data/hsm
  echo "==> keys in a SoftHSM2 token (${hsm#$root/})"
  scripts/hsm.sh init "$hsm"
  export SOFTHSM2_CONF=$hsm/softhsm2.conf
  ca_roots=$hsm/ca-chain.pem
  log_keys=(
    Logs__Rekor__PrivateKeyPath="$(scripts/hsm.sh uri "$hsm" log-key)"
    Logs__RekorV2__PrivateKeyPath="$(scripts/hsm.sh uri "$hsm" log-v2-key)"
    Logs__Ct__PrivateKeyPath="$(scripts/hsm.sh uri "$hsm" ct-key)"
    Timestamping__Backend=file
    Timestamping__CertificateChainPath="$hsm/tsa-chain.pem"
    Timestamping__PrivateKeyPath="$(scripts/hsm.sh uri "$hsm" tsa-key)"
  )
  ca_keys=(
    Issuance__Backend=File
    Issuance__ChainPath="$hsm/ca-chain.pem"
    Issuance__PrivateKeyPath="$(scripts/hsm.sh uri "$hsm" ca-key)"
  )
fi

echo "==> PostgreSQL on 127.0.0.1:$PG_PORT (data in .data/pg)"
scripts/pg.sh start "$data/pg" "$PG_PORT"
# Password authentication only (scripts/pg.sh): the superuser's password was generated with the cluster; the
# service role's is generated here once and kept beside the keys, both readable only by their owner.
pg_password_file=$data/pg/superuser-password
app_password_file=$data/keys/pg-app-password
[[ -s $app_password_file ]] || (umask 077; od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$app_password_file")
admin="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=transparency_log"
if ! scripts/pg.sh psql "$data/pg" "$PG_PORT" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'transparency_log'" | grep -q 1; then
  scripts/pg.sh psql "$data/pg" "$PG_PORT" -d postgres -c "CREATE DATABASE transparency_log"
fi

if [[ ${TLOG_SKIP_BUILD:-} != 1 ]]; then
  echo "==> building ($config; the first build restores packages and takes a few minutes)"
  # One line per project as it is built, errors in full.
  dotnet build TransparencyLog.sln -c "$config" -nologo -v minimal -clp:NoSummary
fi
bin() { echo "$root/src/$1/bin/$config/net10.0/$1.dll"; }

echo "==> migrations"
dotnet "$(bin TransparencyLog.LogService)" migrate --connection "$admin" --password-file "$pg_password_file" \
  --app-role tlog_app --app-password-file "$app_password_file" --migrations "$root/migrations"
# Eight connections per service process: more make PostgreSQL's backends compete for the same cores (on 2 cores, 50
# connections served 5,248 proof reads/s at 179 µs of PostgreSQL CPU each, 8 served 6,706/s at 97 µs; docs/benchmarks.md).
app_connection="Host=127.0.0.1;Port=$PG_PORT;Username=tlog_app;Database=transparency_log;Maximum Pool Size=8"

start() {
  local name=$1; shift
  "$@" >"$data/logs/$name.log" 2>&1 &
  echo $! >"$pids/$name.pid"
}

# Each service gets TLOG_READY_SECONDS (180) to answer its readiness check: on a loaded machine (load average 100 on
# two cores) a start has taken over a minute. A service that exits fails at once.
wait_healthy() {
  local name=$1 url=$2 deadline=$((SECONDS + ${TLOG_READY_SECONDS:-180}))
  while ((SECONDS < deadline)); do
    if curl -fsS "${@:3}" "$url" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$(cat "$pids/$name.pid")" 2>/dev/null; then
      echo "error: $name exited; last lines of .data/logs/$name.log:" >&2
      tail -n 30 "$data/logs/$name.log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "error: $name did not become healthy at $url" >&2
  return 1
}

# The TUF repository's keys (root, targets: offline roles, here one development key each; online: snapshot and
# timestamp) and the admin token tlog tuf publish presents; development only. With TLOG_KEYS=pkcs11 the three keys
# are in the token (pkcs11: URIs) and only their public halves are files.
tuf_keys="$data/keys/tuf"
tlog_dll="$root/src/TransparencyLog.Cli/bin/$config/net10.0/tlog.dll"
mkdir -p "$tuf_keys" && chmod 700 "$tuf_keys"
if [[ $keys_mode == pkcs11 ]]; then
  for role in root targets online; do
    scripts/hsm.sh pubkey "$hsm" "tuf-$role-key" "$tuf_keys/$role.pub"
  done
  tuf_root_key=$(scripts/hsm.sh uri "$hsm" tuf-root-key)
  tuf_targets_key=$(scripts/hsm.sh uri "$hsm" tuf-targets-key)
  tuf_online_key=$(scripts/hsm.sh uri "$hsm" tuf-online-key)
else
  for role in root targets online; do
    [[ -f $tuf_keys/$role.pem ]] || dotnet "$tlog_dll" tuf generate-key --out "$tuf_keys/$role" >/dev/null
  done
  tuf_root_key=$tuf_keys/root.pem
  tuf_targets_key=$tuf_keys/targets.pem
  tuf_online_key=$tuf_keys/online.pem
fi
[[ -f $tuf_keys/admin-token ]] || (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tuf_keys/admin-token")

# The witness's key exists before either service starts, so the log's policy can name it; the name is fixed (part of
# the key ID). The witness itself starts once the logs' keys are known.
witness_name=localhost/witness
witness_vkey=$(Witness__Name=$witness_name Witness__StateDirectory="$data/keys/witness" dotnet "$(bin TransparencyLog.Witness)" verifier-key)
witness_policy=$data/witness-policy.txt
printf '# Written by ./run.sh: the log asks this witness to cosign its checkpoints.\nwitness local %s http://127.0.0.1:%s/\nquorum local\n' \
  "$witness_vkey" "$WITNESS_PORT" >"$witness_policy"

echo "==> log service on http://127.0.0.1:$REKOR_PORT"
Tuf__Enabled=true \
Tuf__OnlineKeyPath="$tuf_online_key" \
Tuf__AdminTokenFile="$tuf_keys/admin-token" \
Tuf__SigningConfigLeadSeconds=0 \
Storage__ConnectionString="$app_connection" \
Storage__PasswordFile="$app_password_file" \
Logs__Rekor__Name="127.0.0.1:$REKOR_PORT" \
Logs__Rekor__StateDirectory="$data/keys" \
Timestamping__Development__StateDirectory="$data/keys/tsa" \
Logs__Ct__Enabled=true \
Logs__Ct__Name="$CT_LOG_NAME" \
Logs__Ct__StateDirectory="$data/keys" \
CertificateTransparency__RootsPath="$ca_roots" \
Logs__RekorV2__Enabled=true \
Logs__RekorV2__Name="localhost:$REKOR_PORT" \
Logs__RekorV2__StateDirectory="$data/keys" \
Witnessing__PolicyFile="$witness_policy" \
Witnessing__Mode=FailOpen \
Urls="http://127.0.0.1:$REKOR_PORT" \
start log env "${log_keys[@]}" dotnet "$(bin TransparencyLog.LogService)" --contentRoot "$root/src/TransparencyLog.LogService"
wait_healthy log "http://127.0.0.1:$REKOR_PORT/readyz" || { started=false; stop_services; exit 1; }

vkey=$(curl -fsS "http://127.0.0.1:$REKOR_PORT/api/v1/log/verifierKey")
# The CA verifies every SCT it embeds with the CT log's key.
curl -fsS "http://127.0.0.1:$REKOR_PORT/ct/v1/public-key" >"$data/keys/ct-public.pem"

echo "==> witness on http://127.0.0.1:$WITNESS_PORT (cosigns the Rekor v1, Rekor v2 and CT logs' checkpoints)"
# Each log's origin is its checkpoint's first line. The CT log's note key is ECDSA: its C2SP verifier key is
# name+hex(SHA-256(SPKI)[:4])+base64(0x02 || SPKI).
v1_origin=$(curl -fsS "http://127.0.0.1:$REKOR_PORT/checkpoint" | head -n 1)
v2_origin=$(curl -fsS "http://localhost:$REKOR_PORT/api/v2/checkpoint" | head -n 1)
v2_vkey=$(curl -fsS "http://localhost:$REKOR_PORT/api/v2/log/verifierKey")
ct_origin=$(curl -fsS "http://127.0.0.1:$REKOR_PORT/ct/checkpoint" | head -n 1)
ct_der() { openssl pkey -pubin -in "$data/keys/ct-public.pem" -outform DER; }
ct_vkey="$ct_origin+$(ct_der | sha256sum | cut -c1-8)+$({ printf '\002'; ct_der; } | base64 -w0)"
Witness__Name=$witness_name \
Witness__StateDirectory="$data/keys/witness" \
Witness__Logs__0__Origin="$v1_origin" Witness__Logs__0__VerifierKeys__0="$vkey" \
Witness__Logs__1__Origin="$v2_origin" Witness__Logs__1__VerifierKeys__0="$v2_vkey" \
Witness__Logs__2__Origin="$ct_origin" Witness__Logs__2__VerifierKeys__0="$ct_vkey" \
Storage__ConnectionString="$app_connection" \
Storage__PasswordFile="$app_password_file" \
Urls="http://127.0.0.1:$WITNESS_PORT" \
start witness dotnet "$(bin TransparencyLog.Witness)" --contentRoot "$root/src/TransparencyLog.Witness"
wait_healthy witness "http://127.0.0.1:$WITNESS_PORT/readyz" || { started=false; stop_services; exit 1; }

echo "==> development OIDC issuer on http://127.0.0.1:$OIDC_PORT (not for production)"
DevIssuer__Url="http://127.0.0.1:$OIDC_PORT" \
DevIssuer__StateDirectory="$data/keys" \
start oidc dotnet "$(bin TransparencyLog.DevIssuer)" --contentRoot "$root/src/TransparencyLog.DevIssuer"
wait_healthy oidc "http://127.0.0.1:$OIDC_PORT/readyz" || { started=false; stop_services; exit 1; }

echo "==> CA on http://127.0.0.1:$FULCIO_PORT (gRPC 127.0.0.1:$FULCIO_GRPC_PORT)"
Api__RestUrl="http://127.0.0.1:$FULCIO_PORT" \
Api__GrpcUrl="http://127.0.0.1:$FULCIO_GRPC_PORT" \
Issuance__CtLogUrl="http://127.0.0.1:$REKOR_PORT" \
Issuance__CtLogPublicKeyPath="$data/keys/ct-public.pem" \
Identity__Issuers__0__IssuerUrl="http://127.0.0.1:$OIDC_PORT" \
Identity__Issuers__0__Type=email \
Identity__Issuers__0__Description="development issuer started by run.sh" \
start ca env "${ca_keys[@]}" dotnet "$(bin TransparencyLog.CaService)" --contentRoot "$root/src/TransparencyLog.CaService"
wait_healthy ca "http://127.0.0.1:$FULCIO_PORT/readyz" || { started=false; stop_services; exit 1; }

echo "==> OCI registry on 127.0.0.1:$REGISTRY_PORT (storage in .data/registry)"
scripts/registry.sh config "$data/registry" "$REGISTRY_PORT"
# GOGC=400: the registry's live heap is about 2 MB, so Go's default (a collection each time the heap doubles) ran 1.5
# collections per signed image, each with mark workers on the otherwise idle core (docs/benchmarks.md, issue 8).
start registry env GOGC=400 docker-registry serve "$data/registry/config.yml"
wait_healthy registry "http://127.0.0.1:$REGISTRY_PORT/v2/" || { stop_services; exit 1; }

tlog="dotnet $root/src/TransparencyLog.Cli/bin/$config/net10.0/tlog.dll"
echo "==> trusted root"
# The v2 log is reached as localhost: its checkpoints are signed as localhost:$REKOR_PORT (see docs/rekor-v2.md).
# A restart merges with the trusted root of the previous start: unchanged keys and chains keep their validFor.start,
# so bundles signed before the restart keep verifying; a key or chain that changed between starts closes the old
# entry (validFor.end = this start) and appends the new one (docs/rotation.md).
merge=()
[[ -s $data/trusted_root.json ]] && merge=(--merge "$data/trusted_root.json")
$tlog trusted-root create "${merge[@]}" --ca-url "http://127.0.0.1:$FULCIO_PORT" --rekor-url "http://127.0.0.1:$REKOR_PORT" \
  --rekor-v2-url "http://localhost:$REKOR_PORT" \
  --ct-log-key "$data/keys/ct-public.pem" --ct-log-url "http://127.0.0.1:$REKOR_PORT/ct" \
  --tsa-url "http://127.0.0.1:$REKOR_PORT" --oidc-url "http://127.0.0.1:$OIDC_PORT" \
  --out "$data/trusted_root.json" --signing-config "$data/signing_config.json" >/dev/null
echo "==> admission webhook on https://127.0.0.1:$ADMISSION_PORT (policies in .data/admission/policies)"
scripts/admission-cert.sh "$data/admission"
mkdir -p "$data/admission/policies"
Admission__Url="https://127.0.0.1:$ADMISSION_PORT" \
Admission__CertificatePath="$data/admission/tls.crt" \
Admission__KeyPath="$data/admission/tls.key" \
Admission__PoliciesDirectory="$data/admission/policies" \
Admission__TrustedRootPath="$data/trusted_root.json" \
Admission__PullSecretsDirectory="$data/admission/pull-secrets" \
start admission dotnet "$(bin TransparencyLog.Admission)" --contentRoot "$root/src/TransparencyLog.Admission"
wait_healthy admission "https://127.0.0.1:$ADMISSION_PORT/readyz" --cacert "$data/admission/ca.pem" || { started=false; stop_services; exit 1; }
echo "==> TUF repository at http://127.0.0.1:$REKOR_PORT/tuf (development keys in .data/keys/tuf, one per role)"
# The ceremony directory .data/tuf holds what was published; a database without a repository starts it afresh.
ceremony="$data/tuf"
if ! curl -fs -o /dev/null "http://127.0.0.1:$REKOR_PORT/tuf/1.root.json"; then
  rm -rf "$ceremony"
  $tlog tuf init --repo "$ceremony" --root-key "$tuf_keys/root.pub" --targets-key "$tuf_keys/targets.pub" \
    --online-key "$tuf_keys/online.pub" 2>/dev/null >/dev/null
fi
curl -fsS "http://127.0.0.1:$REKOR_PORT/api/v1/log/publicKey" >"$data/keys/rekor-public.pem"
$tlog tuf add-target --repo "$ceremony" --name trusted_root.json --file "$data/trusted_root.json" >/dev/null
$tlog tuf add-target --repo "$ceremony" --name signing_config.v0.2.json --file "$data/signing_config.json" >/dev/null
$tlog tuf add-target --repo "$ceremony" --name rekor.pub --file "$data/keys/rekor-public.pem" --usage Rekor >/dev/null
$tlog tuf add-target --repo "$ceremony" --name ctfe.pub --file "$data/keys/ct-public.pem" --usage CTFE >/dev/null
if [[ -f $ceremony/staged/root.json ]]; then $tlog tuf sign --repo "$ceremony" --role root --key "$tuf_root_key" >/dev/null; fi
if [[ -f $ceremony/staged/targets.json ]]; then $tlog tuf sign --repo "$ceremony" --role targets --key "$tuf_targets_key" >/dev/null; fi
$tlog tuf publish --repo "$ceremony" --server "http://127.0.0.1:$REKOR_PORT" --token-file "$tuf_keys/admin-token" >/dev/null

cat >"$data/endpoints.env" <<ENV
# Written by ./run.sh; source it: . .data/endpoints.env
REKOR_URL=http://127.0.0.1:$REKOR_PORT
REKOR_NOTE_VKEY=$vkey
TSA_URL=http://127.0.0.1:$REKOR_PORT/api/v1/timestamp
REKOR_V2_URL=http://localhost:$REKOR_PORT
CT_LOG_URL=http://127.0.0.1:$REKOR_PORT/ct
TRUSTED_ROOT=$data/trusted_root.json
SIGNING_CONFIG=$data/signing_config.json
FULCIO_URL=http://127.0.0.1:$FULCIO_PORT
FULCIO_GRPC=127.0.0.1:$FULCIO_GRPC_PORT
OIDC_ISSUER=http://127.0.0.1:$OIDC_PORT
DEV_TOKEN_CMD="$tlog dev token --issuer http://127.0.0.1:$OIDC_PORT"
PG_CONNECTION="$app_connection"
PG_PASSWORD_FILE=$app_password_file
REGISTRY=127.0.0.1:$REGISTRY_PORT
EXPLORER_URL=http://127.0.0.1:$REKOR_PORT/explorer
ADMISSION_URL=https://127.0.0.1:$ADMISSION_PORT
ADMISSION_CA_BUNDLE=$data/admission/ca.pem
ADMISSION_POLICIES=$data/admission/policies
TUF_MIRROR=http://127.0.0.1:$REKOR_PORT/tuf
TUF_ROOT_JSON=$ceremony/metadata/1.root.json
WITNESS_URL=http://127.0.0.1:$WITNESS_PORT
WITNESS_VKEY=$witness_vkey
WITNESS_POLICY=$witness_policy
ENV

echo "==> ready; endpoints in .data/endpoints.env"
echo "==> log explorer: http://127.0.0.1:$REKOR_PORT/explorer"
cat "$data/endpoints.env"
if $background; then
  exit 0
fi

trap 'echo; echo "==> stopping"; started=false; stop_services; exit 0' INT TERM
echo "==> running in the foreground; Ctrl-C stops everything"
while true; do
  for f in "$pids"/*.pid; do
    if ! kill -0 "$(cat "$f")" 2>/dev/null; then
      echo "error: $(basename "$f" .pid) exited; see .data/logs/" >&2
      started=false
      stop_services
      exit 1
    fi
  done
  sleep 2
done
