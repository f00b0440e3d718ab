package server

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/pkg/track"
)

// redirect sends a short link's visitor on at once, whoever they are
// (previews, scanners and bots too), and counts the visit by class in memory;
// the disk is written by the aggregator's next flush.
func (s *server) redirect() fiber.Handler {
	return func(c *fiber.Ctx) error {
		// Background, which is what UserContext returns here (nothing sets
		// one) without its lookup; fasthttp's own context would be cancelled
		// during a graceful shutdown, while a redirect should still be served.
		l, err := s.Links.Route(context.Background(), c.Params("code"))
		if err != nil {
			return err
		}
		if l.Disabled {
			return link.ErrDisabled
		}
		// No cache may keep this answer: a browser that cached the redirect
		// would follow it again without asking us, and that click would be lost.
		c.Set(fiber.HeaderCacheControl, "private, no-store")
		s.countVisit(c, l.Code)
		s.Metrics.redirects.Inc()
		return c.Redirect(l.Dest, fiber.StatusFound)
	}
}

// countVisit classifies the request and counts it. Neither the address nor
// the user agent is kept: only classes and a salted visitor hash. code must
// be owned by the caller, not request memory: the aggregator keeps it.
func (s *server) countVisit(c *fiber.Ctx, code string) {
	ip, at := s.clientIP(c), requestTime(c)
	// fasthttp's own accessors: Get would copy and normalise each name first.
	header := &c.Request().Header
	ua, referer := utils.UnsafeString(header.UserAgent()), utils.UnsafeString(header.Referer())
	res := s.Classifier.Classify(track.Visit{Method: c.Method(), UserAgent: ua, Referer: referer, IP: ip})
	var visitor uint64
	var ok bool
	if res.Class == track.Human {
		visitor, ok = s.Visitors.VisitorHash(at, ip, ua, code)
	}
	s.Stats.RecordVisit(code, stats.DayOf(at), res, visitor, ok)
	s.Metrics.visits[res.Class].Inc()
}

const (
	qrDefaultSize = 256
	qrMinSize     = 64
	qrMaxSize     = 1024
)

func (s *server) qrCode() fiber.Handler {
	return func(c *fiber.Ctx) error {
		size, err := qrSize(c.Query("size"))
		if err != nil {
			return err
		}
		l, err := s.Links.Route(c.UserContext(), c.Params("code"))
		if err != nil {
			return err
		}
		if l.Disabled {
			return link.ErrDisabled
		}
		png, err := qrcode.Encode(s.shortURL(l.Code), qrcode.Medium, size)
		if err != nil {
			return fmt.Errorf("encode qr of %s: %w", l.Code, err)
		}
		// A code's short URL never changes, so neither does its picture.
		c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Type("png")
		return c.Send(png)
	}
}

func qrSize(raw string) (int, error) {
	if raw == "" {
		return qrDefaultSize, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < qrMinSize || n > qrMaxSize {
		return 0, fmt.Errorf("%w: size must be a whole number of pixels from %d to %d", errBadRequest, qrMinSize, qrMaxSize)
	}
	return n, nil
}
