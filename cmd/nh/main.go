// Command nh is the command-line tool for the Azure Notification Hubs data
// plane: sends, registrations, installations, telemetry, jobs, a local
// emulator and a demo. Run 'nh --help' or 'nh demo'.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/nhkit/notificationhubs/internal/cli"
)

func main() {
	// The first Ctrl-C asks the command to stop cleanly (a bulk send
	// finishes the requests in flight); a second one kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	code := cli.Main(ctx, os.Args[1:], cli.StdIO(), os.Getenv)
	stop()
	os.Exit(code)
}
