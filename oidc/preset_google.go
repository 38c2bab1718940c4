package oidc

// https://accounts.google.com/.well-known/openid-configuration. The
// issuer has no trailing slash; ID tokens carry email.
func googlePreset() preset {
	return preset{cfg: Config{Type: TypeOIDC, Issuer: "https://accounts.google.com"}}
}
