package server

import (
	"crypto/rand"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/oidc/presettest"
)

// The support matrix of the presets, through the HTTP API: each provider
// is configured only the way an operator would (EDGEAUTH_PROVIDERS, client
// id and secret, redirect URI and what the preset documents as required),
// against a fake of the real provider reached under its real host names.
// Every column of the table is asserted: a supported operation succeeds,
// an unsupported one answers the documented problem code.

const (
	presetClientID     = "edgeauth-app"
	presetClientSecret = "preset-client-secret-do-not-leak"
	presetOtherClient  = "someone-elses-app"
	presetEmail        = "ada@example.com"
)

// presetRedirect is the redirect URI of provider name.
func presetRedirect(name string) string { return "https://app.example.com/callback/" + name }

// outcome is what one endpoint must answer: "" for success, else the
// problem code and its status.
type outcome struct {
	code   Code
	status int
}

var (
	wantOK      = outcome{}
	wantUnsupp  = outcome{code: CodeUnsupportedOperation, status: http.StatusBadRequest}
	wantInvalid = outcome{code: CodeInvalidToken, status: http.StatusUnauthorized}
	notTested   = outcome{code: "-"} // the fake cannot make such a token: not tested
)

func (o outcome) String() string {
	if o.code == "" {
		return "success"
	}
	return string(o.code)
}

// presetFake is a started fake: how edgeauth reaches it, how the user
// completes its authorize step, and tokens it issued to another client
// ("" when it cannot).
type presetFake struct {
	client      *http.Client
	authorize   func(authURL string) (*url.URL, error)
	otherAccess string
	otherID     string
	// endSession is the provider's end_session_endpoint, "" for none.
	endSession string
	// jwtAccess turns the login's access token into the JWT the provider
	// itself issues (Keycloak, Okta); nil where they are opaque.
	jwtAccess func(opaque string) (string, error)
	// subject is what the fake gives the user, in the provider's form,
	// for the cases that do not spell it out.
	subject string
}

type presetCase struct {
	name string
	// env is what the preset documents as required besides the client
	// id, secret and redirect URI (without the EDGEAUTH_<NAME>_ prefix).
	env   map[string]string
	start func(t *testing.T) presetFake
	// authorizeURL is the provider's real authorization endpoint.
	authorizeURL string
	// nonce: an OpenID Connect preset, whose authorization URL has a nonce
	// and whose login answer has an ID token.
	nonce bool
	// issParam: the callback carries iss (RFC 9207), which the app passes on.
	issParam bool
	// The user as the preset defines it.
	subject       string
	email         string
	emailVerified bool
	// Lifecycle.
	providerRefresh bool // the login gets a provider refresh token and /oauth2/refresh uses it
	logout          outcome
	revoke          outcome // of the session's provider refresh token, else of the access token
	convertID       outcome // the login's own ID token
	convertAccess   outcome // the login's own access token
	otherID         outcome // an ID token for another client
	otherAccess     outcome // an access token for another client
}

func oidcClient(name string) oidctest.Client {
	return oidctest.Client{ID: presetClientID, Secret: presetClientSecret, RedirectURIs: []string{presetRedirect(name)}}
}

// oidcFake completes the authorize step of an OIDCFake as presetEmail.
func oidcFake(f *presettest.OIDCFake) presetFake {
	return presetFake{
		client:     f.Client(),
		authorize:  func(u string) (*url.URL, error) { return f.Login(u, presetEmail) },
		endSession: f.EndpointURL(oidctest.EndSessionEndpoint),
		subject:    f.Subject(presetEmail),
	}
}

// jwtFake is oidcFake for a provider whose access tokens are JWTs.
func jwtFake(f *presettest.OIDCFake) presetFake {
	pf := oidcFake(f)
	pf.jwtAccess = func(opaque string) (string, error) { return f.JWTAccessToken(opaque, presetEmail) }
	return pf
}

func presetCases() []presetCase {
	const offline = "openid email profile offline_access"
	return []presetCase{
		{
			name: "github",
			start: func(t *testing.T) presetFake {
				g := presettest.NewGitHub(t, presettest.GitHubOptions{
					ClientID: presetClientID, ClientSecret: presetClientSecret, RedirectURIs: []string{presetRedirect("github")},
					User: presettest.GitHubUser{ID: 12345678901, Login: "ada", Name: "Ada Lovelace", Emails: []presettest.GitHubEmail{
						{Email: "ada@example.com", Primary: true, Verified: false, Visibility: "private"},
						{Email: "ada@work.example", Verified: true},
					}},
				})
				return presetFake{client: g.Client(), authorize: g.Login, otherAccess: g.IssueToken(presetOtherClient, "read:user", "user:email")}
			},
			authorizeURL: "https://github.com/login/oauth/authorize",
			subject:      "12345678901", email: "ada@example.com", emailVerified: false, // unverified primary stays unverified
			logout: wantUnsupp, revoke: wantOK,
			convertID: wantInvalid, convertAccess: wantOK, otherID: notTested, otherAccess: wantInvalid,
		},
		{
			name: "microsoft",
			env:  map[string]string{"TENANT": "72f988bf-86f1-41af-91ab-2d7cd011db47", "OFFLINE": "true"},
			start: func(t *testing.T) presetFake {
				m := presettest.NewMicrosoft(t, presettest.MicrosoftOptions{ClientID: presetClientID, ClientSecret: presetClientSecret, RedirectURIs: []string{presetRedirect("microsoft")}})
				return presetFake{client: m.Client(), authorize: m.Login, otherID: m.IDToken(presetOtherClient, ""),
					endSession: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/logout"}
			},
			authorizeURL: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/authorize",
			nonce:        true,
			subject:      "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", email: "ada@contoso.example", emailVerified: false, // no xms_edov
			providerRefresh: true, logout: wantOK, revoke: wantUnsupp,
			convertID: wantOK, convertAccess: wantInvalid, otherID: wantInvalid, otherAccess: notTested,
		},
		{
			// A GitHub App with expiring user tokens: configured the same
			// way, it gets refresh tokens, which GitHub cannot revoke.
			name: "githubapp",
			env:  map[string]string{"TYPE": "github"},
			start: func(t *testing.T) presetFake {
				g := presettest.NewGitHub(t, presettest.GitHubOptions{
					ClientID: presetClientID, ClientSecret: presetClientSecret, RedirectURIs: []string{presetRedirect("githubapp")}, ExpiringTokens: true,
					User: presettest.GitHubUser{ID: 12345678901, Login: "ada", Emails: []presettest.GitHubEmail{{Email: "ada@example.com", Primary: true, Verified: true}}},
				})
				return presetFake{client: g.Client(), authorize: g.Login, otherAccess: g.IssueToken(presetOtherClient, "read:user", "user:email")}
			},
			authorizeURL: "https://github.com/login/oauth/authorize",
			subject:      "12345678901", email: "ada@example.com", emailVerified: true,
			providerRefresh: true, logout: wantUnsupp, revoke: wantUnsupp,
			convertID: wantInvalid, convertAccess: wantOK, otherID: notTested, otherAccess: wantInvalid,
		},
		{
			// Multi-tenant: the {tenantid} issuer template, discovery
			// under /common.
			name: "entra",
			env:  map[string]string{"TYPE": "microsoft", "TENANT": "common"},
			start: func(t *testing.T) presetFake {
				m := presettest.NewMicrosoft(t, presettest.MicrosoftOptions{ClientID: presetClientID, ClientSecret: presetClientSecret, RedirectURIs: []string{presetRedirect("entra")}})
				return presetFake{client: m.Client(), authorize: m.Login, otherID: m.IDToken(presetOtherClient, ""),
					endSession: "https://login.microsoftonline.com/common/oauth2/v2.0/logout"}
			},
			authorizeURL: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
			nonce:        true,
			subject:      "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", email: "ada@contoso.example", emailVerified: false,
			logout: wantOK, revoke: wantUnsupp,
			convertID: wantOK, convertAccess: wantInvalid, otherID: wantInvalid, otherAccess: notTested,
		},
		{
			name: "google",
			env:  map[string]string{"OFFLINE": "true"},
			start: func(t *testing.T) presetFake {
				g := presettest.NewGoogle(t, presettest.GoogleOptions{ClientID: presetClientID, ClientSecret: presetClientSecret, RedirectURIs: []string{presetRedirect("google")}})
				return presetFake{client: g.Client(), authorize: g.Login, otherAccess: g.IssueAccessToken(presetOtherClient), otherID: g.IDToken(presetOtherClient, "")}
			},
			authorizeURL: "https://accounts.google.com/o/oauth2/v2/auth",
			nonce:        true,
			subject:      "110169484474386276334", email: "ada@example.com", emailVerified: true,
			providerRefresh: true, logout: wantUnsupp, revoke: wantOK,
			convertID: wantOK, convertAccess: wantOK, otherID: wantInvalid, otherAccess: wantInvalid,
		},
		{
			name: "gitlab",
			start: func(t *testing.T) presetFake {
				g := presettest.NewGitLab(t, presettest.GitLabOptions{ClientID: presetClientID, ClientSecret: presetClientSecret, RedirectURIs: []string{presetRedirect("gitlab")}})
				return presetFake{client: g.Client(), authorize: g.Login, otherAccess: g.IssueAccessToken(presetOtherClient)}
			},
			authorizeURL: "https://gitlab.com/oauth/authorize",
			nonce:        true,
			subject:      "1234567", email: "ada@example.com", emailVerified: true,
			providerRefresh: true, logout: wantUnsupp, revoke: wantOK,
			// GitLab's introspection names no sub: even our own access
			// token is refused rather than trusted.
			convertID: wantOK, convertAccess: wantInvalid, otherID: notTested, otherAccess: wantInvalid,
		},
		{
			name: "auth0",
			env:  map[string]string{"BASE_URL": "tenant.eu.auth0.com", "SCOPES": offline},
			start: func(t *testing.T) presetFake {
				return oidcFake(presettest.NewAuth0(t, "tenant.eu.auth0.com", oidcClient("auth0")).OIDCFake)
			},
			authorizeURL: "https://tenant.eu.auth0.com/authorize",
			nonce:        true,
			email:        presetEmail, emailVerified: true,
			providerRefresh: true, logout: wantOK, revoke: wantOK,
			convertID: wantOK, convertAccess: wantInvalid, otherID: notTested, otherAccess: notTested,
		},
		{
			name: "okta",
			env:  map[string]string{"BASE_URL": "https://dev-123.okta.com/oauth2/default", "SCOPES": offline},
			start: func(t *testing.T) presetFake {
				return jwtFake(presettest.NewOkta(t, "dev-123.okta.com", "default", oidcClient("okta")).OIDCFake)
			},
			authorizeURL: "https://dev-123.okta.com/oauth2/default/v1/authorize",
			nonce:        true,
			email:        presetEmail, emailVerified: true,
			providerRefresh: true, logout: wantOK, revoke: wantOK,
			convertID: wantOK, convertAccess: wantOK, otherID: notTested, otherAccess: notTested,
		},
		{
			// The org authorization server: issuer the org URL, endpoints
			// under /oauth2/v1.
			name: "oktaorg",
			env:  map[string]string{"TYPE": "okta", "BASE_URL": "dev-123.okta.com", "SCOPES": offline},
			start: func(t *testing.T) presetFake {
				return jwtFake(presettest.NewOkta(t, "dev-123.okta.com", "", oidcClient("oktaorg")).OIDCFake)
			},
			authorizeURL: "https://dev-123.okta.com/oauth2/v1/authorize",
			nonce:        true,
			email:        presetEmail, emailVerified: true,
			providerRefresh: true, logout: wantOK, revoke: wantOK,
			convertID: wantOK, convertAccess: wantOK, otherID: notTested, otherAccess: notTested,
		},
		{
			name: "keycloak",
			env:  map[string]string{"BASE_URL": "https://kc.example.com/realms/demo"},
			start: func(t *testing.T) presetFake {
				return jwtFake(presettest.NewKeycloak(t, "kc.example.com", "demo", false, oidcClient("keycloak")).OIDCFake)
			},
			authorizeURL: "https://kc.example.com/realms/demo/protocol/openid-connect/auth",
			issParam:     true,
			nonce:        true,
			email:        presetEmail, emailVerified: true,
			providerRefresh: true, logout: wantOK, revoke: wantOK,
			convertID: wantOK, convertAccess: wantOK, otherID: notTested, otherAccess: notTested,
		},
		{
			name: "zitadel",
			env:  map[string]string{"BASE_URL": "acme.zitadel.cloud", "TRUSTED_AUDIENCES": "284739218374827364", "SCOPES": offline},
			start: func(t *testing.T) presetFake {
				return oidcFake(presettest.NewZitadel(t, "acme.zitadel.cloud", "284739218374827364", oidcClient("zitadel")).OIDCFake)
			},
			authorizeURL: "https://acme.zitadel.cloud/oauth/v2/authorize",
			nonce:        true,
			email:        presetEmail, emailVerified: true,
			providerRefresh: true, logout: wantOK, revoke: wantOK,
			convertID: wantOK, convertAccess: wantOK, otherID: notTested, otherAccess: notTested,
		},
		{
			name: "slack",
			start: func(t *testing.T) presetFake {
				return oidcFake(presettest.NewSlack(t, "T0123456789", oidcClient("slack")).OIDCFake)
			},
			authorizeURL: "https://slack.com/openid/connect/authorize",
			nonce:        true,
			email:        presetEmail, emailVerified: true,
			logout: wantUnsupp, revoke: wantUnsupp,
			convertID: wantOK, convertAccess: wantInvalid, otherID: notTested, otherAccess: notTested,
		},
		{
			name: "linkedin",
			start: func(t *testing.T) presetFake {
				return oidcFake(presettest.NewLinkedIn(t, oidcClient("linkedin")).OIDCFake)
			},
			authorizeURL: "https://www.linkedin.com/oauth/v2/authorization",
			nonce:        true, // sent, though LinkedIn never echoes it
			email:        presetEmail, emailVerified: true,
			logout: wantUnsupp, revoke: wantUnsupp,
			convertID: wantOK, convertAccess: wantInvalid, otherID: notTested, otherAccess: notTested,
		},
		{
			name: "discord",
			start: func(t *testing.T) presetFake {
				d := presettest.NewDiscord(t, presetClientID, presetClientSecret)
				return presetFake{client: d.Client(), authorize: d.Authorize, otherAccess: d.TokenForApp(presetOtherClient)}
			},
			authorizeURL: "https://discord.com/oauth2/authorize",
			issParam:     true,
			subject:      "80351110224678912", email: "nelly@example.com", emailVerified: true,
			providerRefresh: true, logout: wantUnsupp, revoke: wantOK,
			convertID: wantInvalid, convertAccess: wantOK, otherID: notTested, otherAccess: wantInvalid,
		},
		{
			name: "facebook",
			start: func(t *testing.T) presetFake {
				f := presettest.NewFacebook(t, presetClientID, presetClientSecret)
				return presetFake{client: f.Client(), authorize: f.Authorize, otherAccess: f.TokenForApp(presetOtherClient, time.Hour)}
			},
			authorizeURL: "https://www.facebook.com/v27.0/dialog/oauth",
			subject:      "10215241773831025", email: "ada@example.com", emailVerified: false, // Facebook vouches for no address
			logout: wantUnsupp, revoke: wantUnsupp,
			convertID: wantInvalid, convertAccess: wantOK, otherID: notTested, otherAccess: wantInvalid,
		},
		twitterCase("twitter"),
		twitterCase("x"),
	}
}

func twitterCase(name string) presetCase {
	return presetCase{
		name: name,
		start: func(t *testing.T) presetFake {
			tw := presettest.NewTwitter(t, presetClientID, presetClientSecret)
			return presetFake{client: tw.Client(), authorize: tw.Authorize}
		},
		authorizeURL:    "https://x.com/i/oauth2/authorize",
		subject:         "2244994945", // X gives no email
		providerRefresh: true, logout: wantUnsupp, revoke: wantOK,
		convertID: wantInvalid, convertAccess: wantInvalid, otherID: notTested, otherAccess: notTested,
	}
}

// presetServer is edgeauth configured from the environment for one preset.
type presetServer struct {
	t *testing.T
	h http.Handler
}

func newPresetServer(t *testing.T, tc presetCase, fake presetFake) *presetServer {
	t.Helper()
	env := validEnv(t)
	for k := range env {
		if strings.HasPrefix(k, "EDGEAUTH_ACME_") {
			delete(env, k)
		}
	}
	prefix := "EDGEAUTH_" + strings.ToUpper(tc.name) + "_"
	env["EDGEAUTH_PROVIDERS"] = tc.name
	env[prefix+"CLIENT_ID"] = presetClientID
	env[prefix+"CLIENT_SECRET"] = presetClientSecret
	env[prefix+"REDIRECT_URI"] = presetRedirect(tc.name)
	for k, v := range tc.env {
		env[prefix+k] = v
	}
	setEnv(t, env)
	cfg, err := LoadConfig(noPort, nil)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	srv, err := New(cfg, Options{HTTPClient: fake.client})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	return &presetServer{t: t, h: srv.Handler()}
}

// do calls edgeauth in process; body, when not nil, is sent as JSON.
func (s *presetServer) do(method, target string, body any, header http.Header) answer {
	s.t.Helper()
	raw := ""
	if body != nil {
		raw = mustJSON(body)
	}
	req := httptest.NewRequest(method, target, strings.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	maps.Copy(req.Header, header)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return answer{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// expect checks an answer against an outcome (success is any 2xx status)
// and reports whether the call succeeded as wanted, so that the caller
// goes on to check what it answered.
func (s *presetServer) expect(what string, a answer, want outcome) bool {
	s.t.Helper()
	if want.code == "" {
		if a.status < 200 || a.status > 299 {
			s.t.Errorf("%s: status %d, want success: %s", what, a.status, a.body)
			return false
		}
		return true
	}
	var p Problem
	if err := json.Unmarshal(a.body, &p); err != nil || a.status != want.status || p.Code != want.code {
		s.t.Errorf("%s: %d %s, want %d %s", what, a.status, a.body, want.status, want.code)
	}
	return false
}

// decode reads a JSON answer into out.
func (s *presetServer) decode(a answer, out any) {
	s.t.Helper()
	if err := json.Unmarshal(a.body, out); err != nil {
		s.t.Fatalf("decode: %v: %s", err, a.body)
	}
}

// checkUser asserts the user of a token or convert answer and that its
// API access token verifies at /oauth2/verify.
func (s *presetServer) checkUser(tc presetCase, tr tokenResponse, subject string) {
	s.t.Helper()
	u := tr.User
	if u["subject"] != subject || u["id"] != tc.name+"|"+subject || u["provider"] != tc.name {
		s.t.Errorf("user %v, want subject %q, id %q", u, subject, tc.name+"|"+subject)
	}
	if tc.email == "" {
		if _, has := u["email"]; has {
			s.t.Errorf("user has an email %v, want none", u["email"])
		}
	} else if u["email"] != tc.email || u["email_verified"] != tc.emailVerified {
		s.t.Errorf("user email %v verified %v, want %q verified %v", u["email"], u["email_verified"], tc.email, tc.emailVerified)
	}
	a := s.do(http.MethodGet, "/oauth2/verify", nil, http.Header{"Authorization": {"Bearer " + tr.API.Access}})
	if a.status != http.StatusOK || a.header.Get("X-Auth-Request-User") != tc.name+"|"+subject {
		s.t.Errorf("verify of the API access token: %d, user %q: %s", a.status, a.header.Get("X-Auth-Request-User"), a.body)
	}
}

// convert posts token to /oauth2/convert-token (with token_type kind,
// none when "") and, when it succeeds as wanted, checks the user it
// answers.
func (s *presetServer) convert(tc presetCase, subject, what, token, kind string, want outcome) {
	s.t.Helper()
	body := map[string]string{"provider": tc.name, "token": token}
	if kind != "" {
		body["token_type"] = kind
	}
	a := s.do(http.MethodPost, "/oauth2/convert-token", body, nil)
	if s.expect(what, a, want) {
		var ct tokenResponse
		s.decode(a, &ct)
		s.checkUser(tc, ct, subject)
	}
}

func TestPresetMatrix(t *testing.T) {
	for _, tc := range presetCases() {
		t.Run(tc.name, func(t *testing.T) {
			fake := tc.start(t)
			s := newPresetServer(t, tc, fake)
			p := url.QueryEscape(tc.name)

			// 1. The authorization URL: the provider's real endpoint, PKCE
			// S256 and, for OpenID Connect presets, a nonce.
			binding := rand.Text() + rand.Text()
			a := s.do(http.MethodGet, "/oauth2/url?provider="+p+"&binding="+binding, nil, nil)
			if a.status != http.StatusOK {
				t.Fatalf("/oauth2/url: %d %s", a.status, a.body)
			}
			var ur urlResponse
			s.decode(a, &ur)
			au, err := url.Parse(ur.URL)
			if err != nil {
				t.Fatal(err)
			}
			q := au.Query()
			if got := au.Scheme + "://" + au.Host + au.Path; got != tc.authorizeURL {
				t.Errorf("authorization endpoint %s, want %s", got, tc.authorizeURL)
			}
			if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
				t.Errorf("PKCE: method %q challenge %q, want S256", q.Get("code_challenge_method"), q.Get("code_challenge"))
			}
			if q.Get("client_id") != presetClientID || q.Get("redirect_uri") != presetRedirect(tc.name) || q.Get("state") != ur.State {
				t.Errorf("authorization URL %s: wrong client_id, redirect_uri or state", ur.URL)
			}
			if has := q.Get("nonce") != ""; has != tc.nonce {
				t.Errorf("nonce sent: %v, want %v", has, tc.nonce)
			}

			// 2. The user completes the authorize step at the provider; the
			// app posts the callback's code, state and iss.
			cb, err := fake.authorize(ur.URL)
			if err != nil {
				t.Fatalf("authorize at the fake: %v", err)
			}
			cq := cb.Query()
			if cq.Get("code") == "" || cq.Get("state") != ur.State {
				t.Fatalf("callback %s: no code, or another state", cb)
			}
			if got := cq.Get("iss") != ""; got != tc.issParam {
				t.Errorf("callback carries iss: %v, want %v", got, tc.issParam)
			}
			exchange := func(iss string) answer {
				return s.do(http.MethodPost, "/oauth2/token", map[string]string{
					"provider": tc.name, "code": cq.Get("code"), "state": cq.Get("state"), "iss": iss, "binding": binding,
				}, nil)
			}
			if tc.issParam {
				// Mix-up defence (RFC 9207): another issuer is refused.
				s.expect("token with another iss", exchange("https://evil.example"), outcome{code: CodeIssuerMismatch, status: http.StatusBadRequest})
			}
			a = exchange(cq.Get("iss"))
			if a.status != http.StatusOK {
				t.Fatalf("/oauth2/token: %d %s", a.status, a.body)
			}
			var tr tokenResponse
			s.decode(a, &tr)
			subject := tc.subject
			if subject == "" {
				subject = fake.subject
			}
			s.checkUser(tc, tr, subject)
			if tr.Provider == nil || tr.Provider.AccessToken == "" {
				t.Fatalf("no provider access token: %s", a.body)
			}
			if got := tr.Provider.IDToken != ""; got != tc.nonce {
				t.Errorf("provider id_token present: %v, want %v", got, tc.nonce)
			}
			if got := tr.Provider.RefreshToken != ""; got != tc.providerRefresh {
				t.Errorf("provider refresh_token present: %v, want %v", got, tc.providerRefresh)
			}

			// 3a. Convert: our own tokens, then another client's.
			if tc.convertID != notTested {
				tok := tr.Provider.IDToken
				if tok == "" {
					tok = tr.Provider.AccessToken // an OAuth 2.0 preset has no ID token to give
				}
				s.convert(tc, subject, "convert the ID token", tok, "id_token", tc.convertID)
			}
			s.convert(tc, subject, "convert the access token", tr.Provider.AccessToken, "access_token", tc.convertAccess)
			if fake.jwtAccess != nil {
				// Where access tokens are JWTs, as the provider issues them,
				// with the type left for edgeauth to detect.
				jwtTok, err := fake.jwtAccess(tr.Provider.AccessToken)
				if err != nil {
					t.Fatal(err)
				}
				s.convert(tc, subject, "convert the JWT access token", jwtTok, "", wantOK)
			}
			for _, other := range []struct {
				what, token, kind string
				want              outcome
			}{
				{"another client's ID token", fake.otherID, "id_token", tc.otherID},
				{"another client's access token", fake.otherAccess, "access_token", tc.otherAccess},
			} {
				if (other.token == "") != (other.want == notTested) {
					t.Errorf("%s: the fake has one: %v, the table tests it: %v", other.what, other.token != "", other.want != notTested)
					continue
				}
				if other.token != "" {
					s.expect("convert "+other.what, s.do(http.MethodPost, "/oauth2/convert-token", map[string]string{"provider": tc.name, "token": other.token, "token_type": other.kind}, nil), other.want)
				}
			}

			// 3b. Refresh: always a new session; at the provider when the
			// login got a provider refresh token.
			a = s.do(http.MethodPost, "/oauth2/refresh", map[string]string{"refresh": tr.API.Refresh}, nil)
			if a.status != http.StatusOK {
				t.Fatalf("/oauth2/refresh: %d %s", a.status, a.body)
			}
			var rr tokenResponse
			s.decode(a, &rr)
			if rr.API.Refresh == "" || rr.API.Refresh == tr.API.Refresh {
				t.Errorf("refresh token not rotated")
			}
			if got := rr.Provider != nil && rr.Provider.AccessToken != ""; got != tc.providerRefresh {
				t.Errorf("refreshed at the provider: %v, want %v", got, tc.providerRefresh)
			}

			// 3c. Logout URL.
			a = s.do(http.MethodGet, "/oauth2/logout-url?provider="+p+"&id_token_hint="+url.QueryEscape(tr.Provider.IDToken), nil, nil)
			if s.expect("logout-url", a, tc.logout) {
				var lr logoutResponse
				s.decode(a, &lr)
				if fake.endSession == "" || !strings.HasPrefix(lr.URL, fake.endSession+"?") {
					t.Errorf("logout URL %s, want the end_session_endpoint %q", lr.URL, fake.endSession)
				}
			}

			// 3d. Revoke: the session's provider refresh token when it has
			// one (then the session ends at its next refresh), else the
			// provider access token.
			token := tr.Provider.AccessToken
			if tc.providerRefresh {
				token = rr.API.Refresh
			}
			a = s.do(http.MethodPost, "/oauth2/revoke", map[string]string{"provider": tc.name, "token": token}, nil)
			switch revoked := s.expect("revoke", a, tc.revoke); {
			case revoked && tc.providerRefresh:
				s.expect("refresh after revoke", s.do(http.MethodPost, "/oauth2/refresh", map[string]string{"refresh": rr.API.Refresh}, nil),
					outcome{code: CodeSessionEnded, status: http.StatusUnauthorized})
			case revoked && tc.convertAccess == wantOK:
				s.expect("convert the revoked access token", s.do(http.MethodPost, "/oauth2/convert-token",
					map[string]string{"provider": tc.name, "token": tr.Provider.AccessToken, "token_type": "access_token"}, nil), wantInvalid)
			}
		})
	}
}
