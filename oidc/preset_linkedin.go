package oidc

func linkedinPreset() preset {
	return preset{needIssuer: "linkedin: not available yet"}
}
