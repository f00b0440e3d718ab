package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/darkshare/darkshare/pkg/auth"
)

// keyClient manages API keys either in a db file or through a running
// server's admin API; the subcommands do not care which.
type keyClient interface {
	create(ctx context.Context, name string, scopes []string) (auth.Key, string, error)
	list(ctx context.Context) ([]auth.Key, error)
	revoke(ctx context.Context, id string) error
	close() error
}

const keysUsage = `Usage: darkshare keys VERB [ARGUMENTS] [flags]

  keys create --name NAME --scopes SCOPES   make a key and print its token, once
  keys list                                 list the keys (never their tokens)
  keys revoke ID                            revoke a key, at once

They work on a stopped bbolt db (--db), on a PostgreSQL database while it
serves (--db postgres://…), or through a running server (--server URL,
with the admin token in --token or DARKSHARE_ADMIN_TOKEN). Run
"darkshare keys VERB --help" for a verb's flags.
`

// keysCommand is "darkshare keys create|list|revoke".
func keysCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	switch {
	case len(args) == 0:
		return errors.New(`keys: say create, list or revoke (more: darkshare keys --help)`)
	case isHelp(args[0]) || args[0] == "help":
		_, err := io.WriteString(stdout, keysUsage)
		return err
	}
	verb, args := args[0], args[1:]
	const where = `

It works in the db (--db: a stopped bbolt file, or a PostgreSQL database
while it serves), or through a running server (--server URL, with the
admin token).`
	cmd := command{name: "keys " + verb}
	switch verb {
	case "create":
		cmd.flags = "--name NAME --scopes SCOPES [flags]"
		cmd.about = "Makes an API key, and prints its token once: only its hash is stored." + where
	case "list":
		cmd.about = "Lists the API keys: ID, name, scopes and creation time, never their\ntokens." + where
	case "revoke":
		cmd.args = []string{"ID"}
		cmd.about = "Revokes the API key ID (the first column of keys list); it is refused at\nonce, also by instances sharing a PostgreSQL database." + where
	default:
		return fmt.Errorf("keys: unknown verb %q; say create, list or revoke (more: darkshare keys --help)", verb)
	}
	fs := cmd.flagSet()
	var name, scopes *string
	if verb == "create" {
		name = fs.String("name", "", "what the key is for, e.g. cms or prometheus")
		scopes = fs.String("scopes", "", "comma list of what the key may do: links:write, stats:read, admin")
	}
	dbPath := dbFlag(fs, getenv, false)
	serverURL := fs.String("server", "", "base `URL` of a running darkshare, to go through its admin API instead of the db")
	token := tokenFlag(fs, getenv)
	rest, err := cmd.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	client, err := openKeyClient(ctx, *serverURL, *token, *dbPath)
	if err != nil {
		return err
	}
	err = runKeyVerb(ctx, client, verb, rest, name, scopes, stdout)
	return errors.Join(err, client.close())
}

// runKeyVerb runs verb, which keysCommand has checked, with its arguments
// rest; name and scopes are create's flags.
func runKeyVerb(ctx context.Context, client keyClient, verb string, rest []string, name, scopes *string, stdout io.Writer) error {
	switch verb {
	case "create":
		k, token, err := client.create(ctx, *name, strings.Split(*scopes, ","))
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "Created key %s (%s) with %s.\nIts token, shown once:\n%s\n", k.ID, k.Name, joinScopes(k.Scopes), token)
		return err
	case "list":
		keys, err := client.list(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tSCOPES\tCREATED")
		for _, k := range keys {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.ID, k.Name, joinScopes(k.Scopes), k.CreatedAt.Format(time.RFC3339))
		}
		return w.Flush()
	default: // revoke
		if err := client.revoke(ctx, rest[0]); err != nil {
			return err
		}
		_, err := fmt.Fprintf(stdout, "Revoked key %s.\n", rest[0])
		return err
	}
}

// tokenFlag defines --token, the admin token that --server needs, with
// DARKSHARE_ADMIN_TOKEN as its default, which --help never shows.
func tokenFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	v := getenv("DARKSHARE_ADMIN_TOKEN")
	fs.Var(secretFlag{&v}, "token", "admin `TOKEN`, with --server (default: $DARKSHARE_ADMIN_TOKEN)")
	return &v
}

// secretFlag is a flag.Value whose value is never shown.
type secretFlag struct{ value *string }

func (s secretFlag) String() string     { return "" }
func (s secretFlag) Set(v string) error { *s.value = v; return nil }

func joinScopes(scopes []auth.Scope) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, ",")
}

func openKeyClient(ctx context.Context, serverURL, token, dbPath string) (keyClient, error) {
	if serverURL != "" {
		if token == "" {
			return nil, errors.New("--server needs the admin token: --token or DARKSHARE_ADMIN_TOKEN")
		}
		return &apiKeyClient{base: strings.TrimSuffix(serverURL, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
	}
	be, err := openExistingBackend(ctx, dbPath)
	if err != nil {
		if !isPostgresURL(dbPath) {
			err = fmt.Errorf("%w (to manage keys of a running server, use --server)", err)
		}
		return nil, err
	}
	return &dbKeyClient{be: be, svc: auth.NewService(be.admin, be.keys)}, nil
}

// dbKeyClient manages the keys in the store itself: a stopped bbolt file,
// or a PostgreSQL database, whose running instances see a revocation at
// once (they read keys from it on every use).
type dbKeyClient struct {
	be  *backend
	svc *auth.Service
}

func (c *dbKeyClient) create(ctx context.Context, name string, scopes []string) (auth.Key, string, error) {
	parsed, err := auth.ParseScopes(scopes)
	if err != nil {
		return auth.Key{}, "", err
	}
	return c.svc.CreateKey(ctx, name, parsed)
}
func (c *dbKeyClient) list(ctx context.Context) ([]auth.Key, error) { return c.svc.ListKeys(ctx) }
func (c *dbKeyClient) revoke(ctx context.Context, id string) error  { return c.svc.RevokeKey(ctx, id) }
func (c *dbKeyClient) close() error                                 { return c.be.close() }

type apiKeyClient struct {
	base, token string
	http        *http.Client
}

func (c *apiKeyClient) do(ctx context.Context, method, path string, body any, want int, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, e.Error.Message)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c *apiKeyClient) create(ctx context.Context, name string, scopes []string) (auth.Key, string, error) {
	var out struct {
		auth.Key
		Token string `json:"key"`
	}
	err := c.do(ctx, http.MethodPost, "/api/v1/keys", map[string]any{"name": name, "scopes": scopes}, http.StatusCreated, &out)
	return out.Key, out.Token, err
}

func (c *apiKeyClient) list(ctx context.Context) ([]auth.Key, error) {
	var out struct {
		Keys []auth.Key `json:"keys"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/keys", nil, http.StatusOK, &out)
	return out.Keys, err
}

func (c *apiKeyClient) revoke(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/keys/"+url.PathEscape(id), nil, http.StatusNoContent, nil)
}

func (c *apiKeyClient) close() error { return nil }
