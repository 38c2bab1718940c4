package apitoken

import (
	"encoding/json"
	"strconv"
)

// registered are the claim names edgeauth owns: the JWT registered claims
// (RFC 7519 §4.1), those RFC 9068 §2.2 gives an access token, cnf (RFC 7800
// §3.1, RFC 9449 §6.1), typ, and provider.
var registered = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true,
	"jti": true, "typ": true, "provider": true, "client_id": true, "auth_time": true,
	"cnf": true,
}

// IsRegisteredClaim reports whether name is a claim edgeauth sets itself, so
// that claims from the user webhook never replace it (RFC 9068 §2.2).
func IsRegisteredClaim(name string) bool { return registered[name] }

// appendString appends s as a JSON string. Most claim values (issuers,
// subjects, provider names) need no escaping; the rest go through
// encoding/json, which also replaces invalid UTF-8.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendInt appends ,"name":<v>; name needs no escaping.
func appendInt(b []byte, name string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}
