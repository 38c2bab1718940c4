package oidc

func twitterPreset() preset {
	return preset{needIssuer: "twitter: not available yet"}
}
