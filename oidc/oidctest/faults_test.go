package oidctest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// publishedKey returns the JWKS key with kid, or nil.
func publishedKey(t testing.TB, op *Server, kid string) jwk.Key {
	t.Helper()
	set, err := jwk.Parse(op.PublicKeys())
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return k
	}
	if kid == "" && set.Len() == 1 {
		k, _ := set.Key(0)
		return k
	}
	return nil
}

// verifies says whether raw verifies under alg with the published key named
// by its kid (the only key when it has none).
func verifies(t testing.TB, op *Server, raw string, alg jwa.SignatureAlgorithm) bool {
	t.Helper()
	h, _, _ := splitJWT(t, raw)
	kid, _ := h["kid"].(string)
	k := publishedKey(t, op, kid)
	if k == nil {
		return false
	}
	_, err := jws.Verify([]byte(raw), jws.WithKey(alg, k))
	return err == nil
}

func TestIDTokenFaults(t *testing.T) {
	op := newTestServer(t)
	base := tokensFor(t, op, Faults{})
	baseHeader, _, _ := splitJWT(t, base.str("id_token"))
	kid := baseHeader["kid"].(string)
	now := time.Now().Unix()

	tests := []struct {
		name   string
		faults Faults
		// validSig: the token still verifies with the published key under
		// RS256, so only the fault's own check can fail.
		validSig bool
		check    func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer)
	}{
		{"none", Faults{}, true, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if h["alg"] != "RS256" || h["kid"] != kid || c["iss"] != op.Issuer() || c["aud"] != testClient || c["nonce"] != "n-456" {
				t.Errorf("header %v claims %v", h, c)
			}
		}},
		{"bad signature", Faults{BadSignature: true}, false, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if h["alg"] != "RS256" || h["kid"] != kid || c["iss"] != op.Issuer() {
				t.Errorf("header %v claims %v", h, c)
			}
		}},
		{"no kid", Faults{NoKID: true}, true, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if _, ok := h["kid"]; ok {
				t.Errorf("kid present: %v", h)
			}
		}},
		{"alg none", Faults{AlgNone: true}, false, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if h["alg"] != "none" || !strings.HasSuffix(raw, ".") {
				t.Errorf("header %v, token ends %q", h, raw[len(raw)-5:])
			}
		}},
		{"HS256 with the client secret", Faults{HS256: true}, false, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if h["alg"] != "HS256" || h["kid"] != kid {
				t.Errorf("header %v", h)
			}
			if _, err := jws.Verify([]byte(raw), jws.WithKey(jwa.HS256, []byte(testSecret))); err != nil {
				t.Errorf("not an HMAC under the client secret: %v", err)
			}
		}},
		{"header alg differs from key", Faults{HeaderAlg: "RS512"}, true, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if h["alg"] != "RS512" {
				t.Errorf("header %v", h)
			}
			if verifies(t, op, raw, jwa.RS512) {
				t.Error("verifies as RS512: the header would not lie")
			}
		}},
		{"honest other alg", Faults{SigningAlg: "PS256"}, false, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if h["alg"] != "PS256" || !verifies(t, op, raw, jwa.PS256) {
				t.Errorf("header %v, or no PS256 signature", h)
			}
		}},
		{"unpublished key", Faults{UnpublishedKey: true}, false, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if h["kid"] == kid || h["kid"] == "" || publishedKey(t, op, h["kid"].(string)) != nil {
				t.Errorf("kid %v is published", h["kid"])
			}
		}},
		{"header hook", Faults{IDTokenHeader: func(h map[string]any) { h["crit"] = []string{"exp"}; h["exp"] = 1 }}, true,
			func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
				if h["crit"] == nil {
					t.Errorf("header %v", h)
				}
			}},
		{"wrong iss", Faults{Issuer: "https://evil.example"}, true, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if c["iss"] != "https://evil.example" {
				t.Errorf("iss %v", c["iss"])
			}
		}},
		{"wrong aud", Faults{Audience: []string{"other"}}, true, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if !slices.Equal(audienceOf(c), []string{"other"}) || c["azp"] != testClient {
				t.Errorf("aud %v azp %v", c["aud"], c["azp"])
			}
		}},
		{"extra aud with azp", Faults{Audience: []string{testClient, "other"}}, true, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if !slices.Equal(audienceOf(c), []string{testClient, "other"}) || c["azp"] != testClient {
				t.Errorf("aud %v azp %v", c["aud"], c["azp"])
			}
		}},
		{"extra aud without azp", Faults{Audience: []string{testClient, "other"}, OmitClaims: []string{"azp"}}, true,
			func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
				if _, ok := c["azp"]; ok || len(audienceOf(c)) != 2 {
					t.Errorf("aud %v azp %v", c["aud"], c["azp"])
				}
			}},
		{"wrong azp", Faults{AuthorizedParty: "other"}, true, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if c["azp"] != "other" || c["aud"] != testClient {
				t.Errorf("aud %v azp %v", c["aud"], c["azp"])
			}
		}},
		{"wrong nonce", Faults{Nonce: "other-nonce"}, true, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if c["nonce"] != "other-nonce" {
				t.Errorf("nonce %v", c["nonce"])
			}
		}},
		{"expired", Faults{Expired: true}, true, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			exp, iat := int64(c["exp"].(float64)), int64(c["iat"].(float64))
			if exp > now-50*60 || iat >= exp {
				t.Errorf("exp %d iat %d now %d", exp, iat, now)
			}
		}},
		{"iat in the future", Faults{IssuedInFuture: true}, true, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if iat := int64(c["iat"].(float64)); iat < now+50*60 {
				t.Errorf("iat %d now %d", iat, now)
			}
		}},
		{"no exp", Faults{OmitClaims: []string{"exp"}}, true, missing("exp")},
		{"no iat", Faults{OmitClaims: []string{"iat"}}, true, missing("iat")},
		{"no sub", Faults{OmitClaims: []string{"sub"}}, true, missing("sub")},
		{"no nonce", Faults{OmitClaims: []string{"nonce"}}, true, missing("nonce")},
		{"wrong at_hash", Faults{WrongAtHash: true}, true, func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
			if c["at_hash"] == nil || c["at_hash"] == halfHash("RS256", a.str("access_token")) {
				t.Errorf("at_hash %v", c["at_hash"])
			}
		}},
		{"claims hook", Faults{IDTokenClaims: func(c map[string]any) { c["email_verified"] = false; c["nbf"] = time.Now().Add(time.Hour).Unix() }}, true,
			func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
				if c["email_verified"] != false || c["nbf"] == nil {
					t.Errorf("claims %v", c)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tokensFor(t, op, tc.faults)
			if a.status != http.StatusOK || a.str("id_token") == "" {
				t.Fatalf("token: %d %s", a.status, a.raw)
			}
			raw := a.str("id_token")
			h, c, _ := splitJWT(t, raw)
			if got := verifies(t, op, raw, jwa.RS256); got != tc.validSig {
				t.Errorf("signature valid under the published RS256 key: %v, want %v", got, tc.validSig)
			}
			tc.check(t, h, c, raw, a)
		})
	}
}

func missing(claim string) func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
	return func(t *testing.T, h, c map[string]any, raw string, a tokenAnswer) {
		if _, ok := c[claim]; ok {
			t.Errorf("%s present", claim)
		}
		if c["iss"] == nil || c["aud"] == nil {
			t.Errorf("claims %v", c)
		}
	}
}

func TestIDTokenFaultsOtherAlgs(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			op := newTestServer(t, func(o *Options) { o.Alg = alg })
			for _, f := range []Faults{{BadSignature: true}, {HS256: true}, {AlgNone: true}, {HeaderAlg: "ES384"}, {UnpublishedKey: true}} {
				a := tokensFor(t, op, f)
				if a.status != http.StatusOK || a.str("id_token") == "" {
					t.Fatalf("%+v: %d %s", f, a.status, a.raw)
				}
				if verifies(t, op, a.str("id_token"), jwa.SignatureAlgorithm(alg)) != (f.HeaderAlg != "") {
					t.Errorf("%+v: verification result unexpected", f)
				}
			}
		})
	}
}

func TestFaultsApplyToRefresh(t *testing.T) {
	op := newTestServer(t)
	tok := tokensFor(t, op, Faults{})
	op.SetFaults(Faults{Issuer: "https://evil.example"})
	ref := postForm(t, op, TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}, "basic", testClient, testSecret)
	if _, c, _ := splitJWT(t, ref.str("id_token")); c["iss"] != "https://evil.example" {
		t.Errorf("refresh iss %v", c["iss"])
	}
	toks, err := op.IssueTokens(testClient, testEmail, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, c, _ := splitJWT(t, toks.IDToken); c["iss"] != "https://evil.example" {
		t.Errorf("IssueTokens iss %v", c["iss"])
	}
}

func TestTokenEndpointFaults(t *testing.T) {
	op := newTestServer(t)
	tests := []struct {
		name   string
		faults Faults
		check  func(t *testing.T, a tokenAnswer)
	}{
		{"missing id_token", Faults{MissingIDToken: true}, func(t *testing.T, a tokenAnswer) {
			if a.status != 200 || a.str("access_token") == "" || a.body["id_token"] != nil {
				t.Errorf("%d %s", a.status, a.raw)
			}
		}},
		{"invalid_grant", Faults{TokenError: "invalid_grant"}, oauthErr(400, "invalid_grant")},
		{"invalid_client", Faults{TokenError: "invalid_client"}, oauthErr(401, "invalid_client")},
		{"503", Faults{TokenError: "temporarily_unavailable", TokenErrorStatus: 503}, oauthErr(503, "temporarily_unavailable")},
		{"status 500", Faults{Status: map[Endpoint]int{TokenEndpoint: 500}}, oauthErr(500, "server_error")},
		{"garbage", Faults{Garbage: map[Endpoint]bool{TokenEndpoint: true}}, garbage},
		{"response hook", Faults{TokenResponse: func(r map[string]any) { r["token_type"] = "mac"; delete(r, "access_token") }},
			func(t *testing.T, a tokenAnswer) {
				if a.status != 200 || a.str("token_type") != "mac" || a.body["access_token"] != nil {
					t.Errorf("%d %s", a.status, a.raw)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, tokensFor(t, op, tc.faults))
		})
	}
	// A TokenError does not consume the code.
	code, verifier := login(t, op)
	op.SetFaults(Faults{TokenError: "invalid_grant"})
	exchange(t, op, code, verifier)
	op.SetFaults(Faults{})
	if a := exchange(t, op, code, verifier); a.status != 200 {
		t.Errorf("code consumed by a fault: %d %s", a.status, a.raw)
	}
}

func oauthErr(status int, code string) func(t *testing.T, a tokenAnswer) {
	return func(t *testing.T, a tokenAnswer) {
		if a.status != status || a.str("error") != code {
			t.Errorf("got %d %s, want %d %s", a.status, a.raw, status, code)
		}
	}
}

func garbage(t *testing.T, a tokenAnswer) {
	var v any
	if a.status != 200 || json.Unmarshal(a.raw, &v) == nil || len(a.raw) == 0 {
		t.Errorf("not garbage: %d %s", a.status, a.raw)
	}
}

func TestEndpointFaults(t *testing.T) {
	op := newTestServer(t)
	tok := tokensFor(t, op, Faults{})
	bearer := http.Header{"Authorization": {"Bearer " + tok.str("access_token")}}
	tests := []struct {
		name   string
		faults Faults
		url    string
		h      http.Header
		check  func(t *testing.T, a tokenAnswer)
	}{
		{"discovery issuer", Faults{DiscoveryIssuer: "https://elsewhere.example"}, op.EndpointURL(DiscoveryEndpoint), nil, func(t *testing.T, a tokenAnswer) {
			if a.str("issuer") != "https://elsewhere.example" || a.str("token_endpoint") != op.EndpointURL(TokenEndpoint) {
				t.Errorf("%s", a.raw)
			}
		}},
		{"discovery hook", Faults{DiscoveryDocument: func(d map[string]any) { d["code_challenge_methods_supported"] = []string{"plain"} }},
			op.EndpointURL(DiscoveryEndpoint), nil, func(t *testing.T, a tokenAnswer) {
				if !strings.Contains(string(a.raw), `"code_challenge_methods_supported":["plain"]`) {
					t.Errorf("%s", a.raw)
				}
			}},
		{"discovery garbage", Faults{Garbage: map[Endpoint]bool{DiscoveryEndpoint: true}}, op.EndpointURL(DiscoveryEndpoint), nil, garbage},
		{"discovery down", Faults{Status: map[Endpoint]int{DiscoveryEndpoint: 503}}, op.EndpointURL(DiscoveryEndpoint), nil, oauthErr(503, "temporarily_unavailable")},
		{"jwks garbage", Faults{Garbage: map[Endpoint]bool{JWKSEndpoint: true}}, op.EndpointURL(JWKSEndpoint), nil, garbage},
		{"jwks down", Faults{Status: map[Endpoint]int{JWKSEndpoint: 500}}, op.EndpointURL(JWKSEndpoint), nil, oauthErr(500, "server_error")},
		{"userinfo sub", Faults{UserinfoSubject: "someone-else"}, op.EndpointURL(UserinfoEndpoint), bearer, func(t *testing.T, a tokenAnswer) {
			if a.status != 200 || a.str("sub") != "someone-else" || a.str("email") == "" {
				t.Errorf("%d %s", a.status, a.raw)
			}
		}},
		{"userinfo hook", Faults{UserinfoClaims: func(c map[string]any) { delete(c, "email") }}, op.EndpointURL(UserinfoEndpoint), bearer, func(t *testing.T, a tokenAnswer) {
			if a.status != 200 || a.body["email"] != nil {
				t.Errorf("%d %s", a.status, a.raw)
			}
		}},
		{"userinfo garbage", Faults{Garbage: map[Endpoint]bool{UserinfoEndpoint: true}}, op.EndpointURL(UserinfoEndpoint), bearer, garbage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op.SetFaults(tc.faults)
			defer op.SetFaults(Faults{})
			tc.check(t, get(t, op, tc.url, tc.h))
		})
	}
}

func TestAuthorizationResponseFaults(t *testing.T) {
	op := newTestServer(t)
	tests := []struct {
		name    string
		faults  Faults
		wantIss []string // nil: absent
		wantErr string
	}{
		{"iss sent", Faults{}, []string{op.Issuer()}, ""},
		{"iss omitted", Faults{OmitIssParameter: true}, nil, ""},
		{"iss wrong", Faults{IssParameter: "https://evil.example"}, []string{"https://evil.example"}, ""},
		{"access denied", Faults{AuthorizeError: "access_denied"}, []string{op.Issuer()}, "access_denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op.SetFaults(tc.faults)
			defer op.SetFaults(Faults{})
			_, challenge := newPKCE()
			u := authURL(op, challenge, nil)
			// Through Login and through the form, the same answer.
			back, err := op.Login(u, testEmail)
			pu, _ := url.Parse(u)
			form := pu.Query()
			form.Set("email", testEmail)
			req, _ := http.NewRequest(http.MethodPost, op.EndpointURL(AuthorizeEndpoint), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			viaForm, _ := url.Parse(do(t, op, req).header.Get("Location"))
			for _, got := range []*url.URL{back, viaForm} {
				q := got.Query()
				if !slices.Equal(q["iss"], tc.wantIss) || q.Get("error") != tc.wantErr || q.Get("state") != "st-123" || (tc.wantErr == "") != q.Has("code") {
					t.Errorf("redirect %s", got)
				}
			}
			var ae *AuthError
			if (tc.wantErr != "") != errors.As(err, &ae) {
				t.Errorf("Login error %v", err)
			}
		})
	}
}

// TestDelayHonoursCancellation: a slow token endpoint answers late, and a
// client that gives up is not kept waiting.
func TestDelayHonoursCancellation(t *testing.T) {
	op := newTestServer(t)
	code, verifier := login(t, op)
	op.SetFaults(Faults{Delay: map[Endpoint]time.Duration{TokenEndpoint: time.Hour}})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, op.EndpointURL(TokenEndpoint),
		strings.NewReader(codeForm(code, verifier, testRedirect).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(testClient), url.QueryEscape(testSecret))
	start := time.Now()
	_, err := op.Client().Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}

	// The delay itself ends on the request's context, tested without a
	// network: a cancelled context returns at once, a short delay passes.
	f := Faults{Delay: map[Endpoint]time.Duration{TokenEndpoint: time.Hour}}
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if f.delay(cctx, TokenEndpoint) {
		t.Error("delay did not notice cancellation")
	}
	if !f.delay(cctx, JWKSEndpoint) {
		t.Error("delay on an endpoint without one")
	}
	f.Delay[TokenEndpoint] = time.Millisecond
	if !f.delay(context.Background(), TokenEndpoint) {
		t.Error("short delay failed")
	}

	// The code is still good: the delayed request never got that far.
	op.SetFaults(Faults{})
	if a := exchange(t, op, code, verifier); a.status != 200 {
		t.Errorf("after the delay: %d %s", a.status, a.raw)
	}
}

func TestSetFaultsCopies(t *testing.T) {
	op := newTestServer(t)
	aud := []string{"x"}
	status := map[Endpoint]int{JWKSEndpoint: 500}
	op.SetFaults(Faults{Audience: aud, Status: status})
	aud[0] = "y"
	delete(status, JWKSEndpoint)
	if f := op.currentFaults(); f.Audience[0] != "x" || f.Status[JWKSEndpoint] != 500 {
		t.Errorf("SetFaults keeps the caller's slices and maps: %+v", f)
	}
}

func TestRotateKey(t *testing.T) {
	op := newTestServer(t)
	kids := func() []string {
		set, err := jwk.Parse(op.PublicKeys())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i := range set.Len() {
			k, _ := set.Key(i)
			out = append(out, k.KeyID())
		}
		return out
	}
	old := tokensFor(t, op, Faults{})
	h1, _, _ := splitJWT(t, old.str("id_token"))
	if got := kids(); !slices.Equal(got, []string{h1["kid"].(string)}) {
		t.Fatalf("JWKS kids %v, token kid %v", got, h1["kid"])
	}

	if err := op.RotateKey(); err != nil {
		t.Fatal(err)
	}
	fresh := tokensFor(t, op, Faults{})
	h2, _, _ := splitJWT(t, fresh.str("id_token"))
	if h2["kid"] == h1["kid"] || !slices.Equal(kids(), []string{h2["kid"].(string)}) {
		t.Errorf("after rotation: JWKS %v, new kid %v, old kid %v", kids(), h2["kid"], h1["kid"])
	}
	if verifies(t, op, old.str("id_token"), jwa.RS256) || !verifies(t, op, fresh.str("id_token"), jwa.RS256) {
		t.Error("old token still verifies, or the new one does not")
	}

	if err := op.RotateKey(KeepOldKey()); err != nil {
		t.Fatal(err)
	}
	newest := tokensFor(t, op, Faults{})
	h3, _, _ := splitJWT(t, newest.str("id_token"))
	if !slices.Equal(kids(), []string{h3["kid"].(string), h2["kid"].(string)}) {
		t.Errorf("KeepOldKey: JWKS %v", kids())
	}
	if !verifies(t, op, fresh.str("id_token"), jwa.RS256) {
		t.Error("token of the kept key no longer verifies")
	}
	// Hints signed with a retired key are still recognised at logout.
	lo := get(t, op, op.EndpointURL(EndSessionEndpoint)+"?"+url.Values{"id_token_hint": {old.str("id_token")},
		"post_logout_redirect_uri": {"https://app.example/bye"}}.Encode(), nil)
	if lo.status != http.StatusFound {
		t.Errorf("logout with a retired key's hint: %d", lo.status)
	}
}
