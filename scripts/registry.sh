#!/usr/bin/env bash
# A local OCI registry (Debian's docker-registry: the CNCF distribution registry) on loopback.
# Usage: scripts/registry.sh {ensure-binaries|config DIR PORT [HTPASSWD]}
#   ensure-binaries   installs docker-registry with apt-get when it is missing (as scripts/pg.sh does for PostgreSQL)
#   config            writes DIR/config.yml: storage under DIR/storage, listening on 127.0.0.1:PORT, optional htpasswd auth;
#                     then run: docker-registry serve DIR/config.yml
set -euo pipefail

ensure_binaries() {
  if command -v docker-registry >/dev/null 2>&1; then return; fi
  echo "docker-registry not found; installing it with apt-get" >&2
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: docker-registry is missing and this user cannot apt-get install it (install the docker-registry package)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
  command -v docker-registry >/dev/null || { echo "error: docker-registry installation failed" >&2; exit 1; }
}

write_config() {
  local dir=$1 port=$2 htpasswd=${3:-}
  mkdir -p "$dir/storage"
  {
    echo "version: 0.1"
    echo "log: {level: warn, accesslog: {disabled: true}}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: \"$dir/storage\"}"
    echo "  delete: {enabled: true}"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    if [[ -n $htpasswd ]]; then
      echo "auth:"
      echo "  htpasswd: {realm: tlog-registry, path: \"$htpasswd\"}"
    fi
  } >"$dir/config.yml"
}

case ${1:-} in
  ensure-binaries) ensure_binaries ;;
  config) shift; write_config "$@" ;;
  *) echo "usage: $0 {ensure-binaries|config DIR PORT [HTPASSWD]}" >&2; exit 2 ;;
esac
