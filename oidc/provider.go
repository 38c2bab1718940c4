package oidc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Provider talks to one configured OAuth 2.0 / OpenID Connect provider. It
// is safe for concurrent use; create one per provider at start-up and keep
// it: its discovery and JWKS caches live inside.
type Provider struct {
	cfg    Config
	client *http.Client
	quirks quirks // the preset's, zero for none

	static *endpoints          // oauth2 type: everything from Config
	disc   *remote[*endpoints] // oidc type: discovery merged with Config overrides

	keysMu  sync.Mutex
	keys    *remote[*keySet]
	keysURL string
}

// endpoints is what a provider offers once discovery and Config overrides
// are merged and validated.
type endpoints struct {
	auth, token, userinfo, jwks, revocation, endSession, introspection string
	// issParam: the provider sends `iss` in authorization responses
	// (RFC 9207 §3, authorization_response_iss_parameter_supported).
	issParam bool
}

// New validates cfg and returns a Provider. It makes no network call (a
// serverless instance must start fast even when a provider is down);
// discovery and the JWKS are fetched on first use, or by Discover. The
// error is a *ConfigError listing every problem found.
func New(cfg Config) (*Provider, error) {
	// Own copies: the caller may reuse what it passed.
	cfg.Scopes = slices.Clone(cfg.Scopes)
	cfg.AuthParams = maps.Clone(cfg.AuthParams)
	cfg.SigningAlgs = slices.Clone(cfg.SigningAlgs)
	cfg.TrustedAudiences = slices.Clone(cfg.TrustedAudiences)
	cfg.ConvertAudiences = slices.Clone(cfg.ConvertAudiences)
	cfg.HostedDomains = slices.Clone(cfg.HostedDomains)
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	p := &Provider{
		cfg:    cfg,
		client: buildClient(cfg.HTTPClient, cfg.Timeout),
	}
	if pr, ok := lookupPreset(cfg.Preset); ok {
		p.quirks = pr.quirks
	}
	if cfg.Type == TypeOAuth2 {
		p.static = &endpoints{
			auth:       cfg.AuthURL,
			token:      cfg.TokenURL,
			userinfo:   cfg.UserinfoURL,
			jwks:       cfg.JWKSURL,
			revocation: cfg.RevocationURL,
			endSession: cfg.EndSessionURL,
			// An oauth2 provider has no discovery: introspection only when
			// configured.
			introspection: cfg.IntrospectionURL,
			issParam:      p.quirks.issParam,
		}
	} else {
		p.disc = &remote[*endpoints]{
			fetch:   p.discover,
			maxAge:  discoveryMaxAge,
			timeout: cfg.Timeout,
		}
	}
	return p, nil
}

// Name returns the configured provider name.
func (p *Provider) Name() string { return p.cfg.Name }

// Issuer returns the configured issuer ("" for an oauth2 provider without one).
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// Type returns TypeOIDC or TypeOAuth2 (presets resolved).
func (p *Provider) Type() string { return p.cfg.Type }

// Preset returns the preset the provider was configured from, "" for none.
func (p *Provider) Preset() string { return p.cfg.Preset }

// FormPost reports whether the provider answers authorization requests
// with response_mode=form_post (Apple), so that its answer is a POST from
// the browser rather than a redirect.
func (p *Provider) FormPost() bool { return p.cfg.AuthParams["response_mode"] == "form_post" }

// Discover fetches (or finds cached) what logins need from the provider:
// the discovery document and the JWKS for an oidc provider; nothing for an
// oauth2 provider, which has neither. For readiness probes and
// `edgeauth check`.
func (p *Provider) Discover(ctx context.Context) error {
	eps, err := p.endpoints(ctx)
	if err != nil {
		return err
	}
	if p.cfg.Type != TypeOIDC {
		return nil
	}
	if _, err := p.keyCache(eps.jwks).get(ctx); err != nil {
		return jwksError(err)
	}
	return nil
}

// Endpoints are what a provider offers, discovery and Config overrides
// merged and validated; "" where it offers nothing.
type Endpoints struct {
	Authorization, Token, Userinfo, JWKS, Revocation, EndSession, Introspection string
	// IssParameter: the provider sends iss in authorization responses
	// (RFC 9207 §3).
	IssParameter bool
}

// Endpoints returns the provider's endpoints, discovering them if needed:
// for `edgeauth check` and diagnostics. The error is an *Error.
func (p *Provider) Endpoints(ctx context.Context) (Endpoints, error) {
	eps, err := p.endpoints(ctx)
	if err != nil {
		return Endpoints{}, err
	}
	return Endpoints{
		Authorization: eps.auth, Token: eps.token, Userinfo: eps.userinfo, JWKS: eps.jwks,
		Revocation: eps.revocation, EndSession: eps.endSession, Introspection: eps.introspection,
		IssParameter: eps.issParam,
	}, nil
}

// Keys fetches (or finds cached) the provider's JWKS and returns how many
// usable signing keys it holds: for `edgeauth check`. An oauth2 provider
// without a JWKS has none. The error is an *Error.
func (p *Provider) Keys(ctx context.Context) (int, error) {
	eps, err := p.endpoints(ctx)
	if err != nil {
		return 0, err
	}
	if eps.jwks == "" {
		return 0, nil
	}
	set, err := p.keyCache(eps.jwks).get(ctx)
	if err != nil {
		return 0, jwksError(err)
	}
	return len(set.keys), nil
}

// IssuerMismatchError is the cause (Error.Err) of a discovery document
// whose issuer is not the configured one (OpenID Connect Discovery §4.3).
// Neither value is secret, but Got is the provider's text: it stays out of
// Error.Detail, which reaches clients.
type IssuerMismatchError struct {
	Expected, Got string
}

func (e *IssuerMismatchError) Error() string {
	return fmt.Sprintf("discovery issuer %s, configured %s", clip(e.Got), clip(e.Expected))
}

// TrailingSlash reports whether the two issuers differ only by a
// terminating "/", the most common way to get this wrong.
func (e *IssuerMismatchError) TrailingSlash() bool {
	return e.Expected != e.Got && strings.TrimSuffix(e.Expected, "/") == strings.TrimSuffix(e.Got, "/")
}

// endpoints returns the provider's endpoints, discovering them if needed.
func (p *Provider) endpoints(ctx context.Context) (*endpoints, error) {
	if p.static != nil {
		return p.static, nil
	}
	eps, err := p.disc.get(ctx)
	if err != nil {
		if _, ok := errors.AsType[*Error](err); ok {
			return nil, err
		}
		return nil, newError(CodeUnavailable, "discovery", err, "discovery: %s", safeCause(err))
	}
	return eps, nil
}

// metadata is the part of the OpenID Provider Metadata (OpenID Connect
// Discovery §3, RFC 8414 §2) that edgeauth uses.
type metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
	EndSessionEndpoint    string `json:"end_session_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	IssParameterSupported bool   `json:"authorization_response_iss_parameter_supported"`
}

// discover fetches and validates the discovery document (OpenID Connect
// Discovery §4). Its issuer must equal the configured one exactly (§4.3),
// which stops a document served for one issuer from being used for
// another.
//
// An unusable document counts as a failed call for Config.Observe.
func (p *Provider) discover(ctx context.Context) (_ *endpoints, err error) {
	start, status := time.Now(), 0
	defer func() { p.observe(CallDiscovery, start, status, err) }()
	// §4.1: a terminating "/" of the issuer is removed before appending.
	u := strings.TrimSuffix(p.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	if p.quirks.discoveryURL != nil {
		u = p.quirks.discoveryURL(p)
	}
	var m metadata
	if status, err = p.getJSON(ctx, u, maxDiscoveryBytes, "", false, &m); err != nil {
		return nil, fmt.Errorf("get %s: %w", u, err)
	}
	if m.Issuer != p.cfg.Issuer {
		// The client sees only the configured issuer (Detail); the one the
		// provider named goes to the cause, for logs and `edgeauth check`.
		return nil, newError(CodeUnavailable, "discovery_issuer", &IssuerMismatchError{Expected: p.cfg.Issuer, Got: m.Issuer},
			"discovery: issuer: expected %s, got another", clip(p.cfg.Issuer))
	}
	eps := &endpoints{issParam: m.IssParameterSupported}
	var errs []error
	pick := func(dst *string, override, discovered, name string, required bool) {
		if override != "" {
			*dst = override
			return
		}
		if discovered == "" {
			if required {
				errs = append(errs, fmt.Errorf("%s missing", name))
			}
			return
		}
		if err := checkEndpoint(discovered); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return
		}
		// The loopback exception is for development providers only: an
		// https issuer may not send us (and our secret) to plain http.
		if strings.HasPrefix(p.cfg.Issuer, "https://") && !strings.HasPrefix(discovered, "https://") {
			errs = append(errs, fmt.Errorf("%s: %q is not https like the issuer", name, discovered))
			return
		}
		*dst = discovered
	}
	pick(&eps.auth, p.cfg.AuthURL, m.AuthorizationEndpoint, "authorization_endpoint", true)
	pick(&eps.token, p.cfg.TokenURL, m.TokenEndpoint, "token_endpoint", true)
	pick(&eps.jwks, p.cfg.JWKSURL, m.JWKSURI, "jwks_uri", true)
	pick(&eps.userinfo, p.cfg.UserinfoURL, m.UserinfoEndpoint, "userinfo_endpoint", false)
	pick(&eps.revocation, p.cfg.RevocationURL, m.RevocationEndpoint, "revocation_endpoint", false)
	pick(&eps.endSession, p.cfg.EndSessionURL, m.EndSessionEndpoint, "end_session_endpoint", false)
	pick(&eps.introspection, p.cfg.IntrospectionURL, m.IntrospectionEndpoint, "introspection_endpoint", false)
	if p.cfg.AuthURL == "" && eps.auth != "" {
		if err := checkAuthEndpointQuery(eps.auth); err != nil {
			errs = append(errs, fmt.Errorf("authorization_endpoint: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, newError(CodeUnavailable, "discovery_metadata", err, "discovery: unusable provider metadata")
	}
	return eps, nil
}

// safeCause turns an outbound-call failure into words fit for a client:
// the HTTP status, a timeout, or a generic failure, never addresses or
// provider text.
func safeCause(err error) string {
	var st errStatus
	switch {
	case errors.As(err, &st):
		return fmt.Sprintf("provider answered HTTP %d", st.code)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "provider timed out"
	case errors.Is(err, context.Canceled):
		return "request canceled"
	case errors.Is(err, errTooLarge):
		return "provider answer too large"
	default:
		return "provider unreachable or answer malformed"
	}
}

func isTimeout(err error) bool {
	t, ok := errors.AsType[interface {
		error
		Timeout() bool
	}](err)
	return ok && t.Timeout()
}

// clientSecret is the secret sent to the provider's token, revocation and
// introspection endpoints: Config.ClientSecret, or what the preset makes.
func (p *Provider) clientSecret() (string, error) {
	if p.quirks.clientSecret != nil {
		return p.quirks.clientSecret(p)
	}
	return p.cfg.ClientSecret, nil
}
