#!/usr/bin/env bash
# Fuzzes the parsers of untrusted bytes with afl++ and SharpFuzz (fuzz/TransparencyLog.Fuzz, one target per parser).
#
#   scripts/fuzz.sh TARGET[,TARGET]|all SECONDS   fuzz each target for SECONDS, print executions and crashes per target
#   scripts/fuzz.sh --list                 the targets
#   scripts/fuzz.sh --seeds                rewrite the seed corpus fuzz/corpus/<target>/ (and fuzz/ct-roots.pem)
#
# Builds the fuzz project into $FUZZ_WORK (default /tmp/tlog-fuzz), instruments the product assemblies there with
# the SharpFuzz tool pinned in .config/dotnet-tools.json (the normal build output is never instrumented), and runs
# afl-fuzz on one core per target, FUZZ_JOBS targets at a time (default 1), starting from fuzz/corpus/<target>/. Findings stay in
# $FUZZ_WORK/findings/<target>/; every crashing input is replayed to show its exception and copied to
# $FUZZ_WORK/crashes/<target>/ (FUZZ_SKIP_BUILD=1 reuses the last build there). Exits 1 if any target crashed (hangs are reported, not failed: a loaded machine
# makes slow inputs look hung; replay one with `--replay` to tell).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${FUZZ_WORK:-/tmp/tlog-fuzz}
project=fuzz/TransparencyLog.Fuzz

build() {
    dotnet tool restore >/dev/null
    if [[ ${FUZZ_SKIP_BUILD:-} == 1 && -f $work/build/TransparencyLog.Fuzz.dll ]]; then
        # Reuse the last build of $work (e.g. a second run on a slow machine); instrument a fresh copy of it.
        rm -rf "$work/bin"
        cp -r "$work/build" "$work/bin"
        instrument
        return
    fi
    rm -rf "$work/build" "$work/bin"
    dotnet build "$project" -c Release -o "$work/build" -nologo -v quiet >"$work/build.log" 2>&1 \
        || { cat "$work/build.log"; exit 1; }
    cp -r "$work/build" "$work/bin"
    instrument
}

instrument() {
    # Only the product's assemblies are instrumented: the harness and the framework stay as they are.
    for assembly in TransparencyLog.Merkle TransparencyLog.Sigstore TransparencyLog.LogService TransparencyLog.CaService TransparencyLog.Policy; do
        dotnet sharpfuzz "$work/bin/$assembly.dll" >>"$work/instrument.log" 2>&1 \
            || { cat "$work/instrument.log"; exit 1; }
    done
}

mkdir -p "$work/findings"
case "${1:-}" in
    --list)
        build
        dotnet "$work/build/TransparencyLog.Fuzz.dll" --list
        exit 0 ;;
    --seeds)
        build
        rm -rf fuzz/corpus
        dotnet "$work/build/TransparencyLog.Fuzz.dll" --seeds fuzz/corpus fuzz/ct-roots.pem
        echo "seed corpus written to fuzz/corpus/"
        exit 0 ;;
    "" | -h | --help)
        sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
        exit 2 ;;
esac

which=$1
seconds=${2:?"usage: scripts/fuzz.sh TARGET|all SECONDS"}
command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 1; }
build
# The instrumented copy runs only under afl-fuzz (its trace map exists only there); listing and replaying crashes use
# the plain build of the same code.
fuzzer=("$(command -v dotnet)" "$work/bin/TransparencyLog.Fuzz.dll")
plain=(dotnet "$work/build/TransparencyLog.Fuzz.dll")
mapfile -t all < <("${plain[@]}" --list | cut -f1)
if [[ $which == all ]]; then
    targets=("${all[@]}")
else
    IFS=, read -ra targets <<<"$which"
    for target in "${targets[@]}"; do
        printf '%s\n' "${all[@]}" | grep -qx -- "$target" || { echo "unknown target $target; targets: ${all[*]}" >&2; exit 2; }
    done
fi

# dotnet is not an afl-instrumented binary (SharpFuzz instruments the IL and speaks the fork-server protocol);
# the machine is shared, so no CPU pinning, and core dumps may go to a handler: afl++ need not wait for them.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_FORKSRV_INIT_TMOUT=60000
export DOTNET_gcServer=0 DOTNET_TieredPGO=0 DOTNET_CLI_TELEMETRY_OPTOUT=1

stat() { sed -n "s/^$1 *: *//p" "$2" 2>/dev/null | head -1; }

# One target: its summary line goes to $work/$target.summary, and $work/$target.failed exists when it crashed or
# afl-fuzz did not start (a target that ends without either failed too).
fuzz_target() {
    local target=$1
    local findings=$work/findings/$target
    rm -rf "$findings" "$work/crashes/$target" "$work/$target.summary" "$work/$target.failed"
    echo "== $target: ${seconds}s"
    # -V: stop after SECONDS; -t: per-execution timeout in ms (generous: the machine is shared); -m none: the CLR
    # reserves far more virtual memory than afl++'s default limit.
    # On a loaded machine afl++ 4.04c sometimes aborts its dry run with "No instrumentation detected" (an empty trace
    # map from a first execution that did run instrumented code; the same build and seeds pass on the next start).
    # That abort, and only that one, is retried twice; any other start failure, or a third abort, fails the run.
    local started=0 attempt
    for attempt in 1 2 3; do
        rm -rf "$findings"
        if afl-fuzz -i "fuzz/corpus/$target" -o "$findings" -V "$seconds" -t 10000 -m none -- "${fuzzer[@]}" "$target" \
            >"$work/$target.afl.log" 2>&1; then
            started=1
            break
        fi
        grep -q "No instrumentation detected" "$work/$target.afl.log" || break
        echo "   afl-fuzz aborted its dry run of $target with an empty trace map (attempt $attempt of 3)"
    done
    if ((!started)); then
        tail -30 "$work/$target.afl.log"
        echo "afl-fuzz failed for $target" >&2
        printf '%-20s %s\n' "$target" 'afl-fuzz did not start (see above)' >"$work/$target.summary"
        touch "$work/$target.failed"
        return
    fi
    local stats=$findings/default/fuzzer_stats execs crashes hangs paths
    execs=$(stat execs_done "$stats")
    crashes=$(stat saved_crashes "$stats"); crashes=${crashes:-$(stat unique_crashes "$stats")}
    hangs=$(stat saved_hangs "$stats"); hangs=${hangs:-$(stat unique_hangs "$stats")}
    paths=$(stat corpus_count "$stats"); paths=${paths:-$(stat paths_total "$stats")}
    if [[ ${crashes:-0} != 0 ]]; then
        touch "$work/$target.failed"
        mkdir -p "$work/crashes/$target"
        cp "$findings"/default/crashes/id:* "$work/crashes/$target/"
        "${plain[@]}" --replay "$target" "$work/crashes/$target"/id:* | grep -A3 CRASH | head -40 || true
    fi
    printf '%-20s %8s s %12s execs %8s corpus %6s crashes %6s hangs\n' "$target" "$seconds" "${execs:-0}" "${paths:-0}" "${crashes:-0}" "${hangs:-0}" \
        >"$work/$target.summary"
}

# FUZZ_JOBS targets at a time (default 1), each afl-fuzz on one core: CI runs as many as the machine has cores.
parallel=${FUZZ_JOBS:-1}
[[ $parallel =~ ^[1-9][0-9]*$ ]] || { echo "FUZZ_JOBS must be a positive number, not '$parallel'" >&2; exit 2; }
for target in "${targets[@]}"; do
    while (($(jobs -rp | wc -l) >= parallel)); do
        wait -n || true
    done
    fuzz_target "$target" &
done
wait

summary=()
failed=0
for target in "${targets[@]}"; do
    if [[ -f $work/$target.summary ]]; then
        summary+=("$(cat "$work/$target.summary")")
    else
        summary+=("$(printf '%-20s %s' "$target" 'ended without a result (see above)')")
        failed=1
    fi
    [[ ! -f $work/$target.failed ]] || failed=1
done

echo
echo "target               time            executions    corpus   crashes   hangs"
printf '%s\n' "${summary[@]}"
if ((failed)); then
    echo "fuzz: FAILED (a target crashed, inputs under $work/crashes/, or afl-fuzz did not start)"
    exit 1
fi
echo "fuzz: no crashes"
cd "$root"
