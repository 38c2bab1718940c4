package statecodec_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"

	"github.com/edgeauth/edgeauth/statecodec"
)

type flow struct {
	Seed     string `json:"s"`
	Provider string `json:"p"`
	Binding  string `json:"b,omitempty"`
}

func TestRoundTrip(t *testing.T) {
	clk := &clock{now: t0}
	c := newCodec(t, clk, testKey(t, 1))
	tests := []struct {
		name    string
		purpose string
		in      any
		out     any // pointer to a zero value of in's type
	}{
		{"struct", "s", flow{Seed: "q9", Provider: "google", Binding: "<&>"}, new(flow)},
		{"map", "r", map[string]any{"sub": "u1", "n": 3.0}, new(map[string]any)},
		{"string", "s", "hello", new(string)},
		{"null", "s", nil, new(any)},
		{"long purpose", strings.Repeat("p", 32), []int{1, 2}, new([]int)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := c.Seal(tc.purpose, tc.in, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Open(tc.purpose, tok, tc.out); err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got := reflect.ValueOf(tc.out).Elem().Interface(); !reflect.DeepEqual(got, tc.in) {
				t.Errorf("got %#v, want %#v", got, tc.in)
			}
			if err := c.Open(tc.purpose, tok, nil); err != nil {
				t.Errorf("Open with nil payload: %v", err)
			}
		})
	}
}

// TestFormat checks the token against an independent reading of RFC 7516:
// the header is exactly alg, enc, kid, typ and the plaintext {"e","p"}.
func TestFormat(t *testing.T) {
	clk := &clock{now: t0}
	k := testKey(t, 1)
	c := newCodec(t, clk, k)
	tok, err := c.Seal("s", flow{Seed: "x", Provider: "y"}, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	hdr, plain := handOpen(t, k.Secret, tok)
	var h map[string]string
	if err := json.Unmarshal(hdr, &h); err != nil {
		t.Fatal(err)
	}
	wantH := map[string]string{"alg": "dir", "enc": "A256GCM", "kid": k.ID, "typ": "s"}
	if !reflect.DeepEqual(h, wantH) {
		t.Errorf("header = %s, want %v", hdr, wantH)
	}
	if want := envelope(t0.Add(90*time.Second), `{"s":"x","p":"y"}`); string(plain) != want {
		t.Errorf("plaintext = %s, want %s", plain, want)
	}

	// And the other way: a token made without jwx opens.
	hand := handSeal(t, k.Secret, header(k.ID, "s"), envelope(t0.Add(time.Minute), `{"s":"h"}`), fixedIV(7))
	var f flow
	if err := c.Open("s", hand, &f); err != nil || f.Seed != "h" {
		t.Errorf("Open(hand-sealed) = %v, %+v", err, f)
	}
}

// TestTokenLength holds the design's budget: a plain login's state (about
// 80 bytes of JSON) must fit in 300 characters, since some providers cap
// the state parameter.
func TestTokenLength(t *testing.T) {
	c := newCodec(t, &clock{now: t0}, testKey(t, 1))
	payload := json.RawMessage(`{"s":"` + strings.Repeat("A", 43) + `","p":"google","b":"` + strings.Repeat("B", 9) + `"}`)
	if len(payload) != 80 {
		t.Fatalf("payload is %d bytes, want 80", len(payload))
	}
	tok, err := c.Seal("s", payload, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("80-byte payload → %d-character token", len(tok))
	if len(tok) > 300 {
		t.Errorf("token is %d characters, budget 300", len(tok))
	}
}

func TestRotation(t *testing.T) {
	clk := &clock{now: t0}
	oldKey, newKey := testKey(t, 1), testKey(t, 2)
	before := newCodec(t, clk, oldKey)
	during := newCodec(t, clk, newKey, oldKey)
	after := newCodec(t, clk, newKey)

	oldTok, err := before.Seal("s", "old", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	newTok, err := during.Seal("s", "new", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		codec *statecodec.Codec
		tok   string
		want  error
	}{
		{"old token, ring new+old", during, oldTok, nil},
		{"new token, ring new+old", during, newTok, nil},
		{"new token, ring new only", after, newTok, nil},
		{"new token, ring old only (not yet rolled out)", before, newTok, statecodec.ErrUnknownKey},
		{"old token, old key dropped", after, oldTok, statecodec.ErrUnknownKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s string
			if err := tc.codec.Open("s", tc.tok, &s); err != tc.want {
				t.Fatalf("Open = %v, want %v", err, tc.want)
			}
		})
	}
	if h, _ := handOpen(t, newKey.Secret, newTok); !strings.Contains(string(h), `"kid":"`+newKey.ID+`"`) {
		t.Errorf("the ring's first key must seal; header %s", h)
	}
}

func TestExpiry(t *testing.T) {
	k := testKey(t, 1)
	tests := []struct {
		name    string
		sealAt  time.Time
		ttl     time.Duration
		openAt  time.Time
		want    error
		openKey statecodec.Key
	}{
		{"fresh", t0, time.Minute, t0, nil, k},
		{"one second before expiry", t0, time.Minute, t0.Add(59 * time.Second), nil, k},
		{"at expiry (no leeway)", t0, time.Minute, t0.Add(time.Minute), statecodec.ErrExpired, k},
		{"long after", t0, time.Minute, t0.Add(24 * time.Hour), statecodec.ErrExpired, k},
		{"ttl rounds up to the second", t0.Add(100 * time.Millisecond), 300 * time.Millisecond, t0.Add(999 * time.Millisecond), nil, k},
		{"rounded-up expiry still ends", t0.Add(100 * time.Millisecond), 300 * time.Millisecond, t0.Add(time.Second), statecodec.ErrExpired, k},
		// Expiry is only reported for tokens that decrypt: no oracle.
		{"expired under another key is invalid", t0, time.Minute, t0.Add(time.Hour), statecodec.ErrUnknownKey, testKey(t, 2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{now: tc.sealAt}
			tok, err := newCodec(t, clk, k).Seal("s", "v", tc.ttl)
			if err != nil {
				t.Fatal(err)
			}
			clk.now = tc.openAt
			var s string
			err = newCodec(t, clk, tc.openKey).Open("s", tok, &s)
			if err != tc.want {
				t.Fatalf("Open = %v, want %v", err, tc.want)
			}
			if err != nil && s != "" {
				t.Errorf("payload written on error: %q", s)
			}
		})
	}
}

// TestOpenRefuses lists the tokens Open must refuse, each with ErrInvalid.
// jwxOpens marks those a bare jwe.Decrypt with the same key would accept
// (PITFALLS.md): for them the codec's own checks are the only defence, and
// the assertion proves the case is not vacuous.
func TestOpenRefuses(t *testing.T) {
	clk := &clock{now: t0}
	k := testKey(t, 1)
	c := newCodec(t, clk, k)
	good, err := c.Seal("s", flow{Seed: "abc", Provider: "google"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	seg := strings.Split(good, ".")
	join := func(s ...string) string { return strings.Join(s, ".") }
	// with returns good with segment i replaced.
	with := func(i int, v string) string {
		s := append([]string(nil), seg...)
		s[i] = v
		return join(s...)
	}
	// flip changes one character in the middle of s, keeping it canonical.
	flip := func(s string) string {
		b := []byte(s)
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	future := envelope(t0.Add(time.Hour), `{"s":"abc"}`)
	hand := func(hdr, plain string) string { return handSeal(t, k.Secret, hdr, plain, fixedIV(1)) }
	// jwxSeal builds a token with jwx itself, optionally breaking a rule.
	jwxSeal := func(extra map[string]any, opts ...jwe.EncryptOption) string {
		h := jwe.NewHeaders()
		_ = h.Set(jwe.KeyIDKey, k.ID)
		_ = h.Set(jwe.TypeKey, "s")
		for name, v := range extra {
			if err := h.Set(name, v); err != nil {
				t.Fatal(err)
			}
		}
		opts = append([]jwe.EncryptOption{jwe.WithKey(jwa.DIRECT, k.Secret), jwe.WithProtectedHeaders(h)}, opts...)
		tok, err := jwe.Encrypt([]byte(future), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return string(tok)
	}
	// The last character of the 22-character tag carries 4 unused bits;
	// setting one spells the same tag another way.
	// It is one of A, Q, g, w; the next character is in range and differs
	// only in those bits.
	nonCanonicalTag := with(4, seg[4][:21]+string(seg[4][21]+1))

	tests := []struct {
		name     string
		token    string
		purpose  string // default "s"
		jwxOpens bool
	}{
		// Shape.
		{name: "empty", token: ""},
		{name: "4 segments", token: join(seg[0], seg[1], seg[2], seg[3])},
		{name: "6 segments", token: good + ".AAAA"},
		{name: "6 segments, empty last", token: good + "."},
		{name: "non-empty encrypted key", token: with(1, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), jwxOpens: true},
		{name: "oversize", token: good + strings.Repeat("A", statecodec.MaxTokenLen)},
		{name: "JSON serialization", token: jwxSeal(nil, jwe.WithJSON()), jwxOpens: true},
		{name: "leading blank", token: " " + good, jwxOpens: true},
		{name: "trailing newline", token: good + "\n", jwxOpens: true},
		{name: "newline inside ciphertext", token: with(3, seg[3][:4]+"\n"+seg[3][4:]), jwxOpens: true},
		{name: "padded tag", token: with(4, seg[4]+"=="), jwxOpens: true},
		{name: "non-canonical tag", token: nonCanonicalTag, jwxOpens: true},
		{name: "standard base64 alphabet", token: with(3, "+"+seg[3][1:])},
		{name: "short IV", token: with(2, seg[2][:12])},
		{name: "short tag", token: with(4, seg[4][:16])},
		{name: "empty ciphertext", token: with(3, "")},

		// Tampering, one segment at a time.
		{name: "tampered header", token: with(0, flip(seg[0]))},
		{name: "tampered IV", token: with(2, flip(seg[2]))},
		{name: "tampered ciphertext", token: with(3, flip(seg[3]))},
		{name: "tampered tag", token: with(4, flip(seg[4]))},
		{name: "header re-spelled with the same meaning", token: with(0, b64([]byte(`{"alg":"dir", "enc":"A256GCM","kid":"`+k.ID+`","typ":"s"}`)))},
		{name: "IV and tag swapped with another token", token: func() string {
			other, _ := c.Seal("s", flow{Seed: "abc", Provider: "google"}, time.Hour)
			o := strings.Split(other, ".")
			return join(seg[0], "", o[2], seg[3], o[4])
		}()},

		// Purpose and keys.
		{name: "wrong purpose", token: good, purpose: "r"},
		{name: "purpose prefix", token: good, purpose: "s2"},
		{name: "invalid purpose", token: good, purpose: "s\""},
		{name: "unknown kid", token: hand(header("nokey1", "s"), future)},
		{name: "wrong key under our kid", token: handSeal(t, testSecret(9), header(k.ID, "s"), future, fixedIV(1))},
		{name: "sealed by another ring", token: func() string {
			tok, _ := newCodec(t, clk, testKey(t, 3)).Seal("s", "x", time.Hour)
			return tok
		}()},

		// Header rules, on tokens that are otherwise perfectly valid.
		{name: "enc A128CBC-HS256 under the same key", token: jwxSeal(nil, jwe.WithContentEncryption(jwa.A128CBC_HS256)), jwxOpens: true},
		{name: "zip DEF", token: jwxSeal(nil, jwe.WithCompress(jwa.Deflate)), jwxOpens: true},
		{name: "crit", token: jwxSeal(map[string]any{"crit": []string{"exp"}, "exp": 1}), jwxOpens: true},
		{name: "cty", token: jwxSeal(map[string]any{"cty": "JWT"}), jwxOpens: true},
		{name: "alg A256KW", token: hand(`{"alg":"A256KW","enc":"A256GCM","kid":"`+k.ID+`","typ":"s"}`, future)},
		{name: "alg none", token: hand(`{"alg":"none","enc":"A256GCM","kid":"`+k.ID+`","typ":"s"}`, future)},
		{name: "no typ", token: hand(`{"alg":"dir","enc":"A256GCM","kid":"`+k.ID+`"}`, future)},
		{name: "no kid", token: hand(`{"alg":"dir","enc":"A256GCM","typ":"s"}`, future)},
		{name: "duplicate typ", token: hand(`{"alg":"dir","enc":"A256GCM","kid":"`+k.ID+`","typ":"r","typ":"s"}`, future)},
		{name: "duplicate enc", token: hand(`{"alg":"dir","enc":"A128GCM","kid":"`+k.ID+`","typ":"s","enc":"A256GCM"}`, future)},
		{name: "case-folded member", token: hand(`{"alg":"dir","ENC":"A256GCM","kid":"`+k.ID+`","typ":"s"}`, future)},
		{name: "typ not a string", token: hand(`{"alg":"dir","enc":"A256GCM","kid":"`+k.ID+`","typ":["s"]}`, future)},
		{name: "header not an object", token: hand(`["alg","dir"]`, future)},
		{name: "trailing data after header", token: hand(header(k.ID, "s")+`{}`, future)},
		{name: "header not JSON", token: hand(`{"alg":"dir",`, future)},

		// Plaintext rules (authentic, but not an envelope we wrote).
		{name: "plaintext not JSON", token: hand(header(k.ID, "s"), "not json")},
		{name: "no expiry", token: hand(header(k.ID, "s"), `{"p":{}}`)},
		{name: "zero expiry", token: hand(header(k.ID, "s"), `{"e":0,"p":{}}`)},
		{name: "no payload", token: hand(header(k.ID, "s"), `{"e":99999999999}`)},
		{name: "payload of the wrong type", token: hand(header(k.ID, "s"), envelope(t0.Add(time.Hour), `"a string"`))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			purpose := tc.purpose
			if purpose == "" {
				purpose = "s"
			}
			var f flow
			err := c.Open(purpose, tc.token, &f)
			if !errors.Is(err, statecodec.ErrInvalid) || !isSentinel(err) {
				t.Fatalf("Open = %v, want ErrInvalid", err)
			}
			if tc.jwxOpens {
				if _, err := jwe.Decrypt([]byte(tc.token), jwe.WithKey(jwa.DIRECT, k.Secret)); err != nil {
					t.Errorf("expected a bare jwe.Decrypt to accept this token (else the case tests nothing new): %v", err)
				}
			}
		})
	}
	if err := c.Open("s", good, new(flow)); err != nil {
		t.Fatalf("the untouched token must open: %v", err)
	}
}

func TestSealErrors(t *testing.T) {
	c := newCodec(t, &clock{now: t0}, testKey(t, 1))
	tests := []struct {
		name    string
		purpose string
		payload any
		ttl     time.Duration
	}{
		{"empty purpose", "", "x", time.Minute},
		{"purpose with a quote", `s"`, "x", time.Minute},
		{"purpose too long", strings.Repeat("p", 33), "x", time.Minute},
		{"zero ttl", "s", "x", 0},
		{"negative ttl", "s", "x", -time.Second},
		{"unmarshalable payload", "s", make(chan int), time.Minute},
		{"token over MaxTokenLen", "s", strings.Repeat("x", statecodec.MaxTokenLen), time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := c.Seal(tc.purpose, tc.payload, tc.ttl); err == nil {
				t.Fatalf("Seal = %q, want an error", tok)
			}
		})
	}
}

func TestNew(t *testing.T) {
	a, b := testKey(t, 1), testKey(t, 2)
	tests := []struct {
		name    string
		keys    []statecodec.Key
		wantErr string
	}{
		{"one key", []statecodec.Key{a}, ""},
		{"ID derived when empty", []statecodec.Key{{Secret: a.Secret}}, ""},
		{"custom ID", []statecodec.Key{{ID: "2026-01", Secret: a.Secret}}, ""},
		{"no keys", nil, "no keys"},
		{"short key", []statecodec.Key{{Secret: a.Secret[:16]}}, "key 1: 16 bytes, want 32"},
		{"bad ID", []statecodec.Key{a, {ID: `k"`, Secret: b.Secret}}, "key 2: ID must be"},
		{"duplicate ID", []statecodec.Key{a, {ID: a.ID, Secret: b.Secret}}, "key 2: ID"},
		{"duplicate key", []statecodec.Key{a, {ID: "other", Secret: a.Secret}}, "key 2: same as key 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := statecodec.New(tc.keys)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("New = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}

	// The ring keeps its own copy of the secrets.
	secret := testSecret(5)
	c, err := statecodec.New([]statecodec.Key{{Secret: secret}}, statecodec.WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Seal("s", 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	secret[0] ^= 0xff
	if err := c.Open("s", tok, nil); err != nil {
		t.Errorf("changing the caller's slice changed the ring: %v", err)
	}
}

// TestErrorsAreSentinels: Open returns the sentinels themselves, so no
// library text can ride along to a client.
func TestErrorsAreSentinels(t *testing.T) {
	c := newCodec(t, &clock{now: t0}, testKey(t, 1))
	for _, tok := range []string{"", "a.b.c.d.e", "eyJ9..AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA"} {
		if err := c.Open("s", tok, nil); !errors.Is(err, statecodec.ErrInvalid) || !isSentinel(err) {
			t.Errorf("Open(%q) = %v", tok, err)
		}
	}
}

func isSentinel(err error) bool {
	switch err {
	case statecodec.ErrInvalid, statecodec.ErrMalformed, statecodec.ErrUnknownKey, statecodec.ErrExpired:
		return true
	}
	return false
}

// TestOpenReasons: the finer errors say why a token failed, for metrics
// that show a key-rotation mistake, and all of them still match ErrInvalid
// so a client never learns more than "invalid".
func TestOpenReasons(t *testing.T) {
	clk := &clock{now: t0}
	k1, k2 := testKey(t, 1), testKey(t, 2)
	c := newCodec(t, clk, k1)
	good, err := c.Seal("s", "v", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newCodec(t, clk, k2).Seal("s", "v", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	seg := strings.Split(good, ".")
	seg[3] = strings.Repeat("A", len(seg[3])) // same shape and kid, fails authentication
	forged := strings.Join(seg, ".")
	tests := []struct {
		name, purpose, token string
		want                 error
	}{
		{"garbage", "s", "not a token", statecodec.ErrMalformed},
		{"empty", "s", "", statecodec.ErrMalformed},
		{"too long", "s", strings.Repeat("A", statecodec.MaxTokenLen+1), statecodec.ErrMalformed},
		{"another ring's key", "s", other, statecodec.ErrUnknownKey},
		{"another purpose", "r", good, statecodec.ErrInvalid},
		{"forged ciphertext", "s", forged, statecodec.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Open(tc.purpose, tc.token, nil)
			if err != tc.want {
				t.Fatalf("Open = %v, want %v", err, tc.want)
			}
			if !errors.Is(err, statecodec.ErrInvalid) {
				t.Errorf("%v does not match ErrInvalid", err)
			}
			if errors.Is(err, statecodec.ErrExpired) {
				t.Errorf("%v matches ErrExpired", err)
			}
		})
	}
	clk.now = t0.Add(time.Hour)
	if err := c.Open("s", good, nil); err != statecodec.ErrExpired {
		t.Errorf("expired: %v", err)
	}
}

// TestMaxTokenLen: the largest token Seal produces still opens.
func TestMaxTokenLen(t *testing.T) {
	c := newCodec(t, &clock{now: t0}, testKey(t, 1))
	var largest string
	for n := statecodec.MaxTokenLen*3/4 - 200; n < statecodec.MaxTokenLen*3/4; n++ {
		tok, err := c.Seal("s", strings.Repeat("x", n), time.Minute)
		if err != nil {
			break
		}
		largest = tok
	}
	if len(largest) < statecodec.MaxTokenLen-4 || len(largest) > statecodec.MaxTokenLen {
		t.Fatalf("largest token is %d bytes, want just under %d", len(largest), statecodec.MaxTokenLen)
	}
	if err := c.Open("s", largest, nil); err != nil {
		t.Fatalf("Open(largest) = %v", err)
	}
}
