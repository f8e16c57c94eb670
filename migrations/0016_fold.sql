-- One body per function where 0013/0014 and 0011/0015 each left two copies of the same code.
--
-- 0014's overloads repeated 0013's bodies and added the unique-key lookups. 0014's are the ones this version calls
-- (the sequencer's ordinary path and its once-per-batch predicted write), so they keep their bodies and 0013's become
-- calls of them with no keys: with an empty key array 0014's bodies do exactly what 0013's did, in the same order (the
-- head row locked FOR UPDATE first, then each leaf lookup its own statement, so it sees every earlier commit; NULL and
-- nothing written when a leaf is logged). 0013's signatures stay: a process of the previous version calls them until
-- it stops. CREATE OR REPLACE keeps each function's owner and grants (the service role's EXECUTE, PUBLIC's revoked).
--
-- The one-line functions are PL/pgSQL, which keeps its plans for the session: an SQL function with a SET clause is
-- parsed and planned again by every statement calling it (0011). tile_root runs once per full tile in log_append,
-- tile_summary once per full level-0 tile in the trigger tiles_summary.

CREATE OR REPLACE FUNCTION log_lock_head_logged(p_log integer, p_leaves bytea[])
RETURNS TABLE (tree_size bigint, root_hash bytea, logged_leaves bytea[], logged_indices bigint[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT h.tree_size, h.root_hash, h.logged_leaves, h.logged_indices
        FROM public.log_lock_head_logged(p_log, p_leaves, '{}'::text[]) AS h;
END;
$$;

CREATE OR REPLACE FUNCTION log_append_predicted(
    p_expected_size bigint, p_expected_root bytea, p_leaves bytea[],
    p_log integer,
    p_idx bigint[], p_body bytea[], p_kind text[], p_api_version text[], p_signature bytea[], p_extra bytea[],
    p_integrated_time bigint,
    p_tile_level smallint[], p_tile_idx bigint[], p_tile_hashes bytea[],
    p_search_key text[], p_search_idx bigint[],
    p_root bytea, p_checkpoint text, p_signed_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    RETURN public.log_append_predicted(p_expected_size, p_expected_root, p_leaves, '{}'::text[], p_log,
        p_idx, p_body, p_kind, p_api_version, p_signature, p_extra, p_integrated_time,
        p_tile_level, p_tile_idx, p_tile_hashes, p_search_key, p_search_idx, p_root, p_checkpoint, p_signed_at);
END;
$$;

-- A full tile's nodes at the height where `width` remain (RFC 6962 interior nodes, 0x01 || left || right), one level
-- per statement: 1 is the tile's root (tile_root, 0003), 16 its summary (tile_summary, 0015).
CREATE FUNCTION tile_fold(hashes bytea, width integer) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
DECLARE
    nodes bytea := hashes;
    n integer := 256;
BEGIN
    IF length(hashes) <> 8192 THEN
        RAISE EXCEPTION 'a full tile holds 256 hashes, not % bytes', length(hashes);
    END IF;
    IF width NOT IN (1, 2, 4, 8, 16, 32, 64, 128, 256) THEN
        RAISE EXCEPTION 'a full tile folds to a power of two from 1 to 256 nodes, not %', width;
    END IF;
    WHILE n > width LOOP
        nodes := (SELECT string_agg(sha256('\x01'::bytea || substring(nodes FROM i * 64 + 1 FOR 64)), ''::bytea ORDER BY i)
                  FROM generate_series(0, n / 2 - 1) AS i);
        n := n / 2;
    END LOOP;
    RETURN nodes;
END;
$$;

CREATE OR REPLACE FUNCTION tile_root(hashes bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
BEGIN
    RETURN public.tile_fold(hashes, 1);
END;
$$;

-- The trigger tiles_summary and tile_summaries_fill call it by name: unchanged.
CREATE OR REPLACE FUNCTION tile_summary(hashes bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
BEGIN
    RETURN public.tile_fold(hashes, 16);
END;
$$;
