package oidctest

import (
	"net/http"
	"net/url"
)

// serveRevocation is the revocation endpoint (RFC 7009 §2). It answers 200
// for any token of an authenticated client, known or not (§2.2); revoking a
// refresh token also revokes the access tokens of its grant (§2.1).
func (p *Provider) serveRevocation(w http.ResponseWriter, r *http.Request) {
	client, form, ok := p.tokenCall(w, r)
	if !ok {
		return
	}
	tok := form.Get("token")
	rev := Revocation{ClientID: client.ID, Token: tok, TokenTypeHint: form.Get("token_type_hint")}
	k := tokenKey(tok)
	p.mu.Lock()
	// The hint only orders the search (§2.1); both stores are searched.
	switch {
	case p.refresh[k] != nil && p.refresh[k].g.clientID == client.ID:
		p.revokeGrantLocked(p.refresh[k].g)
		rev.Revoked = true
	case p.access[k] != nil && p.access[k].g.clientID == client.ID:
		delete(p.access, k)
		rev.Revoked = true
	}
	// A token of another client is left alone, and the answer is the same as
	// for an unknown token: nothing to learn about other clients' tokens.
	p.log.Revocations = appendBounded(p.log.Revocations, rev)
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// tokenCall reads what the revocation and introspection endpoints share: a
// POSTed form from an authenticated client with a token (RFC 7009 §2.1,
// RFC 7662 §2.1). It answers the error itself when it returns false.
func (p *Provider) tokenCall(w http.ResponseWriter, r *http.Request) (Client, url.Values, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", desc: "use POST"})
		return Client{}, nil, false
	}
	form, err := readForm(w, r)
	if err != nil {
		writeOAuthError(w, badRequest("invalid_request", err.Error()))
		return Client{}, nil, false
	}
	client, _, oerr := p.authenticateClient(r, form)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return Client{}, nil, false
	}
	if form.Get("token") == "" {
		writeOAuthError(w, badRequest("invalid_request", "token is required"))
		return Client{}, nil, false
	}
	return client, form, true
}
