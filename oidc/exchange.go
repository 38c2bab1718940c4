package oidc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// ExchangeRequest carries the authorization response and what the caller
// kept from the authorization request.
type ExchangeRequest struct {
	Code         string
	CodeVerifier string
	RedirectURI  string // the one sent in the authorization request (RFC 6749 §4.1.3)
	Nonce        string // the one sent in the authorization request; required for oidc
	// Issuer is the `iss` parameter of the authorization response (RFC
	// 9207), "" when there was none.
	Issuer string
}

// Tokens are the provider's tokens, passed through to the application.
type Tokens struct {
	AccessToken, TokenType, RefreshToken, IDToken, Scope string
	ExpiresIn                                            int64 // seconds; 0 when the provider did not say
}

// Identity is who logged in, as the provider says.
type Identity struct {
	Issuer  string // the configured issuer
	Subject string // per Config.SubjectClaim
	Email   string
	// EmailVerified is true only when the source of Email says so (a JSON
	// true or the string "true", as Apple sends).
	EmailVerified bool
	Name, Picture string
	Claims        map[string]any // verified ID-token claims (nil for oauth2)
	Userinfo      map[string]any // nil when not fetched
}

// Result is what a successful Exchange yields.
type Result struct {
	Identity Identity
	Tokens   Tokens
}

// Exchange redeems an authorization code (RFC 6749 §4.1.3) with the PKCE
// verifier (RFC 7636 §4.5), verifies the ID token of an oidc provider
// (OpenID Connect Core §3.1.3.5–3.1.3.8), fetches userinfo per
// Config.Userinfo, applies Config.HostedDomains and returns the identity.
// The RFC 9207 issuer check runs before the code is sent anywhere.
//
// Errors are *Error: CodeIssuerMismatch, CodeExchangeFailed (the provider
// refused the code), CodeUnavailable (down, slow, garbage),
// CodeInvalidIDToken, CodeNonceMismatch, CodeUserinfoFailed,
// CodeDomainNotAllowed. A plain error means the caller passed an
// incomplete request.
func (p *Provider) Exchange(ctx context.Context, r ExchangeRequest) (*Result, error) {
	if r.Code == "" {
		return nil, newError(CodeExchangeFailed, "code", nil, "code: missing")
	}
	if err := checkVerifier(r.CodeVerifier); err != nil {
		return nil, fmt.Errorf("oidc: exchange: %w", err)
	}
	if r.RedirectURI == "" {
		return nil, errors.New("oidc: exchange: redirect_uri missing")
	}
	if p.cfg.Type == TypeOIDC && r.Nonce == "" {
		return nil, errors.New("oidc: exchange: nonce missing")
	}
	eps, err := p.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.checkIssuerParam(eps, r.Issuer); err != nil {
		return nil, err
	}

	oc, err := p.tokenConfig(eps, r.RedirectURI)
	if err != nil {
		return nil, err
	}
	t, err := p.tokenRequest(ctx, func(ctx context.Context) (*oauth2.Token, error) {
		return oc.Exchange(ctx, r.Code, oauth2.VerifierOption(r.CodeVerifier))
	})
	if err != nil {
		return nil, err
	}
	if p.cfg.Type == TypeOIDC && t.IDToken == "" {
		// The provider's answer is unusable, not the app's request.
		return nil, newError(CodeUnavailable, "id_token", nil, "id_token: missing from the token response")
	}
	id, err := p.identify(ctx, eps, t, verifyParams{nonce: r.Nonce, accessToken: t.AccessToken})
	if err != nil {
		return nil, err
	}
	return &Result{Identity: *id, Tokens: *t}, nil
}

// checkIssuerParam is the mix-up defence of RFC 9207 §2.4: a provider that
// advertises authorization_response_iss_parameter_supported always sends
// iss, so a missing one means the response did not come from it; a
// present iss must name our issuer exactly, advertised or not.
func (p *Provider) checkIssuerParam(eps *endpoints, iss string) error {
	switch {
	case iss == "" && eps.issParam:
		return newError(CodeIssuerMismatch, "iss_param", nil,
			"iss_param: the provider sends iss in authorization responses (RFC 9207) and none was given")
	case iss != "" && iss != p.cfg.Issuer:
		return newError(CodeIssuerMismatch, "iss_param", nil,
			"iss_param: expected %s, got %s", clip(p.cfg.Issuer), clip(iss))
	}
	return nil
}

// tokenRequest runs one token endpoint request — the code exchange (RFC
// 6749 §4.1.3) or a refresh (§6) — through x/oauth2 with the per-call
// timeout and our bounded client in the context (x/oauth2 would otherwise
// use http.DefaultClient: no timeout, redirects followed with the code and
// secret re-sent), sorts its failures and checks the token type.
func (p *Provider) tokenRequest(ctx context.Context, do func(ctx context.Context) (*oauth2.Token, error)) (*Tokens, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	start := time.Now()
	tok, err := do(ctx)
	p.observe(CallToken, start, tokenStatus(err), tokenCallError(err))
	if err != nil {
		return nil, p.tokenError(err)
	}
	// RFC 6749 §7.1: we only know how to use Bearer tokens (RFC 6750).
	if tt := tok.TokenType; tt != "" && !strings.EqualFold(tt, "bearer") {
		// The received value goes to the log (Err), never to the client.
		return nil, newError(CodeUnavailable, "token_type", fmt.Errorf("token_type %s", clip(tt)), "token_type: expected Bearer")
	}
	t := tokensFrom(tok)
	return &t, nil
}

// tokenError sorts token endpoint failures: an OAuth error answer (RFC
// 6749 §5.2, e.g. invalid_grant for a replayed code or a revoked refresh
// token) under 500 is a refusal, the client's fault; everything else —
// network, timeout, 5xx, a non-OAuth 4xx, a body that is no token
// response — means the provider is unavailable. The provider's body stays
// in Err only.
func (p *Provider) tokenError(err error) error {
	cause := fmt.Errorf("oidc: token endpoint: %w", err)
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		// invalid_client and unauthorized_client say edgeauth's own client
		// registration is wrong (secret, auth method, grant type): nothing
		// the app can fix, so they count as the provider being unusable.
		// A preset reads its provider's own error codes and bodies
		// (GitHub's incorrect_client_credentials, Slack's
		// bad_client_secret, Facebook's Graph error object) as RFC 6749
		// §5.2 codes; the message names what the provider said.
		errCode := re.ErrorCode
		if p.quirks.tokenErrorCode != nil {
			errCode = p.quirks.tokenErrorCode(status, re.ErrorCode, re.Body)
		}
		said := cmp.Or(re.ErrorCode, errCode)
		if errCode == "invalid_client" || errCode == "unauthorized_client" {
			return newError(CodeUnavailable, "client_auth", cause,
				"client_auth: the provider refused edgeauth's client credentials (%s): check the provider's CLIENT_ID, CLIENT_SECRET and CLIENT_AUTH settings", oauthErrorCode(said))
		}
		if errCode != "" && status < http.StatusInternalServerError {
			return newError(CodeExchangeFailed, "token", cause, "token: the provider refused the grant: %s", oauthErrorCode(said))
		}
		return newError(CodeUnavailable, "token", cause, "token: provider answered HTTP %d", status)
	}
	return newError(CodeUnavailable, "token", cause, "token: %s", safeCause(err))
}

// tokenStatus is the token endpoint's status as far as x/oauth2 tells it:
// 200 on success, the answer's status for a RetrieveError, 0 otherwise.
func tokenStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

// tokenCallError is the Call.Err of a token request: an OAuth error answer
// under 500 (invalid_grant, …) is an answer, so no error, as in
// tokenError; anything else is.
func tokenCallError(err error) error {
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.ErrorCode != "" && re.Response != nil && re.Response.StatusCode < http.StatusInternalServerError {
		return nil
	}
	return err
}

// oauthErrorCode passes a registered-looking error code (RFC 6749 §5.2)
// and nothing else from the provider's answer.
func oauthErrorCode(s string) string {
	if len(s) > 64 {
		return "(unrecognised error code)"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "(unrecognised error code)"
		}
	}
	return s
}

func tokensFrom(tok *oauth2.Token) Tokens {
	t := Tokens{
		AccessToken:  tok.AccessToken,
		TokenType:    tok.TokenType,
		RefreshToken: tok.RefreshToken,
		ExpiresIn:    tok.ExpiresIn,
	}
	if t.ExpiresIn == 0 && !tok.Expiry.IsZero() {
		// Form-encoded answers (GitHub's default) only fill Expiry,
		// which x/oauth2 computed from its own time.Now.
		t.ExpiresIn = int64(math.Round(time.Until(tok.Expiry).Seconds()))
	}
	t.IDToken, _ = tok.Extra("id_token").(string)
	t.Scope, _ = tok.Extra("scope").(string)
	return t
}

// identify turns tokens into an Identity: the verified ID token's claims
// for oidc, then userinfo per Config.Userinfo (always for oauth2), then
// Config.HostedDomains.
func (p *Provider) identify(ctx context.Context, eps *endpoints, t *Tokens, vp verifyParams) (*Identity, error) {
	id := &Identity{Issuer: p.cfg.Issuer}
	oidcType := p.cfg.Type == TypeOIDC
	if oidcType {
		if t.IDToken == "" {
			return nil, newError(CodeInvalidIDToken, "id_token", nil, "id_token: missing")
		}
		claims, err := p.verifyIDToken(ctx, t.IDToken, vp)
		if err != nil {
			return nil, err
		}
		if err := p.checkHostedDomain(claims); err != nil {
			return nil, err
		}
		id.Claims = claims
	}

	var fetch bool
	switch p.cfg.Userinfo {
	case UserinfoAlways:
		fetch = true
	case UserinfoAuto:
		email, _ := id.Claims["email"].(string)
		fetch = eps.userinfo != "" && t.AccessToken != "" && (!oidcType || email == "")
	}
	var subjectRaw string
	if fetch {
		if eps.userinfo == "" {
			return nil, newError(CodeUserinfoFailed, "userinfo", nil, "userinfo: always requested but the provider has no userinfo endpoint")
		}
		info, sub, err := p.userinfo(ctx, eps.userinfo, t.AccessToken)
		if err != nil {
			return nil, err
		}
		if oidcType {
			want, _ := id.Claims["sub"].(string)
			if err := sameSubject(info, want, "the ID token"); err != nil {
				return nil, err
			}
		}
		id.Userinfo = info
		subjectRaw = sub
	}

	switch {
	case oidcType:
		s, ok := subjectString(id.Claims[p.cfg.SubjectClaim])
		if !ok && id.Userinfo != nil {
			s, ok = subjectString(id.Userinfo[p.cfg.SubjectClaim])
		}
		if !ok {
			return nil, newError(CodeInvalidIDToken, "subject_claim", nil, "subject_claim: %s missing or not a string or integer", clip(p.cfg.SubjectClaim))
		}
		id.Subject = s
	default:
		if subjectRaw == "" {
			return nil, newError(CodeUserinfoFailed, "subject_claim", nil, "subject_claim: %s missing from userinfo or not a string or integer", clip(p.cfg.SubjectClaim))
		}
		id.Subject = subjectRaw
	}
	fillProfile(id, id.Claims, id.Userinfo)
	if p.quirks.enrich != nil {
		if err := p.quirks.enrich(ctx, p, eps, t.AccessToken, id); err != nil {
			return nil, err
		}
	}
	return id, nil
}

// sameSubject applies OpenID Connect Core §5.3.2: the userinfo sub must
// be the one the token was verified for, or the answer may be about
// someone else (a token substitution): the presented token's fault.
func sameSubject(info map[string]any, want, source string) error {
	got, _ := info["sub"].(string)
	if got == "" || got != want {
		return makeError(CodeUserinfoFailed, FaultClient, "userinfo_sub", nil,
			"userinfo_sub: the userinfo answer is about another subject than %s", source)
	}
	return nil
}

// checkHostedDomain applies Config.HostedDomains to verified claims (or a
// userinfo answer that a verified token obtained): Google's `hd` names the
// Workspace domain, Microsoft's `tid` the tenant. A personal account has
// neither and is refused.
func (p *Provider) checkHostedDomain(claims map[string]any) error {
	if len(p.cfg.HostedDomains) == 0 {
		return nil
	}
	claim := p.quirks.domainClaim
	got, _ := claims[claim].(string)
	for _, d := range p.cfg.HostedDomains {
		if got != "" && strings.EqualFold(got, d) {
			return nil
		}
	}
	if got == "" {
		return newError(CodeDomainNotAllowed, claim, nil, "%s: the account belongs to no domain, expected one of HOSTED_DOMAINS", claim)
	}
	return newError(CodeDomainNotAllowed, claim, nil, "%s: %s is not one of HOSTED_DOMAINS", claim, clip(got))
}

// fillProfile takes each profile field from the first source that has it.
// Email and email_verified travel together: a verified flag from one
// source never vouches for another source's address.
func fillProfile(id *Identity, sources ...map[string]any) {
	for _, src := range sources {
		if src == nil {
			continue
		}
		if id.Email == "" {
			if email, _ := src["email"].(string); email != "" {
				id.Email = email
				id.EmailVerified = isTrue(src["email_verified"])
			}
		}
		if id.Name == "" {
			id.Name, _ = src["name"].(string)
		}
		if id.Picture == "" {
			id.Picture, _ = src["picture"].(string)
		}
		if id.Picture == "" {
			// GitHub and GitLab's APIs call it avatar_url.
			id.Picture, _ = src["avatar_url"].(string)
		}
	}
}

// isTrue accepts a JSON true or the string "true" (Apple sends strings).
func isTrue(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(b, "true")
	}
	return false
}

// subjectString renders a subject claim: a non-empty string, or an
// integer (GitHub's numeric id) in decimal. Fractions and integers beyond
// float64's exact range are refused rather than rounded.
func subjectString(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, s != ""
	case float64:
		if s != math.Trunc(s) || math.Abs(s) > 1<<53 {
			return "", false
		}
		return fmt.Sprintf("%d", int64(s)), true
	}
	return "", false
}
