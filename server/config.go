package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/statecodec"
)

// EnvPrefix is the prefix of every environment variable edgeauth reads.
const EnvPrefix = "EDGEAUTH"

// Config is the whole service configuration, parsed and validated by
// LoadConfig: global settings and one ProviderConfig per name in
// EDGEAUTH_PROVIDERS. It holds parsed keys, never their text, and prints
// without secrets (String).
type Config struct {
	Addr       string
	PublicURL  string
	Production bool

	StateKeys     []statecodec.Key
	StateTTL      time.Duration
	SigningKeys   jwk.Set
	TokenIssuer   string
	TokenAudience string
	AccessTTL     time.Duration
	RefreshTTL    time.Duration
	SessionMaxAge time.Duration

	Userhook Userhook

	// BindingOff turns the user-agent binding off (development only).
	BindingOff      bool
	BindingSameSite http.SameSite
	CORSOrigins     []string
	AppStateMax     int

	// RateLimit bounds requests per client IP on the endpoints that call a
	// provider or mint tokens; zero Requests is off.
	RateLimit      RateLimit
	TrustedProxies []netip.Prefix

	LogLevel slog.Level
	LogText  bool

	Providers []ProviderConfig
	// Dev is the embedded provider's client in dev mode, else nil.
	Dev *DevClient
	// Ignored names the variables dev mode did not use (its keys and issuer
	// are its own), for the start-up warning.
	Ignored []string
}

// Userhook is the user webhook's global settings; zero Timeout and nil
// Retries leave userhook's defaults.
type Userhook struct {
	URL     string
	Secret  string
	Timeout time.Duration
	Retries *int
	// ClaimsAllowed names the sensitive claims (acr, amr, …) the webhook
	// may set after all.
	ClaimsAllowed []string
	// SecretGenerated: dev mode made the secret for this run; Run prints it
	// for the developer's receiver.
	SecretGenerated bool
}

// RateLimit is Requests per Per, per client IP.
type RateLimit struct {
	Requests int
	Per      time.Duration
}

// DevFlags are the command-line options of `edgeauth dev`.
type DevFlags struct {
	// UserhookURL points the user webhook at a local receiver; without it
	// dev mode logs the event it would have sent.
	UserhookURL string
}

// ProviderConfig is one provider's settings, read from EDGEAUTH_<NAME>_….
type ProviderConfig struct {
	Name        string
	DisplayName string
	// RedirectURI is the default; RedirectURIs lists every allowed one,
	// RedirectURI first. Matching is exact (RFC 9700 §4.1.3).
	RedirectURI  string
	RedirectURIs []string
	// PostLogoutRedirectURI is the default; PostLogoutRedirectURIs lists
	// every allowed one, the default first.
	PostLogoutRedirectURI  string
	PostLogoutRedirectURIs []string
	AllowedEmailDomains    []string
	UserhookURL            string
	// OIDC is the relying-party side; its defaults and preset are the oidc
	// package's.
	OIDC oidc.Config
}

var providerNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// LoadConfig reads the configuration from the process environment with
// envconfig, derives what follows from it, and validates the result. Every
// problem found is reported in one *ConfigError; secret values are never
// part of it. getenv is consulted only for PORT, the platform's variable
// (Cloud Run, Fly.io) that EDGEAUTH_ADDR overrides.
//
// Production rules apply unless EDGEAUTH_ENV=development. dev is nil for
// serve and check; in dev mode (edgeauth dev) the environment is
// development, keys and issuer are made for this process, and the embedded
// provider "dev" is added; EDGEAUTH_ENV=production refuses it.
func LoadConfig(getenv func(string) string, dev *DevFlags) (Config, error) {
	var ps problems
	var g globalEnv
	readEnv(EnvPrefix, &g, &ps)
	cfg := globalConfig(&g, getenv, dev, &ps)
	for _, name := range providerNames(g.Providers, &ps) {
		var p providerEnv
		prefix := envName(name, "")
		readEnv(strings.TrimSuffix(prefix, "_"), &p, &ps)
		cfg.Providers = append(cfg.Providers, providerConfig(name, &p, &ps))
	}
	if dev != nil && !ps.failed("EDGEAUTH_ENV") && !cfg.Production {
		cfg.addDevProvider(&ps)
	}
	cfg.check(&ps)
	return cfg, ps.err()
}

// globalConfig derives the global settings; it parses and reports, the
// cross-setting rules are check's.
func globalConfig(g *globalEnv, getenv func(string) string, dev *DevFlags, ps *problems) Config {
	cfg := Config{
		Addr:          g.Addr,
		PublicURL:     strings.TrimRight(g.PublicUrl, "/"),
		StateTTL:      g.StateTtl,
		TokenIssuer:   g.TokenIssuer,
		TokenAudience: g.TokenAudience,
		AccessTTL:     g.AccessTtl,
		RefreshTTL:    g.RefreshTtl,
		SessionMaxAge: g.SessionMaxAge,
		Userhook: Userhook{
			URL: g.UserhookUrl, Secret: g.UserhookSecret, Timeout: g.UserhookTimeout, Retries: g.UserhookRetries,
			ClaimsAllowed: g.UserhookClaimsAllowed,
		},
		CORSOrigins: g.CorsOrigins,
		AppStateMax: g.AppStateMax,
	}
	switch strings.ToLower(g.Env) {
	case "", "production":
		cfg.Production = true
		if dev != nil && g.Env != "" {
			ps.add("EDGEAUTH_ENV", "dev mode refuses to start with EDGEAUTH_ENV=production: its embedded test provider lets anyone in")
		}
	case "development":
	default:
		ps.add("EDGEAUTH_ENV", "%q is not production or development", g.Env)
	}
	if dev != nil {
		cfg.Production = false
		if dev.UserhookURL != "" {
			cfg.Userhook.URL = dev.UserhookURL
		}
	}
	port := "8080"
	if p := getenv("PORT"); p != "" {
		port = p
	}
	if cfg.Addr == "" {
		cfg.Addr = ":" + port
		if dev != nil {
			// A dev server lets anyone in: not on the network unless asked.
			cfg.Addr = "127.0.0.1:" + port
		}
	}
	if dev != nil && cfg.PublicURL == "" {
		cfg.PublicURL = "http://localhost" + portOf(cfg.Addr)
	}

	switch strings.ToLower(g.Binding) {
	case "auto":
	case "off":
		cfg.BindingOff = true
	default:
		ps.add("EDGEAUTH_BINDING", "%q is not auto or off", g.Binding)
	}
	sameSite := map[string]http.SameSite{"lax": http.SameSiteLaxMode, "strict": http.SameSiteStrictMode, "none": http.SameSiteNoneMode}
	var ok bool
	if cfg.BindingSameSite, ok = sameSite[strings.ToLower(g.BindingCookieSameSite)]; !ok {
		ps.add("EDGEAUTH_BINDING_COOKIE_SAME_SITE", "%q is not lax, strict or none", g.BindingCookieSameSite)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(g.LogLevel)); err != nil {
		ps.add("EDGEAUTH_LOG_LEVEL", "%q is not debug, info, warn or error", g.LogLevel)
	}
	switch strings.ToLower(g.LogFormat) {
	case "":
		cfg.LogText = dev != nil
	case "json":
	case "text":
		cfg.LogText = true
	default:
		ps.add("EDGEAUTH_LOG_FORMAT", "%q is not json or text", g.LogFormat)
	}
	if rl, err := parseRateLimit(g.RateLimit); err != nil {
		ps.add("EDGEAUTH_RATE_LIMIT", "%v", err)
	} else {
		cfg.RateLimit = rl
	}
	for _, s := range g.TrustedProxies {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			if a, aerr := netip.ParseAddr(strings.TrimSpace(s)); aerr == nil {
				p, err = a.Prefix(a.BitLen())
			}
		}
		if err != nil {
			ps.add("EDGEAUTH_TRUSTED_PROXIES", "%q is not a CIDR such as 10.0.0.0/8 or an IP address", s)
			continue
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p.Masked())
	}

	if dev != nil {
		cfg.devKeys(g, ps)
		return cfg
	}
	if g.StateKeys == "" {
		ps.add("EDGEAUTH_STATE_KEYS", "required (run `edgeauth keygen`)")
	} else if keys, err := statecodec.ParseKeys(g.StateKeys); err != nil {
		ps.add("EDGEAUTH_STATE_KEYS", "%v", err)
	} else {
		cfg.StateKeys = keys
	}
	if g.SigningKeys == "" {
		ps.add("EDGEAUTH_SIGNING_KEYS", "required (run `edgeauth keygen`)")
	} else if set, err := apitoken.ParseSigningKeys(g.SigningKeys); err != nil {
		ps.add("EDGEAUTH_SIGNING_KEYS", "%v", err)
	} else {
		cfg.SigningKeys = set
	}
	if cfg.TokenIssuer == "" {
		cfg.TokenIssuer = cfg.PublicURL
	}
	if cfg.TokenAudience == "" {
		cfg.TokenAudience = cfg.TokenIssuer
	}
	return cfg
}

// providerNames returns the valid, distinct names of EDGEAUTH_PROVIDERS.
func providerNames(raw []string, ps *problems) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range raw {
		name := strings.ToLower(strings.TrimSpace(r))
		switch {
		case name == "":
		case !providerNamePattern.MatchString(name):
			ps.add("EDGEAUTH_PROVIDERS", "%q is not a valid provider name (lower-case letters, digits and _, starting with a letter, at most 32)", r)
		case seen[name]:
			ps.add("EDGEAUTH_PROVIDERS", "%q is listed twice", name)
		default:
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

// providerConfig derives one provider's settings from what was read.
func providerConfig(name string, p *providerEnv, ps *problems) ProviderConfig {
	pc := ProviderConfig{
		Name:                name,
		DisplayName:         p.DisplayName,
		AllowedEmailDomains: lowerAll(p.AllowedEmailDomains),
		UserhookURL:         p.UserhookUrl,
		OIDC: oidc.Config{
			Name:               name,
			Type:               strings.ToLower(p.Type),
			Issuer:             p.Issuer,
			BaseURL:            p.BaseUrl,
			Tenant:             p.Tenant,
			Offline:            p.Offline,
			TeamID:             p.TeamId,
			KeyID:              p.KeyId,
			PrivateKey:         p.PrivateKey,
			ClientID:           p.ClientId,
			ClientSecret:       p.ClientSecret,
			Scopes:             splitScopes(p.Scopes),
			AuthParams:         p.AuthParams,
			Userinfo:           strings.ToLower(p.Userinfo),
			AuthURL:            p.AuthUrl,
			TokenURL:           p.TokenUrl,
			UserinfoURL:        p.UserinfoUrl,
			JWKSURL:            p.JwksUrl,
			RevocationURL:      p.RevocationUrl,
			EndSessionURL:      p.EndSessionUrl,
			IntrospectionURL:   p.IntrospectionUrl,
			SubjectClaim:       p.SubjectClaim,
			ClientAuth:         strings.ToLower(p.ClientAuth),
			SigningAlgs:        p.SigningAlgs,
			TrustedAudiences:   p.TrustedAudiences,
			HostedDomains:      lowerAll(p.HostedDomains),
			ConvertAudiences:   p.ConvertAudiences,
			ConvertMaxAge:      p.ConvertMaxAge,
			ConvertAccessToken: strings.ToLower(p.ConvertAccessToken),
			Timeout:            p.Timeout,
		},
	}
	if pc.DisplayName == "" {
		pc.DisplayName = displayNameOf(name)
	}
	pc.RedirectURI, pc.RedirectURIs = defaultFirst(p.RedirectUri, p.RedirectUris)
	pc.PostLogoutRedirectURI, pc.PostLogoutRedirectURIs = defaultFirst(p.PostLogoutRedirectUri, p.PostLogoutRedirectUris)
	return pc
}

// defaultFirst merges a default and a list of more allowed values: the
// default (or else the first of the list) first, no duplicates.
func defaultFirst(def string, more []string) (string, []string) {
	var all []string
	for _, u := range append([]string{def}, more...) {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(all, u) {
			all = append(all, u)
		}
	}
	if len(all) == 0 {
		return "", nil
	}
	return all[0], all
}

// envName is the variable of a provider's setting: envName("google",
// "CLIENT_ID") is EDGEAUTH_GOOGLE_CLIENT_ID; an empty setting gives the
// prefix with its trailing underscore.
func envName(provider, setting string) string {
	return EnvPrefix + "_" + strings.ToUpper(provider) + "_" + setting
}

// String describes the configuration without secrets or keys, so that
// printing a Config with %v or %+v is safe.
func (cfg Config) String() string {
	names := make([]string, len(cfg.Providers))
	for i, p := range cfg.Providers {
		names[i] = p.Name
	}
	return fmt.Sprintf("server.Config{public_url=%s production=%t providers=%v state_keys=%d signing_keys=%d userhook=%t}",
		cfg.PublicURL, cfg.Production, names, len(cfg.StateKeys), setLen(cfg.SigningKeys), cfg.Userhook.URL != "")
}

// GoString is String, for %#v.
func (cfg Config) GoString() string { return cfg.String() }

// String names the provider without its client secret.
func (pc ProviderConfig) String() string {
	return fmt.Sprintf("server.ProviderConfig{name=%s issuer=%s client_id=%s}", pc.Name, pc.OIDC.Issuer, pc.OIDC.ClientID)
}

// GoString is String, for %#v.
func (pc ProviderConfig) GoString() string { return pc.String() }

func setLen(s jwk.Set) int {
	if s == nil {
		return 0
	}
	return s.Len()
}

// String names the webhook without its secret.
func (u Userhook) String() string {
	return fmt.Sprintf("server.Userhook{url=%s secret_set=%t}", u.URL, u.Secret != "")
}

// GoString is String, for %#v.
func (u Userhook) GoString() string { return u.String() }
