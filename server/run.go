package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/statecodec"
	"github.com/edgeauth/edgeauth/userhook"
)

// NewLogger builds the structured logger LOG_LEVEL and LOG_FORMAT ask for.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// shutdownTimeout bounds the graceful shutdown: in-flight requests get
// this long to finish after ctx is done (SIGTERM). It stays under the 30 s
// that Kubernetes and most platforms wait before SIGKILL, and above the
// longest request we make (a login: token, JWKS, userinfo and webhook
// calls, each a few seconds at most).
const shutdownTimeout = 10 * time.Second

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting connections at once, lets in-flight requests finish within
// shutdownTimeout, and returns nil. Serving starts at once; every
// provider's discovery and JWKS are fetched in the background (see
// [Server.WarmUp]). When it is listening it prints one line, "edgeauth
// listening on <url>", to stdout: scripts and tests wait for it instead of
// polling.
func Run(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
	opts := Options{Logger: logger}
	if cfg.Dev != nil {
		op, err := NewDevOP(cfg.Dev)
		if err != nil {
			return err
		}
		opts.DevOP = op
		logger.Warn("DEV MODE: embedded test provider that lets anyone in, ephemeral keys, demo page at /. Never expose this to the internet; EDGEAUTH_ENV=production refuses it.",
			"public_url", cfg.PublicURL, "addr", cfg.Addr)
		if len(cfg.Ignored) > 0 {
			logger.Warn("dev mode ignores these settings: it always uses keys made for this run and its own issuer, so its tokens are never accepted where production tokens are", "ignored", cfg.Ignored)
		}
	}
	srv, err := New(cfg, opts)
	if err != nil {
		return err
	}
	for _, p := range cfg.Providers {
		if p.OIDC.ConvertAccessToken == oidc.ConvertUserinfo {
			logger.Warn("CONVERT_ACCESS_TOKEN=userinfo: access tokens are converted on userinfo's word alone, so a token issued to any other app of this provider logs its user in here (token substitution)", "provider", p.Name)
		}
	}
	if cfg.BindingOff {
		logger.Warn("EDGEAUTH_BINDING=off: states are not bound to the browser that started the login, so login CSRF (RFC 9700 §2.1.1) is not prevented; use it only for flows with no browser")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	srv.WarmUp(ctx)
	logger.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "providers", len(cfg.Providers))
	if _, err := fmt.Fprintf(stdout, "edgeauth listening on %s\n", cfg.PublicURL); err != nil {
		logger.Warn("stdout", "error", err.Error())
	}
	if cfg.Userhook.SecretGenerated {
		// Dev mode only: the developer's receiver needs the secret made for
		// this run. It goes to stdout, like keygen's output, never to the log.
		fmt.Fprintf(stdout, "user webhook %s signs with EDGEAUTH_USERHOOK_SECRET=%s (generated for this run)\n", cfg.Userhook.URL, cfg.Userhook.Secret)
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", shutdownTimeout)
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: requests still running after %s: %w", shutdownTimeout, err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Check reaches every provider's metadata and keys and prints one line per
// provider: its discovery, the number of keys in its JWKS, and each
// endpoint it offers. It fails when any provider is unreachable.
func Check(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
	srv, err := New(cfg, Options{Logger: logger})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var failed []string
	for _, name := range srv.order {
		line, err := srv.providers[name].check(ctx)
		if err != nil {
			failed = append(failed, name)
			fmt.Fprintf(stdout, "%-12s FAIL  %s\n", name, checkFailure(srv.providers[name], err))
			continue
		}
		fmt.Fprintf(stdout, "%-12s ok    %s\n", name, line)
	}
	if len(failed) > 0 {
		return fmt.Errorf("unreachable providers: %s", strings.Join(failed, ", "))
	}
	fmt.Fprintln(stdout, "configuration ok")
	return nil
}

// check describes what p offers, or fails at the first step that does.
func (p *provider) check(ctx context.Context) (string, error) {
	eps, err := p.rp.Endpoints(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if p.rp.Type() == oidc.TypeOIDC {
		b.WriteString("discovery ok; ")
	} else {
		b.WriteString("discovery none (oauth2); ")
	}
	n, err := p.rp.Keys(ctx)
	if err != nil {
		return "", err
	}
	if eps.JWKS == "" {
		b.WriteString("jwks none")
	} else {
		fmt.Fprintf(&b, "jwks %d key(s)", n)
	}
	for _, e := range []struct{ name, url string }{
		{"token", eps.Token}, {"userinfo", eps.Userinfo}, {"revocation", eps.Revocation},
		{"end_session", eps.EndSession}, {"introspection", eps.Introspection},
	} {
		if e.url == "" {
			e.url = "none"
		}
		fmt.Fprintf(&b, "; %s %s", e.name, e.url)
	}
	if p.callback != "" {
		// What the operator registers at the provider (Apple's Return URL).
		fmt.Fprintf(&b, "; register redirect URI %s", p.callback)
	}
	return b.String(), nil
}

// checkFailure words a provider's failure for the operator. Unlike a
// client's problem detail it may name what the provider said: the
// operator's own terminal is the audience.
func checkFailure(p *provider, err error) string {
	if mm, ok := errors.AsType[*oidc.IssuerMismatchError](err); ok {
		msg := fmt.Sprintf("discovery: issuer mismatch: configured %q, the provider names %q", mm.Expected, mm.Got)
		if mm.TrailingSlash() {
			msg += " (they differ only by a trailing slash: set " + envName(p.cfg.Name, "ISSUER") + " to exactly the provider's issuer)"
		}
		return msg
	}
	msg := err.Error()
	if oe, ok := errors.AsType[*oidc.Error](err); ok && oe.Err != nil {
		msg += " (" + oe.Err.Error() + ")"
	}
	return msg
}

// Keygen prints fresh keys as environment lines, ready for a .env file
// (`edgeauth serve --env-file`) or a platform's secret store; with export,
// as `export NAME='value'` lines for a shell's eval.
func Keygen(w io.Writer, alg string, export bool) error {
	_, state, err := statecodec.GenerateKey()
	if err != nil {
		return err
	}
	signing, err := apitoken.GenerateSigningKey(alg)
	if err != nil {
		return err
	}
	hook, err := userhook.NewSecret()
	if err != nil {
		return err
	}
	if export {
		_, err = fmt.Fprintf(w, "export EDGEAUTH_STATE_KEYS=%s\nexport EDGEAUTH_SIGNING_KEYS=%s\nexport EDGEAUTH_USERHOOK_SECRET=%s\n",
			shellQuote(state), shellQuote(string(signing)), shellQuote(hook))
		return err
	}
	_, err = fmt.Fprintf(w, "EDGEAUTH_STATE_KEYS=%s\nEDGEAUTH_SIGNING_KEYS='%s'\nEDGEAUTH_USERHOOK_SECRET=%s\n", state, signing, hook)
	return err
}
