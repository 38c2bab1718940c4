package oidc

func zitadelPreset() preset {
	return preset{needIssuer: "zitadel: not available yet"}
}
