package oidctest

import (
	"net/http"
	"strings"
)

// serveIntrospection is the introspection endpoint (RFC 7662 §2). The caller
// authenticates as at the token endpoint (§2.1). A confidential client may
// introspect any token and learns whose it is from client_id: that is what
// lets a relying party refuse an access token issued to another app (token
// substitution). A public client learns only about its own tokens; any other
// token is inactive to it, as to an unknown one (§4).
func (p *Provider) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	client, form, ok := p.tokenCall(w, r)
	if !ok {
		return
	}
	tok := form.Get("token")
	f := p.currentFaults()
	resp := p.introspect(client, tok, form.Get("token_type_hint"), &f)
	if f.IntrospectionResponse != nil {
		f.IntrospectionResponse(resp)
	}
	writeJSON(w, http.StatusOK, resp)
}

// introspect builds the answer of §2.2 for tok. The hint only orders the
// search (§2.1); both stores are searched. Access tokens are reported with
// token_type "Bearer" (RFC 6749 §7.1); refresh tokens have no such type and
// are reported without one, so a caller can tell the two apart.
func (p *Provider) introspect(client Client, tok, hint string, f *Faults) map[string]any {
	inactive := map[string]any{"active": false}
	if f.IntrospectionInactive {
		return inactive
	}
	type store struct {
		m         map[[32]byte]*tokenEntry
		tokenType string
	}
	stores := []store{{p.access, "Bearer"}, {p.refresh, ""}}
	if hint == "refresh_token" {
		stores[0], stores[1] = stores[1], stores[0]
	}
	for _, s := range stores {
		e := p.lookupToken(s.m, tok)
		if e == nil {
			continue
		}
		if client.Secret == "" && e.g.clientID != client.ID {
			return inactive
		}
		owner := e.g.clientID
		if f.IntrospectionClientID != "" {
			owner = f.IntrospectionClientID
		}
		resp := map[string]any{
			"active":    true,
			"client_id": owner,
			"sub":       Subject(e.g.email),
			"exp":       e.expires.Unix(),
			"iat":       e.issued.Unix(),
			"scope":     strings.Join(e.scopes, " "),
			"iss":       p.issuer,
			"aud":       owner,
		}
		if s.tokenType != "" {
			resp["token_type"] = s.tokenType
		}
		return resp
	}
	return inactive
}
