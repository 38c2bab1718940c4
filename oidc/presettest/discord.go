package presettest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Discord fakes Discord's OAuth2 endpoints and user API as documented at
// https://discord.com/developers/docs/topics/oauth2 and
// https://discord.com/developers/docs/resources/user: the authorization
// response carries iss (its authorization-server metadata advertises
// authorization_response_iss_parameter_supported), PKCE S256 is checked
// when a challenge was sent, refresh tokens rotate, and /users/@me answers
// a user object whose id is a snowflake in a string.
//
//	d := presettest.NewDiscord(t, "app-id", "app-secret")
//	cfg.HTTPClient = d.Client() // discord.com now reaches the fake
//	d.SetProfile(`{"id":"80351110224678912","username":"nelly","verified":true,"email":"n@example.com"}`)
type Discord struct {
	srv    *httptest.Server
	grants *codeGrants
	// profile is the raw /users/@me answer the next login is about.
	profile string
}

// DiscordIssuer is what Discord sends as iss (RFC 9207) in its
// authorization responses.
const DiscordIssuer = "https://discord.com"

// NewDiscord starts the fake for one application; it is closed when the
// test ends. The profile starts as a verified user with an avatar.
func NewDiscord(t testing.TB, clientID, clientSecret string) *Discord {
	t.Helper()
	d := &Discord{
		grants:  newCodeGrants(clientID, clientSecret),
		profile: `{"id":"80351110224678912","username":"nelly","discriminator":"0","global_name":"Nelly","avatar":"8342729096ea3675442027381ff50dfe","verified":true,"email":"nelly@example.com","flags":64,"mfa_enabled":false,"locale":"en-US","premium_type":0,"public_flags":64}`,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth2/authorize", d.authorize)
	mux.HandleFunc("GET /api/oauth2/authorize", d.authorize)
	mux.HandleFunc("POST /api/oauth2/token", d.token)
	mux.HandleFunc("POST /api/v10/oauth2/token", d.token)
	mux.HandleFunc("POST /api/oauth2/token/revoke", d.revoke)
	mux.HandleFunc("POST /api/v10/oauth2/token/revoke", d.revoke)
	mux.HandleFunc("GET /api/v10/users/@me", d.me)
	mux.HandleFunc("GET /api/users/@me", d.me)
	mux.HandleFunc("GET /api/v10/oauth2/@me", d.authorization)
	mux.HandleFunc("GET /api/oauth2/@me", d.authorization)
	d.srv = httptest.NewServer(mux)
	t.Cleanup(d.srv.Close)
	return d
}

// URL is the fake's own address.
func (d *Discord) URL() string { return d.srv.URL }

// Client returns a client whose requests to discord.com and
// cdn.discordapp.com reach the fake, so the preset's real URLs are used
// unchanged. It follows no redirects.
func (d *Discord) Client() *http.Client {
	return routeClient(d.srv, "discord.com", "discordapp.com", "cdn.discordapp.com")
}

// SetProfile sets the raw JSON /users/@me answers from now on (and for
// tokens already issued): exact bytes, so a test controls how ids are
// written.
func (d *Discord) SetProfile(raw string) {
	d.grants.mu.Lock()
	defer d.grants.mu.Unlock()
	d.profile = raw
}

// Authorize plays the user consenting at authURL (what AuthCodeURL
// returned) and returns the redirect Discord sends the browser to:
// redirect_uri with code, state and iss.
func (d *Discord) Authorize(authURL string) (*url.URL, error) {
	return authorizeRedirect(d.Client(), authURL)
}

// TokenForApp issues an access token as if the current profile had
// authorized the application appID (ours or another app's): for
// convert-token tests.
func (d *Discord) TokenForApp(appID string) string {
	return d.grants.issue(grant{clientID: appID, scope: "identify email"}, time.Hour).access
}

// Revoked reports whether token was revoked at the fake.
func (d *Discord) Revoked(token string) bool { return d.grants.isRevoked(token) }

func (d *Discord) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != d.grants.clientID || q.Get("response_type") != "code" || q.Get("redirect_uri") == "" {
		http.Error(w, "Invalid OAuth2 redirect_uri or client_id", http.StatusBadRequest)
		return
	}
	if m := q.Get("code_challenge_method"); q.Get("code_challenge") != "" && m != "S256" {
		http.Error(w, "Invalid code_challenge_method", http.StatusBadRequest)
		return
	}
	code := d.grants.newCode(grant{clientID: d.grants.clientID, redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), scope: q.Get("scope")})
	redirectWith(w, r, q.Get("redirect_uri"), url.Values{"code": {code}, "state": {q.Get("state")}, "iss": {DiscordIssuer}})
}

// token serves the code and refresh grants; Discord accepts the client
// credentials as Basic or in the body (token_endpoint_auth_methods
// client_secret_basic, client_secret_post) and answers errors in RFC 6749
// §5.2 form.
func (d *Discord) token(w http.ResponseWriter, r *http.Request) {
	if !d.grants.clientAuth(r, true) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g, ok := d.grants.redeem(r.PostForm)
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_grant", `Invalid "code" in request.`)
			return
		}
		d.writeTokens(w, d.grants.issue(g, 7*24*time.Hour))
	case "refresh_token":
		g, ok := d.grants.rotate(r.PostForm.Get("refresh_token"))
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
			return
		}
		d.writeTokens(w, d.grants.issue(g, 7*24*time.Hour))
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
	}
}

func (d *Discord) writeTokens(w http.ResponseWriter, t issued) {
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": t.access, "token_type": "Bearer", "expires_in": 604800,
		"refresh_token": t.refresh, "scope": t.scope,
	})
}

func (d *Discord) revoke(w http.ResponseWriter, r *http.Request) {
	if !d.grants.clientAuth(r, true) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "")
		return
	}
	d.grants.revoke(r.PostForm.Get("token"))
	writeJSON(w, http.StatusOK, map[string]any{})
}

// unauthorized is Discord's answer to a missing or bad token.
func (d *Discord) unauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401: Unauthorized", "code": 0})
}

func (d *Discord) me(w http.ResponseWriter, r *http.Request) {
	if _, ok := d.grants.bearer(r); !ok {
		d.unauthorized(w)
		return
	}
	d.grants.mu.Lock()
	raw := d.profile
	d.grants.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(raw))
}

// authorization is GET /oauth2/@me: the application the token belongs
// to, the scopes, the expiry and (with identify) the user.
func (d *Discord) authorization(w http.ResponseWriter, r *http.Request) {
	g, ok := d.grants.bearer(r)
	if !ok {
		d.unauthorized(w)
		return
	}
	d.grants.mu.Lock()
	raw := d.profile
	d.grants.mu.Unlock()
	var user map[string]json.RawMessage
	_ = json.Unmarshal([]byte(raw), &user)
	partial := map[string]json.RawMessage{}
	for _, k := range []string{"id", "username", "avatar", "discriminator", "global_name", "public_flags"} {
		if v, ok := user[k]; ok {
			partial[k] = v
		}
	}
	ans := map[string]any{
		"application": map[string]any{"id": g.clientID, "name": "App " + g.clientID, "icon": nil, "description": "", "bot_public": true, "bot_require_code_grant": false},
		"scopes":      strings.Fields(g.scope),
		"expires":     g.expires.UTC().Format("2006-01-02T15:04:05.000000+00:00"),
	}
	if strings.Contains(" "+g.scope+" ", " identify ") {
		ans["user"] = partial
	}
	writeJSON(w, http.StatusOK, ans)
}

// ---- pieces shared by the OAuth 2.0 fakes of this package (discord.go,
// facebook.go, twitter.go) ----

// grant is what one authorization (and the tokens issued for it) is
// about.
type grant struct {
	clientID, redirectURI, challenge, scope string
	expires                                 time.Time
}

type issued struct{ access, refresh, scope string }

// codeGrants keeps codes and tokens of one fake; codes are single-use and
// refresh tokens rotate.
type codeGrants struct {
	clientID, secret string

	mu      sync.Mutex
	n       int
	codes   map[string]grant
	access  map[string]grant
	refresh map[string]grant
	revoked map[string]bool
}

func newCodeGrants(clientID, secret string) *codeGrants {
	return &codeGrants{clientID: clientID, secret: secret, codes: map[string]grant{},
		access: map[string]grant{}, refresh: map[string]grant{}, revoked: map[string]bool{}}
}

func (c *codeGrants) next(prefix string) string {
	c.n++
	return fmt.Sprintf("%s-%d", prefix, c.n)
}

func (c *codeGrants) newCode(g grant) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	code := c.next("code")
	c.codes[code] = g
	return code
}

// redeem checks a code grant's form: the code once, the redirect_uri of
// the authorization request, and the PKCE verifier (RFC 7636 §4.6) when a
// challenge was sent.
func (c *codeGrants) redeem(form url.Values) (grant, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.codes[form.Get("code")]
	delete(c.codes, form.Get("code"))
	if !ok || form.Get("redirect_uri") != g.redirectURI {
		return grant{}, false
	}
	if g.challenge != "" && !pkceMatches(g.challenge, form.Get("code_verifier")) {
		return grant{}, false
	}
	return g, true
}

func pkceMatches(challenge, verifier string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return verifier != "" && base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

func (c *codeGrants) issue(g grant, ttl time.Duration) issued {
	c.mu.Lock()
	defer c.mu.Unlock()
	g.expires = time.Now().Add(ttl)
	t := issued{access: c.next("at"), refresh: c.next("rt"), scope: g.scope}
	c.access[t.access] = g
	c.refresh[t.refresh] = g
	return t
}

// rotate spends a refresh token: it works once.
func (c *codeGrants) rotate(rt string) (grant, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.refresh[rt]
	delete(c.refresh, rt)
	return g, ok && !c.revoked[rt]
}

func (c *codeGrants) revoke(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.revoked[token] = true
}

func (c *codeGrants) isRevoked(token string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.revoked[token]
}

// lookup returns the live grant of an access token.
func (c *codeGrants) lookup(token string) (grant, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.access[token]
	if !ok || c.revoked[token] || !g.expires.IsZero() && time.Now().After(g.expires) {
		return grant{}, false
	}
	return g, true
}

// bearer reads an RFC 6750 §2.1 Authorization header.
func (c *codeGrants) bearer(r *http.Request) (grant, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return grant{}, false
	}
	return c.lookup(tok)
}

// clientAuth parses the form and checks client_secret_basic (id and
// secret form-encoded first, RFC 6749 §2.3.1), or client_secret_post when
// allowed.
func (c *codeGrants) clientAuth(r *http.Request, allowPost bool) bool {
	if r.ParseForm() != nil {
		return false
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else if allowPost {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id == c.clientID && subtle.ConstantTimeCompare([]byte(secret), []byte(c.secret)) == 1
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	writeBody(w, v)
}

func writeBody(w http.ResponseWriter, v any) { _ = json.NewEncoder(w).Encode(v) }

// oauthError writes an RFC 6749 §5.2 error answer.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	body := map[string]string{"error": code}
	if desc != "" {
		body["error_description"] = desc
	}
	writeJSON(w, status, body)
}

func redirectWith(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// routeClient returns a client that sends requests for hosts to srv
// (plain http, same path and query) and follows no redirects.
func routeClient(srv *httptest.Server, hosts ...string) *http.Client {
	target, _ := url.Parse(srv.URL)
	base := srv.Client().Transport
	return &http.Client{
		Transport: routeTransport{target: target, hosts: hosts, base: base},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

type routeTransport struct {
	target *url.URL
	hosts  []string
	base   http.RoundTripper
}

func (rt routeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	known := req.URL.Host == rt.target.Host
	for _, h := range rt.hosts {
		known = known || host == h
	}
	if !known {
		return nil, fmt.Errorf("presettest: no fake for host %s", req.URL.Host)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme = rt.target.Scheme
	r.URL.Host = rt.target.Host
	r.Host = rt.target.Host
	return rt.base.RoundTrip(r)
}
