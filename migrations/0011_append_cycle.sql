-- Issue 13: less PostgreSQL CPU per batch on the append path (docs/benchmarks.md, "log_append's cost per batch and
-- the serial cycle"). Same checks, same triggers, same signatures; what changes is how the functions are run.
--
-- An SQL function with a SET clause (search_path) or SECURITY DEFINER is never inlined, and PostgreSQL parses and
-- plans its body again for every transaction that calls it (the function cache of a PL/pgSQL expression lives for
-- one transaction). log_lock_head paid ~250 us of that per batch while taking the head lock, log_append another
-- ~200 us in log_origin and checkpoint_names. A PL/pgSQL function keeps its plans for the session.

-- The head lock: the same row lock and answer, with the plan kept for the session.
CREATE OR REPLACE FUNCTION log_lock_head(p_log integer)
RETURNS TABLE (tree_size bigint, root_hash bytea, checkpoint_time timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT l.tree_size, l.root_hash, l.checkpoint_time FROM public.logs l WHERE l.id = p_log FOR UPDATE;
END;
$$;

-- Root of a full tile, as 0003's: the perfect subtree over its 256 hashes (RFC 6962 interior nodes, 255 hashes), one
-- statement per level (8) instead of a concatenation per node, which copied the growing level 255 times.
CREATE OR REPLACE FUNCTION tile_root(hashes bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
DECLARE
    nodes bytea := hashes;
    n integer := length(hashes) / 32;
BEGIN
    IF length(hashes) <> 8192 THEN
        RAISE EXCEPTION 'a full tile holds 256 hashes, not % bytes', length(hashes);
    END IF;
    WHILE n > 1 LOOP
        nodes := (SELECT string_agg(sha256('\x01'::bytea || substring(nodes FROM i * 64 + 1 FOR 64)), ''::bytea ORDER BY i)
                  FROM generate_series(0, n / 2 - 1) AS i);
        n := n / 2;
    END LOOP;
    RETURN nodes;
END;
$$;

-- 0010's log_append with the checkpoint's origin, size and root compared in the function itself (what log_origin
-- and checkpoint_names compute, without their per-transaction planning) and the leaves hashed in one statement.
CREATE OR REPLACE FUNCTION log_append(
    p_log integer,
    p_idx bigint[], p_body bytea[], p_kind text[], p_api_version text[], p_signature bytea[], p_extra bytea[],
    p_integrated_time bigint,
    p_tile_level smallint[], p_tile_idx bigint[], p_tile_hashes bytea[],
    p_search_key text[], p_search_idx bigint[],
    p_root bytea, p_checkpoint text, p_signed_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    head public.logs%ROWTYPE;
    n integer := coalesce(cardinality(p_idx), 0);
    new_size bigint;
    tile record;
    old_length integer;
    old_width integer;
    width integer;
    nodes bigint;
    expected bytea;
    lower_tile bytea;
    lvl integer;
    last_index bigint;
    leaves bytea[];
    batch_leaves bytea;
    first_new bigint;
BEGIN
    SELECT * INTO head FROM public.logs WHERE id = p_log FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'log % does not exist', p_log USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF n = 0 OR coalesce(cardinality(p_body), 0) <> n OR coalesce(cardinality(p_kind), 0) <> n
       OR coalesce(cardinality(p_api_version), 0) <> n OR coalesce(cardinality(p_signature), 0) <> n
       OR coalesce(cardinality(p_extra), 0) <> n
       OR coalesce(cardinality(p_tile_level), 0) <> coalesce(cardinality(p_tile_idx), 0)
       OR coalesce(cardinality(p_tile_level), 0) <> coalesce(cardinality(p_tile_hashes), 0)
       OR coalesce(cardinality(p_search_key), 0) <> coalesce(cardinality(p_search_idx), 0) THEN
        RAISE EXCEPTION 'log %: a batch needs at least one entry and arrays of equal length', head.name
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;

    -- Entries: exactly the next indices, nothing at or beyond the head already.
    IF EXISTS (SELECT 1 FROM unnest(p_idx) WITH ORDINALITY AS u(idx, ord) WHERE u.idx IS DISTINCT FROM head.tree_size + u.ord - 1) THEN
        RAISE EXCEPTION 'log %: entries must take indices % to % in order', head.name, head.tree_size, head.tree_size + n - 1
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- max() reads the end of the primary key index (an EXISTS with idx >= size could be planned as a table scan).
    SELECT max(e.idx) INTO last_index FROM public.entries e WHERE e.log_id = p_log;
    IF last_index >= head.tree_size THEN
        RAISE EXCEPTION 'log %: entries exist beyond its head (size %)', head.name, head.tree_size
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    new_size := head.tree_size + n;
    -- The leaf hash is computed here, never taken from the caller: a leaf always hashes its body.
    SELECT array_agg(h.leaf ORDER BY h.ord), string_agg(h.leaf, ''::bytea ORDER BY h.ord) INTO leaves, batch_leaves
    FROM (SELECT sha256('\x00'::bytea || u.body) AS leaf, u.ord FROM unnest(p_body) WITH ORDINALITY AS u(body, ord)) AS h;
    INSERT INTO public.entries (log_id, idx, leaf_hash, body, integrated_time, kind, api_version, entry_signature, extra_data)
    SELECT p_log, e.idx, e.leaf, e.body, p_integrated_time, e.kind, e.api_version, e.sig, e.extra
    FROM unnest(p_idx, leaves, p_body, p_kind, p_api_version, p_signature, p_extra) AS e(idx, leaf, body, kind, api_version, sig, extra);

    -- Tiles, lower levels first so a level's new hashes can be checked against the tiles below them.
    FOR tile IN
        SELECT t.level, t.idx, t.hashes FROM unnest(p_tile_level, p_tile_idx, p_tile_hashes) AS t(level, idx, hashes)
        ORDER BY t.level, t.idx
    LOOP
        IF tile.level IS NULL OR tile.level > 7 OR tile.idx IS NULL OR tile.hashes IS NULL
           OR length(tile.hashes) = 0 OR length(tile.hashes) % 32 <> 0 OR length(tile.hashes) > 8192 THEN
            RAISE EXCEPTION 'log %: malformed tile', head.name USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        width := length(tile.hashes) / 32;
        nodes := new_size >> (8 * tile.level);
        IF tile.idx * 256 + width > nodes THEN
            RAISE EXCEPTION 'log %: tile %/% with % hashes is more than % entries allow', head.name, tile.level, tile.idx, width, new_size
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        -- length() of a stored tile reads the size from its TOAST pointer: the old hashes are not fetched here (the
        -- tiles_extend_only trigger compares them once, on UPDATE).
        SELECT length(t.hashes) INTO old_length FROM public.tiles t WHERE t.log_id = p_log AND t.level = tile.level AND t.idx = tile.idx;
        old_width := coalesce(old_length, 0) / 32;
        -- Hashes already stored are checked by the tiles_extend_only trigger; only the new ones are checked here.
        IF tile.level = 0 THEN
            -- New hashes for this batch's entries come from its own leaves; older entries (a tile that lagged) are read.
            first_new := tile.idx * 256 + old_width;
            IF first_new >= head.tree_size THEN
                expected := substring(batch_leaves FROM ((first_new - head.tree_size) * 32 + 1)::integer FOR (width - old_width) * 32);
            ELSE
                SELECT string_agg(e.leaf_hash, ''::bytea ORDER BY e.idx) INTO expected
                FROM public.entries e
                WHERE e.log_id = p_log AND e.idx >= first_new AND e.idx < tile.idx * 256 + width;
            END IF;
            IF width > old_width AND expected IS DISTINCT FROM substring(tile.hashes FROM old_width * 32 + 1) THEN
                RAISE EXCEPTION 'log %: tile 0/% does not hold the leaf hashes of entries % to %', head.name, tile.idx,
                    tile.idx * 256 + old_width, tile.idx * 256 + width - 1
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
        ELSE
            FOR j IN old_width .. width - 1 LOOP
                SELECT t.hashes INTO lower_tile FROM public.tiles t
                WHERE t.log_id = p_log AND t.level = tile.level - 1 AND t.idx = tile.idx * 256 + j;
                IF lower_tile IS NULL OR length(lower_tile) <> 8192
                   OR public.tile_root(lower_tile) <> substring(tile.hashes FROM j * 32 + 1 FOR 32) THEN
                    RAISE EXCEPTION 'log %: hash % of tile %/% is not the root of tile %/%', head.name, j, tile.level, tile.idx,
                        tile.level - 1, tile.idx * 256 + j
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
            END LOOP;
        END IF;
        -- The head row is locked: whether the tile exists cannot change before this write.
        IF old_length IS NULL THEN
            INSERT INTO public.tiles (log_id, level, idx, hashes) VALUES (p_log, tile.level, tile.idx, tile.hashes);
        ELSE
            UPDATE public.tiles t SET hashes = tile.hashes WHERE t.log_id = p_log AND t.level = tile.level AND t.idx = tile.idx;
        END IF;
    END LOOP;

    -- Every level's last node exists: with the checks above, the tiles are exactly the tree of the new size.
    lvl := 0;
    WHILE lvl <= 7 AND (new_size >> (8 * lvl)) > 0 LOOP
        nodes := new_size >> (8 * lvl);
        IF NOT EXISTS (SELECT 1 FROM public.tiles t
                       WHERE t.log_id = p_log AND t.level = lvl AND t.idx = (nodes - 1) / 256
                         AND length(t.hashes) >= ((nodes - 1) % 256 + 1) * 32) THEN
            RAISE EXCEPTION 'log %: the tiles at level % do not cover size %', head.name, lvl, new_size
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        lvl := lvl + 1;
    END LOOP;

    IF coalesce(cardinality(p_search_key), 0) > 0 THEN
        IF EXISTS (SELECT 1 FROM unnest(p_search_idx) AS s(idx) WHERE s.idx IS NULL OR s.idx < head.tree_size OR s.idx >= new_size) THEN
            RAISE EXCEPTION 'log %: search keys may only name entries of this batch', head.name
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        INSERT INTO public.search_index (log_id, key, idx)
        -- Every idx is at or beyond the old head, where no search key can exist yet, so the only duplicates are the
        -- batch's own. A plain insert of the distinct keys writes no speculative-insertion WAL records; a key that
        -- did exist would fail the batch with a unique violation instead of being skipped.
        SELECT DISTINCT p_log, s.key, s.idx FROM unnest(p_search_key, p_search_idx) AS s(key, idx);
    END IF;

    -- The checkpoint names the new size and root in its first three lines (checkpoint_names of log_origin, written
    -- out: Rekor v1 names its origin "<name> - <tree ID>", C2SP logs by their name); its signature is the service's
    -- to check (fsck).
    IF p_root IS NULL OR length(p_root) <> 32 OR p_checkpoint IS NULL
       OR split_part(p_checkpoint, E'\n', 1) <> (CASE head.kind WHEN 'rekor-v1' THEN head.name || ' - ' || head.tree_id::text ELSE head.name END)
       OR split_part(p_checkpoint, E'\n', 2) <> new_size::text
       OR split_part(p_checkpoint, E'\n', 3) <> encode(p_root, 'base64') THEN
        RAISE EXCEPTION 'log %: the checkpoint does not name size % and the given root', head.name, new_size
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    INSERT INTO public.checkpoints (log_id, tree_size, root_hash, note, signed_at)
    VALUES (p_log, new_size, p_root, p_checkpoint, p_signed_at);
    UPDATE public.logs SET tree_size = new_size, root_hash = p_root, checkpoint = p_checkpoint, checkpoint_time = p_signed_at
    WHERE id = p_log;
    RETURN new_size;
END;
$$;
