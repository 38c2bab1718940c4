package oidc

// GitLab.com: https://gitlab.com/.well-known/openid-configuration.
// Self-managed GitLab: type oidc with the instance's URL as issuer.
func gitlabPreset() preset {
	return preset{cfg: Config{Type: TypeOIDC, Issuer: "https://gitlab.com"}}
}
