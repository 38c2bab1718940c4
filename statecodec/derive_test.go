package statecodec_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/statecodec"
)

func TestDeriveKey(t *testing.T) {
	k := testKey(t, 1)
	d1, err := statecodec.DeriveKey(k, "refresh")
	if err != nil {
		t.Fatal(err)
	}
	again, err := statecodec.DeriveKey(k, "refresh")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d1.Secret, again.Secret) || d1.ID != again.ID {
		t.Error("derivation is not deterministic: replicas would disagree")
	}
	other, err := statecodec.DeriveKey(k, "other")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := statecodec.DeriveKey(testKey(t, 2), "refresh")
	if err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string]statecodec.Key{"original": k, "other purpose": other, "other key": k2} {
		if bytes.Equal(d1.Secret, x.Secret) || d1.ID == x.ID {
			t.Errorf("derived key equals the %s key (secret or ID)", name)
		}
	}
	if len(d1.Secret) != statecodec.KeySize || len(d1.ID) != len(k.ID) {
		t.Errorf("derived key: %d bytes, ID %q", len(d1.Secret), d1.ID)
	}
	// The ID is the one New would derive from the bytes.
	noID, err := statecodec.New([]statecodec.Key{{Secret: d1.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	withID, err := statecodec.New([]statecodec.Key{d1})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := noID.Seal("x", 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := withID.Open("x", tok, nil); err != nil {
		t.Errorf("derived ID differs from the one derived from the bytes: %v", err)
	}
}

func TestDeriveKeyRefuses(t *testing.T) {
	tests := []struct {
		name    string
		key     statecodec.Key
		purpose string
		wantErr string
	}{
		{"short key", statecodec.Key{ID: "abc", Secret: make([]byte, 16)}, "refresh", "16 bytes"},
		{"empty purpose", testKey(t, 1), "", "purpose"},
		{"bad purpose", testKey(t, 1), "a b", "purpose"},
		{"long purpose", testKey(t, 1), strings.Repeat("a", 33), "purpose"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := statecodec.DeriveKey(tc.key, tc.purpose)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("DeriveKey = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestDerivedRingSeparation: the same configured ring, used directly and
// through derivation, gives two codecs that never open each other's tokens,
// whatever the purpose, while rotation still works on each side.
func TestDerivedRingSeparation(t *testing.T) {
	clk := &clock{now: t0}
	orig := []statecodec.Key{testKey(t, 1), testKey(t, 2), testKey(t, 3)}
	var derived []statecodec.Key
	for _, k := range orig {
		d, err := statecodec.DeriveKey(k, "refresh")
		if err != nil {
			t.Fatal(err)
		}
		derived = append(derived, d)
	}
	plain := newCodec(t, clk, orig...)
	deriv := newCodec(t, clk, derived...)

	for _, purpose := range []string{"s", "r", "refresh"} {
		fromPlain, err := plain.Seal(purpose, "p", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		fromDeriv, err := deriv.Seal(purpose, "p", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := deriv.Open(purpose, fromPlain, nil); !errors.Is(err, statecodec.ErrInvalid) {
			t.Errorf("purpose %s: original-key token under the derived ring: %v, want ErrInvalid", purpose, err)
		}
		if err := plain.Open(purpose, fromDeriv, nil); !errors.Is(err, statecodec.ErrInvalid) {
			t.Errorf("purpose %s: derived-key token under the original ring: %v, want ErrInvalid", purpose, err)
		}
	}

	// Rotation: a ring whose first key is the old second one still opens
	// what the old first key sealed, and seals under its own first.
	old, err := deriv.Seal("refresh", "p", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	rotated := newCodec(t, clk, derived[1], derived[0], derived[2])
	if err := rotated.Open("refresh", old, nil); err != nil {
		t.Errorf("rotated derived ring refuses a token of its second key: %v", err)
	}
	fresh, err := rotated.Seal("refresh", "p", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := newCodec(t, clk, derived[1]).Open("refresh", fresh, nil); err != nil {
		t.Errorf("rotated ring did not seal with its first key: %v", err)
	}
	if err := newCodec(t, clk, derived[0]).Open("refresh", fresh, nil); !errors.Is(err, statecodec.ErrInvalid) {
		t.Errorf("token of the new first key opens under the old first alone: %v", err)
	}
}
