package userhook

import (
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a webhook-timestamp may be from the receiver's clock when
// Verify is given no tolerance: the Standard Webhooks reference libraries' window.
const DefaultTolerance = 5 * time.Minute

// Errors Verify wraps, so a receiver can tell a replay from a forgery in its logs.
var (
	ErrMissingHeaders       = errors.New("userhook: missing webhook headers")
	ErrInvalidTimestamp     = errors.New("userhook: webhook-timestamp is not Unix seconds")
	ErrTimestampOutOfWindow = errors.New("userhook: webhook-timestamp outside the tolerance window")
	ErrNoMatchingSignature  = errors.New("userhook: no matching signature")
)

// Verify checks a request received from edgeauth (or any Standard Webhooks sender): the
// webhook-timestamp must be within ±tolerance of now (DefaultTolerance when tolerance ≤ 0),
// which bounds replays, and one of the "v1" signatures in webhook-signature must be the
// HMAC-SHA256 of "id.timestamp.body" under one of the space-separated "whsec_" secrets.
// body must be the raw request body, byte for byte, not a re-encoding of its JSON.
// Comparisons are constant-time. A nil error means the body is authentic. The secret is
// checked first: ErrInvalidSecret, whatever the request, means the setting is unusable
// (a receiver can call Verify with empty headers at start-up to fail fast).
func Verify(secret string, h http.Header, body []byte, tolerance time.Duration) error {
	return verifyAt(secret, h, body, tolerance, time.Now())
}

func verifyAt(secret string, h http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	keys, err := parseSecrets(secret)
	if err != nil {
		return err
	}
	id := h.Get(HeaderID)
	tsHeader := h.Get(HeaderTimestamp)
	// A proxy may split a long header into several lines; all of them are candidates.
	sigHeader := strings.Join(h.Values(HeaderSignature), " ")
	var missing []string
	for _, v := range [][2]string{{HeaderID, id}, {HeaderTimestamp, tsHeader}, {HeaderSignature, sigHeader}} {
		if v[1] == "" {
			missing = append(missing, v[0])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissingHeaders, strings.Join(missing, ", "))
	}

	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrInvalidTimestamp, truncate(tsHeader, 32))
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	// Integer seconds on both sides: no time.Time overflow for absurd header values.
	nowSec, tol := now.Unix(), int64(tolerance/time.Second)
	switch {
	case ts < nowSec-tol:
		return fmt.Errorf("%w: %ds old, tolerance %ds", ErrTimestampOutOfWindow, nowSec-ts, tol)
	case ts > nowSec+tol:
		return fmt.Errorf("%w: %ds in the future, tolerance %ds", ErrTimestampOutOfWindow, ts-nowSec, tol)
	}

	want := make([][]byte, len(keys))
	for i, k := range keys {
		want[i] = mac(k, id, ts, body)
	}
	seen := 0
	for _, f := range strings.Fields(sigHeader) {
		version, sig, ok := strings.Cut(f, ",")
		if !ok || version != "v1" {
			continue // other schemes (v1a: asymmetric) are not ours to judge
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		seen++
		for _, w := range want {
			if hmac.Equal(got, w) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: %d v1 signature(s) checked against %d secret(s)", ErrNoMatchingSignature, seen, len(keys))
}

// truncate shortens s for an error message, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
