package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// ErrNoRevocation is returned by Revoke when the provider has no
// revocation endpoint (neither discovered nor configured).
var ErrNoRevocation = errors.New("oidc: provider has no revocation endpoint")

// Refresh redeems a provider refresh token (RFC 6749 §6). When the answer
// carries a new ID token it is verified as OpenID Connect Core §12.2 asks:
// signature, iss, aud/azp, exp/iat and at_hash as at login, its sub equal
// to subject (when subject is not ""); the nonce is not checked, as the
// original one is not kept. A response without a new refresh token keeps
// the old one (Tokens.RefreshToken is then refreshToken).
//
// Errors are *Error: CodeExchangeFailed when the provider refuses the
// refresh token (invalid_grant: expired, revoked, rotated away),
// CodeUnavailable, CodeInvalidIDToken.
func (p *Provider) Refresh(ctx context.Context, refreshToken, subject string) (*Tokens, error) {
	if refreshToken == "" {
		return nil, newError(CodeExchangeFailed, "refresh_token", nil, "refresh_token: missing")
	}
	eps, e := p.endpoints(ctx)
	if e != nil {
		return nil, e
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	tok, err := p.oauth2Config(eps, "").TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		e := tokenError(err)
		p.log.WarnContext(ctx, "oidc refresh failed", "err", e)
		return nil, e
	}
	if tt := tok.TokenType; tt != "" && !strings.EqualFold(tt, "bearer") {
		// The received value goes to the log (Err), never to the client.
		return nil, newError(CodeUnavailable, "token_type", fmt.Errorf("token_type %s", clip(tt)), "token_type: expected Bearer")
	}
	t := tokensFrom(tok)
	if t.IDToken != "" && p.cfg.Type == TypeOIDC {
		claims, e := p.verifyIDToken(ctx, t.IDToken, "", t.AccessToken)
		if e != nil {
			return nil, e
		}
		if sub, _ := claims["sub"].(string); subject != "" && sub != subject {
			return nil, newError(CodeInvalidIDToken, "sub", nil, "sub: the refreshed ID token is about another subject")
		}
	}
	return &t, nil
}

// Identify returns the identity behind tokens a client obtained itself,
// for instance a native app that signed in with the provider's SDK. For an
// oidc provider the ID token is required and verified (nonce checked when
// not ""), then userinfo is fetched per Config.Userinfo with the access
// token if there is one. For an oauth2 provider the identity comes from
// userinfo with the access token.
//
// Beware with oauth2 providers: userinfo answers for whoever the access
// token belongs to, whichever application it was issued to, so an access
// token proves no login at this client (token substitution). Accept such
// tokens only where that is acceptable.
func (p *Provider) Identify(ctx context.Context, t Tokens, nonce string) (*Identity, error) {
	eps, e := p.endpoints(ctx)
	if e != nil {
		return nil, e
	}
	id, e := p.identify(ctx, eps, &t, nonce)
	if e != nil {
		return nil, e
	}
	return id, nil
}

// Revoke asks the provider to revoke a token (RFC 7009 §2.1), with the
// same client authentication as the token endpoint. tokenTypeHint is
// "access_token", "refresh_token" or "". A 200 answer, which RFC 7009 §2.2
// also gives for unknown tokens, is success. Errors: ErrNoRevocation, or
// an *Error with CodeExchangeFailed (the provider refused the request,
// e.g. unsupported_token_type) or CodeUnavailable.
func (p *Provider) Revoke(ctx context.Context, token, tokenTypeHint string) error {
	if token == "" {
		return newError(CodeExchangeFailed, "revocation", nil, "revocation: token missing")
	}
	eps, e := p.endpoints(ctx)
	if e != nil {
		return e
	}
	if eps.revocation == "" {
		return ErrNoRevocation
	}
	form := url.Values{"token": {token}}
	if tokenTypeHint != "" {
		form.Set("token_type_hint", tokenTypeHint)
	}
	if p.cfg.ClientAuth == ClientAuthPost {
		form.Set("client_id", p.cfg.ClientID)
		if p.cfg.ClientSecret != "" {
			form.Set("client_secret", p.cfg.ClientSecret)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, eps.revocation, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("oidc: revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if p.cfg.ClientAuth == ClientAuthBasic {
		// RFC 6749 §2.3.1: form-encode id and secret before Basic.
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.cfg.ClientSecret))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return &Error{Code: CodeUnavailable, Check: "revocation", Detail: "revocation: " + safeCause(err), Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	cause := fmt.Errorf("oidc: revocation: HTTP %d: %s", resp.StatusCode, body)
	var oe struct {
		Error string `json:"error"`
	}
	if resp.StatusCode < 500 && json.Unmarshal(body, &oe) == nil && oe.Error != "" {
		return &Error{Code: CodeExchangeFailed, Check: "revocation", Err: cause,
			Detail: "revocation: the provider refused: " + oauthErrorCode(oe.Error)}
	}
	return &Error{Code: CodeUnavailable, Check: "revocation", Err: cause,
		Detail: fmt.Sprintf("revocation: provider answered HTTP %d", resp.StatusCode)}
}
