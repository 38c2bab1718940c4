package oidc

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func rsaToken(t *testing.T, op *keyOP, clk *clock, keyName, kid string) string {
	t.Helper()
	h := map[string]any{"alg": "RS256"}
	if kid != "" {
		h["kid"] = kid
	}
	return signToken(t, h, op.claims(clk), "RS256", testKey(keyName))
}

// TestJWKSRotation: a provider that rotates right after our first fetch
// works on the very next login, and unknown kids refresh at most once a
// minute after that.
func TestJWKSRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newBubbleClock()
		op := newBubbleKeyOP(pubJWK(t, "rsa1", "k1", "RS256"))
		p := op.provider(t, clk, nil)
		verify := func(tok string) error {
			_, err := p.VerifyIDToken(t.Context(), tok, VerifyOptions{Nonce: testNonce})
			return err
		}

		if err := verify(rsaToken(t, op, clk, "rsa1", "k1")); err != nil {
			t.Fatal(err)
		}
		if n := op.jwksFetches.Load(); n != 1 {
			t.Fatalf("jwks fetches after first login = %d, want 1", n)
		}

		// Rotation one second later: the first forced refresh is free.
		clk.Add(time.Second)
		op.setKeys(pubJWK(t, "rsa2", "k2", "RS256"))
		if err := verify(rsaToken(t, op, clk, "rsa2", "k2")); err != nil {
			t.Fatalf("login after rotation: %v", err)
		}
		if n := op.jwksFetches.Load(); n != 2 {
			t.Fatalf("jwks fetches after rotation = %d, want 2", n)
		}

		// Made-up kids within the minute cost nothing.
		for i := range 20 {
			err := verify(rsaToken(t, op, clk, "rsa2", "made-up-"+string(rune('a'+i))))
			wantError(t, err, CodeInvalidIDToken, "kid")
		}
		if n := op.jwksFetches.Load(); n != 2 {
			t.Fatalf("jwks fetches after unknown kids = %d, want 2 (rate-limited)", n)
		}
		// The old key is gone from the JWKS and from our cache.
		wantError(t, verify(rsaToken(t, op, clk, "rsa1", "k1")), CodeInvalidIDToken, "kid")

		// A minute later one more refresh is allowed, and it finds a new key.
		clk.Add(jwksMinRefresh)
		op.setKeys(pubJWK(t, "rsa2", "k2", "RS256"), pubJWK(t, "rsa1", "k3", "RS256"))
		if err := verify(rsaToken(t, op, clk, "rsa1", "k3")); err != nil {
			t.Fatalf("after the interval: %v", err)
		}
		if n := op.jwksFetches.Load(); n != 3 {
			t.Fatalf("jwks fetches = %d, want 3", n)
		}

		// After jwksMaxAge the set is fetched again on use.
		clk.Add(jwksMaxAge)
		if err := verify(rsaToken(t, op, clk, "rsa2", "k2")); err != nil {
			t.Fatal(err)
		}
		if n := op.jwksFetches.Load(); n != 4 {
			t.Fatalf("jwks fetches after max age = %d, want 4", n)
		}
		if n := op.discFetches.Load(); n != 2 {
			t.Fatalf("discovery fetches = %d, want 2 (first use, then after an hour)", n)
		}
	})
}

func TestJWKSNoKID(t *testing.T) {
	cases := []struct {
		name  string
		keys  []any
		key   string
		alg   string
		check string
	}{
		{name: "one key", keys: []any{pubJWK(t, "rsa1", "k1", "")}, key: "rsa1", alg: "RS256"},
		{name: "one key without kid", keys: []any{pubJWK(t, "rsa1", "", "")}, key: "rsa1", alg: "RS256"},
		{name: "one RSA among others", keys: []any{pubJWK(t, "rsa1", "k1", ""), pubJWK(t, "ec256", "e1", ""), pubJWK(t, "ed", "ed1", "")}, key: "rsa1", alg: "RS256"},
		{name: "one matching alg", keys: []any{pubJWK(t, "rsa1", "k1", "RS256"), pubJWK(t, "rsa2", "k2", "PS256")}, key: "rsa1", alg: "RS256"},
		{name: "two RSA keys", keys: []any{pubJWK(t, "rsa1", "k1", ""), pubJWK(t, "rsa2", "k2", "")}, key: "rsa1", alg: "RS256", check: "kid"},
		{name: "no fitting key", keys: []any{pubJWK(t, "ec256", "e1", "")}, key: "rsa1", alg: "RS256", check: "kid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			op := newKeyOP(t, tc.keys...)
			p := op.provider(t, clk, nil)
			tok := signToken(t, map[string]any{"alg": tc.alg}, op.claims(clk), tc.alg, testKey(tc.key))
			_, err := p.VerifyIDToken(t.Context(), tok, VerifyOptions{Nonce: testNonce})
			if tc.check == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantError(t, err, CodeInvalidIDToken, tc.check)
		})
	}
}

// TestJWKSTolerantParsing: one broken or foreign key does not hide the
// good ones.
func TestJWKSTolerantParsing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newBubbleClock()
		encKey := pubJWK(t, "rsa2", "enc", "")
		encKey["use"] = "enc"
		wrapOnly := pubJWK(t, "rsa2", "wrap", "")
		wrapOnly["key_ops"] = []any{"wrapKey"}
		op := newBubbleKeyOP(
			map[string]any{"kty": "RSA", "kid": "broken", "n": "!!!", "e": "AQAB"},
			map[string]any{"kty": "made-up", "kid": "alien"},
			map[string]any{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
			pubJWK(t, "rsaWeak", "weak", ""),
			encKey,
			wrapOnly,
			"not even an object",
			pubJWK(t, "rsa1", "k1", ""),
		)
		p := op.provider(t, clk, nil)
		if _, err := p.VerifyIDToken(t.Context(), rsaToken(t, op, clk, "rsa1", "k1"), VerifyOptions{Nonce: testNonce}); err != nil {
			t.Fatal(err)
		}
		for _, kid := range []string{"enc", "wrap", "weak"} {
			key := "rsa2"
			if kid == "weak" {
				key = "rsaWeak"
			}
			clk.Add(jwksMinRefresh) // let each unknown kid refresh, to show it stays unknown
			_, err := p.VerifyIDToken(t.Context(), rsaToken(t, op, clk, key, kid), VerifyOptions{Nonce: testNonce})
			wantError(t, err, CodeInvalidIDToken, "kid")
		}
	})
}

func TestJWKSFailures(t *testing.T) {
	t.Run("first fetch fails, retried after backoff", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			clk := newBubbleClock()
			op := newBubbleKeyOP(pubJWK(t, "rsa1", "k1", "RS256"))
			op.set(func(op *keyOP) { op.jwksStatus = http.StatusServiceUnavailable })
			p := op.provider(t, clk, nil)
			tok := rsaToken(t, op, clk, "rsa1", "k1")
			e := wantError(t, verifyErr(t, p, tok), CodeUnavailable, "jwks")
			if !strings.Contains(e.Detail, "503") {
				t.Fatalf("detail %q does not name the status", e.Detail)
			}
			// Within the backoff: no new request, the same answer.
			wantError(t, verifyErr(t, p, tok), CodeUnavailable, "jwks")
			if n := op.jwksFetches.Load(); n != 1 {
				t.Fatalf("jwks fetches = %d, want 1", n)
			}
			op.set(func(op *keyOP) { op.jwksStatus = 0 })
			clk.Add(backoffMin)
			if err := verifyErr(t, p, tok); err != nil {
				t.Fatalf("after backoff: %v", err)
			}
			if n := op.jwksFetches.Load(); n != 2 {
				t.Fatalf("jwks fetches = %d, want 2", n)
			}
			// The initial fetches did not use up the forced-refresh budget.
			clk.Add(time.Second)
			op.setKeys(pubJWK(t, "rsa2", "k2", "RS256"))
			if err := verifyErr(t, p, rsaToken(t, op, clk, "rsa2", "k2")); err != nil {
				t.Fatalf("rotation after a failed start: %v", err)
			}
		})
	})

	t.Run("failed refresh keeps the old keys", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			clk := newBubbleClock()
			op := newBubbleKeyOP(pubJWK(t, "rsa1", "k1", "RS256"))
			p := op.provider(t, clk, nil)
			tok := rsaToken(t, op, clk, "rsa1", "k1")
			if err := verifyErr(t, p, tok); err != nil {
				t.Fatal(err)
			}
			op.set(func(op *keyOP) { op.jwksStatus = http.StatusInternalServerError })
			clk.Add(jwksMaxAge)
			tok = rsaToken(t, op, clk, "rsa1", "k1")
			if err := verifyErr(t, p, tok); err != nil {
				t.Fatalf("stale keys not used: %v", err)
			}
		})
	})

	bodies := []struct {
		name string
		body string
	}{
		{"not JSON", "<html>captive portal</html>"},
		{"no keys", `{"keys":[]}`},
		{"keys missing", `{}`},
		{"null", `null`},
		{"too large", `{"keys":[],"pad":"` + strings.Repeat("x", maxJWKSBytes) + `"}`},
	}
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			clk := newClock()
			op := newKeyOP(t)
			op.set(func(op *keyOP) { op.jwksBody = []byte(b.body) })
			p := op.provider(t, clk, nil)
			wantError(t, verifyErr(t, p, rsaToken(t, op, clk, "rsa1", "k1")), CodeUnavailable, "jwks")
		})
	}

	t.Run("redirect not followed", func(t *testing.T) {
		clk := newClock()
		op := newKeyOP(t, pubJWK(t, "rsa1", "k1", "RS256"))
		redirector := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, op.url+"/jwks", http.StatusFound)
		})
		other := newTestServer(t, redirector)
		p := op.provider(t, clk, func(c *Config) { c.JWKSURL = other.URL + "/keys" })
		wantError(t, verifyErr(t, p, rsaToken(t, op, clk, "rsa1", "k1")), CodeUnavailable, "jwks")
		if n := op.jwksFetches.Load(); n != 0 {
			t.Fatalf("redirect followed: %d fetches of the target", n)
		}
	})
}

func verifyErr(t *testing.T, p *Provider, tok string) error {
	t.Helper()
	_, err := p.VerifyIDToken(t.Context(), tok, VerifyOptions{Nonce: testNonce})
	return err
}

// TestConcurrentFirstUse: many logins at once on a cold provider share one
// discovery fetch and one JWKS fetch (run with -race).
func TestConcurrentFirstUse(t *testing.T) {
	clk := newClock()
	op := newKeyOP(t, pubJWK(t, "rsa1", "k1", "RS256"))
	release := make(chan struct{})
	op.set(func(op *keyOP) { op.jwksBlock = release })
	p := op.provider(t, clk, nil)
	tok := rsaToken(t, op, clk, "rsa1", "k1")

	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	started := make(chan struct{}, n)
	for range n {
		wg.Go(func() {
			started <- struct{}{}
			_, err := p.VerifyIDToken(t.Context(), tok, VerifyOptions{Nonce: testNonce})
			errs <- err
		})
	}
	for range n {
		<-started
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if d, j := op.discFetches.Load(), op.jwksFetches.Load(); d != 1 || j != 1 {
		t.Fatalf("discovery fetches %d, jwks fetches %d; want 1 and 1", d, j)
	}
}

// TestConcurrentRotation: logins that all see a new kid at once share one
// refresh.
func TestConcurrentRotation(t *testing.T) {
	clk := newClock()
	op := newKeyOP(t, pubJWK(t, "rsa1", "k1", "RS256"))
	p := op.provider(t, clk, nil)
	if err := verifyErr(t, p, rsaToken(t, op, clk, "rsa1", "k1")); err != nil {
		t.Fatal(err)
	}
	op.setKeys(pubJWK(t, "rsa2", "k2", "RS256"))
	tok := rsaToken(t, op, clk, "rsa2", "k2")
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := verifyErr(t, p, tok); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := op.jwksFetches.Load(); n != 2 {
		t.Fatalf("jwks fetches = %d, want 2", n)
	}
}

func TestParseKeysLimit(t *testing.T) {
	one, _ := json.Marshal(pubJWK(t, "ec256", "", ""))
	raws := make([]json.RawMessage, maxJWKSKeys+5)
	for i := range raws {
		raws[i] = one
	}
	set, skipped := parseKeys(raws)
	if len(set.keys) != maxJWKSKeys || len(skipped) != 1 {
		t.Fatalf("kept %d keys, %d skipped", len(set.keys), len(skipped))
	}
}
