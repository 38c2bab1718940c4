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
			tk, err := f.p.Refresh(t.Context(), res.Tokens.RefreshToken, res.Identity.Subject)
			if err != nil {
				t.Fatal(err)
			}
			if tk.AccessToken == "" || tk.AccessToken == res.Tokens.AccessToken || tk.IDToken == "" || tk.RefreshToken != res.Tokens.RefreshToken {
				t.Fatalf("tokens %+v", tk)
			}
			_, err = f.p.Refresh(t.Context(), res.Tokens.RefreshToken, "someone-else")
			wantError(t, err, CodeInvalidIDToken, "sub")

			// Revoking the refresh token makes the next refresh a refusal.
			if err := f.p.Revoke(t.Context(), res.Tokens.RefreshToken, "refresh_token"); err != nil {
				t.Fatal(err)
			}
			revs := f.op.Requests().Revocations
			if len(revs) != 1 || !revs[0].Revoked || revs[0].TokenTypeHint != "refresh_token" {
				t.Fatalf("revocations %+v", revs)
			}
			_, err = f.p.Refresh(t.Context(), res.Tokens.RefreshToken, "")
			wantError(t, err, CodeExchangeFailed, "token")
		})
	}
}

func TestRefreshFaults(t *testing.T) {
	f := newFlow(t, nil, nil)
	res, err := f.run(t)
	if err != nil {
		t.Fatal(err)
	}
	f.op.SetFaults(oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.TokenEndpoint: 502}})
	_, err = f.p.Refresh(t.Context(), res.Tokens.RefreshToken, "")
	wantError(t, err, CodeUnavailable, "token")
	f.op.SetFaults(oidctest.Faults{Issuer: "https://evil.example"})
	_, err = f.p.Refresh(t.Context(), res.Tokens.RefreshToken, "")
	wantError(t, err, CodeInvalidIDToken, "iss")
	_, err = f.p.Refresh(t.Context(), "", "")
	wantError(t, err, CodeExchangeFailed, "refresh_token")
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
	if err := p.Revoke(t.Context(), "tok", ""); !errors.Is(err, ErrNoRevocation) {
		t.Fatalf("err = %v", err)
	}
}

func TestIdentify(t *testing.T) {
	f := newFlow(t, nil, nil)
	tk, err := f.op.IssueTokens(flowClient, flowEmail, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.p.Identify(t.Context(), Tokens{IDToken: tk.IDToken, AccessToken: tk.AccessToken}, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != oidctest.Subject(flowEmail) || id.Email != flowEmail {
		t.Fatalf("identity %+v", id)
	}
	_, err = f.p.Identify(t.Context(), Tokens{IDToken: tk.IDToken}, "other")
	wantError(t, err, CodeNonceMismatch, "nonce")
	_, err = f.p.Identify(t.Context(), Tokens{AccessToken: tk.AccessToken}, "")
	wantError(t, err, CodeInvalidIDToken, "id_token")
}
