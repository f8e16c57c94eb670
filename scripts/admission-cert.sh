#!/usr/bin/env bash
# The admission webhook's serving certificate for loopback: a private CA and a leaf for 127.0.0.1/localhost.
# Usage: scripts/admission-cert.sh DIR [EXTRA_DNS_NAME...]   writes DIR/ca.pem (the caBundle), DIR/tls.crt, DIR/tls.key
# Kept when present and valid for another day, so a restart does not change the CA clients already trust.
set -euo pipefail
dir=$1; shift
mkdir -p "$dir"
if [[ -f $dir/tls.crt && -f $dir/tls.key && -f $dir/ca.pem ]] && openssl x509 -checkend 86400 -noout -in "$dir/tls.crt" >/dev/null; then
  exit 0
fi
umask 077
san="IP:127.0.0.1,IP:::1,DNS:localhost"
for name in "$@"; do san="$san,DNS:$name"; done
openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" 2>/dev/null
openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 365 -subj "/O=TransparencyLog/CN=admission webhook CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.pem" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$dir/tls.ec.key" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$dir/tls.ec.key" -out "$dir/tls.key"
rm -f "$dir/tls.ec.key"
openssl req -new -key "$dir/tls.key" -subj "/O=TransparencyLog/CN=admission webhook" -out "$dir/tls.csr" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n' "$san" >"$dir/tls.ext"
openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -sha256 -days 90 \
  -extfile "$dir/tls.ext" -out "$dir/tls.crt" 2>/dev/null
rm -f "$dir/tls.csr" "$dir/tls.ext" "$dir/ca.srl"
chmod 644 "$dir/ca.pem" "$dir/tls.crt"
