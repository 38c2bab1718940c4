package oidc

func oktaPreset() preset {
	return preset{needIssuer: "okta: not available yet"}
}
