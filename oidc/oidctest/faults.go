package oidctest

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"
)

// Faults are switches that make the provider misbehave, one way each, so a
// relying party's tests can watch every check fail for its own reason. The
// zero value is a correct provider. Set them with Provider.SetFaults; they
// apply to responses produced after the call, on every grant (code and
// refresh) and to IssueTokens.
//
// ID-token time claims (exp, iat, auth_time) are int64 Unix seconds when the
// IDTokenClaims hook sees them; aud is a string, or a []string when Audience
// is set.
type Faults struct {
	// ID-token signature and header (RFC 7515, RFC 7518 §3).

	// BadSignature corrupts the signature bytes.
	BadSignature bool
	// NoKID leaves kid out of the header.
	NoKID bool
	// AlgNone sends an unsecured JWS: alg "none" and an empty signature
	// (RFC 7518 §3.6).
	AlgNone bool
	// HS256 signs with HMAC-SHA256 keyed by the client secret, keeping the kid
	// of the published key: the classic algorithm-confusion attack. A public
	// client has no secret; its token request then fails with server_error.
	HS256 bool
	// HeaderAlg writes this alg in the header while the signature is still
	// made with the key's own algorithm, e.g. "RS512" over an RS256 signature.
	HeaderAlg string
	// SigningAlg signs, honestly, with another algorithm the key can make,
	// e.g. "RS512" or "PS256" with an RSA key. The header says SigningAlg; the
	// JWKS still says the key's own alg.
	SigningAlg string
	// UnpublishedKey signs with a key (and kid) that the JWKS never shows.
	UnpublishedKey bool
	// IDTokenHeader, when set, edits the protected header last, after the
	// switches above; the signature is made with the same key and algorithm as
	// it would be otherwise.
	IDTokenHeader func(header map[string]any)

	// ID-token claims (OpenID Connect Core §2, §3.1.3.7).

	// Issuer replaces iss.
	Issuer string
	// Audience, when non-nil, replaces aud (always sent as an array then),
	// e.g. {"other"} or {clientID, "other"}. azp stays the client unless
	// AuthorizedParty or OmitClaims says otherwise.
	Audience []string
	// AuthorizedParty replaces azp.
	AuthorizedParty string
	// Nonce replaces nonce (also on a code requested without one).
	Nonce string
	// Expired issues the token two hours ago, so exp is an hour past.
	Expired bool
	// IssuedInFuture dates iat (and exp) an hour ahead.
	IssuedInFuture bool
	// WrongAtHash makes at_hash the hash of another access token.
	WrongAtHash bool
	// OmitClaims removes these claims, e.g. "exp", "iat", "sub", "nonce",
	// "azp", "at_hash", "email".
	OmitClaims []string
	// IDTokenClaims, when set, edits the claims last, after the switches above.
	IDTokenClaims func(claims map[string]any)

	// Token endpoint (RFC 6749 §5).

	// MissingIDToken leaves id_token out of the token response.
	MissingIDToken bool
	// TokenError answers every token request, after client authentication,
	// with this OAuth error code (RFC 6749 §5.2), e.g. "invalid_grant",
	// "invalid_client", "server_error". The code is not consumed.
	TokenError string
	// TokenErrorStatus is the HTTP status sent with TokenError: 400 by
	// default, 401 for "invalid_client".
	TokenErrorStatus int
	// TokenResponse, when set, edits the successful token response last.
	TokenResponse func(resp map[string]any)

	// Userinfo endpoint (OpenID Connect Core §5.3).

	// UserinfoSubject replaces sub in userinfo responses (§5.3.2 says the
	// client must then reject them).
	UserinfoSubject string
	// UserinfoClaims, when set, edits the userinfo response last.
	UserinfoClaims func(claims map[string]any)

	// Discovery (OpenID Connect Discovery §3, §4.3).

	// DiscoveryIssuer replaces the issuer in the discovery document.
	DiscoveryIssuer string
	// DiscoveryDocument, when set, edits the discovery document last.
	DiscoveryDocument func(doc map[string]any)

	// Authorization response (RFC 9207, RFC 6749 §4.1.2).

	// OmitIssParameter leaves iss out of authorization responses while
	// discovery still advertises it.
	OmitIssParameter bool
	// IssParameter sends this value as iss in authorization responses.
	IssParameter string
	// AuthorizeError answers a completed login with this error
	// (RFC 6749 §4.1.2.1), e.g. "access_denied", instead of a code.
	AuthorizeError string

	// Introspection endpoint (RFC 7662 §2.2).

	// IntrospectionClientID reports this client_id (and aud) for every active
	// token, as if it had been issued to another client.
	IntrospectionClientID string
	// IntrospectionInactive answers {"active": false} for every token, live or
	// not.
	IntrospectionInactive bool
	// IntrospectionResponse, when set, edits every introspection answer last,
	// inactive ones included.
	IntrospectionResponse func(resp map[string]any)

	// Any endpoint.

	// Delay holds back the answer of these endpoints, or less if the client
	// cancels the request first.
	Delay map[Endpoint]time.Duration
	// Status answers these endpoints with this HTTP status (200 to 999) and
	// a short JSON error body, instead of serving the request.
	Status map[Endpoint]int
	// Garbage answers these endpoints with 200 and an HTML body that is not
	// JSON, like a captive portal or a misconfigured proxy.
	Garbage map[Endpoint]bool
}

func (f Faults) clone() Faults {
	f.Audience = slices.Clone(f.Audience)
	f.OmitClaims = slices.Clone(f.OmitClaims)
	f.Delay = maps.Clone(f.Delay)
	f.Status = maps.Clone(f.Status)
	f.Garbage = maps.Clone(f.Garbage)
	return f
}

// delay waits as Delay says for e; false when ctx ended first.
func (f *Faults) delay(ctx context.Context, e Endpoint) bool {
	d := f.Delay[e]
	if d <= 0 {
		return true
	}
	return sleepCtx(ctx, d)
}

// delayRequest is delay for a request. net/http notices that a client went
// away (and cancels the request's context) only once the request body has
// been read, so the body is read into memory first.
func (f *Faults) delayRequest(r *http.Request, e Endpoint) bool {
	if f.Delay[e] <= 0 {
		return true
	}
	if r.Body != nil && r.Body != http.NoBody {
		buf, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return false
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	}
	return f.delay(r.Context(), e)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// respond writes the Status or Garbage answer for e; true when it did.
func (f *Faults) respond(w http.ResponseWriter, e Endpoint) bool {
	if code := f.Status[e]; code != 0 {
		oauthCode := "server_error"
		if code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
			oauthCode = "temporarily_unavailable"
		}
		writeJSON(w, code, map[string]any{"error": oauthCode, "error_description": "oidctest: fault injected"})
		return true
	}
	if f.Garbage[e] {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<!doctype html><title>Gateway</title><h1>Please sign in to the network</h1>\n"))
		return true
	}
	return false
}
