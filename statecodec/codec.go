package statecodec

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Open returns ErrExpired, an error matching ErrInvalid, or nil. Callers
// compare with errors.Is; the texts are safe to show.
var (
	// ErrInvalid matches every failure to open a token other than its
	// expiry: malformed, oversized, tampered, sealed under an unknown key or
	// for another purpose. Answer a client with this one alone: telling it
	// which check failed would give an attacker an oracle.
	ErrInvalid = errors.New("statecodec: invalid token")
	// ErrExpired means the token is authentic and for this purpose, but its
	// sealed expiry has passed.
	ErrExpired = errors.New("statecodec: expired token")

	// ErrMalformed matches ErrInvalid: the token is not a compact JWE of the
	// shape Seal makes (length, alphabet, segments, header members, alg,
	// enc), so nothing was decrypted. For operators' metrics only.
	ErrMalformed error = &invalidError{"statecodec: malformed token"}
	// ErrUnknownKey matches ErrInvalid: the token is well formed but its kid
	// names no key of the ring — typically a key retired too early, or
	// replicas configured with different keys. For operators' metrics only.
	ErrUnknownKey error = &invalidError{"statecodec: token sealed under an unknown key"}
)

// invalidError is a finer reason that still matches ErrInvalid, so callers
// that only know ErrInvalid keep working.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// MaxTokenLen bounds the tokens Open looks at and Seal produces, in bytes.
// Longer input is refused before any parsing. It leaves room for a refresh
// payload that carries a provider's refresh token (Microsoft's run to a
// couple of kilobytes) and claims: the payload may be about 6000 bytes.
const MaxTokenLen = 8192

// maxNameLen bounds a purpose and a key ID.
const maxNameLen = 32

// Option configures a Codec.
type Option func(*Codec)

// WithClock sets the clock used for expiry when sealing and opening; the
// default (and what nil keeps) is time.Now. Tests inject a fixed clock here.
func WithClock(now func() time.Time) Option {
	return func(c *Codec) {
		if now != nil {
			c.now = now
		}
	}
}

// Codec seals and opens tokens with a key ring. It is immutable after New
// (but for its header cache) and safe for concurrent use.
type Codec struct {
	ring    []ringKey // ring[0] seals
	now     func() time.Time
	headers headerCache
}

type ringKey struct {
	id     string
	secret []byte
	aead   cipher.AEAD // AES-256-GCM under secret, built once
}

// New returns a Codec over keys: the first key seals, every key opens. Each
// key must be KeySize bytes; an empty ID is derived from the key as
// ParseKeys does. Duplicate keys or IDs are refused.
func New(keys []Key, opts ...Option) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("statecodec: no keys")
	}
	c := &Codec{ring: make([]ringKey, 0, len(keys)), now: time.Now}
	for i, k := range keys {
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("statecodec: key %d: %d bytes, want %d", i+1, len(k.Secret), KeySize)
		}
		id := k.ID
		if id == "" {
			id = deriveKeyID(k.Secret)
		} else if !validName(id) {
			return nil, fmt.Errorf("statecodec: key %d: ID must be 1 to %d of A-Z a-z 0-9 . _ -", i+1, maxNameLen)
		}
		for j, prev := range c.ring {
			if prev.id == id {
				return nil, fmt.Errorf("statecodec: key %d: ID %q already used by key %d", i+1, id, j+1)
			}
			if bytes.Equal(prev.secret, k.Secret) {
				return nil, fmt.Errorf("statecodec: key %d: same as key %d", i+1, j+1)
			}
		}
		// A copy, so the caller reusing its slice cannot change the ring.
		secret := bytes.Clone(k.Secret)
		block, err := aes.NewCipher(secret)
		if err != nil {
			return nil, fmt.Errorf("statecodec: key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("statecodec: key %d: %w", i+1, err)
		}
		c.ring = append(c.ring, ringKey{id: id, secret: secret, aead: aead})
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Seal encrypts payload (marshalled with encoding/json) for purpose under
// the first key and returns a compact JWE valid for ttl, rounded up to the
// whole second. The protected header is {"alg":"dir","enc":"A256GCM",
// "kid":…,"typ":purpose}; the plaintext is {"e":<expiry, Unix seconds>,
// "p":<payload>}. Purpose is 1 to 32 of A-Z a-z 0-9 . _ -.
//
// The format is fixed, so Seal writes it directly (RFC 7516 §5.1) rather
// than through a general JWE library: the header is built once per
// purpose, and the only allocations left are the payload's marshalling and
// the returned string. Each call draws a random 96-bit IV, so one key
// should seal well under 2^32 tokens (NIST SP 800-38D §8.3) — rotate keys
// long before that.
func (c *Codec) Seal(purpose string, payload any, ttl time.Duration) (string, error) {
	if !validName(purpose) {
		return "", fmt.Errorf("statecodec: seal: purpose must be 1 to %d of A-Z a-z 0-9 . _ -", maxNameLen)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("statecodec: seal: ttl %v is not positive", ttl)
	}

	s := getScratch()
	defer putScratch(s)
	s.plain.WriteString(`{"e":`)
	s.plain.Write(strconv.AppendInt(s.num[:0], expiry(c.now(), ttl), 10))
	s.plain.WriteString(`,"p":`)
	if err := s.enc.Encode(payload); err != nil {
		return "", fmt.Errorf("statecodec: seal: marshal payload: %w", err)
	}
	s.plain.Truncate(s.plain.Len() - 1) // Encode's newline
	s.plain.WriteByte('}')

	k := &c.ring[0]
	hdr := c.headers.get(c.ring, purpose)[0].b64
	n := len(hdr) + 2 + ivB64Len + 1 + base64.RawURLEncoding.EncodedLen(s.plain.Len()) + 1 + tagB64Len
	if n > MaxTokenLen {
		// Open would refuse it; better to fail here, where the cause is known.
		return "", fmt.Errorf("statecodec: seal: token of %d bytes exceeds %d", n, MaxTokenLen)
	}

	iv := s.iv[:]
	if _, err := rand.Read(iv); err != nil {
		return "", fmt.Errorf("statecodec: seal: draw IV: %w", err)
	}
	// RFC 7516 §5.1 step 14: the AAD is the ASCII of the encoded header.
	s.plain.Grow(tagLen) // room to seal in place
	plain := s.plain.Bytes()
	sealed := k.aead.Seal(plain[:0], iv, plain, hdr) // in place
	ct, tag := sealed[:len(sealed)-tagLen], sealed[len(sealed)-tagLen:]

	// RFC 7516 §7.1: header.encrypted_key.iv.ciphertext.tag, with an empty
	// encrypted key under "dir" (§5.1 step 6).
	out := append(s.out[:0], hdr...)
	out = append(out, '.', '.')
	out = base64.RawURLEncoding.AppendEncode(out, iv)
	out = append(out, '.')
	out = base64.RawURLEncoding.AppendEncode(out, ct)
	out = append(out, '.')
	out = base64.RawURLEncoding.AppendEncode(out, tag)
	s.out = out
	return string(out), nil
}

// expiry returns now+ttl in Unix seconds, rounded up so a token never lives
// shorter than asked.
func expiry(now time.Time, ttl time.Duration) int64 {
	t := now.Add(ttl)
	s := t.Unix()
	if t.Nanosecond() != 0 {
		s++
	}
	return s
}

// Open checks token and, when it is valid, unmarshals its payload into
// payload (a pointer, as for json.Unmarshal; nil to only check the token).
// It returns nil for a valid token, ErrExpired for an authentic token of
// this purpose whose expiry has passed, and an error matching ErrInvalid
// for anything else: ErrMalformed or ErrUnknownKey when the token failed
// before decryption for that reason, ErrInvalid itself when it names
// another purpose, fails authentication, or its payload does not fit.
// payload is written only after every check has passed; if the sealed payload does not
// unmarshal into it, Open returns ErrInvalid and payload may be partly set.
//
// Before decrypting, Open requires what a general JWE library does not
// check (RFC 7516 §7.1, PITFALLS.md): at most MaxTokenLen bytes; exactly
// five compact segments in canonical unpadded base64url; an empty
// encrypted-key segment, a 96-bit IV and a 128-bit tag; a protected header
// of exactly alg "dir", enc "A256GCM", kid naming a key of the ring, and typ
// equal to purpose — so zip, crit and any other parameter are refused. A
// token is expired from its expiry second on; there is no leeway, because
// only edgeauth replicas seal and open and a TTL of minutes dwarfs their
// clock skew.
func (c *Codec) Open(purpose, token string, payload any) error {
	if !validName(purpose) {
		return ErrInvalid
	}
	if len(token) > MaxTokenLen {
		return ErrMalformed
	}
	k, err := c.precheck(purpose, token)
	if err != nil {
		return err
	}

	// One copy of the token, so that the decoders and GCM read bytes
	// without a conversion (and an allocation) per segment.
	s := getScratch()
	defer putScratch(s)
	tok := append(s.tok[:0], token...)
	s.tok = tok
	// precheck fixed the shape header..iv.ciphertext.tag.
	hdrEnd := strings.IndexByte(token, '.')
	aad := tok[:hdrEnd] // the AAD of RFC 7516 §5.1 step 14, as Seal used it
	ivB64 := tok[hdrEnd+2 : hdrEnd+2+ivB64Len]
	ctB64, tagB64 := tok[hdrEnd+3+ivB64Len:len(tok)-tagB64Len-1], tok[len(tok)-tagB64Len:]
	iv := s.iv[:]
	if n, err := base64.RawURLEncoding.Decode(iv, ivB64); err != nil || n != ivLen {
		return ErrMalformed // unreachable after precheck
	}
	// GCM opens ciphertext||tag: decode both into one buffer.
	buf := slices.Grow(s.out[:0], base64.RawURLEncoding.DecodedLen(len(ctB64))+tagLen)
	s.out = buf
	buf = buf[:cap(buf)]
	nct, err := base64.RawURLEncoding.Decode(buf, ctB64)
	if err != nil {
		return ErrMalformed
	}
	ntag, err := base64.RawURLEncoding.Decode(buf[nct:], tagB64)
	if err != nil || ntag != tagLen {
		return ErrMalformed
	}
	plain, err := k.aead.Open(buf[:0], iv, buf[:nct+ntag], aad)
	if err != nil {
		return ErrInvalid
	}
	exp, p, ok := parseEnvelope(plain)
	if !ok {
		return ErrInvalid
	}
	if !c.now().Before(time.Unix(exp, 0)) {
		return ErrExpired
	}
	if payload != nil {
		// json.Unmarshal copies what it keeps (and an Unmarshaler must,
		// per its contract), so p may point into the pooled buffer.
		if err := json.Unmarshal(p, payload); err != nil {
			return ErrInvalid
		}
	}
	return nil
}

// validName reports whether s may be a purpose or key ID: short, and
// nothing that JSON would escape or that could be confused in a header.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b != '.' && b64val(b) < 0 {
			return false
		}
	}
	return true
}
