package oidc

import (
	"crypto"
	"errors"
	"strings"
	"testing"
	"time"
)

// tokenCase builds one ID token from a valid baseline and says how
// verification must end.
type tokenCase struct {
	name    string
	cfg     func(*Config)
	header  func(map[string]any)
	claims  func(map[string]any)
	signAlg string // default: the header's alg
	key     any    // default: rsa1; []byte for HS*
	raw     func(string) string
	nonce   string // default testNonce; "-" for none
	access  string // access token for at_hash; "" skips that check
	code    ErrorCode
	check   string // "" means the token must verify
}

func TestVerifyIDToken(t *testing.T) {
	clk := newClock()
	op := newKeyOP(t,
		pubJWK(t, "rsa1", "k1", "RS256"),
		pubJWK(t, "ec256", "e1", ""), // no alg: allowed (RFC 7517 §4.4)
		pubJWK(t, "ec384", "e384", ""),
		pubJWK(t, "ed", "ed1", "EdDSA"),
	)
	now := clk.Now().Unix()
	const access = "access-token-value"
	goodAtHash := halfHash(crypto.SHA256, access)

	cases := []tokenCase{
		{name: "valid"},
		{name: "valid ES256 key without alg", header: hdr("ES256", "e1"), key: testKey("ec256")},
		{name: "valid EdDSA", header: hdr("EdDSA", "ed1"), key: testKey("ed")},
		{name: "valid at_hash", claims: set("at_hash", goodAtHash), access: access},
		{name: "valid aud list with azp and trusted audience", cfg: trusted("other"), claims: edits(set("aud", []any{testClientID, "other"}), set("azp", testClientID))},
		{name: "untrusted extra audience", claims: edits(set("aud", []any{testClientID, "other"}), set("azp", testClientID)), code: CodeInvalidIDToken, check: "aud"},
		{name: "typ logout+jwt", header: set("typ", "logout+jwt"), code: CodeInvalidIDToken, check: "typ"},
		{name: "typ JWT", header: set("typ", "JWT")},
		{name: "events claim", claims: set("events", map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}), code: CodeInvalidIDToken, check: "events"},
		{name: "valid nbf past", claims: set("nbf", now-10)},
		{name: "valid exp within leeway", claims: set("exp", now-30)},
		{name: "valid iat slightly ahead", claims: set("iat", now+30)},
		{name: "valid fractional dates", claims: edits(set("iat", float64(now)+0.5), set("exp", float64(now)+60.25))},
		{name: "valid no nonce expected", nonce: "-", claims: del("nonce")},
		{name: "valid HS256 when listed", cfg: algs("RS256", "HS256"), header: hdr("HS256", ""), key: []byte(testSecret)},

		{name: "bad signature", raw: flipSignature, code: CodeInvalidIDToken, check: "signature"},
		{name: "signed by another key with the same kid", key: testKey("rsa2"), code: CodeInvalidIDToken, check: "signature"},
		{name: "payload swapped", raw: swapPayload, code: CodeInvalidIDToken, check: "signature"},
		{name: "wrong iss", claims: set("iss", "https://evil.example"), code: CodeInvalidIDToken, check: "iss"},
		{name: "iss with trailing slash", claims: func(c map[string]any) { c["iss"] = c["iss"].(string) + "/" }, code: CodeInvalidIDToken, check: "iss"},
		{name: "iss missing", claims: del("iss"), code: CodeInvalidIDToken, check: "iss"},
		{name: "aud missing client", claims: set("aud", "someone-else"), code: CodeInvalidIDToken, check: "aud"},
		{name: "aud list missing client", claims: set("aud", []any{"a", "b"}), code: CodeInvalidIDToken, check: "aud"},
		{name: "aud empty list", claims: set("aud", []any{}), code: CodeInvalidIDToken, check: "aud"},
		{name: "aud not strings", claims: set("aud", []any{testClientID, 7}), code: CodeInvalidIDToken, check: "aud"},
		{name: "aud missing", claims: del("aud"), code: CodeInvalidIDToken, check: "aud"},
		{name: "extra aud without azp", claims: set("aud", []any{testClientID, "other"}), code: CodeInvalidIDToken, check: "azp"},
		{name: "wrong azp", claims: edits(set("aud", []any{testClientID, "other"}), set("azp", "other")), code: CodeInvalidIDToken, check: "azp"},
		{name: "wrong azp single aud", claims: set("azp", "other"), code: CodeInvalidIDToken, check: "azp"},
		{name: "expired", claims: set("exp", now-61), code: CodeInvalidIDToken, check: "exp"},
		{name: "missing exp", claims: del("exp"), code: CodeInvalidIDToken, check: "exp"},
		{name: "exp not a number", claims: set("exp", "tomorrow"), code: CodeInvalidIDToken, check: "exp"},
		{name: "iat in future", claims: set("iat", now+120), code: CodeInvalidIDToken, check: "iat"},
		{name: "iat too old", claims: set("iat", now-int64(maxIDTokenAge/time.Second)-120), code: CodeInvalidIDToken, check: "iat"},
		{name: "missing iat", claims: del("iat"), code: CodeInvalidIDToken, check: "iat"},
		{name: "nbf in future", claims: set("nbf", now+120), code: CodeInvalidIDToken, check: "nbf"},
		{name: "nonce mismatch", claims: set("nonce", "other-nonce"), code: CodeNonceMismatch, check: "nonce"},
		{name: "nonce missing", claims: del("nonce"), code: CodeNonceMismatch, check: "nonce"},
		{name: "empty sub", claims: set("sub", ""), code: CodeInvalidIDToken, check: "sub"},
		{name: "sub not a string", claims: set("sub", 42), code: CodeInvalidIDToken, check: "sub"},
		{name: "wrong at_hash", claims: set("at_hash", halfHash(crypto.SHA256, "other")), access: access, code: CodeInvalidIDToken, check: "at_hash"},
		{name: "at_hash with the wrong hash size", claims: set("at_hash", halfHash(crypto.SHA512, access)), access: access, code: CodeInvalidIDToken, check: "at_hash"},

		{name: "alg none", raw: algNone, code: CodeInvalidIDToken, check: "alg"},
		{name: "alg None spelled otherwise", header: hdr("None", "k1"), raw: dropSignature, code: CodeInvalidIDToken, check: "alg"},
		{name: "HS256 not allowed", header: hdr("HS256", "k1"), key: []byte(testSecret), code: CodeInvalidIDToken, check: "alg"},
		{name: "HS256 allowed but wrong secret", cfg: algs("RS256", "HS256"), header: hdr("HS256", ""), key: []byte(strings.Repeat("x", 32)), code: CodeInvalidIDToken, check: "signature"},
		{name: "header alg not allowed", header: hdr("RS512", "k1"), signAlg: "RS256", code: CodeInvalidIDToken, check: "alg"},
		{name: "header alg allowed but key says RS256", cfg: algs("RS256", "RS512"), header: hdr("RS512", "k1"), signAlg: "RS256", code: CodeInvalidIDToken, check: "kid"},
		{name: "header PS256 over RS256 key without alg", cfg: algs("RS256", "PS256"), header: hdr("PS256", "e1"), signAlg: "RS256", code: CodeInvalidIDToken, check: "kid"},
		{name: "ES256 with a P-384 key", header: hdr("ES256", "e384"), key: testKey("ec384"), code: CodeInvalidIDToken, check: "kid"},
		{name: "crit", header: func(h map[string]any) { h["crit"] = []any{"exp"}; h["exp"] = 1 }, code: CodeInvalidIDToken, check: "crit"},
		{name: "empty crit", header: func(h map[string]any) { h["crit"] = []any{} }, code: CodeInvalidIDToken, check: "crit"},
		{name: "b64 false", header: func(h map[string]any) { h["b64"] = false }, code: CodeInvalidIDToken, check: "crit"},
		{name: "typ at+jwt", header: set("typ", "at+jwt"), code: CodeInvalidIDToken, check: "typ"},
		{name: "typ application/AT+JWT", header: set("typ", "application/AT+JWT"), code: CodeInvalidIDToken, check: "typ"},
		{name: "unknown kid", header: hdr("RS256", "nope"), code: CodeInvalidIDToken, check: "kid"},
		{name: "JSON serialization", raw: toJSONSerialization, code: CodeInvalidIDToken, check: "format"},
		{name: "two segments", raw: func(s string) string { return s[:strings.LastIndexByte(s, '.')] }, code: CodeInvalidIDToken, check: "format"},
		{name: "four segments", raw: func(s string) string { return s + ".x" }, code: CodeInvalidIDToken, check: "format"},
		{name: "padding", raw: func(s string) string { return s + "=" }, code: CodeInvalidIDToken, check: "format"},
		{name: "std alphabet", raw: func(s string) string { return strings.Replace(s, ".", "+.", 1) }, code: CodeInvalidIDToken, check: "format"},
		{name: "empty", raw: func(string) string { return "" }, code: CodeInvalidIDToken, check: "format"},
		{name: "header not JSON", raw: func(s string) string { return b64([]byte("nope")) + s[strings.IndexByte(s, '.'):] }, code: CodeInvalidIDToken, check: "header"},
		{name: "payload not an object", raw: func(s string) string { return resign(t, s, "[1,2]") }, code: CodeInvalidIDToken, check: "payload"},
		{name: "huge", raw: func(s string) string { return s + strings.Repeat("A", maxIDTokenBytes) }, code: CodeInvalidIDToken, check: "format"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := op.provider(t, clk, tc.cfg)
			raw := tc.build(t, op, clk)
			nonce := testNonce
			if tc.nonce == "-" {
				nonce = ""
			}
			claims, err := p.verifyIDToken(t.Context(), raw, verifyParams{nonce: nonce, skipNonce: nonce == "", accessToken: tc.access})
			if tc.check == "" {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				if claims["sub"] != "user-1" {
					t.Fatalf("claims = %v", claims)
				}
				return
			}
			if err == nil {
				t.Fatalf("verified; want %s/%s", tc.code, tc.check)
			}
			e := wantError(t, err, tc.code, tc.check)
			if strings.Contains(e.Detail, raw) && raw != "" {
				t.Fatalf("detail echoes the token: %q", e.Detail)
			}
		})
	}
}

func (tc tokenCase) build(t *testing.T, op *keyOP, clk *clock) string {
	h := map[string]any{"alg": "RS256", "kid": "k1", "typ": "JWT"}
	if tc.header != nil {
		tc.header(h)
	}
	c := op.claims(clk)
	if tc.claims != nil {
		tc.claims(c)
	}
	alg := tc.signAlg
	if alg == "" {
		alg, _ = h["alg"].(string)
	}
	key := tc.key
	if key == nil {
		key = testKey("rsa1")
	}
	var raw string
	if strings.EqualFold(alg, "none") {
		raw = b64JSON(t, h) + "." + b64JSON(t, c) + "."
	} else {
		raw = signToken(t, h, c, alg, key)
	}
	if tc.raw != nil {
		raw = tc.raw(raw)
	}
	return raw
}

func hdr(alg, kid string) func(map[string]any) {
	return func(h map[string]any) {
		h["alg"] = alg
		if kid == "" {
			delete(h, "kid")
		} else {
			h["kid"] = kid
		}
	}
}

func set(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
func del(k string) func(map[string]any)        { return func(m map[string]any) { delete(m, k) } }
func algs(a ...string) func(*Config)           { return func(c *Config) { c.SigningAlgs = a } }
func trusted(a ...string) func(*Config)        { return func(c *Config) { c.TrustedAudiences = a } }

func edits(fs ...func(map[string]any)) func(map[string]any) {
	return func(m map[string]any) {
		for _, f := range fs {
			f(m)
		}
	}
}

func segments(s string) []string { return strings.SplitN(s, ".", 3) }

func flipSignature(s string) string {
	seg := segments(s)
	sig := []byte(seg[2])
	if sig[10] == 'A' {
		sig[10] = 'B'
	} else {
		sig[10] = 'A'
	}
	return seg[0] + "." + seg[1] + "." + string(sig)
}

func swapPayload(s string) string {
	seg := segments(s)
	return seg[0] + "." + b64([]byte(`{"iss":"x"}`)) + "." + seg[2]
}

func dropSignature(s string) string {
	seg := segments(s)
	return seg[0] + "." + seg[1] + "."
}

// algNone rewrites a valid token as an unsecured JWS (RFC 7519 §6).
func algNone(s string) string {
	seg := segments(s)
	return b64([]byte(`{"alg":"none"}`)) + "." + seg[1] + "."
}

func toJSONSerialization(s string) string {
	seg := segments(s)
	return `{"payload":"` + seg[1] + `","protected":"` + seg[0] + `","signature":"` + seg[2] + `"}`
}

// resign replaces the payload and signs the result again with rsa1.
func resign(t *testing.T, s, payload string) string {
	input := segments(s)[0] + "." + b64([]byte(payload))
	return input + "." + b64(signInput(t, input, "RS256", testKey("rsa1")))
}

func TestVerifyIDTokenPublicAPI(t *testing.T) {
	clk := newClock()
	op := newKeyOP(t, pubJWK(t, "rsa1", "k1", "RS256"))
	p := op.provider(t, clk, nil)
	raw := signToken(t, map[string]any{"alg": "RS256", "kid": "k1"}, op.claims(clk), "RS256", testKey("rsa1"))
	claims, err := p.VerifyIDToken(t.Context(), raw, VerifyOptions{Nonce: testNonce})
	if err != nil {
		t.Fatal(err)
	}
	if claims["email"] != "ada@example.com" {
		t.Fatalf("claims = %v", claims)
	}
	if _, err := p.VerifyIDToken(t.Context(), raw, VerifyOptions{Nonce: "wrong"}); err == nil {
		t.Fatal("nonce mismatch accepted")
	}
}

// TestVerifyIDTokenNonceContract: an empty nonce is a programming error
// unless skipping is asked for by name.
func TestVerifyIDTokenNonceContract(t *testing.T) {
	clk := newClock()
	op := newKeyOP(t, pubJWK(t, "rsa1", "k1", "RS256"))
	p := op.provider(t, clk, nil)
	raw := signToken(t, map[string]any{"alg": "RS256", "kid": "k1"}, op.claims(clk), "RS256", testKey("rsa1"))
	if _, err := p.VerifyIDToken(t.Context(), raw, VerifyOptions{}); err == nil || errors.As(err, new(*Error)) {
		t.Fatalf("empty nonce: %v, want a plain error", err)
	}
	if _, err := p.VerifyIDToken(t.Context(), raw, VerifyOptions{SkipNonce: true}); err != nil {
		t.Fatalf("SkipNonce: %v", err)
	}
	_, err := p.VerifyIDToken(t.Context(), raw, VerifyOptions{Nonce: "other"})
	wantError(t, err, CodeNonceMismatch, "nonce")
}
