package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"
)

// ErrNoRevocation is the cause (Err) of the CodeUnsupported *Error that
// Revoke returns when the provider has no revocation endpoint (neither
// discovered nor configured); errors.Is finds it.
var ErrNoRevocation = errors.New("oidc: provider has no revocation endpoint")

// Refresh redeems a provider refresh token (RFC 6749 §6) for the user
// identified by subject (the Identity.Subject of the login). When the
// answer carries a new ID token it is verified as OpenID Connect Core
// §12.2 asks: signature, iss, aud/azp, exp/iat and at_hash as at login,
// the nonce skipped on purpose (the original one is not kept), and its
// subject must be subject; Result.Identity is then filled from its claims
// (and userinfo per Config.Userinfo), and Config.HostedDomains applies.
// Without a new ID token, Result.Identity is only {Issuer, Subject:
// subject}. A response without a new refresh token keeps the old one
// (Tokens.RefreshToken is then refreshToken).
//
// Errors are *Error: CodeExchangeFailed (FaultClient) when the provider
// refuses the refresh token (invalid_grant: expired, revoked, rotated
// away: the session is over), CodeUnavailable, CodeInvalidIDToken,
// CodeUserinfoFailed, CodeDomainNotAllowed. An empty subject is a plain
// error.
func (p *Provider) Refresh(ctx context.Context, refreshToken, subject string) (*Result, error) {
	if refreshToken == "" {
		return nil, newError(CodeExchangeFailed, "refresh_token", nil, "refresh_token: missing")
	}
	if subject == "" {
		return nil, errors.New("oidc: refresh: subject missing")
	}
	eps, err := p.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	oc, err := p.tokenConfig(eps, "")
	if err != nil {
		return nil, err
	}
	t, err := p.tokenRequest(ctx, func(ctx context.Context) (*oauth2.Token, error) {
		return oc.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Tokens: *t, Identity: Identity{Issuer: p.cfg.Issuer, Subject: subject}}
	if p.cfg.Type != TypeOIDC || t.IDToken == "" {
		return res, nil
	}
	id, err := p.identify(ctx, eps, t, verifyParams{skipNonce: true, accessToken: t.AccessToken})
	if err != nil {
		return nil, err
	}
	if id.Subject != subject {
		return nil, newError(CodeInvalidIDToken, "sub", nil, "sub: the refreshed ID token is about another subject")
	}
	res.Identity = *id
	return res, nil
}

// Revoke asks the provider to revoke a token (RFC 7009 §2.1), with the
// same client authentication as the token endpoint. tokenTypeHint is
// "access_token", "refresh_token" or "". A 200 answer, which RFC 7009 §2.2
// also gives for unknown tokens, is success. Errors are *Error:
// CodeUnsupported (no revocation endpoint; Err is ErrNoRevocation),
// CodeExchangeFailed (the provider refused the request, e.g.
// unsupported_token_type) or CodeUnavailable. A preset with a revocation
// API of its own (GitHub's) uses that unless Config.RevocationURL is set.
func (p *Provider) Revoke(ctx context.Context, token, tokenTypeHint string) error {
	if token == "" {
		return newError(CodeExchangeFailed, "revocation", nil, "revocation: token missing")
	}
	eps, err := p.endpoints(ctx)
	if err != nil {
		return err
	}
	if p.quirks.revoke != nil && eps.revocation == "" {
		return p.quirks.revoke(ctx, p, eps, token, tokenTypeHint)
	}
	if eps.revocation == "" {
		return newError(CodeUnsupported, "revocation", ErrNoRevocation, "revocation: the provider has no revocation endpoint")
	}
	form := url.Values{"token": {token}}
	if tokenTypeHint != "" {
		form.Set("token_type_hint", tokenTypeHint)
	}
	status, body, err := p.postForm(ctx, CallRevocation, eps.revocation, form)
	if err != nil {
		return newError(CodeUnavailable, "revocation", err, "revocation: %s", safeCause(err))
	}
	if status == http.StatusOK {
		return nil
	}
	cause := fmt.Errorf("oidc: revocation: HTTP %d: %s", status, body)
	var oe struct {
		Error string `json:"error"`
	}
	if status < 500 && json.Unmarshal(body, &oe) == nil && oe.Error != "" {
		return newError(CodeExchangeFailed, "revocation", cause, "revocation: the provider refused: %s", oauthErrorCode(oe.Error))
	}
	return newError(CodeUnavailable, "revocation", cause, "revocation: provider answered HTTP %d", status)
}
