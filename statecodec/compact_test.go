package statecodec

import (
	"encoding/base64"
	"testing"
)

// TestCanonical checks the hand-written canonical-base64url test against
// the standard library's strict decoder on every string of up to three
// characters over the alphabet, which covers every possible tail.
func TestCanonical(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	strict := base64.RawURLEncoding.Strict()
	check := func(s string) {
		_, err := strict.DecodeString(s)
		if got, want := canonical(s), err == nil; got != want {
			t.Fatalf("canonical(%q) = %v, strict decoder says %v", s, got, want)
		}
	}
	check("")
	for _, a := range alphabet {
		check("AAAA" + string(a))
		for _, b := range alphabet {
			check("AAAA" + string(a) + string(b))
			for _, c := range alphabet {
				check(string(a) + string(b) + string(c))
			}
		}
	}
}

func TestB64Val(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range 256 {
		want := -1
		for j := range len(alphabet) {
			if alphabet[j] == byte(i) {
				want = j
			}
		}
		if got := b64val(byte(i)); got != want {
			t.Errorf("b64val(%q) = %d, want %d", byte(i), got, want)
		}
	}
}
