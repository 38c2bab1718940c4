package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

// TestDerive pins the nonce and the PKCE verifier to their definition,
// HMAC-SHA256 keyed by the seed under two labels: states sealed by one
// version must still complete on the next.
func TestDerive(t *testing.T) {
	want := func(seed, label string) string {
		m := hmac.New(sha256.New, []byte(seed))
		m.Write([]byte(label))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	seeds := []string{"", "x", string(make([]byte, 64)), strings.Repeat("long seed ", 7), strings.Repeat("k", 65)}
	for range 5 {
		seeds = append(seeds, newSeed())
	}
	for _, seed := range seeds {
		nonce, verifier := derive(seed)
		if nonce != want(seed, "edgeauth nonce") || verifier != want(seed, "edgeauth pkce") {
			t.Fatalf("derive(%q) = %q, %q", seed, nonce, verifier)
		}
		if nonce == verifier || len(verifier) != 43 {
			t.Fatalf("nonce %q and verifier %q", nonce, verifier)
		}
	}
}

func TestDeriveAllocations(t *testing.T) {
	seed := newSeed()
	if n := testing.AllocsPerRun(100, func() { derive(seed) }); n > 1 {
		t.Errorf("derive: %v allocations, want 1", n)
	}
}
