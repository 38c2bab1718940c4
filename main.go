// Command edgeauth is a stateless OAuth2 / OpenID Connect login service.
//
//	edgeauth serve    run the service (the default)
//	edgeauth dev      run it with an embedded provider, demo page and ephemeral keys
//	edgeauth check    validate the configuration and reach every provider
//	edgeauth keygen   print fresh keys as environment lines
//	edgeauth version  print the version
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/edgeauth/edgeauth/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "edgeauth:", err)
		os.Exit(1)
	}
}

// run is the whole program; tests call it with their own arguments and
// writers. It returns when ctx is done (after a graceful shutdown) or on error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "serve", "dev", "check":
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		fs.SetOutput(stderr)
		var dev *server.DevFlags
		if cmd == "dev" {
			dev = &server.DevFlags{}
			fs.StringVar(&dev.UserhookURL, "userhook-url", "", "send user.login events to this receiver (overrides EDGEAUTH_USERHOOK_URL)")
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		cfg, err := server.LoadConfig(getenv, dev)
		if err != nil {
			return err
		}
		logger := server.NewLogger(cfg, stderr)
		if cmd == "check" {
			return server.Check(ctx, cfg, logger, stdout)
		}
		return server.Run(ctx, cfg, logger, stdout)
	case "keygen":
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		fs.SetOutput(stderr)
		alg := fs.String("alg", "ES256", "signing algorithm of the API-token key: ES256, EdDSA or RS256")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return server.Keygen(stdout, *alg)
	case "version", "--version", "-v":
		_, err := fmt.Fprintln(stdout, "edgeauth", version())
		return err
	case "help", "--help", "-h":
		_, err := fmt.Fprint(stdout, usage)
		return err
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage: edgeauth [command]

commands:
  serve    run the service (default); configuration from EDGEAUTH_* variables
  dev      run with an embedded test provider, a demo page at / and ephemeral keys
  check    validate the configuration and reach every provider
  keygen   print fresh EDGEAUTH_STATE_KEYS, EDGEAUTH_SIGNING_KEYS and EDGEAUTH_USERHOOK_SECRET
  version  print the version
`

// version is the module version when built from a tagged module, else the
// VCS revision the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}
