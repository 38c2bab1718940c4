package userhook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The worked example of the Standard Webhooks specification (also in its reference
// libraries' tests): our signer must produce exactly this header.
func TestSignatureVector(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts     = 1614265330
		body   = `{"test": 2432232314}`
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	keys, err := parseSecrets(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := signatureHeader(keys, id, ts, []byte(body)); got != want {
		t.Errorf("signature = %s, want %s", got, want)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if lib, _ := wh.Sign(id, time.Unix(ts, 0), []byte(body)); lib != want {
		t.Errorf("reference library signs %s, want %s", lib, want)
	}
}

// signed returns headers for body signed by the reference library under each secret.
func signed(t testing.TB, id string, ts time.Time, body []byte, secrets ...string) http.Header {
	t.Helper()
	var sigs []string
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := wh.Sign(id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, sig)
	}
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, fmt.Sprint(ts.Unix()))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
	return h
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"type":"user.login","data":{"email":"ada@example.com"}}`)
	foreign := "whsec_" + base64.StdEncoding.EncodeToString([]byte("some-other-secret-32-bytes-long!"))
	tests := []struct {
		name    string
		secret  string // what Verify is given
		header  func() http.Header
		body    []byte
		tol     time.Duration
		wantErr error
	}{
		{"valid", secretA, func() http.Header { return signed(t, "msg_1", now, body, secretA) }, body, 0, nil},
		{"one of two secrets (rotation, receiver side)", secretB + " " + secretA,
			func() http.Header { return signed(t, "msg_1", now, body, secretA) }, body, 0, nil},
		{"one of two signatures (rotation, sender side)", secretB,
			func() http.Header { return signed(t, "msg_1", now, body, secretA, secretB) }, body, 0, nil},
		{"unknown version skipped", secretA, func() http.Header {
			h := signed(t, "msg_1", now, body, secretA)
			h.Set(HeaderSignature, "v1a,AAAA v2,zzz "+h.Get(HeaderSignature))
			return h
		}, body, 0, nil},
		{"signature split over two header lines", secretA, func() http.Header {
			h := signed(t, "msg_1", now, body, secretB)
			h.Add(HeaderSignature, signed(t, "msg_1", now, body, secretA).Get(HeaderSignature))
			return h
		}, body, 0, nil},
		{"at the window's edge", secretA, func() http.Header { return signed(t, "msg_1", now.Add(-5*time.Minute), body, secretA) }, body, 0, nil},
		{"tampered body", secretA, func() http.Header { return signed(t, "msg_1", now, body, secretA) },
			[]byte(strings.Replace(string(body), "ada@", "eve@", 1)), 0, ErrNoMatchingSignature},
		{"tampered id", secretA, func() http.Header {
			h := signed(t, "msg_1", now, body, secretA)
			h.Set(HeaderID, "msg_2")
			return h
		}, body, 0, ErrNoMatchingSignature},
		{"tampered timestamp", secretA, func() http.Header {
			h := signed(t, "msg_1", now, body, secretA)
			h.Set(HeaderTimestamp, fmt.Sprint(now.Unix()+1))
			return h
		}, body, 0, ErrNoMatchingSignature},
		{"wrong secret", foreign, func() http.Header { return signed(t, "msg_1", now, body, secretA) }, body, 0, ErrNoMatchingSignature},
		{"only a non-v1 signature", secretA, func() http.Header {
			h := signed(t, "msg_1", now, body, secretA)
			h.Set(HeaderSignature, strings.Replace(h.Get(HeaderSignature), "v1,", "v2,", 1))
			return h
		}, body, 0, ErrNoMatchingSignature},
		{"signature not base64", secretA, func() http.Header {
			h := signed(t, "msg_1", now, body, secretA)
			h.Set(HeaderSignature, "v1,!!!")
			return h
		}, body, 0, ErrNoMatchingSignature},
		{"too old", secretA, func() http.Header { return signed(t, "msg_1", now.Add(-6*time.Minute), body, secretA) }, body, 0, ErrTimestampOutOfWindow},
		{"too new", secretA, func() http.Header { return signed(t, "msg_1", now.Add(6*time.Minute), body, secretA) }, body, 0, ErrTimestampOutOfWindow},
		{"custom tolerance", secretA, func() http.Header { return signed(t, "msg_1", now.Add(-31*time.Second), body, secretA) }, body, 30 * time.Second, ErrTimestampOutOfWindow},
		{"absurd timestamp", secretA, func() http.Header {
			h := signed(t, "msg_1", now, body, secretA)
			h.Set(HeaderTimestamp, "-9223372036854775808")
			return h
		}, body, 0, ErrTimestampOutOfWindow},
		{"timestamp in ms", secretA, func() http.Header {
			h := signed(t, "msg_1", now, body, secretA)
			h.Set(HeaderTimestamp, fmt.Sprint(now.UnixMilli()))
			return h
		}, body, 0, ErrTimestampOutOfWindow},
		{"timestamp not a number", secretA, func() http.Header {
			h := signed(t, "msg_1", now, body, secretA)
			h.Set(HeaderTimestamp, "2026-01-01T00:00:00Z")
			return h
		}, body, 0, ErrInvalidTimestamp},
		{"missing id", secretA, func() http.Header {
			h := signed(t, "msg_1", now, body, secretA)
			h.Del(HeaderID)
			return h
		}, body, 0, ErrMissingHeaders},
		{"missing signature", secretA, func() http.Header {
			h := signed(t, "msg_1", now, body, secretA)
			h.Del(HeaderSignature)
			return h
		}, body, 0, ErrMissingHeaders},
		{"no headers", secretA, func() http.Header { return http.Header{} }, body, 0, ErrMissingHeaders},
		{"empty secret", "", func() http.Header { return signed(t, "msg_1", now, body, secretA) }, body, 0, ErrInvalidSecret},
		{"undecodable secret", "whsec_???", func() http.Header { return signed(t, "msg_1", now, body, secretA) }, body, 0, ErrInvalidSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := verifyAt(tc.secret, tc.header(), tc.body, tc.tol, now)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("verify = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// What Send signs, Verify accepts; and Verify agrees with the reference library.
func TestVerifyRoundTrip(t *testing.T) {
	keys, _ := parseSecrets(secretA + " " + secretB)
	body := []byte(`{"a":1}`)
	ts := time.Now().Unix()
	h := http.Header{}
	h.Set(HeaderID, "msg_rt")
	h.Set(HeaderTimestamp, fmt.Sprint(ts))
	h.Set(HeaderSignature, signatureHeader(keys, "msg_rt", ts, body))
	for _, s := range []string{secretA, secretB} {
		if err := Verify(s, h, body, 0); err != nil {
			t.Errorf("Verify under one secret: %v", err)
		}
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("reference library: %v", err)
		}
	}
}

func TestNewSecret(t *testing.T) {
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if !strings.HasPrefix(s, "whsec_") || err != nil || len(key) != 32 {
		t.Fatalf("NewSecret = %q: want whsec_ + std base64 of 32 bytes", s)
	}
	if s2, _ := NewSecret(); s2 == s {
		t.Error("two secrets are equal")
	}
	if _, err := New(Config{URL: "https://h/", Secret: s}); err != nil {
		t.Errorf("New rejects NewSecret's output: %v", err)
	}
	if _, err := standardwebhooks.NewWebhook(s); err != nil {
		t.Errorf("reference library rejects NewSecret's output: %v", err)
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  hello  ", "hello"},
		{"a\r\n\tb", "a b"},
		{"bell\a and NUL\x00", "bell and NUL"},
		{"left\u202eright\u2066x\u2069", "leftrightx"},
		{"zero\u200bwidth", "zerowidth"},
		{"bad \xff utf8", "bad \ufffd utf8"},
		{"nbsp\u00a0and\u2028line", "nbsp and line"},
		{"private\ue000use", "privateuse"},
		{"日本語 ok", "日本語 ok"},
		{strings.Repeat("ab ", 200), strings.Repeat("ab ", 99) + "ab…"},
	}
	for _, tc := range tests {
		if got := plainText(tc.in, MaxMessageRunes); got != tc.want {
			t.Errorf("plainText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzPlainText(f *testing.F) {
	for _, s := range []string{"", "hi", "a\u202eb", strings.Repeat("x ", 400), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := plainText(s, MaxMessageRunes)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxMessageRunes {
			t.Fatalf("plainText(%q) = %q: invalid or too long", s, got)
		}
		if strings.TrimSpace(got) != got || strings.Contains(got, "  ") {
			t.Fatalf("plainText(%q) = %q: untrimmed or doubled space", s, got)
		}
		for _, r := range got {
			if r != ' ' && !unicode.IsPrint(r) {
				t.Fatalf("plainText(%q) = %q: keeps %U", s, got, r)
			}
		}
	})
}

func FuzzParseAllow(f *testing.F) {
	for _, s := range []string{`{"user_id":"u"}`, `{"user_id":42,"claims":{"a":1}}`, `{"user_id":""}`, `[]`, `{"user_id":-0}`, `{`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		dec, err := parseAllow(body)
		if err != nil {
			return
		}
		if !dec.Allowed || strings.TrimSpace(dec.UserID) == "" || len(dec.UserID) > maxUserIDBytes ||
			strings.IndexFunc(dec.UserID, unicode.IsControl) >= 0 {
			t.Fatalf("parseAllow(%q) accepted %+v", body, dec)
		}
		_ = parseDeny(body)
	})
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add("msg_1", "1800000000", "v1,AAAA", []byte(`{}`))
	f.Add("", "", "", []byte(nil))
	f.Add("msg_1", "-1", "v1, v1,,, v1a,x", []byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		if err := verifyAt(secretA, h, body, 0, now); err == nil {
			// Only a real signature may pass: recompute and compare.
			keys, _ := parseSecrets(secretA)
			n, _ := fmt.Sscan(ts, new(int64))
			if n != 1 || !strings.Contains(sig, base64.StdEncoding.EncodeToString(mac(keys[0], id, mustInt(ts), body))) {
				t.Fatalf("accepted a forged request: id %q ts %q sig %q", id, ts, sig)
			}
		}
	})
}

func mustInt(s string) int64 {
	var n int64
	fmt.Sscan(s, &n)
	return n
}

func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"type":"user.login","timestamp":"2026-01-02T03:04:05Z","data":{"provider":"google","subject":"1234567890","email":"ada@example.com"}}`)
	h := signed(b, "msg_bench", time.Now(), body, secretA)
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(secretA, h, body, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	keys, _ := parseSecrets(secretA)
	body := []byte(`{"type":"user.login","timestamp":"2026-01-02T03:04:05Z","data":{"provider":"google","subject":"1234567890","email":"ada@example.com"}}`)
	b.ReportAllocs()
	for b.Loop() {
		_ = signatureHeader(keys, "msg_bench", 1_800_000_000, body)
	}
}
