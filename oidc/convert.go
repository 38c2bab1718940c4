package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Token types of a ConvertRequest.
const (
	TokenTypeIDToken     = "id_token"
	TokenTypeAccessToken = "access_token"
)

// ConvertRequest is a provider token that a native app obtained with the
// provider's SDK.
type ConvertRequest struct {
	Token string
	// TokenType is TokenTypeIDToken, TokenTypeAccessToken or "" (detect: a
	// compact JWS from this provider's issuer that is not typ at+jwt is an
	// ID token, anything else an access token).
	TokenType string
	// Nonce, when set, must be the ID token's nonce or its SHA-256 in hex.
	Nonce string
}

// Convert returns the identity behind a token a native app got from the
// provider itself, accepting only tokens issued to this client or to one
// of Config.ConvertAudiences (token substitution: a token another app
// obtained must never log its user in here).
//
// An ID token is verified as at login (OpenID Connect Core §3.1.3.7),
// except that aud/azp may name a ConvertAudiences client, iat may be at
// most Config.ConvertMaxAge old, and the nonce is checked only when the
// request has one. No userinfo is fetched (there is no access token).
//
// An access token is accepted only where the provider says whom it was
// issued to: RFC 7662 introspection (discovery's introspection_endpoint or
// Config.IntrospectionURL), GitHub's token check API (preset github), or
// Google's tokeninfo (preset google); the profile then comes from
// userinfo, whose subject must match. With Config.ConvertAccessToken
// ConvertUserinfo, userinfo's answer alone is accepted. Config.HostedDomains
// applies to every path.
//
// Errors are *Error: CodeInvalidToken (FaultClient) for every refusal,
// with Check "iat" or "exp" for a token too old; CodeDomainNotAllowed;
// CodeUnsupported when the provider has no userinfo endpoint to ask;
// CodeUnavailable (FaultProvider) when the provider fails.
func (p *Provider) Convert(ctx context.Context, r ConvertRequest) (*Identity, error) {
	id, err := p.convert(ctx, r)
	if err != nil {
		return nil, convertError(err)
	}
	return id, nil
}

func (p *Provider) convert(ctx context.Context, r ConvertRequest) (*Identity, error) {
	if r.Token == "" {
		return nil, newError(CodeInvalidToken, "token", nil, "token: missing")
	}
	if len(r.Token) > maxIDTokenBytes {
		return nil, newError(CodeInvalidToken, "token", nil, "token: %d bytes exceeds %d", len(r.Token), maxIDTokenBytes)
	}
	kind := r.TokenType
	switch kind {
	case "":
		kind = p.detect(r.Token)
	case TokenTypeIDToken:
		if p.cfg.Type != TypeOIDC {
			return nil, newError(CodeInvalidToken, "token_type", nil, "token_type: provider %q is plain OAuth 2.0 and has no ID tokens", p.cfg.Name)
		}
	case TokenTypeAccessToken:
	default:
		return nil, newError(CodeInvalidToken, "token_type", nil, "token_type: %s unknown (want id_token or access_token)", clip(kind))
	}
	eps, err := p.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	if kind == TokenTypeIDToken {
		return p.convertIDToken(ctx, eps, r)
	}
	return p.convertAccessToken(ctx, eps, r.Token)
}

// detect tells an ID token from an access token without verifying
// anything: only an oidc provider's compact JWS whose payload names our
// issuer, whose typ is not at+jwt (RFC 9068 §2.1) and which carries no
// access-token claim (client_id, cid, scope, scp, a typ claim "Bearer")
// is taken for an ID token. Verification then decides; a wrong guess only fails.
func (p *Provider) detect(raw string) string {
	if p.cfg.Type != TypeOIDC {
		return TokenTypeAccessToken
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || !isBase64URL(parts[0]) || !isBase64URL(parts[1]) {
		return TokenTypeAccessToken
	}
	var hdr struct {
		Typ string `json:"typ"`
	}
	var payload struct {
		Iss any `json:"iss"`
		// Claims of access tokens, never of ID tokens: RFC 9068 §2.2's
		// client_id and scope, Okta's cid and scp, Keycloak's typ
		// "Bearer" (its ID tokens say "ID").
		ClientID any    `json:"client_id"`
		CID      any    `json:"cid"`
		Scope    any    `json:"scope"`
		SCP      any    `json:"scp"`
		Typ      string `json:"typ"`
		Tid      any    `json:"tid"` // for Microsoft's {tenantid} issuer
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(pb, &payload) != nil {
		return TokenTypeAccessToken
	}
	if typ := strings.TrimPrefix(strings.ToLower(hdr.Typ), "application/"); typ == "at+jwt" {
		return TokenTypeAccessToken
	}
	iss, _ := payload.Iss.(string)
	if p.quirks.checkIssuer != nil {
		if p.quirks.checkIssuer(p, map[string]any{"iss": iss, "tid": payload.Tid}) != nil {
			return TokenTypeAccessToken
		}
	} else if iss != p.cfg.Issuer {
		return TokenTypeAccessToken
	}
	if payload.ClientID != nil || payload.CID != nil || payload.Scope != nil || payload.SCP != nil || strings.EqualFold(payload.Typ, "Bearer") {
		return TokenTypeAccessToken
	}
	return TokenTypeIDToken
}

func (p *Provider) convertIDToken(ctx context.Context, eps *endpoints, r ConvertRequest) (*Identity, error) {
	claims, err := p.verifyIDToken(ctx, r.Token, verifyParams{nonce: r.Nonce, skipNonce: r.Nonce == "", convert: true})
	if err != nil {
		return nil, err
	}
	if err := p.checkHostedDomain(claims); err != nil {
		return nil, err
	}
	sub, ok := subjectString(claims[p.cfg.SubjectClaim])
	if !ok {
		return nil, newError(CodeInvalidToken, "subject_claim", nil, "subject_claim: %s missing or not a string or integer", clip(p.cfg.SubjectClaim))
	}
	id := &Identity{Issuer: p.cfg.Issuer, Subject: sub, Claims: claims}
	fillProfile(id, claims)
	if p.quirks.enrich != nil {
		if err := p.quirks.enrich(ctx, p, eps, "", id); err != nil {
			return nil, err
		}
	}
	return id, nil
}

// convertAccessToken picks the first way this provider can tell whom an
// access token was issued to.
func (p *Provider) convertAccessToken(ctx context.Context, eps *endpoints, token string) (*Identity, error) {
	switch {
	case eps.introspection != "":
		return p.convertIntrospected(ctx, eps, token)
	case p.quirks.convertAccess != nil:
		return p.quirks.convertAccess(ctx, p, eps, token)
	case p.cfg.ConvertAccessToken == ConvertUserinfo:
		return p.convertUserinfo(ctx, eps, token)
	}
	return nil, newError(CodeInvalidToken, "access_token", nil,
		"access_token: provider %q cannot tell which client an access token was issued to; "+
			"set its INTROSPECTION_URL (RFC 7662), or CONVERT_ACCESS_TOKEN=userinfo to accept any token userinfo answers for", p.cfg.Name)
}

// accepted reports whether client is ours or one of ConvertAudiences.
func (p *Provider) accepted(client string) bool {
	return client != "" && (client == p.cfg.ClientID || slices.Contains(p.cfg.ConvertAudiences, client))
}

// convertIntrospected asks the provider about the token (RFC 7662 §2.1)
// with our client authentication and accepts it only when it is active,
// issued to an accepted client, unexpired and about a subject (§2.2).
func (p *Provider) convertIntrospected(ctx context.Context, eps *endpoints, token string) (*Identity, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	status, body, err := p.postForm(ctx, CallIntrospection, eps.introspection, form)
	if err != nil {
		return nil, newError(CodeUnavailable, "introspection", err, "introspection: %s", safeCause(err))
	}
	if status != http.StatusOK {
		// RFC 7662 §2.3: a 401 refuses our client authentication, which is
		// our registration's problem, not the token's.
		return nil, newError(CodeUnavailable, "introspection", fmt.Errorf("introspection: HTTP %d: %s", status, body),
			"introspection: provider answered HTTP %d", status)
	}
	var ans map[string]any
	if err := json.Unmarshal(body, &ans); err != nil || ans == nil {
		return nil, newError(CodeUnavailable, "introspection", err, "introspection: answer is not a JSON object")
	}
	if p.quirks.introspection != nil {
		ans = p.quirks.introspection(ans)
	}
	if active, _ := ans["active"].(bool); !active {
		return nil, newError(CodeInvalidToken, "active", nil, "active: the provider says the token is not active")
	}
	if client, _ := ans["client_id"].(string); !p.accepted(client) {
		return nil, newError(CodeInvalidToken, "client_id", nil, "client_id: the token was issued to another client, not %s or CONVERT_AUDIENCES", clip(p.cfg.ClientID))
	}
	if iss, ok := ans["iss"]; ok && iss != p.cfg.Issuer && p.cfg.Issuer != "" {
		return nil, newError(CodeInvalidToken, "iss", nil, "iss: expected %s, got %s", clip(p.cfg.Issuer), clip(claimString(ans, "iss")))
	}
	if _, ok := ans["exp"]; ok {
		exp, err := numericDate(ans, "exp", true)
		if err != nil || float64(p.cfg.Now().Unix()) >= exp {
			return nil, newError(CodeInvalidToken, "exp", nil, "exp: the token has expired")
		}
	}
	sub, _ := ans["sub"].(string)
	if sub == "" {
		return nil, newError(CodeInvalidToken, "sub", nil, "sub: the introspection answer names no subject")
	}
	return p.profile(ctx, eps, token, sub, ans, "the introspected token")
}

// profile completes an access token's identity: userinfo (when the
// provider has it and Config.Userinfo allows), whose sub must be the one
// the token check named, then Config.HostedDomains.
func (p *Provider) profile(ctx context.Context, eps *endpoints, token, sub string, checked map[string]any, source string) (*Identity, error) {
	id := &Identity{Issuer: p.cfg.Issuer}
	var info map[string]any
	var rawSub string
	if eps.userinfo != "" && p.cfg.Userinfo != UserinfoNever {
		var err error
		info, rawSub, err = p.userinfo(ctx, eps.userinfo, token)
		if err != nil {
			return nil, err
		}
		if err := sameSubject(info, sub, source); err != nil {
			return nil, err
		}
		id.Userinfo = info
	}
	s, ok := subjectString(info[p.cfg.SubjectClaim])
	if p.cfg.Type == TypeOAuth2 {
		s, ok = rawSub, rawSub != ""
	}
	if !ok {
		s, ok = subjectString(checked[p.cfg.SubjectClaim])
	}
	if !ok {
		return nil, newError(CodeInvalidToken, "subject_claim", nil, "subject_claim: %s missing or not a string or integer", clip(p.cfg.SubjectClaim))
	}
	id.Subject = s
	domainSource := checked
	if info != nil {
		domainSource = info
	}
	if err := p.checkHostedDomain(domainSource); err != nil {
		return nil, err
	}
	fillProfile(id, info, checked)
	return id, nil
}

// convertUserinfo is the explicit opt-in of ConvertUserinfo: whoever
// userinfo says the token belongs to, whichever client it was issued to.
func (p *Provider) convertUserinfo(ctx context.Context, eps *endpoints, token string) (*Identity, error) {
	if eps.userinfo == "" {
		return nil, newError(CodeUnsupported, "userinfo", nil, "userinfo: CONVERT_ACCESS_TOKEN=userinfo but the provider has no userinfo endpoint")
	}
	info, rawSub, err := p.userinfo(ctx, eps.userinfo, token)
	if err != nil {
		return nil, err
	}
	s, ok := subjectString(info[p.cfg.SubjectClaim])
	if p.cfg.Type == TypeOAuth2 {
		s, ok = rawSub, rawSub != ""
	}
	if !ok {
		return nil, newError(CodeInvalidToken, "subject_claim", nil, "subject_claim: %s missing from userinfo or not a string or integer", clip(p.cfg.SubjectClaim))
	}
	if err := p.checkHostedDomain(info); err != nil {
		return nil, err
	}
	id := &Identity{Issuer: p.cfg.Issuer, Subject: s, Userinfo: info}
	fillProfile(id, info)
	return id, nil
}

// convertError states Convert's refusals in its own terms: anything wrong
// with the presented token is CodeInvalidToken (the Check kept, so "iat"
// and "exp" still say the token is too old); a userinfo endpoint refusing
// the token (401, RFC 6750 §3.1) is too. Provider outages stay
// CodeUnavailable.
func convertError(err error) error {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return err
	}
	switch {
	case e.Code == CodeInvalidIDToken, e.Code == CodeNonceMismatch,
		e.Code == CodeUserinfoFailed && e.Fault == FaultClient:
		return &Error{Code: CodeInvalidToken, Fault: FaultClient, Check: e.Check, Detail: e.Detail, Err: e.Err}
	case e.Code == CodeUserinfoFailed:
		var st errStatus
		if errors.As(e.Err, &st) && (st.code == http.StatusUnauthorized || st.code == http.StatusForbidden) {
			return &Error{Code: CodeInvalidToken, Fault: FaultClient, Check: "userinfo", Detail: "userinfo: the provider refused the token", Err: e.Err}
		}
		return &Error{Code: CodeUnavailable, Fault: FaultProvider, Check: e.Check, Detail: e.Detail, Err: e.Err}
	}
	return err
}
