package statecodec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"

	"github.com/edgeauth/edgeauth/statecodec"
)

// FuzzOpen feeds Open arbitrary tokens and purposes. Open must not panic,
// must return nil, ErrInvalid or ErrExpired, and may return nil only for a
// token that was sealed, character for character, for that purpose.
//
// The valid seeds are sealed by handSeal with fixed IVs rather than by Seal
// (random IVs): the fuzzing engine runs this function in several processes
// and passes inputs between them, so the set of sealed tokens must be the
// same in each.
func FuzzOpen(f *testing.F) {
	k := testKey(f, 1)
	c := newCodec(f, &clock{now: t0}, k, testKey(f, 2))

	type sealed struct{ token, purpose string }
	valid := map[sealed]bool{}
	for i, s := range []struct{ purpose, payload string }{
		{"s", `{"s":"seed","p":"google","b":"x"}`},
		{"r", `{"sub":"u1","p":"github","t":"refresh-token","c":{"role":"admin"}}`},
		{"s", `null`},
		{"s", `"` + strings.Repeat("x", 200) + `"`},
	} {
		tok := handSeal(f, k.Secret, header(k.ID, s.purpose), envelope(t0.Add(time.Hour), s.payload), fixedIV(byte(i)))
		valid[sealed{tok, s.purpose}] = true
		f.Add(tok, s.purpose)
		f.Add(tok, "x")
		seg := strings.Split(tok, ".")
		f.Add(strings.Join(seg[:4], "."), s.purpose)
		f.Add(tok+".", s.purpose)
		f.Add(seg[0]+".AAAA."+strings.Join(seg[2:], "."), s.purpose)
		f.Add(tok[:len(tok)-1]+"B", s.purpose)
		f.Add(" "+tok, s.purpose)
	}
	// Authentic but expired: must give ErrExpired, never nil.
	f.Add(handSeal(f, k.Secret, header(k.ID, "s"), envelope(t0.Add(-time.Second), `{}`), fixedIV(9)), "s")
	// Headers the codec refuses, on otherwise valid tokens.
	for i, h := range []string{
		`{"alg":"dir","enc":"A256GCM","kid":"` + k.ID + `","typ":"s","zip":"DEF"}`,
		`{"alg":"dir","enc":"A256GCM","kid":"` + k.ID + `","typ":"s","crit":["x"],"x":1}`,
		`{"alg":"dir","enc":"A256GCM","kid":"` + k.ID + `","typ":"r","typ":"s"}`,
		`{"alg":"dir","enc":"A128CBC-HS256","kid":"` + k.ID + `","typ":"s"}`,
	} {
		f.Add(handSeal(f, k.Secret, h, envelope(t0.Add(time.Hour), `{}`), fixedIV(byte(20+i))), "s")
	}
	for _, opts := range [][]jwe.EncryptOption{
		{jwe.WithContentEncryption(jwa.A128CBC_HS256)},
		{jwe.WithCompress(jwa.Deflate)},
		{jwe.WithJSON()},
	} {
		tok, err := jwe.Encrypt([]byte(envelope(t0.Add(time.Hour), `{}`)), append(opts, jwe.WithKey(jwa.DIRECT, k.Secret))...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(tok), "s")
	}
	f.Add("", "s")
	f.Add("....", "s")
	f.Add(strings.Repeat("A", statecodec.MaxTokenLen+1), "s")

	f.Fuzz(func(t *testing.T, token, purpose string) {
		var v any
		err := c.Open(purpose, token, &v)
		switch err {
		case nil:
			if !valid[sealed{token, purpose}] {
				t.Fatalf("Open accepted a token that was never sealed for %q: %q", purpose, token)
			}
		case statecodec.ErrInvalid, statecodec.ErrMalformed, statecodec.ErrUnknownKey, statecodec.ErrExpired:
		default:
			t.Fatalf("Open returned %v, want nil, ErrInvalid (or a finer reason) or ErrExpired", err)
		}
	})
}
