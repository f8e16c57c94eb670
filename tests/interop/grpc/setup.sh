#!/bin/sh
# Installs the pinned interop client packages (run once before `dotnet test`).
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
