package oidc

func keycloakPreset() preset {
	return preset{needIssuer: "keycloak: not available yet"}
}
