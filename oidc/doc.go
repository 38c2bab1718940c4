// Package oidc logs users in with one OAuth 2.0 or OpenID Connect
// provider: discovery, JWKS, authorization URL with PKCE, code exchange,
// ID-token verification, userinfo, refresh, revocation (RFC 7009), the
// RP-initiated logout URL, and the conversion of a native app's provider
// token ([Provider.Convert]). It is stateless apart from its discovery and
// JWKS caches, knows nothing of HTTP servers or webhooks, and logs
// nothing: every failure is returned, and the caller decides what to log.
//
//	p, err := oidc.New(oidc.Config{Name: "google", Type: "google", ClientID: id, ClientSecret: secret})
//	// start: nonce, verifier and state are kept by the caller (sealed in the state)
//	u, err := p.AuthCodeURL(ctx, oidc.AuthRequest{State: st, Nonce: n, CodeVerifier: v, RedirectURI: cb})
//	// callback: ?code=…&state=…&iss=…
//	res, err := p.Exchange(ctx, oidc.ExchangeRequest{Code: code, CodeVerifier: v, RedirectURI: cb, Nonce: n, Issuer: iss})
//	var oe *oidc.Error
//	if errors.As(err, &oe) { /* oe.Fault → 4xx or 502; oe.Code and oe.Detail are safe to show */ }
//	fmt.Println(res.Identity.Subject, res.Identity.Email, res.Tokens.IDToken)
//
// New makes no network call. Discovery (OpenID Connect Discovery 1.0) and
// the JWKS are fetched on first use, shared by concurrent callers, cached
// for an hour, and retried with backoff after failures; an unknown kid
// refreshes the JWKS at most once a minute. Every outbound call has the
// configured timeout, follows no redirect and reads a bounded body.
//
// Security choices, each with its reason next to the code: exact issuer
// comparison; an explicit alg allow-list (never none, HS* only when listed);
// compact serialization only; crit refused; aud/azp checked for the
// multi-audience case; exp and iat required, iat no older than ten minutes,
// one minute of leeway; nonce compared in constant time; at_hash checked
// when present; PKCE S256 only; one client authentication style, never a
// retry that re-sends the code; the RFC 9207 iss check before the code is
// redeemed; userinfo must be about the ID token's subject; a converted token
// must have been issued to this client or one of ConvertAudiences.
package oidc
