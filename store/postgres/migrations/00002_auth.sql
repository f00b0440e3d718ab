-- The admin token and login sessions: hashes and fingerprints only, as the
-- bbolt store keeps them.

-- +goose Up

-- One row at most. sha256 is the generated admin token's hash, NULL until
-- an instance first starts without DARKSHARE_ADMIN_TOKEN; the first
-- instance to set it wins, by an upsert that sets it only WHERE sha256 IS
-- NULL, which a racing instance checks again once the winner commits.
-- env_tag is the fingerprint of the DARKSHARE_ADMIN_TOKEN of the instance
-- that started last, NULL if it started without one.
CREATE TABLE admin_token (
    id      int PRIMARY KEY CHECK (id = 1),
    sha256  bytea,
    env_tag bytea
);

-- One row per login: the SHA-256 of its session ID, never the ID, and the
-- fingerprint of the admin token that opened it.
CREATE TABLE sessions (
    sha256  bytea PRIMARY KEY,
    expires timestamptz NOT NULL,
    token   bytea NOT NULL
);

-- +goose Down
DROP TABLE sessions;
DROP TABLE admin_token;
