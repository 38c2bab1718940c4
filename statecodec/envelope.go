package statecodec

import (
	"bytes"
	"encoding/json"
	"sync"
)

// envelope is the sealed plaintext; one-letter names keep the token short.
type envelope struct {
	E int64           `json:"e"` // expiry, Unix seconds
	P json.RawMessage `json:"p"` // the caller's payload
}

// parseEnvelope reads a decrypted plaintext: a JSON object with a positive
// expiry "e" and a payload "p". Seal writes exactly `{"e":<digits>,"p":…}`,
// which is read here without a JSON decoder; any other spelling gets the
// full json.Unmarshal, with the same result it always had, so the two paths
// agree on every input. The payload returned aliases plain.
func parseEnvelope(plain []byte) (exp int64, payload []byte, ok bool) {
	if exp, p, ok := sealedEnvelope(plain); ok {
		return exp, p, true
	}
	var env envelope
	if err := json.Unmarshal(plain, &env); err != nil || env.E <= 0 || len(env.P) == 0 {
		return 0, nil, false
	}
	return env.E, env.P, true
}

// sealedEnvelope recognises Seal's own spelling: no blanks, "e" first as
// a positive integer without leading zero of at most 18 digits (so it fits
// int64), then "p" whose value is one valid JSON value with no blank
// around it — exactly what json.Unmarshal into envelope would return as
// E and P for such input.
func sealedEnvelope(plain []byte) (int64, []byte, bool) {
	rest, ok := bytes.CutPrefix(plain, []byte(`{"e":`))
	if !ok || len(rest) == 0 || rest[0] < '1' || rest[0] > '9' {
		return 0, nil, false
	}
	var exp int64
	i := 0
	for ; i < len(rest) && '0' <= rest[i] && rest[i] <= '9'; i++ {
		if i == 18 {
			return 0, nil, false
		}
		exp = exp*10 + int64(rest[i]-'0')
	}
	p, ok := bytes.CutPrefix(rest[i:], []byte(`,"p":`))
	if !ok || len(p) < 2 || p[len(p)-1] != '}' {
		return 0, nil, false
	}
	p = p[:len(p)-1]
	if isBlank(p[0]) || isBlank(p[len(p)-1]) || !json.Valid(p) {
		return 0, nil, false
	}
	return exp, p, true
}

// isBlank reports JSON insignificant whitespace (RFC 8259 §2).
func isBlank(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// scratch holds the buffers of one Seal or Open, pooled so that the hot
// paths allocate only what they return.
type scratch struct {
	plain bytes.Buffer  // Seal: plaintext, then ciphertext||tag in place
	enc   *json.Encoder // Seal: writes into plain
	num   [20]byte
	iv    [ivLen]byte // a field, since the AEAD interface makes a local escape
	out   []byte      // Seal: the token; Open: ciphertext||tag, then plaintext
	tok   []byte      // Open: a copy of the token
}

var scratchPool = sync.Pool{New: func() any {
	s := new(scratch)
	s.enc = json.NewEncoder(&s.plain)
	s.enc.SetEscapeHTML(false) // \u003c costs five bytes more than <, and the token is never HTML
	return s
}}

// maxPooled keeps a buffer grown by a rare large token out of the pool.
const maxPooled = 2 * MaxTokenLen

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// putScratch wipes the buffers, which held plaintext (a refresh payload
// carries a provider's refresh token), and returns them to the pool.
func putScratch(s *scratch) {
	b := s.plain.Bytes()
	clear(b[:cap(b)])
	s.plain.Reset()
	clear(s.out[:cap(s.out)])
	clear(s.tok[:cap(s.tok)])
	if s.plain.Cap() > maxPooled || cap(s.out) > maxPooled || cap(s.tok) > maxPooled {
		return
	}
	scratchPool.Put(s)
}
