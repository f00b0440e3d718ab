// Command bare is the baseline for bench/load.sh: a bare Fiber v2 app that
// gives the same answer as a darkshare redirect (302, same Location and
// Cache-Control) with no lookup and no counting, so the ratio of the two
// measures what darkshare's redirect path costs on top of Fiber itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
)

// target is the URL of the story bench/load.sh mints links to, so both
// servers send back headers of the same length.
const target = "https://news.example.org/story?id=42"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8181", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}

	// Listen first, so a busy port fails at once.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/:code", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "private, no-store")
		return c.Redirect(target, fiber.StatusFound)
	})

	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	fmt.Fprintf(stdout, "bare listening on http://%s\n", ln.Addr())

	select {
	case <-ctx.Done():
		err := app.ShutdownWithTimeout(5 * time.Second)
		// Shutdown misses a listener that Serve has not registered yet.
		_ = ln.Close()
		<-served
		return err
	case err := <-served:
		return err
	}
}
