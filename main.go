// Command edgeauth is a stateless OAuth2 / OpenID Connect login service.
//
//	edgeauth serve    run the service (the default)
//	edgeauth dev      run it with an embedded provider, demo page and ephemeral keys
//	edgeauth check    validate the configuration and reach every provider
//	edgeauth keygen   print fresh keys as environment lines
//	edgeauth version  print the version
//
// `edgeauth help` lists every command with its flags; `edgeauth <command>
// --help` prints one command's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
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

// commands is what `edgeauth help` lists, in this order.
var commands = []struct{ name, summary string }{
	{"serve", "run the service (the default); configuration from EDGEAUTH_* variables"},
	{"dev", "run with an embedded test provider, a demo page at / and ephemeral keys, on 127.0.0.1"},
	{"check", "validate the configuration and reach every provider"},
	{"keygen", "print fresh EDGEAUTH_STATE_KEYS, EDGEAUTH_SIGNING_KEYS and EDGEAUTH_USERHOOK_SECRET"},
	{"version", "print the version"},
	{"help", "print this help, or one command's: edgeauth help <command>"},
}

// options holds every command's flags; flagSet registers those of one.
type options struct {
	envFile string
	dev     *server.DevFlags
	alg     string
	export  bool
}

func flagSet(cmd string, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints the usage and returns the error itself
	fs.Usage = func() {}
	switch cmd {
	case "serve", "check":
		fs.StringVar(&o.envFile, "env-file", "", "read EDGEAUTH_* and PORT from `FILE`, KEY=VALUE lines as keygen writes them; the environment wins over the file")
	case "dev":
		o.dev = &server.DevFlags{}
		fs.StringVar(&o.dev.UserhookURL, "userhook-url", "", "send user.login events to the receiver at `URL` (overrides EDGEAUTH_USERHOOK_URL)")
	case "keygen":
		fs.StringVar(&o.alg, "alg", "ES256", "signing algorithm (`ALG`) of the API-token key: ES256, EdDSA or RS256")
		fs.BoolVar(&o.export, "export", false, "print export NAME='value' lines, for eval \"$(edgeauth keygen --export)\"")
	}
	return fs
}

// commandUsage writes one command's usage line and flags.
func commandUsage(w io.Writer, cmd string) {
	summary := ""
	for _, c := range commands {
		if c.name == cmd {
			summary = c.summary
		}
	}
	fs := flagSet(cmd, &options{})
	synopsis := "edgeauth " + cmd
	if hasFlags(fs) {
		synopsis += " [flags]"
	}
	if cmd == "help" {
		synopsis += " [command]"
	}
	fmt.Fprintf(w, "usage: %s\n  %s\n", synopsis, summary)
	if hasFlags(fs) {
		fmt.Fprintln(w, "flags:")
		printFlags(w, fs, "  ")
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// printFlags writes one line per flag: --name ARG, its usage and default.
func printFlags(w io.Writer, fs *flag.FlagSet, indent string) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, help := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if arg != "" {
			name += " " + arg
		}
		if f.DefValue != "" && f.DefValue != "false" {
			help += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s%-20s %s\n", indent, name, help)
	})
}

// usage writes every command with its flags.
func usage(w io.Writer) {
	fmt.Fprint(w, "usage: edgeauth [command] [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
		printFlags(w, flagSet(c.name, &options{}), "           ")
	}
	fmt.Fprint(w, "\n`edgeauth <command> --help` prints one command's usage.\n")
}

// run is the whole program; tests call it with their own arguments and
// writers. It returns when ctx is done (after a graceful shutdown) or on error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "version", "--version", "-v":
		_, err := fmt.Fprintln(stdout, "edgeauth", version())
		return err
	case "help", "--help", "-help", "-h":
		if len(rest) > 0 && known(rest[0]) {
			commandUsage(stdout, rest[0])
			return nil
		}
		usage(stdout)
		return nil
	}
	if strings.HasPrefix(cmd, "-") { // `edgeauth --env-file .env` serves
		cmd, rest = "serve", args[1:]
	}
	if !known(cmd) {
		var b strings.Builder
		usage(&b)
		return fmt.Errorf("unknown command %q\n%s", cmd, b.String())
	}

	var o options
	fs := flagSet(cmd, &o)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandUsage(stdout, cmd)
			return nil
		}
		commandUsage(stderr, cmd)
		return fmt.Errorf("%s: %w", cmd, err)
	}
	if fs.NArg() > 0 {
		commandUsage(stderr, cmd)
		return fmt.Errorf("%s: unexpected argument %q", cmd, fs.Arg(0))
	}

	switch cmd {
	case "keygen":
		return server.Keygen(stdout, o.alg, o.export)
	default: // serve, dev, check
		if o.envFile != "" {
			port, err := server.LoadEnvFile(o.envFile, stderr)
			if err != nil {
				return err
			}
			if port != "" {
				// PORT is read through getenv, not envconfig.
				base := getenv
				getenv = func(name string) string {
					if v := base(name); v != "" || name != "PORT" {
						return v
					}
					return port
				}
			}
		}
		cfg, err := server.LoadConfig(getenv, o.dev)
		if err != nil {
			return err
		}
		logOut := stderr
		if f, ok := stderr.(*os.File); ok {
			// The process's own stderr gets its lines in batches
			// (logwriter.go); tests hand run a buffer and read it directly.
			lw := newLineWriter(f)
			defer lw.Close()
			logOut = lw
		}
		logger := server.NewLogger(cfg, logOut)
		if cmd == "check" {
			return server.Check(ctx, cfg, logger, stdout)
		}
		return server.Run(ctx, cfg, logger, stdout)
	}
}

func known(cmd string) bool {
	for _, c := range commands {
		if c.name == cmd {
			return true
		}
	}
	return false
}

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
