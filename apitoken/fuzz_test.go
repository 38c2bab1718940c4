package apitoken_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/apitoken"
)

// FuzzVerify: whatever the input, Verify returns a result or an error that
// wraps exactly one of ErrInvalid and ErrExpired, and never panics.
func FuzzVerify(f *testing.F) {
	clk := &clock{now: t0}
	s := newSigner(f, clk, signingKeys(f, "ES256"))
	good, _, err := s.Mint(apitoken.Claims{Subject: "u", Provider: "acme", Confirmation: "jkt", Extra: map[string]any{"r": []any{1.0}}})
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for _, seed := range []string{good, "", ".", "..", "a.b.c", parts[0] + "." + parts[1] + ".", parts[0] + ".e30." + parts[2],
		b64([]byte(`{"alg":"ES256","kid":"x","typ":"at+jwt","typ":1}`)) + ".e30.AA"} {
		f.Add(seed)
	}
	v := s.Verifier()
	f.Fuzz(func(t *testing.T, token string) {
		got, err := v.Verify(token)
		if err == nil {
			if got == nil || got.Subject == "" {
				t.Fatalf("accepted without a subject: %+v", got)
			}
			return
		}
		if errors.Is(err, apitoken.ErrInvalid) == errors.Is(err, apitoken.ErrExpired) {
			t.Fatalf("error wraps neither or both: %v", err)
		}
	})
}

// FuzzRefreshOpen: Open never panics and refuses with exactly one error.
func FuzzRefreshOpen(f *testing.F) {
	clk := &clock{now: t0}
	c := newRefreshCodec(f, clk, stateKeys(f, 2))
	good, err := c.Seal(apitoken.Session{Subject: "u", Provider: "acme", SessionStart: t0, Claims: map[string]any{"a": "b"}}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{good, "", "....", good[:len(good)-1], strings.Replace(good, ".", "..", 1)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		s, err := c.Open(token)
		if err == nil {
			if s.Subject == "" || s.Provider == "" || s.SessionStart.IsZero() {
				t.Fatalf("opened an incomplete session: %+v", s)
			}
			return
		}
		if errors.Is(err, apitoken.ErrInvalid) == errors.Is(err, apitoken.ErrExpired) {
			t.Fatalf("error wraps neither or both: %v", err)
		}
	})
}
