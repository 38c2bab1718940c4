package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/edgeauth/edgeauth/apitoken"
)

const (
	testIssuer   = "https://auth.example.test"
	testAudience = "https://api.example.test"
)

// newKeys is a fresh EDGEAUTH_SIGNING_KEYS with one ES256 key.
func newKeys(t *testing.T) jwk.Set {
	t.Helper()
	raw, err := apitoken.GenerateSigningKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := apitoken.ParseSigningKeys(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// newSigner makes an edgeauth signer of keys for audience with clock now.
func newSigner(t *testing.T, keys jwk.Set, audience string, now func() time.Time) *apitoken.Signer {
	t.Helper()
	s, err := apitoken.NewSigner(apitoken.SignerConfig{Keys: keys, Issuer: testIssuer, Audience: audience, TTL: 15 * time.Minute, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mint(t *testing.T, s *apitoken.Signer, c apitoken.Claims) string {
	t.Helper()
	tok, _, err := s.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tamper flips one character in the middle of the signature, where every
// bit counts (the last character of a base64url segment has spare bits).
func tamper(token string) string {
	i := strings.LastIndexByte(token, '.') + 10
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

func TestRequireAuth(t *testing.T) {
	keys := newKeys(t)
	signer := newSigner(t, keys, testAudience, nil)
	var fetches atomic.Int32
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(signer.JWKS())
	}))
	defer jwks.Close()
	auth, err := NewAuth(testIssuer, testAudience, jwks.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(auth.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := TokenFrom(r.Context())
		if !ok {
			t.Error("no token in the context")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"sub": tok.Subject, "role": tok.Claims["role"]})
	})))
	defer api.Close()

	good := mint(t, signer, apitoken.Claims{Subject: "user-1", Provider: "dev", Extra: map[string]any{"role": "member"}})
	expired := mint(t, newSigner(t, keys, testAudience, func() time.Time { return time.Now().Add(-time.Hour) }), apitoken.Claims{Subject: "user-1"})
	otherAudience := mint(t, newSigner(t, keys, "https://other.example.test", nil), apitoken.Claims{Subject: "user-1"})
	otherKey := mint(t, newSigner(t, newKeys(t), testAudience, nil), apitoken.Claims{Subject: "user-1"})
	bound := mint(t, signer, apitoken.Claims{Subject: "user-1", Confirmation: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})

	tests := []struct {
		name      string
		auth      string
		status    int
		code      string
		challenge string
	}{
		{"valid", "Bearer " + good, 200, "", ""},
		{"scheme in another case", "bearer " + good, 200, "", ""},
		{"no header", "", 401, "invalid_token", `Bearer realm="api"`},
		{"basic", "Basic dXNlcjpwYXNz", 401, "invalid_token", `Bearer realm="api"`},
		{"tampered signature", "Bearer " + tamper(good), 401, "invalid_token", `Bearer realm="api", error="invalid_token"`},
		{"expired", "Bearer " + expired, 401, "expired_token", `Bearer realm="api", error="invalid_token", error_description="the access token expired"`},
		{"another audience", "Bearer " + otherAudience, 401, "invalid_token", `Bearer realm="api", error="invalid_token"`},
		{"a key edgeauth does not publish", "Bearer " + otherKey, 401, "invalid_token", `Bearer realm="api", error="invalid_token"`},
		{"DPoP-bound as bearer", "Bearer " + bound, 401, "invalid_token", `Bearer realm="api", error="invalid_token"`},
		{"not a JWS", "Bearer not-a-token", 401, "invalid_token", `Bearer realm="api", error="invalid_token"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, api.URL, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tc.status, body)
			}
			if tc.status == 200 {
				if body["sub"] != "user-1" || body["role"] != "member" {
					t.Errorf("the handler saw %v, want sub user-1 and role member", body)
				}
				return
			}
			if body["code"] != tc.code || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("code %v (%s), want %s as application/problem+json", body["code"], resp.Header.Get("Content-Type"), tc.code)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
		})
	}
	// The first request fetched the keys; the unknown kid of otherKey came
	// within a minute of it, so it did not fetch again.
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d JWKS fetches, want 1", n)
	}
}

// TestKeySourceRefetch checks the key source's timing: an unknown kid
// refetches the JWKS at most once a minute, a rotated-in key verifies once
// fetched, a failed fetch keeps the keys we have, and no keys at all is
// errNoKeys until a fetch succeeds.
func TestKeySourceRefetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old, next := newSigner(t, newKeys(t), testAudience, nil), newSigner(t, newKeys(t), testAudience, nil)
		var published atomic.Pointer[[]byte]
		var down atomic.Bool
		var fetches atomic.Int32
		a, err := NewAuth(testIssuer, testAudience, "http://unused.test", nil)
		if err != nil {
			t.Fatal(err)
		}
		a.fetch = func(context.Context) (jwk.Set, error) {
			fetches.Add(1)
			if down.Load() {
				return nil, errors.New("connection refused")
			}
			return jwk.Parse(*published.Load())
		}
		verify := func(tok string) error {
			_, err := a.Verify(t.Context(), tok)
			return err
		}
		wantFetches := func(n int32) {
			t.Helper()
			if got := fetches.Load(); got != n {
				t.Fatalf("%d fetches, want %d", got, n)
			}
		}
		oldTok := mint(t, old, apitoken.Claims{Subject: "user-1"})
		nextTok := mint(t, next, apitoken.Claims{Subject: "user-1"})

		down.Store(true)
		if err := verify(oldTok); !errors.Is(err, errNoKeys) {
			t.Fatalf("edgeauth down at the start: %v, want errNoKeys", err)
		}
		if err := verify(oldTok); !errors.Is(err, errNoKeys) {
			t.Fatalf("again: %v, want errNoKeys", err)
		}
		wantFetches(1) // the second request came within retryNoKeys
		down.Store(false)
		jwksOld := old.JWKS()
		published.Store(&jwksOld)
		time.Sleep(retryNoKeys)
		if err := verify(oldTok); err != nil {
			t.Fatalf("edgeauth up: %v", err)
		}
		wantFetches(2)

		// edgeauth publishes the next key and signs with it.
		both := joinSets(t, old.JWKS(), next.JWKS())
		published.Store(&both)
		if err := verify(nextTok); !errors.Is(err, apitoken.ErrInvalid) {
			t.Fatalf("new kid within a minute of the last fetch: %v, want ErrInvalid", err)
		}
		wantFetches(2)
		time.Sleep(refetchInterval)
		if err := verify(nextTok); err != nil {
			t.Fatalf("new kid after a minute: %v", err)
		}
		wantFetches(3)
		for range 5 {
			if err := verify(mint(t, newSigner(t, newKeys(t), testAudience, nil), apitoken.Claims{Subject: "x"})); !errors.Is(err, apitoken.ErrInvalid) {
				t.Fatalf("made-up kid: %v", err)
			}
		}
		time.Sleep(time.Second)
		if err := verify(oldTok); err != nil {
			t.Fatal(err)
		}
		wantFetches(3) // made-up kids right after a fetch: none

		// After an hour the keys are fetched again; a failure keeps them.
		down.Store(true)
		time.Sleep(jwksMaxAge)
		oldTok = mint(t, old, apitoken.Claims{Subject: "user-1"})
		if err := verify(oldTok); err != nil {
			t.Fatalf("stale keys, edgeauth down: %v, want the old keys kept", err)
		}
		wantFetches(4)
	})
}

// joinSets is the JWKS edgeauth publishes with two keys.
func joinSets(t *testing.T, a, b []byte) []byte {
	t.Helper()
	var sa, sb struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(a, &sa); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sb); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"keys": append(sa.Keys, sb.Keys...)})
	return out
}
