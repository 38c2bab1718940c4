package oidctest

import (
	"net/http"
	"strings"
)

// serveUserinfo answers OpenID Connect Core §5.3 for a Bearer access token
// sent in the Authorization header (RFC 6750 §2.1).
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead, http.MethodPost) {
		return
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		// RFC 6750 §3.1: no error code when no credentials came at all.
		w.Header().Set("WWW-Authenticate", `Bearer realm="oidctest"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_request", "error_description": "Bearer access token required"})
		return
	}
	e := p.lookupToken(p.access, strings.TrimSpace(tok))
	if e == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="oidctest", error="invalid_token", error_description="unknown, expired or revoked access token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_token", "error_description": "unknown, expired or revoked access token"})
		return
	}
	f := p.currentFaults()
	claims := map[string]any{
		"sub":            Subject(e.g.email),
		"email":          e.g.email,
		"email_verified": true,
		"name":           nameFromEmail(e.g.email),
	}
	if f.UserinfoSubject != "" {
		claims["sub"] = f.UserinfoSubject
	}
	if f.UserinfoClaims != nil {
		f.UserinfoClaims(claims)
	}
	writeJSON(w, http.StatusOK, claims)
}
