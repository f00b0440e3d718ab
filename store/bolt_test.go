package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axiomhq/hyperloglog"
	bolt "go.etcd.io/bbolt"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
)

// mustOpen opens a fresh db in t.TempDir(); its cleanup runs bbolt's
// consistency check, then closes it.
func mustOpen(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "darkshare.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("db check: %v", err)
		}
		_ = db.Close()
	})
	return db, path
}

var ctx = context.Background()

func creator(codes ...string) func(link.Channel) (link.Link, error) {
	i := 0
	return func(ch link.Channel) (link.Link, error) {
		if i >= len(codes) {
			return link.Link{}, errors.New("creator ran out of codes")
		}
		i++
		return link.Link{Code: codes[i-1], Channel: ch, StatsKey: "k" + codes[i-1], CreatedAt: time.Unix(1700000000, 0).UTC()}, nil
	}
}

func TestMintIsIdempotentAndSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := db.Mint(ctx, "https://a.org/x", []link.Channel{link.Email, link.SMS}, creator("c1", "c2"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.Mint(ctx, "https://a.org/x", []link.Channel{link.SMS, link.Email, link.QR}, creator("c3"))
	if err != nil {
		t.Fatal(err)
	}
	if first[0].Code != "c1" || first[1].Code != "c2" || again[0].Code != "c2" || again[1].Code != "c1" || again[2].Code != "c3" {
		t.Fatalf("first %v, again %v", first, again)
	}
	if again[2].URL != "" && again[2].URL != "https://a.org/x" {
		t.Errorf("url %q", again[2].URL)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := db.Get(ctx, "c2")
	if err != nil || l.Channel != link.SMS || l.StatsKey != "kc2" {
		t.Fatalf("after reopen: %+v, %v", l, err)
	}
	if _, err := db.Get(ctx, "nope"); !errors.Is(err, link.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
}

func addClicks(code string, day stats.Day, n uint64) stats.Merge {
	return stats.Merge{DayKey: stats.DayKey{Code: code, Day: day}, Apply: func(stored []byte) ([]byte, error) {
		r := &stats.Record{Counts: map[stats.Metric]uint64{}}
		if stored != nil {
			var err error
			if r, err = stats.DecodeRecord(stored); err != nil {
				return nil, err
			}
		}
		r.Counts[stats.Clicks] += n
		return stats.EncodeRecord(r)
	}}
}

func clicksByDay(t *testing.T, db *DB, code string) map[stats.Day]uint64 {
	t.Helper()
	recs, err := db.Records(ctx, code, stats.Period{From: 19000, To: 21000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[stats.Day]uint64{}
	for _, sr := range recs {
		r, err := stats.DecodeRecord(sr.Data)
		if err != nil {
			t.Fatal(err)
		}
		out[sr.Day] = r.Counts[stats.Clicks]
	}
	return out
}

func TestDayRecordsMergeAndStayApart(t *testing.T) {
	db, _ := mustOpen(t)
	day := stats.Day(20000)
	batch := []stats.Merge{addClicks("ab", day, 1), addClicks("ab", day+1, 2), addClicks("abc", day, 3)}
	for range 2 {
		if err := db.Fold(ctx, batch, stats.Checkpoint{}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := clicksByDay(t, db, "ab"); len(got) != 2 || got[day] != 2 || got[day+1] != 4 {
		t.Fatalf("ab: %v; want day 20000: 2, day 20001: 4, and nothing of abc", got)
	}
	failing := stats.Merge{DayKey: stats.DayKey{Code: "ab", Day: day}, Apply: func([]byte) ([]byte, error) { return nil, errors.New("boom") }}
	if err := db.Fold(ctx, []stats.Merge{addClicks("ab", day, 100), failing}, stats.Checkpoint{}, 0); err == nil {
		t.Fatal("a failing merge did not fail the write")
	}
	if got := clicksByDay(t, db, "ab"); got[day] != 2 {
		t.Fatalf("a failed write left %d clicks; it must apply nothing", got[day])
	}
}

func TestLogCheckpointsAndFold(t *testing.T) {
	db, _ := mustOpen(t)
	first, err := db.AppendLog(ctx, []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := db.AppendLog(ctx, []byte("two"))
	if err != nil || second <= first {
		t.Fatalf("sequences %d then %d, %v", first, second, err)
	}
	if err := db.Fold(ctx, nil, stats.Checkpoint{Part: 3, Seq: first, Data: []byte("old")}, 0); err != nil {
		t.Fatal(err)
	}
	failing := stats.Merge{DayKey: stats.DayKey{Code: "x", Day: 20001}, Apply: func([]byte) ([]byte, error) { return nil, errors.New("boom") }}
	if err := db.Fold(ctx, []stats.Merge{failing}, stats.Checkpoint{Part: 3, Seq: second, Data: []byte("new")}, second); err == nil {
		t.Fatal("a failing fold succeeded")
	}
	if log, _ := db.Log(ctx); len(log) != 2 {
		t.Fatalf("a failed fold deleted log entries: %v", log)
	}
	if cps, _ := db.Checkpoints(ctx); len(cps) != 1 || string(cps[0].Data) != "old" || cps[0].Seq != first {
		t.Fatalf("a failed fold replaced the checkpoint: %+v", cps)
	}
	if err := db.Fold(ctx, []stats.Merge{addClicks("x", 20001, 5)}, stats.Checkpoint{Part: 3, Seq: second, Data: []byte("new")}, first); err != nil {
		t.Fatal(err)
	}
	log, err := db.Log(ctx)
	if err != nil || len(log) != 1 || log[0].Seq != second || string(log[0].Data) != "two" {
		t.Fatalf("after cutting up to %d: %v, %v", first, log, err)
	}
	cps, err := db.Checkpoints(ctx)
	if err != nil || len(cps) != 1 || cps[0].Part != 3 || cps[0].Seq != second || string(cps[0].Data) != "new" {
		t.Fatalf("checkpoints after the fold: %+v, %v", cps, err)
	}
	if got := clicksByDay(t, db, "x"); got[20001] != 5 {
		t.Fatalf("folded record: %v", got)
	}
}

// A db written by schema 3 (one key per counter, a bucket of sketches)
// opens with its counts folded into day records.
func TestMigrationFromPerCounterKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	sk := hyperloglog.New14()
	for i := range 50 {
		sk.InsertHash(uint64(i) * 0x9E3779B97F4A7C15)
	}
	skBytes, _ := sk.MarshalBinary()
	key := func(code string, day uint32, metric string) []byte {
		return append(binary.BigEndian.AppendUint32(append([]byte(code), 0), day), metric...)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket([]byte("meta"))
		counts, _ := tx.CreateBucket([]byte("counts"))
		uniques, _ := tx.CreateBucket([]byte("uniques"))
		_ = meta.Put([]byte("schema_version"), []byte("3"))
		_ = counts.Put(key("ab", 20000, "clicks"), binary.BigEndian.AppendUint64(nil, 7))
		_ = counts.Put(key("ab", 20000, "ref:webmail"), binary.BigEndian.AppendUint64(nil, 5))
		_ = counts.Put(key("ab", 20001, "shares"), binary.BigEndian.AppendUint64(nil, 2))
		return uniques.Put(key("ab", 20000, "uniques"), skBytes)
	})
	_ = raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, err := db.Records(ctx, "ab", stats.Period{From: 19000, To: 21000})
	if err != nil || len(recs) != 2 {
		t.Fatalf("records %v, %v", recs, err)
	}
	r, err := stats.DecodeRecord(recs[0].Data)
	if err != nil || r.Counts[stats.Clicks] != 7 || r.Counts["ref:webmail"] != 5 || r.Visitors == nil || r.Visitors.Estimate() < 48 {
		t.Fatalf("day 20000: %+v, %v", r, err)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("counts")) != nil || tx.Bucket([]byte("uniques")) != nil {
			t.Error("the old buckets are still there")
		}
		return nil
	})
}

func TestSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := string(meta.Get(keySchemaVersion)); v != fmt.Sprint(SchemaVersion) {
			t.Errorf("recorded schema version %q, want %d", v, SchemaVersion)
		}
		return meta.Put(keySchemaVersion, []byte("99"))
	})
	_ = raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("opening a newer schema: %v", err)
	}
}

func TestOpenFailsFastWhenLocked(t *testing.T) {
	_, path := mustOpen(t)
	start := time.Now()
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second open: %v", err)
	}
	if waited := time.Since(start); waited > OpenTimeout+3*time.Second {
		t.Fatalf("second open took %s", waited)
	}
}

func TestSessions(t *testing.T) {
	db, _ := mustOpen(t)
	tokenA, tokenB := []byte("fingerprint of A"), []byte("fingerprint of B")
	live, stale, other := []byte("live"), []byte("stale"), []byte("other")
	for hash, s := range map[string]auth.Session{
		"stale": {Expires: time.Now().Add(-time.Minute), Token: tokenA},
		"other": {Expires: time.Now().Add(time.Hour), Token: tokenB},
	} {
		if err := db.PutSession(ctx, []byte(hash), s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutSession(ctx, live, auth.Session{Expires: time.Now().Add(time.Hour), Token: tokenA}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, stale); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("an expired session survived the next login: %v", err)
	}
	if _, err := db.Session(ctx, other); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("a session of another admin token survived the next login: %v", err)
	}
	if s, err := db.Session(ctx, live); err != nil || time.Until(s.Expires) < 59*time.Minute || !bytes.Equal(s.Token, tokenA) {
		t.Errorf("live session: %+v, %v", s, err)
	}
	if err := db.DeleteSession(ctx, live); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, live); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("deleted session: %v", err)
	}
	if st, err := db.AdminToken(ctx); err != nil || st.Hash != nil || st.EnvTag != nil {
		t.Errorf("fresh db admin token: %+v, %v", st, err)
	}
}

// A db of schema 5 (day records keyed code first) opens with the same
// records under day-first keys.
func TestMigrationToDayFirstKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v5.db")
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	record := func(clicks uint64) []byte {
		b, _ := stats.EncodeRecord(&stats.Record{Counts: map[stats.Metric]uint64{stats.Clicks: clicks}})
		return b
	}
	oldKey := func(code string, day uint32) []byte {
		return binary.BigEndian.AppendUint32(append([]byte(code), 0), day)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket([]byte("meta"))
		days, _ := tx.CreateBucket([]byte("days"))
		_ = meta.Put([]byte("schema_version"), []byte("5"))
		_ = days.Put(oldKey("ab", 20000), record(3))
		_ = days.Put(oldKey("ab", 20001), record(4))
		return days.Put(oldKey("zz", 20000), record(9))
	})
	_ = raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := clicksByDay(t, db, "ab"); len(got) != 2 || got[20000] != 3 || got[20001] != 4 {
		t.Fatalf("ab after migration: %v", got)
	}
	if got := clicksByDay(t, db, "zz"); len(got) != 1 || got[20000] != 9 {
		t.Fatalf("zz after migration: %v", got)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}
