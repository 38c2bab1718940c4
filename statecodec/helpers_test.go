package statecodec_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/statecodec"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testSecret returns a fixed 32-byte key whose every byte is b.
func testSecret(b byte) []byte { return bytes.Repeat([]byte{b}, statecodec.KeySize) }

// testKey returns a ring entry with a derived ID, as ParseKeys would.
func testKey(t testing.TB, b byte) statecodec.Key {
	t.Helper()
	keys, err := statecodec.ParseKeys(base64.RawURLEncoding.EncodeToString(testSecret(b)))
	if err != nil {
		t.Fatal(err)
	}
	return keys[0]
}

// clock is a settable clock for WithClock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newCodec(t testing.TB, clk *clock, keys ...statecodec.Key) *statecodec.Codec {
	t.Helper()
	c, err := statecodec.New(keys, statecodec.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// handSeal builds a compact JWE with dir + A256GCM without jwx, from raw
// header and plaintext bytes and a given IV. It is an independent second
// implementation of the format: the tests use it to check that the codec
// reads what the RFC describes, to craft tokens that are cryptographically
// valid yet must be refused (the header checks are then the only line of
// defence), and to make the fuzz seeds deterministic across processes.
func handSeal(t testing.TB, secret []byte, header, plaintext string, iv []byte) string {
	t.Helper()
	block, err := aes.NewCipher(secret)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	h := b64([]byte(header))
	// RFC 7516 §5.1 step 14: AAD = ASCII(BASE64URL(UTF8(protected header))).
	sealed := gcm.Seal(nil, iv, []byte(plaintext), []byte(h))
	ct, tag := sealed[:len(sealed)-gcm.Overhead()], sealed[len(sealed)-gcm.Overhead():]
	return strings.Join([]string{h, "", b64(iv), b64(ct), b64(tag)}, ".")
}

// handOpen is handSeal's inverse; it checks nothing but the crypto.
func handOpen(t testing.TB, secret []byte, token string) (header, plaintext []byte) {
	t.Helper()
	seg := strings.Split(token, ".")
	if len(seg) != 5 {
		t.Fatalf("token has %d segments, want 5", len(seg))
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	sealed := append(unb64(t, seg[3]), unb64(t, seg[4])...)
	plaintext, err = gcm.Open(nil, unb64(t, seg[2]), sealed, []byte(seg[0]))
	if err != nil {
		t.Fatalf("GCM open: %v", err)
	}
	return unb64(t, seg[0]), plaintext
}

// header returns the protected header the codec writes.
func header(kid, typ string) string {
	return `{"alg":"dir","enc":"A256GCM","kid":"` + kid + `","typ":"` + typ + `"}`
}

// envelope returns a sealed plaintext expiring at exp.
func envelope(exp time.Time, payload string) string {
	b, _ := json.Marshal(exp.Unix())
	return `{"e":` + string(b) + `,"p":` + payload + `}`
}

// fixedIV returns a deterministic 12-byte IV.
func fixedIV(b byte) []byte { return bytes.Repeat([]byte{b}, 12) }
