package statecodec_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/statecodec"
)

func TestParseKeys(t *testing.T) {
	k1, k2 := testSecret(1), testSecret(0xfb) // 0xfb… puts + / - _ in the encodings
	raw := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name    string
		in      string
		want    [][]byte
		wantErr string
	}{
		{"one, base64url unpadded", raw(k1), [][]byte{k1}, ""},
		{"base64url padded", base64.URLEncoding.EncodeToString(k2), [][]byte{k2}, ""},
		{"standard base64", base64.StdEncoding.EncodeToString(k2), [][]byte{k2}, ""},
		{"standard base64 unpadded", base64.RawStdEncoding.EncodeToString(k2), [][]byte{k2}, ""},
		{"two, blanks trimmed, order kept", "  " + raw(k2) + " ,\t" + raw(k1) + "\n", [][]byte{k2, k1}, ""},
		{"empty", "", nil, "no keys"},
		{"blank", "  ", nil, "no keys"},
		{"empty entry", raw(k1) + ",", nil, "key 2 of 2: empty"},
		{"too short", raw(k1[:31]), nil, "key 1 of 1: decodes to 31 bytes, want 32"},
		{"too long", raw(append(k1, 0)), nil, "key 1 of 1: decodes to 33 bytes, want 32"},
		{"not base64", raw(k1) + "," + strings.Repeat("!", 43), nil, "key 2 of 2: not base64"},
		{"mixed alphabets", "-" + base64.StdEncoding.EncodeToString(k2)[1:], nil, "key 1 of 1"},
		{"line break inside", raw(k1)[:20] + "\n" + raw(k1)[20:], nil, "key 1 of 1: not base64"},
		{"all zeros (a placeholder)", raw(make([]byte, 32)), nil, "key 1 of 1: is all zeros"},
		{"duplicate", raw(k1) + "," + raw(k2) + "," + base64.StdEncoding.EncodeToString(k1), nil, "key 3 of 3: same as key 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := statecodec.ParseKeys(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseKeys = %v, want error containing %q", err, tc.wantErr)
				}
				// No part of any key may show up in the message.
				for _, f := range strings.Split(tc.in, ",") {
					if f = strings.TrimSpace(f); len(f) >= 8 && strings.Contains(err.Error(), f[:8]) {
						t.Errorf("error %q quotes key material", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != len(tc.want) {
				t.Fatalf("got %d keys, want %d", len(keys), len(tc.want))
			}
			for i, k := range keys {
				if !bytes.Equal(k.Secret, tc.want[i]) {
					t.Errorf("key %d: wrong bytes", i+1)
				}
				if len(k.ID) != 6 {
					t.Errorf("key %d: ID %q, want 6 characters", i+1, k.ID)
				}
			}
		})
	}
}

// TestKeyID: IDs depend on the key alone (every replica agrees), differ
// between keys, and are not a plain hash of the key.
func TestKeyID(t *testing.T) {
	a1, a2, b := testKey(t, 1), testKey(t, 1), testKey(t, 2)
	if a1.ID != a2.ID {
		t.Errorf("same key, IDs %q and %q", a1.ID, a2.ID)
	}
	if a1.ID == b.ID {
		t.Errorf("different keys, same ID %q", a1.ID)
	}
	// Pinned (base64url of SHA-256("edgeauth/statecodec/kid/v1\x00" || key),
	// first 6 characters, computed outside Go), so a change to the derivation,
	// which would strand every token in flight during a deploy, cannot go
	// unnoticed.
	if want := "7nT8xL"; a1.ID != want {
		t.Errorf("ID of key 0x01… = %q, want %q", a1.ID, want)
	}
	c, err := statecodec.New([]statecodec.Key{{Secret: testSecret(1)}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Seal("s", 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := handOpen(t, testSecret(1), tok); !strings.Contains(string(h), `"kid":"`+a1.ID+`"`) {
		t.Errorf("New derives a different ID than ParseKeys: %s", h)
	}
}

func TestGenerateKey(t *testing.T) {
	k, enc, err := statecodec.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Secret) != statecodec.KeySize {
		t.Fatalf("secret is %d bytes", len(k.Secret))
	}
	keys, err := statecodec.ParseKeys(enc)
	if err != nil {
		t.Fatalf("ParseKeys(GenerateKey's encoding): %v", err)
	}
	if keys[0].ID != k.ID || !bytes.Equal(keys[0].Secret, k.Secret) {
		t.Errorf("round trip through the env encoding changed the key")
	}
	k2, _, err := statecodec.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(k.Secret, k2.Secret) {
		t.Errorf("two generated keys are equal")
	}
}

// TestKeyRedacted: printing or logging a Key shows its ID, never its secret.
func TestKeyRedacted(t *testing.T) {
	k := statecodec.Key{ID: "abc123", Secret: testSecret('S')}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("key", "k", k)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("key", "k", k)
	out := fmt.Sprintf("%v %+v %#v %s", k, k, k, k) + buf.String()
	if !strings.Contains(out, "abc123") {
		t.Errorf("ID missing from %q", out)
	}
	for _, leak := range []string{"SSSS", "83 83", "U1NT", base64.StdEncoding.EncodeToString(k.Secret)[:8]} {
		if strings.Contains(out, leak) {
			t.Errorf("secret leaked (%q) in %q", leak, out)
		}
	}
}
