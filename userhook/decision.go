package userhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// MaxMessageRunes bounds Decision.Message: the hook's text reaches the person's screen, so a
// misbehaving backend must not be able to fill it.
const MaxMessageRunes = 300

// maxUserIDBytes bounds Decision.UserID, which becomes the "sub" of every token minted.
const maxUserIDBytes = 255

// allowBody is the 200 answer. user_id stays raw so a string and an integer can both be read
// exactly; claims stay raw so they can be decoded with json.Number.
type allowBody struct {
	UserID json.RawMessage `json:"user_id"`
	Claims json.RawMessage `json:"claims"`
}

// parseAllow validates a 200 body: a JSON object with a non-empty user_id (string, or an
// integer kept as written) and an optional claims object.
func parseAllow(body []byte) (Decision, error) {
	var b allowBody
	if err := decodeObject(body, &b); err != nil {
		return Decision{}, err
	}
	id, err := parseUserID(b.UserID)
	if err != nil {
		return Decision{}, err
	}
	var claims map[string]any
	if len(b.Claims) > 0 && !bytes.Equal(b.Claims, []byte("null")) {
		if b.Claims[0] != '{' {
			return Decision{}, errors.New("claims is not a JSON object")
		}
		d := json.NewDecoder(bytes.NewReader(b.Claims))
		d.UseNumber()
		if err := d.Decode(&claims); err != nil {
			return Decision{}, fmt.Errorf("claims: %w", err)
		}
		if len(claims) == 0 {
			claims = nil
		}
	}
	return Decision{Allowed: true, UserID: id, Claims: claims}, nil
}

func parseUserID(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", errors.New("user_id missing")
	}
	var id string
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &id); err != nil {
			return "", fmt.Errorf("user_id: %w", err)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// An integer id is common (a database key); keep its digits exactly rather than
		// going through float64. Fractions and exponents are not ids.
		s := string(raw)
		if strings.ContainsAny(s, ".eE") {
			return "", errors.New("user_id is a number but not an integer")
		}
		id = s
	default:
		return "", errors.New("user_id is neither a string nor an integer")
	}
	switch {
	case strings.TrimSpace(id) == "":
		return "", errors.New("user_id is empty")
	case len(id) > maxUserIDBytes:
		return "", fmt.Errorf("user_id is %d bytes, limit %d", len(id), maxUserIDBytes)
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return "", errors.New("user_id contains control characters")
	}
	return id, nil
}

// parseDeny reads a 403 body. The message is optional: an empty body, or one that is not a
// JSON object with a string "message" (an HTML page from a proxy), gives an empty message
// rather than echoing arbitrary bytes to the person.
func parseDeny(body []byte) Decision {
	var b struct {
		Message json.RawMessage `json:"message"`
	}
	var msg string
	if decodeObject(body, &b) == nil && json.Unmarshal(b.Message, &msg) == nil {
		msg = plainText(msg, MaxMessageRunes)
	}
	return Decision{Allowed: false, Message: msg}
}

// decodeObject decodes exactly one JSON object, with nothing but whitespace after it.
func decodeObject(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return errors.New("empty body")
	}
	if body[0] != '{' {
		return errors.New("body is not a JSON object")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("body: data after the JSON object")
	}
	return nil
}

// plainText makes s safe to show as one line of text: invalid UTF-8 replaced, control,
// format (bidi overrides, zero-width), private-use and unassigned characters removed,
// whitespace runs collapsed to one space, trimmed, and cut to at most n runes (an ellipsis
// marks the cut).
func plainText(s string, n int) string {
	out := make([]rune, 0, min(len(s), n+1))
	space := false
	for _, r := range s { // invalid UTF-8 arrives as utf8.RuneError, which is printable
		if unicode.IsSpace(r) {
			space = len(out) > 0
			continue
		}
		if !unicode.IsPrint(r) {
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, r)
		if len(out) > n {
			out = append([]rune(strings.TrimRight(string(out[:n-1]), " ")), '…')
			break
		}
	}
	return string(out)
}
