package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/apitoken"
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
	if got := cfg.Providers[0].OIDC.Issuer; got != "https://dev-123.okta.test" {
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
