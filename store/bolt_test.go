package store

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

func TestMintRetriesTakenCodes(t *testing.T) {
	db, _ := mustOpen(t)
	if _, err := db.Mint(ctx, "https://a.org/1", []link.Channel{link.Email}, creator("dup")); err != nil {
		t.Fatal(err)
	}
	got, err := db.Mint(ctx, "https://a.org/2", []link.Channel{link.Email}, creator("dup", "fresh"))
	if err != nil || got[0].Code != "fresh" {
		t.Fatalf("got %v, %v; want the second code", got, err)
	}
	_, err = db.Mint(ctx, "https://a.org/3", []link.Channel{link.Email}, creator("dup", "dup", "dup", "dup", "dup"))
	if !errors.Is(err, link.ErrCodeTaken) {
		t.Fatalf("always taken: %v", err)
	}
	if links, _ := db.ByURL(ctx, "https://a.org/3"); len(links) != 0 {
		t.Fatalf("a failed mint left %v behind", links)
	}
}

func TestByURLKeepsPagesApart(t *testing.T) {
	db, _ := mustOpen(t)
	mustMint(t, db, "https://a.org/x", []link.Channel{link.QR, link.Email}, "q", "e")
	mustMint(t, db, "https://a.org/x2", []link.Channel{link.Email}, "other")
	links, err := db.ByURL(ctx, "https://a.org/x")
	if err != nil || len(links) != 2 || links[0].Code != "e" || links[1].Code != "q" {
		t.Fatalf("got %v, %v; want e then q (channel order), not other", links, err)
	}
	none, err := db.ByURL(ctx, "https://a.org/none")
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("unknown page: %v, %v; want an empty slice", none, err)
	}
}

func mustMint(t *testing.T, db *DB, url string, chs []link.Channel, codes ...string) {
	t.Helper()
	if _, err := db.Mint(ctx, url, chs, creator(codes...)); err != nil {
		t.Fatal(err)
	}
}

// addClicks is a merge that adds n clicks to a stored record.
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

// Open records schema version 1, and refuses any other with
// ErrSchemaVersion, the db file left as it was.
func TestSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	for _, version := range []string{"7", "0", "2", "x"} {
		raw, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = raw.Update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if v := string(meta.Get(keySchemaVersion)); v != "1" {
				t.Errorf("recorded schema version %q, want 1", v)
			}
			return meta.Put(keySchemaVersion, []byte(version))
		})
		_ = raw.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, err = Open(path)
		if !errors.Is(err, ErrSchemaVersion) || !strings.Contains(err.Error(), strconv.Quote(version)) {
			t.Fatalf("opening schema %s: %v", version, err)
		}
		raw, err = bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = raw.Update(func(tx *bolt.Tx) error {
			if v := string(tx.Bucket(bucketMeta).Get(keySchemaVersion)); v != version {
				t.Errorf("a refused open changed the version to %q", v)
			}
			return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("1"))
		})
		_ = raw.Close()
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
	live, stale := []byte("live"), []byte("stale")
	if err := db.PutSession(ctx, stale, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSession(ctx, live, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionExpiry(ctx, stale); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("an expired session survived the next login: %v", err)
	}
	if exp, err := db.SessionExpiry(ctx, live); err != nil || time.Until(exp) < 59*time.Minute {
		t.Errorf("live session: %v, %v", exp, err)
	}
	if err := db.DeleteSession(ctx, live); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionExpiry(ctx, live); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("deleted session: %v", err)
	}
	if _, err := db.AdminTokenHash(ctx); !errors.Is(err, auth.ErrNoAdminToken) {
		t.Errorf("fresh db admin token: %v", err)
	}
}
