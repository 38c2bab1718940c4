package oidctest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// introspect asks the introspection endpoint about tok as client (Basic).
func introspect(t testing.TB, op *Server, tok, hint, client, secret string) tokenAnswer {
	t.Helper()
	form := url.Values{"token": {tok}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	style := "basic"
	if secret == "" {
		style = "none"
	}
	return postForm(t, op, IntrospectionEndpoint, form, style, client, secret)
}

func TestIntrospection(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var clock atomic.Int64 // offset from now
	op := newTestServer(t, func(o *Options) { o.Now = func() time.Time { return now.Add(time.Duration(clock.Load())) } })
	mine := tokensFor(t, op, Faults{})
	theirs, err := op.IssueTokens("other", "bob@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	native, err := op.IssueTokens(publicClient, "carol@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	scope := mine.str("scope")

	active := func(client, sub, tokenType string, exp time.Time, scope string) func(t *testing.T, a tokenAnswer) {
		return func(t *testing.T, a tokenAnswer) {
			t.Helper()
			if a.status != http.StatusOK || a.body["active"] != true {
				t.Fatalf("%d %s, want active", a.status, a.raw)
			}
			want := map[string]any{
				"client_id": client, "aud": client, "sub": sub, "iss": op.Issuer(), "scope": scope,
				"exp": float64(exp.Unix()), "iat": float64(now.Unix()),
			}
			for k, v := range want {
				if a.body[k] != v {
					t.Errorf("%s = %v, want %v", k, a.body[k], v)
				}
			}
			if got, _ := a.body["token_type"].(string); got != tokenType {
				t.Errorf("token_type %q, want %q", got, tokenType)
			}
		}
	}
	inactive := func(t *testing.T, a tokenAnswer) {
		t.Helper()
		// RFC 7662 §2.2: an inactive answer says nothing more about the token.
		if a.status != http.StatusOK || a.body["active"] != false || len(a.body) != 1 {
			t.Errorf("%d %s, want only active:false", a.status, a.raw)
		}
	}
	janeSub, bobSub := Subject(testEmail), Subject("bob@example.com")
	accessExp, refreshExp := now.Add(accessTTL), now.Add(refreshTTL)

	tests := []struct {
		name           string
		token, hint    string
		client, secret string
		check          func(t *testing.T, a tokenAnswer)
	}{
		{"access token", mine.str("access_token"), "", testClient, testSecret, active(testClient, janeSub, "Bearer", accessExp, scope)},
		{"access token, wrong hint", mine.str("access_token"), "refresh_token", testClient, testSecret, active(testClient, janeSub, "Bearer", accessExp, scope)},
		{"refresh token with hint", mine.str("refresh_token"), "refresh_token", testClient, testSecret, active(testClient, janeSub, "", refreshExp, scope)},
		{"refresh token without hint", mine.str("refresh_token"), "", testClient, testSecret, active(testClient, janeSub, "", refreshExp, scope)},
		// The substitution case: the caller learns the token is another client's.
		{"another client's access token", theirs.AccessToken, "", testClient, testSecret,
			active("other", bobSub, "Bearer", accessExp, strings.Join(supportedScopes(), " "))},
		{"own token of a public client", native.AccessToken, "", publicClient, "",
			active(publicClient, Subject("carol@example.com"), "Bearer", accessExp, strings.Join(supportedScopes(), " "))},
		{"public client asks about another client's token", mine.str("access_token"), "", publicClient, "", inactive},
		{"unknown token", "no-such-token", "", testClient, testSecret, inactive},
		{"ID token is not an access token", mine.str("id_token"), "", testClient, testSecret, inactive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, introspect(t, op, tc.token, tc.hint, tc.client, tc.secret))
		})
	}

	t.Run("expired", func(t *testing.T) {
		clock.Store(int64(accessTTL))
		defer clock.Store(0)
		inactive(t, introspect(t, op, mine.str("access_token"), "", testClient, testSecret))
		active(testClient, janeSub, "", refreshExp, scope)(t, introspect(t, op, mine.str("refresh_token"), "", testClient, testSecret))
	})
}

func TestIntrospectionRequestErrors(t *testing.T) {
	op := newTestServer(t)
	tests := []struct {
		name   string
		form   url.Values
		style  string
		client string
		secret string
		status int
		code   string
	}{
		{"no client auth", url.Values{"token": {"x"}}, "", "", "", 401, "invalid_client"},
		{"bad secret", url.Values{"token": {"x"}}, "basic", testClient, "nope", 401, "invalid_client"},
		{"unknown client", url.Values{"token": {"x"}}, "post", "nobody", "x", 401, "invalid_client"},
		{"confidential client without secret", url.Values{"token": {"x"}}, "none", testClient, "", 401, "invalid_client"},
		{"missing token", url.Values{}, "basic", testClient, testSecret, 400, "invalid_request"},
		{"client_secret_post", url.Values{"token": {"x"}}, "post", testClient, testSecret, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := postForm(t, op, IntrospectionEndpoint, tc.form, tc.style, tc.client, tc.secret)
			if a.status != tc.status || a.str("error") != tc.code {
				t.Errorf("%d %s, want %d %q", a.status, a.raw, tc.status, tc.code)
			}
		})
	}
	if a := get(t, op, op.EndpointURL(IntrospectionEndpoint), nil); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow %q", a.status, a.header.Get("Allow"))
	}
	req, _ := http.NewRequest(http.MethodPost, op.EndpointURL(IntrospectionEndpoint), strings.NewReader(`{"token":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(url.QueryEscape(testClient), url.QueryEscape(testSecret))
	if a := do(t, op, req); a.status != http.StatusBadRequest {
		t.Errorf("JSON body: %d %s", a.status, a.raw)
	}
	if n := op.Requests().Introspection; n != len(tests)+2 {
		t.Errorf("Requests().Introspection = %d, want %d", n, len(tests)+2)
	}
}

// A revoked token is inactive at once, and a revoked refresh token no longer
// refreshes: what a relying party's "session ended" path is tested against.
func TestIntrospectionAfterRevocation(t *testing.T) {
	op := newTestServer(t)
	refresh := func(rt string) tokenAnswer {
		return postForm(t, op, TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "basic", testClient, testSecret)
	}
	revoke := func(tok, hint string) {
		t.Helper()
		if a := postForm(t, op, RevocationEndpoint, url.Values{"token": {tok}, "token_type_hint": {hint}}, "basic", testClient, testSecret); a.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", a.status, a.raw)
		}
	}
	isActive := func(tok string) bool {
		t.Helper()
		return introspect(t, op, tok, "", testClient, testSecret).body["active"] == true
	}

	t.Run("access token", func(t *testing.T) {
		tok := tokensFor(t, op, Faults{})
		revoke(tok.str("access_token"), "access_token")
		if isActive(tok.str("access_token")) {
			t.Error("revoked access token is active")
		}
		if !isActive(tok.str("refresh_token")) {
			t.Error("refresh token died with an access token of its grant")
		}
	})
	t.Run("refresh token", func(t *testing.T) {
		tok := tokensFor(t, op, Faults{})
		if a := refresh(tok.str("refresh_token")); a.status != http.StatusOK {
			t.Fatalf("refresh before revocation: %d %s", a.status, a.raw)
		}
		revoke(tok.str("refresh_token"), "refresh_token")
		if isActive(tok.str("refresh_token")) || isActive(tok.str("access_token")) {
			t.Error("a token of the revoked grant is still active")
		}
		if a := refresh(tok.str("refresh_token")); a.status != http.StatusBadRequest || a.str("error") != "invalid_grant" {
			t.Errorf("refresh after revocation: %d %s, want 400 invalid_grant", a.status, a.raw)
		}
	})
}

func TestIntrospectionFaults(t *testing.T) {
	op := newTestServer(t)
	tok := tokensFor(t, op, Faults{})
	at := tok.str("access_token")
	tests := []struct {
		name   string
		faults Faults
		check  func(t *testing.T, a tokenAnswer)
	}{
		{"client id", Faults{IntrospectionClientID: "someone-else"}, func(t *testing.T, a tokenAnswer) {
			if a.body["active"] != true || a.str("client_id") != "someone-else" || a.str("aud") != "someone-else" || a.str("sub") != Subject(testEmail) {
				t.Errorf("%s", a.raw)
			}
		}},
		{"inactive", Faults{IntrospectionInactive: true}, func(t *testing.T, a tokenAnswer) {
			if a.status != 200 || a.body["active"] != false || len(a.body) != 1 {
				t.Errorf("%d %s", a.status, a.raw)
			}
		}},
		{"hook", Faults{IntrospectionResponse: func(r map[string]any) { r["active"] = "yes"; delete(r, "client_id") }}, func(t *testing.T, a tokenAnswer) {
			if a.body["active"] != "yes" || a.body["client_id"] != nil || a.str("sub") == "" {
				t.Errorf("%s", a.raw)
			}
		}},
		{"status", Faults{Status: map[Endpoint]int{IntrospectionEndpoint: 503}}, oauthErr(503, "temporarily_unavailable")},
		{"garbage", Faults{Garbage: map[Endpoint]bool{IntrospectionEndpoint: true}}, garbage},
		{"another endpoint's fault", Faults{Status: map[Endpoint]int{TokenEndpoint: 500}}, func(t *testing.T, a tokenAnswer) {
			if a.status != 200 || a.body["active"] != true {
				t.Errorf("%d %s", a.status, a.raw)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op.SetFaults(tc.faults)
			defer op.SetFaults(Faults{})
			tc.check(t, introspect(t, op, at, "", testClient, testSecret))
		})
	}

	t.Run("delay", func(t *testing.T) {
		op.SetFaults(Faults{Delay: map[Endpoint]time.Duration{IntrospectionEndpoint: time.Hour}})
		defer op.SetFaults(Faults{})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, op.EndpointURL(IntrospectionEndpoint),
			strings.NewReader(url.Values{"token": {at}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(testClient), url.QueryEscape(testSecret))
		if _, err := op.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want deadline exceeded", err)
		}
	})
}
