#!/usr/bin/env bash
# One-shot compose step: GET a PEM document over plain HTTP inside the compose network and write it atomically.
# Usage: fetch-pem.sh http://HOST:PORT/PATH OUT
# The service images have bash but no curl; the compose network is private, so plain HTTP is what the services speak.
set -euo pipefail
url=$1 out=$2
[[ $url =~ ^http://([^/:]+):([0-9]+)(/.*)$ ]] || { echo "fetch-pem: not an http://host:port/path URL: $url" >&2; exit 2; }
host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]} path=${BASH_REMATCH[3]}
for _ in $(seq 1 30); do
  if response=$( (exec 3<>"/dev/tcp/$host/$port" && printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$path" "$host" "$port" >&3 && cat <&3) 2>/dev/null | tr -d '\r'); then
    body=$(sed '1,/^$/d' <<<"$response")
    if [[ $(head -n1 <<<"$response") == *" 200 "* && $body == *"-----BEGIN "* ]]; then
      printf '%s\n' "$body" >"$out.tmp"
      mv "$out.tmp" "$out"
      echo "fetch-pem: wrote $out from $url"
      exit 0
    fi
  fi
  sleep 1
done
echo "fetch-pem: no PEM from $url after 30 attempts" >&2
exit 1
