package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

const (
	// pingTimeout bounds a health check's wait for the database: one that
	// takes longer is as good as gone for the redirects' flushes.
	pingTimeout = 500 * time.Millisecond
	// pingCacheFor is how long a ping's answer stands, so that a flood of
	// /healthz asks the database once a second at most.
	pingCacheFor = time.Second
)

// ErrBackupElsewhere answers a backup request where the database's own
// tools take backups: a PostgreSQL database is dumped with pg_dump, without
// the visitor salt.
var ErrBackupElsewhere = errors.New(`this server keeps its data in PostgreSQL: back it up with pg_dump --exclude-table-data=salts, not through darkshare (README, "Running several instances")`)

// dbHealth remembers whether the database answered, asking it again once
// the last answer is older than pingCacheFor. Concurrent checks wait for
// the one ping in flight instead of sending their own. It logs each
// failed ping, and the first good one after.
type dbHealth struct {
	ping func(context.Context) error // nil: no database that can go away
	now  func() time.Time
	log  *slog.Logger

	mu  sync.Mutex // held across a ping
	at  time.Time  // of the last ping; zero before the first
	err error      // its answer
}

func newDBHealth(ping func(context.Context) error, now func() time.Time, log *slog.Logger) *dbHealth {
	return &dbHealth{ping: ping, now: now, log: log}
}

// check returns the error of the last ping, pinging first if that is
// older than pingCacheFor; nil without a ping function.
func (h *dbHealth) check(ctx context.Context) error {
	if h.ping == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && h.now().Sub(h.at) < pingCacheFor {
		return h.err
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	was := h.err
	h.err = h.ping(ctx)
	h.at = h.now()
	// Logged per ping, not per check: a flood of checks logs once a second.
	switch {
	case h.err != nil:
		h.log.Warn("health check failing: the database does not answer", "err", h.err)
	case was != nil:
		h.log.Info("health check: the database answers again")
	}
	return h.err
}

// health answers load balancers and monitors: 503 with a reason when the
// database does not answer or the last write of counts failed. Either
// way, redirects go on from memory and counts wait in memory for the
// next flush.
func (s *server) health() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.db.check(c.UserContext()); err != nil {
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{
				"status": "failing", "reason": "the database does not answer; redirects are served from memory, and counts are kept in memory and written when it is back (see the server log)",
			})
		}
		if err := s.Stats.Healthy(); err != nil {
			s.log.Warn("health check failing", "err", err)
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{
				"status": "failing", "reason": "the last write of click counts failed; counts are kept in memory and retried (see the server log)",
			})
		}
		return c.JSON(fiber.Map{"status": "ok"})
	}
}
