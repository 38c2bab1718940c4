package oidc

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Provider types. A preset name (see ApplyPreset) is also accepted as a Type.
const (
	TypeOIDC   = "oidc"   // OpenID Connect: discovery, ID token, optional userinfo
	TypeOAuth2 = "oauth2" // plain OAuth 2.0: no ID token, identity from the userinfo URL
)

// Userinfo settings.
const (
	UserinfoAuto   = "auto"   // fetch when an endpoint is known and the ID token lacks email (always for oauth2)
	UserinfoAlways = "always" // fetch on every login; fail when the provider has no endpoint
	UserinfoNever  = "never"  // never fetch (not allowed for oauth2: it has no other identity source)
)

// Client authentication methods at the token endpoint (OpenID Connect Core §9).
const (
	ClientAuthBasic = "basic" // client_secret_basic: HTTP Basic, id and secret form-encoded first (RFC 6749 §2.3.1)
	ClientAuthPost  = "post"  // client_secret_post: id and secret in the request body
)

// ConvertAccessToken settings: how [Provider.Convert] may accept an access token.
const (
	// ConvertVerify (default): only access tokens the provider says were
	// issued to us (RFC 7662 introspection, GitHub's token check, Google's
	// tokeninfo).
	ConvertVerify = "verify"
	// ConvertUserinfo: also accept an access token on userinfo's word
	// alone, whichever client it was issued to. An explicit opt-in: it
	// allows token substitution by any app that can get a user's token.
	ConvertUserinfo = "userinfo"
)

const (
	defaultTimeout = 10 * time.Second
	// defaultConvertMaxAge and maxConvertMaxAge bound how old an ID token
	// presented to Convert may be.
	defaultConvertMaxAge = 10 * time.Minute
	maxConvertMaxAge     = 24 * time.Hour
	// discoveryMaxAge is how long a discovery document is used before it is
	// fetched again on the next use.
	discoveryMaxAge = time.Hour
	// jwksMaxAge is how long a JWKS is used before it is fetched again on the
	// next use; new keys are picked up sooner through an unknown kid.
	jwksMaxAge = time.Hour
	// jwksMinRefresh bounds refreshes caused by an unknown kid, so tokens
	// with made-up kids cannot turn us into a JWKS request amplifier.
	jwksMinRefresh = time.Minute
)

// Config describes one provider. The zero values of optional fields pick
// the defaults documented on each field.
type Config struct {
	Name string // the provider's name in edgeauth's API, e.g. "google"
	Type string // TypeOIDC (default), TypeOAuth2, or a preset name (see ApplyPreset)
	// Preset is the preset this Config came from ("" for none); ApplyPreset
	// fills it when it resolves a preset Type.
	Preset string

	// Issuer is the exact issuer identifier: discovery's `issuer` and every
	// ID token's `iss` must equal it byte for byte (OpenID Connect
	// Discovery §4.3), so `https://op/` and `https://op` differ. Optional
	// for oauth2, where it only names the provider in Identity.Issuer.
	Issuer string

	ClientID, ClientSecret string

	// BaseURL is a self-hosted or per-tenant instance for the presets that
	// have one (GitHub Enterprise Server, self-managed GitLab, an Auth0,
	// Okta or Keycloak address): the preset derives the issuer and
	// endpoints from it. A bare host is taken as https. For a plain oidc
	// provider it is the issuer. Issuer and BaseURL are exclusive.
	BaseURL string
	// Tenant is the microsoft preset's tenant: a tenant id (GUID), or
	// common, organizations or consumers (see preset_microsoft.go).
	Tenant string
	// TeamID, KeyID and PrivateKey (PEM, the .p8 file Apple hands out) let
	// the apple preset make its ES256 client secret itself; ClientSecret
	// is then left empty.
	TeamID, KeyID, PrivateKey string
	// Offline asks for a refresh token where the provider gives one only
	// when asked: google adds access_type=offline and prompt=consent,
	// microsoft, auth0, okta and zitadel the offline_access scope. Other
	// presets refuse it.
	Offline bool

	// Scopes requested; default for oidc: openid email profile. An oidc
	// provider's scopes must include openid.
	Scopes []string

	// AuthParams are extra authorization request parameters (e.g.
	// access_type=offline, hd=example.com). They may not name a protocol
	// parameter that edgeauth sets itself (state, nonce, PKCE, …).
	AuthParams map[string]string

	// Userinfo is UserinfoAuto ("" means auto), UserinfoAlways or UserinfoNever.
	Userinfo string

	// Endpoint overrides; each wins over discovery. For oauth2, AuthURL,
	// TokenURL and UserinfoURL are required (or come from a preset).
	AuthURL, TokenURL, UserinfoURL, JWKSURL, RevocationURL, EndSessionURL string
	// IntrospectionURL overrides discovery's introspection_endpoint (RFC
	// 7662), which lets [Provider.Convert] accept access tokens.
	IntrospectionURL string

	// SubjectClaim names the claim that identifies the user; default "sub".
	// For oauth2 it is read from the userinfo answer (GitHub: "id", a
	// number, turned into its decimal string).
	SubjectClaim string

	// ClientAuth is ClientAuthBasic or ClientAuthPost; "" means basic, or
	// post for the github and apple presets. Exactly one style is used: no
	// retry with the other, which would re-send the code.
	ClientAuth string

	// SigningAlgs is the ID token `alg` allow-list; default RS256, ES256,
	// PS256, EdDSA. "none" is refused. HS256/384/512 only when listed, and
	// then keyed by the client secret (OpenID Connect Core §10.1), which
	// must be at least as long as the hash output (RFC 7518 §3.2).
	SigningAlgs []string
	// TrustedAudiences are audiences an ID token may list besides ClientID
	// (OIDC Core §3.1.3.7 step 3); any other extra audience is refused.
	TrustedAudiences []string

	// HostedDomains, when set, restricts logins to these Google Workspace
	// domains (the ID token's `hd`, google preset) or Microsoft tenant ids
	// (`tid`, microsoft preset); other provider types cannot say, so it is
	// a configuration error there.
	HostedDomains []string

	// ConvertAudiences are further client ids (a native app's iOS and
	// Android clients) whose tokens [Provider.Convert] accepts.
	ConvertAudiences []string
	// ConvertMaxAge bounds the age (iat) of an ID token presented to
	// Convert; "0" means 10 minutes, at most 24 hours.
	ConvertMaxAge time.Duration
	// ConvertAccessToken is ConvertVerify ("" means verify) or ConvertUserinfo.
	ConvertAccessToken string

	// Timeout bounds every outbound call; 0 means 10s.
	Timeout time.Duration

	// HTTPClient is optional. Whatever is given, the Provider uses a copy
	// that never follows redirects and has Timeout when it had none.
	HTTPClient *http.Client

	// Now is the clock for the time checks of ID tokens (exp, iat, nbf);
	// nil means time.Now.
	Now func() time.Time

	// Observe, when set, is told about every request made to the provider
	// once its answer is read (see [Call]), for metrics. It is called on
	// the requesting goroutine, concurrently for concurrent requests, and
	// must not block.
	Observe func(Call)
}

// isOAuthParam reports the authorization request parameters edgeauth
// sets itself or that change the protocol (RFC 6749 §4.1.1, RFC 7636 §4.3,
// OpenID Connect Core §3.1.2.1, RFC 9101, RFC 9126). None may sit in a
// discovered authorization_endpoint's query, where x/oauth2 would append
// ours after them and a server might read the first.
func isOAuthParam(name string) bool {
	switch name {
	case "response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
		"code_challenge", "code_challenge_method", "response_mode",
		"request", "request_uri", "prompt", "login_hint", "claims", "id_token_hint":
		return true
	}
	return false
}

// isProtectedAuthParam reports the parameters AuthParams may not set.
// prompt and login_hint may be given defaults there, response_mode too
// (Apple needs form_post).
func isProtectedAuthParam(name string) bool {
	switch name {
	case "response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
		"code_challenge", "code_challenge_method", "request", "request_uri":
		return true
	}
	return false
}

// normalize fills defaults and returns every problem found, as a
// *ConfigError.
func (c *Config) normalize() error {
	var probs []ConfigProblem
	bad := func(field, format string, args ...any) {
		probs = append(probs, ConfigProblem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}

	if c.Name == "" {
		bad("name", "missing")
	}
	if err := ApplyPreset(c); err != nil {
		if ce, ok := errors.AsType[*ConfigError](err); ok {
			probs = append(probs, ce.Problems...)
		} else {
			bad("type", "%v", err)
		}
	}
	if c.BaseURL != "" {
		// Not a preset (ApplyPreset would have used it): it is the issuer.
		if err := applyBaseURL(c, nil); err != nil {
			probs = append(probs, err.(*ConfigError).Problems...)
		}
	}
	switch c.Type {
	case "":
		c.Type = TypeOIDC
	case TypeOIDC, TypeOAuth2:
	default:
		c.Type = TypeOIDC // ApplyPreset reported it; check the rest as oidc
	}
	if c.Preset != "" {
		if pr, ok := lookupPreset(c.Preset); !ok {
			bad("type", "unknown preset %q (known: %v)", c.Preset, presetNames())
		} else if pr.check != nil {
			probs = append(probs, pr.check(c)...)
		}
	} else if c.Offline {
		bad("offline", "only the google and microsoft presets need to be asked for refresh tokens")
	}
	if c.Preset != "apple" && (c.TeamID != "" || c.KeyID != "" || c.PrivateKey != "") {
		bad("team_id", "TEAM_ID, KEY_ID and PRIVATE_KEY are for the apple preset only")
	}
	if c.Preset != "microsoft" && c.Tenant != "" {
		bad("tenant", "TENANT is for the microsoft preset only")
	}
	oidcType := c.Type == TypeOIDC

	if c.ClientID == "" {
		bad("client_id", "missing")
	}
	if oidcType || c.Issuer != "" {
		if err := checkIssuer(c.Issuer); err != nil {
			bad("issuer", "%v", err)
		}
	}
	urls := []struct {
		field, value string
		required     bool
	}{
		{"auth_url", c.AuthURL, !oidcType},
		{"token_url", c.TokenURL, !oidcType},
		{"userinfo_url", c.UserinfoURL, !oidcType},
		{"jwks_url", c.JWKSURL, false},
		{"revocation_url", c.RevocationURL, false},
		{"end_session_url", c.EndSessionURL, false},
		{"introspection_url", c.IntrospectionURL, false},
	}
	for _, u := range urls {
		if u.value == "" {
			if u.required {
				bad(u.field, "missing (required for type oauth2)")
			}
			continue
		}
		if err := checkEndpoint(u.value); err != nil {
			bad(u.field, "%v", err)
		}
	}
	if c.AuthURL != "" {
		if err := checkAuthEndpointQuery(c.AuthURL); err != nil {
			bad("auth_url", "%v", err)
		}
	}

	if len(c.Scopes) == 0 && oidcType {
		c.Scopes = []string{"openid", "email", "profile"}
	}
	if oidcType && !slices.Contains(c.Scopes, "openid") {
		bad("scopes", "an oidc provider needs the openid scope (got %q)", strings.Join(c.Scopes, " "))
	}
	for _, k := range slices.Sorted(maps.Keys(c.AuthParams)) {
		if isProtectedAuthParam(k) {
			bad("auth_params", "%q is set by edgeauth and cannot be overridden", k)
		}
	}

	switch c.Userinfo {
	case "":
		c.Userinfo = UserinfoAuto
	case UserinfoAuto, UserinfoAlways:
	case UserinfoNever:
		if !oidcType {
			bad("userinfo", "never is impossible for type oauth2: the identity comes from userinfo")
		}
	default:
		bad("userinfo", "unknown %q (want auto, always or never)", c.Userinfo)
	}

	if c.SubjectClaim == "" {
		c.SubjectClaim = "sub"
	}

	switch c.ClientAuth {
	case "":
		c.ClientAuth = ClientAuthBasic
	case ClientAuthBasic, ClientAuthPost:
	default:
		bad("client_auth", "unknown %q (want basic or post)", c.ClientAuth)
	}

	if len(c.SigningAlgs) == 0 {
		// Asymmetric algorithms only (RFC 8725 §3.1, §3.2).
		c.SigningAlgs = []string{"RS256", "ES256", "PS256", "EdDSA"}
	}
	for _, alg := range c.SigningAlgs {
		family, ok := familyOf(alg)
		switch {
		case strings.EqualFold(alg, "none"):
			bad("signing_algs", "none is never allowed (RFC 8725 §3.1)")
		case !ok:
			bad("signing_algs", "unknown %q", alg)
		case family.symmetric && len(c.ClientSecret) < family.hashSize:
			bad("signing_algs", "%s needs a client secret of at least %d bytes", alg, family.hashSize)
		}
	}
	for _, list := range []struct {
		field  string
		values []string
	}{
		{"trusted_audiences", c.TrustedAudiences},
		{"convert_audiences", c.ConvertAudiences},
		{"hosted_domains", c.HostedDomains},
	} {
		if slices.Contains(list.values, "") {
			bad(list.field, "contains an empty entry")
		}
	}
	if pr, _ := lookupPreset(c.Preset); len(c.HostedDomains) > 0 && pr.quirks.domainClaim == "" {
		bad("hosted_domains", "only the google (hd) and microsoft (tid) presets say which domain an account belongs to")
	}

	switch {
	case c.ConvertMaxAge < 0:
		bad("convert_max_age", "negative")
	case c.ConvertMaxAge == 0:
		c.ConvertMaxAge = defaultConvertMaxAge
	case c.ConvertMaxAge > maxConvertMaxAge:
		bad("convert_max_age", "%s exceeds %s", c.ConvertMaxAge, maxConvertMaxAge)
	}
	switch c.ConvertAccessToken {
	case "":
		c.ConvertAccessToken = ConvertVerify
	case ConvertVerify, ConvertUserinfo:
	default:
		bad("convert_access_token", "unknown %q (want verify or userinfo)", c.ConvertAccessToken)
	}

	if c.Timeout < 0 {
		bad("timeout", "negative")
	}
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(probs) > 0 {
		return &ConfigError{Provider: c.Name, Problems: probs}
	}
	return nil
}

// checkIssuer applies OpenID Connect Discovery §3: an https URL with no
// query or fragment (http only for loopback development providers).
func checkIssuer(s string) error {
	if s == "" {
		return errors.New("missing")
	}
	if err := checkEndpoint(s); err != nil {
		return err
	}
	u, _ := url.Parse(s)
	if u.RawQuery != "" || u.ForceQuery {
		return fmt.Errorf("%q must not have a query", s)
	}
	return nil
}

// checkEndpoint requires an absolute https URL without credentials or
// fragment; plain http is allowed for localhost and loopback addresses only.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", clipURL(s))
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an absolute URL", clipURL(s))
	}
	if u.User != nil {
		return fmt.Errorf("%q must not carry credentials", u.Redacted())
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("%q must not have a fragment", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q must use https (http only for localhost)", s)
	default:
		return fmt.Errorf("%q must use https", s)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkAuthEndpointQuery refuses an authorization endpoint whose query
// already carries an OAuth parameter: x/oauth2 appends ours after it, and a
// server that reads the first occurrence would obey the endpoint's value.
func checkAuthEndpointQuery(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fmt.Errorf("%q has a malformed query", s)
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if isOAuthParam(name) {
			return fmt.Errorf("%q carries the OAuth parameter %q in its query", s, name)
		}
	}
	return nil
}

// clipURL shortens an unparseable value before it goes into a message.
func clipURL(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// String describes the provider without its client secret, so a Config
// printed with %v or %+v leaks nothing.
func (c Config) String() string {
	return fmt.Sprintf("oidc.Config{name=%s type=%s issuer=%s client_id=%s}", c.Name, c.Type, c.Issuer, c.ClientID)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }
