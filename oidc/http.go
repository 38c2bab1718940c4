package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Size limits for what providers send us. Real documents are a few KiB;
// the limits only stop a broken or hostile endpoint from filling memory.
// (x/oauth2 reads at most 1 MiB of a token response by itself.)
const (
	maxDiscoveryBytes = 256 << 10
	maxJWKSBytes      = 256 << 10
	maxUserinfoBytes  = 256 << 10
)

const userAgent = "edgeauth"

// noRedirect makes the client hand back a 3xx instead of following it: a
// redirected token request would re-send code, verifier and secret to
// wherever Location points, and a redirected discovery or JWKS fetch would
// leave the URL we validated.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// buildClient returns the client for every outbound call: a copy of the
// configured one (the caller's stays untouched) or a fresh one, in both
// cases with a timeout and without redirects.
func buildClient(c *http.Client, timeout time.Duration) *http.Client {
	var hc http.Client
	if c != nil {
		hc = *c
	}
	hc.CheckRedirect = noRedirect
	if hc.Timeout == 0 {
		hc.Timeout = timeout
	}
	return &hc
}

// errStatus reports a non-200 answer; the status is safe to show.
type errStatus struct{ code int }

func (e errStatus) Error() string { return fmt.Sprintf("HTTP status %d", e.code) }

var errTooLarge = errors.New("response body exceeds the size limit")

// getJSON GETs url with the per-call timeout and decodes a JSON answer of
// at most limit bytes into v. With needJSON, the Content-Type must say
// JSON; discovery and JWKS are decoded whatever they are labelled.
func (p *Provider) getJSON(ctx context.Context, url string, limit int64, bearer string, needJSON bool, v any) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if bearer != "" {
		// RFC 6750 §2.1.
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return errStatus{resp.StatusCode}
	}
	if needJSON {
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return fmt.Errorf("content type %q is not JSON", mt)
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return err
	}
	if int64(len(body)) > limit {
		return errTooLarge
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	return nil
}
