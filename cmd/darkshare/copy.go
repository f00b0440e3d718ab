package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
)

// copyBatch is how many links, or link-days of counts, go into one write.
const copyBatch = 5000

// errNotEmpty marks a destination that already holds data.
var errNotEmpty = errors.New("not empty")

// copyCommand is "darkshare copy --from FILE.db --to postgres://…": it
// moves a bbolt file (a backup, or the db of a stopped darkshare) into an
// empty PostgreSQL database, then reads both back and compares them.
// Login sessions and the visitor salt stay behind (see copyAbout).
func copyCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := command{name: "copy", flags: "--from FILE.db --to postgres://…", about: copyAbout}
	fs := cmd.flagSet()
	from := fs.String("from", "", "bbolt `FILE` to copy: a backup, or the db of a stopped darkshare")
	to := getenv("DARKSHARE_DB")
	fs.Var(redactedDB{&to}, "to", "`URL` of the empty PostgreSQL database to copy into: postgres://user:password@host:port/database (default: $DARKSHARE_DB)")
	if _, err := cmd.parse(fs, args, stdout); err != nil {
		return err
	}
	switch {
	case *from == "":
		return errors.New("copy: give the bbolt file to copy: --from FILE.db")
	case !isPostgresURL(to):
		return errors.New("copy: --to must be a PostgreSQL URL, postgres://user:password@host:port/database (a copy of a bbolt file is a backup: darkshare backup)")
	}
	// store.Open would create a missing file and copy nothing from it.
	err := mustExist(*from)
	if errors.Is(err, errNoDB) {
		return fmt.Errorf("copy: %w: check --from", err)
	}
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	src, err := openBolt(*from)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	defer src.close()
	if err := src.loadCounts(); err != nil {
		return fmt.Errorf("copy: the counts of %s: %w", *from, err)
	}
	dst, err := openBackend(ctx, to)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	defer dst.close()
	c := &copier{src: src, dst: dst, progress: stderr, today: stats.DayOf(time.Now())}
	if err := c.checkEmpty(ctx); err != nil {
		return fmt.Errorf("copy: %s is %w: copy into a new, empty database (createdb), before any darkshare starts on it", redactDB(to), err)
	}
	sum, err := c.copy(ctx)
	if err != nil {
		return fmt.Errorf("copy: %w; the database holds part of the copy: drop it, create it again and copy again", err)
	}
	if err := c.verify(ctx, sum); err != nil {
		return fmt.Errorf("copy: VERIFICATION FAILED, do not use the copy: %w", err)
	}
	return sum.print(stdout, *from, redactDB(to))
}

const copyAbout = `
Copies a bbolt file (a backup, or the db of a stopped darkshare) into an
empty PostgreSQL database: every link with its code, stats key, campaign
and disabled flag, the API keys, the admin token's hash, and every count
of every link and day. Then it reads both back and compares them: the same
links, field by field, the same keys, and the same sums of every counter
on every day; it fails loudly if anything differs.

Not copied: login sessions (log in again), and the visitor salt, which is
what turns an address and a browser into the day's visitor ID: a copy of
it is one more place it could leak from, and the first instance to start
makes a new one (today's unique visitors start over). The database must be
empty: create it, copy, then start the instances.`

// copier copies one backend into another.
type copier struct {
	src, dst *backend
	progress io.Writer
	today    stats.Day
}

// copySummary is what was copied, and what the source holds, to compare
// the destination with.
type copySummary struct {
	links      linkDigest
	keys       []string // every field of each, sorted
	adminToken []byte   // nil if the source has none
	counts     countTally
}

// periods are the spans of days that hold counts: from 1970 to a year from
// now (a clock may run ahead), in pieces a Scan accepts.
func (c *copier) periods() []stats.Period {
	var ps []stats.Period
	last := c.today + 366
	for from := stats.Day(0); from <= last; from += stats.MaxPeriodDays {
		ps = append(ps, stats.Period{From: from, To: min(from+stats.MaxPeriodDays-1, last)})
	}
	return ps
}

// checkEmpty returns an error wrapping errNotEmpty, saying what it found,
// if dst holds a link, a key, an admin token or a count.
func (c *copier) checkEmpty(ctx context.Context) error {
	page, err := c.dst.links.List(ctx, link.ListQuery{Limit: 1})
	if err != nil {
		return err
	}
	if len(page.Links) > 0 {
		return fmt.Errorf("%w: it holds links", errNotEmpty)
	}
	keys, err := c.dst.keys.ListKeys(ctx)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		return fmt.Errorf("%w: it holds API keys", errNotEmpty)
	}
	st, err := c.dst.admin.AdminToken(ctx)
	if err != nil {
		return err
	}
	if st.Hash != nil || st.EnvTag != nil {
		return fmt.Errorf("%w: it holds an admin token (a darkshare has started on it)", errNotEmpty)
	}
	for _, p := range c.periods() {
		err := c.dst.counts.Scan(ctx, p, func(stats.KeyCounts) error { return errNotEmpty })
		if errors.Is(err, errNotEmpty) {
			return fmt.Errorf("%w: it holds counts", errNotEmpty)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *copier) copy(ctx context.Context) (*copySummary, error) {
	sum := &copySummary{}
	var err error
	if sum.links, err = c.copyLinks(ctx); err != nil {
		return nil, err
	}
	if sum.keys, err = c.copyKeys(ctx); err != nil {
		return nil, err
	}
	if sum.counts, err = c.copyCounts(ctx); err != nil {
		return nil, err
	}
	if sum.adminToken, err = c.copyAdminToken(ctx); err != nil {
		return nil, err
	}
	return sum, nil
}

// copyLinks mints every link of src in dst as it is: same code, creation
// time, stats key, campaign and disabled flag.
func (c *copier) copyLinks(ctx context.Context) (linkDigest, error) {
	var (
		digest linkDigest
		batch  = make(map[string]link.Link, copyBatch) // by URL \x00 channel
	)
	flush := func() error {
		targets := make([]link.Target, 0, len(batch))
		for _, l := range batch {
			targets = append(targets, link.Target{URL: l.URL, Channels: []link.Channel{l.Channel}})
		}
		created, err := c.dst.links.MintMany(ctx, targets, func(url string, ch link.Channel) (link.Link, error) {
			l, ok := batch[url+"\x00"+string(ch)]
			if !ok {
				return link.Link{}, fmt.Errorf("the store asked for a link of %s (%s) that is not in the batch", url, ch)
			}
			return l, nil
		})
		if err != nil {
			return fmt.Errorf("write links: %w", err)
		}
		if created != len(batch) {
			return fmt.Errorf("write links: %d of a batch of %d were created", created, len(batch))
		}
		clear(batch)
		fmt.Fprintf(c.progress, "\rlinks: %d copied", digest.n)
		return nil
	}
	err := c.src.links.Each(ctx, func(l link.Link) error {
		digest.add(l)
		batch[l.URL+"\x00"+string(l.Channel)] = l
		if len(batch) == copyBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	fmt.Fprintln(c.progress)
	return digest, err
}

func (c *copier) copyKeys(ctx context.Context) ([]string, error) {
	keys, err := c.src.keys.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := c.dst.keys.PutKey(ctx, k); err != nil {
			return nil, fmt.Errorf("write API key %s: %w", k.ID, err)
		}
	}
	return keyFields(keys), nil
}

// keyFields returns every field of each key, sorted by ID: keys created
// in the same second may be listed in either order.
func keyFields(keys []auth.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%s %q %v %d %x", k.ID, k.Name, k.Scopes, k.CreatedAt.UnixNano(), k.Hash)
	}
	slices.Sort(out)
	return out
}

func (c *copier) copyAdminToken(ctx context.Context) ([]byte, error) {
	st, err := c.src.admin.AdminToken(ctx)
	if err != nil || st.Hash == nil {
		// None: the file's darkshare ran with DARKSHARE_ADMIN_TOKEN only.
		return nil, err
	}
	if err := c.dst.admin.SetAdminTokenHash(ctx, st.Hash); err != nil {
		return nil, fmt.Errorf("write the admin token's hash: %w", err)
	}
	return st.Hash, nil
}

// copyCounts tallies the source's counts, then copies the records of each
// day that has some: sketches and all, read with Records, written with
// Apply in batches.
func (c *copier) copyCounts(ctx context.Context) (countTally, error) {
	tally, err := c.tally(ctx, c.src.counts)
	if err != nil {
		return nil, fmt.Errorf("read counts: %w", err)
	}
	w := &countWriter{store: c.dst.counts, writer: rand.Uint64()}
	days, done := slices.Sorted(maps.Keys(tally)), 0
	for _, day := range days {
		var codes []string
		err := c.src.counts.Scan(ctx, stats.Period{From: day, To: day}, func(kc stats.KeyCounts) error {
			codes = append(codes, kc.Key)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read the counts of %s: %w", day, err)
		}
		for _, code := range codes {
			recs, err := c.src.counts.Records(ctx, code, stats.Period{From: day, To: day})
			if err != nil {
				return nil, fmt.Errorf("read the counts of %s on %s: %w", code, day, err)
			}
			for _, r := range recs {
				if err := w.add(ctx, stats.DeltaOf(stats.DayKey{Code: code, Day: r.Day}, r.Record)); err != nil {
					return nil, err
				}
			}
		}
		done += len(codes)
		fmt.Fprintf(c.progress, "\rcounts: %d link-days copied", done)
	}
	fmt.Fprintln(c.progress)
	return tally, w.flush(ctx)
}

// countWriter applies deltas to a store in batches.
type countWriter struct {
	store  stats.Store
	writer uint64
	seq    uint64
	deltas []stats.Delta
}

func (w *countWriter) add(ctx context.Context, d stats.Delta) error {
	w.deltas = append(w.deltas, d)
	if len(w.deltas) < copyBatch {
		return nil
	}
	return w.flush(ctx)
}

func (w *countWriter) flush(ctx context.Context) error {
	if len(w.deltas) == 0 {
		return nil
	}
	slices.SortFunc(w.deltas, func(a, b stats.Delta) int { return a.DayKey.Compare(b.DayKey) })
	w.seq++
	if err := w.store.Apply(ctx, stats.Batch{Writer: w.writer, Seq: w.seq, Deltas: w.deltas}); err != nil {
		return fmt.Errorf("write counts: %w", err)
	}
	// The store may keep the deltas (stats.Store): start a new slice.
	w.deltas = make([]stats.Delta, 0, copyBatch)
	return nil
}

// dayTally is what a store holds of one day: how many keys have counts,
// and each counter summed over them (Uniques: the estimates, summed).
type dayTally struct {
	keys   int
	counts map[stats.Metric]uint64
}

// countTally is a dayTally for every day with counts.
type countTally map[stats.Day]*dayTally

func (c *copier) tally(ctx context.Context, s stats.Store) (countTally, error) {
	t := countTally{}
	for _, p := range c.periods() {
		err := s.Scan(ctx, p, func(kc stats.KeyCounts) error {
			d := t[kc.Day]
			if d == nil {
				d = &dayTally{counts: map[stats.Metric]uint64{}}
				t[kc.Day] = d
			}
			d.keys++
			for m, n := range kc.Counts {
				d.counts[m] += n
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

// diff describes how o differs from t, at most a few days of it; "" if
// they are the same.
func (t countTally) diff(o countTally) string {
	var out []string
	days := slices.Sorted(maps.Keys(t))
	for d := range o {
		if _, ok := t[d]; !ok {
			days = append(days, d)
		}
	}
	for _, d := range days {
		a, b := t[d], o[d]
		switch {
		case a == nil:
			out = append(out, fmt.Sprintf("%s: only in the copy", d))
		case b == nil:
			out = append(out, fmt.Sprintf("%s: missing from the copy", d))
		case a.keys != b.keys:
			out = append(out, fmt.Sprintf("%s: %d links counted, %d in the copy", d, a.keys, b.keys))
		case !maps.Equal(a.counts, b.counts):
			for _, m := range slices.Sorted(maps.Keys(a.counts)) {
				if a.counts[m] != b.counts[m] {
					out = append(out, fmt.Sprintf("%s: %s %d, %d in the copy", d, m, a.counts[m], b.counts[m]))
				}
			}
			for m := range b.counts {
				if _, ok := a.counts[m]; !ok {
					out = append(out, fmt.Sprintf("%s: %s only in the copy", d, m))
				}
			}
		}
	}
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("and %d more", len(out)-10))
	}
	return strings.Join(out, "; ")
}

// total returns metric m summed over every day.
func (t countTally) total(m stats.Metric) uint64 {
	var n uint64
	for _, d := range t {
		n += d.counts[m]
	}
	return n
}

func (t countTally) linkDays() int {
	n := 0
	for _, d := range t {
		n += d.keys
	}
	return n
}

// linkDigest sums a hash of every field of every link, in any order: two
// stores with the same digest hold the same links, but with odds of 2^-64.
type linkDigest struct {
	n   int
	sum uint64
}

func (d *linkDigest) add(l link.Link) {
	h := fnv.New64a()
	campaign, _ := json.Marshal(l.Campaign)
	for _, f := range []string{l.Code, l.URL, string(l.Channel), l.StatsKey, string(campaign)} {
		_ = binary.Write(h, binary.BigEndian, uint64(len(f)))
		_, _ = io.WriteString(h, f)
	}
	_ = binary.Write(h, binary.BigEndian, l.CreatedAt.UnixNano())
	_ = binary.Write(h, binary.BigEndian, l.Disabled)
	d.n++
	d.sum += h.Sum64()
}

// verify reads dst back and compares it with what was read from src.
func (c *copier) verify(ctx context.Context, sum *copySummary) error {
	var links linkDigest
	if err := c.dst.links.Each(ctx, func(l link.Link) error { links.add(l); return nil }); err != nil {
		return fmt.Errorf("read the links back: %w", err)
	}
	if links.n != sum.links.n {
		return fmt.Errorf("%d links in the file, %d in the copy", sum.links.n, links.n)
	}
	if links.sum != sum.links.sum {
		return fmt.Errorf("the %d links differ between the file and the copy", links.n)
	}
	keys, err := c.dst.keys.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("read the API keys back: %w", err)
	}
	if !slices.Equal(keyFields(keys), sum.keys) {
		return fmt.Errorf("%d API keys in the file, %d in the copy, or they differ", len(sum.keys), len(keys))
	}
	st, err := c.dst.admin.AdminToken(ctx)
	if err != nil {
		return fmt.Errorf("read the admin token back: %w", err)
	}
	if !bytes.Equal(st.Hash, sum.adminToken) {
		return errors.New("the admin token's hash differs in the copy")
	}
	counts, err := c.tally(ctx, c.dst.counts)
	if err != nil {
		return fmt.Errorf("read the counts back: %w", err)
	}
	if d := sum.counts.diff(counts); d != "" {
		return fmt.Errorf("the counts differ: %s", d)
	}
	return nil
}

func (s *copySummary) print(w io.Writer, from, to string) error {
	admin := "none in the file (the first instance to start makes one, or takes DARKSHARE_ADMIN_TOKEN)"
	if s.adminToken != nil {
		admin = "its hash: the same token works"
	}
	_, err := fmt.Fprintf(w, `Copied %s to %s:
  links         %d
  API keys      %d
  admin token   %s
  counts        %d link-days over %d days: %d clicks, %d shares in all
Verified: the copy holds the same links (every field), API keys and admin token,
and on every day the same number of links counted and the same sum of every counter.
Not copied: login sessions (log in again) and the visitor salt (the first instance
to start makes a new one; today's unique visitors start over).
`, from, to, s.links.n, len(s.keys), admin, s.counts.linkDays(), len(s.counts), s.counts.total(stats.Clicks), s.counts.total(stats.Shares))
	return err
}
