package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
)

type mintRequest struct {
	URL      string   `json:"url"`
	Channels []string `json:"channels"`
}

type mintResponse struct {
	URL   string       `json:"url"`
	Links []mintedLink `json:"links"`
}

type mintedLink struct {
	Channel  link.Channel `json:"channel"`
	Code     string       `json:"code"`
	ShortURL string       `json:"short_url"`
	QRURL    string       `json:"qr_url"`
	StatsURL string       `json:"stats_url,omitempty"` // callers with stats:read only
}

func (s *server) mintLinks() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := s.principal(c)
		if err != nil {
			return err
		}
		var req mintRequest
		if err := decodeJSON(c.Body(), &req); err != nil {
			return err
		}
		target, links, err := s.Links.Mint(c.UserContext(), link.MintRequest{URL: req.URL, Channels: req.Channels, Trusted: p.Can(auth.ScopeLinksWrite)})
		if err != nil {
			return err
		}
		s.Metrics.mints.Inc()
		resp := mintResponse{URL: target, Links: make([]mintedLink, len(links))}
		for i, l := range links {
			resp.Links[i] = mintedLink{Channel: l.Channel, Code: l.Code, ShortURL: s.shortURL(l.Code), QRURL: s.qrURL(l.Code)}
			if p.Can(auth.ScopeStatsRead) {
				resp.Links[i].StatsURL = s.statsURL(l)
			}
		}
		return c.JSON(resp)
	}
}

// decodeJSON decodes exactly one JSON object into v, refusing unknown fields
// and trailing data. Its errors wrap errBadRequest and name the field at fault.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s", errBadRequest, describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: body must hold a single JSON object", errBadRequest)
	}
	return nil
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return "body is empty; send a JSON object"
	case errors.As(err, &typeErr):
		return fmt.Sprintf("field %q must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: body ends early"
	default:
		// DisallowUnknownFields: `json: unknown field "x"`, which names it.
		if msg, ok := bytes.CutPrefix([]byte(err.Error()), []byte("json: ")); ok {
			return string(msg)
		}
		return "malformed JSON"
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "string":
		return "a string"
	default:
		return "a " + goKind
	}
}
