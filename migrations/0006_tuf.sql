-- The TUF repository served at /tuf/ (docs/trust-root.md). Every published metadata version and target file is
-- kept forever and never changes: clients fetch N.root.json for every N, and consistent snapshots make every other
-- versioned name immutable. The service role may read and insert, never update or delete (see Migrator.GrantAsync).
CREATE TABLE tuf_metadata (
    role         text        NOT NULL CHECK (role IN ('root', 'targets', 'snapshot', 'timestamp')),
    version      bigint      NOT NULL CHECK (version >= 1),
    bytes        bytea       NOT NULL CHECK (length(bytes) <= 5000000),
    sha256       bytea       NOT NULL CHECK (length(sha256) = 32),
    expires      timestamptz NOT NULL,
    published_at timestamptz NOT NULL,
    -- One set of bytes per (role, version): two replicas can never serve different files under one versioned name.
    PRIMARY KEY (role, version)
);

CREATE TABLE tuf_target (
    sha256 bytea  NOT NULL CHECK (length(sha256) = 32),
    name   text   NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    length bigint NOT NULL CHECK (length >= 0),
    bytes  bytea  NOT NULL,
    CHECK (length(bytes) = length),
    PRIMARY KEY (sha256, name)
);
