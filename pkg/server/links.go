package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

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
		trusted, withStats := p.Can(auth.ScopeLinksWrite), p.Can(auth.ScopeStatsRead)
		changes := s.Links.Changes() // read first: a change after it only makes a miss
		answer, ok := s.mints.get(c.Body(), trusted, withStats, changes)
		if !ok {
			if answer, err = s.mint(c, trusted, withStats); err != nil {
				return err
			}
			s.mints.put(c.Body(), trusted, withStats, changes, answer)
		}
		s.Metrics.mints.Inc()
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(answer)
	}
}

func (s *server) mint(c *fiber.Ctx, trusted, withStats bool) ([]byte, error) {
	var req mintRequest
	if err := decodeJSON(c.Body(), &req); err != nil {
		return nil, err
	}
	target, links, err := s.Links.Mint(c.UserContext(), link.MintRequest{URL: req.URL, Channels: req.Channels, Trusted: trusted})
	if err != nil {
		return nil, err
	}
	resp := mintResponse{URL: target, Links: make([]mintedLink, len(links))}
	for i, l := range links {
		resp.Links[i] = mintedLink{Channel: l.Channel, Code: l.Code, ShortURL: s.shortURL(l.Code), QRURL: s.qrURL(l.Code)}
		if withStats {
			resp.Links[i].StatsURL = s.statsURL(l)
		}
	}
	answer, err := marshalJSON(resp)
	if err != nil {
		return nil, fmt.Errorf("encode the mint answer: %w", err)
	}
	return answer, nil
}

// mintAnswers remembers the answers to recent mints, by request body and
// what the caller may do: a share button asks the same on every page view,
// and decoding, minting and encoding were half the cost of such a request.
// An answer stands while no link changes (link.Service.Changes); errors are
// not remembered. Bounded, cleared when full, like Service's memories.
type mintAnswers struct {
	mu sync.RWMutex
	// by trusted, then withStats, then body: indexing by string(body)
	// alone is what lets a lookup not copy the body
	answers [2][2]map[string]mintAnswer
}

type mintAnswer struct {
	json    []byte // never written after it is stored: responses share it
	changes uint64
}

const (
	maxMintAnswers    = 10_000
	maxRememberedBody = 2048 // bytes; a share button's request is far smaller
)

func (m *mintAnswers) get(body []byte, trusted, withStats bool, changes uint64) ([]byte, bool) {
	m.mu.RLock()
	a, ok := m.answers[b2i(trusted)][b2i(withStats)][string(body)]
	m.mu.RUnlock()
	return a.json, ok && a.changes == changes
}

func (m *mintAnswers) put(body []byte, trusted, withStats bool, changes uint64, answer []byte) {
	if len(body) > maxRememberedBody {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	answers := &m.answers[b2i(trusted)][b2i(withStats)]
	if *answers == nil || len(*answers) >= maxMintAnswers {
		*answers = make(map[string]mintAnswer)
	}
	(*answers)[string(body)] = mintAnswer{json: answer, changes: changes}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decodeJSON decodes exactly one JSON object into v, refusing unknown fields
// and trailing data. Its errors wrap errBadRequest and name the field at fault.
func decodeJSON(body []byte, v any) error { return decodeJSONIn("", body, v) }

// decodeJSONIn is decodeJSON for the object in a field of the body, which
// its errors name first ("campaign: …").
func decodeJSONIn(field string, body []byte, v any) error {
	prefix, whole := "", "body"
	if field != "" {
		prefix, whole = field+": ", field
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s%s", errBadRequest, prefix, describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %s must hold a single JSON object", errBadRequest, whole)
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
