package oidctest

import (
	"crypto/rand"
	"crypto/sha256"
	"slices"
	"time"
)

// grant is one login: what every code, access token and refresh token that
// came from it shares.
type grant struct {
	clientID string
	email    string
	scopes   []string
	authTime time.Time
}

// authCode is an authorization code (RFC 6749 §4.1.2) and what it is bound to.
type authCode struct {
	g           *grant
	redirectURI string
	challenge   string // PKCE S256 code_challenge (RFC 7636 §4.2)
	nonce       string
	expires     time.Time
	used        bool
}

// tokenEntry is an access or refresh token.
type tokenEntry struct {
	g       *grant
	scopes  []string
	issued  time.Time
	expires time.Time
}

// Tokens are looked up by their SHA-256, so a lookup's timing says nothing
// about the stored values, and memory holds no usable token.
func tokenKey(token string) [32]byte { return sha256.Sum256([]byte(token)) }

func newToken() string { return rand.Text() }

// put stores v under k, first making room when the map is full: expired
// entries go, then arbitrary ones. A test provider may forget a token; it
// must not grow without bound in a long dev session.
func put[V any](m map[[32]byte]V, k [32]byte, v V, expired func(V) bool) {
	if len(m) >= maxEntries {
		for key, old := range m {
			if expired(old) {
				delete(m, key)
			}
		}
		for key := range m {
			if len(m) < maxEntries {
				break
			}
			delete(m, key)
		}
	}
	m[k] = v
}

// storeCode records a new code; the caller holds no lock.
func (p *Provider) storeCode(c *authCode) string {
	code := newToken()
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	put(p.codes, tokenKey(code), c, func(c *authCode) bool { return !now.Before(c.expires) })
	return code
}

// storeToken records an access or refresh token for g.
func (p *Provider) storeToken(m map[[32]byte]*tokenEntry, g *grant, scopes []string, ttl time.Duration) string {
	tok := newToken()
	now := p.now()
	e := &tokenEntry{g: g, scopes: slices.Clone(scopes), issued: now, expires: now.Add(ttl)}
	p.mu.Lock()
	defer p.mu.Unlock()
	put(m, tokenKey(tok), e, func(e *tokenEntry) bool { return !now.Before(e.expires) })
	return tok
}

// lookupToken returns the live entry for tok in m, or nil.
func (p *Provider) lookupToken(m map[[32]byte]*tokenEntry, tok string) *tokenEntry {
	if tok == "" {
		return nil
	}
	now := p.now()
	k := tokenKey(tok)
	p.mu.Lock()
	defer p.mu.Unlock()
	e := m[k]
	if e == nil {
		return nil
	}
	if !now.Before(e.expires) {
		delete(m, k)
		return nil
	}
	return e
}

// revokeGrantLocked drops every token of g; the caller holds p.mu.
func (p *Provider) revokeGrantLocked(g *grant) {
	for _, m := range []map[[32]byte]*tokenEntry{p.access, p.refresh} {
		for k, e := range m {
			if e.g == g {
				delete(m, k)
			}
		}
	}
}

// RequestLog is what the provider has been asked so far, for assertions.
type RequestLog struct {
	// Requests per endpoint, counted before faults apply.
	Discovery, Authorize, Token, Userinfo, JWKS, Revocation, Introspection, EndSession int
	// Logins counts codes issued, through the login page or Login.
	Logins int
	// TokenRequests are the latest token requests, oldest first.
	TokenRequests []TokenRequest
	// Revocations are the latest revocation requests, oldest first.
	Revocations []Revocation
}

// TokenRequest is what one token request carried (client secrets excepted).
type TokenRequest struct {
	GrantType string
	// ClientAuth is how the client authenticated (RFC 6749 §2.3.1):
	// "client_secret_basic", "client_secret_post", "none" (client_id alone),
	// or "" when it sent no credentials or several kinds.
	ClientAuth   string
	ClientID     string
	RedirectURI  string
	CodeVerifier string
	Scope        string
	// Error is the OAuth error code answered, "" on success.
	Error string
}

// Revocation is one revocation request (RFC 7009 §2.1).
type Revocation struct {
	ClientID      string
	Token         string
	TokenTypeHint string
	// Revoked says whether the token was live and is now revoked.
	Revoked bool
}

func (p *Provider) count(e Endpoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e {
	case DiscoveryEndpoint:
		p.log.Discovery++
	case AuthorizeEndpoint:
		p.log.Authorize++
	case TokenEndpoint:
		p.log.Token++
	case UserinfoEndpoint:
		p.log.Userinfo++
	case JWKSEndpoint:
		p.log.JWKS++
	case RevocationEndpoint:
		p.log.Revocation++
	case IntrospectionEndpoint:
		p.log.Introspection++
	case EndSessionEndpoint:
		p.log.EndSession++
	}
}

func appendBounded[T any](s []T, v T) []T {
	if len(s) >= maxRecorded {
		s = slices.Delete(s, 0, len(s)-maxRecorded+1)
	}
	return append(s, v)
}

func (p *Provider) recordToken(tr TokenRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log.TokenRequests = appendBounded(p.log.TokenRequests, tr)
}

// Requests returns a copy of what the provider has been asked so far.
func (p *Provider) Requests() RequestLog {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.log
	l.TokenRequests = slices.Clone(l.TokenRequests)
	l.Revocations = slices.Clone(l.Revocations)
	return l
}

// ResetRequests clears the request log.
func (p *Provider) ResetRequests() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = RequestLog{}
}
