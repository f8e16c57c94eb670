#!/usr/bin/env bash
# PostgreSQL's CPU per appended entry in the append path alone, before and after a migration (issue 13): no service,
# no HTTP. Starts a private cluster (fsync on, pg_stat_statements with track = all, track_functions = all), records
# valid batches once (bodies shaped like hashedrekord entries, three search keys each, the tiles the batch changes,
# a checkpoint naming the new size), then replays the same batches into fresh databases migrated up to (not
# including) migration BEFORE and with every migration, alternating A/B, one transaction per batch as the sequencer
# sends it: head lock, duplicate lookup, log_append, COMMIT.
#
# Usage: bench/run-append-cost.sh [--before 0011] [--batches 16,64,256] [--entries 6400] [--rounds 2] [--keep]
# Prints per run: the backend's CPU time per entry (utime + stime from /proc; the replay's own reads of the recorded
# batches are included and equal on both sides), log_append's time per entry (track_functions) and the time of its
# main statements (pg_stat_statements; wall time, so inflated on a busy machine), WAL bytes per entry, load average.
# Then the per-batch calls 0011 changed, alone: the head lock and the checkpoint check as 0003 made them (SQL
# functions with SET, planned again in every transaction) and as the current migrations do, 5,000 transactions each
# in one backend, alternating, --rounds times (wall µs per transaction; compare within a round).
# It measures; it is not a test and exits 0 whatever the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

before=0011 batches=16,64,256 entries=6400 rounds=2 keep=false
while [[ $# -gt 0 ]]; do
  case $1 in
    --before) before=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --entries) entries=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $before =~ ^[0-9]{4}$ ]] || { echo "error: --before needs a four-digit migration number" >&2; exit 2; }
[[ $entries =~ ^[0-9]+$ && $rounds =~ ^[0-9]+$ && $batches =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "error: numbers expected" >&2; exit 2; }

work=$(mktemp -d /tmp/tlog-append-cost.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  scripts/pg.sh stop "$work/pg" || true
  if [[ $keep == true ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> private PostgreSQL on 127.0.0.1:$port in $work/pg (pg_stat_statements, track_functions = all)"
scripts/pg.sh start "$work/pg" "$port"
cat >>"$work/pg/data/postgresql.conf" <<'CONF'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
track_functions = all
CONF
scripts/pg.sh stop "$work/pg"
scripts/pg.sh start "$work/pg" "$port"
psql_db() { local db=$1; shift; scripts/pg.sh psql "$work/pg" "$port" -d "$db" "$@"; }

rec_columns="ns bigint, idxs bigint[], bodies bytea[], kinds text[], apis text[], sigs bytea[], extras bytea[],
  tl smallint[], ti bigint[], th bytea[], keys text[], kidx bigint[], root bytea, cp text, leaves bytea"

# migrate DB SIDE: the repository's migrations, all of them (after) or those numbered below --before (before).
migrate() {
  local db=$1 side=$2 f
  psql_db postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
  for f in "$root"/migrations/*.sql; do
    if [[ $side == before && ! $(basename "$f") < $before ]]; then continue; fi
    psql_db "$db" -f "$f" >/dev/null
  done
  psql_db "$db" -c "CREATE EXTENSION pg_stat_statements" -c "CREATE SCHEMA bench" -c "CREATE TABLE bench.rec ($rec_columns)" >/dev/null
  psql_db "$db" -c "SELECT log_create('replay', 'rekor-v1', 1, '\\x01'::bytea, E'replay - 1\\n0\\n' || encode(sha256(''::bytea), 'base64') || E'\\n\\n— bench\\n', '2026-01-01')" >/dev/null
}

# record B: batches of B entries from size 0 to --entries, written through log_append in a scratch database and kept
# as arguments in $work/rec-B.copy (valid for a log named "replay" of any database at the same migrations).
record() {
  local b=$1
  migrate rec before
  psql_db rec -q >/dev/null <<'SQL'
CREATE FUNCTION bench.record(n integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  lg public.logs%ROWTYPE; s bigint; ns bigint; bodies bytea[]; idxs bigint[]; sigs bytea[]; leaves bytea;
  lvl int; oldn bigint; newn bigint; t bigint; j bigint; nodes bytea; base bytea; h bytea; lower bytea;
  tl smallint[] := '{}'; ti bigint[] := '{}'; th bytea[] := '{}'; keys text[]; kidx bigint[]; root bytea; cp text;
BEGIN
  SELECT * INTO lg FROM public.logs WHERE name = 'replay';
  s := lg.tree_size; ns := s + n;
  -- hashedrekord-shaped bodies (~560 bytes, as the log benchmark's), 64 signing keys
  SELECT array_agg(s + g ORDER BY g), array_agg(convert_to('{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"'
           || md5(random()::text) || md5(random()::text) || '"}},"signature":{"content":"' || repeat(md5(random()::text), 3)
           || '","publicKey":{"content":"' || repeat(md5((g % 64)::text), 8) || '"}}}}', 'UTF8') ORDER BY g)
    INTO idxs, bodies FROM generate_series(0, n - 1) g;
  sigs := ARRAY(SELECT sha256(b) || sha256(b) || substring(sha256(b) FOR 8) FROM unnest(bodies) b);
  SELECT string_agg(sha256('\x00'::bytea || b), ''::bytea ORDER BY o) INTO leaves FROM unnest(bodies) WITH ORDINALITY u(b, o);
  -- the tiles this batch changes: level 0 from the leaves, each level above from the roots of the tiles that filled
  CREATE TEMP TABLE IF NOT EXISTS built (level int, idx bigint, hashes bytea) ON COMMIT DROP;
  nodes := leaves; lvl := 0;
  WHILE lvl <= 7 AND (ns >> (8 * lvl)) > 0 LOOP
    oldn := s >> (8 * lvl); newn := ns >> (8 * lvl);
    IF lvl > 0 THEN
      nodes := ''::bytea;
      FOR j IN oldn .. newn - 1 LOOP
        SELECT hashes INTO lower FROM built WHERE level = lvl - 1 AND idx = j;
        IF lower IS NULL THEN
          SELECT hashes INTO lower FROM public.tiles WHERE log_id = lg.id AND level = lvl - 1 AND idx = j;
        END IF;
        nodes := nodes || public.tile_root(lower);
      END LOOP;
    END IF;
    IF newn > oldn THEN
      FOR t IN oldn / 256 .. (newn - 1) / 256 LOOP
        base := ''::bytea;
        IF t = oldn / 256 AND oldn % 256 <> 0 THEN
          SELECT hashes INTO base FROM public.tiles WHERE log_id = lg.id AND level = lvl AND idx = t;
        END IF;
        h := base || substring(nodes FROM ((greatest(oldn, t * 256) - oldn) * 32 + 1)::int
                                  FOR ((least(newn, t * 256 + 256) - greatest(oldn, t * 256)) * 32)::int);
        INSERT INTO built VALUES (lvl, t, h);
        tl := tl || lvl::smallint; ti := ti || t; th := th || h;
      END LOOP;
    END IF;
    lvl := lvl + 1;
  END LOOP;
  -- three search keys per entry: artifact digest (unique), key fingerprint and identity (64 of each)
  SELECT array_agg(k ORDER BY o), array_agg(i ORDER BY o) INTO keys, kidx FROM (
    SELECT 'sha256:' || encode(sha256(b), 'hex') k, s + o - 1 i, o * 3 o FROM unnest(bodies) WITH ORDINALITY u(b, o)
    UNION ALL SELECT 'key:' || ((s + o) % 64), s + o - 1, o * 3 + 1 FROM unnest(bodies) WITH ORDINALITY u(b, o)
    UNION ALL SELECT 'email:signer-' || ((s + o) % 64) || '@bench.example', s + o - 1, o * 3 + 2 FROM unnest(bodies) WITH ORDINALITY u(b, o)) q;
  -- the database does not check that the root is the tiles' root (fsck does), so any 32 bytes named by the checkpoint do
  root := sha256(leaves || int8send(ns));
  cp := public.log_origin(lg.kind, lg.name, lg.tree_id) || E'\n' || ns || E'\n' || encode(root, 'base64') || E'\n\n— bench\n';
  INSERT INTO bench.rec VALUES (ns, idxs, bodies, array_fill('hashedrekord'::text, ARRAY[n]), array_fill('0.0.1'::text, ARRAY[n]),
    sigs, array_fill(NULL::bytea, ARRAY[n]), tl, ti, th, keys, kidx, root, cp, leaves);
  RETURN public.log_append(lg.id, idxs, bodies, array_fill('hashedrekord'::text, ARRAY[n]), array_fill('0.0.1'::text, ARRAY[n]),
    sigs, array_fill(NULL::bytea, ARRAY[n]), 1700000000, tl, ti, th, keys, kidx, root, cp, '2026-01-01');
END $$;
SQL
  for ((i = 0; i < entries / b; i++)); do echo "SELECT bench.record($b);"; done | psql_db rec -q >/dev/null
  psql_db rec -c "\\copy bench.rec TO '$work/rec-$b.copy'"
}

# replay SIDE B: a fresh database, the recorded batches of B one transaction each; prints one line.
replay() {
  local side=$1 b=$2 db=replay_$1 k n sql=$work/replay.sql c0 c1
  migrate "$db" "$side"
  psql_db "$db" -c "\\copy bench.rec FROM '$work/rec-$b.copy'" -c "VACUUM ANALYZE" >/dev/null
  k=$(psql_db "$db" -Atc "SELECT count(*) FROM bench.rec"); n=$((k * b))
  {
    echo "SELECT pg_stat_statements_reset(); SELECT pg_stat_reset();"
    echo "SELECT pg_backend_pid() AS pid \\gset"
    echo "\\setenv BENCH_PID :pid"
    echo "\\! awk '{print \"cpu0\", \$14 + \$15}' /proc/\$BENCH_PID/stat"
    for ((i = 0; i < k; i++)); do
      cat <<SQL
BEGIN;
SELECT tree_size, root_hash FROM log_lock_head(1);
SELECT e.leaf_hash, e.idx FROM entries e WHERE e.log_id = 1 AND e.leaf_hash = ANY((SELECT ARRAY(SELECT substring(r.leaves FROM g * 32 + 1 FOR 32) FROM generate_series(0, $b - 1) g) FROM bench.rec r WHERE r.ns = $(( (i + 1) * b )))::bytea[]);
SELECT log_append(1, idxs, bodies, kinds, apis, sigs, extras, 1700000000, tl, ti, th, keys, kidx, root, cp, '2026-01-01') FROM bench.rec WHERE ns = $(( (i + 1) * b ));
COMMIT;
SQL
    done
    echo "\\! awk '{print \"cpu1\", \$14 + \$15}' /proc/\$BENCH_PID/stat"
  } >"$sql"
  psql_db "$db" -At -f "$sql" | grep '^cpu' >"$sql.cpu"
  c0=$(awk '/cpu0/ {print $2}' "$sql.cpu"); c1=$(awk '/cpu1/ {print $2}' "$sql.cpu")
  psql_db "$db" -At -F' ' -c "SELECT
      round((SELECT total_time * 1000 / $n FROM pg_stat_user_functions WHERE funcname = 'log_append')::numeric),
      round((SELECT sum(total_exec_time) * 1000 / $n FROM pg_stat_statements WHERE query LIKE 'INSERT INTO public.search_index%')::numeric),
      round((SELECT sum(total_exec_time) * 1000 / $n FROM pg_stat_statements WHERE query LIKE 'INSERT INTO public.entries%')::numeric),
      round((SELECT sum(total_exec_time) * 1000 / $n FROM pg_stat_statements WHERE query ~ '^(INSERT INTO|UPDATE) public.tiles')::numeric),
      round((SELECT sum(total_exec_time) * 1000 / $n FROM pg_stat_statements WHERE query LIKE '%FOR KEY SHARE OF x')::numeric),
      round((SELECT sum(wal_bytes) / $n FROM pg_stat_statements WHERE toplevel)::numeric)" \
    | awk -v side="$side" -v b="$b" -v n="$n" -v cpu="$(( (c1 - c0) * 10000 / n ))" -v la="$(cut -d' ' -f1 /proc/loadavg)" \
        '{printf "%-6s %6d %7d %12d %11s %8s %8s %6s %6s %7s %6s\n", side, b, n, cpu, $1, $2, $3, $4, $5, $6, la}'
}

echo "==> recording batches of ${batches//,/, } entries (${entries} entries each)"
for b in ${batches//,/ }; do record "$b" >/dev/null; done
echo "==> replaying: before = migrations below $before, after = all; $rounds round(s), alternating"
echo "(µs per entry; CPU = the backend's utime + stime; the other columns are wall time inside log_append)"
printf "%-6s %6s %7s %12s %11s %8s %8s %6s %6s %7s %6s\n" side batch entries "CPU µs" log_append search entries tiles "FK" "WAL B" load
for ((r = 1; r <= rounds; r++)); do
  for b in ${batches//,/ }; do
    replay before "$b"
    replay after "$b"
  done
done

echo "==> the per-batch calls alone: 5,000 transactions each in one backend, rolled back, alternating (wall µs per transaction)"
psql_db replay_after -q >/dev/null <<'SQL'
CREATE FUNCTION bench.lock_0003(p_log integer) RETURNS TABLE (tree_size bigint, root_hash bytea, checkpoint_time timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT l.tree_size, l.root_hash, l.checkpoint_time FROM public.logs l WHERE l.id = p_log FOR UPDATE
$$;
-- The head read and log_append's checkpoint check, as 0003 to 0010 made it and as 0011 writes it out.
CREATE FUNCTION bench.check_0003(p_log integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE head public.logs%ROWTYPE;
BEGIN
    SELECT * INTO head FROM public.logs WHERE id = p_log;
    RETURN public.checkpoint_names(head.checkpoint, public.log_origin(head.kind, head.name, head.tree_id), head.tree_size, head.root_hash);
END $$;
CREATE FUNCTION bench.check_0011(p_log integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE head public.logs%ROWTYPE;
BEGIN
    SELECT * INTO head FROM public.logs WHERE id = p_log;
    RETURN split_part(head.checkpoint, E'\n', 1) = (CASE head.kind WHEN 'rekor-v1' THEN head.name || ' - ' || head.tree_id::text ELSE head.name END)
       AND split_part(head.checkpoint, E'\n', 2) = head.tree_size::text
       AND split_part(head.checkpoint, E'\n', 3) = encode(head.root_hash, 'base64');
END $$;
CREATE PROCEDURE bench.calls(which text, n integer, INOUT us numeric DEFAULT 0) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; r record;
BEGIN
    t0 := clock_timestamp();
    FOR i IN 1 .. n LOOP
        CASE which
            WHEN 'lock_0003' THEN SELECT * INTO r FROM bench.lock_0003(1);
            WHEN 'log_lock_head' THEN SELECT * INTO r FROM public.log_lock_head(1);
            WHEN 'check_0003' THEN IF NOT bench.check_0003(1) THEN RAISE EXCEPTION 'check_0003 refused the head'; END IF;
            ELSE IF NOT bench.check_0011(1) THEN RAISE EXCEPTION 'check_0011 refused the head'; END IF;
        END CASE;
        ROLLBACK;
    END LOOP;
    us := round(extract(epoch FROM clock_timestamp() - t0) * 1e6 / n, 1);
END $$;
SQL
printf "%-6s %14s %14s %14s %14s %6s\n" round "lock (0003)" "log_lock_head" "check (0003)" "check (0011)" load
for ((r = 1; r <= rounds; r++)); do
  line=$(printf "%-6s" "$r")
  for w in lock_0003 log_lock_head check_0003 check_0011; do
    line+=$(printf " %14s" "$(psql_db replay_after -At -c "CALL bench.calls('$w', 5000)")")
  done
  echo "$line $(cut -d' ' -f1 /proc/loadavg)"
done
