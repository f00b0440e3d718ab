package server

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/darkshare/darkshare/pkg/stats"
)

// redirect sends a short link's visitor on at once and counts the click in
// memory; the disk is written by the aggregator's next flush.
func (s *server) redirect() fiber.Handler {
	return func(c *fiber.Ctx) error {
		l, err := s.Links.Get(c.UserContext(), c.Params("code"))
		if err != nil {
			return err
		}
		// No cache may keep this answer: a browser that cached the redirect
		// would follow it again without asking us, and that click would be lost.
		c.Set(fiber.HeaderCacheControl, "private, no-store")
		if c.Method() == fiber.MethodGet {
			// l.Code is our own copy (from the store), safe to keep past the request.
			s.Stats.Add(l.Code, stats.DayOf(c.Context().Time()), stats.Clicks)
		}
		return c.Redirect(l.URL, fiber.StatusFound)
	}
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
		l, err := s.Links.Get(c.UserContext(), c.Params("code"))
		if err != nil {
			return err
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
