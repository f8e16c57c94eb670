-- Issue 13: a CT resubmission is found under the head lock, in the batch's own statement (docs/benchmarks.md, "the CT
-- duplicate check under the head lock").
--
-- Two kinds of duplicate, one mechanism each, both under the lock:
--   * an identical leaf (a Rekor entry submitted again): looked up by (log_id, leaf_hash), as in 0013;
--   * an entry with the same *unique key* (a CT (pre)certificate submitted again: its leaf differs by the timestamp,
--     its `ct:` search key does not): looked up by (key, log_id), the search_index primary key.
-- Before, the CT API probed search_index for the key before the SCT was signed, outside any lock: two identical
-- submissions racing past the probe were both appended and got two different SCTs. Under the lock the lookup sees
-- every earlier commit and no other writer can add the key before this transaction ends, so a key is logged once and
-- every submission of it gets the first entry's SCT.
--
-- New overloads, not replacements: a process of the previous version keeps calling 0013's functions until it stops.

-- 0013's head lock and leaf lookups, plus which of p_keys the log holds, each with the earliest index holding it (a
-- log written before this migration may hold a key twice: the first entry's answer is the one given before).
CREATE FUNCTION log_lock_head_logged(p_log integer, p_leaves bytea[], p_keys text[])
RETURNS TABLE (tree_size bigint, root_hash bytea, logged_leaves bytea[], logged_indices bigint[],
               logged_keys text[], logged_key_indices bigint[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    leaf bytea;
    unique_key text;
    found_index bigint;
BEGIN
    SELECT l.tree_size, l.root_hash INTO tree_size, root_hash FROM public.logs l WHERE l.id = p_log FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- Each lookup below is its own statement, so it starts after the lock is held and sees every earlier commit.
    logged_leaves := '{}';
    logged_indices := '{}';
    FOREACH leaf IN ARRAY coalesce(p_leaves, '{}') LOOP
        SELECT e.idx INTO found_index FROM public.entries e WHERE e.log_id = p_log AND e.leaf_hash = leaf;
        IF FOUND THEN
            logged_leaves := logged_leaves || leaf;
            logged_indices := logged_indices || found_index;
        END IF;
    END LOOP;
    logged_keys := '{}';
    logged_key_indices := '{}';
    FOREACH unique_key IN ARRAY coalesce(p_keys, '{}') LOOP
        SELECT s.idx INTO found_index FROM public.search_index s
        WHERE s.key = unique_key AND s.log_id = p_log ORDER BY s.idx LIMIT 1;
        IF FOUND THEN
            logged_keys := logged_keys || unique_key;
            logged_key_indices := logged_key_indices || found_index;
        END IF;
    END LOOP;
    RETURN NEXT;
END;
$$;

REVOKE ALL ON FUNCTION log_lock_head_logged(integer, bytea[], text[]) FROM PUBLIC;

-- 0013's guarded write, also refused (NULL, nothing written) when one of p_keys is in the log already: the sequencer
-- then writes the batch again the ordinary way, where log_lock_head_logged answers the earlier entry's index.
CREATE FUNCTION log_append_predicted(
    p_expected_size bigint, p_expected_root bytea, p_leaves bytea[], p_keys text[],
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
    unique_key text;
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
    FOREACH unique_key IN ARRAY coalesce(p_keys, '{}') LOOP
        PERFORM FROM public.search_index s WHERE s.key = unique_key AND s.log_id = p_log LIMIT 1;
        IF FOUND THEN
            RETURN NULL;
        END IF;
    END LOOP;
    RETURN public.log_append(p_log, p_idx, p_body, p_kind, p_api_version, p_signature, p_extra, p_integrated_time,
        p_tile_level, p_tile_idx, p_tile_hashes, p_search_key, p_search_idx, p_root, p_checkpoint, p_signed_at);
END;
$$;

REVOKE ALL ON FUNCTION log_append_predicted(bigint, bytea, bytea[], text[], integer, bigint[], bytea[], text[], text[], bytea[], bytea[], bigint, smallint[], bigint[], bytea[], text[], bigint[], bytea, text, timestamptz) FROM PUBLIC;
