package oidc

import (
	"context"
	"slices"
	"strings"
)

// Microsoft identity platform v2.0
// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc).
//
// Config.Tenant (EDGEAUTH_<NAME>_TENANT) is required; there is no default,
// because "common" lets every Microsoft account in, personal ones too,
// which a deployment should choose knowingly:
//
//   - a tenant id (GUID): issuer https://login.microsoftonline.com/<id>/v2.0,
//     matched exactly. A verified domain (contoso.onmicrosoft.com) is
//     refused: its discovery document names the GUID as issuer, and
//     edgeauth matches issuers exactly, so configure the GUID (it is the
//     `issuer` in https://login.microsoftonline.com/<domain>/v2.0/.well-known/openid-configuration).
//   - consumers: the personal-account tenant, whose GUID
//     9188040d-6c67-4c5b-b112-36a304b66dad Microsoft documents as
//     interchangeable with "consumers"; a single tenant, matched exactly.
//   - common or organizations: multi-tenant. Their discovery documents
//     (under /common/v2.0 or /organizations/v2.0) publish the issuer
//     https://login.microsoftonline.com/{tenantid}/v2.0, which is the
//     configured issuer and is compared with discovery's exactly. Each ID
//     token's tid must then be a GUID and its iss must be that template
//     with {tenantid} replaced by tid (the validation Microsoft asks of
//     multi-tenant apps); organizations also refuses the consumer tenant.
//     Identity.Issuer stays the template; the tenant is Claims["tid"].
//
// Config.HostedDomains lists the tenant ids (tid) allowed.
//
// Email: the email claim is mutable and, for multi-tenant apps, set by
// whoever administers the user's tenant; Microsoft advises against using
// it for authorization and userinfo (graph.microsoft.com/oidc/userinfo)
// has no email_verified. Identity.EmailVerified is therefore true only
// when the token carries the optional claim xms_edov (email domain owner
// verified) as true; add it under Token configuration in the app
// registration.
//
// Refresh: with the offline_access scope (Config.Offline adds it). Revoke:
// Microsoft has no RFC 7009 endpoint. Logout: end_session_endpoint from
// discovery.
func microsoftPreset() preset {
	return preset{
		cfg: Config{Type: TypeOIDC},
		needIssuer: "microsoft: set TENANT to the tenant-id (a GUID), organizations, consumers or common " +
			"(or the issuer to https://login.microsoftonline.com/<tenant-id>/v2.0)",
		configure: microsoftConfigure,
		quirks: quirks{
			checkIssuer:  microsoftIssuer,
			discoveryURL: microsoftDiscovery,
			enrich:       microsoftEmail,
			domainClaim:  "tid",
		},
	}
}

const (
	microsoftLogin = "https://login.microsoftonline.com/"
	// microsoftTemplate is the issuer the multi-tenant documents publish.
	microsoftTemplate = microsoftLogin + "{tenantid}/v2.0"
	// microsoftConsumers is the tenant of personal Microsoft accounts.
	microsoftConsumers = "9188040d-6c67-4c5b-b112-36a304b66dad"
)

func microsoftConfigure(c *Config) *ConfigProblem {
	if c.Offline {
		if len(c.Scopes) == 0 {
			c.Scopes = []string{"openid", "email", "profile"}
		}
		if !slices.Contains(c.Scopes, "offline_access") {
			c.Scopes = append(c.Scopes, "offline_access")
		}
	}
	tenant := strings.ToLower(strings.TrimSpace(c.Tenant))
	c.Tenant = tenant
	if tenant == "" {
		if strings.Contains(c.Issuer, "{tenantid}") {
			return &ConfigProblem{Field: "tenant", Msg: "a {tenantid} issuer needs TENANT common or organizations, to know where its discovery document is"}
		}
		return nil // needIssuer, or an issuer set by hand
	}
	if c.Issuer != "" {
		return &ConfigProblem{Field: "tenant", Msg: "the issuer is set too: keep one"}
	}
	switch {
	case tenant == "common" || tenant == "organizations":
		c.Issuer = microsoftTemplate
	case tenant == "consumers":
		c.Issuer = microsoftLogin + microsoftConsumers + "/v2.0"
	case isGUID(tenant):
		c.Issuer = microsoftLogin + tenant + "/v2.0"
	default:
		return &ConfigProblem{Field: "tenant", Msg: "want the tenant id (a GUID), organizations, consumers or common; " +
			"a domain's discovery document names the GUID as its issuer, so configure that"}
	}
	return nil
}

// multiTenant reports a configured {tenantid} issuer.
func microsoftMultiTenant(p *Provider) bool { return strings.Contains(p.cfg.Issuer, "{tenantid}") }

func microsoftDiscovery(p *Provider) string {
	if microsoftMultiTenant(p) {
		return microsoftLogin + p.cfg.Tenant + "/v2.0/.well-known/openid-configuration"
	}
	return strings.TrimSuffix(p.cfg.Issuer, "/") + "/.well-known/openid-configuration"
}

// microsoftIssuer is the exact iss check for a single tenant, and for
// common and organizations the template check Microsoft documents: tid a
// GUID, iss the template with that tid.
func microsoftIssuer(p *Provider, c map[string]any) error {
	bad := func(check, format string, args ...any) error {
		return newError(CodeInvalidIDToken, check, nil, check+": "+format, args...)
	}
	iss, _ := c["iss"].(string)
	if !microsoftMultiTenant(p) {
		if iss != p.cfg.Issuer {
			return bad("iss", "expected %s, got %s", clip(p.cfg.Issuer), clip(claimString(c, "iss")))
		}
		return nil
	}
	tid, _ := c["tid"].(string)
	if !isGUID(tid) {
		return bad("tid", "expected a tenant id (GUID), got %s", clip(claimString(c, "tid")))
	}
	if want := strings.Replace(p.cfg.Issuer, "{tenantid}", tid, 1); iss != want {
		return bad("iss", "expected %s for tid %s, got %s", clip(want), tid, clip(claimString(c, "iss")))
	}
	if p.cfg.Tenant == "organizations" && tid == microsoftConsumers {
		return bad("tid", "organizations admits work and school accounts only, not the personal-account tenant")
	}
	return nil
}

// microsoftEmail makes EmailVerified depend on xms_edov alone, whatever
// else the claims say.
func microsoftEmail(_ context.Context, _ *Provider, _ *endpoints, _ string, id *Identity) error {
	id.EmailVerified = id.Email != "" && isTrue(id.Claims["xms_edov"])
	return nil
}

// isGUID accepts the lower-case 8-4-4-4-12 hex form Microsoft uses for
// tenant ids.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
