package presettest

import (
	"crypto/subtle"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Facebook fakes Facebook Login's manual flow and the Graph API parts a
// login uses, as documented at
// https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow,
// https://developers.facebook.com/docs/graph-api/reference/user,
// https://developers.facebook.com/docs/graph-api/reference/debug_token and
// https://developers.facebook.com/docs/graph-api/guides/error-handling:
// versioned paths (/vNN.N/…, any version), the secret in the token
// request's parameters, JSON token answers without refresh tokens, /me
// answering only the fields asked for with picture as an object, and
// every error as {"error":{"message","type","code","fbtrace_id"}} with
// HTTP 400. PKCE parameters are ignored, as outside Facebook's OIDC flow.
type Facebook struct {
	srv    *httptest.Server
	grants *codeGrants
	// user is the profile /me answers; fields are sent only when asked.
	user     FacebookUser
	issuedAt time.Time
}

// FacebookUser is what the fake's /me knows about the user.
type FacebookUser struct {
	ID, Name, Email string
	PictureURL      string
	Silhouette      bool // the picture is Facebook's default
}

// FacebookErrorMessage is the message of every error the fake answers: a
// test can check that it never reaches a client.
const FacebookErrorMessage = "Error validating verification code. Please make sure your redirect_uri is identical"

// NewFacebook starts the fake for one app (app id and app secret); it is
// closed when the test ends.
func NewFacebook(t testing.TB, appID, appSecret string) *Facebook {
	t.Helper()
	f := &Facebook{
		grants: newCodeGrants(appID, appSecret),
		user: FacebookUser{ID: "10215241773831025", Name: "Ada Lovelace", Email: "ada@example.com",
			PictureURL: "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=10215241773831025&height=50&width=50"},
		issuedAt: time.Now(),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{version}/dialog/oauth", f.authorize)
	mux.HandleFunc("/{version}/oauth/access_token", f.token)
	mux.HandleFunc("GET /{version}/me", f.me)
	mux.HandleFunc("GET /debug_token", f.debugToken)
	mux.HandleFunc("GET /{version}/debug_token", f.debugToken)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.graphError(w, 2500, "OAuthException", "Unknown path components: "+r.URL.Path)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// Client returns a client whose requests to www.facebook.com and
// graph.facebook.com reach the fake. It follows no redirects.
func (f *Facebook) Client() *http.Client {
	return routeClient(f.srv, "www.facebook.com", "facebook.com", "graph.facebook.com")
}

// SetUser sets the profile /me answers.
func (f *Facebook) SetUser(u FacebookUser) {
	f.grants.mu.Lock()
	defer f.grants.mu.Unlock()
	f.user = u
}

// Authorize plays the user consenting at authURL and returns the
// redirect: redirect_uri with code and state (Facebook sends no iss).
func (f *Facebook) Authorize(authURL string) (*url.URL, error) {
	return authorizeRedirect(f.Client(), authURL)
}

// TokenForApp issues a user access token of the current user for the app
// appID (ours or another's) that expires after ttl; a ttl of 0 gives a
// token whose debug_token expires_at is 0 (no expiry), a negative ttl an
// expired one.
func (f *Facebook) TokenForApp(appID string, ttl time.Duration) string {
	// Expired tokens stay known to debug_token, which reports them.
	t := f.grants.issue(grant{clientID: appID, scope: "public_profile email"}, time.Hour)
	f.grants.mu.Lock()
	defer f.grants.mu.Unlock()
	g := f.grants.access[t.access]
	switch {
	case ttl == 0:
		g.expires = time.Time{}
	default:
		g.expires = time.Now().Add(ttl)
	}
	f.grants.access[t.access] = g
	return t.access
}

// graphError writes the Graph API error object with HTTP 400.
func (f *Facebook) graphError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "code": code, "fbtrace_id": "AbCdEfGhIjK",
	}})
}

func (f *Facebook) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != f.grants.clientID || q.Get("redirect_uri") == "" {
		http.Error(w, "Invalid App ID", http.StatusBadRequest)
		return
	}
	code := f.grants.newCode(grant{clientID: f.grants.clientID, redirectURI: q.Get("redirect_uri"), scope: q.Get("scope")})
	redirectWith(w, r, q.Get("redirect_uri"), url.Values{"code": {code}, "state": {q.Get("state")}})
}

// token takes its parameters from the query (the documented GET) or the
// body, the secret among them.
func (f *Facebook) token(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil {
		f.graphError(w, 100, "OAuthException", "Invalid parameter")
		return
	}
	if r.Form.Get("client_id") != f.grants.clientID ||
		subtle.ConstantTimeCompare([]byte(r.Form.Get("client_secret")), []byte(f.grants.secret)) != 1 {
		f.graphError(w, 1, "OAuthException", "Error validating client secret.")
		return
	}
	form := url.Values{"code": {r.Form.Get("code")}, "redirect_uri": {r.Form.Get("redirect_uri")}}
	g, ok := f.grants.redeem(form)
	if !ok {
		f.graphError(w, 100, "OAuthException", FacebookErrorMessage)
		return
	}
	t := f.grants.issue(g, 60*24*time.Hour)
	writeJSON(w, http.StatusOK, map[string]any{"access_token": t.access, "token_type": "bearer", "expires_in": 5183944})
}

// userToken reads the token from the Authorization header (Bearer or
// OAuth) or the access_token parameter.
func (f *Facebook) userToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "OAuth "} {
		if tok, ok := strings.CutPrefix(h, scheme); ok {
			return tok
		}
	}
	return r.URL.Query().Get("access_token")
}

func (f *Facebook) me(w http.ResponseWriter, r *http.Request) {
	// Any app's valid user token reads its own user's profile.
	g, ok := f.grants.lookup(f.userToken(r))
	if !ok {
		f.graphError(w, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
		return
	}
	f.grants.mu.Lock()
	u := f.user
	f.grants.mu.Unlock()
	fields := strings.Split(r.URL.Query().Get("fields"), ",")
	if r.URL.Query().Get("fields") == "" {
		fields = []string{"id", "name"} // the Graph API default
	}
	ans := map[string]any{}
	for _, field := range fields {
		switch field {
		case "id":
			ans["id"] = u.ID
		case "name":
			ans["name"] = u.Name
		case "email":
			if u.Email != "" && strings.Contains(g.scope, "email") {
				ans["email"] = u.Email
			}
		case "picture":
			ans["picture"] = map[string]any{"data": map[string]any{
				"height": 50, "width": 50, "is_silhouette": u.Silhouette, "url": u.PictureURL,
			}}
		default:
			f.graphError(w, 100, "OAuthException", "(#100) Tried accessing nonexisting field ("+field+")")
			return
		}
	}
	writeJSON(w, http.StatusOK, ans)
}

// debugToken needs an app access token "APPID|APPSECRET" of our app; it
// answers 200 for any input token, valid or not.
func (f *Facebook) debugToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("access_token")), []byte(f.grants.clientID+"|"+f.grants.secret)) != 1 {
		f.graphError(w, 190, "OAuthException", "Invalid OAuth access token signature.")
		return
	}
	f.grants.mu.Lock()
	g, known := f.grants.access[q.Get("input_token")]
	revoked := f.grants.revoked[q.Get("input_token")]
	u := f.user
	f.grants.mu.Unlock()
	if !known || revoked {
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
			"error":    map[string]any{"code": 190, "message": "Invalid OAuth access token."},
			"is_valid": false, "scopes": []string{},
		}})
		return
	}
	expiresAt := int64(0)
	if !g.expires.IsZero() {
		expiresAt = g.expires.Unix()
	}
	valid := g.expires.IsZero() || time.Now().Before(g.expires)
	data := map[string]any{
		"app_id": g.clientID, "type": "USER", "application": "App " + g.clientID,
		"data_access_expires_at": f.issuedAt.Add(90 * 24 * time.Hour).Unix(),
		"expires_at":             expiresAt, "is_valid": valid,
		"scopes": strings.Fields(g.scope), "user_id": u.ID,
	}
	if !valid {
		data["error"] = map[string]any{"code": 190, "message": "Error validating access token: Session has expired.", "subcode": 463}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}
