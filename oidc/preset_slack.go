package oidc

func slackPreset() preset {
	return preset{needIssuer: "slack: not available yet"}
}
