package postgres_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store/postgres/pgtest"
	"github.com/darkshare/darkshare/store/storetest"
)

// FuzzListMatchesBolt sends arbitrary queries, as a client could, through
// link.Service to a PostgreSQL store and to a bbolt store that hold the
// same links: both must answer the same page, or refuse alike.
func FuzzListMatchesBolt(f *testing.F) {
	urls := []string{
		"https://a.org/", "https://a.org/50%_off", "https://B.org/Story?id=1", "https://b.org/story",
		"https://d.org/?q=Ünïcode", "https://d.org/?q=\xff\xfe", "https://e.org/\u212a", "https://e.org/k",
	}
	targets := make([]link.Target, len(urls))
	for i, u := range urls {
		targets[i] = link.Target{URL: u, Channels: []link.Channel{link.Email, link.SMS, link.QR}}
	}
	create := func(u string, ch link.Channel) (link.Link, error) {
		return link.Link{Code: fmt.Sprintf("%c%d", ch[0], slices.Index(urls, u)), CreatedAt: time.Unix(1700000000, 0).UTC()}, nil
	}
	ctx := context.Background()
	var services []*link.Service
	for _, db := range []link.Store{pgtest.Open(f), storetest.MustOpen(f)} {
		if _, err := db.MintMany(ctx, targets, create); err != nil {
			f.Fatal(err)
		}
		s, err := link.NewService(db, link.Policy{BaseURL: "http://127.0.0.1:8080"})
		if err != nil {
			f.Fatal(err)
		}
		services = append(services, s)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	f.Add("", "", "", 0)
	f.Add("STORY", "sms", "", 1)
	f.Add("ÜNÏ", "EMAIL ", enc("https://a.org/\x00email"), 2)
	f.Add("\xff", "", "", 3)
	f.Add("K", "", "", 3) // the Kelvin sign lowers to k
	f.Add("%", "", enc("https://d.org/?q=\xff\xfe\x00qr"), 1)
	f.Add("a\x00", "", "", 1)
	f.Add("", "", enc("https://a.org/\x00fax"), -1)
	f.Fuzz(func(t *testing.T, search, channel, after string, limit int) {
		q := link.ListQuery{Search: search, Channel: link.Channel(channel), After: after, Limit: limit}
		pg, pgErr := services[0].List(ctx, q)
		bolt, boltErr := services[1].List(ctx, q)
		for _, sentinel := range []error{link.ErrBadQuery, link.ErrBadCursor, link.ErrUnknownChannel} {
			if errors.Is(pgErr, sentinel) != errors.Is(boltErr, sentinel) {
				t.Fatalf("%+v: PostgreSQL says %v, bbolt %v", q, pgErr, boltErr)
			}
		}
		if (pgErr == nil) != (boltErr == nil) {
			t.Fatalf("%+v: PostgreSQL says %v, bbolt %v", q, pgErr, boltErr)
		}
		if got, want := codes(pg), codes(bolt); got != want || pg.Next != bolt.Next {
			t.Fatalf("%+v: PostgreSQL gives %q next %q, bbolt %q next %q", q, got, pg.Next, want, bolt.Next)
		}
	})
}

func codes(p link.ListPage) string {
	s := ""
	for _, l := range p.Links {
		s += l.Code + " "
	}
	return s
}
