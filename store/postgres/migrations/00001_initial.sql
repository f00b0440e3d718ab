-- The first schema: links, API keys, the visitor salt and the change feed.
-- Plain SQL that CockroachDB also accepts, but for the salts table's storage
-- parameters (see docs/POSTGRES.md).

-- +goose Up

-- One row per code. url holds the target's bytes as given (a query string
-- may be any bytes, which the bbolt store keeps), so it is bytea: it orders
-- byte by byte, as the bbolt store's keys do, and no collation applies.
-- url_lower is Go's strings.ToLower of url, what a search matches: lowering
-- in Go matches the bbolt store exactly, where the database's lower() would
-- depend on its collation. Channel names are lowercase ASCII words, which
-- every collation orders alike.
CREATE TABLE links (
    code       text PRIMARY KEY,
    url        bytea NOT NULL,
    channel    text NOT NULL,
    url_lower  text NOT NULL,
    created_at timestamptz NOT NULL,
    stats_key  text NOT NULL,
    disabled   boolean NOT NULL DEFAULT false,
    campaign   text, -- JSON of link.Campaign; NULL for the service's
    CONSTRAINT links_url_channel_key UNIQUE (url, channel)
);

CREATE TABLE api_keys (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    scopes     text[] NOT NULL,
    created_at timestamptz NOT NULL,
    sha256     bytea -- NULL for none, as the bbolt store keeps a nil hash
);

-- The visitor salt: today's, and briefly an older one. It must stay out of
-- dumps (docs/POSTGRES.md). Vacuumed as soon as a row is dead, so that a
-- deleted salt does not wait for 50 dead rows (50 days) to be vacuumed.
CREATE TABLE salts (
    day  bigint PRIMARY KEY, -- days since 1970-01-01, UTC
    salt bytea NOT NULL
);
ALTER TABLE salts SET (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0);

-- The change feed. A writer takes the next numbers from change_counter's
-- one row, whose lock it holds until it commits, so numbers become visible
-- in order and a reader that saw n has seen everything below n. changes
-- keeps one row per thing changed, with its latest number, so it grows
-- with the links and keys, not with every change.
CREATE TABLE change_counter (
    id   int PRIMARY KEY CHECK (id = 1),
    last bigint NOT NULL
);
INSERT INTO change_counter (id, last) VALUES (1, 0);

CREATE TABLE changes (
    kind text NOT NULL,
    ref  text NOT NULL,
    seq  bigint NOT NULL,
    PRIMARY KEY (kind, ref)
);
CREATE INDEX changes_seq ON changes (seq);

-- +goose Down
DROP TABLE changes;
DROP TABLE change_counter;
DROP TABLE salts;
DROP TABLE api_keys;
DROP TABLE links;
