package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
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
	Reshares          uint64                  `json:"reshares"`
	ResharesByChannel map[link.Channel]uint64 `json:"reshares_by_channel"`
}

var exportColumns = append([]string{"day", "code", "url", "channel", "shares", "previews", "clicks", "unique_visitors", "scanners", "bots"},
	reshareColumns()...)

// reshareColumns are the columns after bots: reshares, then reshares_to_<channel>
// for every channel.
func reshareColumns() []string {
	cols := []string{"reshares"}
	for _, ch := range link.Channels {
		cols = append(cols, "reshares_to_"+string(ch))
	}
	return cols
}

func (r exportRow) csv() []string {
	day := r.Day
	if day == "" {
		day = r.From + "/" + r.To
	}
	out := []string{day, r.Code, r.URL, string(r.Channel),
		strconv.FormatUint(r.Shares, 10), strconv.FormatUint(r.Previews, 10), strconv.FormatUint(r.Clicks, 10),
		strconv.FormatUint(r.Uniques, 10), strconv.FormatUint(r.Scanners, 10), strconv.FormatUint(r.Bots, 10),
		strconv.FormatUint(r.Reshares, 10)}
	for _, ch := range link.Channels {
		out = append(out, strconv.FormatUint(r.ResharesByChannel[ch], 10))
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
	b := stats.BreakdownOf(counts)
	row := exportRow{Code: l.Code, URL: l.URL, Channel: l.Channel, Shares: b.Shares, Previews: b.Previews,
		Clicks: b.Clicks, Uniques: b.UniqueVisitors, Scanners: b.Scanners, Bots: b.Bots,
		Reshares: b.Reshares, ResharesByChannel: make(map[link.Channel]uint64, len(link.Channels))}
	for _, ch := range link.Channels {
		row.ResharesByChannel[ch] = b.ResharesByChannel[string(ch)]
	}
	return row, true, nil
}

func newRowWriter(w io.Writer, format string) rowWriter {
	switch format {
	case "json":
		return &jsonRows{w: w}
	case "ndjson":
		return ndjsonRows{enc: json.NewEncoder(w)}
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
	b, err := json.Marshal(r)
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
