package userhook

import (
	"errors"
	"fmt"
)

// ErrUnavailable matches (errors.Is) every *Error: the hook gave no usable answer. The
// server answers the person 502 userhook_unavailable and mints nothing.
var ErrUnavailable = errors.New("userhook: unavailable")

// Reason says, in words safe for logs and metrics, why Send got no usable answer.
type Reason string

// Reasons an *Error carries.
const (
	ReasonNetwork    Reason = "network"                     // connection refused, reset, DNS…
	ReasonTimeout    Reason = "timeout"                     // an attempt exceeded Config.Timeout
	ReasonDeadline   Reason = "deadline"                    // Config.Deadline or the caller's deadline passed
	ReasonCanceled   Reason = "canceled"                    // the caller's context was canceled
	ReasonRetryAfter Reason = "retry-after beyond deadline" // the hook asked to wait longer than we may
	ReasonStatus     Reason = "status"                      // an answer other than 200 or 403 (Status says which)
	ReasonRedirect   Reason = "redirect"                    // a 3xx: redirects are never followed
	ReasonOversized  Reason = "oversized body"              // the answer exceeded MaxResponseBytes
	ReasonMalformed  Reason = "malformed body"              // a 200 whose body is not a valid decision
	ReasonEncode     Reason = "encode event"                // the event could not be marshalled
)

// Error is Send's failure. Every field is safe to log: it never holds the secret, the
// request or response body, or the hook's URL.
type Error struct {
	Reason   Reason
	Status   int    // HTTP status of the last answer, 0 when none came
	Attempts int    // requests sent, retries included
	ID       string // the webhook-id, to find the delivery in the receiver's logs
	Err      error  // the last cause (network error without its URL, JSON error…), may be nil
}

// Error names the last failure first by its reason and status, then its cause:
// "userhook: unavailable after 3 attempt(s): status 503".
func (e *Error) Error() string {
	msg := fmt.Sprintf("userhook: unavailable after %d attempt(s): %s", e.Attempts, e.Reason)
	switch {
	case e.Status == 0:
	case e.Reason == ReasonStatus, e.Reason == ReasonRedirect:
		msg += fmt.Sprintf(" %d", e.Status)
	case e.Reason == ReasonDeadline, e.Reason == ReasonCanceled:
		msg += fmt.Sprintf(" (last status %d)", e.Status)
	default:
		msg += fmt.Sprintf(" (status %d)", e.Status)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is ErrUnavailable.
func (e *Error) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the cause, so errors.Is(err, context.Canceled) works.
func (e *Error) Unwrap() error { return e.Err }
