package oidc

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// oauth2AuthCodeURL is the authorization URL as x/oauth2 makes it, with
// the options AuthCodeURL used to pass: the reference buildAuthURL must
// match byte for byte.
func oauth2AuthCodeURL(cfg Config, authURL string, r AuthRequest) string {
	opts := []oauth2.AuthCodeOption{}
	for _, k := range slices.Sorted(maps.Keys(cfg.AuthParams)) {
		opts = append(opts, oauth2.SetAuthURLParam(k, cfg.AuthParams[k]))
	}
	if r.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", r.Prompt))
	}
	if r.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", r.LoginHint))
	}
	if cfg.Type == TypeOIDC {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", r.Nonce))
	}
	opts = append(opts, oauth2.S256ChallengeOption(r.CodeVerifier))
	oc := &oauth2.Config{
		ClientID:    cfg.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: authURL},
		RedirectURL: r.RedirectURI,
		Scopes:      cfg.Scopes,
	}
	return oc.AuthCodeURL(r.State, opts...)
}

func TestAuthURLMatchesOAuth2(t *testing.T) {
	verifier := strings.Repeat("aB3-._~", 7)[:43]
	base := AuthRequest{
		State:        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..iv.ct.tag",
		Nonce:        "n-0S6_WzA2Mj",
		CodeVerifier: verifier,
		RedirectURI:  "https://app.example.com/callback",
	}
	with := func(f func(*AuthRequest)) AuthRequest { r := base; f(&r); return r }
	oidcCfg := Config{Type: TypeOIDC, ClientID: "client-1", Scopes: []string{"openid", "email", "profile"}}
	cases := []struct {
		name    string
		cfg     Config
		authURL string
		r       AuthRequest
	}{
		{"oidc plain", oidcCfg, "https://op.example.com/authorize", base},
		{"endpoint with a query", oidcCfg, "https://login.example.com/oauth2/v2.0/authorize?p=b2c_1_signin", base},
		{"endpoint ending in ?", oidcCfg, "https://op.example.com/authorize?", base},
		{"endpoint with a fragment-like path", oidcCfg, "https://op.example.com/a%20b/authorize", base},
		{"prompt", oidcCfg, "https://op.example.com/authorize", with(func(r *AuthRequest) { r.Prompt = "login consent" })},
		{"login_hint with specials", oidcCfg, "https://op.example.com/authorize",
			with(func(r *AuthRequest) { r.LoginHint = "jöe+tag@example.com &x=y/z?#%~ é\t\n" })},
		{"prompt and login_hint override AuthParams",
			Config{Type: TypeOIDC, ClientID: "c", Scopes: []string{"openid"}, AuthParams: map[string]string{"prompt": "consent", "login_hint": "default@x", "access_type": "offline"}},
			"https://accounts.google.com/o/oauth2/v2/auth",
			with(func(r *AuthRequest) { r.Prompt = "select_account"; r.LoginHint = "u@example.com" })},
		{"AuthParams defaults kept",
			Config{Type: TypeOIDC, ClientID: "c", Scopes: []string{"openid"}, AuthParams: map[string]string{"prompt": "consent", "login_hint": "default@x"}},
			"https://op.example.com/authorize", base},
		{"AuthParams sorted around the protocol ones",
			Config{Type: TypeOIDC, ClientID: "c", Scopes: []string{"openid"}, AuthParams: map[string]string{
				"zeta": "1", "a": "2", "response_mode": "form_post", "code": "3", "code_challenge_z": "4", "code_challengf": "5",
				"claims": `{"id_token":{"acr":null}}`, "Upper": "U", "_x": "y", "": "empty key", "sp ace": "v a l"}},
			"https://appleid.apple.com/auth/authorize", base},
		{"oauth2 type without nonce",
			Config{Type: TypeOAuth2, ClientID: "Iv1.abc", Scopes: []string{"read:user", "user:email"}},
			"https://github.com/login/oauth/authorize", with(func(r *AuthRequest) { r.Nonce = "" })},
		{"oauth2 type ignores a nonce",
			Config{Type: TypeOAuth2, ClientID: "Iv1.abc", Scopes: []string{"identify"}},
			"https://discord.com/oauth2/authorize", base},
		{"no scopes", Config{Type: TypeOAuth2, ClientID: "c"}, "https://op.example.com/authorize", base},
		{"empty client id", Config{Type: TypeOIDC, Scopes: []string{"openid"}}, "https://op.example.com/authorize", base},
		{"client id and scopes with specials",
			Config{Type: TypeOIDC, ClientID: "id with spaces&=?/+", Scopes: []string{"openid", "https://graph.microsoft.com/User.Read", "offline_access"}},
			"https://login.microsoftonline.com/common/oauth2/v2.0/authorize", base},
		{"redirect with query and port", oidcCfg, "https://op.example.com/authorize",
			with(func(r *AuthRequest) { r.RedirectURI = "http://127.0.0.1:8080/cb?x=1&y=a b" })},
		{"long verifier", oidcCfg, "https://op.example.com/authorize",
			with(func(r *AuthRequest) { r.CodeVerifier = strings.Repeat("Z", 128) })},
		{"unicode auth params",
			Config{Type: TypeOIDC, ClientID: "c", Scopes: []string{"openid"}, AuthParams: map[string]string{"ui_locales": "de-CH fr", "acr_values": "ü€😀"}},
			"https://op.example.com/authorize", with(func(r *AuthRequest) { r.Prompt = "none" })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &Provider{cfg: tc.cfg}
			want := oauth2AuthCodeURL(tc.cfg, tc.authURL, tc.r)
			if got := p.buildAuthURL(tc.authURL, tc.r); got != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
		})
	}
}

// FuzzAuthURLMatchesOAuth2 checks the same equality for arbitrary
// parameter values.
func FuzzAuthURLMatchesOAuth2(f *testing.F) {
	f.Add("https://op/authorize", "client", "openid email", "login", "a@b", "k", "v w&x")
	f.Add("https://op/authorize?x=1", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, authURL, clientID, scopes, prompt, hint, k, v string) {
		cfg := Config{Type: TypeOIDC, ClientID: clientID, Scopes: strings.Fields(scopes)}
		if !isProtectedAuthParam(k) {
			cfg.AuthParams = map[string]string{k: v}
		}
		r := AuthRequest{State: "s", Nonce: "n", CodeVerifier: strings.Repeat("v", 43), RedirectURI: "https://app/cb", Prompt: prompt, LoginHint: hint}
		p := &Provider{cfg: cfg}
		if got, want := p.buildAuthURL(authURL, r), oauth2AuthCodeURL(cfg, authURL, r); got != want {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	})
}

// TestAuthURLAllocations keeps the URL to one allocation with a single
// scope (the joined scope list is the second when there are several).
func TestAuthURLAllocations(t *testing.T) {
	p := &Provider{cfg: Config{Type: TypeOIDC, ClientID: "c", Scopes: []string{"openid"}, AuthParams: map[string]string{"prompt": "consent"}}}
	r := AuthRequest{State: "s", Nonce: "n", CodeVerifier: strings.Repeat("v", 43), RedirectURI: "https://app/cb", LoginHint: "a@b"}
	if n := testing.AllocsPerRun(100, func() { _ = p.buildAuthURL("https://op/authorize", r) }); n > 1 {
		t.Errorf("%v allocations, want 1", n)
	}
}
