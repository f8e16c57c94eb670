-- The transparency logs: one row per log (a Rekor v1 log, the certificate-transparency log, a Rekor v2 log), the
-- append-only entries, Merkle tiles, signed checkpoints and the search index.
--
-- Invariants enforced here, for every role that is not a superuser disabling triggers:
--   * entries, checkpoints and search_index rows are never updated or deleted;
--   * a tile's hashes may only be extended, never changed (tiles are content-deterministic);
--   * a log head only grows; at an equal size its root may not change; its name and key never change.
-- Indices come from the head row, locked FOR UPDATE by the sequencer, never from a sequence.

CREATE TABLE logs (
    id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
    kind             text        NOT NULL CHECK (kind IN ('rekor-v1', 'ct', 'rekor-v2')),
    tree_id          bigint      NOT NULL CHECK (tree_id > 0),
    public_key       bytea       NOT NULL,
    tree_size        bigint      NOT NULL DEFAULT 0 CHECK (tree_size >= 0),
    root_hash        bytea       NOT NULL CHECK (length(root_hash) = 32),
    checkpoint       text        NOT NULL,
    checkpoint_time  timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE entries (
    log_id           integer  NOT NULL REFERENCES logs (id),
    idx              bigint   NOT NULL CHECK (idx >= 0),
    leaf_hash        bytea    NOT NULL CHECK (length(leaf_hash) = 32),
    body             bytea    NOT NULL CHECK (length(body) BETWEEN 1 AND 65535),
    integrated_time  bigint   NOT NULL,
    kind             text     NOT NULL,
    api_version      text     NOT NULL,
    -- The log's signature over this entry (Rekor v1 SET, or the CT log's SCT signature), made before commit.
    entry_signature  bytea,
    PRIMARY KEY (log_id, idx)
);

-- Duplicate detection: the same canonical body is the same leaf.
CREATE UNIQUE INDEX entries_leaf_hash ON entries (log_id, leaf_hash);

-- Tile (level, idx) of a log: up to 256 concatenated 32-byte hashes (c2sp.org/tlog-tiles).
CREATE TABLE tiles (
    log_id   integer  NOT NULL REFERENCES logs (id),
    level    smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx      bigint   NOT NULL CHECK (idx >= 0),
    hashes   bytea    NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0),
    PRIMARY KEY (log_id, level, idx)
);

-- Every tree head the log signed when it grew (the first signature at each size).
CREATE TABLE checkpoints (
    log_id     integer     NOT NULL REFERENCES logs (id),
    tree_size  bigint      NOT NULL CHECK (tree_size >= 0),
    root_hash  bytea       NOT NULL CHECK (length(root_hash) = 32),
    note       text        NOT NULL,
    signed_at  timestamptz NOT NULL,
    PRIMARY KEY (log_id, tree_size)
);

-- Search keys (artifact hashes, key fingerprints, identities) written in the entry's own transaction.
CREATE TABLE search_index (
    log_id  integer NOT NULL REFERENCES logs (id),
    key     text    NOT NULL CHECK (length(key) BETWEEN 1 AND 1024),
    idx     bigint  NOT NULL,
    PRIMARY KEY (key, log_id, idx)
);

CREATE FUNCTION reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();
CREATE TRIGGER search_index_append_only BEFORE UPDATE OR DELETE ON search_index
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER search_index_no_truncate BEFORE TRUNCATE ON search_index
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();
CREATE TRIGGER tiles_no_delete BEFORE DELETE ON tiles
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER tiles_no_truncate BEFORE TRUNCATE ON tiles
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();
CREATE TRIGGER logs_no_delete BEFORE DELETE ON logs
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER logs_no_truncate BEFORE TRUNCATE ON logs
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();

-- A tile only ever gains hashes at its end: a later full tile contains every earlier partial tile as a prefix.
CREATE FUNCTION tiles_extend_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.log_id <> OLD.log_id OR NEW.level <> OLD.level OR NEW.idx <> OLD.idx THEN
        RAISE EXCEPTION 'tile coordinates are immutable' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF length(NEW.hashes) < length(OLD.hashes)
       OR substring(NEW.hashes FROM 1 FOR length(OLD.hashes)) <> OLD.hashes THEN
        RAISE EXCEPTION 'tile %/%/% may only be extended', OLD.log_id, OLD.level, OLD.idx
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER tiles_extend_only BEFORE UPDATE ON tiles
    FOR EACH ROW EXECUTE FUNCTION tiles_extend_only();

-- The head only moves forward, and a signed size never gets a second root: the log cannot fork in storage.
CREATE FUNCTION logs_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.name <> OLD.name OR NEW.kind <> OLD.kind OR NEW.tree_id <> OLD.tree_id
       OR NEW.public_key <> OLD.public_key OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'log identity of % is immutable', OLD.name USING ERRCODE = 'integrity_constraint_violation';
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
CREATE TRIGGER logs_head_forward_only BEFORE UPDATE ON logs
    FOR EACH ROW EXECUTE FUNCTION logs_head_forward_only();
