package oidc

func facebookPreset() preset {
	return preset{needIssuer: "facebook: not available yet"}
}
