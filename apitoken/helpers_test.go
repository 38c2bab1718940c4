package apitoken_test

import (
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/statecodec"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	testIssuer   = "https://auth.example.com"
	testAudience = "https://api.example.com"
)

// clock is a settable clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

var (
	keyMu    sync.Mutex
	keyCache = map[string][]byte{}
)

// signingJSON returns a generated one-key JWK Set for alg; name tells
// several keys of one alg apart. RSA keys are slow to make, so each is made
// once per test binary.
func signingJSON(t testing.TB, alg, name string) []byte {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if b, ok := keyCache[alg+"/"+name]; ok {
		return b
	}
	b, err := apitoken.GenerateSigningKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	keyCache[alg+"/"+name] = b
	return b
}

// signingKeys parses the sets of names into one set, first key first.
func signingKeys(t testing.TB, alg string, names ...string) jwk.Set {
	t.Helper()
	if len(names) == 0 {
		names = []string{"a"}
	}
	var keys []json.RawMessage
	for _, n := range names {
		var one struct{ Keys []json.RawMessage }
		if err := json.Unmarshal(signingJSON(t, alg, n), &one); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, one.Keys...)
	}
	raw, _ := json.Marshal(map[string]any{"keys": keys})
	set, err := apitoken.ParseSigningKeys(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func newSigner(t testing.TB, clk *clock, keys jwk.Set) *apitoken.Signer {
	t.Helper()
	s, err := apitoken.NewSigner(apitoken.SignerConfig{
		Keys: keys, Issuer: testIssuer, Audience: testAudience, TTL: 15 * time.Minute, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// forge signs header and claims as given, with key for alg: tokens that
// Mint would never make.
func forge(t testing.TB, header, claims map[string]any, alg jwa.SignatureAlgorithm, key any) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(h) + "." + b64(p)
	s, err := jws.NewSigner(alg)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign([]byte(input), key)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// privateKey returns the raw private key and kid of the first key of set.
func privateKey(t testing.TB, set jwk.Set) (any, string) {
	t.Helper()
	k, _ := set.Key(0)
	var raw any
	if err := k.Raw(&raw); err != nil {
		t.Fatal(err)
	}
	return raw, k.KeyID()
}

// stateKeys is a ring of n fixed state keys, as ParseKeys gives them.
func stateKeys(t testing.TB, n int) []statecodec.Key {
	t.Helper()
	var enc []string
	for i := range n {
		b := make([]byte, statecodec.KeySize)
		for j := range b {
			b[j] = byte(i + 1)
		}
		enc = append(enc, b64(b))
	}
	s := ""
	for i, e := range enc {
		if i > 0 {
			s += ","
		}
		s += e
	}
	keys, err := statecodec.ParseKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
