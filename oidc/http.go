package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
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
	maxFormAnswer     = 64 << 10 // revocation, introspection, token checks
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
	if hc.Transport == nil {
		// http.DefaultTransport keeps 2 idle connections per host: with
		// logins in flight at once most token and userinfo calls would open
		// a new connection, and over TLS a handshake costs more than the
		// rest of a login. One transport per provider, sized for bursts.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		hc.Transport = t
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
// JSON; discovery and JWKS are decoded whatever they are labelled. It
// returns the answer's status (0 when none came); a status other than 200
// is an errStatus.
func (p *Provider) getJSON(ctx context.Context, url string, limit int64, bearer string, needJSON bool, v any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if bearer != "" {
		// RFC 6750 §2.1.
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return resp.StatusCode, errStatus{resp.StatusCode}
	}
	if needJSON {
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return resp.StatusCode, fmt.Errorf("content type %q is not JSON", mt)
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return resp.StatusCode, err
	}
	if int64(len(body)) > limit {
		return resp.StatusCode, errTooLarge
	}
	if err := json.Unmarshal(body, v); err != nil {
		return resp.StatusCode, fmt.Errorf("malformed JSON: %w", err)
	}
	return resp.StatusCode, nil
}

// postForm POSTs form to endpoint with the client authentication of the
// token endpoint (OpenID Connect Core §9; RFC 7009 §2.1 and RFC 7662 §2.1
// ask for the same) and returns the status and at most maxFormAnswer
// bytes of the body, which may hold provider text: for logs only. call
// names the endpoint for Config.Observe.
func (p *Provider) postForm(ctx context.Context, call, endpoint string, form url.Values) (int, []byte, error) {
	secret, err := p.clientSecret()
	if err != nil {
		return 0, nil, fmt.Errorf("client secret: %w", err)
	}
	if p.cfg.ClientAuth == ClientAuthPost {
		form.Set("client_id", p.cfg.ClientID)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if p.cfg.ClientAuth == ClientAuthBasic {
		// RFC 6749 §2.3.1: form-encode id and secret before Basic.
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(secret))
	}
	return p.do(call, req)
}

// do sends req with the bounded client, reads a bounded answer and reports
// the call to Config.Observe under the name call.
func (p *Provider) do(call string, req *http.Request) (status int, body []byte, err error) {
	start := time.Now()
	defer func() { p.observe(call, start, status, err) }()
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxFormAnswer+1))
	if err != nil {
		return 0, nil, err
	}
	if len(body) > maxFormAnswer {
		return 0, nil, errTooLarge
	}
	return resp.StatusCode, body, nil
}
