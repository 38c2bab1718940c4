package presettest

import (
	"crypto/rand"
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

// GitLabUser is the account that signs in at the GitLab fake.
type GitLabUser struct {
	ID            int64 // numeric; sub is its decimal string; default 1234567
	Username      string
	Name, Email   string
	EmailVerified bool
	Groups        []string
}

// GitLabOptions configure [NewGitLab].
type GitLabOptions struct {
	// BaseURL is the instance, the issuer: https://gitlab.com when "", or a
	// self-managed one such as https://gitlab.example.com (a path is kept:
	// https://example.com/gitlab).
	BaseURL                string
	ClientID, ClientSecret string
	RedirectURIs           []string
	User                   GitLabUser
	Now                    func() time.Time
}

// GitLab fakes GitLab as an OpenID Provider (Doorkeeper underneath), as
// documented at https://docs.gitlab.com/integration/openid_connect_provider/
// and https://docs.gitlab.com/api/oauth2/:
//
//   - discovery at {base}/.well-known/openid-configuration with
//     /oauth/authorize, /oauth/token, /oauth/userinfo, /oauth/revoke,
//     /oauth/introspect and /oauth/discovery/keys, and no
//     end_session_endpoint;
//   - sub the numeric user id as a string, sub_legacy beside it;
//     email_verified in the ID token and userinfo, groups in userinfo;
//   - token answers with expires_in 7200, created_at and a refresh token
//     every time, rotated on use; Doorkeeper's invalid_grant wording;
//   - introspection answers (RFC 7662) with client_id but no sub.
type GitLab struct {
	srv    *httptest.Server
	opts   GitLabOptions
	base   *url.URL
	signer *rsaSigner

	mu      sync.Mutex
	user    GitLabUser
	codes   map[string]*codeRequest
	access  map[string]gitlabGrant
	refresh map[string]gitlabGrant
}

type gitlabGrant struct {
	clientID, scope string
	user            GitLabUser
	issued, expires time.Time
}

// NewGitLab starts the fake; it is closed with the test.
func NewGitLab(tb testing.TB, opts GitLabOptions) *GitLab {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BaseURL == "" {
		opts.BaseURL = "https://gitlab.com"
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	base, err := url.Parse(opts.BaseURL)
	if err != nil || base.Host == "" {
		tb.Fatalf("presettest: GitLab BaseURL %q: %v", opts.BaseURL, err)
	}
	u := opts.User
	if u.ID == 0 {
		u = GitLabUser{ID: 1234567, Username: "ada", Name: "Ada Lovelace", Email: "ada@example.com", EmailVerified: true, Groups: []string{"analytical-engine"}}
	}
	g := &GitLab{opts: opts, base: base, signer: newRSASigner(tb), user: u, codes: map[string]*codeRequest{},
		access: map[string]gitlabGrant{}, refresh: map[string]gitlabGrant{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	tb.Cleanup(g.srv.Close)
	return g
}

// Client reaches the fake under the instance's host.
func (g *GitLab) Client() *http.Client { return hostClient(g.srv, g.base.Host) }

// Login follows authURL as the signed-in user and returns the redirect
// back to the app.
func (g *GitLab) Login(authURL string) (*url.URL, error) {
	return authorizeRedirect(g.Client(), authURL)
}

// Issuer is the instance's issuer, its base URL.
func (g *GitLab) Issuer() string { return g.opts.BaseURL }

// IssueAccessToken mints an access token of the current user for any
// client, e.g. another app's.
func (g *GitLab) IssueAccessToken(clientID string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.opts.Now()
	tok := "glpat-" + rand.Text()
	g.access[tok] = gitlabGrant{clientID: clientID, scope: "openid email profile", user: g.user, issued: now, expires: now.Add(2 * time.Hour)}
	return tok
}

func (g *GitLab) sub(u GitLabUser) string { return strconv.FormatInt(u.ID, 10) }

func (g *GitLab) idToken(aud, nonce, accessToken string, u GitLabUser, now time.Time) string {
	c := map[string]any{
		"iss": g.opts.BaseURL, "sub": g.sub(u), "aud": aud, "exp": now.Add(2 * time.Minute).Unix(), "iat": now.Unix(),
		"auth_time": now.Add(-time.Minute).Unix(), "sub_legacy": "2435223452345234523452345234523452345234523452345234523452345234",
		"name": u.Name, "nickname": u.Username, "preferred_username": u.Username,
		"email": u.Email, "email_verified": u.EmailVerified,
		"website": "", "profile": g.opts.BaseURL + "/" + u.Username,
		"picture": "https://secure.gravatar.com/avatar/0?s=80&d=identicon", "groups_direct": u.Groups,
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	if accessToken != "" {
		c["at_hash"] = atHash(accessToken)
	}
	return g.signer.sign(c)
}

func (g *GitLab) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, g.base.Path)
	if !ok || r.Host != g.base.Host {
		http.NotFound(w, r)
		return
	}
	b := g.opts.BaseURL
	switch path {
	case "/.well-known/openid-configuration":
		writeJSONAnswer(w, http.StatusOK, map[string]any{
			"issuer":                                b,
			"authorization_endpoint":                b + "/oauth/authorize",
			"token_endpoint":                        b + "/oauth/token",
			"revocation_endpoint":                   b + "/oauth/revoke",
			"introspection_endpoint":                b + "/oauth/introspect",
			"userinfo_endpoint":                     b + "/oauth/userinfo",
			"jwks_uri":                              b + "/oauth/discovery/keys",
			"scopes_supported":                      []string{"api", "read_api", "read_user", "read_repository", "write_repository", "sudo", "openid", "profile", "email"},
			"response_types_supported":              []string{"code"},
			"response_modes_supported":              []string{"query", "fragment", "form_post"},
			"grant_types_supported":                 []string{"authorization_code", "password", "client_credentials", "device_code", "refresh_token"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"claim_types_supported":                 []string{"normal"},
			"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "sub_legacy", "name", "nickname", "preferred_username", "email", "email_verified", "website", "profile", "picture", "groups", "groups_direct"},
			"code_challenge_methods_supported":      []string{"plain", "S256"},
		})
	case "/oauth/discovery/keys":
		writeJSONAnswer(w, http.StatusOK, map[string]any{"keys": []any{g.signer.jwk()}})
	case "/oauth/authorize":
		g.authorize(w, r)
	case "/oauth/token":
		g.token(w, r)
	case "/oauth/userinfo":
		g.userinfo(w, r)
	case "/oauth/revoke":
		g.revoke(w, r)
	case "/oauth/introspect":
		g.introspect(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (g *GitLab) authorize(w http.ResponseWriter, r *http.Request) {
	authorizeEndpoint{
		clientID: g.opts.ClientID, redirectURIs: g.opts.RedirectURIs, pagePrefix: "An error has occurred: ",
		newCode: func() string { return rand.Text() + rand.Text() }, codeTTL: 10 * time.Minute,
		now: g.opts.Now, mu: &g.mu, codes: g.codes,
	}.serve(w, r.URL.Query())
}

const gitlabInvalidGrant = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."

func (g *GitLab) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Missing required parameter."})
		return
	}
	id, secret := clientAuth(r)
	if id != g.opts.ClientID || !sameSecret(secret, g.opts.ClientSecret) {
		writeJSONAnswer(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client",
			"error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."})
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.opts.Now()
	var gr gitlabGrant
	nonce := ""
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c := redeemCode(g.codes, r.PostForm.Get("code"), now)
		if c == nil || c.redirectURI != r.PostForm.Get("redirect_uri") || !pkceOK(c.challenge, r.PostForm.Get("code_verifier")) {
			writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": gitlabInvalidGrant})
			return
		}
		gr, nonce = gitlabGrant{clientID: id, scope: c.scope, user: g.user}, c.nonce
	case "refresh_token":
		old, ok := g.refresh[r.PostForm.Get("refresh_token")]
		delete(g.refresh, r.PostForm.Get("refresh_token")) // rotated
		if !ok || old.clientID != id {
			writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": gitlabInvalidGrant})
			return
		}
		gr = old
	default:
		writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported by the authorization server."})
		return
	}
	gr.issued, gr.expires = now, now.Add(2*time.Hour)
	tok, rt := rand.Text()+rand.Text(), rand.Text()+rand.Text()
	g.access[tok], g.refresh[rt] = gr, gr
	ans := map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 7200, "refresh_token": rt,
		"scope": gr.scope, "created_at": now.Unix()}
	if slices.Contains(strings.Fields(gr.scope), "openid") {
		ans["id_token"] = g.idToken(id, nonce, tok, gr.user, now)
	}
	writeJSONAnswer(w, http.StatusOK, ans)
}

func (g *GitLab) lookup(tok string) (gitlabGrant, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gr, ok := g.access[tok]
	if !ok || !g.opts.Now().Before(gr.expires) {
		return gitlabGrant{}, false
	}
	return gr, true
}

func (g *GitLab) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	gr, ok := g.lookup(tok)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"`)
		writeJSONAnswer(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "The access token is invalid"})
		return
	}
	u := gr.user
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	writeJSONAnswer(w, http.StatusOK, map[string]any{
		"sub": g.sub(u), "sub_legacy": "2435223452345234523452345234523452345234523452345234523452345234",
		"name": u.Name, "nickname": u.Username, "preferred_username": u.Username,
		"email": u.Email, "email_verified": u.EmailVerified, "website": "",
		"profile": g.opts.BaseURL + "/" + u.Username, "picture": "https://secure.gravatar.com/avatar/0?s=80&d=identicon",
		"groups": groups,
	})
}

// authenticate reads the form of a POST to the revocation or
// introspection endpoint and the client it authenticates; false when it
// has answered the refusal itself.
func (g *GitLab) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return "", false
	}
	id, secret := clientAuth(r)
	if id != g.opts.ClientID || !sameSecret(secret, g.opts.ClientSecret) {
		writeJSONAnswer(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client authentication failed."})
		return "", false
	}
	return id, true
}

// revoke follows RFC 7009 as Doorkeeper does: 200 {} for any token, known
// or not, of an authenticated client.
func (g *GitLab) revoke(w http.ResponseWriter, r *http.Request) {
	id, ok := g.authenticate(w, r)
	if !ok {
		return
	}
	tok := r.PostForm.Get("token")
	g.mu.Lock()
	if gr, ok := g.access[tok]; ok && gr.clientID == id {
		delete(g.access, tok)
	}
	if gr, ok := g.refresh[tok]; ok && gr.clientID == id {
		delete(g.refresh, tok)
	}
	g.mu.Unlock()
	writeJSONAnswer(w, http.StatusOK, map[string]any{})
}

func (g *GitLab) introspect(w http.ResponseWriter, r *http.Request) {
	if _, ok := g.authenticate(w, r); !ok {
		return
	}
	gr, ok := g.lookup(r.PostForm.Get("token"))
	if !ok {
		writeJSONAnswer(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	writeJSONAnswer(w, http.StatusOK, map[string]any{"active": true, "scope": gr.scope, "client_id": gr.clientID,
		"token_type": "Bearer", "exp": gr.expires.Unix(), "iat": gr.issued.Unix()})
}
