-- Issue 13: the pipelined sequencer's guarded write as one function (docs/benchmarks.md, "the pipelined sequencer's
-- guarded statement"). The sequencer sends a predicted batch as `log_lock_head` then the write, in one round trip and
-- one transaction, while the batch before it may still commit; the write must happen only if the locked head is the
-- prediction, no leaf of the batch is in the log yet, and no refresher re-signed the head after this checkpoint's time.
--
-- Before, that guard was the WHERE clause of the service's top-level statement (`SELECT log_append(...) FROM logs l
-- WHERE ... AND NOT EXISTS (...)`): its generic plan read the head with a sequential scan of logs (every page of that
-- table, however many dead versions of the head row it holds, each checked against the snapshot) and joined the call
-- to it. Here the head is read by its primary key, under the lock the transaction already holds, and the probe is one
-- index lookup per leaf, with the plans kept for the session like log_append's own.

-- NULL when the guard refuses (nothing written); otherwise log_append's answer, the new size. log_append itself checks
-- every index, tile and the checkpoint text, so a wrong prediction that passed this guard would still be refused.
CREATE FUNCTION log_append_predicted(
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
BEGIN
    -- FOR UPDATE: the row lock log_lock_head took (a no-op then), and this reads the newest committed head whatever
    -- the caller did before.
    SELECT l.tree_size, l.root_hash, l.checkpoint_time INTO head_size, head_root, head_time
    FROM public.logs l WHERE l.id = p_log FOR UPDATE;
    IF NOT FOUND OR head_size IS DISTINCT FROM p_expected_size OR head_root IS DISTINCT FROM p_expected_root
       OR NOT coalesce(head_time <= p_signed_at, false) THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM public.entries e WHERE e.log_id = p_log AND e.leaf_hash = ANY(p_leaves)) THEN
        RETURN NULL;
    END IF;
    RETURN public.log_append(p_log, p_idx, p_body, p_kind, p_api_version, p_signature, p_extra, p_integrated_time,
        p_tile_level, p_tile_idx, p_tile_hashes, p_search_key, p_search_idx, p_root, p_checkpoint, p_signed_at);
END;
$$;

REVOKE ALL ON FUNCTION log_append_predicted(bigint, bytea, bytea[], integer, bigint[], bytea[], text[], text[], bytea[], bytea[], bigint, smallint[], bigint[], bytea[], text[], bigint[], bytea, text, timestamptz) FROM PUBLIC;
