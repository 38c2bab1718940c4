package userhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// The tests in this file run inside a synctest bubble: the clock is fake and advances only
// when every goroutine waits, so the waits Send makes between attempts are measured exactly
// and take no real time. The hook is a fakeTransport, since sockets do not work in a bubble.

// retryCall is one OnRetry call.
type retryCall struct {
	attempt int
	err     error
}

// checkBackoff asserts that each attempt after the first came after the jittered backoff
// for its retry: within [base/2, base] of the previous one, base = 100ms·2^(retry-1).
func checkBackoff(t *testing.T, got []sent) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		base := min(backoffBase<<(i-1), backoffMax)
		if gap := got[i].at.Sub(got[i-1].at); gap < base/2 || gap > base {
			t.Errorf("attempt %d came %v after attempt %d, want the backoff within [%v, %v]", i+1, gap, i, base/2, base)
		}
	}
}

// checkDeliveries asserts that every attempt carries the first one's webhook-id and a
// webhook-timestamp of its own sending, not of the first attempt.
func checkDeliveries(t *testing.T, got []sent) {
	t.Helper()
	for i, s := range got {
		if id, first := s.header.Get(HeaderID), got[0].header.Get(HeaderID); id != first {
			t.Errorf("attempt %d webhook-id %q, want the first attempt's %q", i+1, id, first)
		}
		if ts, want := s.header.Get(HeaderTimestamp), fmt.Sprint(s.at.Unix()); ts != want {
			t.Errorf("attempt %d webhook-timestamp %s, want its own send time %s", i+1, ts, want)
		}
	}
}

func TestSendRetriesWait(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name     string
		retries  *int
		answers  []canned
		attempts int
		reason   Reason // empty: a decision
		status   int
		errText  string // in the error's text
	}{
		{"500 then 200", nil, []canned{status(500), ok200}, 2, "", 0, ""},
		{"502, 503 then 200", nil, []canned{status(502), status(503), ok200}, 3, "", 0, ""},
		{"429 then 200", nil, []canned{status(429), ok200}, 2, "", 0, ""},
		{"403 after 500 is a decision", nil, []canned{status(500), deny}, 2, "", 0, ""},
		{"500 exhausts default retries", nil, []canned{status(500)}, 3, ReasonStatus, 500, "after 3 attempt(s): status 500"},
		{"no retries", new(0), []canned{status(500)}, 1, ReasonStatus, 500, "after 1 attempt(s): status 500"},
		{"five retries", new(5), []canned{status(503)}, 6, ReasonStatus, 503, "after 6 attempt(s): status 503"},
		{"refused then 200", nil, []canned{{err: refused}, ok200}, 2, "", 0, ""},
		{"dropped then 200", nil, []canned{{err: io.ErrUnexpectedEOF}, ok200}, 2, "", 0, ""},
		{"refused every time", nil, []canned{{err: refused}}, 3, ReasonNetwork, 0, "after 3 attempt(s): network: dial tcp: connection refused"},
		{"500 then refused", nil, []canned{status(500), {err: refused}}, 3, ReasonNetwork, 0, "network: dial tcp: connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var calls []retryCall
				c, ft := newFakeClient(t, Config{Retries: tc.retries, OnRetry: func(attempt int, err error) {
					calls = append(calls, retryCall{attempt, err})
				}}, tc.answers...)
				dec, err := c.Send(t.Context(), testEvent)
				got := ft.requests()
				if len(got) != tc.attempts {
					t.Fatalf("%d attempts, want %d", len(got), tc.attempts)
				}
				checkBackoff(t, got)
				checkDeliveries(t, got)
				if len(calls) != tc.attempts-1 {
					t.Errorf("OnRetry called %d times, want %d", len(calls), tc.attempts-1)
				}
				for i, call := range calls {
					var he *Error
					if call.attempt != i+1 || !errors.As(call.err, &he) || he.Attempts != i+1 {
						t.Errorf("OnRetry call %d = (%d, %v), want attempt %d and its *Error", i+1, call.attempt, call.err, i+1)
					}
				}
				if tc.reason == "" {
					if err != nil || dec.Attempts != tc.attempts {
						t.Fatalf("Send = %+v, %v; want a decision after %d attempts", dec, err, tc.attempts)
					}
					return
				}
				var he *Error
				if !errors.As(err, &he) || he.Reason != tc.reason || he.Status != tc.status ||
					he.Attempts != tc.attempts || he.ID != got[0].header.Get(HeaderID) {
					t.Fatalf("err = %#v, want %q status %d after %d attempts", err, tc.reason, tc.status, tc.attempts)
				}
				msg := err.Error()
				if !strings.Contains(msg, tc.errText) {
					t.Errorf("error %q does not name the last failure %q", msg, tc.errText)
				}
				for _, leak := range []string{"body-text-not-for-errors", "hunter2", secretA[6:]} {
					if strings.Contains(msg, leak) {
						t.Errorf("error %q repeats %q", msg, leak)
					}
				}
			})
		})
	}
}

func TestSendRetryAfterWait(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter func(now time.Time) string
		deadline   time.Duration
		wantWait   time.Duration // 0: the first backoff; -1: no retry
	}{
		{"429 seconds", 429, func(time.Time) string { return "2" }, 10 * time.Second, 2 * time.Second},
		{"503 seconds", 503, func(time.Time) string { return "1" }, 10 * time.Second, time.Second},
		{"429 HTTP-date", 429, func(now time.Time) string { return now.Add(3 * time.Second).UTC().Format(http.TimeFormat) }, 10 * time.Second, 3 * time.Second},
		{"just within the deadline", 429, func(time.Time) string { return "9" }, 10 * time.Second, 9 * time.Second},
		{"429 date in the past: backoff", 429, func(now time.Time) string { return now.Add(-time.Hour).UTC().Format(http.TimeFormat) }, 10 * time.Second, 0},
		{"429 garbage: backoff", 429, func(time.Time) string { return "soon" }, 10 * time.Second, 0},
		{"429 zero: backoff", 429, func(time.Time) string { return "0" }, 10 * time.Second, 0},
		{"as long as the deadline: give up at once", 429, func(time.Time) string { return "10" }, 10 * time.Second, -1},
		{"429 beyond deadline: give up at once", 429, func(time.Time) string { return "120" }, 10 * time.Second, -1},
		{"429 huge value", 429, func(time.Time) string { return "99999999999999999999" }, 10 * time.Second, -1},
		{"503 date beyond deadline", 503, func(now time.Time) string { return now.Add(time.Minute).UTC().Format(http.TimeFormat) }, 5 * time.Second, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now() // the bubble's clock starts on a whole second
				first := canned{status: tc.status, retryAfter: tc.retryAfter(start)}
				c, ft := newFakeClient(t, Config{Deadline: tc.deadline}, first, ok200)
				dec, err := c.Send(t.Context(), testEvent)
				elapsed := time.Since(start)
				got := ft.requests()
				if tc.wantWait < 0 {
					var he *Error
					if !errors.As(err, &he) || he.Reason != ReasonRetryAfter || he.Status != tc.status || he.Attempts != 1 {
						t.Fatalf("err = %v, want %q after 1 attempt", err, ReasonRetryAfter)
					}
					if len(got) != 1 || elapsed != 0 {
						t.Errorf("%d attempts, returned after %v: want to give up at once", len(got), elapsed)
					}
					return
				}
				if err != nil || !dec.Allowed || dec.Attempts != 2 || len(got) != 2 {
					t.Fatalf("Send = %+v, %v after %d requests; want allowed on the second", dec, err, len(got))
				}
				checkDeliveries(t, got)
				gap := got[1].at.Sub(got[0].at)
				switch {
				case tc.wantWait == 0:
					checkBackoff(t, got)
				case gap != tc.wantWait:
					t.Errorf("second attempt came %v after the first, want Retry-After's %v", gap, tc.wantWait)
				}
				if elapsed >= tc.deadline {
					t.Errorf("Send took %v, past its deadline %v", elapsed, tc.deadline)
				}
			})
		})
	}
}

func TestSendDeadlines(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		caller   time.Duration // the caller's own deadline, when set
		answers  []canned
		attempts int
		reason   Reason // empty: a decision
		status   int
		// elapsed must fall in [minTook, maxTook] of fake time.
		minTook, maxTook time.Duration
	}{
		{"slow first attempt is retried", Config{Timeout: 300 * time.Millisecond, Deadline: 10 * time.Second},
			0, []canned{hang, ok200}, 2, "", 0, 350 * time.Millisecond, 400 * time.Millisecond},
		{"every attempt times out", Config{Timeout: 30 * time.Millisecond, Deadline: 10 * time.Second},
			0, []canned{hang}, 3, ReasonTimeout, 0, 90*time.Millisecond + 150*time.Millisecond, 90*time.Millisecond + 300*time.Millisecond},
		{"overall deadline ends a hanging attempt", Config{Timeout: 10 * time.Second, Deadline: 80 * time.Millisecond},
			0, []canned{hang}, 1, ReasonDeadline, 0, 80 * time.Millisecond, 80 * time.Millisecond},
		{"caller's deadline is shorter", Config{}, 50 * time.Millisecond, []canned{hang}, 1, ReasonDeadline, 0, 50 * time.Millisecond, 50 * time.Millisecond},
		{"backoff beyond deadline gives up at once", Config{Deadline: 40 * time.Millisecond},
			0, []canned{status(500)}, 1, ReasonStatus, 500, 0, 0},
		{"default deadline: Timeout×(Retries+1)", Config{Timeout: time.Second},
			0, []canned{hang}, 3, ReasonDeadline, 0, 3 * time.Second, 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				if tc.caller > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.caller)
					defer cancel()
				}
				c, ft := newFakeClient(t, tc.cfg, tc.answers...)
				start := time.Now()
				dec, err := c.Send(ctx, testEvent)
				elapsed := time.Since(start)
				got := ft.requests()
				if elapsed < tc.minTook || elapsed > tc.maxTook {
					t.Errorf("Send took %v, want within [%v, %v]", elapsed, tc.minTook, tc.maxTook)
				}
				if len(got) != tc.attempts {
					t.Fatalf("%d attempts, want %d", len(got), tc.attempts)
				}
				checkDeliveries(t, got)
				if tc.reason == "" {
					if err != nil || !dec.Allowed || dec.Attempts != tc.attempts {
						t.Fatalf("Send = %+v, %v; want allowed after %d attempts", dec, err, tc.attempts)
					}
					return
				}
				var he *Error
				if !errors.As(err, &he) || he.Reason != tc.reason || he.Status != tc.status || he.Attempts != tc.attempts {
					t.Fatalf("err = %v, want %q status %d after %d attempts", err, tc.reason, tc.status, tc.attempts)
				}
				if (tc.reason == ReasonTimeout || tc.reason == ReasonDeadline) && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err %v does not wrap context.DeadlineExceeded", err)
				}
			})
		})
	}
}

// Whatever the jitter draws, retries stop before the deadline, and no attempt starts after it.
func TestSendRetriesStopAtDeadline(t *testing.T) {
	const deadline = time.Second
	for i := range 20 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, ft := newFakeClient(t, Config{Retries: new(MaxRetries), Deadline: deadline}, status(503))
				start := time.Now()
				_, err := c.Send(t.Context(), testEvent)
				elapsed := time.Since(start)
				got := ft.requests()
				var he *Error
				if !errors.As(err, &he) || he.Reason != ReasonStatus || he.Status != 503 || he.Attempts != len(got) {
					t.Fatalf("err = %v, want status 503 after %d attempts", err, len(got))
				}
				// Backoffs 50–100, 100–200, 200–400, 400–800ms: at least 4, at most 5 fit in 1s.
				if len(got) < 4 || len(got) > 5 || elapsed >= deadline {
					t.Errorf("%d attempts in %v, want 4 or 5 ending before %v", len(got), elapsed, deadline)
				}
				checkBackoff(t, got)
			})
		})
	}
}

// Canceling while Send waits to retry ends it at once, naming the last failure's status.
func TestSendCanceledWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		c, ft := newFakeClient(t, Config{OnRetry: func(int, error) { cancel() }}, status(500), ok200)
		start := time.Now()
		_, err := c.Send(ctx, testEvent)
		var he *Error
		if !errors.As(err, &he) || he.Reason != ReasonCanceled || he.Status != 500 || he.Attempts != 1 || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want canceled after 1 attempt, last status 500", err)
		}
		if n, el := len(ft.requests()), time.Since(start); n != 1 || el != 0 {
			t.Errorf("%d attempts, returned after %v: want 1, at once", n, el)
		}
	})
}
