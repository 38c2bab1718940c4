// Package oidctest is an OpenID Provider held in memory, in the spirit of
// net/http/httptest: for tests of relying parties, and for a local
// development login where any email address signs in.
//
//	op := oidctest.NewServer(oidctest.Options{Clients: []oidctest.Client{
//		{ID: "app", Secret: "s3cret", RedirectURIs: []string{"https://app.example/callback"}},
//	}})
//	defer op.Close()
//	// Configure the relying party with issuer op.Issuer(), then build an
//	// authorization URL (S256 PKCE) and sign in without a browser:
//	back, err := op.Login(authURL, "jane@example.com") // https://app.example/callback?code=…&state=…&iss=…
//	// Redeem back.Query().Get("code") at the token endpoint as usual.
//	op.SetFaults(oidctest.Faults{Audience: []string{"someone-else"}}) // later ID tokens are for another client
//	op.RotateKey()                                                     // new kid; the JWKS shows only it
//
// The Provider itself is an http.Handler serving every endpoint under the
// issuer's path (discovery, authorize with an HTML login page, token,
// userinfo, JWKS, revocation, introspection, end_session), so an application
// can mount it.
//
// Behaviour worth knowing: PKCE S256 is required and plain refused; redirect
// URIs match exactly; codes live a minute and are single use (a replay
// revokes the tokens they gave); every token response carries a refresh
// token, which does not rotate; sub is Subject(email), stable across runs;
// email is lower-cased and email_verified is true; name comes from the
// email's local part. Codes and tokens live in memory, bounded in number.
//
// Revoking a refresh token (RFC 7009) ends its whole grant: its access tokens
// and the refresh token itself stop working at once. Introspection (RFC 7662)
// tells a confidential client about any token, with the client_id it was
// issued to, so a relying party can be tested refusing a token that another
// app obtained (token substitution); IssueTokens mints access, refresh and ID
// tokens for any registered client without a browser:
//
//	theirs, _ := op.IssueTokens("other-app", "jane@example.com", "")
//	// POST theirs.AccessToken to op.EndpointURL(oidctest.IntrospectionEndpoint)
//	// as "app": {"active":true,"client_id":"other-app",…}
//	op.SetFaults(oidctest.Faults{IntrospectionClientID: "other-app"}) // every token looks foreign
package oidctest
