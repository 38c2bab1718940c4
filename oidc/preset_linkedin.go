package oidc

// Sign In with LinkedIn using OpenID Connect
// (https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2,
// https://www.linkedin.com/oauth/.well-known/openid-configuration):
// issuer https://www.linkedin.com/oauth (since April 2024; before it was
// https://www.linkedin.com), token endpoint
// https://www.linkedin.com/oauth/v2/accessToken, which takes the client
// secret only in the body (client_secret_post), userinfo
// https://api.linkedin.com/v2/userinfo, keys
// https://www.linkedin.com/oauth/openid/jwks.
//
// LinkedIn's ID tokens carry no nonce whatever the request sent; the
// preset accepts a login's token without one (missingNonce): the token
// came from the token endpoint over our back channel, for a code we
// redeemed with our secret. What the nonce would add, binding the token
// to this login, is then left to PKCE (enforced by LinkedIn only where
// it enabled PKCE for the app) and to the state's browser binding. A
// token that carries a nonce must still match.
// LinkedIn documents PKCE for native apps only; edgeauth still sends its
// S256 challenge and verifier, which a web app's token request is not
// known to be refused for (the client secret authenticates it), though
// this fake-tested preset has not been run against LinkedIn itself. email_verified is the string "true" in ID tokens and a
// boolean in userinfo; both are read as verified.
//
// Most apps get no refresh token; there is no RFC 7009 revocation, no
// end_session endpoint and no introspection: convert-token takes
// LinkedIn ID tokens only (and an app must then send no nonce, which
// LinkedIn cannot echo).
func linkedinPreset() preset {
	return preset{
		cfg: Config{
			Type:       TypeOIDC,
			Issuer:     "https://www.linkedin.com/oauth",
			Scopes:     []string{"openid", "profile", "email"},
			ClientAuth: ClientAuthPost,
		},
		quirks: quirks{missingNonce: true},
	}
}
