package oidc

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzParseCompact: the segment and header parsing of untrusted ID tokens
// never panics, and whatever it accepts is three base64url segments whose
// first two are exactly what gets verified.
func FuzzParseCompact(f *testing.F) {
	claims := map[string]any{"iss": "https://op", "sub": "s", "aud": "c", "exp": 2, "iat": 1}
	f.Add(signToken(f, map[string]any{"alg": "RS256", "kid": "k1"}, claims, "RS256", testKey("rsa1")))
	f.Add(signToken(f, map[string]any{"alg": "ES256", "crit": []string{"x"}}, claims, "ES256", testKey("ec256")))
	f.Add(b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(`{}`)) + ".")
	f.Add(`{"payload":"e30","signatures":[]}`)
	f.Add("a.b.c.d")
	f.Add("..")
	f.Add(b64([]byte(`{"alg":"RS256","b64":false}`)) + ".e30.AA")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := parseCompact(raw)
		if err != nil {
			e, ok := errors.AsType[*Error](err)
			if tok != nil || !ok || e.Code != CodeInvalidIDToken || e.Check == "" || e.Fault != FaultClient {
				t.Fatalf("bad failure: %v %+v", tok, err)
			}
			if len(raw) > 20 && strings.Contains(e.Detail, raw) {
				t.Fatalf("detail echoes input")
			}
			return
		}
		if strings.Count(raw, ".") != 2 || !strings.HasPrefix(raw, tok.signingInput+".") {
			t.Fatalf("accepted %q with signing input %q", raw, tok.signingInput)
		}
	})
}

// FuzzParseKeys: a hostile JWKS never panics the key parser, and every key
// kept is usable.
func FuzzParseKeys(f *testing.F) {
	good, _ := json.Marshal(map[string]any{"keys": []any{pubJWK(f, "rsa1", "k1", "RS256"), pubJWK(f, "ec256", "e1", ""), pubJWK(f, "ed", "d1", "")}})
	f.Add(good)
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"oct","k":"AA"}]}`))
	f.Add([]byte(`{"keys":[1,"x",null,{}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var doc struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if json.Unmarshal(body, &doc) != nil {
			return
		}
		set, _ := parseKeys(doc.Keys)
		for _, k := range set.keys {
			fits := false
			for _, alg := range knownAlgs() {
				if keyFits(k, alg) {
					fits = true
				}
			}
			if !fits {
				t.Fatalf("kept a key no alg can use: %T", k.key)
			}
		}
	})
}

// FuzzCheckClaims: any JSON payload yields either nil or an *Error with a
// check name, never a panic.
func FuzzCheckClaims(f *testing.F) {
	clk := newClock()
	p, err := New(Config{Name: "op", Issuer: "https://op", ClientID: "c", Now: clk.Now})
	if err != nil {
		f.Fatal(err)
	}
	now := clk.Now().Unix()
	valid, _ := json.Marshal(map[string]any{"iss": "https://op", "sub": "s", "aud": []string{"c", "d"}, "azp": "c", "exp": now + 60, "iat": now, "nonce": "n", "nbf": now})
	f.Add(valid, "n")
	f.Add([]byte(`{"exp":1e309,"iat":-1e308,"aud":[null],"iss":"https://op"}`), "")
	f.Add([]byte(`{"iss":"https://op","aud":"c","exp":"x"}`), "n")
	f.Fuzz(func(t *testing.T, payload []byte, nonce string) {
		var c map[string]any
		if json.Unmarshal(payload, &c) != nil || c == nil {
			return
		}
		if err := p.checkClaims(c, verifyParams{nonce: nonce, convert: len(nonce)%2 == 1}); err != nil {
			if e, ok := errors.AsType[*Error](err); !ok || e.Check == "" {
				t.Fatalf("error without check: %+v", err)
			}
		}
		_ = checkAccessTokenHash(c, "RS256", "at")
		_, _ = subjectString(c["sub"])
	})
}

func FuzzRawSubject(f *testing.F) {
	for _, s := range []string{`"abc"`, `123`, `-5`, `1.5`, `1e3`, `true`, `null`, `{"a":1}`, `"\u0000"`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s := rawSubject(raw)
		if s != "" && raw[0] != '"' && strings.Trim(strings.TrimPrefix(s, "-"), "0123456789") != "" {
			t.Fatalf("%q rendered as %q", raw, s)
		}
	})
}

// FuzzDetectToken: telling an ID token from an access token never panics,
// takes only a three-segment JWS naming our issuer for an ID token, and
// Convert refuses whatever it cannot verify with an *Error, offline.
func FuzzDetectToken(f *testing.F) {
	p, err := New(Config{Name: "op", Issuer: "https://op", ClientID: "c", HTTPClient: inProcess{}.client()})
	if err != nil {
		f.Fatal(err)
	}
	claims := map[string]any{"iss": "https://op", "sub": "s", "aud": "c", "exp": 2, "iat": 1}
	f.Add(signToken(f, map[string]any{"alg": "RS256", "kid": "k1"}, claims, "RS256", testKey("rsa1")))
	f.Add(signToken(f, map[string]any{"alg": "RS256", "typ": "at+jwt"}, claims, "RS256", testKey("rsa1")))
	f.Add(b64([]byte(`{"typ":"JWT"}`)) + "." + b64([]byte(`{"iss":["https://op"]}`)) + ".")
	f.Add("ya29.a0AfH6SMB")
	f.Add("gho_16C7e42F292c6912E7710c838347Ae178B4a")
	f.Add("..")
	f.Fuzz(func(t *testing.T, raw string) {
		kind := p.detect(raw)
		switch kind {
		case TokenTypeAccessToken:
		case TokenTypeIDToken:
			if strings.Count(raw, ".") != 2 {
				t.Fatalf("%q taken for an ID token", raw)
			}
		default:
			t.Fatalf("kind %q", kind)
		}
	})
}
