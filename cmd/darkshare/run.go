package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/server"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/pkg/track"
)

const usage = `darkshare: measurable dark social

Usage: darkshare [COMMAND] [ARGUMENTS] [FLAGS]

Commands:
  serve                  run the service (the default command)
  reset-admin-token      make a new admin token and print it
  keys create            make an API key and print its token, once
  keys list              list the API keys
  keys revoke ID         revoke an API key
  backup FILE            write a checked snapshot of a bbolt db
  check                  run bbolt's consistency check on a stopped db
  links import FILE      mint links for every row of a CSV file
  copy                   move a bbolt db into an empty PostgreSQL database
  healthcheck            ask a running darkshare whether it is healthy (Docker)
  help [COMMAND]         show this, or a command's help

Run "darkshare COMMAND --help" for what a command does and its flags.
Flags may come before or after the arguments. --db is a bbolt file, or a
PostgreSQL URL (postgres://user:password@host/db) that several instances
share. The flags of serve, --db and --base-url take their default from the
environment variable DARKSHARE_<FLAG> (e.g. DARKSHARE_LISTEN); --token,
from DARKSHARE_ADMIN_TOKEN.
`

// shutdownTimeout bounds how long in-flight requests may take at shutdown.
const shutdownTimeout = 10 * time.Second

// run is the whole program, minus process concerns, so tests can run it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "serve"
	switch {
	case len(args) > 0 && isHelp(args[0]):
		name = "help"
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		name, args = args[0], args[1:]
	}
	var err error
	switch name {
	case "serve":
		err = serve(ctx, args, getenv, stdout, stderr)
	case "reset-admin-token":
		err = resetAdminToken(ctx, args, getenv, stdout)
	case "keys":
		err = keysCommand(ctx, args, getenv, stdout)
	case "backup":
		err = backupCommand(ctx, args, getenv, stdout)
	case "check":
		err = checkCommand(args, getenv, stdout)
	case "links":
		err = linksCommand(ctx, args, getenv, stdout, stderr)
	case "copy":
		err = copyCommand(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		err = healthcheckCommand(ctx, args, getenv, stdout)
	case "help":
		if len(args) > 0 && !isHelp(args[0]) { // help COMMAND [VERB]: that command's help
			return run(ctx, append(slices.Clone(args), "--help"), getenv, stdout, stderr)
		}
		_, err = io.WriteString(stdout, usage)
	default:
		err = fmt.Errorf("unknown command %q; run \"darkshare help\" for the list", name)
	}
	if errors.Is(err, flag.ErrHelp) { // the command has printed its help
		return nil
	}
	return err
}

type serveConfig struct {
	listen, db, baseURL, allowHost, trustedProxy string
	clientIPHeader                               track.ProxyHeader
	blockHost, blocklist                         string
	accessLog, pprof                             bool
	flushInterval                                time.Duration
	limits                                       server.Limits
	conns                                        server.Conns
	campaign                                     link.Campaign
	landingMarker                                bool
	pageParams                                   []string
}

// serveCommand is how serve is called; darkshare with no command, or
// with flags only, is serve too.
var serveCommand = command{name: "serve", about: `
Runs the service: the API, the short links' redirects, the stats pages and
the share widget. At its first start on a db it makes the db (a bbolt
file; or the tables, in a PostgreSQL database) and prints an admin token,
once. Every flag takes its default from the environment variable
DARKSHARE_<FLAG> (--allow-host: DARKSHARE_ALLOW_HOST); the admin token can
be set in DARKSHARE_ADMIN_TOKEN.`}

// parseServeFlags parses serve's flags over their defaults from getenv;
// help is where --help is printed.
func parseServeFlags(args []string, getenv func(string) string, help io.Writer) (serveConfig, error) {
	var cfg serveConfig
	fs := serveCommand.flagSet()
	fs.StringVar(&cfg.listen, "listen", envOr(getenv, "DARKSHARE_LISTEN", "127.0.0.1:8080"), "address to listen on")
	db := dbFlag(fs, getenv, true)
	fs.StringVar(&cfg.baseURL, "base-url", getenv("DARKSHARE_BASE_URL"), "prefix of the short URLs handed out (default: http://<listen address>)")
	fs.StringVar(&cfg.allowHost, "allow-host", getenv("DARKSHARE_ALLOW_HOST"), "comma list of hosts anonymous callers may mint links for: news.example.org or *.example.org")
	fs.StringVar(&cfg.trustedProxy, "trusted-proxy", getenv("DARKSHARE_TRUSTED_PROXY"), "comma list of proxy addresses or CIDRs whose client-address header and X-Forwarded-Proto/-Host are believed (default: none; the socket address is the client)")
	if v := getenv("DARKSHARE_CLIENT_IP_HEADER"); v != "" {
		h, err := track.ParseProxyHeader(v)
		if err != nil {
			return cfg, fmt.Errorf("DARKSHARE_CLIENT_IP_HEADER: %w", err)
		}
		cfg.clientIPHeader = h
	}
	fs.Func("client-ip-header", "the one header a trusted proxy names the client in: X-Forwarded-For (read from the right) or X-Real-IP (default "+cfg.clientIPHeader.String()+")", func(v string) (err error) {
		cfg.clientIPHeader, err = track.ParseProxyHeader(v)
		return err
	})
	fs.StringVar(&cfg.blockHost, "block-host", getenv("DARKSHARE_BLOCK_HOST"), "comma list of hosts no one may mint links for: bad.example or *.bad.example")
	fs.StringVar(&cfg.blocklist, "blocklist", getenv("DARKSHARE_BLOCKLIST"), "file of blocked host patterns, one a line (# comments)")
	fs.BoolVar(&cfg.accessLog, "access-log", envBool(getenv, "DARKSHARE_ACCESS_LOG"), "log every request: method, path without query, status, duration (never the client address)")
	fs.BoolVar(&cfg.pprof, "pprof", envBool(getenv, "DARKSHARE_PPROF"), "serve Go profiles at /debug/pprof/ to admins")
	cfg.limits = server.DefaultLimits
	for _, r := range []struct {
		name, usage string
		rate        *server.Rate
	}{
		{"rate-mint", "anonymous mints per client address: N/duration, or off", &cfg.limits.Mint},
		{"rate-share", "share intents per client address: N/duration, or off", &cfg.limits.Share},
		{"rate-login", "wrong admin tokens, API keys and stats keys per client address (IPv6: per /64), on every route and the login form; over it, even right ones are refused until the window ends: N/duration, or off", &cfg.limits.Login},
		{"rate-view", "landing-beacon page views per client address: N/duration, or off", &cfg.limits.View},
	} {
		if v := getenv("DARKSHARE_" + strings.ToUpper(strings.ReplaceAll(r.name, "-", "_"))); v != "" {
			parsed, err := server.ParseRate(v)
			if err != nil {
				return cfg, fmt.Errorf("DARKSHARE_%s: %w", strings.ToUpper(strings.ReplaceAll(r.name, "-", "_")), err)
			}
			*r.rate = parsed
		}
		fs.Func(r.name, fmt.Sprintf("%s (default %s)", r.usage, r.rate), func(v string) error {
			parsed, err := server.ParseRate(v)
			*r.rate = parsed
			return err
		})
	}
	preset := fs.String("campaign", envOr(getenv, "DARKSHARE_CAMPAIGN", string(link.PresetNone)), "campaign parameters added to targets on redirect: "+link.PresetNames())
	fs.StringVar(&cfg.campaign.Name, "campaign-name", getenv("DARKSHARE_CAMPAIGN_NAME"), "campaign the visits are booked under (default "+link.DefaultCampaignName+"); for xtor, the declared IDs such as CS1-42")
	fs.StringVar(&cfg.campaign.Template, "campaign-template", getenv("DARKSHARE_CAMPAIGN_TEMPLATE"), "query pairs of --campaign custom, with {channel}, {campaign} and {code}: src={channel}&med=dark-social&camp={campaign}")
	fs.BoolVar(&cfg.landingMarker, "landing-marker", envBool(getenv, "DARKSHARE_LANDING_MARKER"), "add "+link.MarkerParam+"=<code> to targets on redirect, for the landing beacon")
	pageParams := fs.String("page-params", envOr(getenv, "DARKSHARE_PAGE_PARAMS", link.DefaultPageParams), "comma list of the query parameters a page address keeps, the ones that pick the content; '' keeps none")
	interval, err := envDuration(getenv, "DARKSHARE_FLUSH_INTERVAL", time.Second)
	if err != nil {
		return cfg, err
	}
	fs.DurationVar(&cfg.flushInterval, "flush-interval", interval, "how often counted clicks are written to the db (at most this much is lost on a crash)")
	if err := connFlags(fs, getenv, &cfg.conns); err != nil {
		return cfg, err
	}
	if _, err := serveCommand.parse(fs, args, help); err != nil {
		return cfg, err
	}
	cfg.db = *db
	if cfg.flushInterval <= 0 {
		return cfg, fmt.Errorf("--flush-interval must be positive, not %s", cfg.flushInterval)
	}
	if err := checkConns(cfg.conns); err != nil {
		return cfg, err
	}
	cfg.campaign.Preset = link.Preset(*preset)
	campaign, err := link.ParseCampaign(cfg.campaign)
	if err != nil {
		return cfg, fmt.Errorf("--campaign: %w", err)
	}
	cfg.campaign = campaign
	if cfg.pageParams, err = link.ParsePageParams(*pageParams); err != nil {
		return cfg, fmt.Errorf("--page-params: %w", err)
	}
	return cfg, nil
}

// connFlags defines the connection timeouts and caps on fs, with defaults
// from the environment or else server.DefaultConns.
func connFlags(fs *flag.FlagSet, getenv func(string) string, conns *server.Conns) error {
	*conns = server.DefaultConns()
	for _, d := range []struct {
		name, usage string
		v           *time.Duration
	}{
		{"read-timeout", "longest a client may take to send one request, header and body together (a connection's first: from connecting)", &conns.ReadTimeout},
		{"write-timeout", "longest one write of a response may stall (a page is written at once; a streamed backup or export chunk by chunk)", &conns.WriteTimeout},
		{"idle-timeout", "how long a keep-alive connection may wait for its next request", &conns.IdleTimeout},
	} {
		v, err := envDuration(getenv, envName(d.name), *d.v)
		if err != nil {
			return err
		}
		fs.DurationVar(d.v, d.name, v, d.usage)
	}
	for _, n := range []struct {
		name, usage string
		v           *int
	}{
		{"max-conns", "open connections at most, the rest refused with 503 (0: no cap; default: fits the descriptor limit)", &conns.Max},
		{"max-conns-per-ip", "open connections at most from one client address or IPv6 /64, the rest refused with 429; behind a proxy not in --trusted-proxy, that is the proxy's address (0: no cap)", &conns.MaxPerIP},
	} {
		v, err := envInt(getenv, envName(n.name), *n.v)
		if err != nil {
			return err
		}
		fs.IntVar(n.v, n.name, v, n.usage)
	}
	return nil
}

func checkConns(c server.Conns) error {
	for _, t := range []struct {
		name string
		d    time.Duration
	}{{"read-timeout", c.ReadTimeout}, {"write-timeout", c.WriteTimeout}, {"idle-timeout", c.IdleTimeout}} {
		if t.d <= 0 {
			return fmt.Errorf("--%s must be positive, not %s", t.name, t.d)
		}
	}
	if c.Max < 0 || c.MaxPerIP < 0 {
		return fmt.Errorf("--max-conns and --max-conns-per-ip must be 0 (no cap) or more")
	}
	return nil
}

// envName is the variable that gives a flag its default: DARKSHARE_<FLAG>.
func envName(flag string) string {
	return "DARKSHARE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func envInt(getenv func(string) string, name string, fallback int) (int, error) {
	v := getenv(name)
	if v == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a whole number", name, v)
	}
	return n, nil
}

func envOr(getenv func(string) string, name, fallback string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return fallback
}

func envBool(getenv func(string) string, name string) bool {
	v, _ := strconv.ParseBool(getenv(name))
	return v
}

func envDuration(getenv func(string) string, name string, fallback time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return fallback, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a duration such as 1s or 500ms", name, v)
	}
	return d, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, getenv, stdout)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	allow, err := link.ParseHostList(cfg.allowHost)
	if err != nil {
		return fmt.Errorf("--allow-host: %w", err)
	}
	proxies, err := track.ParseTrustedProxies(cfg.trustedProxy)
	if err != nil {
		return fmt.Errorf("--trusted-proxy: %w", err)
	}
	block, err := loadBlocklist(cfg.blockHost, cfg.blocklist)
	if err != nil {
		return err
	}

	be, err := openBackend(ctx, cfg.db)
	if err != nil {
		return err
	}
	defer func() {
		if err := be.close(); err != nil {
			log.Error("close db", "err", err)
		}
	}()

	admin := auth.NewService(be.admin, be.keys, auth.WithLogger(log))
	token, err := admin.Bootstrap(ctx, getenv("DARKSHARE_ADMIN_TOKEN"))
	if errors.Is(err, auth.ErrWeakToken) {
		return fmt.Errorf("DARKSHARE_ADMIN_TOKEN: %w", err)
	}
	if err != nil {
		return err
	}
	if token != "" {
		fmt.Fprintf(stdout, "New admin token (shown once; only its hash is stored): %s\n", token)
	}

	// Listen before anything else can fail slowly, so a busy port is reported at once.
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.listen, err)
	}
	baseURL, err := resolveBaseURL(cfg.baseURL, ln.Addr())
	if err != nil {
		_ = ln.Close()
		return err
	}
	// The listen address is the service too, whatever --base-url says.
	links, err := link.NewService(be.links, link.Policy{Allow: allow, Block: block, BaseURL: baseURL, SelfHosts: []string{ln.Addr().String()},
		SelfTargets: []string{baseURL + server.DemoPath}, Campaign: cfg.campaign, Marker: cfg.landingMarker, Feed: be.feed,
		PageParams: cfg.pageParams})
	if err != nil {
		_ = ln.Close()
		return err
	}
	visitors, err := track.NewHasher(ctx, be.salts, time.Now)
	if err != nil {
		_ = ln.Close()
		return err
	}
	// Counts a previous run left unfolded: a damaged log fails the start.
	if be.loadCounts != nil {
		if err := be.loadCounts(); err != nil {
			_ = ln.Close()
			return err
		}
	}
	agg := stats.NewAggregator(be.counts, log)
	metrics := server.NewMetrics(server.MetricsSources{Pending: agg.Pending, DBSize: be.size})
	agg.ObserveFlushes(metrics.ObserveFlush)
	srvCfg := server.Config{BaseURL: baseURL, Logger: log, TrustedProxies: proxies, ClientIPHeader: cfg.clientIPHeader, Limits: cfg.limits, AccessLog: cfg.accessLog, Pprof: cfg.pprof, Conns: cfg.conns}
	app, err := server.New(
		srvCfg,
		server.Deps{Links: links, Stats: agg, Auth: admin, Classifier: track.NewClassifier(), Visitors: visitors, Metrics: metrics, Backup: be.backup, Ping: be.ping},
	)
	if err != nil {
		_ = ln.Close()
		return err
	}
	if allow.Empty() {
		log.Warn("no --allow-host given: only the admin can mint links")
	}
	if fits, limit := server.FitsDescriptors(cfg.conns.Max); !fits {
		log.Warn("--max-conns leaves no reserve under the descriptor limit: past it, new connections wait", "max_conns", cfg.conns.Max, "limit", limit)
	}
	conns := server.NewListener(ln, srvCfg)

	flushCtx, stopFlushing := context.WithCancel(context.Background())
	var flusher sync.WaitGroup
	flusher.Go(func() { agg.Run(flushCtx, cfg.flushInterval, visitors.Persist, admin.Refresh) })
	// Redirects are served meanwhile, reading the db for links not yet loaded.
	flusher.Go(func() { loadRoutes(flushCtx, links, log) })
	// Other instances' changes to links; returns at once with bbolt, which
	// no other process shares (be.feed, link.Policy.Feed, is nil).
	flusher.Go(func() { links.Follow(flushCtx, link.DefaultPollInterval, log) })

	served := make(chan error, 1)
	go func() { served <- app.Listener(conns) }()
	fmt.Fprintf(stdout, "darkshare listening on http://%s (short links: %s)\n", ln.Addr(), baseURL)

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
		if err := server.Shutdown(app, conns, shutdownTimeout); err != nil {
			log.Error("shutdown", "err", err)
		}
		// Shutdown misses a listener that Serve has not registered yet; closing
		// it ends Serve either way, and waiting for that means no request can
		// still count a click after the final flush.
		_ = conns.Close()
		<-served
	case serveErr = <-served:
	}
	stopFlushing()
	flusher.Wait()
	// Nothing records clicks any more: this flush writes the last of them.
	if err := visitors.Persist(context.Background()); err != nil {
		log.Error("store the visitor salt; today's unique counts restart", "err", err)
	}
	if err := agg.Flush(context.Background()); err != nil {
		return errors.Join(serveErr, fmt.Errorf("final flush lost %d clicks: %w", agg.Pending(), err))
	}
	// Not needed for safety (the log is replayed at start), but a clean stop
	// leaves the log empty, so the next start reads only checkpoints.
	if be.checkpoint != nil {
		if err := be.checkpoint(context.Background()); err != nil {
			log.Error("checkpoint at shutdown; the next start replays the log instead", "err", err)
		}
	}
	return serveErr
}

// loadBlocklist joins the --block-host list and the patterns of the
// --blocklist file (one a line; blank lines and # comments skipped).
func loadBlocklist(list, file string) (link.HostList, error) {
	patterns := []string{list}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return link.HostList{}, fmt.Errorf("--blocklist: %w", err)
		}
		for line := range strings.Lines(string(data)) {
			line, _, _ = strings.Cut(line, "#")
			patterns = append(patterns, strings.TrimSpace(line))
		}
	}
	hl, err := link.ParseHostList(strings.Join(patterns, ","))
	if err != nil {
		return link.HostList{}, fmt.Errorf("blocklist: %w", err)
	}
	return hl, nil
}

// resolveBaseURL returns explicit, or derives http://host:port from the
// listener, using localhost for a wildcard address.
func resolveBaseURL(explicit string, addr net.Addr) (string, error) {
	if explicit != "" {
		u, err := url.Parse(explicit)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return "", fmt.Errorf("--base-url %q must be an absolute http(s) URL with no query", explicit)
		}
		return strings.TrimSuffix(explicit, "/"), nil
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String(), nil
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port)), nil
}

func resetAdminToken(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := command{name: "reset-admin-token", about: `
Makes a new admin token and prints it, once; the old one stops working
and every login session ends. A bbolt db must be stopped; on PostgreSQL
the running instances take the new token within 2 s (unless they were
started with DARKSHARE_ADMIN_TOKEN, which wins).`}
	fs := cmd.flagSet()
	path := dbFlag(fs, getenv, false)
	if _, err := cmd.parse(fs, args, stdout); err != nil {
		return err
	}
	be, err := openExistingBackend(ctx, *path)
	if err != nil {
		return err
	}
	token, err := auth.NewService(be.admin, be.keys).ResetAdminToken(ctx)
	if cerr := be.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "New admin token (shown once; the old one no longer works): %s\n", token)
	return err
}

func loadRoutes(ctx context.Context, links *link.Service, log *slog.Logger) {
	start := time.Now()
	n, err := links.LoadRoutes(ctx)
	switch {
	case errors.Is(err, context.Canceled):
	case err != nil:
		log.Error("links stay read from the db on first use", "err", err)
	default:
		log.Info("every link loaded for redirects", "links", n, "took", time.Since(start).Round(time.Millisecond))
	}
}
