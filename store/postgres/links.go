package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/darkshare/darkshare/pkg/link"
)

const linkColumns = "code, url, channel, created_at, stats_key, disabled, campaign"

// querier is what both the pool and a transaction offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func scanLink(row pgx.Row) (link.Link, error) {
	l, _, err := scanLinkURL(row)
	return l, err
}

// scanLinkURL is scanLink that also returns the bytes of the URL as stored,
// where the link's URL is made valid UTF-8.
func scanLinkURL(row pgx.Row) (link.Link, []byte, error) {
	var (
		l        link.Link
		url      []byte
		campaign *string
	)
	if err := row.Scan(&l.Code, &url, &l.Channel, &l.CreatedAt, &l.StatsKey, &l.Disabled, &campaign); err != nil {
		return link.Link{}, nil, err
	}
	l.URL = validUTF8(string(url))
	l.CreatedAt = l.CreatedAt.UTC()
	if campaign != nil {
		l.Campaign = new(link.Campaign)
		if err := json.Unmarshal([]byte(*campaign), l.Campaign); err != nil {
			return link.Link{}, nil, fmt.Errorf("decode the campaign of link %s: %w", l.Code, err)
		}
	}
	return l, url, nil
}

// validUTF8 replaces each byte of s that is not UTF-8 by U+FFFD, as
// encoding/json does: the bbolt store keeps links as JSON, so it returns
// URLs that way, and so must this one.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s { // an invalid byte comes as utf8.RuneError
		b.WriteRune(r)
	}
	return b.String()
}

// campaignJSON returns l's campaign as stored: JSON, or "" for none.
func campaignJSON(l link.Link) (string, error) {
	if l.Campaign == nil {
		return "", nil
	}
	b, err := json.Marshal(l.Campaign)
	if err != nil {
		return "", fmt.Errorf("encode the campaign of link %s: %w", l.Code, err)
	}
	return string(b), nil
}

// Get implements link.Store.
func (db *DB) Get(ctx context.Context, code string) (link.Link, error) {
	l, err := scanLink(db.pool.QueryRow(ctx, `SELECT `+linkColumns+` FROM links WHERE code = $1`, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return link.Link{}, link.ErrNotFound
	}
	if err != nil {
		return link.Link{}, fmt.Errorf("get link %s: %w", code, err)
	}
	return l, nil
}

// Each implements link.Store, in one query: fn sees one snapshot of the
// links, and holds a connection of the pool until Each returns.
func (db *DB) Each(ctx context.Context, fn func(link.Link) error) error {
	rows, err := db.pool.Query(ctx, `SELECT `+linkColumns+` FROM links`)
	if err != nil {
		return fmt.Errorf("read links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return fmt.Errorf("read links: %w", err)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read links: %w", err)
	}
	return nil
}

// ByURL implements link.Store.
func (db *DB) ByURL(ctx context.Context, url string) ([]link.Link, error) {
	links, err := collectLinks(db.pool.Query(ctx, `SELECT `+linkColumns+` FROM links WHERE url = $1`, []byte(url)))
	if err != nil {
		return nil, fmt.Errorf("links of %s: %w", url, err)
	}
	slices.SortFunc(links, func(a, b link.Link) int {
		return slices.Index(link.Channels, a.Channel) - slices.Index(link.Channels, b.Channel)
	})
	return links, nil
}

// collectLinks reads every row of a query of linkColumns; never nil.
func collectLinks(rows pgx.Rows, err error) ([]link.Link, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	links := []link.Link{}
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, err
		}
		links = append(links, l)
	}
	return links, rows.Err()
}

// linksOf returns url's links for channels, in that order, or an error
// wrapping link.ErrNotFound if one is missing.
func linksOf(ctx context.Context, q querier, url string, channels []link.Channel) ([]link.Link, error) {
	names := make([]string, len(channels))
	for i, ch := range channels {
		names[i] = string(ch)
	}
	found, err := collectLinks(q.Query(ctx, `SELECT `+linkColumns+` FROM links WHERE url = $1 AND channel = ANY($2)`, []byte(url), names))
	if err != nil {
		return nil, fmt.Errorf("links of %s: %w", url, err)
	}
	links := make([]link.Link, len(channels))
	for i, ch := range channels {
		j := slices.IndexFunc(found, func(l link.Link) bool { return l.Channel == ch })
		if j < 0 {
			return nil, link.ErrNotFound
		}
		links[i] = found[j]
	}
	return links, nil
}

// Mint implements link.Store. Links that exist are read without a
// transaction, so repeated mints of a known page never write. Missing ones
// are inserted; when another instance inserts the same URL and channel
// meanwhile, the unique constraint keeps its link, and this call returns it.
func (db *DB) Mint(ctx context.Context, url string, channels []link.Channel, create func(link.Channel) (link.Link, error)) ([]link.Link, error) {
	links, err := linksOf(ctx, db.pool, url, channels)
	if !errors.Is(err, link.ErrNotFound) {
		return links, err
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		targets := []link.Target{{URL: url, Channels: channels}}
		if _, err := mint(ctx, tx, targets, func(_ string, ch link.Channel) (link.Link, error) { return create(ch) }); err != nil {
			return err
		}
		links, err = linksOf(ctx, tx, url, channels)
		return err
	})
	if err != nil {
		return nil, err
	}
	return links, nil
}

// MintMany implements link.Store, in one transaction of a few statements,
// whatever the number of targets.
func (db *DB) MintMany(ctx context.Context, targets []link.Target, create func(string, link.Channel) (link.Link, error)) (int, error) {
	created := 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		created, err = mint(ctx, tx, targets, create)
		return err
	})
	if err != nil {
		return 0, err
	}
	return created, nil
}

// target is one URL and channel: one link.
type target struct {
	url string
	ch  link.Channel
}

// mintAttempts bounds the rounds of codes tried for the links still
// missing, as the bbolt store bounds the codes tried for one link.
const mintAttempts = 5

// mint inserts, in tx, a link made by create for each URL and channel of
// targets that has none, and returns how many it inserted. create is
// called in the order of targets, as the bbolt store calls it; rows are
// inserted in (url, channel) order, so that two transactions inserting the
// same targets wait for each other instead of deadlocking. A row the
// constraints refuse is either a target another instance inserted first
// (kept: it is the link) or a code already taken (tried again with a new
// one, up to mintAttempts rounds).
func mint(ctx context.Context, tx pgx.Tx, targets []link.Target, create func(string, link.Channel) (link.Link, error)) (int, error) {
	var want []target
	seen := make(map[target]bool)
	for _, t := range targets {
		for _, ch := range t.Channels {
			if tc := (target{t.URL, ch}); !seen[tc] {
				seen[tc] = true
				want = append(want, tc)
			}
		}
	}
	var minted []string
	for round := 0; ; round++ {
		missing, err := absent(ctx, tx, want)
		if err != nil {
			return 0, err
		}
		if len(missing) == 0 {
			break
		}
		if round == mintAttempts {
			return 0, fmt.Errorf("%w after %d attempts", link.ErrCodeTaken, mintAttempts)
		}
		codes, err := insertLinks(ctx, tx, missing, create)
		if err != nil {
			return 0, err
		}
		minted = append(minted, codes...)
		want = missing
	}
	if err := recordChanges(ctx, tx, link.ChangeLink, minted); err != nil {
		return 0, err
	}
	return len(minted), nil
}

// absent returns the targets of want that have no link, in want's order.
func absent(ctx context.Context, tx pgx.Tx, want []target) ([]target, error) {
	urls, channels := make([][]byte, len(want)), make([]string, len(want))
	for i, t := range want {
		urls[i], channels[i] = []byte(t.url), string(t.ch)
	}
	rows, err := tx.Query(ctx, `
		SELECT t.url, t.channel FROM unnest($1::bytea[], $2::text[]) WITH ORDINALITY AS t(url, channel, i)
		WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.url = t.url AND l.channel = t.channel)
		ORDER BY t.i`, urls, channels)
	if err != nil {
		return nil, fmt.Errorf("find missing links: %w", err)
	}
	missing, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (target, error) {
		var (
			url []byte
			t   target
		)
		err := row.Scan(&url, &t.ch)
		t.url = string(url)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("find missing links: %w", err)
	}
	return missing, nil
}

// insertLinks inserts a new link for each target, made by create in the
// order of targets, in one statement, and returns the codes of those the
// constraints let in.
func insertLinks(ctx context.Context, tx pgx.Tx, targets []target, create func(string, link.Channel) (link.Link, error)) ([]string, error) {
	links := make([]link.Link, len(targets))
	for i, t := range targets {
		l, err := create(t.url, t.ch)
		if err != nil {
			return nil, err
		}
		// The link's URL and channel are its target's, whatever create set.
		l.URL, l.Channel = t.url, t.ch
		links[i] = l
	}
	slices.SortFunc(links, func(a, b link.Link) int {
		return cmp.Or(strings.Compare(a.URL, b.URL), strings.Compare(string(a.Channel), string(b.Channel)))
	})
	n := len(links)
	var (
		codes, channels, lowers, keys, campaigns = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		urls                                     = make([][]byte, n)
		created                                  = make([]time.Time, n)
		disabled                                 = make([]bool, n)
	)
	for i, l := range links {
		campaign, err := campaignJSON(l)
		if err != nil {
			return nil, err
		}
		codes[i], urls[i], channels[i], lowers[i] = l.Code, []byte(l.URL), string(l.Channel), strings.ToLower(l.URL)
		created[i], keys[i], disabled[i], campaigns[i] = l.CreatedAt, l.StatsKey, l.Disabled, campaign
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO links (code, url, channel, url_lower, created_at, stats_key, disabled, campaign)
		SELECT code, url, channel, url_lower, created_at, stats_key, disabled, NULLIF(campaign, '')
		FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::boolean[], $8::text[])
			AS t(code, url, channel, url_lower, created_at, stats_key, disabled, campaign)
		ON CONFLICT DO NOTHING
		RETURNING code`, codes, urls, channels, lowers, created, keys, disabled, campaigns)
	if err != nil {
		return nil, fmt.Errorf("insert links: %w", err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("insert links: %w", err)
	}
	return inserted, nil
}

// Update implements link.Store. The row is locked (SELECT … FOR UPDATE)
// from the read to the commit, so concurrent updates of a link, from any
// instance, apply one after the other. It returns an error if change
// alters the link's code, URL or channel, and stores nothing then.
func (db *DB) Update(ctx context.Context, code string, change func(*link.Link) error) (link.Link, error) {
	var l link.Link
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		l, err = scanLink(tx.QueryRow(ctx, `SELECT `+linkColumns+` FROM links WHERE code = $1 FOR UPDATE`, code))
		if errors.Is(err, pgx.ErrNoRows) {
			return link.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read link %s: %w", code, err)
		}
		before := l
		if err := change(&l); err != nil {
			return err
		}
		if l.Code != before.Code || l.URL != before.URL || l.Channel != before.Channel {
			return fmt.Errorf("update of link %s changed its code, url or channel", code)
		}
		campaign, err := campaignJSON(l)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE links SET created_at = $2, stats_key = $3, disabled = $4, campaign = NULLIF($5, '') WHERE code = $1`,
			code, l.CreatedAt, l.StatsKey, l.Disabled, campaign); err != nil {
			return fmt.Errorf("update link %s: %w", code, err)
		}
		return recordChanges(ctx, tx, link.ChangeLink, []string{code})
	})
	if err != nil {
		return link.Link{}, err
	}
	return l, nil
}
