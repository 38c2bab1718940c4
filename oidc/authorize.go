package oidc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"

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

	// Later options win inside x/oauth2, so the protocol parameters come
	// after AuthParams (which New already forbids from naming them).
	opts := make([]oauth2.AuthCodeOption, 0, len(p.cfg.AuthParams)+4)
	for _, k := range slices.Sorted(maps.Keys(p.cfg.AuthParams)) {
		opts = append(opts, oauth2.SetAuthURLParam(k, p.cfg.AuthParams[k]))
	}
	if r.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", r.Prompt))
	}
	if r.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", r.LoginHint))
	}
	if p.cfg.Type == TypeOIDC {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", r.Nonce))
	}
	opts = append(opts, oauth2.S256ChallengeOption(r.CodeVerifier))
	return p.oauth2Config(eps, r.RedirectURI).AuthCodeURL(r.State, opts...), nil
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
