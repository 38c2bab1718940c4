package presettest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Twitter fakes X's OAuth 2.0 and the /2/users/me lookup as documented at
// https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code,
// https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
// and https://docs.x.com/x-api/users/lookup/quickstart/authenticated-lookup:
// PKCE S256 required, state at most 500 characters, HTTP Basic for the
// confidential client at the token and revocation endpoints, a refresh
// token only with offline.access (rotating), and /2/users/me answering
// {"data":{…}} with profile_image_url only when user.fields asks, errors
// as problem objects ({"title","detail","type","status"}, or with
// "errors":[…] for bad parameters).
type Twitter struct {
	srv    *httptest.Server
	grants *codeGrants
	user   TwitterUser
}

// TwitterUser is what the fake's /2/users/me knows.
type TwitterUser struct {
	ID, Name, Username, ProfileImageURL string
}

// NewTwitter starts the fake for one confidential client; it is closed
// when the test ends.
func NewTwitter(t testing.TB, clientID, clientSecret string) *Twitter {
	t.Helper()
	tw := &Twitter{
		grants: newCodeGrants(clientID, clientSecret),
		user: TwitterUser{ID: "2244994945", Name: "X Developers", Username: "XDevelopers",
			ProfileImageURL: "https://pbs.twimg.com/profile_images/1683325380441128960/yRsRRjGO_normal.jpg"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /i/oauth2/authorize", tw.authorize)
	mux.HandleFunc("POST /2/oauth2/token", tw.token)
	mux.HandleFunc("POST /2/oauth2/revoke", tw.revoke)
	mux.HandleFunc("GET /2/users/me", tw.me)
	tw.srv = httptest.NewServer(mux)
	t.Cleanup(tw.srv.Close)
	return tw
}

// Client returns a client whose requests to x.com, twitter.com and their
// api hosts reach the fake. It follows no redirects.
func (tw *Twitter) Client() *http.Client {
	return routeClient(tw.srv, "x.com", "twitter.com", "api.x.com", "api.twitter.com")
}

// SetUser sets the profile /2/users/me answers.
func (tw *Twitter) SetUser(u TwitterUser) {
	tw.grants.mu.Lock()
	defer tw.grants.mu.Unlock()
	tw.user = u
}

// Authorize plays the user consenting at authURL and returns the
// redirect: redirect_uri with code and state.
func (tw *Twitter) Authorize(authURL string) (*url.URL, error) {
	return authorizeRedirect(tw.Client(), authURL)
}

// Revoked reports whether token was revoked at the fake.
func (tw *Twitter) Revoked(token string) bool { return tw.grants.isRevoked(token) }

func (tw *Twitter) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != tw.grants.clientID || q.Get("response_type") != "code" || q.Get("redirect_uri") == "":
		http.Error(w, "Something went wrong. You weren't able to give access to the App.", http.StatusBadRequest)
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		// PKCE is required (plain exists at X, edgeauth never uses it).
		http.Error(w, "Something went wrong. You weren't able to give access to the App.", http.StatusBadRequest)
		return
	case len(q.Get("state")) > 500:
		http.Error(w, "state too long", http.StatusBadRequest)
		return
	}
	code := tw.grants.newCode(grant{clientID: tw.grants.clientID, redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), scope: q.Get("scope")})
	redirectWith(w, r, q.Get("redirect_uri"), url.Values{"code": {code}, "state": {q.Get("state")}})
}

func (tw *Twitter) token(w http.ResponseWriter, r *http.Request) {
	if !tw.grants.clientAuth(r, false) {
		oauthError(w, http.StatusUnauthorized, "unauthorized_client", "Missing valid authorization header")
		return
	}
	var g grant
	var ok bool
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		if g, ok = tw.grants.redeem(r.PostForm); !ok {
			oauthError(w, http.StatusBadRequest, "invalid_request", "Value passed for the authorization code was invalid.")
			return
		}
	case "refresh_token":
		if g, ok = tw.grants.rotate(r.PostForm.Get("refresh_token")); !ok {
			oauthError(w, http.StatusBadRequest, "invalid_request", "Value passed for the token was invalid.")
			return
		}
	default:
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter [grant_type].")
		return
	}
	t := tw.grants.issue(g, 2*time.Hour)
	ans := map[string]any{"token_type": "bearer", "expires_in": 7200, "access_token": t.access, "scope": t.scope}
	if slices.Contains(strings.Fields(g.scope), "offline.access") {
		ans["refresh_token"] = t.refresh
	}
	writeJSON(w, http.StatusOK, ans)
}

func (tw *Twitter) revoke(w http.ResponseWriter, r *http.Request) {
	if !tw.grants.clientAuth(r, false) {
		oauthError(w, http.StatusUnauthorized, "unauthorized_client", "Missing valid authorization header")
		return
	}
	tw.grants.revoke(r.PostForm.Get("token"))
	writeJSON(w, http.StatusOK, map[string]any{"revoked": true})
}

func problem(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	writeBody(w, body)
}

func (tw *Twitter) me(w http.ResponseWriter, r *http.Request) {
	g, ok := tw.grants.bearer(r)
	if !ok {
		problem(w, http.StatusUnauthorized, map[string]any{"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
		return
	}
	scopes := strings.Fields(g.scope)
	if !slices.Contains(scopes, "users.read") || !slices.Contains(scopes, "tweet.read") {
		problem(w, http.StatusForbidden, map[string]any{"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"})
		return
	}
	tw.grants.mu.Lock()
	u := tw.user
	tw.grants.mu.Unlock()
	data := map[string]any{"id": u.ID, "name": u.Name, "username": u.Username}
	if f := r.URL.Query().Get("user.fields"); f != "" {
		for _, field := range strings.Split(f, ",") {
			switch field {
			case "profile_image_url":
				data["profile_image_url"] = u.ProfileImageURL
			case "created_at", "description", "verified", "protected":
			default:
				problem(w, http.StatusBadRequest, map[string]any{
					"errors": []any{map[string]any{
						"parameters": map[string]any{"user.fields": []string{f}},
						"message":    "The `user.fields` query parameter value [" + field + "] is not one of [...]",
					}},
					"title":  "Invalid Request",
					"detail": "One or more parameters to your request was invalid.",
					"type":   "https://api.twitter.com/2/problems/invalid-request",
				})
				return
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}
