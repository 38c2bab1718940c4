package server

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/userhook"
)

// sensitiveClaims are claims a resource server may read as facts about the
// login itself (acr/amr as proof of MFA, azp as the authorized party, scope
// as a grant): the webhook may set them only when USERHOOK_CLAIMS_ALLOWED
// names them. The registered claims (apitoken.IsRegisteredClaim) it can
// never set; cnf is one of them, edgeauth's own key binding (RFC 9449 §6.1).
var sensitiveClaims = []string{"acr", "amr", "azp", "scope"}

// check applies the rules that span settings: bounds, production rules,
// the providers' own validation and the webhooks.
func (cfg *Config) check(ps *problems) {
	between := func(variable string, d, lo, hi time.Duration) {
		if !ps.failed(variable) && (d < lo || d > hi) {
			ps.add(variable, "must be between %s and %s", lo, hi)
		}
	}
	between("EDGEAUTH_STATE_TTL", cfg.StateTTL, time.Second, time.Hour)
	between("EDGEAUTH_ACCESS_TTL", cfg.AccessTTL, time.Second, 24*time.Hour)
	between("EDGEAUTH_REFRESH_TTL", cfg.RefreshTTL, time.Second, 365*24*time.Hour)
	between("EDGEAUTH_SESSION_MAX_AGE", cfg.SessionMaxAge, time.Second, 365*24*time.Hour)
	if cfg.Userhook.Timeout != 0 {
		// A person waits on the login page: userhook caps the whole
		// exchange at 15 s, so one attempt may not take longer.
		between("EDGEAUTH_USERHOOK_TIMEOUT", cfg.Userhook.Timeout, time.Second, 15*time.Second)
	}
	if r := cfg.Userhook.Retries; r != nil && (*r < 0 || *r > 5) {
		ps.add("EDGEAUTH_USERHOOK_RETRIES", "must be between 0 and 5")
	}
	if !ps.failed("EDGEAUTH_APP_STATE_MAX") && (cfg.AppStateMax < 0 || cfg.AppStateMax > 512) {
		ps.add("EDGEAUTH_APP_STATE_MAX", "must be between 0 and 512 (it rides in the state, which providers cap: X at 500 characters)")
	}
	for _, c := range cfg.Userhook.ClaimsAllowed {
		if !slices.Contains(sensitiveClaims, c) {
			ps.add("EDGEAUTH_USERHOOK_CLAIMS_ALLOWED", "%q is not one of %s (registered claims are edgeauth's and never allowed)", c, strings.Join(sensitiveClaims, ", "))
		}
	}

	switch {
	case cfg.PublicURL == "":
		ps.add("EDGEAUTH_PUBLIC_URL", "required (the external base URL of this service, e.g. https://auth.example.com)")
	case checkAbsoluteURL(cfg.PublicURL) != nil || strings.ContainsAny(cfg.PublicURL, "?#"):
		ps.add("EDGEAUTH_PUBLIC_URL", "must be an absolute http(s) URL without query or fragment")
	default:
		cfg.requireSecure(ps, "EDGEAUTH_PUBLIC_URL", cfg.PublicURL)
	}
	for _, o := range cfg.CORSOrigins {
		// Exact origins only: Echo turns * and ? into patterns, and with
		// credentials allowed a pattern would let a foreign page read
		// states bound to its visitor's cookie.
		u, err := url.Parse(o)
		if err != nil || strings.ContainsAny(o, "*?") || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Scheme+"://"+u.Host != o {
			ps.add("EDGEAUTH_CORS_ORIGINS", "%q is not an origin (scheme://host[:port] exactly: no path, no trailing slash, no wildcard)", o)
			continue
		}
		cfg.requireSecure(ps, "EDGEAUTH_CORS_ORIGINS", o)
	}
	if cfg.BindingOff && cfg.Production {
		ps.add("EDGEAUTH_BINDING", "off is refused in production: whoever holds a leaked callback URL could redeem it (the state alone completes the login), and login CSRF is open; set EDGEAUTH_ENV=development for flows with no browser")
	}

	if len(cfg.Providers) == 0 && !ps.failed("EDGEAUTH_PROVIDERS") {
		ps.add("EDGEAUTH_PROVIDERS", "empty: name at least one provider (for example EDGEAUTH_PROVIDERS=google)")
	}
	for i := range cfg.Providers {
		cfg.checkProvider(&cfg.Providers[i], ps)
	}
	if cfg.Production {
		checkSharedRedirects(cfg.Providers, ps)
	}
	cfg.checkUserhooks(ps)
}

// requireSecure applies the production rule: https, or http on a loopback
// host (a native app or a developer's machine, RFC 8252 §7.3).
func (cfg *Config) requireSecure(ps *problems, variable, raw string) {
	if !cfg.Production {
		return
	}
	if u, err := url.Parse(raw); err == nil && !secureURL(u) {
		ps.add(variable, "%q must be https in production (http only for loopback hosts; EDGEAUTH_ENV=development relaxes this)", raw)
	}
}

func (cfg *Config) checkProvider(pc *ProviderConfig, ps *problems) {
	if pc.RedirectURI == "" {
		ps.add(envName(pc.Name, "REDIRECT_URI"), "required (the app URL the provider sends the browser back to)")
	}
	for _, set := range []struct {
		variable string
		uris     []string
	}{
		{envName(pc.Name, "REDIRECT_URI(S)"), pc.RedirectURIs},
		{envName(pc.Name, "POST_LOGOUT_REDIRECT_URI(S)"), pc.PostLogoutRedirectURIs},
	} {
		for _, u := range set.uris {
			if err := checkAbsoluteURL(u); err != nil {
				ps.add(set.variable, "%q %v", u, err)
				continue
			}
			cfg.requireSecure(ps, set.variable, u)
		}
	}
	if _, err := oidc.New(pc.OIDC); err != nil {
		var ce *oidc.ConfigError
		if !errors.As(err, &ce) {
			ps.add(envName(pc.Name, "…"), "%v", err)
			return
		}
		for _, p := range ce.Problems {
			if v := envName(pc.Name, strings.ToUpper(p.Field)); !ps.failed(v) {
				ps.add(v, "%s", p.Msg)
			}
		}
	}
}

// checkSharedRedirects refuses a redirect URI shared by two providers: the
// app then cannot tell which provider answered, and a hostile provider can
// have an honest provider's code sent to its own token endpoint (the mix-up
// attack, RFC 9700 §4.4). Distinct redirect URIs are the defence that works
// where RFC 9207's iss is missing.
func checkSharedRedirects(providers []ProviderConfig, ps *problems) {
	owner := map[string]string{}
	for _, p := range providers {
		for _, u := range p.RedirectURIs {
			first, taken := owner[u]
			if !taken {
				owner[u] = p.Name
				continue
			}
			if first != p.Name {
				ps.add(envName(p.Name, "REDIRECT_URI(S)"),
					"%q is also a redirect URI of provider %q: in production each provider needs its own (e.g. …/callback/%s), or a hostile provider can have the other's code sent to it (mix-up, RFC 9700 §4.4.2); the app then posts the provider whose redirect URI received the answer", u, first, p.Name)
			}
		}
	}
}

// checkUserhooks validates every webhook URL with the secret, through the
// userhook package's own checks. In dev mode a missing secret is generated
// (Run prints it for the receiver).
func (cfg *Config) checkUserhooks(ps *problems) {
	urls := map[string]string{}
	if cfg.Userhook.URL != "" {
		urls["EDGEAUTH_USERHOOK_URL"] = cfg.Userhook.URL
	}
	for _, p := range cfg.Providers {
		if p.UserhookURL != "" {
			urls[envName(p.Name, "USERHOOK_URL")] = p.UserhookURL
		}
	}
	if len(urls) == 0 {
		return
	}
	if cfg.Userhook.Secret == "" {
		if cfg.Dev == nil {
			ps.add("EDGEAUTH_USERHOOK_SECRET", "required when a user webhook is set (run `edgeauth keygen`)")
			return
		}
		secret, err := userhook.NewSecret()
		if err != nil {
			ps.add("EDGEAUTH_USERHOOK_SECRET", "generate: %v", err)
			return
		}
		cfg.Userhook.Secret, cfg.Userhook.SecretGenerated = secret, true
	}
	for _, name := range slices.Sorted(maps.Keys(urls)) {
		// The webhook's answer decides the token's sub, unsigned: over
		// plain http anyone on the path could choose who logs in.
		cfg.requireSecure(ps, name, urls[name])
		if _, err := userhook.New(cfg.userhookConfig(urls[name])); err != nil {
			ps.add(name, "%v (with EDGEAUTH_USERHOOK_SECRET)", err)
		}
	}
}

// userhookConfig is the webhook client's configuration for one URL; zero
// values leave userhook's defaults.
func (cfg *Config) userhookConfig(url string) userhook.Config {
	return userhook.Config{URL: url, Secret: cfg.Userhook.Secret, Timeout: cfg.Userhook.Timeout, Retries: cfg.Userhook.Retries}
}

// parseRateLimit reads "60/m" (also /s, /h) or "0"/"off".
func parseRateLimit(s string) (RateLimit, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "0" || s == "off" {
		return RateLimit{}, nil
	}
	n, unit, ok := strings.Cut(s, "/")
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	count, err := strconv.Atoi(n)
	if !ok || per == 0 || err != nil || count <= 0 || count > 1_000_000 {
		return RateLimit{}, fmt.Errorf("%q is not a rate such as 60/m (per s, m or h), or 0 for off", s)
	}
	return RateLimit{Requests: count, Per: per}, nil
}

// secureURL is https, or http on a loopback host.
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

func checkAbsoluteURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("must be an absolute http(s) URL")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("must not have a fragment (RFC 6749 §3.1.2)")
	}
	return nil
}

// portOf returns ":8080" for ":8080", "0.0.0.0:8080" or "localhost:8080".
func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i:]
	}
	return ""
}

// splitScopes accepts the envconfig comma form and the OAuth space form.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func lowerAll(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
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
