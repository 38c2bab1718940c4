package userhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Defaults and limits of a Client.
const (
	DefaultTimeout = 5 * time.Second // per attempt
	DefaultRetries = 2               // so at most three requests
	// MaxRetries bounds Config.Retries: a person is waiting on the login page.
	MaxRetries = 10
	// MaxDefaultDeadline caps the default overall deadline for the same reason.
	MaxDefaultDeadline = 15 * time.Second
	// MaxResponseBytes bounds what is read of an answer; a bigger 200 or 403 is an error.
	MaxResponseBytes = 64 << 10

	userAgent   = "edgeauth-userhook/1"
	backoffBase = 100 * time.Millisecond
	backoffMax  = 2 * time.Second
)

// Config configures a Client. URL and Secret are required; a zero value elsewhere means
// "not set" and takes the documented default, which this package alone owns.
type Config struct {
	URL string // absolute http or https URL of the backend's hook
	// Secret is one or more space-separated "whsec_<standard base64>" secrets (at least 16
	// bytes each). Every secret signs every request, so a receiver that knows any of them
	// accepts it: add the new secret, switch receivers, then drop the old one.
	Secret string
	// Timeout bounds each attempt. 0 means DefaultTimeout; negative is an error.
	Timeout time.Duration
	// Retries is how many more attempts follow the first on a network error, a timeout,
	// 5xx or 429: nil means DefaultRetries, new(0) means one request only, at most
	// MaxRetries. A pointer so that an explicit 0 differs from "not set".
	Retries *int
	// Deadline bounds Send as a whole, waits between attempts included. Default:
	// Timeout*(Retries+1), at most MaxDefaultDeadline but never below Timeout.
	Deadline time.Duration
	// HTTPClient is optional. A shallow copy is used with CheckRedirect replaced, so
	// redirects are never followed whatever the client says.
	HTTPClient *http.Client
	Now        func() time.Time // optional; the webhook-timestamp and a zero Event.Timestamp
	// OnRetry, optional, is called before each wait for a retry with the attempt that just
	// failed (1 for the first) and its *Error, for logs and metrics. Send's result already
	// carries the final failure; OnRetry only reports the ones that were retried. It runs on
	// Send's goroutine and must not block.
	OnRetry func(attempt int, err error)
}

// Client sends events to one hook. It is safe for concurrent use.
type Client struct {
	url      string
	keys     [][]byte
	timeout  time.Duration
	retries  int
	deadline time.Duration
	hc       *http.Client
	now      func() time.Time
	onRetry  func(attempt int, err error)
}

// New validates cfg and returns a Client. It makes no network call. Errors never contain
// the secret.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL is not echoed: it may carry a credential in its query or user info.
		return nil, errors.New("userhook: URL must be an absolute http or https URL")
	}
	keys, err := parseSecrets(cfg.Secret)
	if err != nil {
		return nil, err // already "userhook: invalid secret: <which and why>"
	}
	c := &Client{
		url:      u.String(),
		keys:     keys,
		timeout:  cfg.Timeout,
		retries:  DefaultRetries,
		deadline: cfg.Deadline,
		now:      cfg.Now,
		onRetry:  cfg.OnRetry,
	}
	switch {
	case c.timeout < 0:
		return nil, fmt.Errorf("userhook: config: negative timeout %v", c.timeout)
	case c.timeout == 0:
		c.timeout = DefaultTimeout
	}
	if cfg.Retries != nil {
		c.retries = *cfg.Retries
		if c.retries < 0 || c.retries > MaxRetries {
			return nil, fmt.Errorf("userhook: config: %d retries, want 0 to %d", c.retries, MaxRetries)
		}
	}
	switch {
	case c.deadline < 0:
		return nil, fmt.Errorf("userhook: config: negative deadline %v", c.deadline)
	case c.deadline == 0:
		c.deadline = max(min(c.timeout*time.Duration(c.retries+1), MaxDefaultDeadline), c.timeout)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if cfg.HTTPClient != nil {
		hc := *cfg.HTTPClient
		c.hc = &hc
	} else {
		c.hc = &http.Client{}
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			t = t.Clone()
			t.MaxIdleConnsPerHost = 32 // logins come in bursts to a single host
			c.hc.Transport = t
		}
	}
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nil
}

// Send delivers e and returns the backend's decision: Allowed with a UserID on 200,
// !Allowed with an optional Message on 403 (a nil error: the backend answered), with
// Decision.Attempts set. Any other outcome is an *Error matching ErrUnavailable, which names
// the last failure (status code or network error) and the number of attempts.
//
// Network errors, timeouts, 5xx and 429 are retried after a jittered exponential backoff,
// or after Retry-After when the hook sends it, as long as the overall deadline allows; a
// wait that would pass the deadline ends Send at once. Every attempt carries the same
// webhook-id, the receiver's idempotency key; webhook-timestamp and webhook-signature are
// computed afresh per attempt, so a retry is judged by when it was sent, not when the first
// attempt was, and receivers may keep a tight tolerance window.
func (c *Client) Send(ctx context.Context, e Event) (Decision, error) {
	id := "msg_" + rand.Text()
	if e.Timestamp.IsZero() {
		e.Timestamp = c.now().UTC()
	}
	body, err := json.Marshal(e)
	if err != nil {
		return Decision{}, &Error{Reason: ReasonEncode, ID: id, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.deadline)
	defer cancel()
	for attempt := 1; ; attempt++ {
		o := c.attempt(ctx, id, body)
		if o.err == nil {
			o.dec.Attempts = attempt
			return o.dec, nil
		}
		o.err.Attempts, o.err.ID = attempt, id
		if !o.retry || attempt > c.retries {
			return Decision{}, o.err
		}
		wait := max(jitteredBackoff(attempt), o.retryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			if o.retryAfter >= wait {
				o.err.Reason = ReasonRetryAfter
			}
			return Decision{}, o.err // waiting would only run into the deadline
		}
		if c.onRetry != nil {
			c.onRetry(attempt, o.err)
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return Decision{}, &Error{Reason: ctxReason(ctx), Status: o.err.Status, Attempts: attempt, ID: id,
				Err: fmt.Errorf("%w while waiting to retry after %s", err, o.err.Reason)}
		}
	}
}

// outcome is one attempt's result: a decision, or an error and whether to try again.
type outcome struct {
	dec        Decision
	err        *Error
	retry      bool
	retryAfter time.Duration
}

func (c *Client) attempt(ctx context.Context, id string, body []byte) outcome {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return outcome{err: &Error{Reason: ReasonNetwork, Err: errors.New("cannot build request")}}
	}
	ts := c.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, signatureHeader(c.keys, id, ts, body))

	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportFailure(ctx, actx, err)
	}
	defer resp.Body.Close()

	status := resp.StatusCode
	switch {
	case status == http.StatusOK, status == http.StatusForbidden:
	case status >= 500, status == http.StatusTooManyRequests:
		drain(resp.Body)
		return outcome{
			err:        &Error{Reason: ReasonStatus, Status: status},
			retry:      true,
			retryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now()),
		}
	case status >= 300 && status < 400:
		drain(resp.Body)
		return outcome{err: &Error{Reason: ReasonRedirect, Status: status}}
	default:
		drain(resp.Body)
		return outcome{err: &Error{Reason: ReasonStatus, Status: status}}
	}

	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		o := c.transportFailure(ctx, actx, err)
		o.err.Status = status
		return o
	}
	if len(data) > MaxResponseBytes {
		return outcome{err: &Error{Reason: ReasonOversized, Status: status,
			Err: fmt.Errorf("more than %d bytes", MaxResponseBytes)}}
	}
	if status == http.StatusForbidden {
		return outcome{dec: parseDeny(data)}
	}
	dec, err := parseAllow(data)
	if err != nil {
		return outcome{err: &Error{Reason: ReasonMalformed, Status: status, Err: err}}
	}
	return outcome{dec: dec}
}

// transportFailure classifies a failed request or body read. The *url.Error wrapper is
// dropped: it names the URL, which may hold a credential.
func (c *Client) transportFailure(ctx, actx context.Context, err error) outcome {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	switch {
	case ctx.Err() != nil:
		return outcome{err: &Error{Reason: ctxReason(ctx), Err: ctx.Err()}}
	case actx.Err() != nil:
		return outcome{err: &Error{Reason: ReasonTimeout, Err: actx.Err()}, retry: true}
	default:
		return outcome{err: &Error{Reason: ReasonNetwork, Err: err}, retry: true}
	}
}

// ctxReason names why the overall context ended: the caller gave up, or time ran out.
func ctxReason(ctx context.Context) Reason {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ReasonCanceled
	}
	return ReasonDeadline
}

// drain reads a little of a body we ignore so the connection can be reused.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, MaxResponseBytes)) }

// retryAfter parses Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
// Unparseable or past values give 0, which leaves the backoff in charge.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	// An all-digit value too big for uint64 comes back as the maximum with ErrRange: "forever".
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		const maxSecs = uint64(1<<63-1) / uint64(time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// jitteredBackoff is 100ms·2^(retry-1), capped at 2s, with "equal jitter": half fixed, half
// random, so replicas retrying after one outage do not arrive in lockstep.
func jitteredBackoff(retry int) time.Duration {
	d := backoffBase << min(retry-1, 10)
	d = min(d, backoffMax)
	return d/2 + mrand.N(d/2+1)
}

// sleepCtx waits for d or until ctx ends, whichever comes first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
