package oidc

// Sign in with Apple: https://appleid.apple.com/.well-known/openid-configuration.
// The client secret is the ES256 JWT you generate from your Apple
// key (valid at most six months); Apple takes it only in the body
// (client_secret_post). Asking for the email scope makes Apple
// insist on response_mode=form_post, so the app's redirect URI
// receives a POST. Apple has no userinfo endpoint and sends
// email_verified as a string.
func applePreset() preset {
	return preset{cfg: Config{
		Type:       TypeOIDC,
		Issuer:     "https://appleid.apple.com",
		Scopes:     []string{"openid", "email"},
		ClientAuth: ClientAuthPost,
		AuthParams: map[string]string{"response_mode": "form_post"},
	}}
}
