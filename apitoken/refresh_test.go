package apitoken_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/statecodec"
)

func newRefreshCodec(t testing.TB, clk *clock, keys []statecodec.Key) *apitoken.RefreshCodec {
	t.Helper()
	c, err := apitoken.NewRefreshCodec(keys, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRefreshRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   apitoken.Session
	}{
		{"everything", apitoken.Session{
			Subject: "user-1", Provider: "acme", ProviderSubject: "1234",
			Claims:       map[string]any{"roles": []any{"admin"}, "org": "<Acme & Co>"},
			SessionStart: t0.Add(-time.Hour), AuthTime: t0.Add(-2 * time.Hour),
			ProviderRefresh: strings.Repeat("r", 2000), Confirmation: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
		}},
		{"least", apitoken.Session{Subject: "acme|1234", Provider: "acme", SessionStart: t0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{now: t0}
			c := newRefreshCodec(t, clk, stateKeys(t, 2))
			tok, err := c.Seal(tc.in, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Open(tok)
			if err != nil {
				t.Fatal(err)
			}
			if !got.SessionStart.Equal(tc.in.SessionStart) || !got.AuthTime.Equal(tc.in.AuthTime) || got.AuthTime.IsZero() != tc.in.AuthTime.IsZero() {
				t.Errorf("times: start %v auth %v, want %v %v", got.SessionStart, got.AuthTime, tc.in.SessionStart, tc.in.AuthTime)
			}
			got.SessionStart, got.AuthTime = tc.in.SessionStart, tc.in.AuthTime
			if !reflect.DeepEqual(got, tc.in) {
				t.Errorf("Open = %+v, want %+v", got, tc.in)
			}
			if strings.Contains(tok, tc.in.Subject) || (tc.in.ProviderRefresh != "" && strings.Contains(tok, tc.in.ProviderRefresh[:20])) {
				t.Error("the token shows its contents")
			}
		})
	}
}

func TestRefreshOpenRefuses(t *testing.T) {
	clk := &clock{now: t0}
	keys := stateKeys(t, 2)
	c := newRefreshCodec(t, clk, keys)
	sess := apitoken.Session{Subject: "u", Provider: "acme", SessionStart: t0}
	good, err := c.Seal(sess, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The same raw state keys, used directly, as the flow state is.
	raw, err := statecodec.New(keys, statecodec.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	seal := func(purpose string, payload any) string {
		tok, err := raw.Seal(purpose, payload, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	// Same kid and typ as a refresh token, another key: what a refresh token
	// of this format looked like before keys were derived.
	rawRefresh := seal("r", map[string]any{"u": "u", "p": "acme", "t": t0.Unix()})
	// Other ring.
	otherTok, err := newRefreshCodec(t, clk, stateKeys(t, 3)[2:]).Seal(sess, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tampered := []byte(good)
	i := len(tampered) - 30 // in the ciphertext
	tampered[i] = map[bool]byte{true: 'B', false: 'A'}[tampered[i] == 'A']
	access, _, err := newSigner(t, clk, signingKeys(t, "ES256")).Mint(apitoken.Claims{Subject: "u", Provider: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		token string
	}{
		{"tampered", string(tampered)},
		{"a state, purpose s, same raw keys", seal("s", map[string]any{"n": "x"})},
		{"purpose r under the raw keys", rawRefresh},
		{"another ring", otherTok},
		{"an access token", access},
		{"garbage", "garbage"},
		{"empty", ""},
		{"oversize", strings.Repeat("A", 20000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Open(tc.token)
			if !errors.Is(err, apitoken.ErrInvalid) || errors.Is(err, apitoken.ErrExpired) {
				t.Fatalf("Open = %v, want only ErrInvalid", err)
			}
			if len(tc.token) > 16 && strings.Contains(err.Error(), tc.token[:16]) {
				t.Errorf("error %q echoes the token", err)
			}
		})
	}

	// The other way round: a refresh token never opens as a state.
	for _, purpose := range []string{"s", "r", "refresh"} {
		if err := raw.Open(purpose, good, nil); !errors.Is(err, statecodec.ErrInvalid) {
			t.Errorf("refresh token opened as %q under the raw keys: %v", purpose, err)
		}
	}

	t.Run("expired", func(t *testing.T) {
		clk.now = t0.Add(time.Hour)
		defer func() { clk.now = t0 }()
		_, err := c.Open(good)
		if !errors.Is(err, apitoken.ErrExpired) || errors.Is(err, apitoken.ErrInvalid) {
			t.Fatalf("Open = %v, want only ErrExpired", err)
		}
	})
}

func TestRefreshRotation(t *testing.T) {
	clk := &clock{now: t0}
	keys := stateKeys(t, 3)
	before := newRefreshCodec(t, clk, keys[1:2])
	after := newRefreshCodec(t, clk, []statecodec.Key{keys[0], keys[1], keys[2]})
	sess := apitoken.Session{Subject: "u", Provider: "acme", SessionStart: t0}
	old, err := before.Seal(sess, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := after.Open(old); err != nil {
		t.Errorf("token of the former first key after rotation: %v", err)
	}
	fresh, err := after.Seal(sess, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := before.Open(fresh); !errors.Is(err, apitoken.ErrInvalid) {
		t.Errorf("new first key's token opens without it: %v", err)
	}
	if _, err := newRefreshCodec(t, clk, keys[:1]).Open(fresh); err != nil {
		t.Errorf("rotated codec did not seal with its first key: %v", err)
	}
}

func TestRefreshRefuses(t *testing.T) {
	clk := &clock{now: t0}
	if _, err := apitoken.NewRefreshCodec(nil, nil); err == nil {
		t.Error("NewRefreshCodec(nil) succeeded")
	}
	if _, err := apitoken.NewRefreshCodec([]statecodec.Key{{ID: "x", Secret: []byte("short")}}, nil); err == nil {
		t.Error("NewRefreshCodec accepted a short key")
	}
	c := newRefreshCodec(t, clk, stateKeys(t, 1))
	tests := []struct {
		name string
		s    apitoken.Session
		ttl  time.Duration
		want string
	}{
		{"no subject", apitoken.Session{Provider: "p", SessionStart: t0}, time.Hour, "required"},
		{"no provider", apitoken.Session{Subject: "u", SessionStart: t0}, time.Hour, "required"},
		{"no session start", apitoken.Session{Subject: "u", Provider: "p"}, time.Hour, "required"},
		{"no ttl", apitoken.Session{Subject: "u", Provider: "p", SessionStart: t0}, 0, "ttl"},
		{"too big", apitoken.Session{Subject: "u", Provider: "p", SessionStart: t0, ProviderRefresh: strings.Repeat("x", 9000)}, time.Hour, "exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Seal(tc.s, tc.ttl)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Seal = %v, want error containing %q", err, tc.want)
			}
		})
	}
}
