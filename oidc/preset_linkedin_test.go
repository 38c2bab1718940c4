package oidc

import (
	"context"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/oidc/presettest"
)

func TestLinkedInLogin(t *testing.T) {
	ctx := context.Background()
	fake := presettest.NewLinkedIn(t, hostedClient())
	p := hostedProvider(t, fake.OIDCFake, Config{Name: "linkedin"})
	res, err := hostedLogin(t, p, fake.OIDCFake, "lee@example.com")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	id := res.Identity
	if id.Issuer != "https://www.linkedin.com/oauth" || id.Subject != fake.Subject("lee@example.com") ||
		id.Email != "lee@example.com" || !id.EmailVerified || id.Claims["email_verified"] != "true" {
		t.Fatalf("identity %+v", id)
	}
	if _, ok := id.Claims["nonce"]; ok {
		t.Fatal("the fake echoed the nonce; LinkedIn does not")
	}
	trs := fake.Requests().TokenRequests
	if len(trs) != 1 || trs[0].ClientAuth != "client_secret_post" {
		t.Fatalf("token requests %+v, want one with client_secret_post", trs)
	}
	if res.Tokens.RefreshToken != "" {
		t.Fatal("LinkedIn gave a refresh token")
	}
	wantError(t, p.Revoke(ctx, res.Tokens.AccessToken, ""), CodeUnsupported, "revocation")
	_, err = p.LogoutURL(ctx, LogoutRequest{})
	wantError(t, err, CodeUnsupported, "end_session")
	// userinfo on api.linkedin.com, its email_verified a boolean.
	p = hostedProvider(t, fake.OIDCFake, Config{Name: "linkedin", Userinfo: UserinfoAlways})
	res, err = hostedLogin(t, p, fake.OIDCFake, "lee@example.com")
	if err != nil || res.Identity.Userinfo["email_verified"] != true || res.Identity.Userinfo["sub"] != id.Subject {
		t.Fatalf("login with userinfo = %+v, %v", res, err)
	}
}

// LinkedIn takes the client secret only in the body.
func TestLinkedInClientSecretPost(t *testing.T) {
	fake := presettest.NewLinkedIn(t, hostedClient())
	p := hostedProvider(t, fake.OIDCFake, Config{Name: "linkedin", ClientAuth: ClientAuthBasic})
	_, err := hostedLogin(t, p, fake.OIDCFake, "lee@example.com")
	wantError(t, err, CodeUnavailable, "client_auth")
}

// A missing nonce is LinkedIn's way; a wrong one is still an attack, and
// convert-token with a nonce cannot be satisfied.
func TestLinkedInNonce(t *testing.T) {
	fake := presettest.NewLinkedIn(t, hostedClient())
	p := hostedProvider(t, fake.OIDCFake, Config{Name: "linkedin"})
	fake.SetFaults(oidctest.Faults{IDTokenClaims: func(c map[string]any) { c["nonce"] = "someone-elses" }})
	_, err := hostedLogin(t, p, fake.OIDCFake, "lee@example.com")
	wantError(t, err, CodeNonceMismatch, "nonce")

	fake.SetFaults(oidctest.Faults{})
	toks, err := fake.IssueTokens(hostedClientID, "lee@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Convert(context.Background(), ConvertRequest{Token: toks.IDToken}); err != nil {
		t.Fatalf("Convert without a nonce: %v", err)
	}
	_, err = p.Convert(context.Background(), ConvertRequest{Token: toks.IDToken, Nonce: "from-the-app"})
	wantError(t, err, CodeInvalidToken, "nonce")
}
