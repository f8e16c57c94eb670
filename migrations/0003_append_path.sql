-- The service role writes only through the functions below, which accept a write only when it extends a log
-- consistently. The role keeps SELECT on every table but loses INSERT and UPDATE (see Migrator.GrantAsync), so a
-- compromised service can no longer:
--   * insert an entry anywhere but at the next index, or one whose leaf hash is not the hash of its body;
--   * move a head to a size that is not the number of its entries, or leave entries beyond the head;
--   * write a tile hash that is not the leaf (level 0) or the subtree root (level >= 1) the entries give;
--   * store a checkpoint row for a size the head has not reached, or a checkpoint text naming another
--     origin, size or root than the head it stands for.
-- What the database cannot check (that a root is the root of the tiles, that a signature verifies) the service
-- checks: `TransparencyLog.LogService fsck`, at start-up and on a schedule (docs/operations.md).
--
-- The functions are SECURITY DEFINER, owned by the role that runs `migrate`, with a fixed search_path so that no
-- object the caller could create shadows what they use. They run the triggers of 0001 like any other write.

REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Root of a full tile: the perfect subtree over its 256 hashes (RFC 6962 interior nodes, 255 hashes).
CREATE FUNCTION tile_root(hashes bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
DECLARE
    nodes bytea := hashes;
    parents bytea;
    n integer := length(hashes) / 32;
BEGIN
    IF length(hashes) <> 8192 THEN
        RAISE EXCEPTION 'a full tile holds 256 hashes, not % bytes', length(hashes);
    END IF;
    WHILE n > 1 LOOP
        parents := ''::bytea;
        FOR i IN 0 .. n / 2 - 1 LOOP
            parents := parents || sha256('\x01'::bytea || substring(nodes FROM i * 64 + 1 FOR 64));
        END LOOP;
        nodes := parents;
        n := n / 2;
    END LOOP;
    RETURN nodes;
END;
$$;

-- The origin line of a log's checkpoints: Rekor v1 names them "<name> - <tree ID>", C2SP logs by their name.
CREATE FUNCTION log_origin(kind text, name text, tree_id bigint) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    SELECT CASE kind WHEN 'rekor-v1' THEN name || ' - ' || tree_id::text ELSE name END
$$;

-- Whether a checkpoint's text (c2sp.org/tlog-checkpoint) names this origin, size and root in its first three lines.
CREATE FUNCTION checkpoint_names(note text, origin text, size bigint, root bytea) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    SELECT split_part(note, E'\n', 1) = origin
       AND split_part(note, E'\n', 2) = size::text
       AND split_part(note, E'\n', 3) = encode(root, 'base64')
$$;

-- Locks a log's head row for the caller's transaction (the sequencer's and the refresher's serialization point)
-- without the UPDATE privilege that SELECT ... FOR UPDATE would need.
CREATE FUNCTION log_lock_head(p_log integer)
RETURNS TABLE (tree_size bigint, root_hash bytea, checkpoint_time timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT l.tree_size, l.root_hash, l.checkpoint_time FROM public.logs l WHERE l.id = p_log FOR UPDATE
$$;

-- Creates a log at size 0 (the empty tree's root and a checkpoint naming it); an existing name is left alone.
CREATE FUNCTION log_create(p_name text, p_kind text, p_tree_id bigint, p_public_key bytea, p_checkpoint text, p_signed_at timestamptz)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT public.checkpoint_names(p_checkpoint, public.log_origin(p_kind, p_name, p_tree_id), 0, sha256(''::bytea)) THEN
        RAISE EXCEPTION 'log %: the checkpoint does not name the empty tree', p_name
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    INSERT INTO public.logs (name, kind, tree_id, public_key, tree_size, root_hash, checkpoint, checkpoint_time)
    VALUES (p_name, p_kind, p_tree_id, p_public_key, 0, sha256(''::bytea), p_checkpoint, p_signed_at)
    ON CONFLICT (name) DO NOTHING;
END;
$$;

-- Replaces the head's checkpoint with a newer signature over the same size and root (a quiet log's liveness).
CREATE FUNCTION log_refresh_checkpoint(p_log integer, p_checkpoint text, p_signed_at timestamptz)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    head public.logs%ROWTYPE;
BEGIN
    SELECT * INTO head FROM public.logs WHERE id = p_log FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'log % does not exist', p_log USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NOT public.checkpoint_names(p_checkpoint, public.log_origin(head.kind, head.name, head.tree_id), head.tree_size, head.root_hash) THEN
        RAISE EXCEPTION 'log %: the checkpoint does not name the head (size %)', head.name, head.tree_size
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    UPDATE public.logs SET checkpoint = p_checkpoint, checkpoint_time = p_signed_at WHERE id = p_log;
END;
$$;

-- Appends a batch: entries at the next indices, the tiles they change, their search keys, the checkpoint of the new
-- size and the head. Every check is an index probe or touches only this batch's rows (plus, once per 256 entries
-- of a level, the 255 hashes of a tile that just filled), so the cost stays proportional to the batch.
CREATE FUNCTION log_append(
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
    old_hashes bytea;
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
    leaves := ARRAY(SELECT sha256('\x00'::bytea || u.body) FROM unnest(p_body) WITH ORDINALITY AS u(body, ord) ORDER BY u.ord);
    batch_leaves := (SELECT string_agg(u.leaf, ''::bytea ORDER BY u.ord) FROM unnest(leaves) WITH ORDINALITY AS u(leaf, ord));
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
        SELECT t.hashes INTO old_hashes FROM public.tiles t WHERE t.log_id = p_log AND t.level = tile.level AND t.idx = tile.idx;
        old_width := coalesce(length(old_hashes), 0) / 32;
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
        INSERT INTO public.tiles (log_id, level, idx, hashes) VALUES (p_log, tile.level, tile.idx, tile.hashes)
        ON CONFLICT (log_id, level, idx) DO UPDATE SET hashes = EXCLUDED.hashes;
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
        SELECT p_log, s.key, s.idx FROM unnest(p_search_key, p_search_idx) AS s(key, idx)
        ON CONFLICT DO NOTHING;
    END IF;

    -- The checkpoint names the new size and root; its signature is the service's to check (fsck).
    IF p_root IS NULL OR length(p_root) <> 32 OR p_checkpoint IS NULL
       OR NOT public.checkpoint_names(p_checkpoint, public.log_origin(head.kind, head.name, head.tree_id), new_size, p_root) THEN
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

-- Only the roles migrate grants (the service role) may call the writing functions.
REVOKE ALL ON FUNCTION log_lock_head(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION log_create(text, text, bigint, bytea, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION log_refresh_checkpoint(integer, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION log_append(integer, bigint[], bytea[], text[], text[], bytea[], bytea[], bigint, smallint[], bigint[], bytea[], text[], bigint[], bytea, text, timestamptz) FROM PUBLIC;
