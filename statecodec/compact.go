package statecodec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"sync/atomic"
)

// The only algorithms a token may name (RFC 7518 §4.5, §5.3).
const (
	algDir     = "dir"
	encA256GCM = "A256GCM"
)

// Lengths of the IV and tag of an A256GCM token: 96 and 128 bits (RFC 7518
// §5.3), and of their compact segments in unpadded base64url.
const (
	ivLen     = 12
	tagLen    = 16
	ivB64Len  = 16
	tagB64Len = 22
	// maxHeaderB64Len bounds the protected header segment: ours is 72
	// characters with a derived kid and a one-letter purpose, 148 at most.
	maxHeaderB64Len = 256
)

// precheck does, before any decryption, the checks that a general JWE
// library does not (PITFALLS.md: jwx's jwe.Decrypt accepts JSON
// serialization, several recipients, any enc, zip and crit) and returns the
// key the header names. It fails with ErrMalformed for a token of another
// shape, ErrInvalid for one sealed for another purpose, and ErrUnknownKey
// for a kid outside the ring.
//
// Requiring canonical base64url everywhere also makes tokens non-malleable:
// each accepted string is the only spelling of its bytes, so the token that
// opens is the token that was sealed, character for character.
func (c *Codec) precheck(purpose, token string) (*ringKey, error) {
	// Only the base64url alphabet and dots: this refuses JSON serialization,
	// padding, and the CR/LF and blanks that base64 decoders and jwx's
	// TrimSpace would skip.
	for i := 0; i < len(token); i++ {
		if b := token[i]; b != '.' && b64val(b) < 0 {
			return nil, ErrMalformed
		}
	}
	// RFC 7516 §7.1: header.encrypted_key.iv.ciphertext.tag, five exactly.
	var seg [5]string
	rest := token
	for i := range 4 {
		var ok bool
		if seg[i], rest, ok = strings.Cut(rest, "."); !ok {
			return nil, ErrMalformed
		}
	}
	if strings.IndexByte(rest, '.') >= 0 {
		return nil, ErrMalformed
	}
	seg[4] = rest
	hdr, encKey, iv, ct, tag := seg[0], seg[1], seg[2], seg[3], seg[4]

	// RFC 7516 §5.1 step 6: with "dir" the encrypted key is empty.
	if encKey != "" || len(iv) != ivB64Len || len(tag) != tagB64Len || ct == "" {
		return nil, ErrMalformed
	}
	if !canonical(hdr) || !canonical(iv) || !canonical(ct) || !canonical(tag) {
		return nil, ErrMalformed
	}
	// The header Seal writes for this purpose under a key of the ring
	// passes every check below, so meeting one byte for byte settles it
	// without parsing JSON. Any other spelling (another member order, as
	// other JOSE libraries may write) takes the strict parse.
	for i, h := range c.headers.get(c.ring, purpose) {
		if string(h.b64) == hdr {
			return &c.ring[i], nil
		}
	}
	h, ok := parseHeader(hdr)
	if !ok || h.alg != algDir || h.enc != encA256GCM {
		return nil, ErrMalformed
	}
	if h.typ != purpose {
		return nil, ErrInvalid
	}
	for i := range c.ring {
		if c.ring[i].id == h.kid {
			return &c.ring[i], nil
		}
	}
	return nil, ErrUnknownKey
}

// header holds the only four protected header parameters a token may carry.
type header struct{ alg, enc, kid, typ string }

// parseHeader decodes a protected header segment strictly: one JSON object
// whose members are exactly alg, enc, kid and typ (RFC 7516 §4.1.1, 4.1.2,
// 4.1.6, 4.1.11), each a string and each once. Anything else — zip
// (§4.1.3), crit (§4.1.13), jku, cty, a duplicate member that another
// parser might read differently — makes it fail.
func parseHeader(seg string) (header, bool) {
	var h header
	if seg == "" || len(seg) > maxHeaderB64Len {
		return h, false
	}
	var buf [maxHeaderB64Len * 3 / 4]byte
	n, err := base64.RawURLEncoding.Decode(buf[:], []byte(seg))
	if err != nil {
		return h, false
	}
	dec := json.NewDecoder(bytes.NewReader(buf[:n]))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return h, false
	}
	var seen uint8
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return h, false
		}
		name, _ := t.(string)
		t, err = dec.Token()
		if err != nil {
			return h, false
		}
		val, ok := t.(string)
		if !ok {
			return h, false
		}
		var bit uint8
		var dst *string
		switch name {
		case "alg":
			bit, dst = 1, &h.alg
		case "enc":
			bit, dst = 2, &h.enc
		case "kid":
			bit, dst = 4, &h.kid
		case "typ":
			bit, dst = 8, &h.typ
		default:
			return h, false
		}
		if seen&bit != 0 {
			return h, false
		}
		seen |= bit
		*dst = val
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return h, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return h, false // trailing data after the object
	}
	return h, seen == 1|2|4|8
}

// canonical reports whether s, made of base64url characters only, is the
// unpadded base64url encoding (RFC 7515 §2) of some bytes with the unused
// low bits of its last character zero (RFC 4648 §3.5), that is the one
// spelling of those bytes.
func canonical(s string) bool {
	switch len(s) % 4 {
	case 1:
		return false
	case 2:
		return b64val(s[len(s)-1])&0x0f == 0
	case 3:
		return b64val(s[len(s)-1])&0x03 == 0
	}
	return true
}

// b64val returns the value of a base64url character (RFC 4648 §5), or -1.
func b64val(b byte) int {
	switch {
	case 'A' <= b && b <= 'Z':
		return int(b - 'A')
	case 'a' <= b && b <= 'z':
		return int(b-'a') + 26
	case '0' <= b && b <= '9':
		return int(b-'0') + 52
	case b == '-':
		return 62
	case b == '_':
		return 63
	}
	return -1
}

// maxCachedPurposes bounds headerCache. Callers use a handful of constant
// purposes; a caller passing many distinct ones still works, building the
// headers at each call.
const maxCachedPurposes = 16

// headerCache holds, per purpose, the encoded protected header Seal writes
// under each key of the ring, in ring order: the headers never change, so
// they are built once rather than at each Seal and Open.
type headerCache struct {
	m sync.Map // purpose → []encodedHeader
	n atomic.Int32
}

type encodedHeader struct {
	b64 []byte // BASE64URL(UTF8(header)), also the AAD; never written to
}

// get returns the headers for purpose, which must be a validName (so it
// needs no JSON escaping).
func (hc *headerCache) get(ring []ringKey, purpose string) []encodedHeader {
	if v, ok := hc.m.Load(purpose); ok {
		return v.([]encodedHeader)
	}
	hs := make([]encodedHeader, len(ring))
	for i := range ring {
		// Members in the order jwx writes them, so tokens stay as they were.
		h := `{"alg":"` + algDir + `","enc":"` + encA256GCM + `","kid":"` + ring[i].id + `","typ":"` + purpose + `"}`
		hs[i].b64 = base64.RawURLEncoding.AppendEncode(nil, []byte(h))
	}
	if hc.n.Add(1) <= maxCachedPurposes {
		if v, loaded := hc.m.LoadOrStore(purpose, hs); loaded {
			hc.n.Add(-1)
			return v.([]encodedHeader)
		}
	}
	return hs
}
