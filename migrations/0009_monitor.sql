-- Monitoring (docs/monitoring.md): `tlog monitor --state-db` keeps what it verified and the alerts it raised here
-- instead of a state file, so the log explorer's health page can show the latest alerts.
--
-- Invariants enforced here:
--   * a position only grows, and at an equal size its root never changes (the monitor never saves after
--     misbehaviour, so a saved position is always a verified, consistent extension of the one before);
--   * one row per alert: the event ID is stable for a finding, so an alert is raised once, also across restarts;
--     only its delivery time is ever set afterwards, and alerts are never deleted by the service role.

CREATE TABLE monitor_position (
    log_url       text        PRIMARY KEY CHECK (length(log_url) BETWEEN 1 AND 2048),
    verifier_key  text        NOT NULL CHECK (length(verifier_key) BETWEEN 1 AND 4096),
    checkpoint    text        NOT NULL CHECK (length(checkpoint) <= 65536),
    tree_size     bigint      NOT NULL CHECK (tree_size >= 0),
    root_hash     text        NOT NULL CHECK (root_hash ~ '^[0-9a-f]{64}$'),
    -- The tree's right edge at tree_size (JSON array of levels of hex hashes, at most 256 per level).
    edge          text        NOT NULL CHECK (length(edge) <= 1048576),
    updated_at    timestamptz NOT NULL
);

CREATE TABLE monitor_alert (
    event_id      text        PRIMARY KEY CHECK (event_id ~ '^[0-9a-f]{32}$'),
    log_url       text        NOT NULL CHECK (length(log_url) <= 2048),
    origin        text        NOT NULL CHECK (length(origin) <= 1024),
    type          text        NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
    severity      text        NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    log_index     bigint      CHECK (log_index >= 0),
    summary       text        NOT NULL CHECK (length(summary) <= 4096),
    body          text        NOT NULL CHECK (length(body) <= 262144),
    raised_at     timestamptz NOT NULL,
    -- Null until every sink took the alert: a monitor that stopped in between delivers it again on restart.
    delivered_at  timestamptz
);

CREATE INDEX monitor_alert_by_time ON monitor_alert (raised_at DESC);

CREATE FUNCTION monitor_position_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tree_size < OLD.tree_size THEN
        RAISE EXCEPTION 'monitor_position: % would roll back from % to %', OLD.log_url, OLD.tree_size, NEW.tree_size
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.tree_size = OLD.tree_size AND NEW.root_hash <> OLD.root_hash THEN
        RAISE EXCEPTION 'monitor_position: % would change its root at size %', OLD.log_url, OLD.tree_size
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.verifier_key <> OLD.verifier_key THEN
        RAISE EXCEPTION 'monitor_position: % would change its pinned key', OLD.log_url USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER monitor_position_only_grows BEFORE UPDATE ON monitor_position
    FOR EACH ROW EXECUTE FUNCTION monitor_position_only_grows();

CREATE FUNCTION monitor_alert_only_delivered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.event_id, NEW.log_url, NEW.origin, NEW.type, NEW.severity, NEW.log_index, NEW.summary, NEW.body, NEW.raised_at)
        IS DISTINCT FROM (OLD.event_id, OLD.log_url, OLD.origin, OLD.type, OLD.severity, OLD.log_index, OLD.summary, OLD.body, OLD.raised_at) THEN
        RAISE EXCEPTION 'monitor_alert: only delivered_at may change' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER monitor_alert_only_delivered BEFORE UPDATE ON monitor_alert
    FOR EACH ROW EXECUTE FUNCTION monitor_alert_only_delivered();
