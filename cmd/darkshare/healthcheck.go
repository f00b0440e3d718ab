package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// healthcheckTimeout bounds one healthcheck; Docker's own default is 30 s.
const healthcheckTimeout = 5 * time.Second

// healthcheckCommand is "darkshare healthcheck": GET /healthz of a running
// darkshare, and an error unless it answers 200. It needs no shell and no
// curl, so a distroless image's HEALTHCHECK can run it.
func healthcheckCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := command{name: "healthcheck", about: `
Asks a running darkshare for GET /healthz and exits 0 if it answers 200,
or 1 with the reason (for Docker's HEALTHCHECK; it needs no shell). By
default it asks the instance on this machine, at the address
DARKSHARE_LISTEN names (0.0.0.0 and :: are asked on the loopback address).
On PostgreSQL, every instance fails it when the database is down, while
redirects go on: use it to alert, not to route (README).`}
	fs := cmd.flagSet()
	target := fs.String("url", "", "`URL` of the instance to ask (default: http://<DARKSHARE_LISTEN, or 127.0.0.1:8080>)")
	if _, err := cmd.parse(fs, args, stdout); err != nil {
		return err
	}
	base := *target
	if base == "" {
		var err error
		if base, err = localURL(envOr(getenv, "DARKSHARE_LISTEN", "127.0.0.1:8080")); err != nil {
			return fmt.Errorf("healthcheck: DARKSHARE_LISTEN: %w", err)
		}
	}
	healthz, err := url.JoinPath(base, "healthz")
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	status, err := askHealth(ctx, healthz)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	_, err = fmt.Fprintln(stdout, status)
	return err
}

// localURL is the http:// URL at which a darkshare listening on listen
// answers on this machine: a wildcard host is asked on its loopback.
func localURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", err
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// askHealth returns healthz's status line if it answers 200, or an error
// saying what it answered instead.
func askHealth(ctx context.Context, healthz string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, healthz, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var answer struct{ Reason string }
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&answer)
	if resp.StatusCode != http.StatusOK {
		if answer.Reason != "" {
			return "", fmt.Errorf("%s answered %s: %s", healthz, resp.Status, answer.Reason)
		}
		return "", fmt.Errorf("%s answered %s", healthz, resp.Status)
	}
	return fmt.Sprintf("%s: %s", healthz, resp.Status), nil
}
