package presettest

import (
	"net/http"
	"net/url"
	"sync"
	"time"
)

// authorizeEndpoint is what one provider's authorization endpoint does
// its own way; the request checks (authorizeParams) and the flow around
// them are the same at every code-flow fake that stores codeRequests.
type authorizeEndpoint struct {
	clientID     string
	redirectURIs []string
	// pagePrefix comes before the message of an error the provider shows
	// on its own page ("" for none).
	pagePrefix string
	// newCode mints a code in the provider's format.
	newCode func() string
	// codeTTL is how long a code may be exchanged.
	codeTTL time.Duration
	// extra are parameters the provider adds to the redirect with the
	// code besides code and state; nil for none.
	extra func(q url.Values) url.Values
	now   func() time.Time

	mu    *sync.Mutex
	codes map[string]*codeRequest
}

// serve answers the authorization request q: an error page for a client
// or redirect URI it does not know, a redirect with error for a bad
// request, else a redirect with a new code, stored for the token endpoint.
func (a authorizeEndpoint) serve(w http.ResponseWriter, q url.Values) {
	redirect, oauthErr, pageErr := authorizeParams(q, a.clientID, a.redirectURIs)
	switch {
	case pageErr != "":
		http.Error(w, a.pagePrefix+pageErr, http.StatusBadRequest)
		return
	case oauthErr != "":
		redirectTo(w, redirect, url.Values{"error": {oauthErr}, "state": {q.Get("state")}})
		return
	}
	code := a.newCode()
	a.mu.Lock()
	a.codes[code] = &codeRequest{clientID: a.clientID, redirectURI: redirect, challenge: q.Get("code_challenge"),
		nonce: q.Get("nonce"), scope: q.Get("scope"), params: q, expires: a.now().Add(a.codeTTL)}
	a.mu.Unlock()
	params := url.Values{"code": {code}, "state": {q.Get("state")}}
	if a.extra != nil {
		for k, v := range a.extra(q) {
			params[k] = v
		}
	}
	redirectTo(w, redirect, params)
}

// redeemCode takes code out of codes (a code is used once, even when the
// token request is refused) and returns what its authorization request
// left; nil when the code is unknown or has expired at now.
func redeemCode(codes map[string]*codeRequest, code string, now time.Time) *codeRequest {
	c := codes[code]
	delete(codes, code)
	if c == nil || now.After(c.expires) {
		return nil
	}
	return c
}
