package presettest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// AppleAudience is the aud Apple requires in client secrets, whatever
// host the fake runs on.
const AppleAudience = "https://appleid.apple.com"

// AppleOptions configure the Sign in with Apple fake: one Services ID
// (ClientID) of one team, whose client secrets must be signed by the
// private half of ClientKey under KeyID, and one person who signs in.
type AppleOptions struct {
	ClientID, TeamID, KeyID string
	ClientKey               *ecdsa.PublicKey
	RedirectURIs            []string
	User                    AppleUser
	// Now is the clock for tokens and for checking client secrets;
	// time.Now when nil.
	Now func() time.Time
}

// AppleUser is the person who signs in.
type AppleUser struct {
	Subject, Email      string
	Private             bool // Email is a relay address (is_private_email)
	FirstName, LastName string
}

// Apple is an in-process Sign in with Apple: discovery, /auth/keys,
// /auth/authorize answering with an auto-submitting form POST
// (response_mode=form_post) carrying code, state and, on the first
// authorization only, the `user` JSON; /auth/token that checks the ES256
// client secret as Apple does and answers {"error":"invalid_client"}
// otherwise; /auth/revoke. ID tokens carry email_verified and
// is_private_email as strings, as Apple sends them.
type Apple struct {
	srv  *httptest.Server
	opts AppleOptions
	key  *rsa.PrivateKey

	mu      sync.Mutex
	codes   map[string]appleCode
	refresh map[string]bool
	named   bool     // the user JSON has been sent once
	cancel  bool     // the person presses Cancel
	secrets []string // client secrets presented, in order
	revoked []string
}

type appleCode struct {
	redirectURI, nonce, challenge string
}

const appleKID = "apple-fake-1"

// NewApple starts the fake; it closes when the test ends.
func NewApple(t testing.TB, o AppleOptions) *Apple {
	t.Helper()
	if o.Now == nil {
		o.Now = time.Now
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	a := &Apple{opts: o, key: key, codes: map[string]appleCode{}, refresh: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", a.discovery)
	mux.HandleFunc("GET /auth/keys", a.jwks)
	mux.HandleFunc("GET /auth/authorize", a.authorize)
	mux.HandleFunc("POST /auth/token", a.token)
	mux.HandleFunc("POST /auth/revoke", a.revoke)
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

// Issuer is the fake's issuer: its base URL.
func (a *Apple) Issuer() string { return a.srv.URL }

// Client reaches the fake.
func (a *Apple) Client() *http.Client { return a.srv.Client() }

// SetCancel makes the next authorizations end as when the person presses
// Cancel: error=user_cancelled_authorize with the state.
func (a *Apple) SetCancel(cancel bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cancel = cancel
}

// AddRedirectURI registers one more redirect URI, for a redirect URI
// known only once the fake runs (a server's callback URL).
func (a *Apple) AddRedirectURI(u string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opts.RedirectURIs = append(a.opts.RedirectURIs, u)
}

// ClientSecrets returns the client secrets presented so far, in order.
func (a *Apple) ClientSecrets() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.secrets)
}

// Revoked returns the tokens revoked so far.
func (a *Apple) Revoked() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.revoked)
}

// Authorize does what a browser does with the authorization URL without
// one: it loads the page and returns where its form posts and what.
func (a *Apple) Authorize(authURL string) (action string, form url.Values, err error) {
	res, err := a.Client().Get(authURL)
	if err != nil {
		return "", nil, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		return "", nil, fmt.Errorf("authorize: %d %s", res.StatusCode, body)
	}
	page := string(body)
	m := regexp.MustCompile(`<form method="POST" action="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		return "", nil, fmt.Errorf("authorize: no form in %s", page)
	}
	form = url.Values{}
	for _, f := range regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	return html.UnescapeString(m[1]), form, nil
}

// NewAppleKey makes a team key as Apple hands it out: the .p8 file's PEM
// (PKCS #8, EC P-256) and its public half for the fake.
func NewAppleKey(t testing.TB) (string, *ecdsa.PublicKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), &k.PublicKey
}

// The shape of https://appleid.apple.com/.well-known/openid-configuration.
func (a *Apple) discovery(w http.ResponseWriter, _ *http.Request) {
	iss := a.Issuer()
	appleJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/auth/authorize",
		"token_endpoint":                        iss + "/auth/token",
		"revocation_endpoint":                   iss + "/auth/revoke",
		"jwks_uri":                              iss + "/auth/keys",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "name"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post"},
		"claims_supported": []string{"aud", "email", "email_verified", "exp", "iat", "is_private_email",
			"iss", "nonce", "nonce_supported", "real_user_status", "sub", "transfer_sub"},
	})
}

func (a *Apple) jwks(w http.ResponseWriter, _ *http.Request) {
	k, err := jwk.FromRaw(a.key.Public())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_ = k.Set(jwk.KeyIDKey, appleKID)
	_ = k.Set(jwk.AlgorithmKey, jwa.RS256)
	_ = k.Set(jwk.KeyUsageKey, "sig")
	appleJSON(w, http.StatusOK, map[string]any{"keys": []jwk.Key{k}})
}

var applePage = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><title>Sign in with Apple (fake)</title></head>
<body onload="document.forms[0].submit()">
<form method="POST" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><button type="submit">Continue</button></noscript>
</form></body></html>
`))

type appleField struct{ Name, Value string }

func (a *Apple) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	switch {
	case q.Get("client_id") != a.opts.ClientID:
		http.Error(w, "invalid_client_id", http.StatusBadRequest)
		return
	case !a.registered(redirect):
		http.Error(w, "invalid_request: Invalid web redirect url.", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "unsupported_response_type", http.StatusBadRequest)
		return
	}
	scopes := strings.Fields(q.Get("scope"))
	personal := slices.Contains(scopes, "name") || slices.Contains(scopes, "email")
	if personal && q.Get("response_mode") != "form_post" {
		http.Error(w, "invalid_request: response_mode must be form_post when name or email scope is requested.", http.StatusBadRequest)
		return
	}
	fields := []appleField{}
	a.mu.Lock()
	if a.cancel {
		fields = append(fields, appleField{"error", "user_cancelled_authorize"})
	} else {
		code := "c" + appleRandom()
		a.codes[code] = appleCode{redirectURI: redirect, nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
		fields = append(fields, appleField{"code", code})
	}
	if st := q.Get("state"); st != "" {
		fields = append(fields, appleField{"state", st})
	}
	if !a.cancel && personal && !a.named {
		a.named = true
		u := a.opts.User
		user, _ := json.Marshal(map[string]any{
			"name":  map[string]string{"firstName": u.FirstName, "lastName": u.LastName},
			"email": u.Email,
		})
		fields = append(fields, appleField{"user", string(user)})
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = applePage.Execute(w, map[string]any{"Action": template.URL(redirect), "Fields": fields})
}

func (a *Apple) registered(redirect string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Contains(a.opts.RedirectURIs, redirect)
}

func (a *Apple) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		appleJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if err := a.checkClient(r.PostForm); err != nil {
		appleJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client"})
		return
	}
	now := a.opts.Now()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		a.mu.Lock()
		c, ok := a.codes[r.PostForm.Get("code")]
		delete(a.codes, r.PostForm.Get("code"))
		a.mu.Unlock()
		if !ok || c.redirectURI != r.PostForm.Get("redirect_uri") || !applePKCE(c.challenge, r.PostForm.Get("code_verifier")) {
			appleJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		access, refresh := "a"+appleRandom(), "r"+appleRandom()
		idToken, err := a.idToken(access, c.nonce, now)
		if err != nil {
			appleJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
			return
		}
		a.mu.Lock()
		a.refresh[refresh] = true
		a.mu.Unlock()
		appleJSON(w, http.StatusOK, map[string]any{
			"access_token": access, "token_type": "Bearer", "expires_in": 3600,
			"refresh_token": refresh, "id_token": idToken,
		})
	case "refresh_token":
		a.mu.Lock()
		ok := a.refresh[r.PostForm.Get("refresh_token")]
		a.mu.Unlock()
		if !ok {
			appleJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		// Apple's refresh answers a new access token and no ID token.
		appleJSON(w, http.StatusOK, map[string]any{"access_token": "a" + appleRandom(), "token_type": "Bearer", "expires_in": 3600})
	default:
		appleJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
	}
}

func (a *Apple) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		appleJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if err := a.checkClient(r.PostForm); err != nil {
		appleJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client"})
		return
	}
	a.mu.Lock()
	a.revoked = append(a.revoked, r.PostForm.Get("token"))
	delete(a.refresh, r.PostForm.Get("token"))
	a.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// checkClient verifies client_secret_post with Apple's client-secret JWT:
// ES256 by the team's key, kid, iss = team, sub = client_id = the Services
// ID, aud = https://appleid.apple.com, iat and exp present, unexpired, and
// at most six months apart.
func (a *Apple) checkClient(form url.Values) error {
	secret := form.Get("client_secret")
	a.mu.Lock()
	a.secrets = append(a.secrets, secret)
	a.mu.Unlock()
	if form.Get("client_id") != a.opts.ClientID {
		return errors.New("client_id")
	}
	msg, err := jws.Parse([]byte(secret))
	if err != nil || len(msg.Signatures()) != 1 {
		return errors.New("not a JWS")
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	if h.Algorithm() != jwa.ES256 || h.KeyID() != a.opts.KeyID {
		return errors.New("header")
	}
	tok, err := jwt.Parse([]byte(secret),
		jwt.WithKey(jwa.ES256, a.opts.ClientKey),
		jwt.WithClock(jwt.ClockFunc(a.opts.Now)),
		jwt.WithIssuer(a.opts.TeamID),
		jwt.WithSubject(a.opts.ClientID),
		jwt.WithAudience(AppleAudience),
		jwt.WithRequiredClaim("iat"),
		jwt.WithRequiredClaim("exp"),
	)
	if err != nil {
		return err
	}
	if len(tok.Audience()) != 1 || tok.Expiration().Sub(tok.IssuedAt()) > 15777000*time.Second {
		return errors.New("aud or lifetime")
	}
	return nil
}

func (a *Apple) idToken(access, nonce string, now time.Time) (string, error) {
	u := a.opts.User
	sum := sha256.Sum256([]byte(access))
	claims := map[string]any{
		"iss": a.Issuer(), "aud": a.opts.ClientID, "sub": u.Subject,
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "auth_time": now.Unix(),
		"at_hash":          base64.RawURLEncoding.EncodeToString(sum[:16]),
		"email":            u.Email,
		"email_verified":   "true",
		"is_private_email": fmt.Sprint(u.Private),
		"nonce_supported":  true,
		"real_user_status": 2,
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			return "", err
		}
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, appleKID)
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256, a.key, jws.WithProtectedHeaders(hdr)))
	return string(signed), err
}

func applePKCE(challenge, verifier string) bool {
	if challenge == "" {
		return true
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

func appleRandom() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func appleJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
