package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/report"
	"github.com/darkshare/darkshare/store/storetest"
)

// The answer's message is the error table's, or the text written for the
// client where its input was judged; never the context wrapped around it.
func TestErrorMessagesComeFromTheTable(t *testing.T) {
	invalid := fmt.Errorf("%w: url is longer than 2048 bytes", link.ErrInvalidURL)
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
	}{
		{"sentinel alone", link.ErrNotFound, 404, "not_found", "link not found"},
		{"written for the client", invalid, 400, "invalid_url", "invalid url: url is longer than 2048 bytes"},
		{"context around it stays out", fmt.Errorf("store /var/lib/darkshare/x.db bucket links: %w", invalid), 400, "invalid_url", "invalid url: url is longer than 2048 bytes"},
		{"context around a bare sentinel", fmt.Errorf("get abc from bolt page 7: %w", link.ErrNotFound), 404, "not_found", "link not found"},
		{"joined with another error", errors.Join(errors.New("internal detail"), invalid), 400, "invalid_url", "invalid url: url is longer than 2048 bytes"},
		{"two wrapped, the sentinel first", fmt.Errorf("%w: from: %w", report.ErrBadPeriod, errors.New(`parsing "x"`)), 400, "bad_period", `bad period: from: parsing "x"`},
		{"internal error", fmt.Errorf("open /secret/path: %w", errors.New("permission denied")), 500, "internal", "internal error; the details are in the server log"},
		{"fiber's own", fiber.ErrTooManyRequests, 429, "rate_limited", "too many requests from this address; try again after Retry-After seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, message := classify(tt.err)
			if status != tt.status || code != tt.code || message != tt.message {
				t.Errorf("classify = %d %s %q, want %d %s %q", status, code, message, tt.status, tt.code, tt.message)
			}
		})
	}
}

// Through the app: a handler's error wrapped with internal context reaches
// the client as the table's message, in JSON and in HTML.
func TestErrorBodiesKeepInternalContextOut(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	wrapped := func(*fiber.Ctx) error {
		return fmt.Errorf("read bucket links of /var/lib/darkshare/secret.db: %w", link.ErrNotFound)
	}
	env.app.Get("/api/v1/test/wrapped", wrapped)
	env.app.Get("/test/wrapped", wrapped)
	for _, path := range []string{"/api/v1/test/wrapped", "/test/wrapped"} {
		resp, body := env.do(t, http.MethodGet, path, "", nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, resp.StatusCode)
		}
		if strings.Contains(body, "secret.db") || strings.Contains(body, "bucket") {
			t.Errorf("%s: the answer carries internal context: %s", path, body)
		}
	}
	resp, body := env.do(t, http.MethodGet, "/api/v1/test/wrapped", "", nil)
	if want := `{"error":{"code":"not_found","message":"link not found"}}`; body != want {
		t.Errorf("body %s (%d), want %s", body, resp.StatusCode, want)
	}
}

// Every file under /static says nosniff, as the widget's files do.
func TestStaticFilesAreNotSniffed(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	for _, path := range []string{"/static/css/darkshare.css", "/static/img/favicon.svg", "/static/share.js"} {
		resp, _ := env.do(t, http.MethodGet, path, "", nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: status %d, X-Content-Type-Options %q", path, resp.StatusCode, resp.Header.Get("X-Content-Type-Options"))
		}
	}
}
