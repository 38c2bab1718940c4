package oidc

import (
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/presettest"
)

const (
	msWork  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	msOther = "0b2c3d4e-1111-4222-8333-944455556666"
)

func newMicrosoft(t *testing.T, u presettest.MicrosoftUser, edit func(*Config)) (*presettest.Microsoft, *Provider) {
	t.Helper()
	m := presettest.NewMicrosoft(t, presettest.MicrosoftOptions{ClientID: "ms-client", ClientSecret: "ms-secret", RedirectURIs: []string{presetRedirect}, User: u})
	c := Config{Name: "microsoft", Type: "microsoft", ClientID: "ms-client", ClientSecret: "ms-secret", Tenant: msWork, HTTPClient: m.Client()}
	if edit != nil {
		edit(&c)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return m, p
}

func TestMicrosoftLogin(t *testing.T) {
	m, p := newMicrosoft(t, presettest.MicrosoftUser{TenantID: msWork, Sub: "pairwise-sub", Email: "ada@contoso.example"}, nil)
	authURL, res, err := loginViaFake(t, p, m.Login)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(authURL, "https://login.microsoftonline.com/"+msWork+"/oauth2/v2.0/authorize?") {
		t.Fatalf("auth URL %s", authURL)
	}
	id := res.Identity
	if id.Issuer != "https://login.microsoftonline.com/"+msWork+"/v2.0" || id.Subject != "pairwise-sub" || id.Email != "ada@contoso.example" || id.EmailVerified {
		t.Fatalf("identity %+v", id)
	}
	if res.Tokens.RefreshToken != "" {
		t.Fatal("a refresh token without offline_access")
	}
	logout, err := p.LogoutURL(t.Context(), LogoutRequest{IDTokenHint: res.Tokens.IDToken, PostLogoutRedirectURI: "https://app.example/bye"})
	if err != nil || !strings.HasPrefix(logout, "https://login.microsoftonline.com/"+msWork+"/oauth2/v2.0/logout?") {
		t.Fatalf("logout %s, %v", logout, err)
	}
	wantError(t, p.Revoke(t.Context(), res.Tokens.AccessToken, ""), CodeUnsupported, "revocation")
}

// TestMicrosoftTenant: TENANT picks the issuer; a domain is refused,
// since its discovery document names the GUID and issuers match exactly.
func TestMicrosoftTenant(t *testing.T) {
	for _, tc := range []struct {
		name, tenant, issuer string
		want, problem        string
	}{
		{name: "tenant id", tenant: msWork, want: "https://login.microsoftonline.com/" + msWork + "/v2.0"},
		{name: "tenant id upper-case", tenant: strings.ToUpper(msWork), want: "https://login.microsoftonline.com/" + msWork + "/v2.0"},
		{name: "consumers", tenant: "consumers", want: "https://login.microsoftonline.com/" + presettest.MicrosoftConsumers + "/v2.0"},
		{name: "common", tenant: "common", want: "https://login.microsoftonline.com/{tenantid}/v2.0"},
		{name: "organizations", tenant: "Organizations", want: "https://login.microsoftonline.com/{tenantid}/v2.0"},
		{name: "issuer by hand", issuer: "https://login.microsoftonline.com/" + msWork + "/v2.0", want: "https://login.microsoftonline.com/" + msWork + "/v2.0"},
		{name: "domain", tenant: "contoso.onmicrosoft.com", problem: "tenant"},
		{name: "tenant and issuer", tenant: msWork, issuer: "https://login.microsoftonline.com/" + msWork + "/v2.0", problem: "tenant"},
		{name: "template without tenant", issuer: "https://login.microsoftonline.com/{tenantid}/v2.0", problem: "tenant"},
		{name: "nothing", problem: "issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Name: "ms", Type: "microsoft", ClientID: "c", Tenant: tc.tenant, Issuer: tc.issuer}
			_, err := New(c)
			if tc.problem != "" {
				ce, ok := err.(*ConfigError)
				if !ok || len(ce.Problems) == 0 || ce.Problems[0].Field != tc.problem {
					t.Fatalf("error %v, want a %s problem", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := ApplyPreset(&c); err != nil || c.Issuer != tc.want {
				t.Fatalf("issuer %q, %v; want %q", c.Issuer, err, tc.want)
			}
		})
	}
}

// TestMicrosoftMultiTenant: for common and organizations the ID token's
// iss must be the template with its own tid, a GUID; organizations refuses
// personal accounts; consumers is the personal-account tenant exactly.
func TestMicrosoftMultiTenant(t *testing.T) {
	for _, tc := range []struct {
		name, tenant, userTenant string
		edit                     func(map[string]any)
		check                    string // "" for allowed
	}{
		{name: "common, work account", tenant: "common", userTenant: msWork},
		{name: "common, personal account", tenant: "common", userTenant: presettest.MicrosoftConsumers},
		{name: "organizations, work account", tenant: "organizations", userTenant: msOther},
		{name: "organizations, personal account", tenant: "organizations", userTenant: presettest.MicrosoftConsumers, check: "tid"},
		{name: "consumers, personal account", tenant: "consumers", userTenant: presettest.MicrosoftConsumers},
		{name: "consumers, work account", tenant: "consumers", userTenant: msWork, check: "iss"},
		{name: "single tenant, another tenant", tenant: msWork, userTenant: msOther, check: "iss"},
		{name: "tid not the iss tenant", tenant: "common", userTenant: msWork, edit: func(c map[string]any) { c["tid"] = msOther }, check: "iss"},
		{name: "iss of another tenant", tenant: "organizations", userTenant: msWork,
			edit: func(c map[string]any) { c["iss"] = "https://login.microsoftonline.com/" + msOther + "/v2.0" }, check: "iss"},
		{name: "tid no GUID", tenant: "common", userTenant: msWork, edit: func(c map[string]any) {
			c["tid"], c["iss"] = "contoso", "https://login.microsoftonline.com/contoso/v2.0"
		}, check: "tid"},
		{name: "tid upper-case", tenant: "common", userTenant: msWork, edit: func(c map[string]any) {
			up := strings.ToUpper(msWork)
			c["tid"], c["iss"] = up, "https://login.microsoftonline.com/"+up+"/v2.0"
		}, check: "tid"},
		{name: "tid missing", tenant: "common", userTenant: msWork, edit: func(c map[string]any) { delete(c, "tid") }, check: "tid"},
		{name: "template itself as iss", tenant: "common", userTenant: msWork, edit: func(c map[string]any) {
			c["tid"], c["iss"] = "{tenantid}", "https://login.microsoftonline.com/{tenantid}/v2.0"
		}, check: "tid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, p := newMicrosoft(t, presettest.MicrosoftUser{TenantID: tc.userTenant}, func(c *Config) { c.Tenant = tc.tenant })
			m.EditIDToken(tc.edit)
			_, res, err := loginViaFake(t, p, m.Login)
			if tc.check != "" {
				wantError(t, err, CodeInvalidIDToken, tc.check)
				// A native app's ID token is held to the same rule.
				_, err = p.Convert(t.Context(), ConvertRequest{Token: m.IDToken("ms-client", ""), TokenType: TokenTypeIDToken})
				wantConvertError(t, err, CodeInvalidToken, tc.check)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Identity.Claims["tid"] != tc.userTenant {
				t.Fatalf("claims %v", res.Identity.Claims)
			}
			// Convert recognises the token as an ID token without being told.
			id, err := p.Convert(t.Context(), ConvertRequest{Token: m.IDToken("ms-client", "")})
			if err != nil || id.Subject != res.Identity.Subject {
				t.Fatalf("convert: %+v, %v", id, err)
			}
		})
	}
}

// TestMicrosoftEmailVerified: only xms_edov makes the email verified;
// an email_verified claim from the tenant is not believed.
func TestMicrosoftEmailVerified(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name string
		edov *bool
		edit func(map[string]any)
		want bool
	}{
		{name: "no xms_edov"},
		{name: "xms_edov true", edov: &yes, want: true},
		{name: "xms_edov false", edov: &no},
		{name: "email_verified claim", edit: func(c map[string]any) { c["email_verified"] = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, p := newMicrosoft(t, presettest.MicrosoftUser{EmailDomainVerified: tc.edov}, nil)
			m.EditIDToken(tc.edit)
			_, res, err := loginViaFake(t, p, m.Login)
			if err != nil {
				t.Fatal(err)
			}
			if res.Identity.Email == "" || res.Identity.EmailVerified != tc.want {
				t.Fatalf("email %q verified %v, want %v", res.Identity.Email, res.Identity.EmailVerified, tc.want)
			}
			id, err := p.Convert(t.Context(), ConvertRequest{Token: m.IDToken("ms-client", "")})
			if err != nil || id.EmailVerified != tc.want {
				t.Fatalf("convert: %+v, %v", id, err)
			}
		})
	}
}

// TestMicrosoftOffline: refresh tokens only with offline_access, which
// Config.Offline adds; a refresh keeps the tenant rules.
func TestMicrosoftOffline(t *testing.T) {
	m, p := newMicrosoft(t, presettest.MicrosoftUser{TenantID: msWork}, func(c *Config) { c.Tenant = "organizations"; c.Offline = true })
	authURL, res, err := loginViaFake(t, p, m.Login)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(authURL, "offline_access") || res.Tokens.RefreshToken == "" {
		t.Fatalf("auth URL %s, tokens %+v", authURL, res.Tokens)
	}
	r, err := p.Refresh(t.Context(), res.Tokens.RefreshToken, res.Identity.Subject)
	if err != nil || r.Identity.Claims["tid"] != msWork {
		t.Fatalf("refresh: %+v, %v", r, err)
	}
	m.EditIDToken(func(c map[string]any) { c["tid"] = msOther })
	_, err = p.Refresh(t.Context(), res.Tokens.RefreshToken, res.Identity.Subject)
	wantError(t, err, CodeInvalidIDToken, "iss")
}

// TestMicrosoftHostedDomains: HOSTED_DOMAINS lists the tenants (tid) a
// multi-tenant app admits.
func TestMicrosoftHostedDomains(t *testing.T) {
	for _, tc := range []struct {
		tenant string
		ok     bool
	}{{msWork, true}, {msOther, false}, {presettest.MicrosoftConsumers, false}} {
		m, p := newMicrosoft(t, presettest.MicrosoftUser{TenantID: tc.tenant}, func(c *Config) {
			c.Tenant, c.HostedDomains = "common", []string{msWork}
		})
		_, _, err := loginViaFake(t, p, m.Login)
		if tc.ok != (err == nil) {
			t.Fatalf("tenant %s: %v", tc.tenant, err)
		}
		if !tc.ok {
			wantError(t, err, CodeDomainNotAllowed, "tid")
		}
	}
}

// TestMicrosoftConvertAccessToken: Microsoft cannot say which client an
// access token (a Graph token) was issued to, so none is accepted.
func TestMicrosoftConvertAccessToken(t *testing.T) {
	_, p := newMicrosoft(t, presettest.MicrosoftUser{}, func(c *Config) { c.Tenant = "common" })
	_, err := p.Convert(t.Context(), ConvertRequest{Token: "eyJ0eXAiOiJKV1QiLCJub25jZSI6opaque", TokenType: TokenTypeAccessToken})
	wantConvertError(t, err, CodeInvalidToken, "access_token")
}

// FuzzMicrosoftIssuer: whatever iss and tid an ID token carries, the
// multi-tenant check accepts only the template filled with a GUID tid,
// and for organizations never the personal-account tenant.
func FuzzMicrosoftIssuer(f *testing.F) {
	f.Add("https://login.microsoftonline.com/"+msWork+"/v2.0", msWork)
	f.Add("https://login.microsoftonline.com/{tenantid}/v2.0", "{tenantid}")
	f.Add("https://login.microsoftonline.com/"+presettest.MicrosoftConsumers+"/v2.0", presettest.MicrosoftConsumers)
	providers := map[string]*Provider{}
	for _, tenant := range []string{"common", "organizations"} {
		p, err := New(Config{Name: "ms", Type: "microsoft", ClientID: "c", Tenant: tenant})
		if err != nil {
			f.Fatal(err)
		}
		providers[tenant] = p
	}
	f.Fuzz(func(t *testing.T, iss, tid string) {
		for tenant, p := range providers {
			if microsoftIssuer(p, map[string]any{"iss": iss, "tid": tid}) != nil {
				continue
			}
			if !isGUID(tid) || iss != "https://login.microsoftonline.com/"+tid+"/v2.0" ||
				(tenant == "organizations" && tid == presettest.MicrosoftConsumers) {
				t.Fatalf("%s accepted iss %q tid %q", tenant, iss, tid)
			}
		}
	})
}

// TestTenantOnlyForMicrosoft: a TENANT elsewhere is a mistake (a provider
// meant as microsoft), said at start rather than ignored.
func TestTenantOnlyForMicrosoft(t *testing.T) {
	_, err := New(Config{Name: "google", ClientID: "c", Tenant: "common"})
	ce, ok := err.(*ConfigError)
	if !ok || len(ce.Problems) != 1 || ce.Problems[0].Field != "tenant" {
		t.Fatalf("err = %v, want one tenant problem", err)
	}
}
