-- Rekor v1 log shards: a log name (the host clients reach) may have several trees over time. Exactly one is active
-- (appended to); the others are frozen, read-only forever, and still serve their entries, proofs and final checkpoint.
-- Entries of all shards share one virtual index, as Rekor's: a shard's global index starts at the sum of the sizes of
-- the shards frozen before it (shard_start), and an entry's global index is shard_start + its index in the shard.
--
-- Invariants added here, for every role that is not a superuser disabling triggers:
--   * a frozen log never changes again: no growth, no new checkpoint, no unfreezing;
--   * shard_start never changes, and a new shard starts exactly where its predecessor ended (log_rotate_shard);
--   * at most one unfrozen log per name.

ALTER TABLE logs ADD COLUMN frozen_at timestamptz;
ALTER TABLE logs ADD COLUMN shard_start bigint NOT NULL DEFAULT 0 CHECK (shard_start >= 0);

ALTER TABLE logs DROP CONSTRAINT logs_name_key;
CREATE UNIQUE INDEX logs_active_name ON logs (name) WHERE frozen_at IS NULL;
CREATE UNIQUE INDEX logs_name_tree ON logs (name, tree_id);

CREATE OR REPLACE FUNCTION logs_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.name <> OLD.name OR NEW.kind <> OLD.kind OR NEW.tree_id <> OLD.tree_id
       OR NEW.public_key <> OLD.public_key OR NEW.created_at <> OLD.created_at OR NEW.shard_start <> OLD.shard_start THEN
        RAISE EXCEPTION 'log identity of % is immutable', OLD.name USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.frozen_at IS NOT NULL THEN
        -- read_only_sql_transaction: the service tells this apart from corruption and moves to the active shard.
        RAISE EXCEPTION 'log % (tree %) is a frozen shard: it no longer changes', OLD.name, OLD.tree_id
            USING ERRCODE = 'read_only_sql_transaction';
    END IF;
    IF NEW.tree_size < OLD.tree_size THEN
        RAISE EXCEPTION 'log % cannot shrink from % to %', OLD.name, OLD.tree_size, NEW.tree_size
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.tree_size = OLD.tree_size AND NEW.root_hash <> OLD.root_hash THEN
        RAISE EXCEPTION 'log % cannot change the root of size %', OLD.name, OLD.tree_size
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

-- The name is no longer unique by itself: a log is created only when no active one has the name.
CREATE OR REPLACE FUNCTION log_create(p_name text, p_kind text, p_tree_id bigint, p_public_key bytea, p_checkpoint text, p_signed_at timestamptz)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT public.checkpoint_names(p_checkpoint, public.log_origin(p_kind, p_name, p_tree_id), 0, sha256(''::bytea)) THEN
        RAISE EXCEPTION 'log %: the checkpoint does not name the empty tree', p_name
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    INSERT INTO public.logs (name, kind, tree_id, public_key, tree_size, root_hash, checkpoint, checkpoint_time)
    VALUES (p_name, p_kind, p_tree_id, p_public_key, 0, sha256(''::bytea), p_checkpoint, p_signed_at)
    ON CONFLICT (name) WHERE frozen_at IS NULL DO NOTHING;
END;
$$;

-- Freezes the active Rekor v1 log of a name at its current head and starts its next shard (a new tree ID and key)
-- in one transaction. The head row lock is the sequencer's serialization point: a batch in flight either commits
-- before the freeze (and is in the old shard) or is refused after it (and the service appends it to the new shard).
-- Returns the new shard's id. Granted to no service role: rotation is an operator's action (the migrate role).
CREATE FUNCTION log_rotate_shard(p_name text, p_tree_id bigint, p_public_key bytea, p_checkpoint text, p_signed_at timestamptz)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    head public.logs%ROWTYPE;
    new_id integer;
BEGIN
    SELECT * INTO head FROM public.logs WHERE name = p_name AND frozen_at IS NULL FOR UPDATE;
    IF NOT FOUND OR head.kind <> 'rekor-v1' THEN
        RAISE EXCEPTION 'no active Rekor v1 log named %', p_name USING ERRCODE = 'no_data_found';
    END IF;
    IF head.tree_id = p_tree_id OR head.public_key = p_public_key THEN
        RAISE EXCEPTION 'log %: a new shard needs a new tree ID and a new key', p_name USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NOT public.checkpoint_names(p_checkpoint, public.log_origin('rekor-v1', p_name, p_tree_id), 0, sha256(''::bytea)) THEN
        RAISE EXCEPTION 'log %: the new shard''s checkpoint does not name its empty tree', p_name
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    UPDATE public.logs SET frozen_at = p_signed_at WHERE id = head.id;
    INSERT INTO public.logs (name, kind, tree_id, public_key, tree_size, root_hash, checkpoint, checkpoint_time, shard_start)
    VALUES (p_name, 'rekor-v1', p_tree_id, p_public_key, 0, sha256(''::bytea), p_checkpoint, p_signed_at, head.shard_start + head.tree_size)
    RETURNING id INTO new_id;
    RETURN new_id;
END;
$$;

REVOKE ALL ON FUNCTION log_rotate_shard(text, bigint, bytea, text, timestamptz) FROM PUBLIC;
