package statecodec_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"

	"github.com/edgeauth/edgeauth/statecodec"
)

// The codec writes and reads its compact JWE itself. jwx, the project's
// JOSE library, is the reference: these tests check that each opens what
// the other seals, so the direct implementation cannot drift from RFC 7516.

// interopPayloads are the payload shapes the server seals, plus edge cases
// of the envelope (null, long strings, characters JSON may escape).
var interopPayloads = []struct {
	name string
	in   any
	out  any // pointer to a zero value of in's type
}{
	{"flow state", flow{Seed: strings.Repeat("A", 43), Provider: "google", Binding: "<&>"}, new(flow)},
	{"map", map[string]any{"sub": "u1", "n": 3.0, "c": map[string]any{"role": "admin"}}, new(map[string]any)},
	{"null", nil, new(any)},
	{"long string", strings.Repeat("é", 2000), new(string)},
}

// TestJWXOpensSeal: jwe.Decrypt with the key yields exactly the envelope,
// and the protected header is what the format says.
func TestJWXOpensSeal(t *testing.T) {
	k := testKey(t, 1)
	c := newCodec(t, &clock{now: t0}, k, testKey(t, 2))
	for _, tc := range interopPayloads {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := c.Seal("s", tc.in, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			msg := jwe.NewMessage()
			plain, err := jwe.Decrypt([]byte(tok), jwe.WithKey(jwa.DIRECT, k.Secret), jwe.WithMessage(msg))
			if err != nil {
				t.Fatalf("jwe.Decrypt: %v", err)
			}
			h := msg.ProtectedHeaders()
			if h.Algorithm() != jwa.DIRECT || h.ContentEncryption() != jwa.A256GCM || h.KeyID() != k.ID || h.Type() != "s" {
				t.Errorf("header alg=%v enc=%v kid=%q typ=%q", h.Algorithm(), h.ContentEncryption(), h.KeyID(), h.Type())
			}
			var env struct {
				E int64           `json:"e"`
				P json.RawMessage `json:"p"`
			}
			if err := json.Unmarshal(plain, &env); err != nil {
				t.Fatal(err)
			}
			if want := t0.Add(time.Minute).Unix(); env.E != want {
				t.Errorf("e = %d, want %d", env.E, want)
			}
			if err := json.Unmarshal(env.P, tc.out); err != nil {
				t.Fatal(err)
			}
			if got := reflect.ValueOf(tc.out).Elem().Interface(); !reflect.DeepEqual(got, tc.in) {
				t.Errorf("jwx read %#v, want %#v", got, tc.in)
			}
		})
	}
}

// TestOpenJWXSeal: what jwe.Encrypt makes with dir, A256GCM, kid and typ
// opens, under either key of the ring, and only for its purpose.
func TestOpenJWXSeal(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	c := newCodec(t, &clock{now: t0}, k1, k2)
	for _, k := range []statecodec.Key{k1, k2} {
		for _, tc := range interopPayloads {
			t.Run(k.ID+"/"+tc.name, func(t *testing.T) {
				p, err := json.Marshal(tc.in)
				if err != nil {
					t.Fatal(err)
				}
				h := jwe.NewHeaders()
				if err := h.Set(jwe.KeyIDKey, k.ID); err != nil {
					t.Fatal(err)
				}
				if err := h.Set(jwe.TypeKey, "r"); err != nil {
					t.Fatal(err)
				}
				tok, err := jwe.Encrypt([]byte(envelope(t0.Add(time.Minute), string(p))),
					jwe.WithKey(jwa.DIRECT, k.Secret), jwe.WithContentEncryption(jwa.A256GCM),
					jwe.WithProtectedHeaders(h), jwe.WithCompact())
				if err != nil {
					t.Fatal(err)
				}
				out := reflect.New(reflect.TypeOf(tc.out).Elem()).Interface()
				if err := c.Open("r", string(tok), out); err != nil {
					t.Fatalf("Open(jwx token) = %v", err)
				}
				if got := reflect.ValueOf(out).Elem().Interface(); !reflect.DeepEqual(got, tc.in) {
					t.Errorf("got %#v, want %#v", got, tc.in)
				}
				if err := c.Open("s", string(tok), nil); err != statecodec.ErrInvalid {
					t.Errorf("Open for another purpose = %v, want ErrInvalid", err)
				}
			})
		}
	}
}

// TestHeaderSpellings: a header Seal would not write byte for byte (other
// member order, blanks) still opens when it carries exactly the four
// members, and is refused as before otherwise. The fast comparison must
// never decide differently from the strict parse.
func TestHeaderSpellings(t *testing.T) {
	k := testKey(t, 1)
	c := newCodec(t, &clock{now: t0}, k)
	plain := envelope(t0.Add(time.Minute), `"x"`)
	tests := []struct {
		header string
		want   error
	}{
		{header(k.ID, "s"), nil},
		{`{"typ":"s","kid":"` + k.ID + `","enc":"A256GCM","alg":"dir"}`, nil},
		{`{ "alg": "dir", "enc": "A256GCM", "kid": "` + k.ID + `", "typ": "s" }`, nil},
		{`{"alg":"dir","enc":"A256GCM","kid":"` + k.ID + `","typ":"s"} `, nil},
		{`{"alg":"dir","enc":"A256GCM","kid":"` + k.ID + `","typ":"r"}`, statecodec.ErrInvalid},
		{`{"alg":"dir","enc":"A256GCM","kid":"zzzzzz","typ":"s"}`, statecodec.ErrUnknownKey},
		{`{"alg":"dir","enc":"A256GCM","kid":"` + k.ID + `","typ":"s","cty":"x"}`, statecodec.ErrMalformed},
		{`{"alg":"dir","enc":"A256GCM","kid":"` + k.ID + `"}`, statecodec.ErrMalformed},
		{`{"alg":"dir","enc":"A256GCM","kid":"` + k.ID + `","typ":"s","typ":"s"}`, statecodec.ErrMalformed},
	}
	for _, tc := range tests {
		tok := handSeal(t, k.Secret, tc.header, plain, fixedIV(3))
		var got string
		if err := c.Open("s", tok, &got); err != tc.want {
			t.Errorf("header %s: Open = %v, want %v", tc.header, err, tc.want)
		}
	}
}

// TestEnvelopeSpellings: Open reads Seal's own plaintext without a JSON
// decoder and anything else with json.Unmarshal; both must agree, so each
// case is checked against what encoding/json makes of the envelope.
func TestEnvelopeSpellings(t *testing.T) {
	k := testKey(t, 1)
	c := newCodec(t, &clock{now: t0}, k)
	exp := t0.Add(time.Minute).Unix()
	e := func(s string) string { return strings.ReplaceAll(s, "E", jsonInt(exp)) }
	tests := []struct {
		plain string
		want  error
		p     string // the payload read into a json.RawMessage
	}{
		{e(`{"e":E,"p":{"a":1}}`), nil, `{"a":1}`},
		{e(`{"e":E,"p":null}`), nil, `null`},
		{e(`{"p":"x","e":E}`), nil, `"x"`},
		{e(`{"e":E,"p":"x","q":1}`), nil, `"x"`},
		{e(`{"e":E,"p":1,"p":2}`), nil, `2`},
		{e(`{"e":E,"p": 1 }`), nil, `1`},
		{e(` {"e":E,"p":1}`), nil, `1`},
		{e(`{"e":E,"p":1}}`), statecodec.ErrInvalid, ""},
		{e(`{"e":E,"p":}`), statecodec.ErrInvalid, ""},
		{e(`{"e":E}`), statecodec.ErrInvalid, ""},
		{`{"e":0,"p":1}`, statecodec.ErrInvalid, ""},
		{`{"e":-5,"p":1}`, statecodec.ErrInvalid, ""},
		{`{"e":01,"p":1}`, statecodec.ErrInvalid, ""},
		{`{"e":1e30,"p":1}`, statecodec.ErrInvalid, ""},
		{`{"e":99999999999999999999,"p":1}`, statecodec.ErrInvalid, ""},
		{`{"e":999999999999999999,"p":1}`, nil, `1`}, // 18 digits: far future
		{`{"e":1,"p":1}`, statecodec.ErrExpired, ""},
		{`{"e":1.5,"p":1}`, statecodec.ErrInvalid, ""},
		{`[1]`, statecodec.ErrInvalid, ""},
	}
	for _, tc := range tests {
		tok := handSeal(t, k.Secret, header(k.ID, "s"), tc.plain, fixedIV(4))
		var got json.RawMessage
		err := c.Open("s", tok, &got)
		if err != tc.want || (err == nil && string(got) != tc.p) {
			t.Errorf("plaintext %s: Open = %v, %s; want %v, %s", tc.plain, err, got, tc.want, tc.p)
		}
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestManyPurposes: purposes beyond the header cache's bound still seal
// and open, and never open for one another.
func TestManyPurposes(t *testing.T) {
	c := newCodec(t, &clock{now: t0}, testKey(t, 1), testKey(t, 2))
	for i := range 40 {
		p := "p" + jsonInt(int64(i))
		tok, err := c.Seal(p, i, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := c.Open(p, tok, &got); err != nil || got != i {
			t.Fatalf("purpose %s: Open = %v, %d", p, err, got)
		}
		if err := c.Open("q"+p, tok, nil); err != statecodec.ErrInvalid {
			t.Fatalf("purpose q%s: Open = %v, want ErrInvalid", p, err)
		}
	}
}

// TestConcurrent shares one Codec (its AEADs, header cache and buffer pool)
// between goroutines; run with -race. Each goroutine must read back its own
// payload, so a buffer handed to two calls at once would show.
func TestConcurrent(t *testing.T) {
	c := newCodec(t, &clock{now: t0}, testKey(t, 1))
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				want := strings.Repeat(string(rune('a'+g)), 1+i*g%300)
				tok, err := c.Seal("s", want, time.Minute)
				if err != nil {
					errs <- err.Error()
					return
				}
				var got string
				if err := c.Open("s", tok, &got); err != nil || got != want {
					errs <- "goroutine read another payload or failed: " + tok
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
