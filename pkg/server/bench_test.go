package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/pkg/track"
	"github.com/darkshare/darkshare/store/storetest"
)

// These benchmarks call the app's fasthttp handler directly with a reused
// RequestCtx: no network and no app.Test (which costs a connection and a
// goroutine per request), so what is measured is routing plus our handlers.
// bench/load.sh measures the same paths over loopback; bench/README.md says
// how to read both.
//
// One difference from a served request: a RequestCtx driven this way has a
// zero receive time, which fasthttp sets when it reads a request, so the
// handlers read the clock instead (requestTime): about 60 ns more a click.

// benchTarget is the page the benchmark links point at; bareRedirect answers
// with the same Location, so the two produce responses of the same size.
const benchTarget = "https://news.example.org/story?id=42"

// benchClient is the remote address of benchmark requests: a public address,
// not a trusted proxy, as for a reader coming straight in.
var benchClient = &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 50000}

// benchLinks mints n links (one channel each, distinct URLs; the first one
// for benchTarget) and returns their request paths, "/" + code.
func benchLinks(b *testing.B, env *testEnv, n int) []string {
	b.Helper()
	paths := make([]string, 0, n)
	for i := range n {
		target := benchTarget
		if i > 0 {
			target = "https://news.example.org/story?id=" + strconv.Itoa(1000+i)
		}
		resp, got := env.do(b, http.MethodPost, "/api/v1/links", `{"url":"`+target+`","channels":["email"]}`, env.bearer())
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("mint %s: status %d: %s", target, resp.StatusCode, got)
		}
		var r mintResult
		if err := json.Unmarshal([]byte(got), &r); err != nil || len(r.Links) != 1 {
			b.Fatalf("mint %s: %v: %s", target, err, got)
		}
		paths = append(paths, "/"+r.Links[0].Code)
	}
	return paths
}

// newRedirectCtx returns a RequestCtx holding a GET of path from a person's
// desktop Chrome arriving from Gmail: the full click path (classification,
// visitor hash, counters), not the cheaper bot path.
func newRedirectCtx(path string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(fiber.MethodGet)
	req.SetRequestURI(path)
	req.Header.Set(fiber.HeaderUserAgent, chromeDesktop)
	req.Header.Set(fiber.HeaderReferer, "https://mail.google.com/")
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, benchClient, nil)
	return ctx
}

// serveRedirect sends the request in ctx for path through h and checks for
// the 302 both darkshare and the bare app give.
func serveRedirect(h fasthttp.RequestHandler, ctx *fasthttp.RequestCtx, path string) error {
	ctx.Response.Reset()
	ctx.Request.SetRequestURI(path)
	h(ctx)
	if code := ctx.Response.StatusCode(); code != fiber.StatusFound {
		return fmt.Errorf("GET %s: status %d, want 302: %s", path, code, ctx.Response.Body())
	}
	return nil
}

// benchRedirectPaths is how many links the redirect benchmarks cycle through,
// so that counting touches several counters, as in production.
const benchRedirectPaths = 64

// setupRedirect returns a darkshare app's handler and the paths of its links.
func setupRedirect(b *testing.B) (*testEnv, fasthttp.RequestHandler, []string) {
	b.Helper()
	// No trusted proxies, as `darkshare serve` runs unless told: the
	// tests' proxies would read the client-address header of every click.
	env := newEnv(b, storetest.MustOpen(b), "https://s.test", envSpec{config: func(c *Config) { c.TrustedProxies = nil }})
	paths := benchLinks(b, env, benchRedirectPaths)
	h := env.app.Handler()
	ctx := newRedirectCtx(paths[0])
	if err := serveRedirect(h, ctx, paths[0]); err != nil {
		b.Fatal(err)
	}
	if loc := string(ctx.Response.Header.Peek(fiber.HeaderLocation)); loc != benchTarget {
		b.Fatalf("Location %q, want %q", loc, benchTarget)
	}
	return env, h, paths
}

// checkClicked fails b unless env counted human clicks on path: the
// benchmark would otherwise have measured the bot path.
func checkClicked(b *testing.B, env *testEnv, path string) {
	b.Helper()
	today := stats.DayOf(time.Now())
	sum, err := env.agg.Summary(context.Background(), path[1:], stats.Period{From: today - 1, To: today + 1})
	if err != nil {
		b.Fatal(err)
	}
	if sum.Totals[stats.Clicks] == 0 {
		b.Fatalf("no click counted on %s (counts %v): requests were not classified as a person's", path, sum.Totals)
	}
}

// benchFlushEvery is how many redirects the benchmarks serve between two
// flushes: about what a second of load brings. A click queues its count,
// and the flush sums the queue, so a redirect's cost includes its share of
// a flush.
const benchFlushEvery = 1 << 16

// serveRedirects is the loop of the sequential redirect benchmarks: the
// paths in turn, through one reused RequestCtx, with flush (if not nil)
// every benchFlushEvery redirects.
func serveRedirects(b *testing.B, h fasthttp.RequestHandler, paths []string, flush func(context.Context) error) {
	ctx := newRedirectCtx(paths[0])
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := serveRedirect(h, ctx, paths[i%len(paths)]); err != nil {
			b.Fatal(err)
		}
		if i++; flush != nil && i%benchFlushEvery == 0 {
			if err := flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkRedirect(b *testing.B) {
	env, h, paths := setupRedirect(b)
	serveRedirects(b, h, paths, env.agg.Flush)
	b.StopTimer()
	checkClicked(b, env, paths[0])
}

func BenchmarkRedirectParallel(b *testing.B) {
	env, h, paths := setupRedirect(b)
	var worker atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine starts at another link, as concurrent readers would.
		i := int(worker.Add(1)) * 7
		ctx := newRedirectCtx(paths[0])
		for pb.Next() {
			if err := serveRedirect(h, ctx, paths[i%len(paths)]); err != nil {
				b.Error(err) // Fatal may only be called from the benchmark's goroutine
				return
			}
			if i++; i%benchFlushEvery == 0 {
				if err := env.agg.Flush(context.Background()); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	b.StopTimer()
	checkClicked(b, env, paths[0])
}

// BenchmarkRedirectBareFiber is the baseline: a bare Fiber app giving the
// same answer as darkshare's redirect, driven the same way. The ratio of
// BenchmarkRedirect to it is what darkshare adds per redirect.
func BenchmarkRedirectBareFiber(b *testing.B) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/:code", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "private, no-store")
		return c.Redirect(benchTarget, fiber.StatusFound)
	})
	h := app.Handler()
	paths := make([]string, benchRedirectPaths)
	for i := range paths {
		paths[i] = "/bare" + strconv.Itoa(i)
	}
	serveRedirects(b, h, paths, nil)
}

// newMintCtx returns a RequestCtx holding an admin mint request with body.
// The admin's bearer token exempts it from the anonymous rate limit.
func newMintCtx(env *testEnv, body []byte) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(fiber.MethodPost)
	req.SetRequestURI("/api/v1/links")
	req.Header.SetContentType(fiber.MIMEApplicationJSON)
	req.Header.Set(fiber.HeaderUserAgent, chromeDesktop)
	req.Header.Set(fiber.HeaderAuthorization, "Bearer "+env.token)
	req.SetBody(body)
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, benchClient, nil)
	return ctx
}

func serveMint(h fasthttp.RequestHandler, ctx *fasthttp.RequestCtx) error {
	ctx.Response.Reset()
	h(ctx)
	if code := ctx.Response.StatusCode(); code != fiber.StatusOK {
		return fmt.Errorf("mint %s: status %d: %s", ctx.Request.Body(), code, ctx.Response.Body())
	}
	return nil
}

// BenchmarkMintIdempotent mints the same URL and channel every time, as every
// page view of a share button does after the first: the links exist already.
func BenchmarkMintIdempotent(b *testing.B) {
	env := newTestEnv(b, storetest.MustOpen(b), "https://s.test")
	h := env.app.Handler()
	ctx := newMintCtx(env, []byte(`{"url":"https://news.example.org/story?id=1","channels":["email"]}`))
	if err := serveMint(h, ctx); err != nil { // the first mint creates the link
		b.Fatal(err)
	}
	first := append([]byte(nil), ctx.Response.Body()...)
	b.ReportAllocs()
	for b.Loop() {
		if err := serveMint(h, ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := ctx.Response.Body(); string(got) != string(first) {
		b.Fatalf("a repeated mint answered %s, the first %s", got, first)
	}
}

// BenchmarkMintNew mints a new URL each time: a share button on a page seen
// for the first time, which writes the link to the db.
func BenchmarkMintNew(b *testing.B) {
	env := newTestEnv(b, storetest.MustOpen(b), "https://s.test")
	h := env.app.Handler()
	ctx := newMintCtx(env, nil)
	body := make([]byte, 0, 128)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		body = append(body[:0], `{"url":"https://news.example.org/new?id=`...)
		body = strconv.AppendInt(body, int64(n), 10)
		body = append(body, `","channels":["email"]}`...)
		ctx.Request.SetBody(body)
		if err := serveMint(h, ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// seedHistory writes a year of daily counters and unique-visitor sketches
// for code, as a year of flushes would have left them.
func seedHistory(b *testing.B, env *testEnv, code string, days int) {
	b.Helper()
	today := stats.DayOf(time.Now())
	classifier := track.NewClassifier() // builds the user-agent matcher: once
	classify := func(ua, referer string) track.Result {
		return classifier.Classify(track.Visit{Method: "GET", UserAgent: ua, Referer: referer})
	}
	for d := range days {
		day := today - stats.Day(d)
		for i := range 20 {
			ua := fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1 v%d", i)
			env.agg.RecordVisit(code, day, classify(ua, "https://mail.google.com/"), uint64(d*1000+i)*0x9E3779B97F4A7C15, true)
		}
		env.agg.RecordVisit(code, day, classify("WhatsApp/2.24.1.5 A", ""), 0, false)
	}
	// Past days are in the day records, as they are half an hour on.
	if err := env.agg.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := env.db.Fold(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// yearOldLinks writes links of url for channels into the db as if minted
// a year ago, before the service has seen them, and returns their codes.
func yearOldLinks(b *testing.B, env *testEnv, url string, channels ...link.Channel) []string {
	b.Helper()
	created := time.Now().UTC().AddDate(-1, 0, -1).Truncate(time.Second)
	links, err := env.db.Mint(context.Background(), url, channels, func(ch link.Channel) (link.Link, error) {
		key, err := link.NewStatsKey()
		return link.Link{Code: "year" + string(ch), URL: url, Channel: ch, CreatedAt: created, StatsKey: key}, err
	})
	if err != nil {
		b.Fatal(err)
	}
	codes := make([]string, len(links))
	for i, l := range links {
		codes[i] = l.Code
	}
	return codes
}

// BenchmarkStatsPage365Days renders the HTML stats page of a link a year
// old with a day of clicks each day: 365 records read and merged.
func BenchmarkStatsPage365Days(b *testing.B) {
	env := newTestEnv(b, storetest.MustOpen(b), "https://s.test")
	code := yearOldLinks(b, env, benchTarget, link.Email)[0]
	seedHistory(b, env, code, 365)
	ctx := benchAdminGET(b, env, "/stats/"+code)
	if n := strings.Count(string(ctx.Response.Body()), "<tr><td>20"); n != 365 {
		b.Fatalf("the page shows %d days, want 365", n)
	}
}

// BenchmarkPageStatsAllChannels answers the per-page funnel of a page with
// a year-old link on each of the 8 channels, each with 365 days of history.
func BenchmarkPageStatsAllChannels(b *testing.B) {
	env := newTestEnv(b, storetest.MustOpen(b), "https://s.test")
	for _, code := range yearOldLinks(b, env, "https://news.example.org/funnel", link.Channels...) {
		seedHistory(b, env, code, 365)
	}
	benchAdminGET(b, env, "/api/v1/stats?url=https://news.example.org/funnel")
}

// benchAdminGET times GET path with the admin token, failing on any answer
// but a 200, and returns the request context with the last answer.
func benchAdminGET(b *testing.B, env *testEnv, path string) *fasthttp.RequestCtx {
	b.Helper()
	h := env.app.Handler()
	ctx := newRedirectCtx(path)
	ctx.Request.Header.Set(fiber.HeaderAuthorization, "Bearer "+env.token)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		h(ctx)
		if ctx.Response.StatusCode() != http.StatusOK {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
	return ctx
}
