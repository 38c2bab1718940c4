package userhook

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// secretPrefix marks a Standard Webhooks signing secret; the rest is standard Base64.
const secretPrefix = "whsec_"

// minSecretBytes is the shortest key accepted: HMAC-SHA256 keys below 128 bits are guessable
// offline from one captured request.
const minSecretBytes = 16

// ErrInvalidSecret is returned by New and Verify when the secret setting is unusable. The
// error text says which of the space-separated secrets is wrong and why, never its value.
var ErrInvalidSecret = errors.New("userhook: invalid secret")

// NewSecret returns a fresh signing secret, "whsec_" followed by the standard Base64 of 32
// random bytes, the form Standard Webhooks libraries in every language accept.
func NewSecret() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("userhook: new secret: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// parseSecrets decodes a setting of one or more space-separated "whsec_<base64>" secrets.
// Several are allowed so a secret can be rotated without a window of failed deliveries:
// the sender signs with every one, receivers accept any.
func parseSecrets(s string) ([][]byte, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSecret)
	}
	keys := make([][]byte, 0, len(fields))
	for i, f := range fields {
		// The error names the position only: a secret must not reach logs, even a broken one.
		where := fmt.Sprintf("secret %d of %d", i+1, len(fields))
		b64, ok := strings.CutPrefix(f, secretPrefix)
		if !ok {
			return nil, fmt.Errorf("%w: %s does not start with %q", ErrInvalidSecret, where, secretPrefix)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not standard Base64 after %q", ErrInvalidSecret, where, secretPrefix)
		}
		if len(key) < minSecretBytes {
			return nil, fmt.Errorf("%w: %s decodes to %d bytes, want at least %d", ErrInvalidSecret, where, len(key), minSecretBytes)
		}
		keys = append(keys, key)
	}
	return keys, nil
}
