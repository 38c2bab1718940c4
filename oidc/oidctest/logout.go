package oidctest

import (
	"net/http"
	"net/url"
	"slices"
)

// serveEndSession is the end_session endpoint (OpenID Connect RP-Initiated
// Logout §2, §3). The provider keeps no session, so there is nothing to end:
// it validates the request, then redirects to post_logout_redirect_uri when
// one is given and registered, or shows a signed-out page.
func (p *Provider) serveEndSession(w http.ResponseWriter, r *http.Request) {
	var q url.Values
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		var err error
		if q, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			p.renderMessage(w, http.StatusBadRequest, "Bad request", "The logout request is malformed.")
			return
		}
	case http.MethodPost:
		var err error
		if q, err = readForm(w, r); err != nil {
			p.renderMessage(w, http.StatusBadRequest, "Bad request", "The logout request is malformed.")
			return
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		p.renderMessage(w, http.StatusMethodNotAllowed, "Method not allowed", "Use GET or POST.")
		return
	}
	for name, vs := range q {
		if len(vs) > 1 {
			p.renderMessage(w, http.StatusBadRequest, "Bad request", name+" is given more than once.")
			return
		}
	}
	clientID := q.Get("client_id")
	if hint := q.Get("id_token_hint"); hint != "" {
		claims, err := p.verifyOwnJWT(hint)
		if err != nil {
			p.renderMessage(w, http.StatusBadRequest, "Invalid logout request", "id_token_hint was not issued by this provider.")
			return
		}
		aud := audienceOf(claims)
		if clientID == "" {
			if azp, _ := claims["azp"].(string); azp != "" {
				clientID = azp
			} else if len(aud) == 1 {
				clientID = aud[0]
			}
		}
		if !slices.Contains(aud, clientID) {
			p.renderMessage(w, http.StatusBadRequest, "Invalid logout request", "client_id is not an audience of id_token_hint.")
			return
		}
	}
	target := q.Get("post_logout_redirect_uri")
	if target == "" {
		p.renderMessage(w, http.StatusOK, "Signed out", "You are signed out of the test provider. You can close this window.")
		return
	}
	c, ok := p.clients[clientID]
	if !ok {
		p.renderMessage(w, http.StatusBadRequest, "Invalid logout request", "post_logout_redirect_uri needs a known client_id or id_token_hint.")
		return
	}
	if !slices.Contains(c.PostLogoutRedirectURIs, target) && !slices.Contains(c.RedirectURIs, target) {
		p.renderMessage(w, http.StatusBadRequest, "Invalid logout request", "post_logout_redirect_uri is not registered for client "+c.ID+".")
		return
	}
	u, _ := url.Parse(target) // registered, so checked in New
	if st := q.Get("state"); st != "" {
		uq := u.Query()
		uq.Set("state", st)
		u.RawQuery = uq.Encode()
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// audienceOf reads aud, a string or an array of strings (RFC 7519 §4.1.3).
func audienceOf(claims map[string]any) []string {
	switch v := claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
