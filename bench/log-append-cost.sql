-- Measures log_append alone: the PostgreSQL CPU of one call at a chosen batch size, without the service.
-- Run as the superuser in a scratch database migrated with the service's `migrate` command (never a real log's):
--
--   psql -d scratch -f bench/log-append-cost.sql
--   psql -d scratch -c "CALL h_run('grow', 1000, 100, 'log_append')"        # a log of 100,000 entries first
--   psql -d scratch -c "CALL h_run('b16', 16, 100, 'log_append')" -c "CALL h_run('b64', 64, 40, 'log_append')"
--   psql -d scratch -c "SELECT variant, batch, append_ns / calls / batch / 1000 AS us_per_entry FROM h_result"
--
-- h_run(variant, n, k, fn) appends k batches of n hashedrekord-sized entries (557-byte bodies, two search keys each)
-- through function fn (same signature as log_append, so a candidate body can be installed under another name and
-- compared in the same session), one commit per batch, with the level-0 and upper tiles computed here as the
-- sequencer computes them. It records the backend's CPU time (/proc/self/schedstat, nanoseconds on CPU: other work on
-- the machine does not count, unlike wall time) spent inside the calls (append_ns), and with the commit (total_ns),
-- in h_result. Other work on a busy machine still inflates it through shared caches: compare candidates in the same
-- session, interleaved, and repeat.
CREATE OR REPLACE FUNCTION h_cpu() RETURNS bigint LANGUAGE sql AS $$
  SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint $$;
CREATE TABLE IF NOT EXISTS h_result (variant text, batch int, calls int, append_ns bigint, total_ns bigint, at timestamptz default now());
SELECT log_create('h.example', 'rekor-v2', 1, '\x01'::bytea, E'h.example\n0\n' || encode(sha256(''::bytea), 'base64') || E'\n\n— sig\n', now())
WHERE NOT EXISTS (SELECT 1 FROM logs WHERE name = 'h.example');

CREATE OR REPLACE PROCEDURE h_run(p_variant text, n int, k int, p_fn text)
LANGUAGE plpgsql AS $$
DECLARE
  lid int; size bigint; new_size bigint; i int; c int;
  idx bigint[]; body bytea[]; kind text[]; apiv text[]; sig bytea[]; extra bytea[];
  leaves bytea[]; tl smallint[]; ti bigint[]; th bytea[]; sk text[]; si bigint[];
  lvl int; t bigint; lo bigint; hi bigint; h bytea; j bigint; root bytea; cp text;
  c0 bigint; c1 bigint; c2 bigint; app bigint := 0; tot bigint := 0;
BEGIN
  SELECT id INTO lid FROM logs WHERE name = 'h.example';
  FOR c IN 1 .. k LOOP
    SELECT tree_size INTO size FROM logs WHERE id = lid;
    new_size := size + n;
    idx := ARRAY(SELECT size + g FROM generate_series(0, n - 1) g);
    body := ARRAY(SELECT convert_to(repeat(md5(random()::text), 17) || lpad((size + g)::text, 13, '0'), 'UTF8') FROM generate_series(0, n - 1) g);
    kind := array_fill('hashedrekord'::text, ARRAY[n]); apiv := array_fill('0.0.1'::text, ARRAY[n]);
    sig := ARRAY(SELECT sha256(b) || sha256(b) || substring(sha256(b) FROM 1 FOR 8) FROM unnest(body) b);
    extra := array_fill(NULL::bytea, ARRAY[n]);
    leaves := ARRAY(SELECT sha256('\x00'::bytea || b) FROM unnest(body) WITH ORDINALITY u(b, o) ORDER BY o);
    sk := ARRAY(SELECT x FROM unnest(body) WITH ORDINALITY u(b, o), LATERAL (VALUES ('sha256:' || encode(sha256(b), 'hex')), ('key:' || md5(((size + o) % 64)::text))) v(x) ORDER BY o);
    si := ARRAY(SELECT size + o - 1 FROM generate_series(1, n) o, generate_series(1, 2) r ORDER BY o);
    CREATE TEMP TABLE IF NOT EXISTS h_tiles (level int, idx bigint, hashes bytea, PRIMARY KEY (level, idx));
    DELETE FROM h_tiles;
    -- level 0
    FOR t IN size / 256 .. (new_size - 1) / 256 LOOP
      lo := greatest(t * 256, size); hi := least(t * 256 + 256, new_size);
      SELECT coalesce((SELECT substring(hashes FROM 1 FOR ((lo - t * 256) * 32)::int) FROM tiles WHERE log_id = lid AND level = 0 AND tiles.idx = t), ''::bytea)
             || (SELECT string_agg(leaves[g - size + 1], ''::bytea ORDER BY g) FROM generate_series(lo, hi - 1) g) INTO h;
      INSERT INTO h_tiles VALUES (0, t, h);
    END LOOP;
    lvl := 1;
    WHILE (new_size >> (8 * lvl)) > (size >> (8 * lvl)) LOOP
      FOR j IN (size >> (8 * lvl)) .. (new_size >> (8 * lvl)) - 1 LOOP
        SELECT coalesce((SELECT hashes FROM h_tiles WHERE level = lvl - 1 AND h_tiles.idx = j), (SELECT hashes FROM tiles WHERE log_id = lid AND level = lvl - 1 AND tiles.idx = j)) INTO h;
        h := tile_root(h);
        t := j / 256;
        IF NOT EXISTS (SELECT 1 FROM h_tiles WHERE level = lvl AND h_tiles.idx = t) THEN
          INSERT INTO h_tiles VALUES (lvl, t, coalesce((SELECT hashes FROM tiles WHERE log_id = lid AND level = lvl AND tiles.idx = t), ''::bytea));
        END IF;
        UPDATE h_tiles SET hashes = hashes || h WHERE level = lvl AND h_tiles.idx = t;
      END LOOP;
      lvl := lvl + 1;
    END LOOP;
    tl := ARRAY(SELECT level::smallint FROM h_tiles ORDER BY level, h_tiles.idx);
    ti := ARRAY(SELECT h_tiles.idx FROM h_tiles ORDER BY level, h_tiles.idx);
    th := ARRAY(SELECT hashes FROM h_tiles ORDER BY level, h_tiles.idx);
    root := sha256(int8send(new_size));
    cp := E'h.example\n' || new_size || E'\n' || encode(root, 'base64') || E'\n\n— h.example sig\n';
    c0 := h_cpu();
    EXECUTE format('SELECT %I($1, $2, $3, $4, $5, $6, $7, 1700000000, $8, $9, $10, $11, $12, $13, $14, now())', p_fn) USING lid, idx, body, kind, apiv, sig, extra, tl, ti, th, sk, si, root, cp;
    c1 := h_cpu();
    COMMIT;
    c2 := h_cpu();
    app := app + (c1 - c0); tot := tot + (c2 - c0);
  END LOOP;
  INSERT INTO h_result (variant, batch, calls, append_ns, total_ns) VALUES (p_variant, n, k, app, tot);
  COMMIT;
END;
$$;
