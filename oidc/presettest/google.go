package presettest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
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

// This file holds the Google fake and the pieces the other OpenID fakes of
// this file set (Microsoft, GitLab) share with it: an RS256 signer with
// its JWKS, a client that routes a provider's real host names to the
// test server, and the authorization-code bookkeeping.

// rsaSigner signs ID tokens with RS256, as Google, Microsoft and GitLab do.
type rsaSigner struct {
	key *rsa.PrivateKey
	kid string
}

func newRSASigner(tb testing.TB) *rsaSigner {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("presettest: RSA key: %v", err)
	}
	return &rsaSigner{key: k, kid: rand.Text()[:16]}
}

func (s *rsaSigner) sign(claims map[string]any) string {
	enc := base64.RawURLEncoding
	hb, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": s.kid, "typ": "JWT"})
	cb, err := json.Marshal(claims)
	if err != nil {
		return "presettest-unsignable." + err.Error() // fails verification, never a panic
	}
	input := enc.EncodeToString(hb) + "." + enc.EncodeToString(cb)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "presettest-unsignable." + err.Error()
	}
	return input + "." + enc.EncodeToString(sig)
}

// jwk is the public key as a JWK; extra members (Microsoft's issuer) are
// added by the caller.
func (s *rsaSigner) jwk() map[string]any {
	enc := base64.RawURLEncoding
	return map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": s.kid,
		"n": enc.EncodeToString(s.key.N.Bytes()),
		"e": enc.EncodeToString(big.NewInt(int64(s.key.E)).Bytes()),
	}
}

// atHash is OpenID Connect Core §3.1.3.6's at_hash for RS256.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// hostRouter sends requests for the provider's real host names to the
// test server and refuses every other host, so nothing leaves the process.
type hostRouter struct {
	target *url.URL
	hosts  []string
	next   http.RoundTripper
}

func (h hostRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	if !slices.Contains(h.hosts, req.URL.Host) {
		return nil, fmt.Errorf("presettest: no route to %s", req.URL.Host)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host = h.target.Scheme, h.target.Host
	r.Host = req.URL.Host // the handler routes by the original host
	return h.next.RoundTrip(r)
}

// hostClient is a client that reaches srv under hosts.
func hostClient(srv *httptest.Server, hosts ...string) *http.Client {
	u, _ := url.Parse(srv.URL)
	return &http.Client{
		Transport:     hostRouter{target: u, hosts: hosts, next: srv.Client().Transport},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// authorizeRedirect GETs an authorization URL the way a browser would and
// returns where the provider sends it back (the redirect_uri with code or
// error), without following it.
func authorizeRedirect(c *http.Client, authURL string) (*url.URL, error) {
	resp, err := c.Get(authURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("presettest: authorize answered %d, not a redirect", resp.StatusCode)
	}
	return url.Parse(resp.Header.Get("Location"))
}

// codeRequest is what an authorization request left for its code.
type codeRequest struct {
	clientID, redirectURI, challenge, nonce, scope string
	params                                         url.Values // the whole request, for provider quirks
	expires                                        time.Time
}

// authorizeParams checks the parts of an authorization request every
// fake shares (client, exact redirect URI, response_type, S256 PKCE) and
// returns the redirect URI to answer on; "" with an error message means
// the request is answered on the provider's own page (RFC 6749 §4.1.2.1).
func authorizeParams(q url.Values, clientID string, redirectURIs []string) (redirect string, oauthErr string, pageErr string) {
	if q.Get("client_id") != clientID {
		return "", "", "unknown client_id"
	}
	redirect = q.Get("redirect_uri")
	if !slices.Contains(redirectURIs, redirect) {
		return "", "", "redirect_uri not registered"
	}
	if q.Get("response_type") != "code" {
		return redirect, "unsupported_response_type", ""
	}
	if c := q.Get("code_challenge"); c != "" && q.Get("code_challenge_method") != "S256" {
		return redirect, "invalid_request", ""
	}
	return redirect, "", ""
}

// pkceOK applies RFC 7636 §4.6 (S256); no challenge accepts no verifier.
func pkceOK(challenge, verifier string) bool {
	if challenge == "" {
		return verifier == ""
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// clientAuth reads client_secret_basic or client_secret_post.
func clientAuth(r *http.Request) (id, secret string) {
	if u, p, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
		return id, secret
	}
	return r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
}

func sameSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func writeJSONAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func redirectTo(w http.ResponseWriter, redirectURI string, params url.Values) {
	u, _ := url.Parse(redirectURI)
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

// GoogleUser is the account that signs in at the Google fake.
type GoogleUser struct {
	Sub           string // numeric, as Google's are; default "110169484474386276334"
	Email         string
	EmailVerified bool
	Name, Picture string
	HD            string // the Workspace domain; "" for a consumer account
}

// GoogleOptions configure [NewGoogle].
type GoogleOptions struct {
	ClientID, ClientSecret string
	RedirectURIs           []string
	User                   GoogleUser
	// Now is the clock of issued tokens; time.Now when nil.
	Now func() time.Time
}

// Google fakes accounts.google.com, oauth2.googleapis.com (token,
// tokeninfo, revoke), openidconnect.googleapis.com (userinfo) and
// www.googleapis.com (certs), as documented at
// https://developers.google.com/identity/openid-connect/openid-connect and
// https://developers.google.com/identity/protocols/oauth2/web-server:
//
//   - a refresh token only with access_type=offline, and after the user's
//     first consent only with prompt=consent;
//   - token answers in JSON with numbers; tokeninfo with every number and
//     boolean as a string ("expires_in": "3599", "email_verified": "true");
//   - errors {"error": "invalid_grant", "error_description": "Bad Request"}
//     (400) and invalid_client (401);
//   - no end_session_endpoint, a revocation_endpoint that needs no client
//     authentication.
type Google struct {
	srv    *httptest.Server
	opts   GoogleOptions
	signer *rsaSigner

	mu        sync.Mutex
	user      GoogleUser
	codes     map[string]*codeRequest
	access    map[string]googleGrant
	refresh   map[string]googleGrant
	consented map[string]bool // sub → has consented once
	tokeninfo func(map[string]any)
	idEdit    func(map[string]any)
}

type googleGrant struct {
	clientID, scope string
	user            GoogleUser
	expires         time.Time
	offline         bool
}

// NewGoogle starts the fake; it is closed with the test.
func NewGoogle(tb testing.TB, opts GoogleOptions) *Google {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	u := opts.User
	if u.Sub == "" {
		u.Sub = "110169484474386276334"
	}
	if u.Email == "" {
		u.Email, u.EmailVerified = "ada@example.com", true
	}
	if u.Name == "" {
		u.Name = "Ada Lovelace"
	}
	g := &Google{
		opts: opts, signer: newRSASigner(tb), user: u,
		codes: map[string]*codeRequest{}, access: map[string]googleGrant{}, refresh: map[string]googleGrant{},
		consented: map[string]bool{},
	}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	tb.Cleanup(g.srv.Close)
	return g
}

// Client reaches the fake under Google's host names; give it to the
// provider as Config.HTTPClient.
func (g *Google) Client() *http.Client {
	return hostClient(g.srv, "accounts.google.com", "oauth2.googleapis.com", "openidconnect.googleapis.com", "www.googleapis.com")
}

// Login follows authURL as the signed-in user and returns the redirect
// back to the app (code and state, or error).
func (g *Google) Login(authURL string) (*url.URL, error) {
	return authorizeRedirect(g.Client(), authURL)
}

// SetUser changes the account that signs in next.
func (g *Google) SetUser(u GoogleUser) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.user = u
}

// EditTokeninfo lets a test change tokeninfo answers (nil: as Google).
func (g *Google) EditTokeninfo(f func(map[string]any)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokeninfo = f
}

// EditIDToken lets a test change the claims of later ID tokens (nil: as
// Google sends them).
func (g *Google) EditIDToken(f func(map[string]any)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.idEdit = f
}

// IssueAccessToken mints an access token of the current user for any
// client, e.g. another app's, as that app's own sign-in would.
func (g *Google) IssueAccessToken(clientID string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	tok := "ya29." + rand.Text()
	g.access[tok] = googleGrant{clientID: clientID, scope: "openid email profile", user: g.user, expires: g.opts.Now().Add(time.Hour)}
	return tok
}

// IDToken mints an ID token of the current user for any client.
func (g *Google) IDToken(clientID, nonce string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.idToken(clientID, nonce, "", g.user)
}

func (g *Google) idToken(aud, nonce, accessToken string, u GoogleUser) string {
	now := g.opts.Now()
	c := map[string]any{
		"iss": "https://accounts.google.com", "azp": aud, "aud": aud, "sub": u.Sub,
		"email": u.Email, "email_verified": u.EmailVerified, "name": u.Name,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if u.Picture != "" {
		c["picture"] = u.Picture
	}
	if u.HD != "" {
		c["hd"] = u.HD
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	if accessToken != "" {
		c["at_hash"] = atHash(accessToken)
	}
	if g.idEdit != nil {
		g.idEdit(c)
	}
	return g.signer.sign(c)
}

func (g *Google) serve(w http.ResponseWriter, r *http.Request) {
	switch r.Host + r.URL.Path {
	case "accounts.google.com/.well-known/openid-configuration":
		writeJSONAnswer(w, http.StatusOK, map[string]any{
			"issuer":                                "https://accounts.google.com",
			"authorization_endpoint":                "https://accounts.google.com/o/oauth2/v2/auth",
			"device_authorization_endpoint":         "https://oauth2.googleapis.com/device/code",
			"token_endpoint":                        "https://oauth2.googleapis.com/token",
			"userinfo_endpoint":                     "https://openidconnect.googleapis.com/v1/userinfo",
			"revocation_endpoint":                   "https://oauth2.googleapis.com/revoke",
			"jwks_uri":                              "https://www.googleapis.com/oauth2/v3/certs",
			"response_types_supported":              []string{"code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid", "email", "profile"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
			"claims_supported":                      []string{"aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"},
			"code_challenge_methods_supported":      []string{"plain", "S256"},
			"grant_types_supported":                 []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
		})
	case "www.googleapis.com/oauth2/v3/certs":
		writeJSONAnswer(w, http.StatusOK, map[string]any{"keys": []any{g.signer.jwk()}})
	case "accounts.google.com/o/oauth2/v2/auth":
		g.authorize(w, r)
	case "oauth2.googleapis.com/token":
		g.token(w, r)
	case "oauth2.googleapis.com/tokeninfo":
		g.serveTokeninfo(w, r)
	case "oauth2.googleapis.com/revoke":
		g.revoke(w, r)
	case "openidconnect.googleapis.com/v1/userinfo":
		g.userinfo(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (g *Google) authorize(w http.ResponseWriter, r *http.Request) {
	authorizeEndpoint{
		clientID: g.opts.ClientID, redirectURIs: g.opts.RedirectURIs, pagePrefix: "Error 400: ",
		newCode: func() string { return "4/0A" + rand.Text() }, codeTTL: time.Minute,
		extra: func(q url.Values) url.Values {
			return url.Values{"scope": {q.Get("scope")}, "authuser": {"0"}, "prompt": {"consent"}}
		},
		now: g.opts.Now, mu: &g.mu, codes: g.codes,
	}.serve(w, r.URL.Query())
}

func (g *Google) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Bad Request"})
		return
	}
	id, secret := clientAuth(r)
	if id != g.opts.ClientID || !sameSecret(secret, g.opts.ClientSecret) {
		writeJSONAnswer(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Unauthorized"})
		return
	}
	badGrant := func(desc string) {
		writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": desc})
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.opts.Now()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c := redeemCode(g.codes, r.PostForm.Get("code"), now)
		if c == nil || c.redirectURI != r.PostForm.Get("redirect_uri") || !pkceOK(c.challenge, r.PostForm.Get("code_verifier")) {
			badGrant("Bad Request")
			return
		}
		u := g.user
		ans := g.grant(googleGrant{clientID: id, scope: c.scope, user: u, expires: now.Add(3599 * time.Second)}, c.nonce)
		// A refresh token only for offline access, and once consent was
		// given only when prompt=consent asked for it again.
		offline := c.params.Get("access_type") == "offline"
		prompted := slices.Contains(strings.Fields(c.params.Get("prompt")), "consent")
		if offline && (!g.consented[u.Sub] || prompted) {
			rt := "1//0g" + rand.Text()
			g.refresh[rt] = googleGrant{clientID: id, scope: c.scope, user: u, offline: true}
			ans["refresh_token"] = rt
		}
		g.consented[u.Sub] = true
		writeJSONAnswer(w, http.StatusOK, ans)
	case "refresh_token":
		gr, ok := g.refresh[r.PostForm.Get("refresh_token")]
		if !ok || gr.clientID != id {
			badGrant("Token has been expired or revoked.")
			return
		}
		gr.expires = now.Add(3599 * time.Second)
		writeJSONAnswer(w, http.StatusOK, g.grant(gr, ""))
	default:
		writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "Invalid grant_type: " + r.PostForm.Get("grant_type")})
	}
}

// grant stores an access token and builds the token answer (with mu held).
func (g *Google) grant(gr googleGrant, nonce string) map[string]any {
	tok := "ya29." + rand.Text()
	g.access[tok] = gr
	ans := map[string]any{"access_token": tok, "expires_in": 3599, "scope": gr.scope, "token_type": "Bearer"}
	if slices.Contains(strings.Fields(gr.scope), "openid") {
		ans["id_token"] = g.idToken(gr.clientID, nonce, tok, gr.user)
	}
	return ans
}

func (g *Google) lookup(tok string) (googleGrant, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gr, ok := g.access[tok]
	if !ok || !g.opts.Now().Before(gr.expires) {
		return googleGrant{}, false
	}
	return gr, true
}

func (g *Google) serveTokeninfo(w http.ResponseWriter, r *http.Request) {
	gr, ok := g.lookup(r.URL.Query().Get("access_token"))
	if !ok {
		writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": "invalid_token", "error_description": "Invalid Value"})
		return
	}
	left := int64(gr.expires.Sub(g.opts.Now()).Seconds())
	ans := map[string]any{
		"azp": gr.clientID, "aud": gr.clientID, "sub": gr.user.Sub, "scope": gr.scope,
		"exp": strconv.FormatInt(gr.expires.Unix(), 10), "expires_in": strconv.FormatInt(left, 10),
		"email": gr.user.Email, "email_verified": strconv.FormatBool(gr.user.EmailVerified), "access_type": "online",
	}
	g.mu.Lock()
	edit := g.tokeninfo
	g.mu.Unlock()
	if edit != nil {
		edit(ans)
	}
	writeJSONAnswer(w, http.StatusOK, ans)
}

func (g *Google) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	gr, ok := g.lookup(tok)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeJSONAnswer(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "Invalid Credentials"})
		return
	}
	u := gr.user
	ans := map[string]any{"sub": u.Sub, "name": u.Name, "email": u.Email, "email_verified": u.EmailVerified}
	if u.Picture != "" {
		ans["picture"] = u.Picture
	}
	if u.HD != "" {
		ans["hd"] = u.HD
	}
	writeJSONAnswer(w, http.StatusOK, ans)
}

func (g *Google) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	tok := r.PostForm.Get("token")
	g.mu.Lock()
	defer g.mu.Unlock()
	if gr, ok := g.refresh[tok]; ok {
		// Revoking a refresh token ends its grant: drop its access tokens.
		delete(g.refresh, tok)
		for a, ag := range g.access {
			if ag.clientID == gr.clientID && ag.user.Sub == gr.user.Sub {
				delete(g.access, a)
			}
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	if _, ok := g.access[tok]; ok {
		delete(g.access, tok)
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSONAnswer(w, http.StatusBadRequest, map[string]string{"error": "invalid_token", "error_description": "Token expired or revoked"})
}
