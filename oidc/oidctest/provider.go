package oidctest

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Lifetimes and bounds. The provider keeps codes and tokens in memory; these
// keep a long-running dev server from growing without limit.
const (
	codeTTL    = time.Minute         // RFC 6749 §4.1.2: short-lived, 10 minutes at most
	accessTTL  = time.Hour           // expires_in of access tokens
	idTokenTTL = time.Hour           // exp - iat of ID tokens
	refreshTTL = 30 * 24 * time.Hour // refresh tokens do not rotate

	maxEntries  = 10000 // per store (codes, access tokens, refresh tokens)
	maxRecorded = 100   // token requests and revocations kept by Requests
	maxKeys     = 16    // signing keys remembered (to read id_token_hint)
	maxBody     = 64 << 10
	maxParam    = 4096 // longest accepted authorization request parameter
)

// Client is a client registered at the provider (RFC 6749 §2).
type Client struct {
	ID string
	// Secret authenticates the client at the token and revocation endpoints
	// (client_secret_basic or client_secret_post). An empty Secret registers a
	// public client, which sends only client_id (auth method "none"); PKCE is
	// required of every client anyway.
	Secret string
	// RedirectURIs are matched exactly, as RFC 9700 §2.1 requires. Empty
	// entries are ignored, here and in PostLogoutRedirectURIs.
	RedirectURIs []string
	// PostLogoutRedirectURIs are accepted by the end_session endpoint, in
	// addition to RedirectURIs (OpenID Connect RP-Initiated Logout §3).
	PostLogoutRedirectURIs []string
	// Name is shown on the login page; ID when empty.
	Name string
}

// Options configure a Provider.
type Options struct {
	// Issuer is the provider's identifier (OpenID Connect Discovery §3), a URL
	// with an optional path: the provider serves its endpoints under that path,
	// e.g. "https://auth.example/dev/op" serves "/dev/op/token". NewServer
	// fills in scheme and host and keeps the path given here, if any.
	Issuer string
	// Clients are the registered clients; at least one.
	Clients []Client
	// Alg is the ID-token signing algorithm: "RS256" (default), "PS256",
	// "ES256" or "EdDSA".
	Alg string
	// IssParameter makes the provider advertise
	// authorization_response_iss_parameter_supported and send iss in every
	// authorization response (RFC 9207). Default true.
	IssParameter *bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Provider is an OpenID Provider held in memory. It is an http.Handler that
// serves every endpoint under the path of its issuer URL, whether or not the
// router in front strips that path. It is safe for concurrent use.
type Provider struct {
	issuer   string
	base     string // issuer without a trailing slash: endpoint URLs are base+path
	basePath string // URL path of base, "" for a bare host
	clients  map[string]Client
	alg      string
	issParam bool
	now      func() time.Time
	pages    *template.Template
	csp      string
	xorigin  *http.CrossOriginProtection

	mu          sync.Mutex
	signing     *signingKey
	published   []*signingKey
	known       []*signingKey // every key this provider signed with, newest first
	unpublished *signingKey   // for Faults.UnpublishedKey, made on first use
	jwks        []byte        // JSON of published, rebuilt on rotation
	faults      Faults
	codes       map[[32]byte]*authCode
	access      map[[32]byte]*tokenEntry
	refresh     map[[32]byte]*tokenEntry
	log         RequestLog
}

// Endpoint names one of the provider's endpoints, for Faults and EndpointURL.
// Its value is the path under the issuer.
type Endpoint string

// The provider's endpoints.
const (
	DiscoveryEndpoint     Endpoint = "/.well-known/openid-configuration" // OpenID Connect Discovery §4
	AuthorizeEndpoint     Endpoint = "/authorize"                        // RFC 6749 §3.1, GET shows the login page
	TokenEndpoint         Endpoint = "/token"                            // RFC 6749 §3.2
	UserinfoEndpoint      Endpoint = "/userinfo"                         // OpenID Connect Core §5.3
	JWKSEndpoint          Endpoint = "/jwks"                             // RFC 7517 §5
	RevocationEndpoint    Endpoint = "/revoke"                           // RFC 7009
	IntrospectionEndpoint Endpoint = "/introspect"                       // RFC 7662
	EndSessionEndpoint    Endpoint = "/logout"                           // OpenID Connect RP-Initiated Logout
)

// New returns a Provider for opts. It makes a fresh signing key; it starts no
// listener (see NewServer).
func New(opts Options) (*Provider, error) {
	iss, err := url.Parse(opts.Issuer)
	if err != nil || (iss.Scheme != "https" && iss.Scheme != "http") || iss.Host == "" ||
		iss.RawQuery != "" || iss.Fragment != "" || iss.User != nil || strings.Contains(opts.Issuer, "#") {
		return nil, fmt.Errorf("oidctest: Issuer %q: want an http(s) URL without query or fragment", opts.Issuer)
	}
	if len(opts.Clients) == 0 {
		return nil, errors.New("oidctest: Options.Clients is empty")
	}
	p := &Provider{
		issuer:   opts.Issuer,
		base:     strings.TrimSuffix(opts.Issuer, "/"),
		basePath: strings.TrimSuffix(iss.Path, "/"), // compared with the decoded r.URL.Path
		clients:  make(map[string]Client, len(opts.Clients)),
		alg:      opts.Alg,
		issParam: opts.IssParameter == nil || *opts.IssParameter,
		now:      opts.Now,
		xorigin:  http.NewCrossOriginProtection(),
		codes:    make(map[[32]byte]*authCode),
		access:   make(map[[32]byte]*tokenEntry),
		refresh:  make(map[[32]byte]*tokenEntry),
	}
	if p.alg == "" {
		p.alg = "RS256"
	}
	if p.now == nil {
		p.now = time.Now
	}
	for i, c := range opts.Clients {
		if c.ID == "" {
			return nil, fmt.Errorf("oidctest: Clients[%d]: empty ID", i)
		}
		if _, dup := p.clients[c.ID]; dup {
			return nil, fmt.Errorf("oidctest: Clients[%d]: duplicate ID %q", i, c.ID)
		}
		// Empty entries match nothing; dropping them lets callers pass
		// optional settings straight through.
		c.RedirectURIs = slices.DeleteFunc(slices.Clone(c.RedirectURIs), isEmpty)
		c.PostLogoutRedirectURIs = slices.DeleteFunc(slices.Clone(c.PostLogoutRedirectURIs), isEmpty)
		for _, u := range slices.Concat(c.RedirectURIs, c.PostLogoutRedirectURIs) {
			if err := checkRedirectURI(u); err != nil {
				return nil, fmt.Errorf("oidctest: Clients[%d] (%s): %w", i, c.ID, err)
			}
		}
		p.clients[c.ID] = c
	}
	k, err := newSigningKey(p.alg)
	if err != nil {
		return nil, fmt.Errorf("oidctest: %w", err)
	}
	if err := p.parsePages(); err != nil {
		return nil, err
	}
	p.signing = k
	p.published = []*signingKey{k}
	p.known = []*signingKey{k}
	if p.jwks, err = marshalJWKS(p.published); err != nil {
		return nil, fmt.Errorf("oidctest: %w", err)
	}
	return p, nil
}

func isEmpty(s string) bool { return s == "" }

// checkRedirectURI accepts absolute URIs without a fragment (RFC 6749 §3.1.2).
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("redirect URI %q: want an absolute URI without fragment", s)
	}
	return nil
}

// Issuer returns the issuer identifier exactly as configured.
func (p *Provider) Issuer() string { return p.issuer }

// EndpointURL returns the absolute URL of an endpoint, as discovery
// advertises it.
func (p *Provider) EndpointURL(e Endpoint) string { return p.base + string(e) }

// SetFaults makes every later response misbehave as f says; the zero Faults
// restores correct behaviour. f is copied; its hooks are called without the
// provider's lock, possibly from several goroutines at once.
func (p *Provider) SetFaults(f Faults) {
	f = f.clone()
	p.mu.Lock()
	p.faults = f
	p.mu.Unlock()
}

func (p *Provider) currentFaults() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// ServeHTTP routes a request to its endpoint. Paths are taken relative to the
// issuer's path when they start with it, and as they are otherwise, so the
// provider works both behind http.StripPrefix and mounted on a router that
// passes the full path.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if p.basePath != "" {
		if rest, ok := strings.CutPrefix(path, p.basePath); ok && (rest == "" || rest[0] == '/') {
			path = rest
		}
	}
	e := Endpoint(path)
	var serve func(http.ResponseWriter, *http.Request)
	switch e {
	case DiscoveryEndpoint:
		serve = p.serveDiscovery
	case AuthorizeEndpoint:
		serve = p.serveAuthorize
	case TokenEndpoint:
		serve = p.serveToken
	case UserinfoEndpoint:
		serve = p.serveUserinfo
	case JWKSEndpoint:
		serve = p.serveJWKS
	case RevocationEndpoint:
		serve = p.serveRevocation
	case IntrospectionEndpoint:
		serve = p.serveIntrospection
	case EndSessionEndpoint:
		serve = p.serveEndSession
	default:
		http.NotFound(w, r)
		return
	}
	p.count(e)
	f := p.currentFaults()
	if !f.delayRequest(r, e) {
		return // the client gave up; nobody reads an answer
	}
	if f.respond(w, e) {
		return
	}
	serve(w, r)
}
