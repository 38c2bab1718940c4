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
// userinfo, JWKS, revocation, end_session), so an application can mount it.
//
// Behaviour worth knowing: PKCE S256 is required and plain refused; redirect
// URIs match exactly; codes live a minute and are single use (a replay
// revokes the tokens they gave); every token response carries a refresh
// token, which does not rotate; sub is Subject(email), stable across runs;
// email is lower-cased and email_verified is true; name comes from the
// email's local part. Codes and tokens live in memory, bounded in number.
package oidctest
