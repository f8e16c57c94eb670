-- Witnessing (c2sp.org/tlog-witness). Two sides share this database:
--   * the witness host (TransparencyLog.Witness) keeps, per log origin, the one checkpoint it last cosigned, and the
--     log-signed notes it refused as evidence of misbehaviour;
--   * the log service keeps the latest checkpoint of each log that carries its witnesses' cosignatures.
--
-- Invariants enforced here:
--   * a witnessed log is never removed (re-adding it at size 0 would let a forked view be cosigned);
--   * a witness's state only grows, and at an equal size its root never changes: the witness advances it with a
--     compare-and-swap UPDATE, and this trigger refuses anything else, so no bug or second process cosigns two views;
--   * evidence rows are never updated or deleted.

CREATE TABLE witness_log (
    origin       text        PRIMARY KEY CHECK (length(origin) BETWEEN 1 AND 1024),
    origin_hash  bytea       NOT NULL UNIQUE CHECK (length(origin_hash) = 32),
    added_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE witness_state (
    origin       text        PRIMARY KEY REFERENCES witness_log (origin),
    tree_size    bigint      NOT NULL CHECK (tree_size >= 0),
    root_hash    bytea       NOT NULL CHECK (length(root_hash) = 32),
    -- The log-signed note last cosigned (empty for the initial size-0 state).
    note         text        NOT NULL CHECK (length(note) <= 65536),
    cosigned_at  timestamptz
);

CREATE TABLE witness_evidence (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    origin       text        NOT NULL REFERENCES witness_log (origin),
    received_at  timestamptz NOT NULL,
    reason       text        NOT NULL CHECK (length(reason) <= 200),
    old_size     bigint      NOT NULL,
    note         text        NOT NULL CHECK (length(note) <= 65536)
);

CREATE FUNCTION witness_state_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.origin <> OLD.origin THEN
        RAISE EXCEPTION 'witness_state: origin is immutable' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.tree_size < OLD.tree_size THEN
        RAISE EXCEPTION 'witness_state: % would roll back from % to %', OLD.origin, OLD.tree_size, NEW.tree_size
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.tree_size = OLD.tree_size AND NEW.root_hash <> OLD.root_hash THEN
        RAISE EXCEPTION 'witness_state: % would change its root at size %', OLD.origin, OLD.tree_size
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER witness_state_only_grows BEFORE UPDATE ON witness_state
    FOR EACH ROW EXECUTE FUNCTION witness_state_only_grows();

CREATE FUNCTION witness_no_removal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: rows are never removed or rewritten', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;

CREATE TRIGGER witness_log_no_removal BEFORE UPDATE OR DELETE ON witness_log
    FOR EACH ROW EXECUTE FUNCTION witness_no_removal();
CREATE TRIGGER witness_state_no_delete BEFORE DELETE ON witness_state
    FOR EACH ROW EXECUTE FUNCTION witness_no_removal();
CREATE TRIGGER witness_evidence_no_change BEFORE UPDATE OR DELETE ON witness_evidence
    FOR EACH ROW EXECUTE FUNCTION witness_no_removal();

-- Log side: the latest checkpoint of each log carrying its witnesses' cosignatures (served at /checkpoint).
CREATE TABLE log_cosigned_checkpoints (
    log_id       integer     PRIMARY KEY REFERENCES logs (id),
    tree_size    bigint      NOT NULL CHECK (tree_size >= 0),
    note         text        NOT NULL CHECK (length(note) <= 65536),
    cosigned_at  timestamptz NOT NULL
);
