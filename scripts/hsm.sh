#!/usr/bin/env bash
# A SoftHSM2 token holding every signing key of the system, for ./run.sh with TLOG_KEYS=pkcs11 (docs/operations.md).
# Usage: scripts/hsm.sh {ensure-binaries|init DIR|uri DIR KEY|pubkey DIR KEY OUT}
#   ensure-binaries  installs softhsm2 and opensc (pkcs11-tool) with apt-get when they are missing
#   init DIR         once: DIR/softhsm2.conf, a token "tlog" under DIR/tokens with the key pairs ca-key, log-key,
#                    log-v2-key (Ed25519), ct-key and tsa-key made inside the token by pkcs11-tool, the PIN in DIR/pin,
#                    and certificates for the token's CA and TSA public keys: DIR/ca-chain.pem (intermediate, root)
#                    and DIR/tsa-chain.pem (TSA certificate, root), issued by two roots made with openssl whose keys
#                    are deleted once they have signed (development stand-ins for an offline root ceremony)
#                    Also (added to a token made before them): tuf-root-key, tuf-targets-key and tuf-online-key,
#                    the development TUF repository's keys (ECDSA P-256)
#   uri DIR KEY      prints the pkcs11: URI of KEY (PIN from DIR/pin)
#   pubkey DIR KEY OUT  writes KEY's public key as PEM to OUT
# Services need SOFTHSM2_CONF=DIR/softhsm2.conf in their environment.
set -euo pipefail

module=${PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
token=tlog

ensure_binaries() {
  if [[ -f $module ]] && command -v pkcs11-tool >/dev/null 2>&1 && command -v softhsm2-util >/dev/null 2>&1; then return; fi
  echo "SoftHSM2 or pkcs11-tool not found; installing softhsm2 and opensc with apt-get" >&2
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: install the softhsm2 and opensc packages (this user cannot apt-get install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends softhsm2 opensc >/dev/null
  [[ -f $module ]] || { echo "error: $module is missing after installing softhsm2" >&2; exit 1; }
}

uri() { echo "pkcs11:token=$token;object=$2?module-path=$module&pin-source=file:$1/pin"; }

# A certificate for a public key held in the token, signed by ROOT: openssl signs a throwaway request and replaces
# its key with the token's (-force_pubkey), so the private key never leaves the token.
issue() {
  local dir=$1 key=$2 subject=$3 root=$4 extensions=$5 out=$6
  pkcs11-tool --module "$module" --token-label "$token" --read-object --type pubkey --label "$key" -o "$dir/$key.pub.der" >/dev/null
  openssl pkey -pubin -inform DER -in "$dir/$key.pub.der" -out "$dir/$key.pub.pem"
  openssl req -new -key "$dir/$root.key" -subj "$subject" -out "$dir/$key.csr" 2>/dev/null
  printf '%s\n' "[v3]" "$extensions" "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" >"$dir/$key.ext"
  openssl x509 -req -in "$dir/$key.csr" -CA "$dir/$root.pem" -CAkey "$dir/$root.key" -force_pubkey "$dir/$key.pub.pem" \
    -set_serial "0x4$(od -An -tx1 -N15 /dev/urandom | tr -d ' \n')" -days 3650 \
    -extfile "$dir/$key.ext" -extensions v3 -out "$dir/$key.pem" 2>/dev/null
  cat "$dir/$key.pem" "$dir/$root.pem" >"$out"
  rm -f "$dir/$key.csr" "$dir/$key.ext" "$dir/$key.pub.der" "$dir/$key.pem"
}

root() {
  local dir=$1 name=$2 subject=$3
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$name.key" -out "$dir/$name.pem" \
    -subj "$subject" -days 7300 -set_serial "0x4$(od -An -tx1 -N15 /dev/urandom | tr -d ' \n')" \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# The TUF keys, in their own step so a token made before they existed gets them too.
tuf_keys() {
  local dir=$1
  [[ -f $dir/tuf-ready ]] && return
  export SOFTHSM2_CONF=$dir/softhsm2.conf
  local pin id=16 key
  pin=$(cat "$dir/pin")
  for key in tuf-root-key tuf-targets-key tuf-online-key; do
    pkcs11-tool --module "$module" --token-label "$token" --login --pin "$pin" --keypairgen \
      --key-type EC:prime256v1 --label "$key" --id "$(printf '%02x' $id)" >/dev/null
    id=$((id + 1))
  done
  touch "$dir/tuf-ready"
}

pubkey() {
  local dir=$1 key=$2 out=$3
  SOFTHSM2_CONF=$dir/softhsm2.conf pkcs11-tool --module "$module" --token-label "$token" --read-object --type pubkey \
    --label "$key" -o "$out.der" >/dev/null
  openssl pkey -pubin -inform DER -in "$out.der" -out "$out"
  rm -f "$out.der"
}

init() {
  local dir=$1
  [[ -f $dir/ready ]] && { tuf_keys "$dir"; return; }
  rm -rf "$dir"
  mkdir -p "$dir/tokens"
  chmod 700 "$dir"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$dir/tokens" >"$dir/softhsm2.conf"
  export SOFTHSM2_CONF=$dir/softhsm2.conf
  local pin so_pin
  pin=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
  so_pin=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
  (umask 077; echo "$pin" >"$dir/pin")
  softhsm2-util --init-token --free --label "$token" --pin "$pin" --so-pin "$so_pin" >/dev/null
  local id=1 pair
  for pair in ca-key:EC:prime256v1 log-key:EC:prime256v1 log-v2-key:EC:edwards25519 ct-key:EC:prime256v1 tsa-key:EC:prime256v1; do
    pkcs11-tool --module "$module" --token-label "$token" --login --pin "$pin" --keypairgen \
      --key-type "${pair#*:}" --label "${pair%%:*}" --id "$(printf '%02x' $id)" >/dev/null
    id=$((id + 1))
  done

  root "$dir" ca-root "/O=TransparencyLog/CN=TransparencyLog HSM CA Root"
  issue "$dir" ca-key "/O=TransparencyLog/CN=TransparencyLog HSM CA Intermediate" ca-root \
    "$(printf '%s\n' 'basicConstraints = critical, CA:true, pathlen:0' 'keyUsage = critical, keyCertSign, cRLSign' 'extendedKeyUsage = codeSigning')" \
    "$dir/ca-chain.pem"
  root "$dir" tsa-root "/O=TransparencyLog/CN=TransparencyLog HSM TSA Root"
  issue "$dir" tsa-key "/O=TransparencyLog/CN=TransparencyLog HSM TSA" tsa-root \
    "$(printf '%s\n' 'basicConstraints = critical, CA:false' 'keyUsage = critical, digitalSignature' 'extendedKeyUsage = critical, timeStamping')" \
    "$dir/tsa-chain.pem"
  # The roots have signed what they will ever sign here; their keys are not kept.
  rm -f "$dir/ca-root.key" "$dir/tsa-root.key"
  touch "$dir/ready"
  tuf_keys "$dir"
}

case ${1:-} in
  ensure-binaries) ensure_binaries ;;
  init) init "${2:?directory}" ;;
  uri) uri "${2:?directory}" "${3:?key label}" ;;
  pubkey) pubkey "${2:?directory}" "${3:?key label}" "${4:?output file}" ;;
  *) echo "usage: $0 {ensure-binaries|init DIR|uri DIR KEY|pubkey DIR KEY OUT}" >&2; exit 2 ;;
esac
