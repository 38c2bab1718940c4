package oidc

func auth0Preset() preset {
	return preset{needIssuer: "auth0: not available yet"}
}
