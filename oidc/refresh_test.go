package oidc

import (
	"errors"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

func TestRefresh(t *testing.T) {
	for _, auth := range []string{ClientAuthBasic, ClientAuthPost} {
		t.Run(auth, func(t *testing.T) {
			f := newFlow(t, nil, func(c *Config) { c.ClientAuth = auth })
			res, err := f.run(t)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.p.Refresh(t.Context(), res.Tokens.RefreshToken, res.Identity.Subject)
			if err != nil {
				t.Fatal(err)
			}
			tk := got.Tokens
			if tk.AccessToken == "" || tk.AccessToken == res.Tokens.AccessToken || tk.IDToken == "" || tk.RefreshToken != res.Tokens.RefreshToken {
				t.Fatalf("tokens %+v", tk)
			}
			if id := got.Identity; id.Subject != res.Identity.Subject || id.Issuer != f.op.Issuer() || id.Email != flowEmail || id.Claims["sub"] != res.Identity.Subject {
				t.Fatalf("identity %+v", id)
			}
			_, err = f.p.Refresh(t.Context(), res.Tokens.RefreshToken, "someone-else")
			if e := wantError(t, err, CodeInvalidIDToken, "sub"); e.Fault != FaultClient {
				t.Fatalf("fault %v", e.Fault)
			}

			// Revoking the refresh token makes the next refresh a refusal
			// that ends the session: the client's fault.
			if err := f.p.Revoke(t.Context(), res.Tokens.RefreshToken, "refresh_token"); err != nil {
				t.Fatal(err)
			}
			revs := f.op.Requests().Revocations
			if len(revs) != 1 || !revs[0].Revoked || revs[0].TokenTypeHint != "refresh_token" {
				t.Fatalf("revocations %+v", revs)
			}
			_, err = f.p.Refresh(t.Context(), res.Tokens.RefreshToken, res.Identity.Subject)
			if e := wantError(t, err, CodeExchangeFailed, "token"); e.Fault != FaultClient {
				t.Fatalf("fault %v", e.Fault)
			}
		})
	}
}

// TestRefreshIDToken: OpenID Connect Core §12.2, a refreshed ID token must
// keep iss, sub and aud; without one the identity is the old subject.
func TestRefreshIDToken(t *testing.T) {
	f := newFlow(t, nil, nil)
	res, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	sub := res.Identity.Subject
	for _, tc := range []struct {
		name   string
		faults oidctest.Faults
		code   ErrorCode
		check  string
	}{
		{"other issuer", oidctest.Faults{Issuer: "https://evil.example"}, CodeInvalidIDToken, "iss"},
		{"other audience", oidctest.Faults{Audience: []string{"other"}}, CodeInvalidIDToken, "aud"},
		{"other subject", oidctest.Faults{IDTokenClaims: func(c map[string]any) { c["sub"] = "mallory" }}, CodeInvalidIDToken, "sub"},
		{"expired", oidctest.Faults{Expired: true}, CodeInvalidIDToken, "exp"},
		{"nonce ignored", oidctest.Faults{Nonce: "whatever"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.op.SetFaults(tc.faults)
			got, err := f.p.Refresh(t.Context(), res.Tokens.RefreshToken, sub)
			if tc.code == "" {
				if err != nil || got.Identity.Subject != sub {
					t.Fatalf("%+v, %v", got, err)
				}
				return
			}
			wantError(t, err, tc.code, tc.check)
		})
	}

	f.op.SetFaults(oidctest.Faults{MissingIDToken: true})
	got, err := f.p.Refresh(t.Context(), res.Tokens.RefreshToken, sub)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Identity{Issuer: f.op.Issuer(), Subject: sub}); got.Identity.Subject != want.Subject || got.Identity.Issuer != want.Issuer || got.Identity.Claims != nil || got.Identity.Email != "" {
		t.Fatalf("identity without ID token %+v", got.Identity)
	}
}

func TestRefreshFaults(t *testing.T) {
	f := newFlow(t, nil, nil)
	res, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	sub := res.Identity.Subject
	f.op.SetFaults(oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.TokenEndpoint: 502}})
	_, err = f.p.Refresh(t.Context(), res.Tokens.RefreshToken, sub)
	if e := wantError(t, err, CodeUnavailable, "token"); e.Fault != FaultProvider {
		t.Fatalf("fault %v", e.Fault)
	}
	f.op.SetFaults(oidctest.Faults{TokenError: "invalid_client"})
	_, err = f.p.Refresh(t.Context(), res.Tokens.RefreshToken, sub)
	if e := wantError(t, err, CodeUnavailable, "client_auth"); e.Fault != FaultProvider {
		t.Fatalf("fault %v", e.Fault)
	}
	f.op.SetFaults(oidctest.Faults{TokenError: "invalid_grant"})
	_, err = f.p.Refresh(t.Context(), res.Tokens.RefreshToken, sub)
	if e := wantError(t, err, CodeExchangeFailed, "token"); e.Fault != FaultClient {
		t.Fatalf("fault %v", e.Fault)
	}
	f.op.SetFaults(oidctest.Faults{})
	_, err = f.p.Refresh(t.Context(), "", sub)
	wantError(t, err, CodeExchangeFailed, "refresh_token")
	if _, err := f.p.Refresh(t.Context(), res.Tokens.RefreshToken, ""); err == nil || errors.As(err, new(*Error)) {
		t.Fatalf("empty subject: %v, want a plain error", err)
	}
}

func TestRevoke(t *testing.T) {
	f := newFlow(t, nil, func(c *Config) { c.ClientSecret = "wrong" })
	err := f.p.Revoke(t.Context(), "tok", "")
	wantError(t, err, CodeExchangeFailed, "revocation")
	f.op.SetFaults(oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.RevocationEndpoint: 503}})
	wantError(t, f.p.Revoke(t.Context(), "tok", ""), CodeUnavailable, "revocation")

	clk := newClock()
	op := newKeyOP(t)
	p := op.provider(t, clk, nil)
	err = p.Revoke(t.Context(), "tok", "")
	if e := wantError(t, err, CodeUnsupported, "revocation"); e.Fault != FaultClient || !errors.Is(err, ErrNoRevocation) {
		t.Fatalf("err = %v (%v)", err, e.Fault)
	}
}
