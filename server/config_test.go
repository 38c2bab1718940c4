package server

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/statecodec"
)

// validEnv is a complete serve-mode configuration with one provider.
func validEnv(t *testing.T) map[string]string {
	t.Helper()
	signing, err := apitoken.GenerateSigningKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"EDGEAUTH_PUBLIC_URL":                 "https://auth.example.com",
		"EDGEAUTH_PROVIDERS":                  "acme",
		"EDGEAUTH_STATE_KEYS":                 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"EDGEAUTH_SIGNING_KEYS":               string(signing),
		"EDGEAUTH_ACME_ISSUER":                "https://login.acme.test",
		"EDGEAUTH_ACME_CLIENT_ID":             "client-1",
		"EDGEAUTH_ACME_CLIENT_SECRET":         "super-secret-value",
		"EDGEAUTH_ACME_REDIRECT_URI":          "https://app.example.com/callback",
		"EDGEAUTH_ACME_REDIRECT_URIS":         "https://app.example.com/cb2,https://app.example.com/callback",
		"EDGEAUTH_ACME_SCOPES":                "openid email, profile",
		"EDGEAUTH_ACME_AUTH_PARAMS":           "access_type:offline,hd:example.com",
		"EDGEAUTH_ACME_TIMEOUT":               "3s",
		"EDGEAUTH_ACME_ALLOWED_EMAIL_DOMAINS": "Example.com",
	}
}

func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func noPort(string) string { return "" }

func TestLoadConfigValid(t *testing.T) {
	setEnv(t, validEnv(t))
	cfg, err := LoadConfig(noPort, nil)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if cfg.Addr != ":8080" || cfg.StateTTL != 10*time.Minute || cfg.TokenIssuer != "https://auth.example.com" || cfg.TokenAudience != cfg.TokenIssuer {
		t.Errorf("defaults: addr %q state ttl %v issuer %q audience %q", cfg.Addr, cfg.StateTTL, cfg.TokenIssuer, cfg.TokenAudience)
	}
	if len(cfg.Providers) != 1 {
		t.Fatalf("providers: %d", len(cfg.Providers))
	}
	p := cfg.Providers[0]
	if p.Name != "acme" || p.DisplayName != "Acme" || p.OIDC.ClientSecret != "super-secret-value" || p.OIDC.Timeout != 3*time.Second {
		t.Errorf("provider: %+v", p)
	}
	if got := strings.Join(p.RedirectURIs, " "); got != "https://app.example.com/callback https://app.example.com/cb2" {
		t.Errorf("redirect URIs: %s", got)
	}
	if got := strings.Join(p.OIDC.Scopes, " "); got != "openid email profile" {
		t.Errorf("scopes: %s", got)
	}
	if p.OIDC.AuthParams["access_type"] != "offline" || p.OIDC.AuthParams["hd"] != "example.com" {
		t.Errorf("auth params: %v", p.OIDC.AuthParams)
	}
	if p.AllowedEmailDomains[0] != "example.com" {
		t.Errorf("domains: %v", p.AllowedEmailDomains)
	}
	if len(cfg.StateKeys) != 1 || cfg.SigningKeys.Len() != 1 {
		t.Errorf("keys not parsed")
	}
}

func TestLoadConfigPortAndBaseURL(t *testing.T) {
	env := validEnv(t)
	delete(env, "EDGEAUTH_ACME_ISSUER")
	env["EDGEAUTH_ACME_BASE_URL"] = "dev-123.okta.test/"
	setEnv(t, env)
	cfg, err := LoadConfig(func(k string) string {
		if k == "PORT" {
			return "9000"
		}
		return ""
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":9000" {
		t.Errorf("PORT not honoured: %q", cfg.Addr)
	}
	rp, err := oidc.New(cfg.Providers[0].OIDC)
	if err != nil {
		t.Fatal(err)
	}
	if got := rp.Issuer(); got != "https://dev-123.okta.test" {
		t.Errorf("BASE_URL: issuer %q", got)
	}
}

// TestLoadConfigListsEveryProblem breaks many settings at once and expects
// each to be named in the one error, and no secret value in it.
func TestLoadConfigListsEveryProblem(t *testing.T) {
	env := validEnv(t)
	env["EDGEAUTH_STATE_TTL"] = "ten minutes"
	env["EDGEAUTH_BINDING"] = "sometimes"
	env["EDGEAUTH_STATE_KEYS"] = "short-key-material"
	env["EDGEAUTH_SIGNING_KEYS"] = "{not json"
	env["EDGEAUTH_PROVIDERS"] = "acme,Bad-Name,other"
	env["EDGEAUTH_ACME_TIMEOUT"] = "soon"
	env["EDGEAUTH_ACME_REDIRECT_URI"] = "/relative"
	env["EDGEAUTH_ACME_REDIRECT_URIS"] = ""
	env["EDGEAUTH_CORS_ORIGINS"] = "*"
	env["EDGEAUTH_OTHER_CLIENT_SECRET"] = "other-secret-value"
	setEnv(t, env)
	_, err := LoadConfig(noPort, nil)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want *ConfigError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"EDGEAUTH_STATE_TTL",
		"EDGEAUTH_BINDING",
		"EDGEAUTH_STATE_KEYS",
		"EDGEAUTH_SIGNING_KEYS",
		`"Bad-Name" is not a valid provider name`,
		"EDGEAUTH_ACME_TIMEOUT",
		"EDGEAUTH_ACME_REDIRECT_URI",
		"EDGEAUTH_CORS_ORIGINS",
		"EDGEAUTH_OTHER_CLIENT_ID: missing",
		"EDGEAUTH_OTHER_ISSUER: missing",
		"EDGEAUTH_OTHER_REDIRECT_URI: required",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{"super-secret-value", "other-secret-value", "short-key-material"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks %q:\n%s", secret, msg)
		}
	}
}

func TestLoadConfigRequiredInServeMode(t *testing.T) {
	t.Setenv("EDGEAUTH_PROVIDERS", "")
	_, err := LoadConfig(noPort, nil)
	if err == nil {
		t.Fatal("empty configuration accepted")
	}
	for _, want := range []string{"EDGEAUTH_PUBLIC_URL: required", "EDGEAUTH_STATE_KEYS: required", "EDGEAUTH_SIGNING_KEYS: required", "EDGEAUTH_PROVIDERS: empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestLoadConfigDevMode(t *testing.T) {
	t.Setenv("EDGEAUTH_ADDR", "127.0.0.1:8123")
	cfg, err := LoadConfig(noPort, &DevFlags{})
	if err != nil {
		t.Fatalf("dev config: %v", err)
	}
	if cfg.PublicURL != "http://localhost:8123" || cfg.Dev == nil || cfg.Providers[0].Name != DevProviderName {
		t.Errorf("dev defaults: public %q dev %+v", cfg.PublicURL, cfg.Dev)
	}
	if cfg.Dev.Issuer != "http://localhost:8123/dev/op" {
		t.Errorf("dev issuer %q", cfg.Dev.Issuer)
	}

	t.Setenv("EDGEAUTH_ENV", "production")
	if _, err := LoadConfig(noPort, &DevFlags{}); err == nil || !strings.Contains(err.Error(), "dev mode refuses") {
		t.Errorf("dev mode in production: %v", err)
	}
}

func TestLoadConfigBounds(t *testing.T) {
	cases := []struct {
		name, key, value, want string
	}{
		{"webhook attempt longer than the login may wait", "EDGEAUTH_USERHOOK_TIMEOUT", "30s", "EDGEAUTH_USERHOOK_TIMEOUT: must be between 1s and 15s"},
		{"app_state that no provider would carry", "EDGEAUTH_APP_STATE_MAX", "1024", "EDGEAUTH_APP_STATE_MAX"},
		{"origin with a path", "EDGEAUTH_CORS_ORIGINS", "https://app.example.com/", "is not an origin"},
		{"origin pattern", "EDGEAUTH_CORS_ORIGINS", "https://*.example.com", "is not an origin"},
		{"public URL with a query", "EDGEAUTH_PUBLIC_URL", "https://auth.example.com?x=1", "without query"},
		{"userhook without secret", "EDGEAUTH_USERHOOK_URL", "https://api.example.com/hook", "EDGEAUTH_USERHOOK_SECRET: required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv(t)
			env[tc.key] = tc.value
			setEnv(t, env)
			_, err := LoadConfig(noPort, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s=%s: got %v, want a problem containing %q", tc.key, tc.value, err, tc.want)
			}
		})
	}
}

// loadEnv loads validEnv with edits applied; an edit to "" removes the
// variable.
func loadEnv(t *testing.T, edits map[string]string, dev *DevFlags) (Config, error) {
	t.Helper()
	env := validEnv(t)
	for k, v := range edits {
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	setEnv(t, env)
	return LoadConfig(noPort, dev)
}

// problemFor returns the problem LoadConfig reported for variable.
func problemFor(t *testing.T, err error, variable string) (ConfigProblem, bool) {
	t.Helper()
	if err == nil {
		return ConfigProblem{}, false
	}
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want *ConfigError, got %T: %v", err, err)
	}
	for _, p := range ce.Problems {
		if p.Var == variable {
			return p, true
		}
	}
	return ConfigProblem{}, false
}

// TestProductionIsTheDefault: EDGEAUTH_ENV unset means production. Before,
// the default was development, so a deployment that forgot the variable ran
// with every production rule off (http PUBLIC_URL, BINDING=off, shared
// redirect URIs all accepted).
func TestProductionIsTheDefault(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		wantProd bool
		wantVar  string // "" accepted
	}{
		{"http public URL refused by default", map[string]string{"EDGEAUTH_PUBLIC_URL": "http://auth.example.com"}, true, "EDGEAUTH_PUBLIC_URL"},
		{"http 127.0.0.1 accepted", map[string]string{"EDGEAUTH_PUBLIC_URL": "http://127.0.0.1:8080"}, true, ""},
		{"http localhost accepted", map[string]string{"EDGEAUTH_PUBLIC_URL": "http://localhost:8080"}, true, ""},
		{"explicit production", map[string]string{"EDGEAUTH_ENV": "production", "EDGEAUTH_PUBLIC_URL": "http://auth.example.com"}, true, "EDGEAUTH_PUBLIC_URL"},
		{"development relaxes", map[string]string{"EDGEAUTH_ENV": "development", "EDGEAUTH_PUBLIC_URL": "http://auth.example.com"}, false, ""},
		{"bad value", map[string]string{"EDGEAUTH_ENV": "staging"}, true, "EDGEAUTH_ENV"},
		{"abbreviation", map[string]string{"EDGEAUTH_ENV": "dev"}, true, "EDGEAUTH_ENV"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadEnv(t, tc.env, nil)
			if tc.wantVar == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			} else if _, ok := problemFor(t, err, tc.wantVar); !ok {
				t.Fatalf("no problem for %s in %v", tc.wantVar, err)
			}
			if tc.wantVar != "EDGEAUTH_ENV" && cfg.Production != tc.wantProd {
				t.Errorf("Production %t, want %t", cfg.Production, tc.wantProd)
			}
		})
	}
}

// TestDevModeIsDevelopment: `edgeauth dev` is development by itself and
// refuses an explicit EDGEAUTH_ENV=production (its embedded provider lets
// anyone in).
func TestDevModeIsDevelopment(t *testing.T) {
	for _, tc := range []struct{ env, wantVar string }{
		{"", ""}, {"development", ""}, {"production", "EDGEAUTH_ENV"}, {"staging", "EDGEAUTH_ENV"},
	} {
		t.Run("ENV="+tc.env, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("EDGEAUTH_ENV", tc.env)
			}
			cfg, err := LoadConfig(noPort, &DevFlags{})
			if tc.wantVar != "" {
				if _, ok := problemFor(t, err, tc.wantVar); !ok {
					t.Fatalf("want a problem for %s, got %v", tc.wantVar, err)
				}
				return
			}
			if err != nil || cfg.Production || cfg.Dev == nil {
				t.Fatalf("dev mode: production %t dev %v err %v", cfg.Production, cfg.Dev, err)
			}
		})
	}
}

// TestProductionRules: what production refuses, the loopback exemption,
// and that development accepts it. Before, webhook URLs and post-logout
// URIs were not checked at all, and BINDING=off was accepted everywhere.
func TestProductionRules(t *testing.T) {
	const secret = "EDGEAUTH_USERHOOK_SECRET"
	cases := []struct {
		name    string
		env     map[string]string
		wantVar string // "" accepted in production too
	}{
		{"binding off", map[string]string{"EDGEAUTH_BINDING": "off"}, "EDGEAUTH_BINDING"},
		{"http webhook", map[string]string{"EDGEAUTH_USERHOOK_URL": "http://hooks.example.com/edgeauth", secret: testHookSecret}, "EDGEAUTH_USERHOOK_URL"},
		{"loopback http webhook", map[string]string{"EDGEAUTH_USERHOOK_URL": "http://127.0.0.1:9000/edgeauth", secret: testHookSecret}, ""},
		{"http provider webhook", map[string]string{"EDGEAUTH_ACME_USERHOOK_URL": "http://hooks.example.com/acme", secret: testHookSecret}, "EDGEAUTH_ACME_USERHOOK_URL"},
		{"localhost http provider webhook", map[string]string{"EDGEAUTH_ACME_USERHOOK_URL": "http://localhost:9000/acme", secret: testHookSecret}, ""},
		{"http CORS origin", map[string]string{"EDGEAUTH_CORS_ORIGINS": "https://app.example.com,http://app.example.com"}, "EDGEAUTH_CORS_ORIGINS"},
		{"localhost CORS origin", map[string]string{"EDGEAUTH_CORS_ORIGINS": "http://localhost:3000"}, ""},
		{"http redirect URI", map[string]string{"EDGEAUTH_ACME_REDIRECT_URIS": "http://app.example.com/callback"}, "EDGEAUTH_ACME_REDIRECT_URI(S)"},
		{"loopback redirect URI", map[string]string{"EDGEAUTH_ACME_REDIRECT_URIS": "http://127.0.0.1:3000/callback"}, ""},
		{"http post-logout URI", map[string]string{"EDGEAUTH_ACME_POST_LOGOUT_REDIRECT_URI": "http://app.example.com/"}, "EDGEAUTH_ACME_POST_LOGOUT_REDIRECT_URI(S)"},
		{"loopback post-logout URI", map[string]string{"EDGEAUTH_ACME_POST_LOGOUT_REDIRECT_URI": "http://[::1]:3000/"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadEnv(t, tc.env, nil)
			if tc.wantVar == "" {
				if err != nil {
					t.Fatalf("refused in production: %v", err)
				}
				return
			}
			p, ok := problemFor(t, err, tc.wantVar)
			if !ok {
				t.Fatalf("production accepted it; want a problem for %s, got %v", tc.wantVar, err)
			}
			if strings.Contains(p.Msg, testHookSecret) {
				t.Errorf("problem quotes the webhook secret: %s", p)
			}
			t.Setenv("EDGEAUTH_ENV", "development")
			cfg, err := LoadConfig(noPort, nil)
			if err != nil {
				t.Errorf("refused in development: %v", err)
			}
			if tc.wantVar == "EDGEAUTH_BINDING" && !cfg.BindingOff {
				t.Error("BINDING=off not applied in development")
			}
		})
	}
}

// TestSharedRedirectURIRefusedInProduction is the start-up half of the
// mix-up defence (mixup_test.go shows the attack). Before, two providers
// could share one redirect URI in production.
func TestSharedRedirectURIRefusedInProduction(t *testing.T) {
	shared := map[string]string{
		"EDGEAUTH_PROVIDERS":            "acme,hostile",
		"EDGEAUTH_HOSTILE_ISSUER":       "https://op.hostile.test",
		"EDGEAUTH_HOSTILE_CLIENT_ID":    "c",
		"EDGEAUTH_HOSTILE_REDIRECT_URI": "https://app.example.com/callback", // acme's too
	}
	_, err := loadEnv(t, shared, nil)
	p, ok := problemFor(t, err, "EDGEAUTH_HOSTILE_REDIRECT_URI(S)")
	if !ok {
		t.Fatalf("shared redirect URI accepted in production: %v", err)
	}
	if !strings.Contains(p.Msg, `"acme"`) || !strings.Contains(p.Var, "HOSTILE") || !strings.Contains(p.Msg, "mix-up") {
		t.Errorf("problem does not name both providers and the attack: %s", p)
	}

	t.Setenv("EDGEAUTH_ENV", "development")
	if _, err := LoadConfig(noPort, nil); err != nil {
		t.Errorf("development refused a shared redirect URI: %v", err)
	}
	t.Setenv("EDGEAUTH_ENV", "")
	t.Setenv("EDGEAUTH_HOSTILE_REDIRECT_URI", "https://app.example.com/callback/hostile")
	if _, err := LoadConfig(noPort, nil); err != nil {
		t.Errorf("distinct redirect URIs refused: %v", err)
	}
}

// TestLoadConfigRateLimit: EDGEAUTH_RATE_LIMIT and EDGEAUTH_TRUSTED_PROXIES.
func TestLoadConfigRateLimit(t *testing.T) {
	cases := []struct {
		value string
		want  RateLimit
		bad   bool
	}{
		{"", RateLimit{120, time.Minute}, false}, // the default
		{"60/m", RateLimit{60, time.Minute}, false},
		{"10/s", RateLimit{10, time.Second}, false},
		{"1000/h", RateLimit{1000, time.Hour}, false},
		{"0", RateLimit{}, false},
		{"off", RateLimit{}, false},
		{"fast", RateLimit{}, true},
		{"60", RateLimit{}, true},
		{"60/d", RateLimit{}, true},
		{"-1/m", RateLimit{}, true},
		{"0/m", RateLimit{}, true},
		{"x/m", RateLimit{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			cfg, err := loadEnv(t, map[string]string{"EDGEAUTH_RATE_LIMIT": tc.value}, nil)
			_, refused := problemFor(t, err, "EDGEAUTH_RATE_LIMIT")
			if refused != tc.bad {
				t.Fatalf("refused %t, want %t (%v)", refused, tc.bad, err)
			}
			if !tc.bad && (err != nil || cfg.RateLimit != tc.want) {
				t.Errorf("got %+v %v, want %+v", cfg.RateLimit, err, tc.want)
			}
		})
	}

	t.Run("trusted proxies", func(t *testing.T) {
		cfg, err := loadEnv(t, map[string]string{"EDGEAUTH_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,::1,fd00::/8"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(cfg.TrustedProxies)
		if got != "[10.0.0.0/8 192.168.1.7/32 ::1/128 fd00::/8]" {
			t.Errorf("trusted proxies %s", got)
		}
	})
	t.Run("no proxies trusted by default", func(t *testing.T) {
		if len(validEnvConfig(t).TrustedProxies) != 0 {
			t.Error("proxies trusted by default")
		}
	})
	for _, bad := range []string{"garbage", "10.0.0.0/33", "10.0.0.300", "*"} {
		t.Run("trusted proxies "+bad, func(t *testing.T) {
			_, err := loadEnv(t, map[string]string{"EDGEAUTH_TRUSTED_PROXIES": bad}, nil)
			if _, ok := problemFor(t, err, "EDGEAUTH_TRUSTED_PROXIES"); !ok {
				t.Errorf("%q accepted: %v", bad, err)
			}
		})
	}
}

func validEnvConfig(t *testing.T) Config {
	t.Helper()
	setEnv(t, validEnv(t))
	cfg, err := LoadConfig(noPort, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestDevModeAddrAndKeys: dev listens on loopback unless EDGEAUTH_ADDR says
// otherwise, and never uses keys or issuer from the environment. Before, dev
// listened on :8080 (every interface) and signed with whatever
// EDGEAUTH_SIGNING_KEYS held: production keys minting tokens for anyone
// who typed an email.
func TestDevModeAddrAndKeys(t *testing.T) {
	for _, tc := range []struct{ name, addr, port, want string }{
		{"default", "", "", "127.0.0.1:8080"},
		{"PORT", "", "9001", "127.0.0.1:9001"},
		{"ADDR kept", ":7000", "9001", ":7000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.addr != "" {
				t.Setenv("EDGEAUTH_ADDR", tc.addr)
			}
			cfg, err := LoadConfig(func(k string) string {
				if k == "PORT" {
					return tc.port
				}
				return ""
			}, &DevFlags{})
			if err != nil || cfg.Addr != tc.want {
				t.Errorf("addr %q %v, want %q", cfg.Addr, err, tc.want)
			}
		})
	}

	t.Run("keys and issuer ignored", func(t *testing.T) {
		env := validEnv(t)
		given, err := apitoken.ParseSigningKeys(env["EDGEAUTH_SIGNING_KEYS"])
		if err != nil {
			t.Fatal(err)
		}
		givenState, err := statecodec.ParseKeys(env["EDGEAUTH_STATE_KEYS"])
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"EDGEAUTH_STATE_KEYS", "EDGEAUTH_SIGNING_KEYS"} {
			t.Setenv(k, env[k])
		}
		t.Setenv("EDGEAUTH_TOKEN_ISSUER", "https://auth.example.com")
		t.Setenv("EDGEAUTH_TOKEN_AUDIENCE", "https://api.example.com")
		cfg, err := LoadConfig(noPort, &DevFlags{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"EDGEAUTH_SIGNING_KEYS", "EDGEAUTH_STATE_KEYS", "EDGEAUTH_TOKEN_AUDIENCE", "EDGEAUTH_TOKEN_ISSUER"}
		if !slices.Equal(cfg.Ignored, want) {
			t.Errorf("Ignored %v, want %v", cfg.Ignored, want)
		}
		if len(cfg.StateKeys) != 1 || bytes.Equal(cfg.StateKeys[0].Secret, givenState[0].Secret) {
			t.Error("dev mode used the environment's state key")
		}
		if thumb(t, cfg.SigningKeys) == thumb(t, given) {
			t.Error("dev mode signs with the environment's signing key")
		}
		if cfg.TokenIssuer != cfg.PublicURL || cfg.TokenAudience != cfg.PublicURL || cfg.PublicURL != "http://localhost:8080" {
			t.Errorf("issuer %q audience %q public %q", cfg.TokenIssuer, cfg.TokenAudience, cfg.PublicURL)
		}
	})
}

// thumb is the RFC 7638 thumbprint of the first key of set.
func thumb(t *testing.T, set jwk.Set) string {
	t.Helper()
	k, ok := set.Key(0)
	if !ok {
		t.Fatal("empty key set")
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return string(tp)
}

// TestHostedDomainsNeedGoogle: HOSTED_DOMAINS on a plain oidc provider
// would be silently unenforced (only Google's hd and Microsoft's tid say
// which domain an account belongs to), so it is refused there.
func TestHostedDomainsNeedGoogle(t *testing.T) {
	_, err := loadEnv(t, map[string]string{"EDGEAUTH_ACME_HOSTED_DOMAINS": "example.com"}, nil)
	if _, ok := problemFor(t, err, "EDGEAUTH_ACME_HOSTED_DOMAINS"); !ok {
		t.Errorf("HOSTED_DOMAINS on type oidc accepted: %v", err)
	}
	cfg, err := loadEnv(t, map[string]string{
		"EDGEAUTH_ACME_TYPE": "google", "EDGEAUTH_ACME_ISSUER": "", "EDGEAUTH_ACME_HOSTED_DOMAINS": "Example.com",
	}, nil)
	if err != nil {
		t.Fatalf("HOSTED_DOMAINS on type google refused: %v", err)
	}
	if got := cfg.Providers[0].OIDC.HostedDomains; !slices.Equal(got, []string{"example.com"}) {
		t.Errorf("hosted domains %v", got)
	}
}

// TestLoadConfigRefusesZeroStateKey: 32 zero bytes is a placeholder anyone
// can open and forge states with. Before, statecodec.ParseKeys took it.
func TestLoadConfigRefusesZeroStateKey(t *testing.T) {
	zero := strings.Repeat("A", 43) // base64url of 32 zero bytes
	_, err := loadEnv(t, map[string]string{"EDGEAUTH_STATE_KEYS": zero}, nil)
	p, ok := problemFor(t, err, "EDGEAUTH_STATE_KEYS")
	if !ok {
		t.Fatalf("all-zero state key accepted: %v", err)
	}
	if strings.Contains(p.Msg, zero) {
		t.Errorf("problem quotes the key: %s", p)
	}
}

// TestLoadConfigClaimsAllowed: only the sensitive claims can be allowed;
// registered ones and unknown names are refused. cnf is registered
// (apitoken mints it for DPoP, RFC 9449 §6.1): allowing it was accepted
// before and then silently did nothing, as apitoken drops it anyway.
func TestLoadConfigClaimsAllowed(t *testing.T) {
	cfg, err := loadEnv(t, map[string]string{"EDGEAUTH_USERHOOK_CLAIMS_ALLOWED": "acr,amr"}, nil)
	if err != nil || !slices.Equal(cfg.Userhook.ClaimsAllowed, []string{"acr", "amr"}) {
		t.Fatalf("acr,amr: %v %v", cfg.Userhook.ClaimsAllowed, err)
	}
	for _, bad := range []string{"sub", "role", "acr,exp", "cnf"} {
		_, err := loadEnv(t, map[string]string{"EDGEAUTH_USERHOOK_CLAIMS_ALLOWED": bad}, nil)
		if _, ok := problemFor(t, err, "EDGEAUTH_USERHOOK_CLAIMS_ALLOWED"); !ok {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
}

// TestConfigPrintsNoSecret: a Config printed with any verb (a debug line,
// a panic message) shows no secret or key. Before, %+v printed every field,
// the client secret and the webhook secret among them.
func TestConfigPrintsNoSecret(t *testing.T) {
	env := validEnv(t)
	env["EDGEAUTH_USERHOOK_URL"] = "https://hooks.example.com/edgeauth"
	env["EDGEAUTH_USERHOOK_SECRET"] = testHookSecret
	setEnv(t, env)
	cfg, err := LoadConfig(noPort, nil)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{env["EDGEAUTH_ACME_CLIENT_SECRET"], testHookSecret, strings.TrimPrefix(testHookSecret, "whsec_"), env["EDGEAUTH_STATE_KEYS"], `"d":`, `"d"`}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for name, v := range map[string]any{"Config": cfg, "*Config": &cfg, "Providers": cfg.Providers, "Provider": cfg.Providers[0], "StateKeys": cfg.StateKeys, "Userhook": cfg.Userhook, "OIDC": cfg.Providers[0].OIDC, "*OIDC": &cfg.Providers[0].OIDC} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("%s of %s contains %q:\n%s", verb, name, s, out)
				}
			}
		}
	}
}

// TestPresetClientAuth: apple and github take the client secret only in
// the body. Before, the server's envconfig default "basic" filled
// CLIENT_AUTH before the preset could, so both sent it in the header and
// their token endpoints refused every login.
func TestPresetClientAuth(t *testing.T) {
	op := oidctest.NewServer(oidctest.Options{Clients: []oidctest.Client{
		{ID: "apple-client", Secret: "apple-secret", RedirectURIs: []string{"https://app.example.com/callback/apple"}},
		{ID: "github-client", Secret: "github-secret", RedirectURIs: []string{"https://app.example.com/callback/github"}},
	}})
	t.Cleanup(op.Close)
	env := validEnv(t)
	for k := range env {
		if strings.HasPrefix(k, "EDGEAUTH_ACME_") {
			delete(env, k)
		}
	}
	env["EDGEAUTH_PROVIDERS"] = "apple,github"
	for _, name := range []string{"APPLE", "GITHUB"} {
		env["EDGEAUTH_"+name+"_CLIENT_ID"] = strings.ToLower(name) + "-client"
		env["EDGEAUTH_"+name+"_CLIENT_SECRET"] = strings.ToLower(name) + "-secret"
		env["EDGEAUTH_"+name+"_REDIRECT_URI"] = "https://app.example.com/callback/" + strings.ToLower(name)
	}
	// The presets pointed at the test provider: apple by its issuer, github
	// (plain OAuth 2.0) by its token endpoint.
	env["EDGEAUTH_APPLE_ISSUER"] = op.Issuer()
	env["EDGEAUTH_GITHUB_TOKEN_URL"] = op.EndpointURL(oidctest.TokenEndpoint)
	setEnv(t, env)
	cfg, err := LoadConfig(noPort, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, pc := range cfg.Providers {
		if pc.OIDC.ClientAuth != "" {
			t.Errorf("%s: server filled CLIENT_AUTH=%q: the default belongs to the oidc package", pc.Name, pc.OIDC.ClientAuth)
		}
		oc := pc.OIDC
		if err := oidc.ApplyPreset(&oc); err != nil || oc.ClientAuth != oidc.ClientAuthPost {
			t.Errorf("%s: resolved ClientAuth %q (%v), want post", pc.Name, oc.ClientAuth, err)
		}
		// And on the wire: a token request (the code is junk; the provider
		// records how the client authenticated before refusing it).
		oc = pc.OIDC
		oc.HTTPClient = op.Client()
		rp, err := oidc.New(oc)
		if err != nil {
			t.Fatal(err)
		}
		_, xerr := rp.Exchange(t.Context(), oidc.ExchangeRequest{Code: "junk", CodeVerifier: strings.Repeat("v", 43), RedirectURI: pc.RedirectURI, Nonce: "n", Issuer: rp.Issuer()})
		trs := op.Requests().TokenRequests
		if len(trs) != i+1 {
			t.Fatalf("%s: %d token requests at the provider (exchange: %v)", pc.Name, len(trs), xerr)
		}
		if got := trs[i]; got.ClientID != pc.OIDC.ClientID || got.ClientAuth != "client_secret_post" {
			t.Errorf("%s: token request authenticated as %q by %q, want client_secret_post", pc.Name, got.ClientID, got.ClientAuth)
		}
	}
}
