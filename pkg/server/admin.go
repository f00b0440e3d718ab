package server

import (
	"bufio"
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
)

type linkUpdate struct {
	Disabled *bool `json:"disabled"`
	// Campaign is kept raw to tell a missing field (no change) from null
	// (back to the service's campaign).
	Campaign json.RawMessage `json:"campaign"`
}

type linkInfo struct {
	Code      string       `json:"code"`
	URL       string       `json:"url"`
	Channel   link.Channel `json:"channel"`
	CreatedAt time.Time    `json:"created_at"`
	Disabled  bool         `json:"disabled"`
	// Campaign is the link's own campaign; null means the service's.
	Campaign *link.Campaign `json:"campaign"`
	// Destination is where the link's redirect goes.
	Destination string `json:"destination"`
	ShortURL    string `json:"short_url"`
	StatsURL    string `json:"stats_url"`
}

func (s *server) linkInfo(l link.Link) linkInfo {
	return linkInfo{Code: l.Code, URL: l.URL, Channel: l.Channel, CreatedAt: l.CreatedAt, Disabled: l.Disabled,
		Campaign: l.Campaign, Destination: s.Links.Destination(l), ShortURL: s.shortURL(l.Code), StatsURL: s.statsURL(l)}
}

// updateLink changes a link: PATCH {"disabled": true} disables it (false
// re-enables it); {"campaign": {"preset": "utm", "name": "spring"}} gives it
// its own campaign parameters, and {"campaign": null} the service's again.
func (s *server) updateLink() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req linkUpdate
		if err := decodeJSON(c.Body(), &req); err != nil {
			return err
		}
		if req.Disabled == nil && req.Campaign == nil {
			return errBadRequestf(`field "disabled" (true or false) or "campaign" is required`)
		}
		// Everything is checked before anything is written, so that a bad
		// request changes nothing.
		campaign, err := decodeCampaign(req.Campaign)
		if err != nil {
			return err
		}
		code := c.Params("code")
		var l link.Link
		if req.Campaign != nil {
			if l, err = s.Links.SetCampaign(c.UserContext(), code, campaign); err != nil {
				return err
			}
		}
		if req.Disabled != nil {
			if l, err = s.Links.SetDisabled(c.UserContext(), code, *req.Disabled); err != nil {
				return err
			}
		}
		return c.JSON(s.linkInfo(l))
	}
}

// decodeCampaign checks the campaign of a PATCH: nil for null (or none
// given), else a valid campaign, or an error for the client.
func decodeCampaign(raw json.RawMessage) (*link.Campaign, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	var c link.Campaign
	if err := decodeJSONIn("campaign", raw, &c); err != nil {
		return nil, err
	}
	c, err := link.ParseCampaign(c)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// rotateStatsKey gives a link a new stats key, cutting off whoever had the old one.
func (s *server) rotateStatsKey() fiber.Handler {
	return func(c *fiber.Ctx) error {
		l, err := s.Links.RotateStatsKey(c.UserContext(), c.Params("code"))
		if err != nil {
			return err
		}
		return c.JSON(s.linkInfo(l))
	}
}

type keyRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

type keyAnswer struct {
	auth.Key
	Token string `json:"key,omitempty"` // only when created
}

func (s *server) createKey() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req keyRequest
		if err := decodeJSON(c.Body(), &req); err != nil {
			return err
		}
		scopes, err := auth.ParseScopes(req.Scopes)
		if err != nil {
			return err
		}
		k, token, err := s.Auth.CreateKey(c.UserContext(), req.Name, scopes)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(keyAnswer{Key: k, Token: token})
	}
}

func (s *server) listKeys() fiber.Handler {
	return func(c *fiber.Ctx) error {
		keys, err := s.Auth.ListKeys(c.UserContext())
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"keys": keys})
	}
}

func (s *server) revokeKey() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.Auth.RevokeKey(c.UserContext(), c.Params("id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// backup streams a consistent snapshot of the db, taken in one read
// transaction while the service keeps serving and writing. Without a
// Backup (PostgreSQL) it answers ErrBackupElsewhere.
func (s *server) backup() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.Backup == nil {
			return ErrBackupElsewhere
		}
		// Counts still in memory go in too.
		if err := s.Stats.Flush(c.UserContext()); err != nil {
			return err
		}
		name := "darkshare-" + time.Now().UTC().Format("20060102-150405") + ".db"
		c.Set(fiber.HeaderContentType, "application/octet-stream")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			n, err := s.Backup(w)
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				// The status is sent; a cut stream is what the client sees,
				// and `darkshare backup` checks the file it gets.
				s.log.Error("backup stream failed", "err", err, "bytes", n)
			}
		})
		return nil
	}
}
