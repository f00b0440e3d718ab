-- Click counts (stats.Store): counters, visitor sketches, and the last batch
-- of each writer. Plain SQL that CockroachDB also accepts, but for the
-- fillfactor storage parameters (see docs/POSTGRES.md).

-- +goose Up

-- One row per key, day and counter; each flush adds to n. A key is a link's
-- code or a page-view key ("~" and a page's URL), kept as bytea: the store
-- takes any key as the bbolt store does (text would refuse a NUL byte or
-- invalid UTF-8, and one refused key would hold back every later flush),
-- and bytea orders byte by byte, as stats.DayKey.Compare does, with no
-- collation involved. Records reads by (code, day); Scan by (day, code).
CREATE TABLE counts (
    code   bytea   NOT NULL,
    day    integer NOT NULL, -- days since 1970-01-01, UTC
    metric text    NOT NULL,
    n      bigint  NOT NULL,
    PRIMARY KEY (code, day, metric)
);
CREATE INDEX counts_day_code ON counts (day, code);
-- A row is updated at every flush that counts its link on its day: room on
-- each page lets PostgreSQL write the new version beside the old one
-- without touching the indexes (a HOT update): an Apply over link-days
-- counted before took about a quarter less time (docs/PERFORMANCE.md).
ALTER TABLE counts SET (fillfactor = 70);

-- One row per key and day that saw a visitor ID: the HyperLogLog sketch of
-- the IDs (github.com/axiomhq/hyperloglog's binary form, precision 14),
-- merged in Go under a row lock, and its estimate, so that a scan reads the
-- unique visitors without decoding sketches.
CREATE TABLE sketches (
    code     bytea   NOT NULL,
    day      integer NOT NULL,
    sketch   bytea   NOT NULL,
    estimate bigint  NOT NULL,
    PRIMARY KEY (code, day)
);
CREATE INDEX sketches_day_code ON sketches (day, code);
ALTER TABLE sketches SET (fillfactor = 70);

-- The Seq of the last batch each writer (an aggregator, one per process)
-- applied, written in the batch's transaction: a retried batch whose first
-- try committed after all is recognised and not counted again. One row per
-- process that ever flushed; a row is no longer needed once its process
-- stops.
CREATE TABLE stats_writers (
    writer     bigint      PRIMARY KEY, -- the uint64 Writer, bit for bit
    seq        bigint      NOT NULL,
    applied_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE stats_writers;
DROP TABLE sketches;
DROP TABLE counts;
