package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/pkg/track"
)

// exportRow is one link's counts on one day (or over the period, by=link).
type exportRow struct {
	Day      string       `json:"day,omitempty"`
	From     string       `json:"from,omitempty"`
	To       string       `json:"to,omitempty"`
	Code     string       `json:"code"`
	URL      string       `json:"url"`
	Channel  link.Channel `json:"channel"`
	Shares   uint64       `json:"shares"`
	Previews uint64       `json:"previews"`
	Clicks   uint64       `json:"clicks"`
	Uniques  uint64       `json:"unique_visitors"`
	Scanners uint64       `json:"scanners"`
	Bots     uint64       `json:"bots"`
	// Reshares are the shares of the readers the link brought, in total
	// and by the channel they shared by (every channel, zero included).
	Reshares          uint64            `json:"reshares"`
	ResharesByChannel map[string]uint64 `json:"reshares_by_channel"`
	// The breakdowns, as the stats pages show them: previews by app, and
	// clicks by referrer class, device and in-app browser.
	PreviewsByApp map[string]uint64 `json:"previews_by_app"`
	Referrers     map[string]uint64 `json:"referrers"`
	Devices       map[string]uint64 `json:"devices"`
	InApp         map[string]uint64 `json:"in_app"`
}

// exportRowOfCounts fills a row's counts from a link's counters.
func exportRowOfCounts(l link.Link, counts map[stats.Metric]uint64) exportRow {
	b := stats.BreakdownOf(counts)
	row := exportRow{Code: l.Code, URL: l.URL, Channel: l.Channel, Shares: b.Shares, Previews: b.Previews,
		Clicks: b.Clicks, Uniques: b.UniqueVisitors, Scanners: b.Scanners, Bots: b.Bots,
		Reshares: b.Reshares, ResharesByChannel: make(map[string]uint64, len(link.Channels)),
		PreviewsByApp: b.PreviewsByApp, Referrers: b.Referrers, Devices: b.Devices, InApp: b.InApp}
	for _, ch := range link.Channels {
		row.ResharesByChannel[string(ch)] = b.ResharesByChannel[string(ch)]
	}
	return row
}

// breakdownColumn is one CSV column of a breakdown: a spreadsheet takes a
// fixed set of columns better than a row per metric, and the classes come
// from fixed tables, so every export has the same header. An app no longer
// in the preview or in-app tables (counted by an older version) falls into
// their "other"; channels, referrers and devices are closed sets, named
// here whole.
type breakdownColumn struct {
	prefix string // of the column's name
	names  []string
	of     func(exportRow) map[string]uint64
}

var breakdownColumns = []breakdownColumn{
	{"reshares_to_", channelNames(), func(r exportRow) map[string]uint64 { return r.ResharesByChannel }},
	{"previews_", track.PreviewApps(), func(r exportRow) map[string]uint64 { return r.PreviewsByApp }},
	{"referrer_", referrerClasses(), func(r exportRow) map[string]uint64 { return r.Referrers }},
	{"device_", deviceClasses(), func(r exportRow) map[string]uint64 { return r.Devices }},
	{"in_app_", track.InAppApps(), func(r exportRow) map[string]uint64 { return r.InApp }},
}

func channelNames() []string {
	var out []string
	for _, ch := range link.Channels {
		out = append(out, string(ch))
	}
	return out
}

func referrerClasses() []string {
	var out []string
	for r := track.RefNone; r <= track.RefOther; r++ {
		out = append(out, r.String())
	}
	return out
}

func deviceClasses() []string {
	var out []string
	for d := track.Desktop; d <= track.Tablet; d++ {
		out = append(out, d.String())
	}
	return out
}

var exportColumns = func() []string {
	cols := []string{"day", "code", "url", "channel", "shares", "previews", "clicks", "unique_visitors", "scanners", "bots", "reshares"}
	for _, bc := range breakdownColumns {
		for _, name := range bc.names {
			cols = append(cols, bc.prefix+name)
		}
	}
	return cols
}()

func (r exportRow) csv() []string {
	day := r.Day
	if day == "" {
		day = r.From + "/" + r.To
	}
	out := make([]string, 0, len(exportColumns))
	out = append(out, day, r.Code, r.URL, string(r.Channel),
		strconv.FormatUint(r.Shares, 10), strconv.FormatUint(r.Previews, 10), strconv.FormatUint(r.Clicks, 10),
		strconv.FormatUint(r.Uniques, 10), strconv.FormatUint(r.Scanners, 10), strconv.FormatUint(r.Bots, 10),
		strconv.FormatUint(r.Reshares, 10))
	for _, bc := range breakdownColumns {
		counts := bc.of(r)
		var unknown uint64
		for name, n := range counts {
			if !slices.Contains(bc.names, name) {
				unknown += n
			}
		}
		for _, name := range bc.names {
			n := counts[name]
			if name == "other" {
				n += unknown
			}
			out = append(out, strconv.FormatUint(n, 10))
		}
	}
	return out
}

// rowWriter writes rows in one export format.
type rowWriter interface {
	row(exportRow) error
	end() error
}

var exportTypes = map[string]string{
	"csv": "text/csv; charset=utf-8", "json": "application/json", "ndjson": "application/x-ndjson",
}

// export streams the counts of every link for a period: a row per link and
// day (by=day, the default) or per link (by=link), as CSV, JSON or NDJSON.
// Days are read one at a time, so the aggregator is never held while the
// client reads, and memory stays at one day's rows.
func (s *server) export() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := period(c)
		if err != nil {
			return err
		}
		format, by := c.Query("format", "csv"), c.Query("by", "day")
		if exportTypes[format] == "" {
			return errBadRequestf("format must be csv, json or ndjson")
		}
		if by != "day" && by != "link" {
			return errBadRequestf("by must be day or link")
		}
		// Counts still in memory are read too; no flush is needed.
		name := fmt.Sprintf("darkshare-%s-%s-by-%s.%s", p.From, p.To, by, format)
		c.Set(fiber.HeaderContentType, exportTypes[format])
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
		ctx := context.WithoutCancel(c.UserContext())
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			err := s.writeExport(ctx, w, format, by, p)
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				// The status is sent: a cut stream is what the client sees.
				s.log.Error("export stream failed", "err", err)
			}
		})
		return nil
	}
}

func (s *server) writeExport(ctx context.Context, w io.Writer, format, by string, p stats.Period) error {
	out := newRowWriter(w, format)
	var err error
	if by == "link" {
		err = s.exportByLink(ctx, out, p)
	} else {
		err = s.exportByDay(ctx, out, p)
	}
	return errors.Join(err, out.end())
}

func (s *server) exportByDay(ctx context.Context, out rowWriter, p stats.Period) error {
	for day := p.From; day <= p.To; day++ {
		var rows []exportRow
		err := s.Stats.Scan(ctx, stats.Period{From: day, To: day}, func(kc stats.KeyCounts) error {
			row, ok, err := s.exportRowOf(ctx, kc.Key, kc.Counts)
			if ok {
				row.Day = day.String()
				rows = append(rows, row)
			}
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := out.row(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *server) exportByLink(ctx context.Context, out rowWriter, p stats.Period) error {
	totals := map[string]map[stats.Metric]uint64{}
	var order []string
	err := s.Stats.Scan(ctx, p, func(kc stats.KeyCounts) error {
		t := totals[kc.Key]
		if t == nil {
			t = map[stats.Metric]uint64{}
			totals[kc.Key] = t
			order = append(order, kc.Key)
		}
		for m, n := range kc.Counts {
			t[m] += n
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, key := range order {
		row, ok, err := s.exportRowOf(ctx, key, totals[key])
		if err != nil {
			return err
		}
		if ok {
			row.From, row.To = p.From.String(), p.To.String()
			if err := out.row(row); err != nil {
				return err
			}
		}
	}
	return nil
}

// exportRowOf returns the row of a link's counts; ok is false for keys
// that are no link (page views) or links no longer in the db.
func (s *server) exportRowOf(ctx context.Context, key string, counts map[stats.Metric]uint64) (exportRow, bool, error) {
	if !link.ValidCode(key) {
		return exportRow{}, false, nil
	}
	l, err := s.Links.Get(ctx, key)
	if errors.Is(err, link.ErrNotFound) {
		return exportRow{}, false, nil
	}
	if err != nil {
		return exportRow{}, false, err
	}
	return exportRowOfCounts(l, counts), true, nil
}

func newRowWriter(w io.Writer, format string) rowWriter {
	switch format {
	case "json":
		return &jsonRows{w: w}
	case "ndjson":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return ndjsonRows{enc: enc}
	}
	return &csvRows{w: csv.NewWriter(w)}
}

type csvRows struct {
	w      *csv.Writer
	header bool
}

func (c *csvRows) row(r exportRow) error {
	if !c.header {
		c.header = true
		if err := c.w.Write(exportColumns); err != nil {
			return err
		}
	}
	return c.w.Write(r.csv())
}

func (c *csvRows) end() error {
	if !c.header { // an empty export still names its columns
		_ = c.w.Write(exportColumns)
	}
	c.w.Flush()
	return c.w.Error()
}

// jsonRows writes one JSON array, a row at a time.
type jsonRows struct {
	w io.Writer
	n int
}

func (j *jsonRows) row(r exportRow) error {
	b, err := marshalJSON(r)
	if err != nil {
		return err
	}
	sep := ",\n"
	if j.n == 0 {
		sep = "[\n"
	}
	j.n++
	_, err = io.WriteString(j.w, sep+string(b))
	return err
}

func (j *jsonRows) end() error {
	closing := "\n]\n"
	if j.n == 0 {
		closing = "[]\n"
	}
	_, err := io.WriteString(j.w, closing)
	return err
}

type ndjsonRows struct{ enc *json.Encoder }

func (n ndjsonRows) row(r exportRow) error { return n.enc.Encode(r) }
func (n ndjsonRows) end() error            { return nil }

// linkPeriodStats is a link's stats page as JSON: its counts over the
// page's period, and the days of it with activity.
type linkPeriodStats struct {
	From string `json:"from"`
	To   string `json:"to"`
	linkStats
}

// linkStatsExport answers the exports of a link's stats page: the page's
// period, day by day, as CSV (the columns of the admin's export) or JSON.
// It takes what the page takes: the admin's session, or the link's key.
func (s *server) linkStatsExport() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := s.layout(c)
		if err != nil {
			return err
		}
		key := c.Query("key")
		if !b.Admin && key == "" {
			return errStatsCredentials
		}
		format := c.Query("format", "csv")
		if format != "csv" && format != "json" {
			return errBadRequestf("format must be csv or json")
		}
		l, p, sum, err := s.linkPeriod(c, key, b.Admin)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("darkshare-%s-%s-%s.%s", l.Code, p.From, p.To, format)
		c.Set(fiber.HeaderContentType, exportTypes[format])
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
		c.Set(fiber.HeaderCacheControl, "private, no-store")
		if format == "json" {
			return c.JSON(linkPeriodStats{From: p.From.String(), To: p.To.String(), linkStats: s.linkStats(l, sum)})
		}
		out := newRowWriter(c.Response().BodyWriter(), format)
		for _, d := range sum.Days {
			row := exportRowOfCounts(l, d.Counts)
			row.Day = d.Day.String()
			if err := out.row(row); err != nil {
				return err
			}
		}
		return out.end()
	}
}
