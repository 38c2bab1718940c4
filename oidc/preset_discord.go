package oidc

func discordPreset() preset {
	return preset{needIssuer: "discord: not available yet"}
}
