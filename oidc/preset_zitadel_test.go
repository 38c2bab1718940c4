package oidc

import (
	"context"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/oidc/presettest"
)

const zitadelProject = "259254433432341234"

// ZITADEL's ID tokens name the project besides the client: refused until
// the project is a trusted audience, with a message that says so.
func TestZitadelProjectAudience(t *testing.T) {
	fake := presettest.NewZitadel(t, "acme-x1y2z3.zitadel.cloud", zitadelProject, hostedClient())
	cases := []struct {
		name    string
		trusted []string
		refused string // detail; "" for accepted
	}{
		{"project not trusted", nil, `"` + zitadelProject + `", the ZITADEL project of client "` + hostedClientID +
			`" if it is yours: add it to TRUSTED_AUDIENCES (EDGEAUTH_ZITADEL_TRUSTED_AUDIENCES)`},
		{"another audience trusted", []string{"111"}, "EDGEAUTH_ZITADEL_TRUSTED_AUDIENCES"},
		{"project trusted", []string{zitadelProject}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := hostedProvider(t, fake.OIDCFake, Config{Name: "zitadel", BaseURL: "acme-x1y2z3.zitadel.cloud", TrustedAudiences: tc.trusted})
			res, err := hostedLogin(t, p, fake.OIDCFake, "max@example.com")
			if tc.refused != "" {
				if e := wantError(t, err, CodeInvalidIDToken, "aud"); !strings.Contains(e.Detail, tc.refused) {
					t.Fatalf("detail %q, want it to contain %q", e.Detail, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if id := res.Identity; id.Subject != fake.Subject("max@example.com") || id.Issuer != "https://acme-x1y2z3.zitadel.cloud" {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

// Trusting the project never makes a token for another client of it ours.
func TestZitadelOtherClientOfProject(t *testing.T) {
	fake := presettest.NewZitadel(t, "acme-x1y2z3.zitadel.cloud", zitadelProject, hostedClient())
	fake.SetFaults(oidctest.Faults{Audience: []string{"other-app", zitadelProject}, AuthorizedParty: "other-app"})
	p := hostedProvider(t, fake.OIDCFake, Config{Name: "zitadel", BaseURL: "acme-x1y2z3.zitadel.cloud", TrustedAudiences: []string{zitadelProject}})
	_, err := hostedLogin(t, p, fake.OIDCFake, "max@example.com")
	wantError(t, err, CodeInvalidIDToken, "aud")
}

func TestZitadelConvert(t *testing.T) {
	ctx := context.Background()
	fake := presettest.NewZitadel(t, "acme-x1y2z3.zitadel.cloud", zitadelProject, hostedClient())
	p := hostedProvider(t, fake.OIDCFake, Config{Name: "zitadel", BaseURL: "acme-x1y2z3.zitadel.cloud", TrustedAudiences: []string{zitadelProject}})
	toks, err := fake.IssueTokens(hostedClientID, "max@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, token, kind string }{
		{"id token", toks.IDToken, ""},
		{"access token", toks.AccessToken, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := p.Convert(ctx, ConvertRequest{Token: tc.token, TokenType: tc.kind})
			if err != nil || id.Subject != fake.Subject("max@example.com") {
				t.Fatalf("Convert = %+v, %v", id, err)
			}
		})
	}
	eps, err := p.Endpoints(ctx)
	if err != nil || eps.Introspection != "https://acme-x1y2z3.zitadel.cloud/oauth/v2/introspect" ||
		eps.EndSession != "https://acme-x1y2z3.zitadel.cloud/oidc/v1/end_session" || eps.Revocation != "https://acme-x1y2z3.zitadel.cloud/oauth/v2/revoke" {
		t.Fatalf("endpoints %+v, %v", eps, err)
	}
}
