package oidc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// preset holds what a well-known provider needs beyond client id and
// secret. Fields already set in a Config win over the preset's.
type preset struct {
	cfg Config
	// needIssuer, when set, explains why the preset cannot pick an issuer.
	needIssuer string
	// fromBase fills the issuer and endpoints from Config.BaseURL
	// (normalised: https:// when no scheme, no trailing slash); nil means
	// the base URL is the issuer.
	fromBase func(c *Config, base string)
	// validate checks the resolved Config (issuer and endpoints filled)
	// for what the preset knows must hold, e.g. Auth0's trailing slash;
	// nil means nothing beyond the generic checks.
	validate func(c *Config) []ConfigProblem
	// configure reads the preset's own settings (Microsoft's Tenant,
	// Config.Offline) into the Config before the issuer is required; nil
	// means the preset has none, and Offline is then refused.
	configure func(c *Config) *ConfigProblem
	// check validates the preset's credentials (Apple's key and client
	// secret) in New, with the other problems; unlike validate it does
	// not run in ApplyPreset, which callers use to inspect a preset
	// before any credential is set.
	check  func(c *Config) []ConfigProblem
	quirks quirks
}

// quirks are a preset's departures from plain OpenID Connect or OAuth 2.0.
// Each hook is optional; a nil hook means the standard behaviour. They are
// functions of the Provider so that a preset keeps its whole story in its
// own file (preset_<name>.go).
type quirks struct {
	// checkIssuer replaces the exact comparison of a verified ID token's
	// iss with the configured issuer (Microsoft's {tenantid} template).
	checkIssuer func(p *Provider, claims map[string]any) error
	// userinfo rewrites a userinfo (or profile API) answer into OpenID
	// Connect claim names before the identity is read from it: Discord's
	// verified, Twitter's data wrapper, Facebook's picture object.
	userinfo func(info map[string]any) map[string]any
	// enrich completes an identity with more calls made with the access
	// token (GitHub's /user/emails) or corrects what the claims cannot
	// vouch for (Microsoft's email). It runs at login, refresh and
	// Convert; accessToken is "" when Convert was given an ID token.
	enrich func(ctx context.Context, p *Provider, eps *endpoints, accessToken string, id *Identity) error
	// convertAccess checks that an access token was issued to this client
	// and returns its identity (GitHub's token check, Google's tokeninfo,
	// Facebook's debug_token).
	convertAccess func(ctx context.Context, p *Provider, eps *endpoints, token string) (*Identity, error)
	// clientSecret returns the client secret to send now (Apple's ES256
	// JWT); nil means Config.ClientSecret.
	clientSecret func(p *Provider) (string, error)
	// introspection rewrites an RFC 7662 answer into the standard names
	// before it is checked (Okta's uid is the user id, its sub the
	// username); nil keeps it.
	introspection func(ans map[string]any) map[string]any
	// missingNonce accepts a login's ID token without a nonce claim
	// (LinkedIn never echoes it); a nonce that is present must still
	// match, and Convert is unaffected.
	missingNonce bool
	// discoveryURL returns where the discovery document is fetched when
	// it is not under the issuer (Microsoft's multi-tenant issuer is a
	// template; its document is under /common or /organizations).
	discoveryURL func(p *Provider) string
	// revoke replaces RFC 7009 revocation for a provider that has its own
	// API for it (GitHub's DELETE /applications/{client_id}/token), unless
	// a revocation endpoint is configured.
	revoke func(ctx context.Context, p *Provider, eps *endpoints, token, hint string) error
	// domainClaim names the claim that Config.HostedDomains checks
	// (Google's hd, Microsoft's tid); "" means the preset cannot say which
	// domain an account belongs to.
	domainClaim string
	// issParam marks an oauth2 provider whose published metadata (RFC 8414)
	// says authorization_response_iss_parameter_supported: its
	// authorization responses must then carry iss (RFC 9207 §2.4), as
	// discovery says for oidc providers.
	issParam bool
	// tokenErrorCode reads a token endpoint's refusal as an RFC 6749 §5.2
	// code (invalid_client for our credentials, invalid_grant for the
	// code), from the provider's code and body; nil takes the code as it is.
	tokenErrorCode func(status int, code string, body []byte) string
}

// lookupPreset returns the preset called name. Each preset lives in its
// own file, preset_<name>.go, with the provider's documentation cited
// there; anything else is configured as plain oidc or oauth2.
func lookupPreset(name string) (preset, bool) {
	switch name {
	case "apple":
		return applePreset(), true
	case "auth0":
		return auth0Preset(), true
	case "discord":
		return discordPreset(), true
	case "facebook":
		return facebookPreset(), true
	case "github":
		return githubPreset(), true
	case "gitlab":
		return gitlabPreset(), true
	case "google":
		return googlePreset(), true
	case "keycloak":
		return keycloakPreset(), true
	case "linkedin":
		return linkedinPreset(), true
	case "microsoft":
		return microsoftPreset(), true
	case "okta":
		return oktaPreset(), true
	case "slack":
		return slackPreset(), true
	case "twitter", "x":
		return twitterPreset(), true
	case "zitadel":
		return zitadelPreset(), true
	}
	return preset{}, false
}

func presetNames() []string {
	return []string{"apple", "auth0", "discord", "facebook", "github", "gitlab", "google", "keycloak",
		"linkedin", "microsoft", "okta", "slack", "twitter", "x", "zitadel"}
}

// ApplyPreset fills Type, Preset, Issuer, endpoints, scopes and client
// authentication for a well-known provider named by cfg.Type (or by
// cfg.Name when Type is empty): google, microsoft, apple, gitlab, github.
// Values already set in cfg are kept. A Type of oidc or oauth2, or an
// empty Type with a Name that is no preset, is left alone. New calls it
// for a preset Type, so calling it first is only needed to inspect the
// result. Its error is a *ConfigError.
func ApplyPreset(cfg *Config) error {
	if cfg == nil {
		return errors.New("oidc: preset: nil config")
	}
	name := cfg.Type
	if name == TypeOIDC || name == TypeOAuth2 {
		return nil
	}
	if name == "" {
		if _, ok := lookupPreset(cfg.Name); !ok {
			return nil
		}
		name = cfg.Name
	}
	problem := func(field, format string, args ...any) error {
		return &ConfigError{Provider: cfg.Name, Problems: []ConfigProblem{{Field: field, Msg: fmt.Sprintf(format, args...)}}}
	}
	p, ok := lookupPreset(name)
	if !ok {
		return problem("type", "unknown provider type %q (known: %v)", name, presetNames())
	}
	fromBase := cfg.BaseURL != ""
	if fromBase {
		if err := applyBaseURL(cfg, p.fromBase); err != nil {
			return err
		}
	}
	// A misplaced Offline is reported once the preset is applied, so that
	// it is the only problem it causes.
	var late error
	switch {
	case p.configure != nil:
		if prob := p.configure(cfg); prob != nil {
			return problem(prob.Field, "%s", prob.Msg)
		}
	case cfg.Offline:
		late = problem("offline", "%s gives refresh tokens without being asked, or none at all: leave OFFLINE unset "+
			"(it applies to google, microsoft, auth0, okta and zitadel)", name)
	}
	if cfg.Issuer == "" && p.needIssuer != "" {
		return problem("issuer", "%s", p.needIssuer)
	}
	cfg.Type = p.cfg.Type
	cfg.Preset = name
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&cfg.Issuer, p.cfg.Issuer)
	fill(&cfg.AuthURL, p.cfg.AuthURL)
	fill(&cfg.TokenURL, p.cfg.TokenURL)
	fill(&cfg.UserinfoURL, p.cfg.UserinfoURL)
	fill(&cfg.RevocationURL, p.cfg.RevocationURL)
	fill(&cfg.SubjectClaim, p.cfg.SubjectClaim)
	// A preset's client authentication wins over the "" default: Apple
	// and GitHub take the secret only in the body.
	fill(&cfg.ClientAuth, p.cfg.ClientAuth)
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = slices.Clone(p.cfg.Scopes)
	}
	if len(p.cfg.AuthParams) > 0 {
		params := maps.Clone(p.cfg.AuthParams)
		maps.Copy(params, cfg.AuthParams)
		cfg.AuthParams = params
	}
	if p.validate != nil {
		if probs := p.validate(cfg); len(probs) > 0 {
			for i := range probs {
				if fromBase && probs[i].Field == "issuer" {
					probs[i].Field = "base_url" // the setting the operator wrote
				}
			}
			if ce, ok := late.(*ConfigError); ok {
				probs = append(probs, ce.Problems...)
			}
			return &ConfigError{Provider: cfg.Name, Problems: probs}
		}
	}
	return late
}

// NormalizeBaseURL turns what an operator writes as a base URL (a bare
// host, or a URL with a trailing slash) into https://host[/path].
func NormalizeBaseURL(base string) string {
	base = strings.TrimSpace(base)
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	return strings.TrimRight(base, "/")
}

// applyBaseURL derives the issuer (and, through fromBase, endpoints) from
// Config.BaseURL once, clearing it so a second call does nothing.
func applyBaseURL(cfg *Config, fromBase func(c *Config, base string)) error {
	if cfg.Issuer != "" {
		return &ConfigError{Provider: cfg.Name, Problems: []ConfigProblem{{Field: "base_url", Msg: "the issuer is set too: keep one"}}}
	}
	base := NormalizeBaseURL(cfg.BaseURL)
	cfg.BaseURL = ""
	if fromBase != nil {
		fromBase(cfg, base)
		return nil
	}
	cfg.Issuer = base
	return nil
}

// offlineAccess is the configure hook of the providers that give a
// refresh token only for the offline_access scope (OpenID Connect Core
// §11): Config.Offline adds it to the scopes, the default ones when none
// are set.
func offlineAccess(c *Config) *ConfigProblem {
	if !c.Offline {
		return nil
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "email", "profile"}
	}
	if !slices.Contains(c.Scopes, "offline_access") {
		c.Scopes = append(c.Scopes, "offline_access")
	}
	return nil
}
