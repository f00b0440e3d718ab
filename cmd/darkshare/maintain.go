package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/server"
	"github.com/darkshare/darkshare/store"
)

// backupCommand writes a snapshot of the db to FILE: through a running
// server's admin API (--server), or from a stopped db file (--db). The
// snapshot is checked before it takes FILE's name.
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := command{name: "backup", args: []string{"FILE"}, about: `
Writes a consistent snapshot of a bbolt db to FILE, a new file: through a
running server's admin API (--server URL, with the admin token; it keeps
serving), or from the file of a stopped darkshare (--db). The snapshot
gets its name only once bbolt's consistency check has passed on it.
PostgreSQL databases are backed up with pg_dump
--exclude-table-data=salts.`}
	fs := cmd.flagSet()
	dbPath := dbFlag(fs, getenv, false)
	serverURL := fs.String("server", "", "base `URL` of a running darkshare, to back it up while it serves")
	token := tokenFlag(fs, getenv)
	rest, err := cmd.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if *serverURL == "" && isPostgresURL(*dbPath) {
		return fmt.Errorf("backup: %w", server.ErrBackupElsewhere)
	}
	if *serverURL == "" {
		if err := dbFlagMustExist(*dbPath); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	dest := rest[0]
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s exists; choose a new name", dest)
	}
	partial := dest + ".partial"
	f, err := os.OpenFile(partial, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(partial) // a no-op once renamed
	var n int64
	if *serverURL != "" {
		n, err = backupFromServer(ctx, strings.TrimSuffix(*serverURL, "/"), *token, f)
	} else {
		n, err = backupFromFile(*dbPath, f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := checkFile(partial); err != nil {
		return fmt.Errorf("backup: the copy is damaged: %w", err)
	}
	if err := os.Rename(partial, dest); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "Wrote %s (%d bytes); bbolt's check passed.\n", dest, n)
	return err
}

func backupFromServer(ctx context.Context, base, token string, w io.Writer) (int64, error) {
	if token == "" {
		return 0, errors.New("--server needs the admin token: --token or DARKSHARE_ADMIN_TOKEN")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/admin/backup", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: time.Hour}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, serverRefusal(base, resp)
	}
	return io.Copy(w, resp.Body)
}

// serverRefusal is the error of a response other than 200: its status,
// and the message of its JSON error if it has one (such as
// backup_elsewhere's, which says how to back up instead).
func serverRefusal(base string, resp *http.Response) error {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e) != nil || e.Error.Message == "" {
		return fmt.Errorf("%s answered %s", base, resp.Status)
	}
	return fmt.Errorf("%s answered %s: %s", base, resp.Status, e.Error.Message)
}

func backupFromFile(path string, w io.Writer) (int64, error) {
	db, err := store.Open(path)
	if err != nil {
		return 0, fmt.Errorf("%w (to back up a running server, use --server)", err)
	}
	n, err := db.Backup(w)
	return n, errors.Join(err, db.Close())
}

func checkFile(path string) error {
	db, err := store.Open(path)
	if err != nil {
		return err // names the path
	}
	if err := errors.Join(db.Check(), db.Close()); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// checkCommand runs bbolt's consistency check on a stopped db.
func checkCommand(args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := command{name: "check", about: `
Runs bbolt's consistency check on the db file of a stopped darkshare, or
on a backup, and says whether it passed.`}
	fs := cmd.flagSet()
	dbPath := dbFlag(fs, getenv, false)
	if _, err := cmd.parse(fs, args, stdout); err != nil {
		return err
	}
	if isPostgresURL(*dbPath) {
		return errors.New("check: runs bbolt's consistency check on a file; PostgreSQL checks its own pages (data checksums, amcheck)")
	}
	if err := dbFlagMustExist(*dbPath); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if err := checkFile(*dbPath); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	_, err := fmt.Fprintf(stdout, "%s: bbolt's consistency check passed.\n", *dbPath)
	return err
}

// importBatch is how many pages go into one write transaction.
const importBatch = 10_000

const linksUsage = `Usage: darkshare links import FILE [flags]

  links import FILE   mint links for every row of a CSV file

Run "darkshare links import --help" for its flags.
`

// linksCommand is "darkshare links import FILE": mint links for every row
// of a CSV file (header "url,channel"; an empty channel means all of them)
// into a stopped db, as the admin, with a progress line on stderr and a
// summary on stdout.
func linksCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		return errors.New(`links: say "import FILE" (more: darkshare links --help)`)
	case isHelp(args[0]) || args[0] == "help":
		_, err := io.WriteString(stdout, linksUsage)
		return err
	case args[0] != "import":
		return fmt.Errorf("links: unknown verb %q; say \"import FILE\" (more: darkshare links --help)", args[0])
	}
	cmd := command{name: "links import", args: []string{"FILE"}, about: `
Mints, as the admin, the links of every row of the CSV file FILE, whose
first line is the header "url,channel"; a row with no channel gets a link
for every channel. It works on a stopped bbolt db, or on a PostgreSQL
database while it serves (the instances pick the links up at their next
poll), 10,000 rows a transaction. Links that exist are kept as they are.
Rows that break the URL rules (or name an unknown channel) are skipped and
listed with their line numbers. A progress line goes to stderr, the
summary to stdout.`}
	fs := cmd.flagSet()
	dbPath := dbFlag(fs, getenv, false)
	baseURL := fs.String("base-url", envOr(getenv, "DARKSHARE_BASE_URL", "http://127.0.0.1:8080"), "the service's base `URL`: links to it are refused")
	rest, err := cmd.parse(fs, args[1:], stdout)
	if err != nil {
		return err
	}
	in, err := os.Open(rest[0])
	if err != nil {
		return fmt.Errorf("links import: %w", err)
	}
	defer in.Close()
	be, err := openExistingBackend(ctx, *dbPath)
	if err != nil {
		return fmt.Errorf("links import: %w", err)
	}
	defer be.close()
	links, err := link.NewService(be.links, link.Policy{BaseURL: *baseURL})
	if err != nil {
		return err
	}
	start := time.Now()
	sum, err := importCSV(ctx, links, in, newProgress(stderr, start))
	if err != nil {
		return err
	}
	return sum.print(stdout, time.Since(start))
}

// importSummary is what links import did.
type importSummary struct {
	rows     int // rows read, the header not counted
	minted   int // links made
	existing int // links asked for that existed, or that an earlier row asked for
	rejected []rejectedRow
}

type rejectedRow struct {
	line int
	err  error
}

func (s importSummary) print(w io.Writer, took time.Duration) error {
	_, err := fmt.Fprintf(w, "Read %d rows in %s: %d links minted, %d already existed, %d rows rejected.\n",
		s.rows, took.Round(time.Millisecond), s.minted, s.existing, len(s.rejected))
	for _, r := range s.rejected {
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "  line %d rejected: %v\n", r.line, r.err)
	}
	return err
}

// importCSV mints the links of every row of in, importBatch rows a write,
// and reports each write to progress. Rows the link rules refuse are
// skipped; a malformed file or a failed write stops it, after the writes
// before it.
func importCSV(ctx context.Context, links *link.Service, in io.Reader, progress *progress) (importSummary, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil || len(header) == 0 || strings.TrimSpace(strings.ToLower(header[0])) != "url" {
		return importSummary{}, errors.New(`links import: the first line must be the header "url,channel"`)
	}
	defer progress.done()
	var (
		sum   importSummary
		batch []link.MintRequest
		lines []int
	)
	flush := func() error {
		res, err := links.Import(ctx, batch)
		if err != nil {
			return fmt.Errorf("links import: %w", err)
		}
		for i := range batch {
			if err, ok := res.Rejected[i]; ok {
				sum.rejected = append(sum.rejected, rejectedRow{line: lines[i], err: err})
			}
		}
		sum.minted += res.Minted
		sum.existing += res.Existing
		progress.show(sum)
		batch, lines = batch[:0], lines[:0]
		return nil
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("links import: %w", err) // a csv.ParseError names the line
		}
		line, _ := r.FieldPos(0)
		req := link.MintRequest{URL: rec[0]}
		if len(rec) > 1 && strings.TrimSpace(rec[1]) != "" {
			req.Channels = []string{rec[1]}
		}
		batch, lines = append(batch, req), append(lines, line)
		sum.rows++
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return sum, err
			}
		}
	}
	return sum, flush()
}

// progressEvery is how often, at most, a progress line is written when
// stderr is not a terminal (a log file, a CI job's output).
const progressEvery = 10 * time.Second

// progress is links import's progress on stderr: on a terminal, one line
// that each batch rewrites in place; elsewhere, a line now and then.
type progress struct {
	w        io.Writer
	terminal bool
	every    time.Duration // between lines, when not a terminal
	start    time.Time
	last     time.Time // when the last line was written
	shown    bool      // a line is on a terminal, not ended yet
}

func newProgress(w io.Writer, start time.Time) *progress {
	return &progress{w: w, terminal: isTerminal(w), every: progressEvery, start: start, last: start}
}

// isTerminal reports whether w is a terminal, where a carriage return
// rewrites the line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) show(s importSummary) {
	now := time.Now()
	line := fmt.Sprintf("%d rows read, %d links minted, %d already existed, %d rows rejected (%.0f rows/s)",
		s.rows, s.minted, s.existing, len(s.rejected), float64(s.rows)/now.Sub(p.start).Seconds())
	switch {
	case p.terminal:
		fmt.Fprint(p.w, "\r"+line)
		p.shown = true
	case now.Sub(p.last) >= p.every:
		fmt.Fprintln(p.w, line)
		p.last = now
	}
}

// done ends the progress line on a terminal, so that what follows starts
// on a line of its own.
func (p *progress) done() {
	if p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}
