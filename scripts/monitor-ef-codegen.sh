#!/usr/bin/env bash
# Generates src/TransparencyLog.Cli/Monitoring/Compiled/: EF Core's compiled model and precompiled queries for the
# monitor's state database (`tlog monitor --state-db`), which the Native AOT tlog needs (a query that is not
# precompiled fails at run time under Native AOT). Run it after changing MonitorDbContext, its entities or a query in
# DatabaseMonitorStore; commit what it writes.
#
#   scripts/monitor-ef-codegen.sh           regenerate Monitoring/Compiled/
#   scripts/monitor-ef-codegen.sh --check   regenerate into a temporary directory and fail if it differs (./test.sh)
#
# Needs the dotnet-ef tool of .config/dotnet-tools.json (`dotnet tool restore`, done here) at the version of
# Microsoft.EntityFrameworkCore.Design in Directory.Packages.props.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
project=src/TransparencyLog.Cli
target=$project/Monitoring/Compiled

mode=write
case ${1:-} in
  "") ;;
  --check) mode=check ;;
  -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "error: unknown option '$1' (--check or nothing)" >&2; exit 2 ;;
esac

dotnet tool restore >/dev/null

# The design-time build: TlogEfDesign=true adds the Design package and MonitorDbContextDesignFactory and leaves the
# generated code out (it may be stale or broken); an environment variable, so the precompiler's own load of the project
# (Roslyn's MSBuild workspace) sees it too. dotnet ef runs this build's output, so it is built here, not by dotnet ef.
export TlogEfDesign=true
dotnet build "$project" -c Debug -nologo -v quiet -clp:ErrorsOnly
# Query precompilation opens the project through Roslyn's MSBuild build host, a content folder of
# Microsoft.CodeAnalysis.Workspaces.MSBuild that NuGet does not copy when the package comes through the Design package.
out=$project/bin/Debug/net10.0
if [[ ! -d $out/BuildHost-netcore ]]; then
  packages=$(dotnet nuget locals global-packages -l | sed 's/^global-packages: *//')
  version=$(grep -o '"Microsoft.CodeAnalysis.Workspaces.MSBuild/[^"]*"' "$project/obj/project.assets.json" | head -n 1 | sed 's/.*\///; s/"//')
  host=$packages/microsoft.codeanalysis.workspaces.msbuild/$version/contentFiles/any/any/BuildHost-netcore
  [[ -d $host ]] || { echo "error: Roslyn's MSBuild build host is not in $host" >&2; exit 1; }
  cp -r "$host" "$out/"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$project" && dotnet tool run dotnet-ef dbcontext optimize --no-build --precompile-queries --nativeaot \
  --output-dir "$tmp/Compiled" --namespace TransparencyLog.Cli.Monitoring.Compiled) >"$tmp/ef.log" 2>&1; then
  cat "$tmp/ef.log" >&2
  echo "error: dotnet ef dbcontext optimize failed (a query the precompiler cannot translate? see docs/monitoring.md)" >&2
  exit 1
fi

# Fix-ups of what EF Core 10.0.15 writes, so that it builds anywhere with the repository's strict settings:
# - [InterceptsLocation] names the intercepted file by its absolute path; the compiler resolves a path relative to the
#   generated file the same way, wherever the repository is checked out (a wrong one is error CS9139);
# - that path form of the attribute is warning CS9270 (deprecated), the code names the obsolete
#   CommandSource.BulkUpdate (CS0618), and uses `?` annotations without a #nullable directive (CS8669): the
#   interceptors file gets the pragma and `#nullable enable annotations`;
# - a no-tracking query's key variable is named after the entity's full type name (dots and all), which is no C#
#   identifier: it gets the entity's short name, as EF Core names the others.
for file in "$tmp"/Compiled/*.cs; do
  sed -i -e "s#\[InterceptsLocation(@\"$root/$project/Monitoring/#[InterceptsLocation(@\"../#" \
    -e 's/\btransparencyLog\.Cli\.Monitoring\.\([A-Za-z0-9]*\)PrimaryKeyProperties\b/\l\1PrimaryKeyProperties/g' \
    -e 's|^#pragma warning disable EF9100.*|#pragma warning disable EF9100, CS0618, CS9270 // experimental; the generated code names CommandSource.BulkUpdate and the path form of InterceptsLocation\n#nullable enable annotations|' \
    "$file"
done
if grep -l "InterceptsLocation(@\"/" "$tmp"/Compiled/*.cs >&2; then
  echo "error: an intercepted query is outside $project/Monitoring/: extend the path fix-up above" >&2
  exit 1
fi
grep -q "InterceptsLocation" "$tmp"/Compiled/*.cs || { echo "error: no precompiled query was generated" >&2; exit 1; }

if [[ $mode == check ]]; then
  # The compiled model gets a new random modelId on every run; nothing else may differ.
  if ! diff -r -I 'modelId: new Guid("' "$target" "$tmp/Compiled" >"$tmp/diff.txt"; then
    head -n 40 "$tmp/diff.txt" >&2
    echo "error: $target is stale: run scripts/monitor-ef-codegen.sh and commit the result" >&2
    exit 1
  fi
  echo "$target is current"
else
  rm -rf "$target"
  cp -r "$tmp/Compiled" "$target"
  echo "wrote $target"
fi
