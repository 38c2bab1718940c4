package oidc

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewValidation(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want []string // substrings, each must appear
	}{
		{
			name: "everything wrong at once",
			cfg: Config{
				Type:        "oidc",
				Issuer:      "http://op.example",
				ClientAuth:  "jwt",
				Userinfo:    "sometimes",
				SigningAlgs: []string{"none", "RS1"},
				AuthURL:     "https://op.example/auth?client_id=evil",
				JWKSURL:     "ftp://op.example/jwks",
				Timeout:     -time.Second,
				AuthParams:  map[string]string{"state": "x", "code_challenge": "y"},
				Scopes:      []string{"email"},
			},
			want: []string{"name: missing", "client_id: missing", "issuer:", "must use https", "client_auth:", `"jwt"`,
				"userinfo:", `"sometimes"`, "none is never allowed", `unknown "RS1"`, "auth_url:", `"client_id"`,
				"jwks_url:", "timeout: negative", `"state" is set by edgeauth`, `"code_challenge" is set by edgeauth`,
				"needs the openid scope"},
		},
		{name: "unknown type", cfg: Config{Name: "op", Type: "myspace", ClientID: "c"}, want: []string{`unknown provider type "myspace"`}},
		{name: "oauth2 needs URLs", cfg: Config{Name: "op", Type: "oauth2", ClientID: "c"}, want: []string{"auth_url: missing", "token_url: missing", "userinfo_url: missing"}},
		{name: "oauth2 userinfo never", cfg: Config{Name: "op", Type: "oauth2", ClientID: "c", AuthURL: "https://a/x", TokenURL: "https://a/t", UserinfoURL: "https://a/u", Userinfo: "never"}, want: []string{"never is impossible"}},
		{name: "HS256 with a short secret", cfg: Config{Name: "op", Issuer: "https://op", ClientID: "c", ClientSecret: "short", SigningAlgs: []string{"HS256"}}, want: []string{"HS256 needs a client secret of at least 32 bytes"}},
		{name: "issuer with query", cfg: Config{Name: "op", Issuer: "https://op/?a=b", ClientID: "c"}, want: []string{"must not have a query"}},
		{name: "issuer with fragment", cfg: Config{Name: "op", Issuer: "https://op/#frag", ClientID: "c"}, want: []string{"fragment"}},
		{name: "issuer with credentials", cfg: Config{Name: "op", Issuer: "https://u:p@op/", ClientID: "c"}, want: []string{"credentials"}},
		{name: "issuer relative", cfg: Config{Name: "op", Issuer: "/op", ClientID: "c"}, want: []string{"not an absolute URL"}},
		{name: "missing issuer", cfg: Config{Name: "op", ClientID: "c"}, want: []string{"issuer: missing"}},
		{name: "microsoft without tenant", cfg: Config{Name: "ms", Type: "microsoft", ClientID: "c"}, want: []string{"tenant-id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	for _, issuer := range []string{"https://op.example", "http://localhost:8080/op", "http://127.0.0.1:9", "http://[::1]:9/"} {
		p, err := New(Config{Name: "op", Issuer: issuer, ClientID: "c"})
		if err != nil {
			t.Fatalf("%s: %v", issuer, err)
		}
		c := p.cfg
		if c.Type != TypeOIDC || c.Userinfo != UserinfoAuto || c.ClientAuth != ClientAuthBasic || c.SubjectClaim != "sub" ||
			c.Timeout != defaultTimeout || strings.Join(c.Scopes, " ") != "openid email profile" ||
			strings.Join(c.SigningAlgs, ",") != "RS256,ES256,PS256,EdDSA" {
			t.Fatalf("defaults: %+v", c)
		}
		if p.client.Timeout != defaultTimeout || p.client.CheckRedirect == nil {
			t.Fatal("client without timeout or redirect policy")
		}
	}
}

// TestNewNoNetwork: New must not touch the network (serverless cold
// starts), even for an unreachable provider.
func TestNewNoNetwork(t *testing.T) {
	clk := newClock()
	op := newKeyOP(t)
	op.provider(t, clk, nil)
	if n := op.discFetches.Load() + op.jwksFetches.Load() + op.otherFetches.Load(); n != 0 {
		t.Fatalf("New made %d requests", n)
	}
}

func TestHTTPClientCopied(t *testing.T) {
	mine := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	p, err := New(Config{Name: "op", Issuer: "https://op", ClientID: "c", HTTPClient: mine, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if p.client == mine || p.client.Timeout != 3*time.Second {
		t.Fatal("configured client used as is")
	}
	if err := p.client.CheckRedirect(nil, nil); !errors.Is(err, http.ErrUseLastResponse) {
		t.Fatal("redirects followed")
	}
	if mine.Timeout != 0 || mine.CheckRedirect(nil, nil) != nil {
		t.Fatal("caller's client modified")
	}
}

func TestApplyPreset(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		check func(t *testing.T, c Config)
		err   string
	}{
		{name: "google by type", cfg: Config{Type: "google"}, check: func(t *testing.T, c Config) {
			if c.Type != TypeOIDC || c.Issuer != "https://accounts.google.com" {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "google by name", cfg: Config{Name: "google"}, check: func(t *testing.T, c Config) {
			if c.Issuer != "https://accounts.google.com" {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "gitlab", cfg: Config{Type: "gitlab"}, check: func(t *testing.T, c Config) {
			if c.Issuer != "https://gitlab.com" {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "github", cfg: Config{Type: "github"}, check: func(t *testing.T, c Config) {
			if c.Type != TypeOAuth2 || c.AuthURL != "https://github.com/login/oauth/authorize" ||
				c.TokenURL != "https://github.com/login/oauth/access_token" || c.UserinfoURL != "https://api.github.com/user" ||
				c.SubjectClaim != "id" || strings.Join(c.Scopes, " ") != "read:user user:email" {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "apple", cfg: Config{Type: "apple", AuthParams: map[string]string{"locale": "fr"}}, check: func(t *testing.T, c Config) {
			if c.Issuer != "https://appleid.apple.com" || c.ClientAuth != ClientAuthPost ||
				c.AuthParams["response_mode"] != "form_post" || c.AuthParams["locale"] != "fr" {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "microsoft with tenant", cfg: Config{Type: "microsoft", Issuer: "https://login.microsoftonline.com/tid/v2.0"}, check: func(t *testing.T, c Config) {
			if c.Type != TypeOIDC || c.Issuer != "https://login.microsoftonline.com/tid/v2.0" {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "microsoft without tenant", cfg: Config{Type: "microsoft"}, err: "tenant-id"},
		{name: "overrides kept", cfg: Config{Type: "github", SubjectClaim: "login", Scopes: []string{"read:user"}}, check: func(t *testing.T, c Config) {
			if c.SubjectClaim != "login" || len(c.Scopes) != 1 {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "plain oidc untouched", cfg: Config{Name: "google", Type: "oidc", Issuer: "https://mine"}, check: func(t *testing.T, c Config) {
			if c.Issuer != "https://mine" {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "unknown", cfg: Config{Type: "myspace"}, err: "unknown provider type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			err := ApplyPreset(&c)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
			// Every preset must then pass New.
			c.Name, c.ClientID, c.ClientSecret = "op", "c", "s"
			if _, err := New(c); err != nil {
				t.Fatalf("New after preset: %v", err)
			}
		})
	}
	if err := ApplyPreset(nil); err == nil {
		t.Fatal("nil config accepted")
	}
	// A preset map in a Config is not shared between providers.
	a := Config{Type: "apple"}
	_ = ApplyPreset(&a)
	a.AuthParams["x"] = "y"
	b := Config{Type: "apple"}
	_ = ApplyPreset(&b)
	if _, ok := b.AuthParams["x"]; ok {
		t.Fatal("preset AuthParams shared")
	}
}

func TestErrorText(t *testing.T) {
	cause := errors.New(`provider said {"secret":"x"}`)
	e := &Error{Code: CodeUnavailable, Check: "token", Detail: "token: provider answered HTTP 500", Err: cause}
	if strings.Contains(e.Error(), "secret") || e.Error() != "oidc: provider_unavailable: token: provider answered HTTP 500" {
		t.Fatalf("Error() = %q", e.Error())
	}
	if !errors.Is(e, cause) {
		t.Fatal("Unwrap")
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "err", e)
	if !strings.Contains(b.String(), "err.cause=") || !strings.Contains(b.String(), "err.code=provider_unavailable") {
		t.Fatalf("log = %s", b.String())
	}
	if (&Error{Code: CodeUnavailable}).Error() != "oidc: provider_unavailable" {
		t.Fatal("bare error text")
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 100)
	got := clip(long)
	if len(got) > 80 || !strings.HasSuffix(got, "…") {
		t.Fatalf("clip = %q", got)
	}
	if clip("a\nb") != `"a\nb"` {
		t.Fatal("control characters not quoted")
	}
}

// TestConfigErrorFields: every problem names its setting as the env
// variable's suffix, so that a caller maps it without parsing text.
func TestConfigErrorFields(t *testing.T) {
	const secret = "the-client-secret-never-in-a-message"
	cases := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"basics", Config{Name: "op", ClientSecret: secret, Issuer: "ftp://op", ClientAuth: "jwt", Userinfo: "x", Timeout: -1, SigningAlgs: []string{"none"}, Scopes: []string{"email"}, AuthParams: map[string]string{"nonce": secret}},
			[]string{"client_id", "issuer", "client_auth", "userinfo", "timeout", "signing_algs", "scopes", "auth_params"}},
		{"endpoints", Config{Name: "op", ClientID: "c", ClientSecret: secret, Type: TypeOAuth2, JWKSURL: "http://op.example/j", RevocationURL: "x", EndSessionURL: "x", IntrospectionURL: "http://op.example/i"},
			[]string{"auth_url", "token_url", "userinfo_url", "jwks_url", "revocation_url", "end_session_url", "introspection_url"}},
		{"convert", Config{Name: "op", ClientID: "c", ClientSecret: secret, Issuer: "https://op", ConvertAudiences: []string{""}, ConvertMaxAge: 25 * time.Hour, ConvertAccessToken: "trust-me", TrustedAudiences: []string{""}},
			[]string{"convert_audiences", "convert_max_age", "convert_access_token", "trusted_audiences"}},
		{"negative age", Config{Name: "op", ClientID: "c", Issuer: "https://op", ConvertMaxAge: -time.Second}, []string{"convert_max_age"}},
		{"hosted domains need google or microsoft", Config{Name: "op", ClientID: "c", Issuer: "https://op", HostedDomains: []string{"example.com"}}, []string{"hosted_domains"}},
		{"hosted domains on github", Config{Name: "gh", Type: "github", ClientID: "c", HostedDomains: []string{"example.com"}}, []string{"hosted_domains"}},
		{"unknown type", Config{Name: "op", Type: "myspace", ClientID: "c"}, []string{"type", "issuer"}},
		{"microsoft without tenant", Config{Name: "ms", Type: "microsoft", ClientID: "c"}, []string{"issuer"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			ce, ok := errors.AsType[*ConfigError](err)
			if !ok {
				t.Fatalf("err = %T %v, want *ConfigError", err, err)
			}
			if ce.Provider != tc.cfg.Name {
				t.Fatalf("provider %q", ce.Provider)
			}
			got := map[string]bool{}
			for _, p := range ce.Problems {
				got[p.Field] = true
				if strings.Contains(p.Msg, secret) || p.Msg == "" {
					t.Fatalf("problem %+v", p)
				}
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("no problem for %s in %+v", w, ce.Problems)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("problems %+v, want exactly %v", ce.Problems, tc.want)
			}
		})
	}
	_, err := New(Config{Name: "g", Type: "google", ClientID: "c", HostedDomains: []string{"example.com"}})
	if err != nil {
		t.Fatalf("google with hosted domains: %v", err)
	}
	err = ApplyPreset(&Config{Name: "op", Type: "myspace"})
	if ce, ok := errors.AsType[*ConfigError](err); !ok || len(ce.Problems) != 1 || ce.Problems[0].Field != "type" {
		t.Fatalf("ApplyPreset: %v", err)
	}
}

// TestPresetClientAuth: oidc owns the ClientAuth default, and a preset's
// choice wins over an empty setting (Apple and GitHub take the secret only
// in the body).
func TestPresetClientAuth(t *testing.T) {
	for _, tc := range []struct{ typ, issuer, want string }{
		{"apple", "", ClientAuthPost},
		{"github", "", ClientAuthPost},
		{"google", "", ClientAuthBasic},
		{"gitlab", "", ClientAuthBasic},
		{"microsoft", "https://login.microsoftonline.com/t/v2.0", ClientAuthBasic},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			c := Config{Name: tc.typ, Type: tc.typ, ClientID: "c", ClientSecret: "s", Issuer: tc.issuer}
			if err := ApplyPreset(&c); err != nil {
				t.Fatal(err)
			}
			if c.Preset != tc.typ || (c.Type != TypeOIDC && c.Type != TypeOAuth2) {
				t.Fatalf("preset %q type %q", c.Preset, c.Type)
			}
			if tc.want == ClientAuthPost && c.ClientAuth != tc.want {
				t.Fatalf("ApplyPreset: client auth %q, want %q", c.ClientAuth, tc.want)
			}
			p, err := New(Config{Name: tc.typ, Type: tc.typ, ClientID: "c", ClientSecret: "s", Issuer: tc.issuer})
			if err != nil {
				t.Fatal(err)
			}
			if p.cfg.ClientAuth != tc.want || p.Preset() != tc.typ {
				t.Fatalf("New: client auth %q preset %q, want %q", p.cfg.ClientAuth, p.Preset(), tc.want)
			}
			// Applying first, as a caller that inspects the result does,
			// changes nothing.
			p, err = New(c)
			if err != nil || p.cfg.ClientAuth != tc.want || p.Preset() != tc.typ {
				t.Fatalf("after ApplyPreset: %v %q", err, p.cfg.ClientAuth)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	for code, want := range map[ErrorCode]Fault{
		CodeExchangeFailed: FaultClient, CodeUnavailable: FaultProvider, CodeInvalidIDToken: FaultClient,
		CodeNonceMismatch: FaultClient, CodeUserinfoFailed: FaultProvider, CodeIssuerMismatch: FaultClient,
		CodeInvalidToken: FaultClient, CodeUnsupported: FaultClient, CodeDomainNotAllowed: FaultClient,
	} {
		e, _ := errors.AsType[*Error](newError(code, "c", nil, "c: x"))
		if e.Fault != want {
			t.Errorf("%s: fault %v, want %v", code, e.Fault, want)
		}
	}
}
