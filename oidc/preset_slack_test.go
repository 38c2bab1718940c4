package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/oidc/presettest"
)

func TestSlackLogin(t *testing.T) {
	ctx := context.Background()
	fake := presettest.NewSlack(t, "T0123ABCD", hostedClient())
	p := hostedProvider(t, fake.OIDCFake, Config{Name: "slack"})
	res, err := hostedLogin(t, p, fake.OIDCFake, "sam@example.com")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	id := res.Identity
	if id.Issuer != "https://slack.com" || id.Subject != fake.Subject("sam@example.com") || !strings.HasPrefix(id.Subject, "U") ||
		!id.EmailVerified || id.Claims[presettest.SlackTeamIDClaim] != "T0123ABCD" || id.Claims[presettest.SlackUserIDClaim] != id.Subject {
		t.Fatalf("identity %+v", id)
	}
	if res.Tokens.RefreshToken != "" {
		t.Fatal("Slack gave a refresh token")
	}
	err = p.Revoke(ctx, res.Tokens.AccessToken, "")
	if e := wantError(t, err, CodeUnsupported, "revocation"); !errors.Is(e, ErrNoRevocation) {
		t.Fatalf("Revoke: %v", err)
	}
	_, err = p.LogoutURL(ctx, LogoutRequest{})
	wantError(t, err, CodeUnsupported, "end_session")
	got, err := p.Convert(ctx, ConvertRequest{Token: res.Tokens.IDToken})
	if err != nil || got.Subject != id.Subject {
		t.Fatalf("Convert(id token) = %+v, %v", got, err)
	}
}

// Slack's Web API answers HTTP 200 {"ok": false, "error": …} when it
// refuses: at the token endpoint that is a refused code, named.
func TestSlackTokenOkFalse(t *testing.T) {
	fake := presettest.NewSlack(t, "T0123ABCD", hostedClient())
	fake.SetFaults(oidctest.Faults{TokenError: "invalid_grant"})
	p := hostedProvider(t, fake.OIDCFake, Config{Name: "slack"})
	_, err := hostedLogin(t, p, fake.OIDCFake, "sam@example.com")
	if e := wantError(t, err, CodeExchangeFailed, "token"); !strings.Contains(e.Detail, "invalid_code") {
		t.Fatalf("detail %q, want Slack's error code", e.Detail)
	}
}

// TestSlackClientCredentials: Slack's invalid_client_id and
// bad_client_secret (HTTP 200, ok false) say edgeauth's registration is
// wrong: provider_unavailable, not the app's exchange_failed.
func TestSlackClientCredentials(t *testing.T) {
	fake := presettest.NewSlack(t, "T0123ABCD", hostedClient())
	fake.SetFaults(oidctest.Faults{TokenError: "invalid_client"})
	p := hostedProvider(t, fake.OIDCFake, Config{Name: "slack"})
	_, err := hostedLogin(t, p, fake.OIDCFake, "sam@example.com")
	if e := wantError(t, err, CodeUnavailable, "client_auth"); !strings.Contains(e.Detail, "invalid_client_id") {
		t.Fatalf("detail %q, want Slack's error code", e.Detail)
	}
}

// At userinfo an {"ok": false} answer is a failed call, not a profile
// about nobody (which would read as a substituted token).
func TestSlackUserinfoOkFalse(t *testing.T) {
	fake := presettest.NewSlack(t, "T0123ABCD", hostedClient())
	p := hostedProvider(t, fake.OIDCFake, Config{Name: "slack", Userinfo: UserinfoAlways})
	res, err := hostedLogin(t, p, fake.OIDCFake, "sam@example.com")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, ok := res.Identity.Userinfo["ok"]; ok || res.Identity.Userinfo["sub"] != res.Identity.Subject {
		t.Fatalf("userinfo %v", res.Identity.Userinfo)
	}
	fake.SetFaults(oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.UserinfoEndpoint: http.StatusUnauthorized}})
	_, err = hostedLogin(t, p, fake.OIDCFake, "sam@example.com")
	if e := wantError(t, err, CodeUserinfoFailed, "userinfo_format"); e.Fault != FaultProvider {
		t.Fatalf("fault %v", e.Fault)
	}
}
