package oidc

import (
	"context"
	"strings"
)

// Auth0 (https://auth0.com/docs/api/authentication, and the tenant's
// https://{domain}/.well-known/openid-configuration). BASE_URL is the tenant's
// domain, tenant.us.auth0.com or a custom domain. Auth0's issuer ends
// with a slash, https://tenant.us.auth0.com/, and ID tokens carry it so:
// the preset adds it to BASE_URL, and an ISSUER without it is refused
// at start rather than at the first login. ID tokens' aud is the client
// id; an access token asked for with AUTH_PARAMS=audience:<API
// identifier> is a JWT for that API, not for us.
//
// Discovery offers /oauth/revoke (RFC 7009, refresh tokens) and, when
// "RP-Initiated Logout End Session Endpoint Discovery" is on (the default
// for tenants since November 2023,
// https://auth0.com/docs/authenticate/login/logout/log-users-out-of-auth0),
// /oidc/logout as end_session_endpoint. A refresh token comes only with
// the offline_access scope and "Allow Offline Access" on the API.
//
// Auth0 offers no token introspection to a relying party, so
// convert-token takes Auth0 ID tokens only; an access token is refused
// unless CONVERT_ACCESS_TOKEN=userinfo.
func auth0Preset() preset {
	return preset{
		cfg: Config{Type: TypeOIDC},
		needIssuer: "auth0: set BASE_URL to the tenant's domain (tenant.us.auth0.com or a custom domain), " +
			"or ISSUER to https://<domain>/",
		fromBase: func(c *Config, base string) { c.Issuer = base + "/" },
		validate: func(c *Config) []ConfigProblem {
			if c.Issuer != "" && !strings.HasSuffix(c.Issuer, "/") {
				return []ConfigProblem{{Field: "issuer", Msg: "auth0's issuer ends with a slash: use " + c.Issuer +
					"/ (as Auth0's discovery document says), or set BASE_URL to the domain instead"}}
			}
			return nil
		},
		quirks: quirks{convertAccess: convertAuth0Access},
	}
}

// convertAuth0Access refuses an Auth0 access token, which nothing can
// tie to our client, unless CONVERT_ACCESS_TOKEN=userinfo opted in.
func convertAuth0Access(ctx context.Context, p *Provider, eps *endpoints, token string) (*Identity, error) {
	if p.cfg.ConvertAccessToken == ConvertUserinfo {
		return p.convertUserinfo(ctx, eps, token)
	}
	return nil, newError(CodeInvalidToken, "access_token", nil,
		"access_token: Auth0 offers no token introspection, so an access token cannot be tied to this client; "+
			"convert the ID token instead, or set CONVERT_ACCESS_TOKEN=userinfo to accept any token userinfo answers for")
}
