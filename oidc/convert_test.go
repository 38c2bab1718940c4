package oidc

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const iosClient = "ios-app"

func wantConvertError(t *testing.T, err error, code ErrorCode, check string) *Error {
	t.Helper()
	e := wantError(t, err, code, check)
	want := FaultClient
	if code == CodeUnavailable {
		want = FaultProvider
	}
	if e.Fault != want {
		t.Fatalf("%s/%s: fault %v, want %v", code, check, e.Fault, want)
	}
	return e
}

func TestConvertIDToken(t *testing.T) {
	clk := newClock()
	op := newKeyOP(t, pubJWK(t, "rsa1", "k1", "RS256"))
	p := op.provider(t, clk, func(c *Config) { c.ConvertAudiences = []string{iosClient} })
	hex256 := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }
	token := func(edit func(h, c map[string]any)) string {
		h := map[string]any{"alg": "RS256", "kid": "k1"}
		c := op.claims(clk)
		delete(c, "nonce")
		if edit != nil {
			edit(h, c)
		}
		return signToken(t, h, c, "RS256", testKey("rsa1"))
	}
	for _, tc := range []struct {
		name        string
		edit        func(h, c map[string]any)
		typ, nonce  string
		code        ErrorCode
		check       string
		maxAge      time.Duration
		wantDetail  string
		wantSubject string
	}{
		{name: "ours, detected", wantSubject: "user-1"},
		{name: "ours, typ JWT, declared", edit: func(h, c map[string]any) { h["typ"] = "JWT" }, typ: TokenTypeIDToken, wantSubject: "user-1"},
		{name: "native client audience", edit: func(h, c map[string]any) { c["aud"] = iosClient }},
		{name: "native client as azp", edit: func(h, c map[string]any) { c["aud"] = []any{testClientID, iosClient}; c["azp"] = iosClient }},
		{name: "substitution: another client's token", edit: func(h, c map[string]any) { c["aud"] = "other-app" }, code: CodeInvalidToken, check: "aud"},
		{name: "substitution: another azp", edit: func(h, c map[string]any) { c["aud"] = []any{testClientID, "other-app"}; c["azp"] = "other-app" }, code: CodeInvalidToken, check: "azp"},
		{name: "too old", edit: func(h, c map[string]any) { c["iat"] = clk.Now().Add(-15 * time.Minute).Unix() }, code: CodeInvalidToken, check: "iat"},
		{name: "old within a longer max age", edit: func(h, c map[string]any) { c["iat"] = clk.Now().Add(-15 * time.Minute).Unix() }, maxAge: time.Hour},
		{name: "expired", edit: func(h, c map[string]any) { c["exp"] = clk.Now().Add(-time.Hour).Unix() }, code: CodeInvalidToken, check: "exp"},
		{name: "nonce equal", edit: func(h, c map[string]any) { c["nonce"] = "n-1" }, nonce: "n-1"},
		{name: "nonce as SHA-256 hex", edit: func(h, c map[string]any) { c["nonce"] = hex256("n-1") }, nonce: "n-1"},
		{name: "nonce other", edit: func(h, c map[string]any) { c["nonce"] = "n-2" }, nonce: "n-1", code: CodeInvalidToken, check: "nonce"},
		{name: "nonce missing in token", nonce: "n-1", code: CodeInvalidToken, check: "nonce"},
		{name: "nonce in token, none asked", edit: func(h, c map[string]any) { c["nonce"] = "n-1" }},
		{name: "bad signature", edit: func(h, c map[string]any) { h["kid"] = "k1"; c["sub"] = "x" }, code: CodeInvalidToken, check: "signature"},
		{name: "access token JWT declared as ID token", edit: func(h, c map[string]any) { h["typ"] = "at+jwt" }, typ: TokenTypeIDToken, code: CodeInvalidToken, check: "typ"},
		{name: "access token JWT detected as access token", edit: func(h, c map[string]any) { h["typ"] = "at+jwt" }, code: CodeInvalidToken, check: "access_token", wantDetail: "INTROSPECTION_URL"},
		{name: "other issuer is no ID token of ours", edit: func(h, c map[string]any) { c["iss"] = "https://evil.example" }, code: CodeInvalidToken, check: "access_token"},
		{name: "unknown token type", typ: "saml", code: CodeInvalidToken, check: "token_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p
			if tc.maxAge != 0 {
				p = op.provider(t, clk, func(c *Config) { c.ConvertMaxAge = tc.maxAge })
			}
			raw := token(tc.edit)
			if tc.name == "bad signature" {
				raw = raw[:strings.LastIndexByte(raw, '.')] + "." + b64([]byte(strings.Repeat("x", 256)))
			}
			id, err := p.Convert(t.Context(), ConvertRequest{Token: raw, TokenType: tc.typ, Nonce: tc.nonce})
			if tc.code != "" {
				e := wantConvertError(t, err, tc.code, tc.check)
				if !strings.Contains(e.Detail, tc.wantDetail) || strings.Contains(e.Detail, raw) {
					t.Fatalf("detail %q", e.Detail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "user-1" || id.Email != "ada@example.com" || id.Issuer != op.url || id.Claims == nil || id.Userinfo != nil {
				t.Fatalf("identity %+v", id)
			}
		})
	}
	_, err := p.Convert(t.Context(), ConvertRequest{})
	wantConvertError(t, err, CodeInvalidToken, "token")

	// HostedDomains applies to converted ID tokens too.
	g := op.provider(t, clk, func(c *Config) { c.Preset = "google"; c.HostedDomains = []string{"example.com"} })
	_, err = g.Convert(t.Context(), ConvertRequest{Token: token(nil)})
	wantConvertError(t, err, CodeDomainNotAllowed, "hd")
	if _, err := g.Convert(t.Context(), ConvertRequest{Token: token(func(h, c map[string]any) { c["hd"] = "example.com" })}); err != nil {
		t.Fatal(err)
	}
}

// fakeIntrospection answers RFC 7662 requests from a table and serves
// userinfo, checking the client authentication it is sent.
type fakeIntrospection struct {
	t       *testing.T
	answers map[string]map[string]any // token → introspection answer
	users   map[string]map[string]any // token → userinfo answer
	status  int
	forms   []url.Values
}

func (f *fakeIntrospection) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/introspect":
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", 400)
			return
		}
		f.forms = append(f.forms, r.PostForm)
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if id != testClientID || secret != url.QueryEscape(testSecret) && secret != testSecret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if f.status != 0 {
			w.WriteHeader(f.status)
			return
		}
		ans, ok := f.answers[r.PostForm.Get("token")]
		if !ok {
			ans = map[string]any{"active": false}
		}
		_ = json.NewEncoder(w).Encode(ans)
	case "/userinfo":
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		u, ok := f.users[tok]
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(u)
	default:
		http.NotFound(w, r)
	}
}

func TestConvertIntrospection(t *testing.T) {
	clk := newClock()
	exp := clk.Now().Add(time.Hour).Unix()
	fake := &fakeIntrospection{t: t,
		answers: map[string]map[string]any{
			"good":     {"active": true, "client_id": testClientID, "sub": "user-1", "exp": exp},
			"ios":      {"active": true, "client_id": iosClient, "sub": "user-1"},
			"other":    {"active": true, "client_id": "other-app", "sub": "user-1", "exp": exp},
			"inactive": {"active": false},
			"expired":  {"active": true, "client_id": testClientID, "sub": "user-1", "exp": clk.Now().Add(-time.Minute).Unix()},
			"nosub":    {"active": true, "client_id": testClientID},
			"liar":     {"active": true, "client_id": testClientID, "sub": "user-1"},
			"noclient": {"active": true, "sub": "user-1"},
		},
		users: map[string]map[string]any{
			"good": {"sub": "user-1", "email": "ada@example.com", "email_verified": true},
			"ios":  {"sub": "user-1", "email": "ada@example.com"},
			"liar": {"sub": "mallory"},
		},
	}
	srv := newTestServer(t, fake)
	op := newKeyOP(t, pubJWK(t, "rsa1", "k1", "RS256"))
	for _, how := range []string{"config", "discovery"} {
		t.Run(how, func(t *testing.T) {
			op.set(func(op *keyOP) {
				op.discEdit = func(d map[string]any) {
					d["userinfo_endpoint"] = srv.URL + "/userinfo"
					if how == "discovery" {
						d["introspection_endpoint"] = srv.URL + "/introspect"
					}
				}
			})
			p := op.provider(t, clk, func(c *Config) {
				c.ConvertAudiences = []string{iosClient}
				if how == "config" {
					c.IntrospectionURL = srv.URL + "/introspect"
					c.ClientAuth = ClientAuthPost
				}
			})
			for _, tc := range []struct {
				token string
				code  ErrorCode
				check string
			}{
				{token: "good"},
				{token: "ios"},
				{token: "other", code: CodeInvalidToken, check: "client_id"},
				{token: "noclient", code: CodeInvalidToken, check: "client_id"},
				{token: "inactive", code: CodeInvalidToken, check: "active"},
				{token: "unknown", code: CodeInvalidToken, check: "active"},
				{token: "expired", code: CodeInvalidToken, check: "exp"},
				{token: "nosub", code: CodeInvalidToken, check: "sub"},
				{token: "liar", code: CodeInvalidToken, check: "userinfo_sub"},
			} {
				t.Run(tc.token, func(t *testing.T) {
					id, err := p.Convert(t.Context(), ConvertRequest{Token: tc.token})
					if tc.code != "" {
						wantConvertError(t, err, tc.code, tc.check)
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if id.Subject != "user-1" || id.Email != "ada@example.com" || id.Userinfo == nil {
						t.Fatalf("identity %+v", id)
					}
				})
			}
			last := fake.forms[len(fake.forms)-1]
			if last.Get("token_type_hint") != "access_token" || (how == "config") != (last.Get("client_id") == testClientID) {
				t.Fatalf("introspection form %v", last)
			}
		})
	}

	fake.status = http.StatusServiceUnavailable
	p := op.provider(t, clk, func(c *Config) { c.IntrospectionURL = srv.URL + "/introspect" })
	_, err := p.Convert(t.Context(), ConvertRequest{Token: "good"})
	wantConvertError(t, err, CodeUnavailable, "introspection")
	// A client authentication the provider refuses is our registration's
	// fault, never the app's.
	fake.status = 0
	p = op.provider(t, clk, func(c *Config) { c.IntrospectionURL = srv.URL + "/introspect"; c.ClientSecret = "wrong" })
	_, err = p.Convert(t.Context(), ConvertRequest{Token: "good"})
	wantConvertError(t, err, CodeUnavailable, "introspection")
}

// TestConvertAccessTokenUnverified: without a way to tell whom a token was
// issued to it is refused, unless CONVERT_ACCESS_TOKEN=userinfo opts in.
func TestConvertAccessTokenUnverified(t *testing.T) {
	clk := newClock()
	fake := &fakeIntrospection{t: t, users: map[string]map[string]any{"tok": {"sub": "user-1", "email": "ada@example.com"}}}
	srv := newTestServer(t, fake)
	op := newKeyOP(t, pubJWK(t, "rsa1", "k1", "RS256"))
	op.set(func(op *keyOP) {
		op.discEdit = func(d map[string]any) { d["userinfo_endpoint"] = srv.URL + "/userinfo" }
	})

	p := op.provider(t, clk, nil)
	_, err := p.Convert(t.Context(), ConvertRequest{Token: "tok", TokenType: TokenTypeAccessToken})
	e := wantConvertError(t, err, CodeInvalidToken, "access_token")
	if !strings.Contains(e.Detail, "INTROSPECTION_URL") || !strings.Contains(e.Detail, "CONVERT_ACCESS_TOKEN=userinfo") {
		t.Fatalf("detail %q does not say how to enable it", e.Detail)
	}
	if len(fake.forms) != 0 {
		t.Fatal("token sent somewhere")
	}

	p = op.provider(t, clk, func(c *Config) { c.ConvertAccessToken = ConvertUserinfo })
	id, err := p.Convert(t.Context(), ConvertRequest{Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "user-1" || id.Email != "ada@example.com" {
		t.Fatalf("identity %+v", id)
	}
	_, err = p.Convert(t.Context(), ConvertRequest{Token: "unknown"})
	wantConvertError(t, err, CodeInvalidToken, "userinfo")
}

// fakeGitHub serves GitHub's token check and /user at api.github.com.
func fakeGitHub(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /applications/{client}/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok || id != "gh-client" || secret != "gh-secret" || r.PathValue("client") != id {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch body.AccessToken {
		case "gho_good":
			_, _ = w.Write([]byte(`{"app":{"client_id":"gh-client"},"user":{"id":12345678901,"login":"ada"}}`))
		case "gho_confused":
			_, _ = w.Write([]byte(`{"app":{"client_id":"other"},"user":{"id":12345678901}}`))
		case "gho_swapped":
			_, _ = w.Write([]byte(`{"app":{"client_id":"gh-client"},"user":{"id":7}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer gho_good", "Bearer gho_swapped":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":12345678901,"login":"ada","name":"Ada","email":"ada@example.com"}`))
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	return mux
}

func TestConvertGitHub(t *testing.T) {
	hc := inProcess{"api.github.com": fakeGitHub(t)}.client()
	p, err := New(Config{Name: "github", Type: "github", ClientID: "gh-client", ClientSecret: "gh-secret", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Convert(t.Context(), ConvertRequest{Token: "gho_good"})
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "12345678901" || id.Email != "ada@example.com" || id.EmailVerified || id.Issuer != "https://github.com" {
		t.Fatalf("identity %+v", id)
	}
	for _, tc := range []struct{ token, typ, check string }{
		{"gho_other_app", "", "token_check"}, // 404: substitution
		{"gho_confused", "", "token_check"},
		{"gho_swapped", "", "userinfo_sub"},
		{"gho_good", TokenTypeIDToken, "token_type"},
	} {
		_, err := p.Convert(t.Context(), ConvertRequest{Token: tc.token, TokenType: tc.typ})
		wantConvertError(t, err, CodeInvalidToken, tc.check)
	}
	bad, err := New(Config{Name: "github", Type: "github", ClientID: "gh-client", ClientSecret: "wrong", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Convert(t.Context(), ConvertRequest{Token: "gho_good"})
	wantConvertError(t, err, CodeUnavailable, "token_check")
}

// fakeGoogle serves Google's discovery, tokeninfo and userinfo, each at
// its real host.
func fakeGoogle(t *testing.T) inProcess {
	accounts := http.NewServeMux()
	accounts.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                 "https://accounts.google.com",
			"authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
			"token_endpoint":         "https://oauth2.googleapis.com/token",
			"userinfo_endpoint":      "https://openidconnect.googleapis.com/v1/userinfo",
			"jwks_uri":               "https://www.googleapis.com/oauth2/v3/certs",
		})
	})
	apis := http.NewServeMux()
	apis.HandleFunc("GET /tokeninfo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		base := map[string]any{"azp": testClientID, "aud": testClientID, "sub": "g-1", "email": "ada@example.com", "email_verified": "true", "expires_in": "3599", "scope": "openid email"}
		switch r.URL.Query().Get("access_token") {
		case "ya29.good":
		case "ya29.ios":
			base["aud"], base["azp"] = iosClient, iosClient
		case "ya29.other":
			base["aud"], base["azp"] = "other-app", "other-app"
		case "ya29.expired":
			base["expires_in"] = "0"
		case "ya29.down":
			w.WriteHeader(http.StatusInternalServerError)
			return
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_token"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(base)
	})
	userinfo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ya29.") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"sub":"g-1","email":"ada@example.com","email_verified":true,"name":"Ada","hd":"example.com"}`))
	})
	return inProcess{"accounts.google.com": accounts, "oauth2.googleapis.com": apis, "openidconnect.googleapis.com": userinfo}
}

func TestConvertGoogle(t *testing.T) {
	hc := fakeGoogle(t).client()
	newGoogle := func(edit func(*Config)) *Provider {
		c := Config{Name: "google", Type: "google", ClientID: testClientID, ClientSecret: "s", ConvertAudiences: []string{iosClient}, HTTPClient: hc}
		if edit != nil {
			edit(&c)
		}
		p, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := newGoogle(nil)
	for _, tok := range []string{"ya29.good", "ya29.ios"} {
		id, err := p.Convert(t.Context(), ConvertRequest{Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		if id.Subject != "g-1" || id.Email != "ada@example.com" || !id.EmailVerified || id.Name != "Ada" {
			t.Fatalf("identity %+v", id)
		}
	}
	for _, tc := range []struct {
		token string
		code  ErrorCode
		check string
	}{
		{"ya29.other", CodeInvalidToken, "aud"}, // substitution
		{"ya29.expired", CodeInvalidToken, "expires_in"},
		{"ya29.forged", CodeInvalidToken, "tokeninfo"},
		{"ya29.down", CodeUnavailable, "tokeninfo"},
	} {
		_, err := p.Convert(t.Context(), ConvertRequest{Token: tc.token})
		wantConvertError(t, err, tc.code, tc.check)
	}
	if _, err := newGoogle(func(c *Config) { c.HostedDomains = []string{"example.com"} }).Convert(t.Context(), ConvertRequest{Token: "ya29.good"}); err != nil {
		t.Fatal(err)
	}
	_, err := newGoogle(func(c *Config) { c.HostedDomains = []string{"corp.example"} }).Convert(t.Context(), ConvertRequest{Token: "ya29.good"})
	wantConvertError(t, err, CodeDomainNotAllowed, "hd")
}
