// Command darkshare runs the darkshare service: per-channel short links,
// instant counted redirects, and stats pages, on one embedded bbolt file.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "darkshare:", err)
		os.Exit(1)
	}
}
