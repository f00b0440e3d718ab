package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
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
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("darkshare backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := dbFlag(fs, getenv)
	serverURL := fs.String("server", "", "base URL of a running darkshare, to back it up while it serves")
	token := fs.String("token", getenv("DARKSHARE_ADMIN_TOKEN"), "admin token, with --server")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("backup: give the file to write, e.g. darkshare backup darkshare-backup.db")
	}
	if *serverURL == "" && isPostgresURL(*dbPath) {
		return fmt.Errorf("backup: %w", server.ErrBackupElsewhere)
	}
	dest := fs.Arg(0)
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
		return err
	}
	return errors.Join(db.Check(), db.Close())
}

// checkCommand runs bbolt's consistency check on a stopped db.
func checkCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("darkshare check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := dbFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if isPostgresURL(*dbPath) {
		return errors.New("check: runs bbolt's consistency check on a file; PostgreSQL checks its own pages (data checksums, amcheck)")
	}
	if _, err := os.Stat(*dbPath); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if err := checkFile(*dbPath); err != nil {
		return fmt.Errorf("check %s: %w", *dbPath, err)
	}
	_, err := fmt.Fprintf(stdout, "%s: bbolt's consistency check passed.\n", *dbPath)
	return err
}

// importBatch is how many pages go into one write transaction.
const importBatch = 10_000

// linksCommand is "darkshare links import FILE": mint links for every row
// of a CSV file (header "url,channel"; an empty channel means all of them)
// into a stopped db, as the admin, with a progress line on stderr.
func linksCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		return errors.New(`links: say "import FILE"`)
	}
	fs := flag.NewFlagSet("darkshare links import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := dbFlag(fs, getenv)
	baseURL := fs.String("base-url", envOr(getenv, "DARKSHARE_BASE_URL", "http://127.0.0.1:8080"), "the service's base URL: links to it are refused")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("links import: give the CSV file")
	}
	in, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("links import: %w", err)
	}
	defer in.Close()
	be, err := openBackend(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer be.close()
	links, err := link.NewService(be.links, link.Policy{BaseURL: *baseURL})
	if err != nil {
		return err
	}
	return importCSV(ctx, links, in, stdout, stderr)
}

func importCSV(ctx context.Context, links *link.Service, in io.Reader, stdout, stderr io.Writer) error {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil || len(header) == 0 || strings.TrimSpace(strings.ToLower(header[0])) != "url" {
		return errors.New(`links import: the first line must be the header "url,channel"`)
	}
	var (
		start             = time.Now()
		rows, minted, bad int
		batch             []link.MintRequest
		lines             []int
	)
	flush := func() error {
		n, rejected, err := links.Import(ctx, batch)
		if err != nil {
			return err
		}
		minted += n
		for i, e := range rejected {
			bad++
			if bad <= 10 {
				fmt.Fprintf(stderr, "\nline %d skipped: %v", lines[i], e)
			}
		}
		fmt.Fprintf(stderr, "\r%d rows read, %d links minted, %d skipped (%.0f rows/s)", rows, minted, bad, float64(rows)/time.Since(start).Seconds())
		batch, lines = batch[:0], lines[:0]
		return nil
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("links import: line %d: %w", line, err)
		}
		req := link.MintRequest{URL: rec[0]}
		if len(rec) > 1 && strings.TrimSpace(rec[1]) != "" {
			req.Channels = []string{rec[1]}
		}
		batch, lines = append(batch, req), append(lines, line)
		rows++
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "\nImported %d rows: %d links minted, %d rows skipped, in %s.\n", rows, minted, bad, time.Since(start).Round(time.Millisecond))
	return err
}
