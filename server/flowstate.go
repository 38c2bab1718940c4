package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// Purposes bound into the protected header of sealed tokens, so a flow
// state can never be opened as a refresh token or the other way round.
const (
	purposeState   = "s"
	purposeRefresh = "r"
)

// Binding modes sealed in the state, so that a mismatch can say which
// binding was expected.
const (
	bindCookie = "c"
	bindParam  = "p"
)

// flowState is everything the callback needs, sealed into the OAuth `state`.
// Names are one letter because some providers cap `state` (X: 500 bytes)
// and the budget for a plain login is 300 characters.
type flowState struct {
	// Seed derives the OIDC nonce and the PKCE verifier (derive), so two
	// 43-character secrets travel as one.
	Seed     string `json:"s"`
	Provider string `json:"p"`
	// Binding is the hash of the user-agent binding (RFC 9700 §2.1.1), never
	// the binding itself.
	Binding     string `json:"b,omitempty"`
	BindingMode string `json:"m,omitempty"`
	// RedirectURI is set only when the app chose a non-default one: the code
	// exchange must repeat it exactly (RFC 6749 §4.1.3).
	RedirectURI string `json:"r,omitempty"`
	AppState    string `json:"a,omitempty"`
}

// newSeed returns 256 random bits, base64url: the nonce and the PKCE
// verifier derived from it can carry no more entropy than it has, and RFC
// 7636 §7.1 asks for 256 bits.
func newSeed() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// derive returns the nonce and the PKCE verifier of a flow. The seed is
// secret (it only travels encrypted) and random, so HMAC-SHA256 keyed by it
// under distinct labels gives two independent values; the verifier is 43
// base64url characters, 256 bits, as RFC 7636 §4.1 recommends.
func derive(seed string) (nonce, verifier string) {
	// HMAC written out (RFC 2104 §2) over stack buffers: crypto/hmac
	// costs eight allocations per call, and this runs on every login start
	// and finish. TestDerive pins it to crypto/hmac.
	var key [sha256.BlockSize]byte
	if len(seed) > len(key) {
		k := sha256.Sum256([]byte(seed))
		copy(key[:], k[:])
	} else {
		copy(key[:], seed)
	}
	var out [2 * 43]byte
	mac := func(label string, dst []byte) {
		var in, outer [sha256.BlockSize + sha256.Size]byte
		for i, k := range key {
			in[i], outer[i] = k^0x36, k^0x5c
		}
		inner := sha256.Sum256(in[:sha256.BlockSize+copy(in[sha256.BlockSize:], label)])
		copy(outer[sha256.BlockSize:], inner[:])
		sum := sha256.Sum256(outer[:])
		base64.RawURLEncoding.Encode(dst, sum[:])
	}
	mac("edgeauth nonce", out[:43])
	mac("edgeauth pkce", out[43:])
	both := string(out[:]) // one allocation for the two
	return both[:43], both[43:]
}

// bindingHash is what the state keeps of a binding: 128 bits of SHA-256 is
// plenty against a second preimage and keeps the state short.
func bindingHash(binding string) string {
	sum := sha256.Sum256([]byte("edgeauth binding\x00" + binding))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// bindingMatches compares in constant time.
func bindingMatches(sealed, presented string) bool {
	if presented == "" {
		return false
	}
	return hmac.Equal([]byte(sealed), []byte(bindingHash(presented)))
}
