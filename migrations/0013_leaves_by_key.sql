-- Issue 13: every duplicate check of the append path is one lookup of the (log_id, leaf_hash) key per leaf, inside a
-- function, under the head lock (docs/benchmarks.md, "one write path and the service's CPU per append").
--
-- Before, the sequencer's ordinary path (the first batch, or one whose prediction failed) sent its own
-- `SELECT leaf_hash, idx FROM entries WHERE log_id = $1 AND leaf_hash = ANY($2)` after log_lock_head, and
-- log_append_predicted (0012) probed with the same `= ANY` shape. Its cached generic plan went bad in a quiet run of a
-- log that grew from empty (1,218 buffer hits for 34 leaves, 8.5 ms per batch, against ~100 hits in other runs). An
-- equality on the whole unique key has one plan, an index probe, whatever the log's size was when it was planned.

-- The head lock (log_lock_head's row lock and answer) and which of p_leaves the log already holds, with their indices,
-- in one call: the lookups start after the lock is held, so they see every earlier commit, and no other writer can
-- add a leaf before this transaction ends. A log without a head row answers no row.
CREATE FUNCTION log_lock_head_logged(p_log integer, p_leaves bytea[])
RETURNS TABLE (tree_size bigint, root_hash bytea, logged_leaves bytea[], logged_indices bigint[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    leaf bytea;
    found_index bigint;
BEGIN
    SELECT l.tree_size, l.root_hash INTO tree_size, root_hash FROM public.logs l WHERE l.id = p_log FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    logged_leaves := '{}';
    logged_indices := '{}';
    FOREACH leaf IN ARRAY coalesce(p_leaves, '{}') LOOP
        SELECT e.idx INTO found_index FROM public.entries e WHERE e.log_id = p_log AND e.leaf_hash = leaf;
        IF FOUND THEN
            logged_leaves := logged_leaves || leaf;
            logged_indices := logged_indices || found_index;
        END IF;
    END LOOP;
    RETURN NEXT;
END;
$$;

REVOKE ALL ON FUNCTION log_lock_head_logged(integer, bytea[]) FROM PUBLIC;

-- 0012's guarded write with the same probe: one key lookup per leaf, stopping at the first leaf already logged.
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
DECLARE
    head_size bigint;
    head_root bytea;
    head_time timestamptz;
    leaf bytea;
BEGIN
    -- FOR UPDATE: the row lock log_lock_head took (a no-op then), and this reads the newest committed head whatever
    -- the caller did before.
    SELECT l.tree_size, l.root_hash, l.checkpoint_time INTO head_size, head_root, head_time
    FROM public.logs l WHERE l.id = p_log FOR UPDATE;
    IF NOT FOUND OR head_size IS DISTINCT FROM p_expected_size OR head_root IS DISTINCT FROM p_expected_root
       OR NOT coalesce(head_time <= p_signed_at, false) THEN
        RETURN NULL;
    END IF;
    FOREACH leaf IN ARRAY coalesce(p_leaves, '{}') LOOP
        PERFORM FROM public.entries e WHERE e.log_id = p_log AND e.leaf_hash = leaf;
        IF FOUND THEN
            RETURN NULL;
        END IF;
    END LOOP;
    RETURN public.log_append(p_log, p_idx, p_body, p_kind, p_api_version, p_signature, p_extra, p_integrated_time,
        p_tile_level, p_tile_idx, p_tile_hashes, p_search_key, p_search_idx, p_root, p_checkpoint, p_signed_at);
END;
$$;
