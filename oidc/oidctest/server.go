package oidctest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
)

// Server is a Provider listening on a local port, like httptest.Server.
type Server struct {
	*Provider
	// URL is the base URL of the server, "http://127.0.0.1:port"; the issuer
	// is URL plus the path of Options.Issuer, if any.
	URL string

	srv *httptest.Server
}

// NewServer starts a Provider on a local port and sets opts.Issuer to its
// URL (keeping the path of opts.Issuer). Like httptest.NewServer it panics
// when it cannot start, here also when opts are invalid; use New to get an
// error instead. Call Close when done.
func NewServer(opts Options) *Server { return newServer(opts, false) }

// NewTLSServer is NewServer over HTTPS with httptest's self-signed
// certificate; use the Server's Client to trust it.
func NewTLSServer(opts Options) *Server { return newServer(opts, true) }

func newServer(opts Options, tls bool) *Server {
	// The listener exists before the server starts, so the issuer is known
	// before any request can arrive.
	ts := httptest.NewUnstartedServer(nil)
	scheme := "http"
	if tls {
		scheme = "https"
	}
	base := scheme + "://" + ts.Listener.Addr().String()
	path := ""
	if opts.Issuer != "" {
		u, err := url.Parse(opts.Issuer)
		if err != nil {
			ts.Close()
			panic(fmt.Sprintf("oidctest: NewServer: Issuer %q: %v", opts.Issuer, err))
		}
		path = strings.TrimSuffix(u.EscapedPath(), "/")
	}
	opts.Issuer = base + path
	p, err := New(opts)
	if err != nil {
		ts.Close()
		panic(fmt.Sprintf("oidctest: NewServer: %v", err))
	}
	ts.Config.Handler = p
	if tls {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	return &Server{Provider: p, URL: ts.URL, srv: ts}
}

// Client returns an HTTP client that trusts the server (needed with
// NewTLSServer).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close shuts the server down, cutting any request still waiting on a Delay.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}
