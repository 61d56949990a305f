// Command tollgate guards a Kubernetes software supply chain, from the
// Dockerfile to the running Pod.
package main

import (
	"context"
	"os"

	"github.com/tollgate-dev/tollgate/internal/cli"
)

func main() {
	os.Exit(run())
}

// run is tollgate with the process's arguments, streams and signals: the
// first SIGINT or SIGTERM stops the command (a server drains), a second one
// exits at once.
func run() int {
	ctx, stop := cli.SignalContext(context.Background(), os.Exit)
	defer stop()
	return cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
