package server

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/statecodec"
	"github.com/edgeauth/edgeauth/userhook"
)

// EnvPrefix is the prefix of every environment variable edgeauth reads.
const EnvPrefix = "EDGEAUTH"

// Config is the whole service configuration, global settings and one
// ProviderConfig per name in EDGEAUTH_PROVIDERS.
type Config struct {
	Addr          string
	PublicURL     string
	StateKeys     string
	StateTTL      time.Duration
	SigningKeys   string
	TokenIssuer   string
	TokenAudience string
	AccessTTL     time.Duration
	RefreshTTL    time.Duration
	SessionMaxAge time.Duration

	UserhookURL     string
	UserhookSecret  string
	UserhookTimeout time.Duration
	UserhookRetries int

	Binding               string // "auto" or "off"
	BindingCookieSameSite string // "lax", "strict" or "none"
	CORSOrigins           []string
	AppStateMax           int

	LogLevel  string
	LogFormat string
	Env       string

	Providers []ProviderConfig
	// Dev is the embedded provider's client in dev mode, else nil.
	Dev *DevClient

	// Parsed from StateKeys and SigningKeys by LoadConfig.
	stateKeys   []statecodec.Key
	signingKeys jwk.Set
	// userhookSecretGenerated is set in dev mode when the secret was made
	// for this run and must be shown to the developer's receiver.
	userhookSecretGenerated bool
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
	RedirectURI           string
	RedirectURIs          []string
	PostLogoutRedirectURI string
	AllowedEmailDomains   []string
	UserhookURL           string
	// OIDC is the relying-party side, its preset applied.
	OIDC oidc.Config
}

// globalEnv is the envconfig spec of the global settings. Field names are
// spelled so that envconfig's split_words gives the documented variable names
// (PublicUrl → PUBLIC_URL); an explicit `envconfig` tag is avoided on purpose,
// because envconfig then also falls back to the bare name (ADDR, ENV, …)
// when the prefixed variable is missing.
type globalEnv struct {
	Addr                  string        `split_words:"true" desc:"listen address; PORT is honoured when unset"`
	PublicUrl             string        `split_words:"true" desc:"external base URL of this service"`
	Providers             []string      `split_words:"true" desc:"comma list of provider names"`
	StateKeys             string        `split_words:"true" desc:"comma list of 32-byte base64url keys; the first seals"`
	StateTtl              time.Duration `split_words:"true" default:"10m"`
	SigningKeys           string        `split_words:"true" desc:"JWK Set of private keys; the first signs"`
	TokenIssuer           string        `split_words:"true" desc:"iss of API tokens (default PUBLIC_URL)"`
	TokenAudience         string        `split_words:"true" desc:"aud of API tokens (default the issuer)"`
	AccessTtl             time.Duration `split_words:"true" default:"15m"`
	RefreshTtl            time.Duration `split_words:"true" default:"336h"`
	SessionMaxAge         time.Duration `split_words:"true" default:"720h"`
	UserhookUrl           string        `split_words:"true"`
	UserhookSecret        string        `split_words:"true"`
	UserhookTimeout       time.Duration `split_words:"true" default:"5s"`
	UserhookRetries       int           `split_words:"true" default:"2"`
	Binding               string        `split_words:"true" default:"auto"`
	BindingCookieSameSite string        `split_words:"true" default:"lax"`
	CorsOrigins           []string      `split_words:"true"`
	AppStateMax           int           `split_words:"true" default:"128"`
	LogLevel              string        `split_words:"true" default:"info"`
	LogFormat             string        `split_words:"true" default:"json"`
	Env                   string        `split_words:"true" default:"development"`
}

// providerEnv is the envconfig spec of one provider, read with the prefix
// EDGEAUTH_<NAME>.
type providerEnv struct {
	Type                  string            `split_words:"true"`
	Issuer                string            `split_words:"true"`
	BaseUrl               string            `split_words:"true"`
	ClientId              string            `split_words:"true"`
	ClientSecret          string            `split_words:"true"`
	RedirectUri           string            `split_words:"true"`
	RedirectUris          []string          `split_words:"true"`
	PostLogoutRedirectUri string            `split_words:"true"`
	Scopes                string            `split_words:"true"`
	AuthParams            map[string]string `split_words:"true"`
	Userinfo              string            `split_words:"true" default:"auto"`
	DisplayName           string            `split_words:"true"`
	AuthUrl               string            `split_words:"true"`
	TokenUrl              string            `split_words:"true"`
	UserinfoUrl           string            `split_words:"true"`
	JwksUrl               string            `split_words:"true"`
	RevocationUrl         string            `split_words:"true"`
	EndSessionUrl         string            `split_words:"true"`
	SubjectClaim          string            `split_words:"true"`
	ClientAuth            string            `split_words:"true" default:"basic"`
	SigningAlgs           []string          `split_words:"true"`
	TrustedAudiences      []string          `split_words:"true"`
	AllowedEmailDomains   []string          `split_words:"true"`
	UserhookUrl           string            `split_words:"true"`
	Timeout               time.Duration     `split_words:"true" default:"10s"`
}

var providerNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// LoadConfig reads the configuration from the process environment with
// envconfig. getenv is consulted only for PORT, the platform's variable
// (Cloud Run, Fly.io, Heroku) that EDGEAUTH_ADDR overrides. Every problem
// found is reported in one error, one line each; secret values are never
// part of it.
//
// dev is nil for serve and check. In dev mode (edgeauth dev) missing keys
// are generated for this process, PUBLIC_URL defaults to
// http://localhost:<port>, and the embedded provider "dev" is added;
// EDGEAUTH_ENV=production refuses it.
func LoadConfig(getenv func(string) string, dev *DevFlags) (Config, error) {
	var problems []string
	var g globalEnv
	problems = append(problems, processEach(EnvPrefix, &g)...)

	cfg := Config{
		Addr:                  g.Addr,
		PublicURL:             strings.TrimRight(g.PublicUrl, "/"),
		StateKeys:             g.StateKeys,
		StateTTL:              g.StateTtl,
		SigningKeys:           g.SigningKeys,
		TokenIssuer:           g.TokenIssuer,
		TokenAudience:         g.TokenAudience,
		AccessTTL:             g.AccessTtl,
		RefreshTTL:            g.RefreshTtl,
		SessionMaxAge:         g.SessionMaxAge,
		UserhookURL:           g.UserhookUrl,
		UserhookSecret:        g.UserhookSecret,
		UserhookTimeout:       g.UserhookTimeout,
		UserhookRetries:       g.UserhookRetries,
		Binding:               strings.ToLower(g.Binding),
		BindingCookieSameSite: strings.ToLower(g.BindingCookieSameSite),
		CORSOrigins:           g.CorsOrigins,
		AppStateMax:           g.AppStateMax,
		LogLevel:              strings.ToLower(g.LogLevel),
		LogFormat:             strings.ToLower(g.LogFormat),
		Env:                   strings.ToLower(g.Env),
	}
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
		if port := getenv("PORT"); port != "" {
			cfg.Addr = ":" + port
		}
	}

	if dev != nil && dev.UserhookURL != "" {
		cfg.UserhookURL = dev.UserhookURL
	}
	problems = append(problems, cfg.checkGlobals(dev != nil, problems)...)

	seen := map[string]bool{}
	for _, raw := range g.Providers {
		name := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case name == "":
			continue
		case !providerNamePattern.MatchString(name):
			problems = append(problems, fmt.Sprintf("EDGEAUTH_PROVIDERS: %q is not a valid provider name (lower-case letters, digits and _, starting with a letter, at most 32)", raw))
			continue
		case seen[name]:
			problems = append(problems, fmt.Sprintf("EDGEAUTH_PROVIDERS: %q is listed twice", name))
			continue
		}
		seen[name] = true
		pc, ps := loadProvider(name)
		problems = append(problems, ps...)
		cfg.Providers = append(cfg.Providers, pc)
	}
	if dev != nil && cfg.Env != "production" {
		if err := cfg.addDevProvider(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(cfg.Providers) == 0 {
		problems = append(problems, "EDGEAUTH_PROVIDERS is empty: name at least one provider (for example EDGEAUTH_PROVIDERS=google)")
	}
	for i := range cfg.Providers {
		problems = append(problems, cfg.Providers[i].checkOIDC()...)
		if cfg.Env == "production" {
			problems = append(problems, cfg.Providers[i].checkProduction()...)
		}
	}
	problems = append(problems, cfg.checkUserhooks(dev != nil)...)
	if len(problems) > 0 {
		return cfg, &ConfigError{Problems: problems}
	}
	return cfg, nil
}

// checkGlobals validates the global settings and parses the keys.
// earlier holds the problems found while reading, so that a value that did
// not parse is not reported a second time as out of range.
func (cfg *Config) checkGlobals(dev bool, earlier []string) []string {
	var problems []string
	oneOf := func(name, value string, allowed ...string) {
		if !slices.Contains(allowed, value) {
			problems = append(problems, fmt.Sprintf("EDGEAUTH_%s: %q is not one of %s", name, value, strings.Join(allowed, ", ")))
		}
	}
	oneOf("ENV", cfg.Env, "development", "production")
	oneOf("BINDING", cfg.Binding, "auto", "off")
	oneOf("BINDING_COOKIE_SAME_SITE", cfg.BindingCookieSameSite, "lax", "strict", "none")
	oneOf("LOG_LEVEL", cfg.LogLevel, "debug", "info", "warn", "error")
	oneOf("LOG_FORMAT", cfg.LogFormat, "json", "text")
	positive := func(name string, d, max time.Duration) {
		if mentions(earlier, "EDGEAUTH_"+name) {
			return
		}
		if d <= 0 || d > max {
			problems = append(problems, fmt.Sprintf("EDGEAUTH_%s: must be between 1s and %s", name, max))
		}
	}
	positive("STATE_TTL", cfg.StateTTL, time.Hour)
	positive("ACCESS_TTL", cfg.AccessTTL, 24*time.Hour)
	positive("REFRESH_TTL", cfg.RefreshTTL, 365*24*time.Hour)
	positive("SESSION_MAX_AGE", cfg.SessionMaxAge, 365*24*time.Hour)
	// A person waits on the login page: the whole webhook exchange is
	// capped at 15 s by userhook, so one attempt may not take longer.
	positive("USERHOOK_TIMEOUT", cfg.UserhookTimeout, 15*time.Second)
	if cfg.UserhookRetries < 0 || cfg.UserhookRetries > 5 {
		problems = append(problems, "EDGEAUTH_USERHOOK_RETRIES: must be between 0 and 5")
	}
	if cfg.AppStateMax < 0 || cfg.AppStateMax > 512 {
		problems = append(problems, "EDGEAUTH_APP_STATE_MAX: must be between 0 and 512 (it rides in the state, which providers cap: X at 500 characters)")
	}
	if dev && cfg.Env == "production" {
		problems = append(problems, "dev mode refuses to start with EDGEAUTH_ENV=production: it uses an embedded test provider that lets anyone in")
	}

	if cfg.PublicURL == "" && dev {
		cfg.PublicURL = "http://localhost" + portOf(cfg.Addr)
	}
	switch {
	case cfg.PublicURL == "":
		problems = append(problems, "EDGEAUTH_PUBLIC_URL is required (the external base URL of this service, e.g. https://auth.example.com)")
	case checkAbsoluteURL(cfg.PublicURL) != nil || strings.ContainsAny(cfg.PublicURL, "?#"):
		problems = append(problems, "EDGEAUTH_PUBLIC_URL: must be an absolute http(s) URL without query or fragment")
	case cfg.Env == "production" && !strings.HasPrefix(cfg.PublicURL, "https://"):
		problems = append(problems, "EDGEAUTH_PUBLIC_URL: must be https in production")
	}
	if cfg.TokenIssuer == "" {
		cfg.TokenIssuer = cfg.PublicURL
	}
	if cfg.TokenAudience == "" {
		cfg.TokenAudience = cfg.TokenIssuer
	}
	for _, o := range cfg.CORSOrigins {
		// Exact origins only: Echo turns * and ? into patterns, and with
		// credentials allowed a pattern would let a foreign page read
		// states bound to its visitor's cookie.
		u, err := url.Parse(o)
		if err != nil || strings.ContainsAny(o, "*?") || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Scheme+"://"+u.Host != o {
			problems = append(problems, fmt.Sprintf("EDGEAUTH_CORS_ORIGINS: %q is not an origin (scheme://host[:port] exactly: no path, no trailing slash, no wildcard)", o))
			continue
		}
		if cfg.Env == "production" && !secureURL(u) {
			problems = append(problems, fmt.Sprintf("EDGEAUTH_CORS_ORIGINS: %q must be https in production (http only for loopback)", o))
		}
	}

	switch {
	case cfg.StateKeys != "":
		keys, err := statecodec.ParseKeys(cfg.StateKeys)
		if err != nil {
			problems = append(problems, "EDGEAUTH_STATE_KEYS: "+err.Error())
		}
		cfg.stateKeys = keys
	case dev:
		k, _, err := statecodec.GenerateKey()
		if err != nil {
			problems = append(problems, "generate a state key: "+err.Error())
		}
		cfg.stateKeys = []statecodec.Key{k}
	default:
		problems = append(problems, "EDGEAUTH_STATE_KEYS is required (run `edgeauth keygen`)")
	}

	raw := cfg.SigningKeys
	if raw == "" && dev {
		b, err := GenerateSigningKey("ES256")
		if err != nil {
			problems = append(problems, "generate a signing key: "+err.Error())
		}
		raw = string(b)
	}
	switch {
	case raw == "":
		problems = append(problems, "EDGEAUTH_SIGNING_KEYS is required (run `edgeauth keygen`)")
	default:
		set, err := ParseSigningKeys(raw)
		if err != nil {
			problems = append(problems, "EDGEAUTH_SIGNING_KEYS: "+err.Error())
		}
		cfg.signingKeys = set
	}
	return problems
}

// checkProduction refuses redirect URIs that would carry the code or the
// logout in clear text (RFC 9700 §2.6), loopback apps aside.
func (pc *ProviderConfig) checkProduction() []string {
	prefix := EnvPrefix + "_" + strings.ToUpper(pc.Name) + "_"
	var problems []string
	for _, raw := range append(slices.Clone(pc.RedirectURIs), pc.PostLogoutRedirectURI) {
		if u, err := url.Parse(raw); raw != "" && err == nil && !secureURL(u) {
			problems = append(problems, fmt.Sprintf("%sREDIRECT_URI(S)/POST_LOGOUT_REDIRECT_URI: %q must be https in production (http only for loopback)", prefix, raw))
		}
	}
	return problems
}

// secureURL is https, or http on a loopback host (a native app or a
// developer's machine, RFC 8252 §7.3).
func secureURL(u *url.URL) bool {
	switch {
	case u.Scheme == "https":
		return true
	case u.Scheme != "http":
		return false
	case u.Hostname() == "localhost":
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// checkUserhooks validates every webhook URL with the secret, through the
// userhook package's own checks. In dev mode a missing secret is generated
// (Run prints it for the receiver).
func (cfg *Config) checkUserhooks(dev bool) []string {
	urls := map[string]string{}
	if cfg.UserhookURL != "" {
		urls["EDGEAUTH_USERHOOK_URL"] = cfg.UserhookURL
	}
	for _, p := range cfg.Providers {
		if p.UserhookURL != "" {
			urls[EnvPrefix+"_"+strings.ToUpper(p.Name)+"_USERHOOK_URL"] = p.UserhookURL
		}
	}
	if len(urls) == 0 {
		return nil
	}
	if cfg.UserhookSecret == "" {
		if !dev {
			return []string{"EDGEAUTH_USERHOOK_SECRET is required when a user webhook is set (run `edgeauth keygen`)"}
		}
		secret, err := userhook.NewSecret()
		if err != nil {
			return []string{"generate a user webhook secret: " + err.Error()}
		}
		cfg.UserhookSecret, cfg.userhookSecretGenerated = secret, true
	}
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(urls)) {
		if _, err := userhook.New(cfg.userhookConfig(urls[name])); err != nil {
			problems = append(problems, name+" / EDGEAUTH_USERHOOK_SECRET: "+err.Error())
		}
	}
	return problems
}

// userhookConfig is the webhook client's configuration for one URL.
func (cfg *Config) userhookConfig(url string) userhook.Config {
	return userhook.Config{URL: url, Secret: cfg.UserhookSecret, Timeout: cfg.UserhookTimeout, Retries: new(cfg.UserhookRetries)}
}

// portOf returns ":8080" for ":8080", "0.0.0.0:8080" or "localhost:8080".
func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i:]
	}
	return ""
}

// checkOIDC applies the provider's preset and lets the oidc package judge
// the result. oidc names each problem by its setting (Field "client_id"),
// which maps onto the variable EDGEAUTH_<NAME>_CLIENT_ID.
func (pc *ProviderConfig) checkOIDC() []string {
	prefix := EnvPrefix + "_" + strings.ToUpper(pc.Name) + "_"
	err := oidc.ApplyPreset(&pc.OIDC)
	if err == nil {
		_, err = oidc.New(pc.OIDC)
	}
	if err == nil {
		return nil
	}
	ce, ok := errors.AsType[*oidc.ConfigError](err)
	if !ok {
		return []string{prefix + "…: " + err.Error()}
	}
	out := make([]string, 0, len(ce.Problems))
	for _, p := range ce.Problems {
		out = append(out, prefix+strings.ToUpper(p.Field)+": "+p.Msg)
	}
	return out
}

func loadProvider(name string) (ProviderConfig, []string) {
	prefix := EnvPrefix + "_" + strings.ToUpper(name)
	var p providerEnv
	problems := processEach(prefix, &p)
	pc := ProviderConfig{
		Name:                  name,
		DisplayName:           p.DisplayName,
		RedirectURI:           p.RedirectUri,
		PostLogoutRedirectURI: p.PostLogoutRedirectUri,
		AllowedEmailDomains:   lowerAll(p.AllowedEmailDomains),
		UserhookURL:           p.UserhookUrl,
		OIDC: oidc.Config{
			Name:             name,
			Type:             strings.ToLower(p.Type),
			Issuer:           p.Issuer,
			ClientID:         p.ClientId,
			ClientSecret:     p.ClientSecret,
			Scopes:           splitScopes(p.Scopes),
			AuthParams:       p.AuthParams,
			Userinfo:         strings.ToLower(p.Userinfo),
			AuthURL:          p.AuthUrl,
			TokenURL:         p.TokenUrl,
			UserinfoURL:      p.UserinfoUrl,
			JWKSURL:          p.JwksUrl,
			RevocationURL:    p.RevocationUrl,
			EndSessionURL:    p.EndSessionUrl,
			SubjectClaim:     p.SubjectClaim,
			ClientAuth:       strings.ToLower(p.ClientAuth),
			SigningAlgs:      p.SigningAlgs,
			Timeout:          p.Timeout,
			TrustedAudiences: p.TrustedAudiences,
		},
	}
	if pc.DisplayName == "" {
		pc.DisplayName = displayNameOf(name)
	}
	if p.BaseUrl != "" {
		if p.Issuer != "" {
			problems = append(problems, prefix+"_ISSUER and "+prefix+"_BASE_URL are both set: keep one")
		}
		pc.OIDC.Issuer = baseURLToIssuer(p.BaseUrl)
	}
	if pc.RedirectURI != "" {
		pc.RedirectURIs = append(pc.RedirectURIs, pc.RedirectURI)
	}
	for _, u := range p.RedirectUris {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(pc.RedirectURIs, u) {
			pc.RedirectURIs = append(pc.RedirectURIs, u)
		}
	}
	if pc.RedirectURI == "" && len(pc.RedirectURIs) > 0 {
		pc.RedirectURI = pc.RedirectURIs[0]
	}
	if pc.RedirectURI == "" {
		problems = append(problems, prefix+"_REDIRECT_URI is required (the app URL the provider sends the browser back to)")
	}
	for _, u := range pc.RedirectURIs {
		if err := checkAbsoluteURL(u); err != nil {
			problems = append(problems, fmt.Sprintf("%s_REDIRECT_URI(S): %q %v", prefix, u, err))
		}
	}
	if pc.PostLogoutRedirectURI != "" {
		if err := checkAbsoluteURL(pc.PostLogoutRedirectURI); err != nil {
			problems = append(problems, fmt.Sprintf("%s_POST_LOGOUT_REDIRECT_URI: %v", prefix, err))
		}
	}
	if pc.OIDC.Timeout <= 0 && !mentions(problems, prefix+"_TIMEOUT") {
		problems = append(problems, prefix+"_TIMEOUT must be positive")
	}
	return pc, problems
}

// processEach runs envconfig once per field, so that one bad value does not
// hide the others: envconfig.Process stops at the first error.
func processEach(prefix string, spec any) []string {
	v := reflect.ValueOf(spec).Elem()
	t := v.Type()
	var problems []string
	for i := range t.NumField() {
		f := t.Field(i)
		one := reflect.New(reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}}))
		if err := envconfig.Process(prefix, one.Interface()); err != nil {
			problems = append(problems, describeEnvError(err))
			continue
		}
		v.Field(i).Set(one.Elem().Field(0))
	}
	return problems
}

// describeEnvError names the variable and the expected form without the
// value, which could be a secret pasted into the wrong variable.
func describeEnvError(err error) string {
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		want := pe.TypeName
		switch pe.TypeName {
		case "time.Duration":
			want = "a Go duration such as 10m or 1h30m"
		case "int":
			want = "a whole number"
		case "map[string]string":
			want = "key:value pairs separated by commas"
		}
		return fmt.Sprintf("%s: not %s", pe.KeyName, want)
	}
	return err.Error()
}

func mentions(problems []string, variable string) bool {
	for _, p := range problems {
		if strings.HasPrefix(p, variable+":") {
			return true
		}
	}
	return false
}

// ConfigError lists every configuration problem found at start.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "configuration has " + plural(len(e.Problems), "problem") + ":\n  - " + strings.Join(e.Problems, "\n  - ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// splitScopes accepts the envconfig comma form and the OAuth space form.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func lowerAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// baseURLToIssuer turns a bare host ("dev-123.okta.com") into an https URL;
// a full URL is kept as given, minus a trailing slash.
func baseURLToIssuer(base string) string {
	base = strings.TrimSpace(base)
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	return strings.TrimRight(base, "/")
}

func displayNameOf(name string) string {
	words := strings.Split(name, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

func checkAbsoluteURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("must be an absolute http(s) URL")
	}
	if u.Fragment != "" {
		return errors.New("must not have a fragment (RFC 6749 §3.1.2)")
	}
	return nil
}
