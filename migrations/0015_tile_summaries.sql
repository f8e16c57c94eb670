-- Issue 13: each full level-0 tile's summary, its 16 nodes at height 4 (512 bytes), stored in the tile's row
-- (docs/benchmarks.md, "flat cost to 10 M, memory under 300 MB, persisted tile summaries").
--
-- An inclusion-proof read whose level-0 tile is not cached fetches, with its entry, the entry's group of 16 leaves
-- (a substring of the TOASTed hashes) and the summary (stored inline, in the heap tuple the lookup reads anyway), so
-- the service needs neither the whole tile nor a summary kept in memory (25 MB for a 10 M entry log), nor a pass over
-- every stored tile at start-up to rebuild them. The summary is derived data: the trigger below computes it from the
-- hashes in the same statement that makes the tile full (the sequencer's log_append, or a bulk COPY), so it commits with
-- the tile; a value written by anyone else must equal it. A wrong summary could only make a read's self-check fail,
-- never a wrong proof: every proof is verified against the signed root before it is served.

-- The nodes at height 4 of a full tile: 16 hashes of 16 leaves each (RFC 6962 interior nodes, 0x01 || left || right).
CREATE FUNCTION tile_summary(hashes bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
DECLARE
    nodes bytea := hashes;
    n integer := 256;
BEGIN
    IF length(hashes) <> 8192 THEN
        RAISE EXCEPTION 'a full tile holds 256 hashes, not % bytes', length(hashes);
    END IF;
    WHILE n > 16 LOOP
        nodes := (SELECT string_agg(sha256('\x01'::bytea || substring(nodes FROM i * 64 + 1 FOR 64)), ''::bytea ORDER BY i)
                  FROM generate_series(0, n / 2 - 1) AS i);
        n := n / 2;
    END LOOP;
    RETURN nodes;
END;
$$;

ALTER TABLE tiles ADD COLUMN summary bytea CHECK (summary IS NULL OR (level = 0 AND length(summary) = 512));

-- Keeps every full level-0 tile's summary equal to its hashes' (or absent, on a tile stored before this migration until
-- tile_summaries_fill reaches it). A partial tile has none; a full tile never changes (tiles_extend_only), so its
-- summary, once set, is kept without hashing again.
CREATE FUNCTION tiles_summary() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF NEW.level <> 0 OR length(NEW.hashes) <> 8192 THEN
        IF NEW.summary IS NOT NULL THEN
            RAISE EXCEPTION 'tile %/%/% is not a full level-0 tile and has no summary', NEW.log_id, NEW.level, NEW.idx
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.summary IS NOT NULL AND NEW.summary IS NOT DISTINCT FROM OLD.summary
       AND length(OLD.hashes) = 8192 THEN
        RETURN NEW;
    END IF;
    IF NEW.summary IS NULL THEN
        NEW.summary := public.tile_summary(NEW.hashes);
    ELSIF NEW.summary <> public.tile_summary(NEW.hashes) THEN
        RAISE EXCEPTION 'tile %/%/%: the summary is not the nodes of its hashes', NEW.log_id, NEW.level, NEW.idx
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

-- Named to fire after tiles_extend_only (triggers fire in name order): a summary is computed only for hashes that
-- trigger accepted.
CREATE TRIGGER tiles_summary BEFORE INSERT OR UPDATE ON tiles
    FOR EACH ROW EXECUTE FUNCTION tiles_summary();

-- Fills the summaries of up to p_limit full level-0 tiles of a log stored before this migration (newest first, the
-- tiles recent reads touch most), answering how many it filled: the service's start-up pass calls it until it answers
-- 0, in short transactions, so a large log's tiles (39,000 at 10 M entries) never make one long migration.
CREATE FUNCTION tile_summaries_fill(p_log integer, p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    filled integer;
BEGIN
    UPDATE public.tiles t SET summary = public.tile_summary(t.hashes)
    FROM (SELECT s.idx FROM public.tiles s
          WHERE s.log_id = p_log AND s.level = 0 AND s.summary IS NULL AND length(s.hashes) = 8192
          ORDER BY s.idx DESC LIMIT greatest(p_limit, 0)) AS todo
    WHERE t.log_id = p_log AND t.level = 0 AND t.idx = todo.idx AND t.summary IS NULL;
    GET DIAGNOSTICS filled = ROW_COUNT;
    RETURN filled;
END;
$$;
