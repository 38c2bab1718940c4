package oidctest

import (
	"net/http"
	"slices"
)

// serveDiscovery answers OpenID Connect Discovery §4 with the metadata of
// §3 and RFC 8414 (revocation and introspection metadata, §2).
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	f := p.currentFaults()
	authMethods := []string{"client_secret_basic", "client_secret_post"}
	for _, c := range p.clients {
		if c.Secret == "" {
			authMethods = append(authMethods, "none")
			break
		}
	}
	doc := map[string]any{
		"issuer":                                        p.issuer,
		"authorization_endpoint":                        p.EndpointURL(AuthorizeEndpoint),
		"token_endpoint":                                p.EndpointURL(TokenEndpoint),
		"userinfo_endpoint":                             p.EndpointURL(UserinfoEndpoint),
		"jwks_uri":                                      p.EndpointURL(JWKSEndpoint),
		"revocation_endpoint":                           p.EndpointURL(RevocationEndpoint),
		"end_session_endpoint":                          p.EndpointURL(EndSessionEndpoint),
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query"},
		"grant_types_supported":                         []string{"authorization_code", "refresh_token"},
		"subject_types_supported":                       []string{"public"},
		"id_token_signing_alg_values_supported":         []string{p.alg},
		"token_endpoint_auth_methods_supported":         authMethods,
		"revocation_endpoint_auth_methods_supported":    slices.Clone(authMethods),
		"introspection_endpoint":                        p.EndpointURL(IntrospectionEndpoint),
		"introspection_endpoint_auth_methods_supported": slices.Clone(authMethods), // RFC 8414 §2
		"code_challenge_methods_supported":              []string{"S256"},
		"scopes_supported":                              supportedScopes(),
		"claims_supported": []string{"iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce",
			"at_hash", "email", "email_verified", "name"},
		"prompt_values_supported":                        []string{"none", "login"},
		"authorization_response_iss_parameter_supported": p.issParam, // RFC 9207 §3
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false, // its default is true
		"claims_parameter_supported":                     false,
	}
	if f.DiscoveryIssuer != "" {
		doc["issuer"] = f.DiscoveryIssuer
	}
	if f.DiscoveryDocument != nil {
		f.DiscoveryDocument(doc)
	}
	w.Header().Set("Access-Control-Allow-Origin", "*") // public metadata, readable by browser clients
	writeJSON(w, http.StatusOK, doc)
}

// serveJWKS publishes the verification keys (RFC 7517 §5).
func (p *Provider) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "no-cache") // keys rotate at a test's command
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(p.PublicKeys())
}
