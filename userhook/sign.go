package userhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strconv"
)

// Header names of the Standard Webhooks specification (https://www.standardwebhooks.com/,
// "Signature scheme"): the message id, its send time in Unix seconds, and the signatures.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// mac is the Standard Webhooks "v1" signature: HMAC-SHA256 over "id.timestamp.body".
func mac(key []byte, id string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	var buf [24]byte
	io.WriteString(h, id)
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(buf[:0], ts, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// signatureHeader signs with every key and joins the "v1,<base64>" values with exactly one
// space: the specification's delimiter, and the only one every reference verifier splits on.
func signatureHeader(keys [][]byte, id string, ts int64, body []byte) string {
	enc := base64.StdEncoding
	out := make([]byte, 0, len(keys)*(len("v1,")+enc.EncodedLen(sha256.Size)+1))
	for i, k := range keys {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, "v1,"...)
		out = enc.AppendEncode(out, mac(k, id, ts, body))
	}
	return string(out)
}
