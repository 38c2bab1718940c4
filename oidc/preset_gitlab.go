package oidc

// GitLab is a plain OpenID Provider
// (https://docs.gitlab.com/integration/openid_connect_provider/):
// gitlab.com by default, a self-managed instance by BaseURL, which is then
// the issuer (https://gitlab.example.com, or with its relative URL root).
//
//   - sub is the numeric user id as a string ("1234567"), stable across
//     renames; the ID token and userinfo (/oauth/userinfo) carry email and
//     email_verified (userinfo also groups, and profile as a URL).
//   - Refresh: every token answer carries a refresh token, which GitLab
//     rotates on use; access tokens live two hours.
//   - Revoke: /oauth/revoke (RFC 7009) from discovery.
//   - Logout: GitLab publishes no end_session_endpoint.
//   - Convert: ID tokens as usual. Discovery advertises /oauth/introspect
//     (RFC 7662), so an access token goes there. GitLab's introspection
//     is Doorkeeper's, whose answer names the client_id but, as far as its
//     documentation shows, no sub: edgeauth then refuses the token rather
//     than take the subject from anywhere unverified. Native apps convert
//     their ID token instead.
func gitlabPreset() preset {
	return preset{cfg: Config{Type: TypeOIDC, Issuer: "https://gitlab.com"}}
}
