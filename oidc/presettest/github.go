package presettest

import (
	"crypto/rand"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// GitHubEmail is one address of GET /user/emails.
type GitHubEmail struct {
	Email      string `json:"email"`
	Primary    bool   `json:"primary"`
	Verified   bool   `json:"verified"`
	Visibility string `json:"visibility"` // "public", "private" or "" (JSON null)
}

// GitHubUser is the account that signs in at the GitHub fake.
type GitHubUser struct {
	ID    int64 // numeric, beyond 32 bits for new accounts; default 12345678901
	Login string
	Name  string // "" is sent as null, as GitHub does for accounts without one
	// Email is the public address /user shows ("" → null).
	Email  string
	Emails []GitHubEmail
}

// GitHubOptions configure [NewGitHub].
type GitHubOptions struct {
	// BaseURL is a GitHub Enterprise Server, e.g. https://github.example.com
	// (the web UI and /login/oauth there, the API under /api/v3); "" is
	// github.com with its API at api.github.com.
	BaseURL                string
	ClientID, ClientSecret string
	RedirectURIs           []string
	User                   GitHubUser
	// ExpiringTokens is a GitHub App with expiring user tokens: access
	// tokens live 8 hours and come with a refresh token (6 months).
	ExpiringTokens bool
	Now            func() time.Time
}

// GitHub fakes GitHub's OAuth web flow and the REST API parts a login uses,
// as documented at
// https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps,
// https://docs.github.com/en/rest/users and
// https://docs.github.com/en/rest/apps/oauth-applications:
//
//   - the token endpoint answers application/x-www-form-urlencoded unless
//     the request's Accept asks for JSON, with scopes comma-separated;
//   - it refuses with status 200 and error=bad_verification_code (a bad,
//     used or expired code), incorrect_client_credentials,
//     redirect_uri_mismatch or bad_refresh_token in the body;
//   - /user's id is a JSON number, its email the public address or null;
//     /user/emails needs the user:email scope (404 without);
//   - POST /applications/{client_id}/token (Basic client_id:secret) answers
//     200 with the token's app and user for a token of that app, 404 for
//     any other; DELETE on it revokes (204).
type GitHub struct {
	srv  *httptest.Server
	opts GitHubOptions

	mu      sync.Mutex
	user    GitHubUser
	codes   map[string]*codeRequest
	tokens  map[string]githubGrant
	refresh map[string]githubGrant
}

type githubGrant struct {
	clientID string
	scopes   []string
	user     GitHubUser
	expires  time.Time // zero: never (OAuth apps)
}

// NewGitHub starts the fake; it is closed with the test.
func NewGitHub(tb testing.TB, opts GitHubOptions) *GitHub {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	u := opts.User
	if u.ID == 0 {
		u.ID = 12345678901
	}
	if u.Login == "" {
		u.Login = "ada"
	}
	g := &GitHub{opts: opts, user: u, codes: map[string]*codeRequest{}, tokens: map[string]githubGrant{}, refresh: map[string]githubGrant{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	tb.Cleanup(g.srv.Close)
	return g
}

// Client reaches the fake under github.com and api.github.com, or under
// the Enterprise Server's host.
func (g *GitHub) Client() *http.Client {
	if g.opts.BaseURL != "" {
		u, _ := url.Parse(g.opts.BaseURL)
		return hostClient(g.srv, u.Host)
	}
	return hostClient(g.srv, "github.com", "api.github.com")
}

// Login follows authURL as the signed-in user and returns the redirect
// back to the app.
func (g *GitHub) Login(authURL string) (*url.URL, error) {
	return authorizeRedirect(g.Client(), authURL)
}

// SetUser changes the account that signs in next.
func (g *GitHub) SetUser(u GitHubUser) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.user = u
}

// IssueToken mints an access token of the current user for any OAuth
// app, e.g. another app's.
func (g *GitHub) IssueToken(clientID string, scopes ...string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	tok := "gho_" + rand.Text()
	g.tokens[tok] = githubGrant{clientID: clientID, scopes: scopes, user: g.user}
	return tok
}

// api is the path prefix of the REST API on the request's host, and
// whether the request is for the API at all.
func (g *GitHub) api(r *http.Request) (string, bool) {
	if g.opts.BaseURL == "" {
		return "", r.Host == "api.github.com"
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v3")
	return rest, ok
}

func (g *GitHub) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := g.api(r); ok {
		if g.opts.BaseURL == "" {
			rest = r.URL.Path
		}
		g.serveAPI(w, r, rest)
		return
	}
	if g.opts.BaseURL == "" && r.Host != "github.com" {
		http.NotFound(w, r)
		return
	}
	switch r.URL.Path {
	case "/login/oauth/authorize":
		g.authorize(w, r)
	case "/login/oauth/access_token":
		g.token(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (g *GitHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// GitHub needs no response_type; a code flow is all it does.
	if q.Get("response_type") == "" {
		q.Set("response_type", "code")
	}
	authorizeEndpoint{
		clientID: g.opts.ClientID, redirectURIs: g.opts.RedirectURIs,
		newCode: func() string { return rand.Text()[:20] }, codeTTL: 10 * time.Minute,
		now: g.opts.Now, mu: &g.mu, codes: g.codes,
	}.serve(w, q)
}

// answer writes a token endpoint answer in the form the request asked for:
// JSON with Accept: application/json, form-encoded otherwise, always 200.
func githubAnswer(w http.ResponseWriter, r *http.Request, v map[string]string) {
	for _, a := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, _ := mime.ParseMediaType(strings.TrimSpace(a)); mt == "application/json" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			ans := map[string]any{}
			for k, s := range v {
				if n, err := strconv.Atoi(s); err == nil && strings.HasSuffix(k, "expires_in") {
					ans[k] = n
				} else {
					ans[k] = s
				}
			}
			_ = json.NewEncoder(w).Encode(ans)
			return
		}
	}
	form := url.Values{}
	for k, s := range v {
		form.Set(k, s)
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	_, _ = w.Write([]byte(form.Encode()))
}

func githubError(w http.ResponseWriter, r *http.Request, code, desc, doc string) {
	githubAnswer(w, r, map[string]string{"error": code, "error_description": desc,
		"error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#" + doc})
}

func (g *GitHub) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		http.NotFound(w, r)
		return
	}
	id, secret := clientAuth(r)
	if id != g.opts.ClientID || !sameSecret(secret, g.opts.ClientSecret) {
		githubError(w, r, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.", "incorrect-client-credentials")
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.opts.Now()
	var gr githubGrant
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		old, ok := g.refresh[r.PostForm.Get("refresh_token")]
		delete(g.refresh, r.PostForm.Get("refresh_token")) // single use
		if !ok || old.clientID != id {
			githubError(w, r, "bad_refresh_token", "The refresh token passed is incorrect or expired.", "bad-refresh-token")
			return
		}
		gr = old
	case "", "authorization_code":
		c := redeemCode(g.codes, r.PostForm.Get("code"), now)
		if c == nil || !pkceOK(c.challenge, r.PostForm.Get("code_verifier")) {
			githubError(w, r, "bad_verification_code", "The code passed is incorrect or expired.", "bad-verification-code")
			return
		}
		if ru := r.PostForm.Get("redirect_uri"); ru != "" && ru != c.redirectURI {
			githubError(w, r, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.", "redirect-uri-mismatch")
			return
		}
		gr = githubGrant{clientID: id, scopes: strings.FieldsFunc(c.scope, func(r rune) bool { return r == ' ' || r == ',' }), user: g.user}
	default:
		githubError(w, r, "unsupported_grant_type", "The grant type is not supported.", "unsupported-grant-type")
		return
	}
	tok := "gho_" + rand.Text()
	ans := map[string]string{"access_token": tok, "scope": strings.Join(gr.scopes, ","), "token_type": "bearer"}
	if g.opts.ExpiringTokens {
		tok = "ghu_" + rand.Text()
		ans["access_token"] = tok
		gr.expires = now.Add(8 * time.Hour)
		rt := "ghr_" + rand.Text()
		g.refresh[rt] = gr
		ans["expires_in"], ans["refresh_token"], ans["refresh_token_expires_in"] = "28800", rt, "15897600"
	}
	g.tokens[tok] = gr
	githubAnswer(w, r, ans)
}

func (g *GitHub) grantOf(r *http.Request) (githubGrant, bool) {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		tok, _ = strings.CutPrefix(auth, "token ")
	}
	return g.lookup(tok)
}

func (g *GitHub) lookup(tok string) (githubGrant, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gr, ok := g.tokens[tok]
	if !ok || (!gr.expires.IsZero() && !g.opts.Now().Before(gr.expires)) {
		return githubGrant{}, false
	}
	return gr, true
}

func githubMessage(w http.ResponseWriter, status int, msg, doc string) {
	writeJSONAnswer(w, status, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest" + doc, "status": strconv.Itoa(status)})
}

func githubProfile(u GitHubUser) map[string]any {
	m := map[string]any{
		"login": u.Login, "id": u.ID, "node_id": "U_kgDO" + strconv.FormatInt(u.ID, 36), "type": "User",
		"avatar_url": "https://avatars.githubusercontent.com/u/" + strconv.FormatInt(u.ID, 10) + "?v=4",
		"html_url":   "https://github.com/" + u.Login, "name": nil, "email": nil, "site_admin": false,
	}
	if u.Name != "" {
		m["name"] = u.Name
	}
	if u.Email != "" {
		m["email"] = u.Email
	}
	return m
}

func (g *GitHub) serveAPI(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case path == "/user" && r.Method == http.MethodGet:
		gr, ok := g.grantOf(r)
		if !ok {
			githubMessage(w, http.StatusUnauthorized, "Bad credentials", "")
			return
		}
		writeJSONAnswer(w, http.StatusOK, githubProfile(gr.user))
	case path == "/user/emails" && r.Method == http.MethodGet:
		gr, ok := g.grantOf(r)
		if !ok {
			githubMessage(w, http.StatusUnauthorized, "Bad credentials", "")
			return
		}
		if !slices.Contains(gr.scopes, "user:email") && !slices.Contains(gr.scopes, "user") {
			githubMessage(w, http.StatusNotFound, "Not Found", "/users/emails#list-email-addresses-for-the-authenticated-user")
			return
		}
		emails := make([]map[string]any, 0, len(gr.user.Emails))
		for _, e := range gr.user.Emails {
			m := map[string]any{"email": e.Email, "primary": e.Primary, "verified": e.Verified, "visibility": nil}
			if e.Visibility != "" {
				m["visibility"] = e.Visibility
			}
			emails = append(emails, m)
		}
		writeJSONAnswer(w, http.StatusOK, emails)
	case strings.HasPrefix(path, "/applications/") && strings.HasSuffix(path, "/token"):
		g.tokenCheck(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/applications/"), "/token"))
	default:
		githubMessage(w, http.StatusNotFound, "Not Found", "")
	}
}

// tokenCheck serves POST (check) and DELETE (revoke) of
// /applications/{client_id}/token.
func (g *GitHub) tokenCheck(w http.ResponseWriter, r *http.Request, clientID string) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != clientID || id != g.opts.ClientID || !sameSecret(secret, g.opts.ClientSecret) {
		githubMessage(w, http.StatusUnauthorized, "Requires authentication", "/apps/oauth-applications#check-a-token")
		return
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body) != nil || body.AccessToken == "" {
		githubMessage(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"access_token\" wasn't supplied.", "/apps/oauth-applications#check-a-token")
		return
	}
	gr, ok := g.lookup(body.AccessToken)
	if !ok || gr.clientID != clientID {
		githubMessage(w, http.StatusNotFound, "Not Found", "/apps/oauth-applications#check-a-token")
		return
	}
	switch r.Method {
	case http.MethodDelete:
		g.mu.Lock()
		delete(g.tokens, body.AccessToken)
		g.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost, http.MethodPatch:
		var expires any
		if !gr.expires.IsZero() {
			expires = gr.expires.UTC().Format(time.RFC3339)
		}
		writeJSONAnswer(w, http.StatusOK, map[string]any{
			"id": 1, "token": body.AccessToken, "token_last_eight": body.AccessToken[max(0, len(body.AccessToken)-8):],
			"scopes": gr.scopes, "expires_at": expires, "note": nil, "fingerprint": nil,
			"app":  map[string]any{"client_id": gr.clientID, "name": "edgeauth test", "url": "https://app.example"},
			"user": githubProfile(gr.user),
		})
	default:
		githubMessage(w, http.StatusNotFound, "Not Found", "")
	}
}
