package oidc

import (
	"net/url"
	"regexp"
)

// Keycloak (https://www.keycloak.org/securing-apps/oidc-layers). BASE_URL
// is the realm URL, https://kc.example.com/realms/<realm>, or on
// Keycloak before 17 (and later ones run with the legacy /auth context
// path) https://kc.example.com/auth/realms/<realm>: that URL is the
// issuer. Keycloak names the issuer after the host a request came in
// through unless its hostname is configured (KC_HOSTNAME): use the
// public URL here and have Keycloak fixed to it.
//
// ID tokens have aud = the client id and azp; access tokens have aud
// "account" and are meant for resource servers, never checked as ID
// tokens here. Discovery advertises introspection (so convert-token
// accepts access tokens through RFC 7662), revocation, end_session and
// the RFC 9207 iss parameter. email_verified is a JSON boolean, false
// until the user has confirmed the address.
func keycloakPreset() preset {
	return preset{
		cfg: Config{Type: TypeOIDC},
		needIssuer: "keycloak: set BASE_URL to the realm URL, https://kc.example.com/realms/<realm> " +
			"(before Keycloak 17: https://kc.example.com/auth/realms/<realm>)",
		validate: func(c *Config) []ConfigProblem {
			if u, err := url.Parse(c.Issuer); err == nil && !keycloakRealm.MatchString(u.Path) {
				return []ConfigProblem{{Field: "issuer", Msg: "keycloak: the issuer is a realm URL ending in /realms/<realm>, got " + c.Issuer}}
			}
			return nil
		},
	}
}

// keycloakRealm matches a realm URL's path, whatever context path the
// server runs under.
var keycloakRealm = regexp.MustCompile(`/realms/[^/]+/?$`)
