package oidc

// GitHub is OAuth 2.0 only (no ID token): the identity comes from
// GET https://api.github.com/user, whose numeric `id` is the stable
// subject (the login can be renamed). That answer carries the
// public email only and no email_verified, so
// Identity.EmailVerified stays false; reading /user/emails is left
// to the application. Issuer only names GitHub in Identity.Issuer.
func githubPreset() preset {
	return preset{cfg: Config{
		Type:         TypeOAuth2,
		Issuer:       "https://github.com",
		AuthURL:      "https://github.com/login/oauth/authorize",
		TokenURL:     "https://github.com/login/oauth/access_token",
		UserinfoURL:  "https://api.github.com/user",
		SubjectClaim: "id",
		Scopes:       []string{"read:user", "user:email"},
		ClientAuth:   ClientAuthPost,
	}}
}
