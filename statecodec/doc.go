// Package statecodec seals and opens small typed payloads as compact JWE
// (RFC 7516 §7.1) with alg "dir" (RFC 7518 §4.5) and enc "A256GCM"
// (RFC 7518 §5.3), so that state can travel through the client instead of a
// server-side store.
//
// A Codec holds a key ring: the first key seals, every key opens, chosen by
// the "kid" header. The expiry is sealed inside the token and checked on
// Open. A purpose string goes into the protected "typ" header (explicit
// typing, RFC 8725 §3.11), so a token sealed for one purpose never opens for
// another. The package knows nothing of OAuth.
//
//	keys, err := statecodec.ParseKeys(os.Getenv("EDGEAUTH_STATE_KEYS"))
//	if err != nil { ... }
//	codec, err := statecodec.New(keys)
//	if err != nil { ... }
//	tok, err := codec.Seal("s", flowState{Seed: seed}, 10*time.Minute)
//	...
//	var st flowState
//	switch err := codec.Open("s", tok, &st); {
//	case errors.Is(err, statecodec.ErrExpired): // authentic, but too old
//	case err != nil: // statecodec.ErrInvalid: anything else, deliberately one error
//	}
//
// Keys rotate without coordination: put the new key first and keep the old
// one behind it until every token sealed with it has expired. Key IDs are
// derived from the key bytes, so every replica computes the same ones.
package statecodec
