package oidc

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"golang.org/x/oauth2"
)

// Whole logins against oidctest over real HTTP.

const (
	flowClient   = "app"
	flowSecret   = "s3cret-s3cret-s3cret-s3cret-s3cret"
	flowRedirect = "https://app.example/callback"
	flowEmail    = "ada@example.com"
)

type flow struct {
	op *oidctest.Server
	p  *Provider
}

// newFlow starts an oidctest provider and a Provider for it; opts and cfg
// adjust either side.
func newFlow(t *testing.T, opts func(*oidctest.Options), cfg func(*Config)) *flow {
	t.Helper()
	o := oidctest.Options{Clients: []oidctest.Client{{ID: flowClient, Secret: flowSecret, RedirectURIs: []string{flowRedirect}}}}
	if opts != nil {
		opts(&o)
	}
	op := oidctest.NewServer(o)
	t.Cleanup(op.Close)
	c := Config{
		Name:         "op",
		Issuer:       op.Issuer(),
		ClientID:     flowClient,
		ClientSecret: flowSecret,
		Timeout:      5 * time.Second,
	}
	if cfg != nil {
		cfg(&c)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return &flow{op: op, p: p}
}

// login starts a login and signs in at the provider, returning the
// exchange request the callback would make.
func (f *flow) login(t *testing.T) ExchangeRequest {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	nonce := "nonce-" + verifier[:8]
	authURL, err := f.p.AuthCodeURL(t.Context(), AuthRequest{State: "st", Nonce: nonce, CodeVerifier: verifier, RedirectURI: flowRedirect})
	if err != nil {
		t.Fatal(err)
	}
	back, err := f.op.Login(authURL, flowEmail)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	q := back.Query()
	if q.Get("state") != "st" {
		t.Fatalf("state = %q", q.Get("state"))
	}
	return ExchangeRequest{Code: q.Get("code"), CodeVerifier: verifier, RedirectURI: flowRedirect, Nonce: nonce, Issuer: q.Get("iss")}
}

func (f *flow) run(t *testing.T) (*Result, error) {
	t.Helper()
	return f.p.Exchange(t.Context(), f.login(t))
}

func TestFlowHappy(t *testing.T) {
	for _, auth := range []string{ClientAuthBasic, ClientAuthPost} {
		t.Run(auth, func(t *testing.T) {
			f := newFlow(t, nil, func(c *Config) { c.ClientAuth = auth })
			req := f.login(t)
			res, err := f.p.Exchange(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			id := res.Identity
			if id.Subject != oidctest.Subject(flowEmail) || id.Email != flowEmail || !id.EmailVerified || id.Name == "" || id.Issuer != f.op.Issuer() {
				t.Fatalf("identity = %+v", id)
			}
			if id.Claims["sub"] != id.Subject || id.Userinfo != nil {
				t.Fatalf("claims %v, userinfo %v (auto should not fetch: email present)", id.Claims, id.Userinfo)
			}
			tk := res.Tokens
			if tk.AccessToken == "" || tk.IDToken == "" || tk.RefreshToken == "" || tk.ExpiresIn <= 0 || !strings.EqualFold(tk.TokenType, "bearer") || !strings.Contains(tk.Scope, "openid") {
				t.Fatalf("tokens = %+v", tk)
			}
			log := f.op.Requests()
			if log.Token != 1 || len(log.TokenRequests) != 1 || log.Userinfo != 0 {
				t.Fatalf("requests = %+v", log)
			}
			tr := log.TokenRequests[0]
			wantAuth := map[string]string{ClientAuthBasic: "client_secret_basic", ClientAuthPost: "client_secret_post"}[auth]
			if tr.ClientAuth != wantAuth || tr.CodeVerifier != req.CodeVerifier || tr.RedirectURI != flowRedirect {
				t.Fatalf("token request = %+v", tr)
			}

			// The same code again: the provider refuses it.
			_, err = f.p.Exchange(t.Context(), req)
			wantError(t, err, CodeExchangeFailed, "token")
		})
	}
}

func TestFlowAuthCodeURL(t *testing.T) {
	f := newFlow(t, nil, func(c *Config) {
		c.AuthParams = map[string]string{"access_type": "offline", "prompt": "consent"}
	})
	verifier := oauth2.GenerateVerifier()
	raw, err := f.p.AuthCodeURL(t.Context(), AuthRequest{State: "s", Nonce: "n", CodeVerifier: verifier, RedirectURI: flowRedirect, Prompt: "login", LoginHint: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	want := map[string]string{
		"response_type":         "code",
		"client_id":             flowClient,
		"redirect_uri":          flowRedirect,
		"scope":                 "openid email profile",
		"state":                 "s",
		"nonce":                 "n",
		"code_challenge":        oauth2.S256ChallengeFromVerifier(verifier),
		"code_challenge_method": "S256",
		"prompt":                "login", // the request's wins over AuthParams
		"login_hint":            "ada@example.com",
		"access_type":           "offline",
	}
	for k, v := range want {
		if got := q[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("query has %d parameters, want %d: %v", len(q), len(want), q)
	}
	if !strings.HasPrefix(raw, f.op.EndpointURL(oidctest.AuthorizeEndpoint)+"?") {
		t.Errorf("url %s", raw)
	}

	bad := []AuthRequest{
		{Nonce: "n", CodeVerifier: verifier, RedirectURI: flowRedirect},
		{State: "s", CodeVerifier: verifier, RedirectURI: flowRedirect},
		{State: "s", Nonce: "n", CodeVerifier: "short", RedirectURI: flowRedirect},
		{State: "s", Nonce: "n", CodeVerifier: strings.Repeat("é", 30), RedirectURI: flowRedirect},
		{State: "s", Nonce: "n", CodeVerifier: verifier},
	}
	for _, r := range bad {
		if _, err := f.p.AuthCodeURL(t.Context(), r); err == nil {
			t.Errorf("accepted %+v", r)
		}
	}
}

// TestFlowIDTokenFaults: every ID-token fault of the provider fails the
// login for its own reason.
func TestFlowIDTokenFaults(t *testing.T) {
	cases := []struct {
		name   string
		faults oidctest.Faults
		cfg    func(*Config)
		code   ErrorCode
		check  string
	}{
		{name: "bad signature", faults: oidctest.Faults{BadSignature: true}, code: CodeInvalidIDToken, check: "signature"},
		{name: "wrong iss", faults: oidctest.Faults{Issuer: "https://evil.example"}, code: CodeInvalidIDToken, check: "iss"},
		{name: "aud missing client", faults: oidctest.Faults{Audience: []string{"other"}}, code: CodeInvalidIDToken, check: "aud"},
		{name: "extra aud without azp", faults: oidctest.Faults{Audience: []string{flowClient, "other"}, OmitClaims: []string{"azp"}}, code: CodeInvalidIDToken, check: "azp"},
		{name: "wrong azp", faults: oidctest.Faults{Audience: []string{flowClient, "other"}, AuthorizedParty: "other"}, code: CodeInvalidIDToken, check: "azp"},
		{name: "expired", faults: oidctest.Faults{Expired: true}, code: CodeInvalidIDToken, check: "exp"},
		{name: "iat in future", faults: oidctest.Faults{IssuedInFuture: true}, code: CodeInvalidIDToken, check: "iat"},
		{name: "missing exp", faults: oidctest.Faults{OmitClaims: []string{"exp"}}, code: CodeInvalidIDToken, check: "exp"},
		{name: "missing iat", faults: oidctest.Faults{OmitClaims: []string{"iat"}}, code: CodeInvalidIDToken, check: "iat"},
		{name: "nbf in future", faults: oidctest.Faults{IDTokenClaims: func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }}, code: CodeInvalidIDToken, check: "nbf"},
		{name: "nonce mismatch", faults: oidctest.Faults{Nonce: "someone-elses"}, code: CodeNonceMismatch, check: "nonce"},
		{name: "nonce missing", faults: oidctest.Faults{OmitClaims: []string{"nonce"}}, code: CodeNonceMismatch, check: "nonce"},
		{name: "empty sub", faults: oidctest.Faults{IDTokenClaims: func(c map[string]any) { c["sub"] = "" }}, code: CodeInvalidIDToken, check: "sub"},
		{name: "wrong at_hash", faults: oidctest.Faults{WrongAtHash: true}, code: CodeInvalidIDToken, check: "at_hash"},
		{name: "alg none", faults: oidctest.Faults{AlgNone: true}, code: CodeInvalidIDToken, check: "alg"},
		{name: "HS256 not allowed", faults: oidctest.Faults{HS256: true}, code: CodeInvalidIDToken, check: "alg"},
		{name: "header alg not allowed", faults: oidctest.Faults{HeaderAlg: "RS512"}, code: CodeInvalidIDToken, check: "alg"},
		{name: "header alg allowed, signature by another", faults: oidctest.Faults{HeaderAlg: "RS512"}, cfg: algs("RS256", "RS512"), code: CodeInvalidIDToken, check: "kid"},
		{name: "PS256 with a key published for RS256", faults: oidctest.Faults{SigningAlg: "PS256"}, cfg: algs("RS256", "PS256"), code: CodeInvalidIDToken, check: "kid"},
		{name: "unpublished key", faults: oidctest.Faults{UnpublishedKey: true}, code: CodeInvalidIDToken, check: "kid"},
		{name: "crit", faults: oidctest.Faults{IDTokenHeader: func(h map[string]any) {
			h["crit"] = []string{"http://example.com/ext"}
			h["http://example.com/ext"] = true
		}}, code: CodeInvalidIDToken, check: "crit"},
		{name: "missing id_token", faults: oidctest.Faults{MissingIDToken: true}, code: CodeUnavailable, check: "id_token"},
		{name: "JSON serialization", faults: oidctest.Faults{TokenResponse: func(r map[string]any) { r["id_token"] = toJSONSerialization(r["id_token"].(string)) }}, code: CodeInvalidIDToken, check: "format"},
		{name: "no kid, one key", faults: oidctest.Faults{NoKID: true}},
		{name: "email_verified as a string", faults: oidctest.Faults{IDTokenClaims: func(c map[string]any) { c["email_verified"] = "true" }}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, nil, tc.cfg)
			f.op.SetFaults(tc.faults)
			res, err := f.run(t)
			if tc.check == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !res.Identity.EmailVerified {
					t.Fatalf("identity %+v", res.Identity)
				}
				return
			}
			e := wantError(t, err, tc.code, tc.check)
			if strings.Contains(e.Error(), flowSecret) {
				t.Fatalf("error shows the secret: %v", e)
			}
		})
	}
}

func TestFlowKeyRotation(t *testing.T) {
	f := newFlow(t, nil, nil)
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}
	if err := f.op.RotateKey(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.run(t); err != nil {
		t.Fatalf("login right after rotation: %v", err)
	}
	if n := f.op.Requests().JWKS; n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
	if n := f.op.Requests().Discovery; n != 1 {
		t.Fatalf("discovery fetched %d times, want 1", n)
	}
}

// TestFlowTokenEndpoint: a refusal is exchange_failed; anything that says
// the provider is broken is provider_unavailable; never a second attempt.
func TestFlowTokenEndpoint(t *testing.T) {
	cases := []struct {
		name   string
		faults oidctest.Faults
		cfg    func(*Config)
		code   ErrorCode
		detail string
	}{
		{name: "invalid_grant", faults: oidctest.Faults{TokenError: "invalid_grant"}, code: CodeExchangeFailed, detail: "invalid_grant"},
		{name: "invalid_client basic", faults: oidctest.Faults{TokenError: "invalid_client"}, code: CodeUnavailable, detail: "invalid_client"},
		{name: "invalid_client post", faults: oidctest.Faults{TokenError: "invalid_client"}, cfg: func(c *Config) { c.ClientAuth = ClientAuthPost }, code: CodeUnavailable, detail: "invalid_client"},
		{name: "wrong secret", cfg: func(c *Config) { c.ClientSecret = "wrong" }, code: CodeUnavailable, detail: "invalid_client"},
		{name: "OAuth error with 200", faults: oidctest.Faults{TokenResponse: func(r map[string]any) { clear(r); r["error"] = "invalid_grant" }}, code: CodeExchangeFailed, detail: "invalid_grant"},
		{name: "server_error 500", faults: oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.TokenEndpoint: 500}}, code: CodeUnavailable, detail: "500"},
		{name: "503", faults: oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.TokenEndpoint: 503}}, code: CodeUnavailable, detail: "503"},
		{name: "garbage", faults: oidctest.Faults{Garbage: map[oidctest.Endpoint]bool{oidctest.TokenEndpoint: true}}, code: CodeUnavailable},
		{name: "timeout", faults: oidctest.Faults{Delay: map[oidctest.Endpoint]time.Duration{oidctest.TokenEndpoint: time.Minute}}, cfg: func(c *Config) { c.Timeout = 200 * time.Millisecond }, code: CodeUnavailable, detail: "timed out"},
		{name: "no access_token", faults: oidctest.Faults{TokenResponse: func(r map[string]any) { delete(r, "access_token") }}, code: CodeUnavailable},
		{name: "token_type mac", faults: oidctest.Faults{TokenResponse: func(r map[string]any) { r["token_type"] = "mac" }}, code: CodeUnavailable, detail: "token_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, nil, tc.cfg)
			f.op.SetFaults(tc.faults)
			_, err := f.run(t)
			want := "token"
			switch {
			case strings.Contains(tc.detail, "token_type"):
				want = "token_type"
			case tc.detail == "invalid_client":
				want = "client_auth"
			}
			e := wantError(t, err, tc.code, want)
			if !strings.Contains(e.Detail, tc.detail) {
				t.Fatalf("detail %q does not mention %q", e.Detail, tc.detail)
			}
			if strings.Contains(e.Detail, "oidctest") || strings.Contains(e.Detail, "html") {
				t.Fatalf("detail %q echoes the provider's body", e.Detail)
			}
			if n := f.op.Requests().Token; n != 1 {
				t.Fatalf("%d token requests, want exactly 1", n)
			}
		})
	}
}

// TestFlowTokenRedirect: a 307 from the token endpoint is not followed
// (it would re-send code, verifier and secret).
func TestFlowTokenRedirect(t *testing.T) {
	var target string
	redirector := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
	}))
	f := newFlow(t, nil, func(c *Config) { c.TokenURL = redirector.URL + "/token" })
	target = f.op.EndpointURL(oidctest.TokenEndpoint)
	_, err := f.run(t)
	wantError(t, err, CodeUnavailable, "token")
	if n := f.op.Requests().Token; n != 0 {
		t.Fatalf("redirect followed: %d token requests at the target", n)
	}
}

// TestFlowIssuerParameter covers RFC 9207.
func TestFlowIssuerParameter(t *testing.T) {
	no := false
	cases := []struct {
		name       string
		advertised bool
		faults     oidctest.Faults
		override   *string // replaces the iss the callback got
		check      string
	}{
		{name: "advertised and sent", advertised: true},
		{name: "advertised, missing", advertised: true, faults: oidctest.Faults{OmitIssParameter: true}, check: "iss_param"},
		{name: "advertised, another issuer", advertised: true, faults: oidctest.Faults{IssParameter: "https://evil.example"}, check: "iss_param"},
		{name: "advertised, trailing slash", advertised: true, override: ptr("ISSUER/"), check: "iss_param"},
		{name: "not advertised, absent", advertised: false},
		{name: "not advertised, given and equal", advertised: false, override: ptr("ISSUER")},
		{name: "not advertised, given and different", advertised: false, override: ptr("https://evil.example"), check: "iss_param"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, func(o *oidctest.Options) {
				if !tc.advertised {
					o.IssParameter = &no
				}
			}, nil)
			f.op.SetFaults(tc.faults)
			req := f.login(t)
			if tc.override != nil {
				req.Issuer = strings.Replace(*tc.override, "ISSUER", f.op.Issuer(), 1)
			}
			_, err := f.p.Exchange(t.Context(), req)
			if tc.check == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantError(t, err, CodeIssuerMismatch, tc.check)
			if n := f.op.Requests().Token; n != 0 {
				t.Fatalf("code sent to the token endpoint before the iss check (%d requests)", n)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestFlowUserinfo(t *testing.T) {
	cases := []struct {
		name      string
		userinfo  string
		faults    oidctest.Faults
		fetched   bool
		code      ErrorCode
		check     string
		wantEmail string
		verified  bool
	}{
		{name: "auto, email in ID token", userinfo: UserinfoAuto, fetched: false, wantEmail: flowEmail, verified: true},
		{name: "auto, no email in ID token", userinfo: UserinfoAuto, faults: oidctest.Faults{OmitClaims: []string{"email", "email_verified"}}, fetched: true, wantEmail: flowEmail, verified: true},
		{name: "always", userinfo: UserinfoAlways, fetched: true, wantEmail: flowEmail, verified: true},
		{name: "never", userinfo: UserinfoNever, faults: oidctest.Faults{OmitClaims: []string{"email", "email_verified"}}, fetched: false},
		{name: "sub mismatch", userinfo: UserinfoAlways, faults: oidctest.Faults{UserinfoSubject: "someone-else"}, fetched: true, code: CodeUserinfoFailed, check: "userinfo_sub"},
		{name: "sub missing", userinfo: UserinfoAlways, faults: oidctest.Faults{UserinfoClaims: func(c map[string]any) { delete(c, "sub") }}, fetched: true, code: CodeUserinfoFailed, check: "userinfo_sub"},
		{name: "500", userinfo: UserinfoAlways, faults: oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.UserinfoEndpoint: 500}}, fetched: true, code: CodeUserinfoFailed, check: "userinfo"},
		{name: "garbage", userinfo: UserinfoAlways, faults: oidctest.Faults{Garbage: map[oidctest.Endpoint]bool{oidctest.UserinfoEndpoint: true}}, fetched: true, code: CodeUserinfoFailed, check: "userinfo"},
		{name: "email_verified string from userinfo", userinfo: UserinfoAuto, faults: oidctest.Faults{
			OmitClaims:     []string{"email", "email_verified"},
			UserinfoClaims: func(c map[string]any) { c["email_verified"] = "true" },
		}, fetched: true, wantEmail: flowEmail, verified: true},
		{name: "email_verified false in userinfo", userinfo: UserinfoAuto, faults: oidctest.Faults{
			OmitClaims:     []string{"email", "email_verified"},
			UserinfoClaims: func(c map[string]any) { c["email_verified"] = false },
		}, fetched: true, wantEmail: flowEmail, verified: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, nil, func(c *Config) { c.Userinfo = tc.userinfo })
			f.op.SetFaults(tc.faults)
			res, err := f.run(t)
			if got := f.op.Requests().Userinfo > 0; got != tc.fetched {
				t.Fatalf("userinfo fetched = %v, want %v", got, tc.fetched)
			}
			if tc.check != "" {
				wantError(t, err, tc.code, tc.check)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			id := res.Identity
			if id.Email != tc.wantEmail || id.EmailVerified != tc.verified || (id.Userinfo != nil) != tc.fetched {
				t.Fatalf("identity = %+v", id)
			}
		})
	}
}

// TestFlowOAuth2 logs in through a plain OAuth 2.0 provider, GitHub-style:
// no ID token, the subject is userinfo's numeric id.
func TestFlowOAuth2(t *testing.T) {
	// GitHub sends no iss (RFC 9207); a given one would have to match.
	no := false
	f := newFlow(t, func(o *oidctest.Options) { o.IssParameter = &no }, nil)
	op := f.op
	p, err := New(Config{
		Name:         "gh",
		Type:         TypeOAuth2,
		Issuer:       "https://github.example",
		ClientID:     flowClient,
		ClientSecret: flowSecret,
		AuthURL:      op.EndpointURL(oidctest.AuthorizeEndpoint),
		TokenURL:     op.EndpointURL(oidctest.TokenEndpoint),
		UserinfoURL:  op.EndpointURL(oidctest.UserinfoEndpoint),
		Scopes:       []string{"email"},
		SubjectClaim: "id",
		ClientAuth:   ClientAuthPost,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.p = p
	op.SetFaults(oidctest.Faults{UserinfoClaims: func(c map[string]any) {
		c["id"] = int64(9007199254740993) // 2^53+1: must survive without float rounding
		c["avatar_url"] = "https://avatars.example/u/1"
		delete(c, "email_verified")
	}})
	authURL, err := p.AuthCodeURL(t.Context(), AuthRequest{State: "st", CodeVerifier: oauth2.GenerateVerifier(), RedirectURI: flowRedirect})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(authURL, "nonce=") {
		t.Fatalf("oauth2 auth URL carries a nonce: %s", authURL)
	}
	res, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Identity
	if id.Subject != "9007199254740993" || id.Email != flowEmail || id.EmailVerified || id.Picture != "https://avatars.example/u/1" || id.Claims != nil || id.Userinfo == nil || id.Issuer != "https://github.example" {
		t.Fatalf("identity = %+v", id)
	}
	if res.Tokens.IDToken != "" {
		t.Fatalf("id token without openid scope: %q", res.Tokens.IDToken)
	}
	if got := op.Requests().Discovery; got != 0 {
		t.Fatalf("oauth2 provider fetched discovery %d times", got)
	}

	// No subject in userinfo: refused.
	op.SetFaults(oidctest.Faults{})
	_, err = f.run(t)
	wantError(t, err, CodeUserinfoFailed, "subject_claim")
}

func TestFlowLogoutURL(t *testing.T) {
	f := newFlow(t, nil, nil)
	raw, err := f.p.LogoutURL(t.Context(), LogoutRequest{IDTokenHint: "the.id.token", PostLogoutRedirectURI: "https://app.example/bye"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if u.Scheme+"://"+u.Host+u.Path != f.op.EndpointURL(oidctest.EndSessionEndpoint) ||
		q.Get("id_token_hint") != "the.id.token" || q.Get("post_logout_redirect_uri") != "https://app.example/bye" || q.Get("client_id") != flowClient {
		t.Fatalf("logout url %s", raw)
	}
}

// TestFlowHostedDomains: Google's hd and Microsoft's tid restrict logins
// (and refreshes) to the configured domains or tenants.
func TestFlowHostedDomains(t *testing.T) {
	for _, tc := range []struct {
		preset, claim, value string
		allowed              bool
	}{
		{"google", "hd", "example.com", true},
		{"google", "hd", "EXAMPLE.com", true},
		{"google", "hd", "evil.example", false},
		{"google", "hd", "", false},
		{"google", "tid", "example.com", false},
		{"microsoft", "tid", "example.com", true},
		{"microsoft", "tid", "other-tenant", false},
		{"microsoft", "hd", "example.com", false},
	} {
		t.Run(tc.preset+"/"+tc.claim+"="+tc.value, func(t *testing.T) {
			f := newFlow(t, nil, func(c *Config) { c.Preset = tc.preset; c.HostedDomains = []string{"example.com"} })
			f.op.SetFaults(oidctest.Faults{IDTokenClaims: func(c map[string]any) {
				if tc.value != "" {
					c[tc.claim] = tc.value
				}
			}})
			res, err := f.run(t)
			if tc.allowed {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.p.Refresh(t.Context(), res.Tokens.RefreshToken, res.Identity.Subject); err != nil {
					t.Fatalf("refresh: %v", err)
				}
				// A refreshed token from another domain ends the session.
				f.op.SetFaults(oidctest.Faults{IDTokenClaims: func(c map[string]any) { c[tc.claim] = "moved.example" }})
				_, err = f.p.Refresh(t.Context(), res.Tokens.RefreshToken, res.Identity.Subject)
				wantError(t, err, CodeDomainNotAllowed, tc.claim)
				return
			}
			want := "hd"
			if tc.preset == "microsoft" {
				want = "tid"
			}
			if e := wantError(t, err, CodeDomainNotAllowed, want); e.Fault != FaultClient {
				t.Fatalf("fault %v", e.Fault)
			}
		})
	}
}
