package oidc

import (
	"net/url"
	"strings"
)

// Okta (https://developer.okta.com/docs/concepts/auth-servers/,
// https://developer.okta.com/docs/reference/api/oidc/). BASE_URL is
// either the org, https://dev-123.okta.com, whose org authorization
// server has that URL as issuer (endpoints under /oauth2/v1/), or a
// custom authorization server, https://dev-123.okta.com/oauth2/default
// (or /oauth2/<id>), whose issuer is that URL. The two issue tokens under
// different issuers and keys: pick the one the app is assigned to.
// Discovery of both advertises introspection (so convert-token accepts
// access tokens through RFC 7662), revocation and end_session.
//
// Okta's access tokens and their introspection answers name the user by
// login in sub and by id in uid
// (https://developer.okta.com/docs/reference/api/oidc/#introspect);
// ID tokens and userinfo use the id as sub. The preset reads uid as the
// introspected subject, so that userinfo's sub can be matched with it.
func oktaPreset() preset {
	return preset{
		cfg: Config{Type: TypeOIDC},
		needIssuer: "okta: set BASE_URL to the org (https://dev-123.okta.com) " +
			"or to a custom authorization server (https://dev-123.okta.com/oauth2/default)",
		validate: func(c *Config) []ConfigProblem {
			u, err := url.Parse(c.Issuer)
			if err != nil {
				return nil // checkIssuer reports it
			}
			var msg string
			switch path := strings.TrimSuffix(u.Path, "/"); {
			case strings.Contains(u.Hostname(), "-admin."):
				msg = "okta: " + u.Host + " is the admin console; use the org's domain without -admin"
			case path == "" || (strings.HasPrefix(path, "/oauth2/") && strings.Count(path, "/") == 2 && path != "/oauth2/v1"):
			default:
				msg = "okta: the issuer is the org (https://" + u.Host + ") or a custom authorization server " +
					"(https://" + u.Host + "/oauth2/<id>), not " + c.Issuer
			}
			if msg != "" {
				return []ConfigProblem{{Field: "issuer", Msg: msg}}
			}
			return nil
		},
		quirks: quirks{introspection: oktaIntrospection},
	}
}

// oktaIntrospection makes Okta's uid (the user id) the subject of an
// introspection answer; an answer without one keeps its sub.
func oktaIntrospection(ans map[string]any) map[string]any {
	if uid, _ := ans["uid"].(string); uid != "" {
		ans["username"] = ans["sub"]
		ans["sub"] = uid
	}
	return ans
}
