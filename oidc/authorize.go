package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// AuthRequest is what one authorization request needs. State, Nonce and
// CodeVerifier are fresh per login and kept by the caller (edgeauth seals
// them into the state); Prompt and LoginHint are optional (OpenID Connect
// Core §3.1.2.1) and override AuthParams defaults.
type AuthRequest struct {
	State        string
	Nonce        string // required for oidc providers
	CodeVerifier string // RFC 7636 §4.1: 43–128 unreserved characters
	RedirectURI  string
	Prompt       string
	LoginHint    string
}

// AuthCodeURL returns the provider's authorization URL for the
// authorization code flow (RFC 6749 §4.1.1) with PKCE S256 (RFC 7636
// §4.2; "plain" is never used) and, for oidc, the nonce (OpenID Connect
// Core §3.1.2.1). It may fetch the discovery document.
func (p *Provider) AuthCodeURL(ctx context.Context, r AuthRequest) (string, error) {
	var errs []error
	if r.State == "" {
		errs = append(errs, errors.New("state missing"))
	}
	if r.RedirectURI == "" {
		errs = append(errs, errors.New("redirect_uri missing"))
	}
	if p.cfg.Type == TypeOIDC && r.Nonce == "" {
		errs = append(errs, errors.New("nonce missing"))
	}
	if err := checkVerifier(r.CodeVerifier); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("oidc: auth url: %w", err)
	}
	eps, err := p.endpoints(ctx)
	if err != nil {
		return "", err
	}

	return p.buildAuthURL(eps.auth, r), nil
}

// authParam is one query parameter of an authorization URL.
type authParam struct{ k, v string }

// buildAuthURL writes the authorization URL byte for byte as x/oauth2's
// Config.AuthCodeURL does with our options (parameters sorted by name,
// query-component escaping, "&" when the endpoint already has a query),
// in one allocation (two with several scopes) instead of thirty: this
// runs on every login start.
// TestAuthURLMatchesOAuth2 pins the equality. Prompt and LoginHint
// override AuthParams defaults, as later options do in x/oauth2; New
// forbids AuthParams from naming the protocol parameters.
func (p *Provider) buildAuthURL(authURL string, r AuthRequest) string {
	// RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))), kept on the
	// stack and written as it is (base64url needs no escaping). The
	// verifier (at most 128 bytes, checkVerifier) is copied to the stack
	// first: a []byte conversion of more than 32 bytes would allocate.
	var vb [128]byte
	sum := sha256.Sum256(vb[:copy(vb[:], r.CodeVerifier)])
	var challenge [43]byte
	base64.RawURLEncoding.Encode(challenge[:], sum[:])

	var stack [16]authParam
	params := append(stack[:0],
		authParam{"response_type", "code"},
		authParam{"client_id", p.cfg.ClientID},
		authParam{"redirect_uri", r.RedirectURI},
		authParam{"state", r.State},
		authParam{"code_challenge_method", "S256"},
		authParam{"code_challenge", ""}, // the value is challenge
	)
	if len(p.cfg.Scopes) > 0 {
		params = append(params, authParam{"scope", strings.Join(p.cfg.Scopes, " ")})
	}
	if p.cfg.Type == TypeOIDC {
		params = append(params, authParam{"nonce", r.Nonce})
	}
	if r.Prompt != "" {
		params = append(params, authParam{"prompt", r.Prompt})
	}
	if r.LoginHint != "" {
		params = append(params, authParam{"login_hint", r.LoginHint})
	}
	for k, v := range p.cfg.AuthParams {
		if k == "prompt" && r.Prompt != "" || k == "login_hint" && r.LoginHint != "" {
			continue
		}
		params = append(params, authParam{k, v})
	}
	// Sorted by name as url.Values.Encode does; an insertion sort, which
	// for a dozen entries is quick and keeps params on the stack.
	for i := 1; i < len(params); i++ {
		for j := i; j > 0 && params[j].k < params[j-1].k; j-- {
			params[j], params[j-1] = params[j-1], params[j]
		}
	}

	n := len(authURL) + len(challenge)
	for _, kv := range params {
		n += 2 + escapedLen(kv.k) + escapedLen(kv.v)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(authURL)
	if strings.Contains(authURL, "?") {
		b.WriteByte('&')
	} else {
		b.WriteByte('?')
	}
	for i, kv := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		writeEscaped(&b, kv.k)
		b.WriteByte('=')
		if kv.k == "code_challenge" {
			b.Write(challenge[:])
			continue
		}
		writeEscaped(&b, kv.v)
	}
	return b.String()
}

// queryKeep marks the bytes net/url leaves as they are in a query
// component: the unreserved characters of RFC 3986 §2.3. A table, because
// the state alone is some 250 bytes to look at on every login start.
var queryKeep = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()

func shouldEscape(c byte) bool { return !queryKeep[c] }

// escapedLen is len(url.QueryEscape(s)).
func escapedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && shouldEscape(s[i]) {
			n += 2
		}
	}
	return n
}

// writeEscaped writes url.QueryEscape(s) to b: a space as "+", the rest of
// the reserved and non-ASCII bytes as upper-case %XX.
func writeEscaped(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !shouldEscape(c) {
			continue
		}
		b.WriteString(s[start:i])
		if c == ' ' {
			b.WriteByte('+')
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
}

// checkVerifier applies RFC 7636 §4.1 so that a bad verifier fails here
// and not, less clearly, at the provider.
func checkVerifier(v string) error {
	if len(v) < 43 || len(v) > 128 {
		return fmt.Errorf("code verifier of %d characters (RFC 7636 wants 43–128)", len(v))
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return errors.New("code verifier has characters outside RFC 7636's unreserved set")
		}
	}
	return nil
}

// oauth2Config is the x/oauth2 view of this provider. The auth style is
// always explicit: AuthStyleAutoDetect would retry a refused exchange with
// the secret in the body, re-sending the same code.
func (p *Provider) oauth2Config(eps *endpoints, redirectURI string) *oauth2.Config {
	style := oauth2.AuthStyleInHeader
	if p.cfg.ClientAuth == ClientAuthPost {
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: eps.auth, TokenURL: eps.token, AuthStyle: style},
		RedirectURL:  redirectURI,
		Scopes:       p.cfg.Scopes,
	}
}

// tokenConfig is oauth2Config with the client secret of this moment, for
// the token endpoint.
func (p *Provider) tokenConfig(eps *endpoints, redirectURI string) (*oauth2.Config, error) {
	secret, err := p.clientSecret()
	if err != nil {
		return nil, newError(CodeUnavailable, "client_secret", err, "client_secret: cannot make the client secret")
	}
	oc := p.oauth2Config(eps, redirectURI)
	oc.ClientSecret = secret
	return oc, nil
}

// LogoutRequest is what an RP-initiated logout URL carries besides
// client_id. PostLogoutRedirectURI must have been checked against the
// caller's allow-list.
type LogoutRequest struct {
	IDTokenHint           string
	PostLogoutRedirectURI string
	State                 string
}

// LogoutURL returns the provider's RP-initiated logout URL (OpenID Connect
// RP-Initiated Logout 1.0 §2): the end_session_endpoint with client_id
// always, and id_token_hint, post_logout_redirect_uri and state when
// given. Without an end_session_endpoint it returns an *Error with
// CodeUnsupported.
func (p *Provider) LogoutURL(ctx context.Context, r LogoutRequest) (string, error) {
	eps, err := p.endpoints(ctx)
	if err != nil {
		return "", err
	}
	if eps.endSession == "" {
		return "", newError(CodeUnsupported, "end_session", nil, "end_session: the provider has no end_session_endpoint")
	}
	u, err := url.Parse(eps.endSession)
	if err != nil {
		return "", fmt.Errorf("oidc: logout url: %w", err)
	}
	q := u.Query()
	if r.IDTokenHint != "" {
		q.Set("id_token_hint", r.IDTokenHint)
	}
	if r.PostLogoutRedirectURI != "" {
		q.Set("post_logout_redirect_uri", r.PostLogoutRedirectURI)
	}
	if r.State != "" {
		q.Set("state", r.State)
	}
	q.Set("client_id", p.cfg.ClientID)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
